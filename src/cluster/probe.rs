//! What a health probe asks a node: does it accept writes, where is it in the replication
//! stream, and how far behind is it.

use diesel::QueryResult;
use std::time::Duration;

/// One probe's answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probe {
    /// Whether the node accepts writes (`pg_is_in_recovery() = false`; MySQL
    /// `@@read_only = 0`).
    pub writable: bool,
    /// PostgreSQL: the WAL position (current on a primary, replayed on a standby), in bytes.
    pub position: Option<i64>,
    /// How far behind the node says it is: PostgreSQL `now() - pg_last_xact_replay_timestamp()`,
    /// MySQL `Seconds_Behind_Master` (`None` when the replica threads are stopped).
    pub behind: Option<Duration>,
}

/// The replication lag of a replica: PostgreSQL measures it as the time since the last
/// replayed transaction, but only while the replica has not replayed the primary's current
/// WAL position (an idle, caught-up replica has no lag however old its last transaction
/// is); other backends report it themselves.
///
/// ```
/// use grant::cluster::{Probe, replica_lag};
/// use std::time::Duration;
/// let primary = Probe { writable: true, position: Some(1000), behind: None };
/// let caught_up = Probe { writable: false, position: Some(1000), behind: Some(Duration::from_secs(60)) };
/// let paused = Probe { writable: false, position: Some(400), behind: Some(Duration::from_secs(3)) };
/// assert_eq!(replica_lag(&caught_up, Some(&primary)), Some(Duration::ZERO));
/// assert_eq!(replica_lag(&paused, Some(&primary)), Some(Duration::from_secs(3)));
/// ```
pub fn replica_lag(replica: &Probe, primary: Option<&Probe>) -> Option<Duration> {
    match (replica.position, primary.and_then(|p| p.position)) {
        (Some(replayed), Some(current)) if replayed >= current => Some(Duration::ZERO),
        (Some(_), Some(_)) => Some(replica.behind.unwrap_or(Duration::MAX)),
        _ => replica.behind,
    }
}

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
        #[diesel(sql_type = Nullable<Double>)]
        behind: Option<f64>,
    }
    let row: Row = diesel::sql_query(
        "SELECT NOT pg_is_in_recovery() AS writable, \
         (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END \
           - '0/0'::pg_lsn)::bigint AS position, \
         EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::double precision AS behind",
    )
    .get_result(conn)
    .await?;
    Ok(Probe {
        writable: row.writable,
        position: row.position,
        behind: if row.writable {
            Some(Duration::ZERO)
        } else {
            seconds(row.behind)
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
            behind: Some(Duration::ZERO),
        });
    }
    let status: Vec<SlaveStatus> = diesel::sql_query("SHOW SLAVE STATUS").load(conn).await?;
    let behind = status
        .into_iter()
        .next()
        .and_then(|s| s.behind)
        .map(|s| Duration::from_secs(s.max(0).unsigned_abs()));
    Ok(Probe {
        writable: false,
        position: None,
        behind,
    })
}
