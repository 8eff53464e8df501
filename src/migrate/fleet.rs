//! Migrations on many databases at once: each database independently (one failing does not
//! stop the others), several at a time, under a lock per database so that two runs never
//! race, with a report per database and progress as it goes.

use super::MigrationError;
use crate::cluster::ShardConnection;
use diesel::migration::{Migration, MigrationSource};
use diesel_async::AsyncMigrationHarness;
use diesel_migrations::MigrationHarness;
use futures_util::StreamExt;
use std::sync::Arc;

/// What to do on each database.
///
/// ```
/// let undo_two = grant::migrate::MigrationAction::Revert(2);
/// # let _ = undo_two;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationAction {
    /// Apply every pending migration, in version order.
    Apply,
    /// Revert the last `n` applied migrations (`usize::MAX`: all of them), newest first.
    Revert(usize),
    /// Change nothing: report what is applied and what is pending.
    List,
}

/// How a fleet run goes.
///
/// ```
/// let options = grant::migrate::FleetOptions::default().concurrency(8).dry_run(true);
/// assert_eq!(options.concurrency, 8);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FleetOptions {
    /// Databases worked on at once (at least 1; default 4).
    pub concurrency: usize,
    /// Report what would change, change nothing.
    pub dry_run: bool,
    /// After a database fails, leave the ones not started yet alone (default: go on).
    pub stop_after_failure: bool,
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions {
            concurrency: 4,
            dry_run: false,
            stop_after_failure: false,
        }
    }
}

crate::cluster::settings::setters!(FleetOptions {
    /// databases worked on at once.
    concurrency: usize,
    /// report what would change, change nothing.
    dry_run: bool,
    /// after a failure, leave the databases not started yet alone.
    stop_after_failure: bool,
});

/// One database after a fleet run.
///
/// ```
/// let r = grant::migrate::DatabaseReport { database: "s0".into(), ..Default::default() };
/// assert!(r.error.is_none() && r.changed.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DatabaseReport {
    /// The database (shard) name.
    pub database: String,
    /// Migrations (`<version>_<name>`) this call applied or reverted, in the order it did
    /// (with `dry_run`: would have).
    pub changed: Vec<String>,
    /// Versions applied on the database afterwards, oldest first.
    pub applied: Vec<String>,
    /// Migrations (`<version>_<name>`) still pending afterwards, in version order.
    pub pending: Vec<String>,
    /// Why this database stopped, when it did; what ran before stays applied.
    pub error: Option<MigrationError>,
    /// Not started, because an earlier database failed and
    /// [`FleetOptions::stop_after_failure`] was set.
    pub skipped: bool,
}

/// A step of a fleet run, for progress display.
///
/// ```
/// let p = grant::migrate::Progress::Applying { database: "s0", migration: "2026_x", done: 0, total: 2 };
/// # let _ = p;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// Waiting for another run's lock on the database.
    Locking {
        /// The database.
        database: &'a str,
    },
    /// About to apply (or revert) `migration`, the `done + 1`-th of `total`.
    Applying {
        /// The database.
        database: &'a str,
        /// `<version>_<name>`.
        migration: &'a str,
        /// Migrations done so far.
        done: usize,
        /// Migrations this call changes on the database.
        total: usize,
    },
    /// The database is done (see its report).
    Finished {
        /// The database.
        database: &'a str,
        /// Whether it failed.
        failed: bool,
    },
}

