//! One server of a shard (its primary or a replica): its pool, circuit breaker, in-flight
//! count and last measured state.

use super::breaker::{Breaker, BreakerState};
use super::connect_errors::{ConnectErrors, Sink};
use super::pool::{Pool, PoolConfig, PooledConnection, ShardConnection};
use super::position::Position;
use super::probe::{LagTracker, Probe};
use super::setup::{ConnectionSetup, NodeInfo, SetupParts};
use crate::Error;
use diesel_async::TransactionManager;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

/// What a node is, as last probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRole {
    /// Not probed yet, or the probe failed.
    Unknown,
    /// Accepts writes.
    Primary,
    /// Read-only (a replica or standby).
    Replica,
}

/// A server of a shard with its own pool.
pub struct Node<C: ShardConnection> {
    pub(crate) shard: Arc<str>,
    pub(crate) label: Arc<str>,
    pub(crate) url: String,
    pub(crate) pool: Pool<C>,
    pub(crate) breaker: Breaker,
    pub(crate) in_flight: AtomicUsize,
    served: AtomicU64,
    role: AtomicU8,
    lag_micros: AtomicU64,
    lag: std::sync::Mutex<LagTracker>,
    replayed: std::sync::RwLock<Option<Position>>,
    /// Listed as a replica in the topology.
    configured_replica: bool,
    /// The database it serves (OpenTelemetry's `db.namespace`): the URL's path.
    db_namespace: Arc<str>,
    /// `host:port` (OpenTelemetry's `server.address`; empty for a file).
    server_address: Arc<str>,
    connect_errors: Arc<ConnectErrors>,
    timeout: Duration,
    /// See [`super::PoolConfig::check_idle_after`], in microseconds.
    check_idle_after_us: Option<u64>,
    /// The pool's `max_size`.
    max_size: u32,
    /// Microseconds since `epoch` of the last checkout for a statement (0: none yet).
    last_used_us: AtomicU64,
    /// How many of the next checkouts check their connection first.
    to_check: AtomicU32,
    epoch: std::time::Instant,
}

const LAG_UNKNOWN: u64 = u64::MAX;

impl<C: ShardConnection> Node<C> {
    pub(crate) fn new(
        shard: &Arc<str>,
        label: String,
        url: &str,
        pool: &PoolConfig,
        breaker: Breaker,
        setup: &SetupParts<C>,
        replica: bool,
    ) -> Self {
        let connect_errors = Arc::new(ConnectErrors::default());
        let label: Arc<str> = Arc::from(label);
        let setup = ConnectionSetup {
            session_sql: setup.session_sql.clone(),
            hook: setup.hook.clone(),
            node: NodeInfo::new(shard, &label, replica),
        };
        Node {
            shard: shard.clone(),
            label,
            url: url.to_owned(),
            pool: pool.build_with_sink::<C>(url, Sink(connect_errors.clone()), setup),
            breaker,
            in_flight: AtomicUsize::new(0),
            served: AtomicU64::new(0),
            role: AtomicU8::new(0),
            lag_micros: AtomicU64::new(LAG_UNKNOWN),
            lag: std::sync::Mutex::new(LagTracker::default()),
            replayed: std::sync::RwLock::new(None),
            configured_replica: replica,
            db_namespace: Arc::from(url_parts(url).1),
            server_address: Arc::from(url_parts(url).0),
            connect_errors,
            timeout: pool.connection_timeout,
            check_idle_after_us: pool
                .check_idle_after
                .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
            max_size: pool.max_size,
            last_used_us: AtomicU64::new(0),
            to_check: AtomicU32::new(0),
            epoch: std::time::Instant::now(),
        }
    }

    /// How long a checkout waits for a connection (the pool's `connection_timeout`).
    pub(crate) fn connection_timeout(&self) -> Duration {
        self.timeout
    }

    /// The pool's `max_size`: how many connections it holds at most.
    pub(crate) fn max_size(&self) -> u32 {
        self.max_size
    }

    /// The database it serves: its URL's path (OpenTelemetry's `db.namespace`).
    pub(crate) fn db_namespace(&self) -> &str {
        &self.db_namespace
    }

