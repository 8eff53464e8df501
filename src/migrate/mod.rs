//! Diesel migrations on every shard: one runner, a report per database, and a typed error
//! that names the database and the migration that failed.

mod atomic;
mod fleet;

pub use atomic::run_atomic;

pub use fleet::{DatabaseReport, FleetOptions, MigrationAction, Progress, ProgressFn, run_fleet};

use crate::cluster::ShardConnection;
use crate::{Error, Result, Sharded};
use diesel::migration::MigrationSource;
use diesel_async::AsyncMigrationHarness;
use diesel_migrations::MigrationHarness;

/// What the runner did on one database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseMigrations {
    /// The database (shard) name.
    pub database: String,
    /// The versions applied now, in order (empty when it was up to date).
    pub applied: Vec<String>,
}

/// A migration that failed: where, which, and why. Databases before it in the list were
/// migrated; the failing one keeps the migrations applied before the failure (each
/// migration runs in its own transaction where the backend allows DDL in transactions).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("migration `{migration}` failed on database `{database}`: {message}")]
pub struct MigrationError {
    /// The database (shard) name.
    pub database: String,
    /// The migration's name (`<version>_<name>`), or `(setup)` before any ran.
    pub migration: String,
    /// What diesel or the server said.
    pub message: String,
}

/// Applies the pending migrations of `source` to each database in turn (a name and URL
/// each), stopping at the first failure. Safe to run twice: applied migrations are
/// recorded in each database's `__diesel_schema_migrations` and skipped.
///
/// ```
/// use diesel_migrations::{embed_migrations, EmbeddedMigrations};
/// const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// # #[tokio::main]
/// # async fn main() -> Result<(), grant::Error> {
/// # let dir = grant::__doc_schema::DocDir::new();
/// let dbs: Vec<(String, String)> = (0..2)
///     .map(|i| (format!("s{i}"), dir.0.join(format!("s{i}.db")).display().to_string()))
///     .collect();
/// let first = grant::migrate::run::<grant::sqlite::AsyncSqliteConnection, _>(&dbs, &MIGRATIONS).await?;
/// assert!(!first[1].applied.is_empty());
/// let again = grant::migrate::run::<grant::sqlite::AsyncSqliteConnection, _>(&dbs, &MIGRATIONS).await?;
/// assert!(again.iter().all(|db| db.applied.is_empty()));
/// # Ok(())
/// # }
/// ```
pub async fn run<C, S>(
    databases: &[(String, String)],
    source: &'static S,
) -> Result<Vec<DatabaseMigrations>>
where
    C: ShardConnection,
    S: MigrationSource<C::Backend> + Sync + 'static,
    AsyncMigrationHarness<C>: MigrationHarness<C::Backend>,
{
    let mut report = Vec::with_capacity(databases.len());
    for (database, url) in databases {
        // A database may be named by its URL; no error shows a password.
        let fail = |migration: &str, message: String| MigrationError {
            database: crate::redact::redact(database).into_owned(),
            migration: migration.to_owned(),
            message: crate::redact::redact(&message).into_owned(),
        };
        let conn = C::connect(url)
            .await
            .map_err(|e| fail("(connect)", e.to_string()))?;
        let source = SourceRef(source);
        let database_name = database.clone();
        // The harness blocks on the connection; give it a thread of its own.
        let applied = tokio::task::spawn_blocking(move || {
            let mut harness = AsyncMigrationHarness::new(conn);
            let pending = harness
                .pending_migrations(source)
                .map_err(|e| ("(setup)".to_owned(), e.to_string()))?;
            let mut applied = Vec::with_capacity(pending.len());
            for migration in pending {
                let name = migration.name().to_string();
                tracing::info!(database = %database_name, migration = %name, "applying migration");
                harness
                    .run_migration(&*migration)
                    .map_err(|e| (name.clone(), e.to_string()))?;
                applied.push(migration.name().version().to_string());
            }
            Ok::<_, (String, String)>(applied)
        })
        .await
        .map_err(|e| fail("(runner)", e.to_string()))?
        .map_err(|(migration, message)| fail(&migration, message))?;
        report.push(DatabaseMigrations {
            database: database.clone(),
            applied,
        });
    }
    Ok(report)
}

impl<C: ShardConnection> Sharded<C> {
    /// Applies the pending migrations of `source` to every shard's primary, in topology
    /// order (see [`run`]).
    pub async fn run_migrations<S>(&self, source: &'static S) -> Result<Vec<DatabaseMigrations>>
    where
        S: MigrationSource<C::Backend> + Sync + 'static,
        AsyncMigrationHarness<C>: MigrationHarness<C::Backend>,
    {
        let mut databases = Vec::with_capacity(self.shard_count());
        for name in self.shard_names() {
            let url = self.cluster(name)?.primary_url().to_owned();
            databases.push((name.to_owned(), url));
        }
        run::<C, S>(&databases, source).await
    }
}

/// A `'static` migration source, shared by every database's run.
struct SourceRef<S: 'static>(&'static S);

impl<S, DB> MigrationSource<DB> for SourceRef<S>
where
    S: MigrationSource<DB>,
    DB: diesel::backend::Backend,
{
    fn migrations(
        &self,
    ) -> diesel::migration::Result<Vec<Box<dyn diesel::migration::Migration<DB>>>> {
        self.0.migrations()
    }
}

impl From<MigrationError> for Error {
    fn from(e: MigrationError) -> Self {
        Error::Migration(e)
    }
}
