//! The migration runner: every database in turn, a report per database, a typed error that
//! names the database and the migration, safe to run twice.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestDb};
use diesel_migrations::FileBasedMigrations;
use grant::Error;

fn write_migration(dir: &std::path::Path, name: &str, up: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("up.sql"), up).unwrap();
    std::fs::write(path.join("down.sql"), "SELECT 1;").unwrap();
}

async fn stops_at_the_first_failure<C>(dbs: [TestDb; 2])
where
    C: grant::ShardConnection,
    diesel_async::AsyncMigrationHarness<C>: diesel_migrations::MigrationHarness<C::Backend>,
{
    let dir = tempfile::tempdir().unwrap();
    write_migration(
        dir.path(),
        "2026-01-01-000001_create_notes",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY);",
    );
    write_migration(
        dir.path(),
        "2026-01-01-000002_broken",
        "CREATE TABLE broken (id INTEGER PRIMARY KEY,);",
    );
    let source: &'static FileBasedMigrations = Box::leak(Box::new(
        FileBasedMigrations::from_path(dir.path()).unwrap(),
    ));
    let databases: Vec<(String, String)> = dbs
        .iter()
        .map(|db| (db.name.clone(), db.url.clone()))
        .collect();

    match grant::migrate::run::<C, _>(&databases, source).await {
        Err(Error::Migration(e)) => {
            assert_eq!(e.database, dbs[0].name);
            assert_eq!(e.migration, "2026-01-01-000002_broken");
            assert!(!e.message.is_empty());
        }
        other => panic!("expected a migration error, got {other:?}"),
    }
    // The first migration stays applied on the first database; the second database was not
    // touched: fixing the broken migration and running again picks up where it stopped.
    write_migration(
        dir.path(),
        "2026-01-01-000002_broken",
        "CREATE TABLE broken (id INTEGER PRIMARY KEY);",
    );
    let report = grant::migrate::run::<C, _>(&databases, source)
        .await
        .unwrap();
    assert_eq!(report[0].applied, ["20260101000002"]);
    assert_eq!(report[1].applied, ["20260101000001", "20260101000002"]);
    let again = grant::migrate::run::<C, _>(&databases, source)
        .await
        .unwrap();
    assert!(again.iter().all(|db| db.applied.is_empty()));
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_runner_stops_at_the_first_failure() {
    let dbs = [
        TestDb::pg_empty("mig_fail_a").await,
        TestDb::pg_empty("mig_fail_b").await,
    ];
    stops_at_the_first_failure::<diesel_async::AsyncPgConnection>(dbs).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_runner_stops_at_the_first_failure() {
    let dbs = [
        TestDb::mysql_empty("mig_fail_a").await,
        TestDb::mysql_empty("mig_fail_b").await,
    ];
    stops_at_the_first_failure::<diesel_async::AsyncMysqlConnection>(dbs).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_runner_stops_at_the_first_failure() {
    let dbs = [
        TestDb::sqlite_empty("mig_fail_a").await,
        TestDb::sqlite_empty("mig_fail_b").await,
    ];
    stops_at_the_first_failure::<grant::sqlite::AsyncSqliteConnection>(dbs).await;
}

/// The example migrations create the same tables on every backend, and run twice safely.
#[tokio::test(flavor = "multi_thread")]
async fn example_migrations_apply_on_every_backend() {
    for backend in [Backend::Pg, Backend::Mysql, Backend::Sqlite] {
        let db = TestDb::migrated(backend, "mig_twice").await;
        db.run_migrations().await;
    }
}
