//! One shard's servers: one or more hosts for the primary role and any number of replicas,
//! each a [`Node`] with its own bb8 pool and circuit breaker.
//!
//! Guarantees:
//! * **Reads** (select statements outside transactions) go to a healthy replica chosen by
//!   the [`ReplicaPolicy`], skipping replicas whose circuit is open or whose measured lag is
//!   over `max_lag`. After a write (by the handle, or by the read's
//!   [`crate::shard::Session`]), per [`ReadYourWrites`]: by default only to a replica that
//!   has replayed the write's position, else to the primary. A read that fails because its
//!   node is unreachable is retried on the next candidate, and finally on the primary.
//! * **Writes** (and transactions, and reads that ask for it) go to the current primary:
//!   the host of the primary role that accepts writes, found by probing
//!   (`pg_is_in_recovery() = false`, MySQL `@@read_only = 0`). When it fails, the cluster
//!   probes again, so that writes follow a promoted replica without a restart. A write is
//!   never retried unless marked idempotent; when its connection failed, the error says
//!   whether it may have been applied ([`crate::Error::WriteOutcomeUnknown`]) or certainly
//!   was not ([`crate::Error::WriteNotApplied`]).

mod breaker;
mod cancel;
mod connect_errors;
pub(crate) mod exec;
pub(crate) mod health;
mod metrics;
mod node;
mod pool;
mod position;
pub(crate) mod primary_sql;
mod probe;
mod queries;
pub(crate) use queries::created_concurrently;
pub(crate) mod settings;
mod setup;
pub(crate) mod written;
pub(crate) use metrics::Outcome;

/// Notes a statement of a transaction (always on the primary) in the metrics.
pub(crate) fn metrics_statement(
    shard: &Arc<str>,
    node: &Arc<str>,
    access: crate::shard::Access,
    outcome: Outcome,
    elapsed: Duration,
) {
    metrics::statement(shard, node, "primary", access, outcome, elapsed);
}

/// Notes a live topology's version and whether its control database answered.
pub(crate) fn metrics_topology(name: &str, version: u64, reachable: bool) {
    metrics::topology(name, version, reachable);
}

pub(crate) use breaker::Breaker;
pub use breaker::BreakerState;
pub(crate) use node::NodeConn;
pub use node::{Node, NodeRole};
pub use pool::{Pool, PoolConfig, PooledConnection, ShardConnection};
pub use position::{Gtid, Position, PositionParseError};
pub(crate) use probe::Probe;
pub use settings::{HealthConfig, ReadYourWrites, ReplicaConfig, ReplicaPolicy};
pub(crate) use setup::SetupParts;
pub use setup::{AfterConnect, NodeInfo};

use crate::Error;
use crate::shard::Session;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use written::ReadFloor;

/// The servers of one shard, as configured: hosts that may hold the primary role (usually
/// one) and replicas. Its `Debug` shows URLs without their passwords.
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ShardNodes {
    /// URLs of the hosts that may be the primary, in order of preference.
    pub primaries: Vec<String>,
    /// URLs of read replicas.
    pub replicas: Vec<String>,
    /// SQL run on each new connection to any of them, after the topology-wide session SQL
    /// (see [`crate::ShardedBuilder::session_sql`]).
    pub session_sql: Vec<String>,
}

impl std::fmt::Debug for ShardNodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::redact::redact_all;
        f.debug_struct("ShardNodes")
            .field("primaries", &redact_all(&self.primaries))
            .field("replicas", &redact_all(&self.replicas))
            .field("session_sql", &self.session_sql)
            .finish()
    }
}

impl ShardNodes {
    /// One primary, no replica.
    pub fn primary(url: impl Into<String>) -> Self {
        ShardNodes {
            primaries: vec![url.into()],
            replicas: Vec::new(),
            session_sql: Vec::new(),
        }
    }

    /// Adds SQL that each new connection to this shard runs before its first statement
    /// (`SET search_path TO tenant_7`), after the topology-wide session SQL.
    pub fn session_sql(mut self, sql: impl Into<String>) -> Self {
        self.session_sql.push(sql.into());
        self
    }

    /// Adds a replica.
    pub fn replica(mut self, url: impl Into<String>) -> Self {
        self.replicas.push(url.into());
        self
    }

    /// Adds a host that may take the primary role after a failover.
    pub fn failover_host(mut self, url: impl Into<String>) -> Self {
        self.primaries.push(url.into());
        self
    }
}

