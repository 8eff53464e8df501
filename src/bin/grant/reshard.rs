//! `grant reshard plan`: what a topology change moves (see `grant::reshard`).

use crate::output;
use grant::Topology;
use grant::reshard::{ChangeKind, Plan};
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// The buckets (or keys) that change shards from the `--config` topology to another:
    /// `--to FILE`, or the `--config` topology's buckets spread over `--shards N` with the
    /// fewest moves (then the `shards` and `moves` lines to write in its strategy follow).
    Plan {
        /// The new topology.
        #[arg(long, conflicts_with = "shards")]
        to: Option<PathBuf>,
        /// Spread the buckets over the first N shards of the `--config` topology.
        #[arg(long)]
        shards: Option<u32>,
        /// With `--shards`: the table whose strategy to spread (default: the default
        /// strategy).
        #[arg(long, requires = "shards")]
        table: Option<String>,
    },
}

pub fn reshard(topology: &Topology, action: Action, json: bool) -> Result<bool, String> {
    let Action::Plan { to, shards, table } = action;
    let target = match (to, shards) {
        (Some(path), _) => Topology::from_toml_file(&path).map_err(|e| e.to_string())?,
        (None, Some(n)) => {
            grant::reshard::rebalance(topology, table.as_deref(), n).map_err(|e| e.to_string())?
        }
        (None, None) => return Err("give --to FILE or --shards N".into()),
    };
    let plan = grant::reshard::plan(topology, &target).map_err(|e| e.to_string())?;
    if json {
        output::json(&plan)?;
    } else {
        print_plan(&plan);
        if shards.is_some() {
            print_strategy(&target, table.as_deref());
        }
    }
    Ok(true)
}

fn print_plan(plan: &Plan) {
    if plan.is_empty() {
        println!("no key changes shards");
        return;
    }
    let mut rows = Vec::new();
    for change in &plan.changes {
        match &change.kind {
            ChangeKind::Buckets(moves) => {
                for m in moves {
                    rows.push(vec![
                        change.table.clone(),
                        m.bucket.to_string(),
                        m.from.clone(),
                        m.to.clone(),
                    ]);
                }
            }
            ChangeKind::Remap(why) => {
                rows.push(vec![
                    change.table.clone(),
                    "-".into(),
                    "-".into(),
                    why.clone(),
                ]);
            }
        }
    }
    output::table(&["strategy", "bucket", "from", "to"], &rows);
    println!("{} bucket(s) move", plan.bucket_moves());
}

/// The `shards` and `moves` lines of the spread strategy, to write into the TOML.
fn print_strategy(target: &Topology, table: Option<&str>) {
    let strategy = match table {
        None => target.strategy.as_ref(),
        Some(t) => target.tables.get(t).and_then(|s| s.strategy.as_ref()),
    };
    if let Some(grant::config::StrategyConfig::Buckets { shards, moves, .. }) = strategy {
        let section = table.map_or("[strategy]".to_owned(), |t| {
            format!("[tables.{t}.strategy]")
        });
        println!("\n# in {section}:");
        if let Some(n) = shards {
            println!("shards = {n}");
        }
        let moves: Vec<String> = moves
            .iter()
            .map(|(b, s)| format!("\"{b}\" = \"{s}\""))
            .collect();
        println!("moves = {{ {} }}", moves.join(", "));
    }
}
