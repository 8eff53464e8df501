//! `grant migration run | revert | list | pending`: Diesel's migration folders on every
//! shard's primary, several shards at a time, each under its database's migration lock.

use crate::output;
use clap::{Args, Subcommand};
use diesel_async::AsyncMigrationHarness;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use grant::ShardConnection;
use grant::migrate::{DatabaseReport, FleetOptions, MigrationAction, Progress, ProgressFn};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

#[derive(Args, Debug, Clone)]
pub struct Common {
    /// The migrations directory (Diesel's layout: one folder per migration with `up.sql`
    /// and `down.sql`).
    #[arg(long, default_value = "migrations")]
    dir: PathBuf,
    /// Shards migrated at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
}

#[derive(Subcommand, Debug)]
pub enum Action {
    /// Applies every pending migration on every shard.
    Run {
        #[command(flatten)]
        common: Common,
        /// Shows what would be applied; changes nothing.
        #[arg(long)]
        dry_run: bool,
        /// Applies each migration to every shard in one transaction across the shards
        /// (PostgreSQL; every shard must have the same migrations applied before).
        #[arg(long, conflicts_with = "dry_run")]
        atomic: bool,
    },
    /// Reverts the last applied migration (or more) on every shard.
    Revert {
        #[command(flatten)]
        common: Common,
        /// How many to revert, newest first.
        #[arg(long, short = 'n', default_value_t = 1, conflicts_with = "all")]
        count: usize,
        /// Reverts every applied migration.
        #[arg(long)]
        all: bool,
        /// Shows what would be reverted; changes nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Lists each shard's applied and pending migrations.
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Lists each shard's pending migrations.
    Pending {
        #[command(flatten)]
        common: Common,
    },
}

/// One progress bar per shard, on a terminal only.
fn progress_bars(json: bool) -> Option<ProgressFn> {
    if json || !std::io::stderr().is_terminal() {
        return None;
    }
    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{prefix:>10} [{bar:24}] {pos}/{len} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let bars: Mutex<HashMap<String, ProgressBar>> = Mutex::default();
    Some(Arc::new(move |p: Progress<'_>| {
        let mut bars = bars
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let database = match p {
            Progress::Locking { database }
            | Progress::Applying { database, .. }
            | Progress::Finished { database, .. } => database,
            _ => return,
        };
        let bar = bars.entry(database.to_owned()).or_insert_with(|| {
            let bar = multi.add(ProgressBar::new(0));
            bar.set_style(style.clone());
            bar.set_prefix(database.to_owned());
            bar
        });
        match p {
            Progress::Locking { .. } => bar.set_message("waiting for the migration lock"),
            Progress::Applying {
                migration,
                done,
                total,
                ..
            } => {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
                bar.set_message(migration.to_owned());
            }
            Progress::Finished { failed, .. } => {
                if let Some(len) = bar.length()
                    && !failed
                {
                    bar.set_position(len);
                }
                bar.finish_with_message(if failed { "FAILED" } else { "done" });
            }
            _ => {}
        }
    }))
}

pub async fn migrate<C>(
    topology: &grant::Topology,
    action: Action,
    json: bool,
) -> Result<bool, String>
where
    C: ShardConnection,
    FileBasedMigrations: diesel::migration::MigrationSource<C::Backend>,
    AsyncMigrationHarness<C>: MigrationHarness<C::Backend>,
{
    let (common, what, dry_run) = match &action {
        Action::Run {
            common, dry_run, ..
        } => (common, MigrationAction::Apply, *dry_run),
        Action::Revert {
            common,
            count,
            all,
            dry_run,
        } => (
            common,
            MigrationAction::Revert(if *all { usize::MAX } else { *count }),
            *dry_run,
        ),
        Action::List { common } | Action::Pending { common } => {
            (common, MigrationAction::List, false)
        }
    };
    let source = FileBasedMigrations::from_path(&common.dir)
        .map_err(|e| format!("migrations directory {}: {e}", common.dir.display()))?;
    let sharded = topology.build::<C>().map_err(|e| e.to_string())?;
    sharded.check_health().await;
    let mut databases = Vec::new();
    for name in sharded.shard_names() {
        let cluster = sharded.cluster(name).map_err(|e| e.to_string())?;
        databases.push((name.to_owned(), cluster.primary_url().to_owned()));
    }
    if let Action::Run { atomic: true, .. } = action {
        return atomic::<C>(&databases, &common.dir, json).await;
    }
    let options = FleetOptions::default()
        .concurrency(common.concurrency)
        .dry_run(dry_run);
    let reports =
        grant::migrate::run_fleet::<C, _>(&databases, source, what, &options, progress_bars(json))
            .await;
    let ok = reports.iter().all(|r| r.error.is_none());
    if json {
        output::json(&reports)?;
        return Ok(ok);
    }
    match action {
        Action::List { .. } => list(&reports),
        Action::Pending { .. } => pending(&reports),
        Action::Run { .. } | Action::Revert { .. } => summary(&reports, what, dry_run),
    }
    Ok(ok)
}

/// `migration run --atomic`.
async fn atomic<C: ShardConnection>(
    databases: &[(String, String)],
    dir: &std::path::Path,
    json: bool,
) -> Result<bool, String> {
    let result = grant::migrate::run_atomic::<C>(databases, dir).await;
    if json {
        #[derive(serde::Serialize)]
        struct Atomic {
            applied: Vec<String>,
            error: Option<String>,
        }
        let (applied, error) = match &result {
            Ok(applied) => (applied.clone(), None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        output::json(&Atomic { applied, error })?;
    } else {
        match &result {
            Ok(applied) if applied.is_empty() => println!("every shard is up to date"),
            Ok(applied) => {
                for name in applied {
                    println!("applied on every shard at once: {name}");
                }
            }
            Err(e) => println!("FAILED, nothing of it applied anywhere: {e}"),
        }
    }
    Ok(result.is_ok())
}

fn summary(reports: &[DatabaseReport], what: MigrationAction, dry_run: bool) {
    let verb = match (what, dry_run) {
        (MigrationAction::Revert(_), false) => "reverted",
        (MigrationAction::Revert(_), true) => "would revert",
        (_, false) => "applied now",
        (_, true) => "would apply",
    };
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            vec![
                r.database.clone(),
                if r.error.is_some() { "FAILED" } else { "ok" }.to_owned(),
                r.changed.len().to_string(),
                r.applied.len().to_string(),
                r.pending.len().to_string(),
                r.error
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ]
        })
        .collect();
    output::table(
        &["shard", "result", verb, "applied", "pending", "error"],
        &rows,
    );
}

fn list(reports: &[DatabaseReport]) {
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            vec![
                r.database.clone(),
                r.applied.len().to_string(),
                r.applied.last().cloned().unwrap_or_else(|| "-".into()),
                r.pending.len().to_string(),
                r.error
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ]
        })
        .collect();
    output::table(&["shard", "applied", "latest", "pending", "error"], &rows);
}

fn pending(reports: &[DatabaseReport]) {
    for r in reports {
        match &r.error {
            Some(e) => println!("{}: {e}", r.database),
            None if r.pending.is_empty() => println!("{}: up to date", r.database),
            None => println!("{}: {}", r.database, r.pending.join(", ")),
        }
    }
}
