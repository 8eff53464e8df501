//! `grant status`: each shard's servers as the health probes see them.

use crate::output;
use grant::ShardConnection;
use grant::cluster::{BreakerState, NodeRole};

#[derive(serde::Serialize)]
struct NodeStatus {
    shard: String,
    node: String,
    /// `primary`, `replica` (as the server says) or `unreachable`.
    role: &'static str,
    reachable: bool,
    /// Replication lag in milliseconds (replicas; `null` when unknown).
    lag_ms: Option<u128>,
    breaker: &'static str,
    pool_open: u32,
    pool_idle: u32,
    /// Checkouts that had to wait for a connection, since start.
    pool_waited: u64,
}

fn snapshot<C: ShardConnection>(sharded: &grant::Sharded<C>) -> Result<Vec<NodeStatus>, String> {
    let mut out = Vec::new();
    for name in sharded.shard_names() {
        let cluster = sharded.cluster(name).map_err(|e| e.to_string())?;
        let replicas = cluster.replicas().iter().map(|n| (n, true));
        for (node, is_replica) in cluster
            .primary_candidates()
            .iter()
            .map(|n| (n, false))
            .chain(replicas)
        {
            let role = match node.role() {
                NodeRole::Primary => "primary",
                NodeRole::Replica => "replica",
                NodeRole::Unknown => "unreachable",
            };
            let pool = node.pool_state();
            out.push(NodeStatus {
                shard: name.to_owned(),
                node: node.label().to_owned(),
                role,
                reachable: node.role() != NodeRole::Unknown,
                lag_ms: if is_replica {
                    node.lag().map(|l| l.as_millis())
                } else {
                    None
                },
                breaker: match node.breaker_state() {
                    BreakerState::Closed => "closed",
                    BreakerState::Open => "open",
                    BreakerState::HalfOpen => "half-open",
                },
                pool_open: pool.connections,
                pool_idle: pool.idle_connections,
                pool_waited: pool.statistics.get_waited,
            });
        }
    }
    Ok(out)
}

fn print(nodes: &[NodeStatus]) {
    let rows: Vec<Vec<String>> = nodes
        .iter()
        .map(|n| {
            vec![
                n.shard.clone(),
                n.node.clone(),
                n.role.to_owned(),
                n.lag_ms.map_or_else(|| "-".into(), |l| format!("{l} ms")),
                n.breaker.to_owned(),
                format!("{} open, {} idle", n.pool_open, n.pool_idle),
                n.pool_waited.to_string(),
            ]
        })
        .collect();
    output::table(
        &["shard", "node", "role", "lag", "breaker", "pool", "waited"],
        &rows,
    );
}

pub async fn status<C: ShardConnection>(
    topology: &grant::Topology,
    watch: Option<u64>,
    json: bool,
) -> Result<bool, String> {
    let sharded = topology.build::<C>().map_err(|e| e.to_string())?;
    loop {
        sharded.check_health().await;
        let nodes = snapshot(&sharded)?;
        let healthy = nodes.iter().all(|n| n.reachable);
        if json {
            output::json(&nodes)?;
        } else {
            if watch.is_some() {
                // Clear the screen and go home, as `watch` does.
                print!("\x1b[2J\x1b[H");
            }
            print(&nodes);
        }
        let Some(seconds) = watch else {
            return Ok(healthy);
        };
        tokio::time::sleep(std::time::Duration::from_secs(seconds.max(1))).await;
    }
}