    /// The role for spans and metrics: as last probed, else as configured.
    pub(crate) fn role_label(&self) -> &'static str {
        match self.role() {
            NodeRole::Primary => "primary",
            NodeRole::Replica => "replica",
            // Not probed (a shard of one server): the role it was configured for.
            NodeRole::Unknown if self.configured_replica => "replica",
            NodeRole::Unknown => "primary",
        }
    }

    /// Records the node on a statement's span (grant's fields and OpenTelemetry's).
    pub(crate) fn record_on(&self, span: &tracing::Span) {
        span.record("node", &*self.label);
        span.record("grant.role", self.role_label());
        span.record("db.namespace", &*self.db_namespace);
        if !self.server_address.is_empty() {
            span.record("server.address", &*self.server_address);
        }
    }

    /// `primary`, `primary 2`, `replica 1`, ..
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The URL (may hold a password: do not log it).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The role found by the last probe.
    pub fn role(&self) -> NodeRole {
        match self.role.load(Ordering::Relaxed) {
            1 => NodeRole::Primary,
            2 => NodeRole::Replica,
            _ => NodeRole::Unknown,
        }
    }

    pub(crate) fn set_role(&self, role: NodeRole) {
        let v = match role {
            NodeRole::Unknown => 0,
            NodeRole::Primary => 1,
            NodeRole::Replica => 2,
        };
        let before = self.role.swap(v, Ordering::Relaxed);
        if before != v {
            tracing::info!(shard = %self.shard, node = %self.label, ?role, "node role changed");
        }
    }

    /// The replication lag measured by the last probe (`None`: unknown).
    pub fn lag(&self) -> Option<Duration> {
        match self.lag_micros.load(Ordering::Relaxed) {
            LAG_UNKNOWN => None,
            us => Some(Duration::from_micros(us)),
        }
    }

    /// How far this replica had replayed when last asked (`None`: not known yet).
    pub fn replayed(&self) -> Option<Position> {
        self.replayed
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Notes how far this replica has replayed (from a probe, or from a read that waited).
    pub(crate) fn note_replayed(&self, position: Option<Position>) {
        if let Some(position) = position {
            *self
                .replayed
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(position);
        }
    }

    /// Whether this node has every write up to `target`: a node that accepts writes has;
    /// a replica has once its replayed position reaches it.
    pub(crate) fn has_replayed(&self, target: &Position) -> bool {
        self.role() == NodeRole::Primary
            || self
                .replayed
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .as_ref()
                .is_some_and(|at| at.has_reached(target))
    }

    /// Notes a probe of this replica; returns its lag (see [`LagTracker`]).
    pub(crate) fn observe_lag(
        &self,
        now: std::time::Instant,
        probe: &Probe,
        primary: Option<&Probe>,
    ) -> Option<Duration> {
        let mut tracker = self
            .lag
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        tracker.observe(now, probe, primary)
    }

    pub(crate) fn set_lag(&self, lag: Option<Duration>) {
        let us = lag.map_or(LAG_UNKNOWN, |d| {
            u64::try_from(d.as_micros()).unwrap_or(LAG_UNKNOWN - 1)
        });
        self.lag_micros.store(us, Ordering::Relaxed);
    }

    /// The circuit breaker's state.
    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    /// Statements running on this node now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Statements this node ran (health probes aside): how the load was spread.
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    /// Notes one statement on this node in the metrics (feature `metrics`).
    pub(crate) fn observe(
        &self,
        access: crate::shard::Access,
        outcome: super::metrics::Outcome,
        elapsed: Duration,
    ) {
        super::metrics::statement(
            &self.shard,
            &self.label,
            self.role_label(),
            access,
            outcome,
            elapsed,
        );
    }

    /// Publishes this node's pool, breaker and lag gauges (feature `metrics`).
    pub(crate) fn publish_state(&self) {
        super::metrics::node_state(
            &self.shard,
            &self.label,
            &self.pool.state(),
            self.breaker_state(),
            self.lag(),
        );
    }

    pub(crate) fn note_served(&self) {
        self.served.fetch_add(1, Ordering::Relaxed);
    }

    /// Pool statistics: open and idle connections.
    pub fn pool_state(&self) -> bb8::State {
        self.pool.state()
    }

    pub(crate) fn record_success(&self) {
        if let Some(before) = self.breaker.record_success() {
            tracing::info!(shard = %self.shard, node = %self.label, ?before, "circuit closed: node is healthy again");
        }
    }

    pub(crate) fn record_failure(&self, cause: &str) {
        if let Some(before) = self.breaker.record_failure() {
            tracing::warn!(shard = %self.shard, node = %self.label, ?before, cause, "circuit opened: node is skipped");
        }
    }

    /// A connection for a statement, counted in flight (least-connections balancing reads
    /// the count) and guarded against cancellation (see [`NodeConn`]).
    ///
    /// After the node was idle for `check_idle_after`, or after one of its connections
    /// failed, each connection the pool had open is checked (`SELECT 1`, within
    /// `connection_timeout`) on its next checkout, and a dead one is discarded before any
    /// statement is sent on it: a write never goes out on a connection known to be dead.
    pub(crate) async fn checkout(&self) -> Result<NodeConn<'_, C>, Error> {
        self.note_use();
        // Each check that fails discards a connection; more failures than the pool can hold
        // mean the node is not answering.
        for _ in 0..=self.max_size {
            let mut conn = self.checkout_counted(true).await?;
            if !self.take_check() {
                return Ok(conn);
            }
            let ping = diesel_async::SimpleAsyncConnection::batch_execute(conn.conn(), "SELECT 1");
            match tokio::time::timeout(self.timeout, ping).await {
                Ok(Ok(())) => return Ok(conn),
                Ok(Err(e)) => {
                    tracing::debug!(node = %self.label, error = %e, "an idle connection was dead; discarded before use");
                }
                Err(_) => {
                    tracing::debug!(node = %self.label, "an idle connection did not answer; discarded before use");
                }
            }
            // Dropped unfinished: the pool discards it.
            drop(conn);
        }
        let cause = format!(
            "{}: {} connections in a row failed their check",
            self.label,
            self.max_size + 1
        );
        self.record_failure(&cause);
        Err(Error::ShardUnavailable {
            shard: self.shard.to_string(),
            cause,
        })
    }

    /// Notes a checkout for a statement; after an idle period longer than
    /// `check_idle_after`, the pool's connections are to be checked before use.
    fn note_use(&self) {
        let Some(after) = self.check_idle_after_us else {
            return;
        };
        let now = u64::try_from(self.epoch.elapsed().as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let last = self.last_used_us.swap(now, Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) > after {
            self.suspect();
        }
    }

    /// The node's pooled connections may be dead (it was idle, or one of them failed):
    /// each connection open now is checked on its next checkout.
    pub(crate) fn suspect(&self) {
        self.to_check
            .store(self.pool.state().connections, Ordering::Relaxed);
    }

    /// Whether this checkout checks its connection first.
    fn take_check(&self) -> bool {
        self.to_check.load(Ordering::Relaxed) > 0
            && self
                .to_check
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
    }

    /// A connection for a health probe: guarded like a statement's, but not counted in
    /// flight, so that probes do not steer reads away from a node.
    pub(crate) async fn checkout_for_probe(&self) -> Result<NodeConn<'_, C>, Error> {
        self.checkout_counted(false).await
    }

    async fn checkout_counted(&self, counted: bool) -> Result<NodeConn<'_, C>, Error> {
        // A connection attempt that fails while this caller waits ends the wait: the node
        // refuses connections now (see `connect_errors`). An idle connection is handed out
        // on the first poll, without registering for failures (a lock on a shared waiter
        // list, which the lookups of every task would contend on).
        #[cfg(feature = "metrics")]
        let started = std::time::Instant::now();
        let failures_before = self.connect_errors.count();
        let mut get = std::pin::pin!(self.pool.get());
        let first = std::future::poll_fn(|cx| Poll::Ready(get.as_mut().poll(cx))).await;
        let got = match first {
            Poll::Ready(got) => got,
            Poll::Pending => {
                let failed = self.connect_errors.next_failure();
                let mut failed = std::pin::pin!(failed);
                failed.as_mut().enable();
                let failed_meanwhile = self.connect_errors.count() != failures_before;
                tokio::select! {
                    biased;
                    () = async {}, if failed_meanwhile => return Err(self.refused()),
                    got = &mut get => got,
                    () = failed => return Err(self.refused()),
                }
            }
        };
        match got {
            Ok(conn) => {
                if counted {
                    self.in_flight.fetch_add(1, Ordering::Relaxed);
                    #[cfg(feature = "metrics")]
                    super::metrics::pool_wait(&self.shard, &self.label, started.elapsed());
                }
                Ok(NodeConn {
                    conn,
                    node: self,
                    running: true,
                    counted,
                })
            }
            Err(bb8::RunError::TimedOut) => Err(Error::PoolTimeout {
                shard: self.shard.to_string(),
                waited: self.timeout,
            }),
            Err(bb8::RunError::User(cause)) => {
                let cause = format!(
                    "{}: {}",
                    self.label,
                    crate::redact::redact(&cause.to_string())
                );
                self.record_failure(&cause);
                Err(Error::ShardUnavailable {
                    shard: self.shard.to_string(),
                    cause,
                })
            }
        }
    }

    /// The node refused a connection while a caller waited: opens its circuit.
    fn refused(&self) -> Error {
        let cause = format!("{}: {}", self.label, self.connect_errors.last());
        self.record_failure(&cause);
        Error::ShardUnavailable {
            shard: self.shard.to_string(),
            cause,
        }
    }
}

