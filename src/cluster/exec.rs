//! Running one statement on one shard's servers: which node, how many attempts, and what a
//! failure means. Every front end (key operations, routed statements, scatter, transactions)
//! calls [`run_on_cluster`]; none has a second way to run a statement.
//!
//! Guarantees:
//! * A **read** goes to the candidates of [`Cluster::read_candidates`] in order; a node that
//!   cannot be reached is skipped. A read whose connection fails runs again on the node's
//!   next connection (at most once per connection the pool had open: stale connections after
//!   a server restart each fail once and are discarded), then on the next node, whenever the
//!   statement can be given again (not after `.once()`).
//! * A **write** runs on the current primary, once. It runs again only when it was certainly
//!   not applied (no connection to the primary, or refused as read-only by a demoted node)
//!   or when the caller marked it idempotent. A failed write says which:
//!   [`Error::WriteNotApplied`] or [`Error::WriteOutcomeUnknown`].
//! * Every statement runs in a `grant.statement` span (shard, table, operation, node,
//!   elapsed microseconds).

use super::metrics::Outcome;
use super::node::NodeConn;
use super::written::ReadFloor;
use super::{Cluster, Node, Position, ReadYourWrites, ShardConnection};
use crate::shard::Access;
use crate::shard::Attempts;
use crate::shard::Session;
use crate::shard::operation::Operation;
use crate::{Error, Result};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use std::time::{Duration, Instant};
use tracing::Instrument;

/// How one statement runs: what it touches, whether it reads, and the caller's options.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan<'a> {
    pub(crate) table: Option<&'static str>,
    pub(crate) access: Access,
    pub(crate) options: RunOptions<'a>,
}

impl Plan<'_> {
    /// A read of `table`.
    pub(crate) fn read(table: Option<&'static str>) -> Self {
        Plan {
            table,
            access: Access::Read,
            options: RunOptions::default(),
        }
    }

    /// A write to `table`.
    pub(crate) fn write(table: Option<&'static str>) -> Self {
        Plan {
            table,
            access: Access::Write,
            options: RunOptions::default(),
        }
    }
}

/// Options of one statement: forced to the primary, idempotent, in a session, its timeout.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RunOptions<'a> {
    /// The statement's own timeout, over the handle's default (`None`: the default).
    pub(crate) timeout: Option<StatementTimeout>,
    /// Read on the primary even when replicas could answer.
    pub(crate) primary: bool,
    /// The write may run again after a failover (running it twice has the effect of once).
    pub(crate) idempotent: bool,
    /// Read-your-writes is tracked in this session instead of the handle.
    pub(crate) session: Option<&'a Session>,
}

/// How long a statement may run on its node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatementTimeout {
    /// At most this long.
    After(Duration),
    /// As long as it takes.
    Never,
}

impl StatementTimeout {
    /// The bound, for messages (`Duration::MAX` when there is none).
    pub(crate) fn after(self) -> Duration {
        match self {
            StatementTimeout::After(after) => after,
            StatementTimeout::Never => Duration::MAX,
        }
    }
}

/// The handle-wide settings every statement runs under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExecSettings {
    /// Bounds the probes that look for a new primary after a failure.
    pub(crate) rediscover_timeout: Duration,
    /// The statement timeout of statements without their own.
    pub(crate) statement_timeout: StatementTimeout,
}

/// Runs `op` on `cluster` (a replica or the primary for reads, the primary for writes), in
/// a span, mapping errors to name the shard. `attempts` gives the statement for each try.
pub(crate) async fn run_on_cluster<C, Q, O, A>(
    cluster: &Cluster<C>,
    settings: ExecSettings,
    plan: Plan<'_>,
    op: O,
    attempts: A,
) -> Result<O::Output>
where
    C: ShardConnection,
    O: Operation<C, Q>,
    A: Attempts<Q>,
{
    // grant's fields, and OpenTelemetry's database conventions beside them.
    let span = tracing::debug_span!(
        "grant.statement",
        shard = %cluster.name(),
        table = plan.table.unwrap_or("-"),
        op = O::NAME,
        node = tracing::field::Empty,
        elapsed_us = tracing::field::Empty,
        db.system = otel_system(C::BACKEND),
        db.namespace = tracing::field::Empty,
        db.operation.name = O::NAME,
        db.collection.name = plan.table.unwrap_or(""),
        server.address = tracing::field::Empty,
        error.type = tracing::field::Empty,
        grant.shard = %cluster.name(),
        grant.role = tracing::field::Empty,
    );
    let timeout = plan.options.timeout.unwrap_or(settings.statement_timeout);
    let rediscover = settings.rediscover_timeout;
    // Nobody listens to the span (no subscriber, or one that filters it out): run without
    // it. Wrapping the statement's future would move it once more and enter and leave the
    // span at every poll, a cost every lookup would pay for nothing.
    if span.is_disabled() {
        return match plan.access {
            Access::Read => read(cluster, plan, timeout, op, attempts, &span).await,
            Access::Write => write(cluster, rediscover, plan, timeout, op, attempts, &span).await,
        };
    }
    let started = Instant::now();
    let result = match plan.access {
        Access::Read => {
            read(cluster, plan, timeout, op, attempts, &span)
                .instrument(span.clone())
                .await
        }
        Access::Write => {
            write(cluster, rediscover, plan, timeout, op, attempts, &span)
                .instrument(span.clone())
                .await
        }
    };
    span.record(
        "elapsed_us",
        u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
    );
    if let Err(e) = &result {
        span.record("error.type", e.kind_name());
        span.in_scope(|| tracing::debug!(error = %e, "statement failed"));
    }
    result
}

