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

/// Read/write splitting. Defaults (and why):
///
/// | setting | default | |
/// |---|---|---|
/// | `policy` | round-robin | spreads reads evenly |
/// | `max_lag` | 5 s | a replica further behind is skipped until it catches up |
/// | `read_your_writes` | 2 s | after a write, reads of that shard go to the primary this long (Rails' `delay`) |
///
/// ```
/// use std::time::Duration;
/// use grant::cluster::{ReplicaConfig, ReplicaPolicy};
/// let r = ReplicaConfig::default().policy(ReplicaPolicy::LeastConnections);
/// assert_eq!(r.read_your_writes, Duration::from_secs(2));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplicaConfig {
    /// How reads choose a replica.
    pub policy: ReplicaPolicy,
    /// Replicas lagging more than this are skipped.
    pub max_lag: Duration,
    /// After a write, reads of the shard go to the primary for this long.
    pub read_your_writes: Duration,
}

setters!(ReplicaConfig {
    /// how reads choose a replica.
    policy: ReplicaPolicy,
    /// replicas lagging more than this are skipped.
    max_lag: Duration,
    /// after a write, reads of the shard go to the primary this long.
    read_your_writes: Duration,
});

impl Default for ReplicaConfig {
    fn default() -> Self {
        ReplicaConfig {
            policy: ReplicaPolicy::RoundRobin,
            max_lag: Duration::from_secs(5),
            read_your_writes: Duration::from_secs(2),
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
