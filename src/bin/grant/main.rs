//! `grant`: operate a sharded fleet like one database. It reads the topology TOML the
//! library reads (`--config`, default `grant.toml`, or `GRANT_CONFIG`) and runs Diesel
//! migrations on every shard, shows the fleet's health, and tells where a key routes.
//!
//! ```text
//! grant migration run|revert|list|pending [--dir migrations] [--dry-run]
//! grant status [--watch SECONDS]
//! grant check-schema
//! grant recover
//! grant print-schema [--from src/diesel_schema.rs]
//! grant route <table> <key>...        (`-` reads keys from standard input)
//! grant topology show|publish --control URL --name NAME
//! grant reshard plan --to NEW.toml | --shards N [--table T]
//! ```
//! Every command takes `--json`.

mod migration;
mod output;
mod print_schema;
mod recover;
mod reshard;
mod route;
mod schema;
mod status;
mod topology;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "grant",
    version,
    about = "Operate a sharded Diesel fleet like one database"
)]
struct Cli {
    /// The topology TOML (the one the application gives `grant::Topology`).
    #[arg(
        long,
        global = true,
        env = "GRANT_CONFIG",
        default_value = "grant.toml"
    )]
    config: PathBuf,
    /// Machine-readable output (JSON on standard output).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Diesel migrations on every shard's primary.
    Migration {
        #[command(subcommand)]
        action: migration::Action,
    },
    /// Each shard's servers: role, reachability, lag, circuit breaker, pool.
    Status {
        /// Refresh every this many seconds until interrupted.
        #[arg(long, value_name = "SECONDS")]
        watch: Option<u64>,
        /// Read the topology from this control database (a live topology) rather than
        /// `--config`, and show its version and whether the control database answers.
        #[arg(long, requires = "name")]
        control: Option<String>,
        /// The topology's name in the control database.
        #[arg(long)]
        name: Option<String>,
    },
    /// Rewrites diesel's generated `schema.rs` as `grant::table!` declarations, with the
    /// shard keys and co-locations of the topology's `[tables.<name>]`.
    PrintSchema {
        /// diesel's file (`-`: standard input).
        #[arg(long, default_value = "src/schema.rs")]
        from: PathBuf,
    },
    /// Settles the transactions across shards a crashed process left prepared: each branch
    /// commits or rolls back by its transaction's decision. Safe to run at any time, from
    /// several places at once.
    Recover,
    /// Compares the applied migrations and the tables' columns of every shard; exits 1
    /// when a shard differs from the others.
    CheckSchema,
    /// A live topology in a control database: show the current version, or publish the
    /// `--config` file as the next one.
    Topology {
        /// The control database's URL (its scheme names the backend).
        #[arg(long, env = "GRANT_CONTROL_URL")]
        control: String,
        /// The topology's name in it.
        #[arg(long, env = "GRANT_TOPOLOGY_NAME")]
        name: String,
        #[command(subcommand)]
        action: topology::Action,
    },
    /// Resharding: what a topology change moves.
    Reshard {
        #[command(subcommand)]
        action: reshard::Action,
    },
    /// The shard each key of a table routes to (keys in grant's printed form, `123:456`).
    Route {
        /// The table's SQL name; the topology declares its shard-key types
        /// (`[tables.<table>] shard_key = ["bigint"]`).
        table: String,
        /// Keys, or `-` to read one per line from standard input.
        #[arg(required = true)]
        keys: Vec<String>,
    },
}

/// The backend of a topology, from its first shard's URL.
#[derive(Debug, Clone, Copy)]
enum Backend {
    Postgres,
    Mysql,
    Sqlite,
}

fn backend(topology: &grant::Topology) -> Backend {
    backend_of(topology.shards.first().map_or("", |s| s.url.as_str()))
}

/// The backend a URL names by its scheme (anything else: a SQLite file).
fn backend_of(url: &str) -> Backend {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Backend::Postgres
    } else if url.starts_with("mysql://") {
        Backend::Mysql
    } else {
        Backend::Sqlite
    }
}

/// A failure that ends the command: printed as one line on standard error.
type Failure = String;

async fn run(cli: Cli) -> Result<bool, Failure> {
    if let Command::Topology {
        control,
        name,
        action,
    } = cli.command
    {
        use topology::topology;
        let (config, json) = (&cli.config, cli.json);
        return match backend_of(&control) {
            Backend::Postgres => {
                topology::<diesel_async::AsyncPgConnection>(&control, &name, action, config, json)
                    .await
            }
            Backend::Mysql => {
                topology::<diesel_async::AsyncMysqlConnection>(
                    &control, &name, action, config, json,
                )
                .await
            }
            Backend::Sqlite => {
                topology::<grant::sqlite::AsyncSqliteConnection>(
                    &control, &name, action, config, json,
                )
                .await
            }
        };
    }
    if let Command::Status {
        watch,
        control: Some(control),
        name: Some(name),
    } = &cli.command
    {
        use status::{live_handle, status};
        let (watch, json) = (*watch, cli.json);
        return match backend_of(control) {
            Backend::Postgres => {
                let sharded = live_handle::<diesel_async::AsyncPgConnection>(control, name).await?;
                status(sharded, watch, json).await
            }
            Backend::Mysql => {
                let sharded =
                    live_handle::<diesel_async::AsyncMysqlConnection>(control, name).await?;
                status(sharded, watch, json).await
            }
            Backend::Sqlite => {
                let sharded =
                    live_handle::<grant::sqlite::AsyncSqliteConnection>(control, name).await?;
                status(sharded, watch, json).await
            }
        };
    }
    let topology = grant::Topology::from_toml_file(&cli.config).map_err(|e| e.to_string())?;
    let json = cli.json;
    macro_rules! on_backend {
        ($f:ident ( $($arg:expr),* )) => {
            match backend(&topology) {
                Backend::Postgres => $f::<diesel_async::AsyncPgConnection>($($arg),*).await,
                Backend::Mysql => $f::<diesel_async::AsyncMysqlConnection>($($arg),*).await,
                Backend::Sqlite => $f::<grant::sqlite::AsyncSqliteConnection>($($arg),*).await,
            }
        };
    }
    match cli.command {
        Command::Migration { action } => {
            use migration::migrate;
            on_backend!(migrate(&topology, action, json))
        }
        Command::Status { watch, .. } => {
            async fn from_toml<C: grant::ShardConnection>(
                topology: &grant::Topology,
                watch: Option<u64>,
                json: bool,
            ) -> Result<bool, Failure> {
                let sharded = topology.build::<C>().map_err(|e| e.to_string())?;
                status::status(sharded, watch, json).await
            }
            on_backend!(from_toml(&topology, watch, json))
        }
        Command::PrintSchema { from } => print_schema::print_schema(&topology, &from),
        Command::Recover => {
            use recover::recover;
            on_backend!(recover(&topology, json))
        }
        Command::CheckSchema => {
            use schema::check;
            on_backend!(check(&topology, json))
        }
        Command::Route { table, keys } => route::route(&topology, &table, keys, json),
        Command::Reshard { action } => reshard::reshard(&topology, action, json),
        // Handled above, before the topology file is read.
        Command::Topology { .. } => Ok(true),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("grant: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("grant: {message}");
            ExitCode::from(2)
        }
    }
}
