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

/// A live topology's state, as `grant status --control` shows it.
#[derive(serde::Serialize)]
struct LiveTopology {
    name: String,
    version: u64,
    control_reachable: bool,
    /// Seconds since the control database stopped answering.
    unreachable_for_s: Option<u64>,
    last_error: Option<String>,
    /// A version the handle could not take, and why.
    refused: Option<(u64, String)>,
}

#[derive(serde::Serialize)]
struct WithTopology<'a> {
    topology: LiveTopology,
    nodes: &'a [NodeStatus],
}

fn live<C: ShardConnection>(sharded: &grant::Sharded<C>) -> Option<LiveTopology> {
    let status = sharded.topology_status();
    let live = status.live?;
    Some(LiveTopology {
        control_reachable: live.reachable(),
        unreachable_for_s: live
            .unreachable_since
            .map(|t| t.elapsed().unwrap_or_default().as_secs()),
        name: live.name,
        version: status.version,
        last_error: live.last_error,
        refused: live.refused,
    })
}

fn print_live(topology: &LiveTopology) {
    let control = match topology.unreachable_for_s {
        None => "control database reachable".to_owned(),
        Some(s) => format!(
            "control database UNREACHABLE for {s} s, serving with the last version seen ({})",
            topology.last_error.as_deref().unwrap_or("")
        ),
    };
    println!(
        "topology `{}` version {}: {control}",
        topology.name, topology.version
    );
    if let Some((version, why)) = &topology.refused {
        println!("version {version} refused: {why}");
    }
}

/// The handle of `grant status --control URL --name N`: built from the control database's
/// current version, following the next ones.
pub async fn live_handle<C: ShardConnection>(
    url: &str,
    name: &str,
) -> Result<grant::Sharded<C>, String> {
    let control = grant::live::Control::<C>::new(url, name).map_err(|e| e.to_string())?;
    control
        .connect(grant::live::WatchOptions::default())
        .await
        .map_err(|e| e.to_string())
}

pub async fn status<C: ShardConnection>(
    sharded: grant::Sharded<C>,
    watch: Option<u64>,
    json: bool,
) -> Result<bool, String> {
    loop {
        sharded.check_health().await;
        let nodes = snapshot(&sharded)?;
        let healthy = nodes.iter().all(|n| n.reachable);
        let topology = live(&sharded);
        if json {
            match topology {
                Some(topology) => output::json(&WithTopology {
                    topology,
                    nodes: &nodes,
                })?,
                None => output::json(&nodes)?,
            }
        } else {
            if watch.is_some() {
                // Clear the screen and go home, as `watch` does.
                print!("\x1b[2J\x1b[H");
            }
            if let Some(topology) = &topology {
                print_live(topology);
            }
            print(&nodes);
        }
        let Some(seconds) = watch else {
            return Ok(healthy);
        };
        tokio::time::sleep(std::time::Duration::from_secs(seconds.max(1))).await;
    }
}
