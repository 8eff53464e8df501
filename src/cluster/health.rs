//! Health checks: probes of every node (role, lag, circuit breaker), the background task
//! that runs them, and the search for a new primary after a write failed.
//!
//! Guarantees: a probe never takes longer than the health `timeout`; the background task
//! runs only while the handle lives and only for shards with more than one server; at most
//! one search for a new primary runs per shard at a time.

use super::{Cluster, HealthConfig, Node, NodeRole, Probe, ShardConnection};
use crate::Error;
use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

impl<C: ShardConnection> Cluster<C> {
    /// Probes every server once: roles, lag, circuit breakers, and which host holds the
    /// primary role.
    pub async fn check_health(&self, timeout: Duration) {
        let probe = |node| probe_node(node, timeout);
        let primaries = futures_util::future::join_all(self.primaries.iter().map(probe)).await;
        let current = self.current_primary.load(Ordering::Relaxed);
        let writable = |i: &usize| {
            primaries
                .get(*i)
                .and_then(|p| p.as_ref())
                .is_some_and(|p| p.writable)
        };
        let chosen = if writable(&current) {
            Some(current)
        } else {
            (0..primaries.len()).find(|i| writable(i))
        };
        if let Some(i) = chosen {
            if i != current {
                tracing::warn!(shard = %self.name, from = %self.primaries[current].label, to = %self.primaries[i].label, "primary role moved: writes follow it");
            }
            self.current_primary.store(i, Ordering::Relaxed);
        }
        let primary_probe = chosen.and_then(|i| primaries.get(i).cloned().flatten());
        let replicas = futures_util::future::join_all(self.replicas.iter().map(probe)).await;
        for (node, probe) in self.replicas.iter().zip(replicas) {
            let now = Instant::now();
            let lag = probe
                .as_ref()
                .and_then(|p| node.observe_lag(now, p, primary_probe.as_ref()));
            let before = node.lag();
            node.set_lag(lag);
            node.note_replayed(probe.and_then(|p| p.replayed));
            let over = |l: Option<Duration>| l.is_none_or(|l| l > self.replica_config.max_lag);
            if over(before) != over(lag) {
                tracing::info!(shard = %self.name, node = %node.label, ?lag, skipped = over(lag), "replica lag crossed the threshold");
            }
        }
        self.publish_metrics();
    }

    /// After a write failed on host `seen` (a position among the primary-role hosts):
    /// probes the hosts again, one caller at a time per shard, so that the next write goes
    /// to whichever now accepts writes. `true` when the role has moved off `seen` (by this
    /// probe or one that ran meanwhile), so a retry may succeed.
    pub(crate) async fn rediscover(&self, seen: usize, timeout: Duration) -> bool {
        if self.primaries.len() < 2 {
            // One host: nothing to move to, but refresh its role and circuit.
            self.check_health(timeout).await;
            return false;
        }
        let _guard = self.rediscovering.lock().await;
        if self.current_primary.load(Ordering::Relaxed) != seen {
            return true;
        }
        self.check_health(timeout).await;
        self.current_primary.load(Ordering::Relaxed) != seen
    }
}

/// What the background health task needs of a handle: its shards and their settings.
pub(crate) trait Fleet<C: ShardConnection>: Send + Sync + 'static {
    /// Every shard.
    fn clusters(&self) -> Vec<&Cluster<C>>;
    /// Health-check settings.
    fn health(&self) -> &HealthConfig;
}

/// Probes the servers of replicated shards every `interval` while the handle lives. Without
/// a tokio runtime there is no task: replicas stay unused (their lag is unknown) and
/// failover happens only when a write fails.
pub(crate) fn spawn_health_checks<C: ShardConnection, F: Fleet<C>>(fleet: Weak<F>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("no tokio runtime: replicas are not health-checked and stay unused");
        return;
    };
    runtime.spawn(async move {
        loop {
            let Some(fleet) = fleet.upgrade() else { break };
            let timeout = fleet.health().timeout;
            let interval = fleet.health().interval;
            let checks = fleet
                .clusters()
                .into_iter()
                .filter(|c| c.is_replicated())
                .map(|c| c.check_health(timeout));
            futures_util::future::join_all(checks).await;
            drop(fleet);
            tokio::time::sleep(interval).await;
        }
    });
}

/// Probes one node: records the outcome in its breaker and its role.
async fn probe_node<C: ShardConnection>(node: &Node<C>, timeout: Duration) -> Option<Probe> {
    let result = tokio::time::timeout(timeout, async {
        let mut conn = node.checkout_for_probe().await?;
        let result = C::probe(conn.conn()).await;
        conn.finished();
        result.map_err(Error::Database)
    })
    .await;
    match result {
        Ok(Ok(probe)) => {
            node.record_success();
            node.set_role(if probe.writable {
                NodeRole::Primary
            } else {
                NodeRole::Replica
            });
            Some(probe)
        }
        Ok(Err(e)) => {
            node.record_failure(&e.to_string());
            node.set_role(NodeRole::Unknown);
            None
        }
        Err(_) => {
            node.record_failure("health probe timed out");
            node.set_role(NodeRole::Unknown);
            None
        }
    }
}