/// OpenTelemetry's `db.system` value of a backend.
fn otel_system(backend: &'static str) -> &'static str {
    match backend {
        "postgres" => "postgresql",
        other => other,
    }
}

/// `op` on `conn`, within `timeout`: `Err(None)` when it timed out, and then, on backends
/// that can, the server is asked to cancel the statement. The connection of a statement that
/// timed out is left unfinished, so the pool discards it.
pub(crate) async fn run_bounded<C, Q, O>(
    op: O,
    query: Q,
    conn: &mut C,
    timeout: StatementTimeout,
) -> Result<O::Output, Option<DieselError>>
where
    C: ShardConnection,
    O: Operation<C, Q>,
{
    let StatementTimeout::After(after) = timeout else {
        return op.run(query, conn).await.map_err(Some);
    };
    match tokio::time::timeout(after, op.run(query, conn)).await {
        Ok(result) => result.map_err(Some),
        Err(_) => {
            // Taken only now (the statement's future is gone, the connection still open
            // mid-statement): a cancel token copies the connection's settings, a cost
            // every statement would pay for the rare one that times out.
            if let Some(cancel) = C::cancel_handle(conn) {
                tokio::spawn(cancel.cancel());
            }
            Err(None)
        }
    }
}

/// Where the write just committed on `conn` left the replication stream, within `timeout`:
/// `Ok(None)` when the server does not say, `Err(())` when the query failed or timed out
/// (the connection is then not reused, and reads go to the primary for a while).
pub(crate) async fn position_after_write<C: ShardConnection>(
    conn: &mut C,
    timeout: StatementTimeout,
) -> Result<Option<Position>, ()> {
    let query = C::write_position(conn);
    let result = match timeout {
        StatementTimeout::After(after) => tokio::time::timeout(after, query).await.map_err(|_| ()),
        StatementTimeout::Never => Ok(query.await),
    };
    match result {
        Ok(Ok(position)) => Ok(position),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "the position after a write could not be read; reads go to the primary for a while");
            Err(())
        }
        Err(()) => Err(()),
    }
}

/// Asks `node` (a replica) how far it has replayed until it reaches `target`, for at most
/// `wait`; `true` when it has.
async fn wait_for_replay<C: ShardConnection>(
    node: &Node<C>,
    target: &Position,
    wait: Duration,
) -> bool {
    let deadline = Instant::now() + wait;
    let Ok(mut conn) = node.checkout().await else {
        return false;
    };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, C::replay_position(conn.conn())).await {
            Ok(Ok(position)) => {
                node.note_replayed(position);
                if node.has_replayed(target) {
                    conn.finished();
                    return true;
                }
            }
            // The connection failed or hangs: not reused.
            _ => return false,
        }
        if Instant::now() + REPLAY_POLL > deadline {
            conn.finished();
            return false;
        }
        tokio::time::sleep(REPLAY_POLL).await;
    }
}

/// How often a read that waits for a replica asks it again.
const REPLAY_POLL: Duration = Duration::from_millis(2);

