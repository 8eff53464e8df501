//! `grant topology show|publish`: the live topology in a control database (see
//! `grant::live`).

use crate::output;
use grant::ShardConnection;
use grant::live::Control;
use std::path::Path;

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// The current version and its TOML.
    Show,
    /// Publishes the `--config` file as the next version. Handles that follow the name take
    /// it at their next read (at once on PostgreSQL).
    Publish {
        /// The version it replaces (default: the one stored now). A publish after another
        /// process's fails rather than overwrite it.
        #[arg(long)]
        expect: Option<u64>,
        /// The version moves keys between shards (see `grant reshard plan`) and their rows
        /// are already where it routes them (or have none yet). Without it such a version
        /// is refused.
        #[arg(long)]
        moving: bool,
    },
}

#[derive(serde::Serialize)]
struct Shown {
    name: String,
    version: u64,
    topology: String,
}

pub async fn topology<C: ShardConnection>(
    url: &str,
    name: &str,
    action: Action,
    config: &Path,
    json: bool,
) -> Result<bool, String> {
    let control = Control::<C>::new(url, name).map_err(|e| e.to_string())?;
    match action {
        Action::Show => {
            let Some(current) = control.current().await.map_err(|e| e.to_string())? else {
                return Err(format!("nothing is published under `{name}`"));
            };
            if json {
                output::json(&Shown {
                    name: current.name,
                    version: current.version,
                    topology: current.topology,
                })?;
            } else {
                println!("# topology `{}`, version {}", current.name, current.version);
                print!("{}", current.topology);
            }
        }
        Action::Publish { expect, moving } => {
            let text = std::fs::read_to_string(config)
                .map_err(|e| format!("cannot read {}: {e}", config.display()))?;
            let expected = match expect {
                Some(v) => v,
                None => control
                    .version()
                    .await
                    .map_err(|e| e.to_string())?
                    .unwrap_or(0),
            };
            let published = if moving {
                control.publish_moving(&text, expected).await
            } else {
                control.publish(&text, expected).await
            };
            let version = published.map_err(|e| e.to_string())?;
            if json {
                output::json(&serde_json::json!({ "name": name, "version": version }))?;
            } else {
                println!("published `{name}` version {version}");
            }
        }
    }
    Ok(true)
}