/// `(host:port, database)` of a server URL (`scheme://user:pw@host:port/db?..`); for a
/// file (SQLite), `("", path)`. Never the user or password.
fn url_parts(url: &str) -> (String, String) {
    let Some((_, rest)) = url.split_once("://") else {
        return (
            String::new(),
            url.split('?').next().unwrap_or(url).to_owned(),
        );
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let database = path.split('?').next().unwrap_or(path);
    (host.to_owned(), database.to_owned())
}

impl<C: ShardConnection> std::fmt::Debug for Node<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("shard", &self.shard)
            .field("label", &self.label)
            .field("role", &self.role())
            .field("lag", &self.lag())
            .field("breaker", &self.breaker_state())
            .finish()
    }
}

/// A checked-out connection of a node. Cancellation safety: a statement whose future is
/// dropped before it finishes (a timeout, a fail-fast scatter that stopped early, `exists`
/// answered by another shard) leaves its connection mid-protocol; unless the statement
/// was marked finished, dropping this marks the connection broken so that the pool
/// discards it instead of handing it out again.
pub(crate) struct NodeConn<'a, C: ShardConnection> {
    conn: PooledConnection<'a, C>,
    node: &'a Node<C>,
    running: bool,
    /// Whether it counts in the node's in-flight statements.
    counted: bool,
}