/// A read: the replicas the policy picks, then the primary.
async fn read<C, Q, O, A>(
    cluster: &Cluster<C>,
    plan: Plan<'_>,
    timeout: StatementTimeout,
    op: O,
    mut attempts: A,
    span: &tracing::Span,
) -> Result<O::Output>
where
    C: ShardConnection,
    O: Operation<C, Q>,
    A: Attempts<Q>,
{
    let floor = if plan.options.primary {
        ReadFloor::Primary
    } else {
        cluster.read_floor(plan.options.session)
    };
    let wait = match cluster.read_your_writes() {
        ReadYourWrites::Causal { wait } => wait,
        _ => Duration::ZERO,
    };
    let mut waited = false;
    let mut last_error = None;
    let candidates = cluster.read_candidates(floor == ReadFloor::Primary);
    let count = candidates.len();
    'nodes: for (i, node) in candidates.enumerate() {
        let last = i + 1 == count;
        // A replica serves the read only once it has replayed the writes the read must see:
        // known from its last probe, or (once per read, when a wait is allowed) by asking it.
        if let (false, ReadFloor::Reached(target)) = (last, &floor)
            && !node.has_replayed(target)
        {
            if waited || wait.is_zero() || !wait_for_replay(node, target, wait).await {
                continue;
            }
            waited = true;
        }
        // A replica whose breaker is half-open takes one trial read at a time; the primary
        // (always the last candidate) is never skipped.
        if !last && !node.breaker.try_acquire() {
            continue;
        }
        // Pooled connections go stale together (the server restarted, a network cut every
        // idle connection): each then fails one statement. A read whose connection proved
        // dead runs again on the node's next connection, at most once per connection the
        // pool still has open (plus one fresh connection), before the node counts as failed.
        // Counted only after a failure: reading the pool's state takes its lock, which every
        // lookup would otherwise pay for.
        let mut stale_left: Option<u32> = None;
        loop {
            let mut conn = match node.checkout().await {
                Ok(conn) => conn,
                Err(e) => {
                    last_error = Some(e);
                    continue 'nodes;
                }
            };
            let Some(query) = attempts.next_attempt(last && stale_left == Some(0)) else {
                break 'nodes;
            };
            node.record_on(span);
            node.note_served();
            let attempt = Instant::now();
            let result = run_bounded(op, query, conn.conn(), timeout).await;
            node.observe(Access::Read, Outcome::of(&result), attempt.elapsed());
            settle(conn, &result);
            match result {
                Ok(value) => {
                    node.record_success();
                    return Ok(value);
                }
                Err(None) => {
                    let after = timeout.after();
                    node.record_failure("statement timed out");
                    tracing::debug!(
                        node = node.label(),
                        ?after,
                        "read timed out on its node; trying the next"
                    );
                    last_error = Some(Error::StatementTimeout {
                        shard: cluster.name().to_string(),
                        node: node.label().to_owned(),
                        after,
                    });
                    continue 'nodes;
                }
                Err(Some(e))
                    if is_connection_failure(&e)
                        && *stale_left.get_or_insert_with(|| node.pool_state().connections + 1)
                            > 0 =>
                {
                    // Not the node's failure yet: this connection may only have gone stale.
                    stale_left = stale_left.map(|left| left - 1);
                    tracing::debug!(node = node.label(), error = %e, "read failed on a pooled connection; trying a fresh one");
                    last_error = Some(statement_error(cluster.name(), plan.table, e));
                }
                Err(Some(e)) if is_connection_failure(&e) => {
                    node.record_failure(&e.to_string());
                    tracing::debug!(node = node.label(), error = %e, "read failed on its node; trying the next");
                    last_error = Some(statement_error(cluster.name(), plan.table, e));
                    continue 'nodes;
                }
                Err(Some(e)) => return Err(statement_error(cluster.name(), plan.table, e)),
            }
        }
    }
    // The primary is always a candidate, and a read stops trying only after an attempt
    // failed: there is an error to give.
    Err(last_error.unwrap_or(Error::Internal {
        what: "a read ended without an attempt",
    }))
}

