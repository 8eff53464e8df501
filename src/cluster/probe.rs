//! What a health probe asks a node: does it accept writes, where is it in the replication
//! stream, and how far behind is it.

use super::position::Position;
#[cfg(any(feature = "postgres", feature = "mysql"))]
use diesel::QueryResult;
use std::time::Duration;

/// One probe's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// Whether the node accepts writes (`pg_is_in_recovery() = false`; MySQL
    /// `@@read_only = 0`).
    pub writable: bool,
    /// PostgreSQL: the WAL position (current on a primary, replayed on a standby), in bytes.
    pub position: Option<i64>,
    /// PostgreSQL standby: the WAL position received from the primary, in bytes.
    pub received: Option<i64>,
    /// How far behind the node says it is: PostgreSQL `now() - pg_last_xact_replay_timestamp()`,
    /// MySQL `Seconds_Behind_Master` (`None` when the replica threads are stopped).
    pub behind: Option<Duration>,
    /// A replica's replayed position, for read-your-writes (PostgreSQL: the replayed LSN;
    /// MariaDB: `@@gtid_slave_pos`). `None` on a primary or when unknown.
    pub replayed: Option<Position>,
}

/// Measures a PostgreSQL replica's lag from WAL positions, without commit timestamps: at
/// each probe it notes where the primary is; the lag is the time since the oldest noted
/// position the replica has not replayed yet (zero when it has replayed them all). So a
/// replica whose replay is paused while the primary writes lags more and more, and an idle,
/// caught-up replica has no lag however old its last transaction is. The resolution is
/// the probe interval.
///
/// When the primary cannot be probed (it is down), positions noted before still count; with
/// none pending, a replica that replayed all the WAL it received has no lag. Backends that
/// report their own lag (MySQL's `Seconds_Behind_Master`) are taken at their word.
#[derive(Debug, Default)]
pub struct LagTracker {
    pending: std::collections::VecDeque<(std::time::Instant, i64)>,
}

/// Most positions a [`LagTracker`] keeps (the oldest ones are what matter).
const MAX_PENDING: usize = 256;

impl LagTracker {
    /// Notes one probe of the replica (and of the primary, when it answered) at `now`;
    /// returns the replica's lag (`None`: unknown).
    pub fn observe(
        &mut self,
        now: std::time::Instant,
        replica: &Probe,
        primary: Option<&Probe>,
    ) -> Option<Duration> {
        if replica.writable {
            self.pending.clear();
            return Some(Duration::ZERO);
        }
        let Some(replayed) = replica.position else {
            return replica.behind;
        };
        if let Some(current) = primary.and_then(|p| p.position) {
            let newer = self.pending.back().is_none_or(|&(_, last)| current > last);
            if current > replayed && newer && self.pending.len() < MAX_PENDING {
                self.pending.push_back((now, current));
            }
        }
        while self
            .pending
            .front()
            .is_some_and(|&(_, pos)| pos <= replayed)
        {
            self.pending.pop_front();
        }
        match self.pending.front() {
            Some(&(since, _)) => Some(now.saturating_duration_since(since)),
            None if primary.is_some() => Some(Duration::ZERO),
            None => match replica.received {
                Some(received) if replayed >= received => Some(Duration::ZERO),
                _ => replica.behind,
            },
        }
    }
}

#[cfg(feature = "postgres")]
fn seconds(s: Option<f64>) -> Option<Duration> {
    s.map(|s| Duration::from_secs_f64(s.max(0.0)))
}

#[cfg(feature = "postgres")]
pub(crate) async fn probe_pg(conn: &mut diesel_async::AsyncPgConnection) -> QueryResult<Probe> {
    use diesel::sql_types::{BigInt, Bool, Double, Nullable};
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Bool)]
        writable: bool,
        #[diesel(sql_type = Nullable<BigInt>)]
        position: Option<i64>,
        #[diesel(sql_type = Nullable<BigInt>)]
        received: Option<i64>,
        #[diesel(sql_type = Nullable<Double>)]
        behind: Option<f64>,
    }
    let row: Row = diesel::sql_query(
        "SELECT NOT pg_is_in_recovery() AS writable, \
         (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END \
           - '0/0'::pg_lsn)::bigint AS position, \
         (pg_last_wal_receive_lsn() - '0/0'::pg_lsn)::bigint AS received, \
         EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::double precision AS behind",
    )
    .get_result(conn)
    .await?;
    Ok(Probe {
        writable: row.writable,
        position: row.position,
        received: row.received,
        behind: if row.writable {
            Some(Duration::ZERO)
        } else {
            seconds(row.behind)
        },
        replayed: if row.writable {
            None
        } else {
            row.position.map(lsn)
        },
    })
}