impl<C: ShardConnection> NodeConn<'_, C> {
    /// The connection.
    pub(crate) fn conn(&mut self) -> &mut C {
        &mut self.conn
    }

    /// The node it belongs to.
    pub(crate) fn node(&self) -> &Node<C> {
        self.node
    }

    /// The statement ran to completion (with or without an error).
    pub(crate) fn finished(mut self) {
        self.running = false;
    }
}

impl<C: ShardConnection> Drop for NodeConn<'_, C> {
    fn drop(&mut self) {
        if self.counted {
            self.node.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
        if self.running {
            <C::TransactionManager as TransactionManager<C>>::transaction_manager_status_mut(
                &mut self.conn,
            )
            .set_in_error();
            tracing::debug!(node = %self.node.label, "connection left mid-statement (cancelled, timed out or failed); the pool discards it");
        }
    }
}

#[cfg(test)]
mod url_tests {
    #[test]
    fn url_parts_leave_out_the_password() {
        assert_eq!(
            super::url_parts("postgres://u:secret@db1:5432/app?sslmode=disable"),
            ("db1:5432".to_owned(), "app".to_owned())
        );
        assert_eq!(
            super::url_parts("/tmp/s0.db"),
            (String::new(), "/tmp/s0.db".to_owned())
        );
    }
}