/// One shard: its primary-role hosts and replicas.
pub struct Cluster<C: ShardConnection> {
    name: Arc<str>,
    primaries: Vec<Node<C>>,
    replicas: Vec<Node<C>>,
    current_primary: AtomicUsize,
    replica_config: ReplicaConfig,
    next_replica: AtomicUsize,
    random_state: AtomicU64,
    /// The handle's writes, for the read-your-writes of reads outside a session.
    written: std::sync::Mutex<written::Written>,
    rediscovering: tokio::sync::Mutex<()>,
    /// The shard was checked for transactions across shards (its decision table exists).
    pub(crate) two_phase_ready: std::sync::atomic::AtomicBool,
}

impl<C: ShardConnection> Cluster<C> {
    /// A shard named `name` with these servers; `setup` is what its new connections run.
    pub(crate) fn new(
        name: &str,
        nodes: &ShardNodes,
        pool: &PoolConfig,
        replica_config: &ReplicaConfig,
        health: &HealthConfig,
        setup: &SetupParts<C>,
    ) -> Result<Self, crate::config::ConfigError> {
        if nodes.primaries.is_empty() {
            return Err(crate::config::ConfigError::NoPrimaryHost {
                shard: name.to_owned(),
            });
        }
        let name: Arc<str> = Arc::from(name);
        let breaker = || Breaker::new(health.failure_threshold, health.cool_down);
        let primaries = nodes
            .primaries
            .iter()
            .enumerate()
            .map(|(i, url)| {
                let label = if i == 0 {
                    "primary".to_owned()
                } else {
                    format!("primary {}", i + 1)
                };
                Node::new(&name, label, url, pool, breaker(), setup, false)
            })
            .collect();
        let replicas = nodes
            .replicas
            .iter()
            .enumerate()
            .map(|(i, url)| {
                let label = format!("replica {}", i + 1);
                Node::new(&name, label, url, pool, breaker(), setup, true)
            })
            .collect();
        Ok(Cluster {
            name,
            primaries,
            replicas,
            current_primary: AtomicUsize::new(0),
            replica_config: replica_config.clone(),
            next_replica: AtomicUsize::new(0),
            random_state: AtomicU64::new(0x9E37_79B9_7F4A_7C15),
            written: std::sync::Mutex::new(written::Written::default()),
            rediscovering: tokio::sync::Mutex::new(()),
            two_phase_ready: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The shard's name.
    pub fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// The URL of the current primary (it may hold a password: do not log it).
    pub fn primary_url(&self) -> &str {
        self.primary_node().url()
    }

    /// The host currently holding the primary role.
    pub fn primary_node(&self) -> &Node<C> {
        self.current_primary().1
    }

    /// The host currently holding the primary role, with its position among the
    /// primary-role hosts (for [`Cluster::rediscover`]).
    pub(crate) fn current_primary(&self) -> (usize, &Node<C>) {
        let i = self.current_primary.load(Ordering::Relaxed);
        match self.primaries.get(i) {
            Some(node) => (i, node),
            // `Cluster::new` refuses a shard without a primary-role host, so there is a
            // first one (and `current_primary` only ever holds a position in the list).
            None => (0, &self.primaries[0]),
        }
    }

    /// The fewest connections a primary-role host's pool holds.
    pub(crate) fn primary_pool_size(&self) -> u32 {
        self.primaries.iter().map(Node::max_size).min().unwrap_or(1)
    }

    /// The hosts that may hold the primary role.
    pub fn primary_candidates(&self) -> &[Node<C>] {
        &self.primaries
    }

    /// The replicas.
    pub fn replicas(&self) -> &[Node<C>] {
        &self.replicas
    }

    /// Whether this shard has more than one server (and so needs health checks).
    pub fn is_replicated(&self) -> bool {
        self.primaries.len() + self.replicas.len() > 1
    }

    /// A connection to the current primary (raw access; see [`Node`]).
    pub async fn primary(&self) -> Result<PooledConnection<'_, C>, Error> {
        let node = self.primary_node();
        node.pool.get().await.map_err(|e| match e {
            bb8::RunError::TimedOut => Error::PoolTimeout {
                shard: self.name.to_string(),
                waited: Duration::ZERO,
            },
            bb8::RunError::User(cause) => Error::ShardUnavailable {
                shard: self.name.to_string(),
                cause: format!(
                    "{}: {}",
                    node.label,
                    crate::redact::redact(&cause.to_string())
                ),
            },
        })
    }

    /// Pool statistics of the current primary.
    pub fn primary_state(&self) -> bb8::State {
        self.primary_node().pool_state()
    }

    /// Whether a write's position is read after it (one query on the primary): only on
    /// shards with replicas, under [`ReadYourWrites::Causal`].
    pub(crate) fn tracks_positions(&self) -> bool {
        !self.replicas.is_empty()
            && matches!(
                self.replica_config.read_your_writes,
                ReadYourWrites::Causal { .. }
            )
    }

    /// Notes a write that left `position` (`None`: unknown), for the handle's reads and the
    /// session's. Nothing to note on a shard without replicas: its reads go to the primary.
    pub(crate) fn note_write(&self, position: Option<Position>, session: Option<&Session>) {
        if self.replicas.is_empty() || self.replica_config.read_your_writes == ReadYourWrites::Off {
            return;
        }
        if let Some(session) = session {
            session.note(&self.name, position.clone());
        }
        self.written
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .note(position, Instant::now());
    }

    /// Where a read may go after the writes of `session` (or of the handle, outside one).
    pub(crate) fn read_floor(&self, session: Option<&Session>) -> ReadFloor {
        if self.replicas.is_empty() {
            return ReadFloor::Primary;
        }
        let mode = self.replica_config.read_your_writes;
        match session {
            Some(session) => session.floor(&self.name, mode),
            None => self
                .written
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .floor(mode, Instant::now()),
        }
    }

    /// Publishes every node's pool, breaker and lag gauges (feature `metrics`; the health
    /// checks do it at each round).
    pub fn publish_metrics(&self) {
        for node in self.primaries.iter().chain(&self.replicas) {
            node.publish_state();
        }
    }

    /// How reads after writes avoid stale replicas.
    pub fn read_your_writes(&self) -> ReadYourWrites {
        self.replica_config.read_your_writes
    }

    /// A replica may answer reads when its circuit is closed and its lag is known and
    /// within `max_lag`. (A replica that was promoted is writable and has no lag: reading
    /// from it is reading from a primary.)
    fn replica_usable(&self, node: &Node<C>) -> bool {
        node.breaker.admits()
            && node
                .lag()
                .is_some_and(|lag| lag <= self.replica_config.max_lag)
    }

    /// Where a read goes, in order: the replica the policy picks, the other usable replicas,
    /// then the primary. Only the primary when `primary_only`.
    pub(crate) fn read_candidates(
        &self,
        primary_only: bool,
    ) -> impl ExactSizeIterator<Item = &Node<C>> {
        // The replicas to try, in order; no allocation when there are none to try.
        let mut replicas: Vec<&Node<C>> = Vec::new();
        if !primary_only && !self.replicas.is_empty() {
            let usable: Vec<&Node<C>> = self
                .replicas
                .iter()
                .filter(|n| self.replica_usable(n))
                .collect();
            if !usable.is_empty() {
                let first = match self.replica_config.policy {
                    ReplicaPolicy::RoundRobin => {
                        self.next_replica.fetch_add(1, Ordering::Relaxed) % usable.len()
                    }
                    ReplicaPolicy::Random => (self.next_random() % usable.len() as u64) as usize,
                    ReplicaPolicy::LeastConnections => usable
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, n)| n.in_flight())
                        .map(|(i, _)| i)
                        .unwrap_or(0),
                };
                replicas = usable
                    .iter()
                    .cycle()
                    .skip(first)
                    .take(usable.len())
                    .copied()
                    .collect();
            }
        }
        Candidates {
            replicas: replicas.into_iter(),
            primary: Some(self.primary_node()),
        }
    }

    fn next_random(&self) -> u64 {
        // xorshift64*: enough to spread reads, no dependency.
        let mut x = self.random_state.load(Ordering::Relaxed);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.random_state.store(x, Ordering::Relaxed);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

impl<C: ShardConnection> std::fmt::Debug for Cluster<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("name", &self.name)
            .field("backend", &C::BACKEND)
            .field("primaries", &self.primaries)
            .field("replicas", &self.replicas)
            .finish()
    }
}

/// The nodes a read tries, in order: the chosen replicas, then the primary.
struct Candidates<'a, C: ShardConnection> {
    replicas: std::vec::IntoIter<&'a Node<C>>,
    primary: Option<&'a Node<C>>,
}

impl<'a, C: ShardConnection> Iterator for Candidates<'a, C> {
    type Item = &'a Node<C>;

    fn next(&mut self) -> Option<&'a Node<C>> {
        self.replicas.next().or_else(|| self.primary.take())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.replicas.len() + usize::from(self.primary.is_some());
        (n, Some(n))
    }
}

impl<C: ShardConnection> ExactSizeIterator for Candidates<'_, C> {}