/// What a fleet run tells as it goes.
pub type ProgressFn = Arc<dyn Fn(Progress<'_>) + Send + Sync>;

/// Runs `action` on every database (a name and URL each) of backend `C`, `concurrency` at
/// a time, each under a lock that another run (another process) waits for: PostgreSQL's
/// advisory lock, MySQL's `GET_LOCK`, and for an SQLite file an OS lock on
/// `<file>.grant-migrations.lock`. Reports come back in the order of `databases`. A
/// database that fails keeps what ran before the failure (each migration runs in its own
/// transaction where the backend allows DDL in transactions); running the same action again
/// finishes the job.
///
/// ```
/// use diesel_migrations::FileBasedMigrations;
/// use grant::migrate::{run_fleet, FleetOptions, MigrationAction};
/// # #[tokio::main]
/// # async fn main() {
/// # let dir = grant::__doc_schema::DocDir::new();
/// let dbs: Vec<(String, String)> = (0..2)
///     .map(|i| (format!("s{i}"), dir.0.join(format!("s{i}.db")).display().to_string()))
///     .collect();
/// let source = FileBasedMigrations::from_path("migrations/sqlite").unwrap();
/// let reports = run_fleet::<grant::sqlite::AsyncSqliteConnection, _>(
///     &dbs, source, MigrationAction::Apply, &FleetOptions::default(), None,
/// ).await;
/// assert!(reports.iter().all(|r| r.error.is_none() && r.pending.is_empty()));
/// # }
/// ```
pub async fn run_fleet<C, S>(
    databases: &[(String, String)],
    source: S,
    action: MigrationAction,
    options: &FleetOptions,
    progress: Option<ProgressFn>,
) -> Vec<DatabaseReport>
where
    C: ShardConnection,
    S: MigrationSource<C::Backend> + Clone + Send + Sync + 'static,
    AsyncMigrationHarness<C>: MigrationHarness<C::Backend>,
{
    let failed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let runs = databases.iter().map(|(database, url)| {
        let (source, progress, failed) = (source.clone(), progress.clone(), failed.clone());
        let stop = options.stop_after_failure;
        let dry_run = options.dry_run;
        async move {
            if stop && failed.load(std::sync::atomic::Ordering::SeqCst) {
                return DatabaseReport {
                    database: database.clone(),
                    skipped: true,
                    ..DatabaseReport::default()
                };
            }
            let report =
                one_database::<C, S>(database, url, source, action, dry_run, progress.as_ref())
                    .await;
            if report.error.is_some() {
                failed.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            if let Some(progress) = &progress {
                progress(Progress::Finished {
                    database,
                    failed: report.error.is_some(),
                });
            }
            report
        }
    });
    futures_util::stream::iter(runs)
        .buffered(options.concurrency.max(1))
        .collect()
        .await
}

/// The action on one database.
async fn one_database<C, S>(
    database: &str,
    url: &str,
    source: S,
    action: MigrationAction,
    dry_run: bool,
    progress: Option<&ProgressFn>,
) -> DatabaseReport
where
    C: ShardConnection,
    S: MigrationSource<C::Backend> + Clone + Send + Sync + 'static,
    AsyncMigrationHarness<C>: MigrationHarness<C::Backend>,
{
    let mut report = DatabaseReport {
        database: database.to_owned(),
        ..DatabaseReport::default()
    };
    // A database may be named by its URL; no error shows a password.
    let fail = |migration: &str, message: String| MigrationError {
        database: crate::redact::redact(database).into_owned(),
        migration: migration.to_owned(),
        message: crate::redact::redact(&message).into_owned(),
    };
    let mut conn = match C::connect(url).await {
        Ok(conn) => conn,
        Err(e) => {
            report.error = Some(fail("(connect)", e.to_string()));
            return report;
        }
    };
    if let Some(progress) = progress {
        progress(Progress::Locking { database });
    }
    let file_lock = match lock::<C>(&mut conn, url).await {
        Ok(lock) => lock,
        Err(e) => {
            report.error = Some(fail("(lock)", e));
            return report;
        }
    };
    let (database_name, progress) = (database.to_owned(), progress.cloned());
    // The harness blocks on the connection; give it a thread of its own.
    let outcome = tokio::task::spawn_blocking(move || {
        let mut harness = AsyncMigrationHarness::new(conn);
        let mut changed = Vec::new();
        let result = apply(
            &mut harness,
            &source,
            action,
            dry_run,
            &database_name,
            progress.as_ref(),
            &mut changed,
        );
        let state = state(&mut harness, &source);
        drop(harness);
        drop(file_lock);
        (changed, result, state)
    })
    .await;
    match outcome {
        Ok((changed, result, state)) => {
            report.changed = changed;
            match state {
                Ok((applied, pending)) => {
                    report.applied = applied;
                    report.pending = pending;
                }
                Err(e) => report.error = Some(fail("(status)", e)),
            }
            if let Err((migration, message)) = result {
                report.error = Some(fail(&migration, message));
            }
        }
        Err(e) => report.error = Some(fail("(runner)", e.to_string())),
    }
    report
}

/// Applies or reverts on one database, noting each migration changed.
fn apply<C, S>(
    harness: &mut AsyncMigrationHarness<C>,
    source: &S,
    action: MigrationAction,
    dry_run: bool,
    database: &str,
    progress: Option<&ProgressFn>,
    changed: &mut Vec<String>,
) -> Result<(), (String, String)>
where
    C: ShardConnection,
    S: MigrationSource<C::Backend> + Clone,
    AsyncMigrationHarness<C>: MigrationHarness<C::Backend>,
{
    let setup = |e: Box<dyn std::error::Error + Send + Sync>| ("(setup)".to_owned(), e.to_string());
    let steps: Vec<Box<dyn Migration<C::Backend>>> = match action {
        MigrationAction::List => return Ok(()),
        MigrationAction::Apply => harness.pending_migrations(source.clone()).map_err(setup)?,
        MigrationAction::Revert(n) => {
            // Newest first, as diesel reverts them.
            let applied = harness.applied_migrations().map_err(setup)?;
            let mut all = source.migrations().map_err(setup)?;
            let mut steps = Vec::new();
            for version in applied.into_iter().take(n) {
                let Some(i) = all.iter().position(|m| m.name().version() == version) else {
                    return Err((
                        version.to_string(),
                        "applied on the database but not in the migrations directory: cannot revert it".into(),
                    ));
                };
                steps.push(all.swap_remove(i));
            }
            steps
        }
    };
    let total = steps.len();
    for (done, migration) in steps.iter().enumerate() {
        let name = migration.name().to_string();
        if let Some(progress) = progress {
            progress(Progress::Applying {
                database,
                migration: &name,
                done,
                total,
            });
        }
        if !dry_run {
            tracing::info!(database, migration = %name, ?action, "migration");
            let result = match action {
                MigrationAction::Revert(_) => harness.revert_migration(&**migration),
                _ => harness.run_migration(&**migration),
            };
            result.map_err(|e| (name.clone(), e.to_string()))?;
        }
        changed.push(name);
    }
    Ok(())
}

/// Applied versions (oldest first) and pending migrations of one database.
fn state<C, S>(
    harness: &mut AsyncMigrationHarness<C>,
    source: &S,
) -> Result<(Vec<String>, Vec<String>), String>
where
    C: ShardConnection,
    S: MigrationSource<C::Backend> + Clone,
    AsyncMigrationHarness<C>: MigrationHarness<C::Backend>,
{
    let mut applied: Vec<String> = harness
        .applied_migrations()
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|v| v.to_string())
        .collect();
    applied.sort();
    let pending = harness
        .pending_migrations(source.clone())
        .map_err(|e| e.to_string())?
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    Ok((applied, pending))
}

/// Takes the migration lock of the database behind `conn` (waiting for another run's),
/// held until the connection closes; for SQLite, the returned file holds it.
pub(super) async fn lock<C: ShardConnection>(
    conn: &mut C,
    url: &str,
) -> Result<Option<std::fs::File>, String> {
    match C::BACKEND {
        // 0x4752_414E_545F_4D47: "GRANT_MG".
        "postgres" => conn
            .batch_execute("SELECT pg_advisory_lock(5139058498618297671)")
            .await
            .map(|()| None)
            .map_err(|e| e.to_string()),
        "mysql" => conn
            .batch_execute("DO GET_LOCK('grant_migrations', 86400)")
            .await
            .map(|()| None)
            .map_err(|e| e.to_string()),
        _ => {
            let Some(path) = sqlite_path(url) else {
                return Ok(None);
            };
            let lock_path = format!("{path}.grant-migrations.lock");
            tokio::task::spawn_blocking(move || {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&lock_path)
                    .map_err(|e| format!("{lock_path}: {e}"))?;
                file.lock().map_err(|e| format!("{lock_path}: {e}"))?;
                Ok(Some(file))
            })
            .await
            .map_err(|e| e.to_string())?
        }
    }
}

/// The file of an SQLite URL (`path`, `file:path?..`, `sqlite://path`); `None` for an
/// in-memory database.
fn sqlite_path(url: &str) -> Option<String> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("file:"))
        .unwrap_or(url);
    let path = path.split('?').next().unwrap_or(path);
    (!path.is_empty() && path != ":memory:" && !url.contains("mode=memory"))
        .then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_paths() {
        use super::sqlite_path;
        assert_eq!(sqlite_path("/tmp/a.db").as_deref(), Some("/tmp/a.db"));
        assert_eq!(
            sqlite_path("file:/tmp/a.db?mode=rwc").as_deref(),
            Some("/tmp/a.db")
        );
        assert_eq!(sqlite_path(":memory:"), None);
        assert_eq!(sqlite_path("file:x?mode=memory"), None);
    }
}