/// A write on the current primary; a failure of the primary makes the cluster look for the
/// new one.
async fn write<C, Q, O, A>(
    cluster: &Cluster<C>,
    rediscover_timeout: Duration,
    plan: Plan<'_>,
    timeout: StatementTimeout,
    op: O,
    mut attempts: A,
    span: &tracing::Span,
) -> Result<O::Output>
where
    C: ShardConnection,
    O: Operation<C, Q>,
    A: Attempts<Q>,
{
    let shard = cluster.name();
    let mut retries_left = 2u32;
    loop {
        let (seen, node) = cluster.current_primary();
        node.record_on(span);
        let mut conn = match node.checkout().await {
            Ok(conn) => conn,
            Err(e) => {
                // Nothing ran: whichever host holds the primary role now may take it.
                // (`ShardUnavailable` and `PoolTimeout` mean the write was not applied.)
                if retries_left > 0 && cluster.rediscover(seen, rediscover_timeout).await {
                    retries_left -= 1;
                    continue;
                }
                return Err(e);
            }
        };
        let Some(query) = attempts.next_attempt(false) else {
            return Err(Error::WriteNotApplied {
                shard: shard.to_string(),
                cause: "the statement cannot be re-run on the new primary".into(),
            });
        };
        node.note_served();
        let attempt = Instant::now();
        let result = run_bounded(op, query, conn.conn(), timeout).await;
        node.observe(Access::Write, Outcome::of(&result), attempt.elapsed());
        // Where the write left the replication stream, for reads that must see it.
        let position = match &result {
            Ok(_) if cluster.tracks_positions() => position_after_write(conn.conn(), timeout).await,
            _ => Ok(None),
        };
        match position {
            Ok(position) => {
                cluster.note_write(position, plan.options.session);
                settle(conn, &result);
            }
            Err(()) => {
                // The connection failed or hangs after the write: not reused.
                cluster.note_write(None, plan.options.session);
                drop(conn);
            }
        }
        match result {
            Ok(value) => {
                node.record_success();
                return Ok(value);
            }
            Err(None) => {
                node.record_failure("statement timed out");
                return Err(Error::WriteOutcomeUnknown {
                    shard: shard.to_string(),
                    cause: format!(
                        "the statement timed out on {} after {:?}",
                        node.label(),
                        timeout.after()
                    ),
                });
            }
            Err(Some(e)) if is_read_only_refusal(&e) => {
                // Refused, so not applied: the node was demoted.
                if retries_left > 0 && cluster.rediscover(seen, rediscover_timeout).await {
                    retries_left -= 1;
                    continue;
                }
                return Err(Error::WriteNotApplied {
                    shard: shard.to_string(),
                    cause: e.to_string(),
                });
            }
            Err(Some(e)) if is_connection_failure(&e) => {
                node.record_failure(&e.to_string());
                let moved = cluster.rediscover(seen, rediscover_timeout).await;
                if plan.options.idempotent && retries_left > 0 && moved {
                    retries_left -= 1;
                    continue;
                }
                return Err(Error::WriteOutcomeUnknown {
                    shard: shard.to_string(),
                    cause: e.to_string(),
                });
            }
            Err(Some(e)) => return Err(statement_error(shard, plan.table, e)),
        }
    }
}

/// Returns a connection to its pool after a statement: kept when the statement ran to an
/// answer (a result or the server's error), discarded when it timed out or the connection
/// failed, so that no dead or mid-protocol connection is handed out again.
fn settle<C: ShardConnection, T>(conn: NodeConn<'_, C>, result: &Result<T, Option<DieselError>>) {
    match result {
        Ok(_) => conn.finished(),
        Err(Some(e)) if !is_connection_failure(e) => conn.finished(),
        Err(Some(_)) => {
            // The connection died: its pool mates may have too (a restart, a cut).
            conn.node().suspect();
            drop(conn);
        }
        Err(None) => drop(conn),
    }
}

/// The connection failed (rather than the statement): the node is unreachable, shutting
/// down or gone mid-statement.
pub(crate) fn is_connection_failure(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(
            DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection,
            _,
        ) => true,
        DieselError::BrokenTransactionManager => true,
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            let m = info.message().to_ascii_lowercase();
            [
                "input/output error",
                "connection closed",
                "connection to the server is closed",
                "connection reset",
                "broken pipe",
                "terminating connection",
                "shutting down",
                "starting up",
                "server has gone away",
                "lost connection",
                "connection refused",
            ]
            .iter()
            .any(|needle| m.contains(needle))
        }
        _ => false,
    }
}

/// The node refused a write because it is read-only (a demoted primary, a replica): the
/// write was not applied.
pub(crate) fn is_read_only_refusal(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::ReadOnlyTransaction, _) => true,
        DieselError::DatabaseError(_, info) => {
            let m = info.message().to_ascii_lowercase();
            m.contains("read-only") || m.contains("read_only") || m.contains("read only")
        }
        _ => false,
    }
}

/// A server error on `shard`: unique and foreign-key violations become
/// [`Error::DuplicateKey`] and [`Error::ForeignKeyViolation`] when the table is known;
/// everything else is [`Error::ShardQuery`], naming the shard.
pub(crate) fn statement_error(shard: &str, table: Option<&'static str>, e: DieselError) -> Error {
    match (table, e) {
        (
            Some(table),
            e @ DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::ForeignKeyViolation,
                _,
            ),
        ) => crate::key::map_write_error(table, None, e),
        (table, source) => Error::ShardQuery {
            shard: shard.to_owned(),
            table,
            source,
        },
    }
}
