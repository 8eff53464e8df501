//! Settings of replicas and health checks, with their defaults.

use std::time::Duration;

/// `setters!(Type { /// doc\n field: Type, .. })`: one by-value setter per field of a
/// settings struct (`PoolConfig::default().max_size(32)`), for structs that are
/// `#[non_exhaustive]` and so cannot be written as literals outside grant.
macro_rules! setters {
    ($ty:ident { $( #[doc = $doc:literal] $field:ident: $fty:ty ),* $(,)? }) => {
        impl $ty {
            $(
                #[doc = concat!("Sets `", stringify!($field), "`:", $doc)]
                #[must_use]
                pub fn $field(mut self, $field: $fty) -> Self {
                    self.$field = $field;
                    self
                }
            )*
        }
    };
}

pub(crate) use setters;

/// How reads choose among healthy replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaPolicy {
    /// Each replica in turn (the default).
    #[default]
    RoundRobin,
    /// A replica at random.
    Random,
    /// The replica with the fewest statements in flight.
    LeastConnections,
}

/// What a read after a write may see: how a [`crate::Sharded`] handle (or a
/// [`crate::shard::Session`]) keeps its reads from missing its own writes when replicas
/// answer reads.
///
/// ```
/// use grant::cluster::{ReadYourWrites, ReplicaConfig};
/// use std::time::Duration;
/// let r = ReplicaConfig::default();
/// assert_eq!(r.read_your_writes, ReadYourWrites::Causal { wait: Duration::ZERO });
/// let rails = ReplicaConfig::default().read_your_writes(ReadYourWrites::Window(Duration::from_secs(2)));
/// # let _ = rails;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadYourWrites {
    /// After a write, the position it left in the replication stream is kept (per handle,
    /// or per [`crate::shard::Session`], which can carry it as a
    /// [`crate::shard::CausalToken`]); a read goes to a replica only once that replica has
    /// replayed it, otherwise to the primary. A replica that has not yet replayed it is
    /// waited for up to `wait` (polling its position) before the read goes to the primary.
    /// Costs one query on the primary after each write, only on shards with replicas.
    Causal {
        /// How long a read may wait for a replica to catch up (zero: go to the primary).
        wait: Duration,
    },
    /// After a write, reads of that shard go to the primary for this long (Rails' `delay`).
    /// A replica further behind than the window serves stale reads.
    Window(Duration),
    /// Reads go to replicas right after writes, and may miss them.
    Off,
}

/// How long a write whose position could not be read (the query after it failed, or the
/// MariaDB binary log is off) sends reads to the primary, under [`ReadYourWrites::Causal`].
pub(crate) const UNKNOWN_POSITION_WINDOW: Duration = Duration::from_secs(2);

/// Read/write splitting. Defaults (and why):
///
/// | setting | default | |
/// |---|---|---|
/// | `policy` | round-robin | spreads reads evenly |
/// | `max_lag` | 5 s | a replica further behind is skipped until it catches up |
/// | `read_your_writes` | causal, no wait | a read after a write goes to a replica once it has replayed the write, else to the primary |
///
/// ```
/// use std::time::Duration;
/// use grant::cluster::{ReadYourWrites, ReplicaConfig, ReplicaPolicy};
/// let r = ReplicaConfig::default().policy(ReplicaPolicy::LeastConnections);
/// assert_eq!(r.read_your_writes, ReadYourWrites::Causal { wait: Duration::ZERO });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplicaConfig {
    /// How reads choose a replica.
    pub policy: ReplicaPolicy,
    /// Replicas lagging more than this are skipped.
    pub max_lag: Duration,
    /// How reads after a write avoid stale replicas.
    pub read_your_writes: ReadYourWrites,
}

setters!(ReplicaConfig {
    /// how reads choose a replica.
    policy: ReplicaPolicy,
    /// replicas lagging more than this are skipped.
    max_lag: Duration,
    /// how reads after a write avoid stale replicas.
    read_your_writes: ReadYourWrites,
});

impl Default for ReplicaConfig {
    fn default() -> Self {
        ReplicaConfig {
            policy: ReplicaPolicy::RoundRobin,
            max_lag: Duration::from_secs(5),
            read_your_writes: ReadYourWrites::Causal {
                wait: Duration::ZERO,
            },
        }
    }
}

/// Background health checks and circuit breakers. Defaults (and why):
///
/// | setting | default | |
/// |---|---|---|
/// | `interval` | 1 s | how often each node is probed (role and lag) |
/// | `timeout` | 2 s | a probe slower than this counts as a failure |
/// | `failure_threshold` | 3 | consecutive failures (probes or statements) that open a node's circuit |
/// | `cool_down` | 5 s | how long an open circuit skips the node before one probe may close it |
///
/// ```
/// use std::time::Duration;
/// let h = grant::cluster::HealthConfig::default().interval(Duration::from_millis(200));
/// assert_eq!(h.failure_threshold, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HealthConfig {
    /// Time between probes of a node.
    pub interval: Duration,
    /// Longest a probe may take.
    pub timeout: Duration,
    /// Consecutive failures that open a circuit.
    pub failure_threshold: u32,
    /// Time an open circuit waits before a probe may close it.
    pub cool_down: Duration,
}

setters!(HealthConfig {
    /// time between probes of a node.
    interval: Duration,
    /// longest a probe may take.
    timeout: Duration,
    /// consecutive failures that open a circuit.
    failure_threshold: u32,
    /// time an open circuit waits before a probe may close it.
    cool_down: Duration,
});

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
            failure_threshold: 3,
            cool_down: Duration::from_secs(5),
        }
    }
}
