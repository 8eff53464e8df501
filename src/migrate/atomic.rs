//! Atomic migrations: each migration of a Diesel migrations directory applied to every
//! database in one transaction across them (two-phase commit), so that the databases never
//! disagree about their schema. PostgreSQL only: its DDL is transactional. MySQL commits
//! DDL implicitly and SQLite has no prepared transactions; both are refused.

use super::MigrationError;
use crate::cluster::ShardConnection;
use crate::shard::operation::Operation;
use crate::shard::{Access, ShardId};
use crate::{Error, Result, Sharded};
use std::path::Path;

/// One migration of a directory: its version, name and `up.sql`.
#[derive(Debug, Clone)]
struct Step {
    version: String,
    name: String,
    up: String,
}

/// The migrations of `dir` (Diesel's layout: `<version>_<name>/up.sql`), in version order.
fn steps(dir: &Path) -> std::result::Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let up = entry.path().join("up.sql");
        if !up.is_file() {
            continue;
        }
        let version: String = name
            .split('_')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        if version.is_empty() {
            continue;
        }
        let up = std::fs::read_to_string(&up).map_err(|e| format!("{}: {e}", up.display()))?;
        steps.push(Step { version, name, up });
    }
    steps.sort_by(|a, b| a.version.cmp(&b.version));
    Ok(steps)
}

/// Runs a batch of SQL on a branch.
#[derive(Debug, Clone, Copy)]
struct BatchSql;

impl<C: ShardConnection> Operation<C, String> for BatchSql {
    type Output = ();
    const NAME: &'static str = "migration";
    async fn run(self, sql: String, conn: &mut C) -> diesel::QueryResult<()> {
        diesel_async::SimpleAsyncConnection::batch_execute(conn, &sql).await
    }
}

const RECORD_TABLE: &str = "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations \
     (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)";

/// Applies the pending migrations of the directory `dir` to every database (a name and URL
/// each), one migration at a time, each in one transaction across all the databases: a
/// migration is applied everywhere or nowhere. Every database must have the same migrations
/// applied before (check with `grant check-schema`); each is locked against other runs as
/// in [`super::run_fleet`]. Returns the names of the migrations applied.
///
/// ```
/// # #[tokio::main]
/// # async fn main() {
/// let dbs = vec![("s0".to_owned(), "/tmp/grant-doc-atomic.db".to_owned())];
/// // SQLite (and MySQL) are refused: their DDL cannot be prepared and committed later.
/// let refused = grant::migrate::run_atomic::<grant::sqlite::AsyncSqliteConnection>(
///     &dbs, std::path::Path::new("migrations/sqlite"),
/// ).await;
/// assert!(matches!(refused, Err(grant::Error::TwoPhaseUnavailable { .. })));
/// # }
/// ```
pub async fn run_atomic<C: ShardConnection>(
    databases: &[(String, String)],
    dir: &Path,
) -> Result<Vec<String>> {
    if C::BACKEND != "postgres" {
        return Err(Error::TwoPhaseUnavailable {
            shard: databases
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            reason: format!(
                "an atomic migration needs transactional DDL and prepared transactions; {} {}",
                C::BACKEND,
                if C::BACKEND == "mysql" {
                    "commits every DDL statement implicitly"
                } else {
                    "has no prepared transactions"
                }
            ),
        });
    }
    let fail = |database: &str, migration: &str, message: String| {
        Error::Migration(MigrationError {
            database: crate::redact::redact(database).into_owned(),
            migration: migration.to_owned(),
            message: crate::redact::redact(&message).into_owned(),
        })
    };
    let steps = steps(dir).map_err(|m| fail("(all)", "(read)", m))?;
    // One session per database holds its migration lock until the end.
    let mut locks = Vec::with_capacity(databases.len());
    let mut applied: Vec<Vec<String>> = Vec::with_capacity(databases.len());
    for (name, url) in databases {
        let mut conn = C::connect(url)
            .await
            .map_err(|e| fail(name, "(connect)", e.to_string()))?;
        super::fleet::lock::<C>(&mut conn, url)
            .await
            .map_err(|e| fail(name, "(lock)", e))?;
        diesel_async::SimpleAsyncConnection::batch_execute(&mut conn, RECORD_TABLE)
            .await
            .map_err(|e| fail(name, "(setup)", e.to_string()))?;
        let mut versions = C::texts(
            &mut conn,
            "SELECT version AS item FROM __diesel_schema_migrations".to_owned(),
        )
        .await
        .map_err(|e| fail(name, "(setup)", e.to_string()))?;
        versions.sort();
        applied.push(versions);
        locks.push(conn);
    }
    if let Some(i) = applied.iter().position(|a| *a != applied[0]) {
        return Err(fail(
            &databases[i].0,
            "(setup)",
            format!(
                "its applied migrations differ from `{}`'s: an atomic run needs them equal \
                 (see `grant check-schema`)",
                databases[0].0
            ),
        ));
    }
    let sharded = databases
        .iter()
        .fold(Sharded::<C>::builder(), |b, (name, url)| b.shard(name, url))
        .build()?;
    let mut done = Vec::new();
    for step in steps.iter().filter(|s| !applied[0].contains(&s.version)) {
        let mut tx = sharded.transaction_across()?;
        for (i, (name, _)) in databases.iter().enumerate() {
            let sql = format!(
                "{}\n;INSERT INTO __diesel_schema_migrations (version) VALUES ('{}')",
                step.up, step.version
            );
            let shard = ShardId(u32::try_from(i).unwrap_or(u32::MAX));
            if let Err(e) = tx.run_op(shard, None, Access::Write, BatchSql, sql).await {
                tx.rollback().await;
                return Err(fail(name, &step.name, e.to_string()));
            }
        }
        tx.commit()
            .await
            .map_err(|e| fail("(all)", &step.name, e.to_string()))?;
        tracing::info!(migration = %step.name, databases = databases.len(), "applied atomically");
        done.push(step.name.clone());
    }
    drop(locks);
    Ok(done)
}
