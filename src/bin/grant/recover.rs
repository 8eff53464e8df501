//! `grant recover`: settles the branches of transactions across shards that a crashed
//! process left prepared (see `Sharded::recover_in_doubt`).

use crate::output;
use grant::ShardConnection;

pub async fn recover<C: ShardConnection>(
    topology: &grant::Topology,
    json: bool,
) -> Result<bool, String> {
    let sharded = topology.build::<C>().map_err(|e| e.to_string())?;
    sharded.check_health().await;
    let report = sharded
        .recover_in_doubt()
        .await
        .map_err(|e| e.to_string())?;
    if json {
        output::json(&report)?;
    } else {
        println!(
            "committed {}, rolled back {}, left prepared {}",
            report.committed,
            report.rolled_back,
            report.unsettled.len()
        );
        for why in &report.unsettled {
            println!("  {why}");
        }
    }
    Ok(report.unsettled.is_empty())
}