#[cfg(feature = "mysql")]
pub(crate) async fn probe_mysql(
    conn: &mut diesel_async::AsyncMysqlConnection,
) -> QueryResult<Probe> {
    use diesel::sql_types::{BigInt, Nullable};
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct ReadOnly {
        #[diesel(sql_type = BigInt)]
        read_only: i64,
    }
    #[derive(diesel::QueryableByName)]
    struct SlaveStatus {
        #[diesel(sql_type = Nullable<BigInt>, column_name = Seconds_Behind_Master)]
        behind: Option<i64>,
    }
    let ro: ReadOnly = diesel::sql_query("SELECT CAST(@@read_only AS SIGNED) AS read_only")
        .get_result(conn)
        .await?;
    if ro.read_only == 0 {
        return Ok(Probe {
            writable: true,
            position: None,
            received: None,
            behind: Some(Duration::ZERO),
            replayed: None,
        });
    }
    let status: Vec<SlaveStatus> = diesel::sql_query("SHOW SLAVE STATUS").load(conn).await?;
    let replayed = mysql_replay_position(conn).await?;
    let behind = status
        .into_iter()
        .next()
        .and_then(|s| s.behind)
        .map(|s| Duration::from_secs(s.max(0).unsigned_abs()));
    Ok(Probe {
        writable: false,
        position: None,
        received: None,
        behind,
        replayed,
    })
}

/// An LSN read as `(lsn - '0/0')::bigint` (never negative).
#[cfg(feature = "postgres")]
fn lsn(bytes: i64) -> Position {
    Position::Lsn(bytes.unsigned_abs())
}

/// Where a write just committed on this PostgreSQL connection left the WAL: a position at
/// or past the end of its commit record, so that a replica that replayed it has the write.
/// With `synchronous_commit = off` the commit may not be flushed yet, so the insert position
/// is taken; otherwise the flush position (the commit is flushed before it returns).
#[cfg(feature = "postgres")]
pub(crate) async fn pg_write_position(
    conn: &mut diesel_async::AsyncPgConnection,
) -> QueryResult<Option<Position>> {
    use diesel::sql_types::{BigInt, Nullable};
    use diesel_async::RunQueryDsl;
    let bytes: Option<i64> = diesel::select(diesel::dsl::sql::<Nullable<BigInt>>(
        "(CASE WHEN current_setting('synchronous_commit') = 'off' \
           THEN pg_current_wal_insert_lsn() ELSE pg_current_wal_flush_lsn() END \
           - '0/0'::pg_lsn)::bigint",
    ))
    .get_result(conn)
    .await?;
    Ok(bytes.map(lsn))
}

/// How far this PostgreSQL standby has replayed (`None` on a primary).
#[cfg(feature = "postgres")]
pub(crate) async fn pg_replay_position(
    conn: &mut diesel_async::AsyncPgConnection,
) -> QueryResult<Option<Position>> {
    use diesel::sql_types::{BigInt, Nullable};
    use diesel_async::RunQueryDsl;
    let bytes: Option<i64> = diesel::select(diesel::dsl::sql::<Nullable<BigInt>>(
        "(pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint",
    ))
    .get_result(conn)
    .await?;
    Ok(bytes.map(lsn))
}

/// Reads a GTID list variable of this MariaDB session (`None` when empty).
#[cfg(feature = "mysql")]
async fn mysql_gtid_variable(
    conn: &mut diesel_async::AsyncMysqlConnection,
    sql: &'static str,
) -> QueryResult<Option<Position>> {
    use diesel::sql_types::{Nullable, Text};
    use diesel_async::RunQueryDsl;
    let text: Option<String> = diesel::select(diesel::dsl::sql::<Nullable<Text>>(sql))
        .get_result(conn)
        .await?;
    match text.as_deref().and_then(Position::from_gtid_list) {
        None => Ok(None),
        Some(Ok(position)) => Ok(Some(position)),
        Some(Err(e)) => Err(diesel::result::Error::DeserializationError(Box::new(e))),
    }
}

/// The GTID of the last transaction this MariaDB session committed (`@@last_gtid`; `None`
/// when the session has written no binary log event, e.g. the binary log is off).
#[cfg(feature = "mysql")]
pub(crate) async fn mysql_write_position(
    conn: &mut diesel_async::AsyncMysqlConnection,
) -> QueryResult<Option<Position>> {
    mysql_gtid_variable(conn, "@@last_gtid").await
}

/// How far this MariaDB replica has applied (`@@gtid_slave_pos`).
#[cfg(feature = "mysql")]
pub(crate) async fn mysql_replay_position(
    conn: &mut diesel_async::AsyncMysqlConnection,
) -> QueryResult<Option<Position>> {
    mysql_gtid_variable(conn, "@@gtid_slave_pos").await
}

#[cfg(test)]
mod tests {
    #[test]
    fn lag_tracker_measures_unreplayed_time() {
        use super::{LagTracker, Probe};
        use std::time::{Duration, Instant};
        let mut lag = LagTracker::default();
        let t0 = Instant::now();
        let primary = |pos| Probe {
            writable: true,
            position: Some(pos),
            received: None,
            behind: None,
            replayed: None,
        };
        let replica = |pos| Probe {
            writable: false,
            position: Some(pos),
            received: Some(pos),
            behind: None,
            replayed: None,
        };
        assert_eq!(
            lag.observe(t0, &replica(100), Some(&primary(100))),
            Some(Duration::ZERO)
        );
        // The replica stops replaying at 100 while the primary moves on.
        lag.observe(
            t0 + Duration::from_secs(1),
            &replica(100),
            Some(&primary(200)),
        );
        let behind = lag.observe(
            t0 + Duration::from_secs(3),
            &replica(100),
            Some(&primary(300)),
        );
        assert_eq!(behind, Some(Duration::from_secs(2)));
        // It catches up.
        assert_eq!(
            lag.observe(
                t0 + Duration::from_secs(4),
                &replica(300),
                Some(&primary(300))
            ),
            Some(Duration::ZERO)
        );
    }
}
