//! Metrics through the `metrics` facade (feature `metrics`; the application installs the
//! recorder and exporter it likes). Without the feature every function here is empty.
//!
//! | name | type | labels |
//! |---|---|---|
//! | `grant_statements_total` | counter | `shard`, `node`, `role`, `kind`, `outcome` |
//! | `grant_statement_duration_seconds` | histogram | `shard`, `node`, `kind` |
//! | `grant_pool_wait_seconds` | histogram | `shard`, `node` |
//! | `grant_pool_connections` | gauge | `shard`, `node` |
//! | `grant_pool_idle_connections` | gauge | `shard`, `node` |
//! | `grant_breaker_state` | gauge (0 closed, 1 half-open, 2 open) | `shard`, `node` |
//! | `grant_replica_lag_seconds` | gauge | `shard`, `node` (replicas whose lag is known) |
//!
//! `role` is `primary` or `replica` (as last probed; before any probe, or on a shard of one
//! server, as configured); `kind` is `read` or
//! `write`; `outcome` is `ok`, `error` (the server answered with an error), `connection`
//! (the connection failed) or `timeout`.

use crate::shard::Access;
use std::sync::Arc;
use std::time::Duration;

/// How a statement ended, for `grant_statements_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    Error,
    Connection,
    Timeout,
}

impl Outcome {
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Connection => "connection",
            Outcome::Timeout => "timeout",
        }
    }

    /// The outcome of a statement's result (`Err(None)`: it timed out).
    pub(crate) fn of<T>(result: &Result<T, Option<diesel::result::Error>>) -> Outcome {
        match result {
            Ok(_) => Outcome::Ok,
            Err(None) => Outcome::Timeout,
            Err(Some(e)) if super::exec::is_connection_failure(e) => Outcome::Connection,
            Err(Some(_)) => Outcome::Error,
        }
    }
}

fn kind(access: Access) -> &'static str {
    match access {
        Access::Read => "read",
        Access::Write => "write",
    }
}

/// One statement on a node.
#[cfg(feature = "metrics")]
pub(crate) fn statement(
    shard: &Arc<str>,
    node: &Arc<str>,
    role: &'static str,
    access: Access,
    outcome: Outcome,
    elapsed: Duration,
) {
    metrics::counter!(
        "grant_statements_total",
        "shard" => shard.clone(),
        "node" => node.clone(),
        "role" => role,
        "kind" => kind(access),
        "outcome" => outcome.label(),
    )
    .increment(1);
    metrics::histogram!(
        "grant_statement_duration_seconds",
        "shard" => shard.clone(),
        "node" => node.clone(),
        "kind" => kind(access),
    )
    .record(elapsed.as_secs_f64());
}

#[cfg(not(feature = "metrics"))]
#[inline(always)]
pub(crate) fn statement(
    _: &Arc<str>,
    _: &Arc<str>,
    _: &'static str,
    access: Access,
    _: Outcome,
    _: Duration,
) {
    let _ = kind(access);
}

/// A checkout that waited `waited` for a connection.
#[cfg(feature = "metrics")]
pub(crate) fn pool_wait(shard: &Arc<str>, node: &Arc<str>, waited: Duration) {
    metrics::histogram!(
        "grant_pool_wait_seconds",
        "shard" => shard.clone(),
        "node" => node.clone(),
    )
    .record(waited.as_secs_f64());
}

/// A node's state: pool, breaker, lag.
#[cfg(feature = "metrics")]
pub(crate) fn node_state(
    shard: &Arc<str>,
    node: &Arc<str>,
    pool: &bb8::State,
    breaker: super::BreakerState,
    lag: Option<Duration>,
) {
    let labels = [
        metrics::Label::new("shard", shard.clone()),
        metrics::Label::new("node", node.clone()),
    ];
    metrics::gauge!("grant_pool_connections", labels.iter()).set(pool.connections);
    metrics::gauge!("grant_pool_idle_connections", labels.iter()).set(pool.idle_connections);
    let breaker = match breaker {
        super::BreakerState::Closed => 0.0,
        super::BreakerState::HalfOpen => 1.0,
        super::BreakerState::Open => 2.0,
    };
    metrics::gauge!("grant_breaker_state", labels.iter()).set(breaker);
    if let Some(lag) = lag {
        metrics::gauge!("grant_replica_lag_seconds", labels.iter()).set(lag.as_secs_f64());
    }
}

#[cfg(not(feature = "metrics"))]
#[inline(always)]
pub(crate) fn node_state(
    _: &Arc<str>,
    _: &Arc<str>,
    _: &bb8::State,
    _: super::BreakerState,
    _: Option<Duration>,
) {
}

/// A live topology's version and whether its control database answered its last read.
#[cfg(feature = "metrics")]
pub(crate) fn topology(name: &str, version: u64, reachable: bool) {
    let labels = [metrics::Label::new("topology", name.to_owned())];
    metrics::gauge!("grant_topology_version", labels.iter()).set(version as f64);
    metrics::gauge!("grant_topology_control_reachable", labels.iter()).set(if reachable {
        1.0
    } else {
        0.0
    });
}

#[cfg(not(feature = "metrics"))]
#[inline(always)]
pub(crate) fn topology(_: &str, _: u64, _: bool) {}
