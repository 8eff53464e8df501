//! Pooled connections that went stale together (their server backends were terminated, as in
//! a server restart) fail no read: each stale connection is found dead on its first statement,
//! discarded, and the read runs again on the next connection. Once the node has been idle for
//! `check_idle_after`, its connections are checked before use, so no write is sent on a dead
//! one either; with the idle check off, only the first write fails (`WriteOutcomeUnknown`): a
//! connection failure makes the node check the others before use.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use diesel::sql_types::{BigInt, Integer, Text};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use grant::prelude::*;
use grant::shard::Modulo;
use grant::{PoolConfig, ShardConnection};

const POOL: u32 = 4;

/// Opens `POOL` connections on shard `s0` of `$sharded` by running that many slow reads at
/// once. (Macros rather than generic functions: a statement's Diesel bounds differ per
/// backend.)
macro_rules! warm {
    ($sharded:expr, $sleep:expr) => {{
        let reads = (0..POOL).map(|_| {
            $sharded
                .run(diesel::select(diesel::dsl::sql::<Integer>($sleep)).on_shard("s0"))
                .get_result::<i32>()
        });
        for read in futures_util::future::join_all(reads).await {
            assert_eq!(read.unwrap(), 1);
        }
        let open = $sharded.cluster("s0").unwrap().primary_state().connections;
        assert_eq!(open, POOL);
    }};
}

/// Every read after the server dropped all of the pool's connections succeeds.
macro_rules! reads_survive {
    ($sharded:expr) => {{
        for i in 0..(2 * POOL) {
            let one = $sharded
                .run(diesel::select(1i32.into_sql::<Integer>()).on_shard("s0"))
                .get_result::<i32>()
                .await;
            assert_eq!(
                one.unwrap_or_else(|e| panic!("read {i} after the cut: {e} ({e:?})")),
                1
            );
        }
    }};
}

/// Every write after the server dropped all of the pool's connections, and the node then
/// sat idle past `check_idle_after`, succeeds once: the table ends with exactly those rows.
/// With the idle check off (`$checked` false), the first write goes out on a dead
/// connection and fails with `WriteOutcomeUnknown`; that failure makes the node check its
/// other connections, so every later write succeeds.
macro_rules! writes_after_idle {
    ($sharded:expr, $checked:expr) => {{
        tokio::time::sleep(IDLE * 3).await;
        let mut written = 0;
        for i in 0..(2 * POOL) {
            let insert = grant::shard::writes(diesel::sql_query("INSERT INTO t VALUES (1)"));
            match $sharded.run(insert.on_shard("s0")).execute().await {
                Ok(n) => written += n,
                Err(grant::Error::WriteOutcomeUnknown { .. }) if !$checked && i == 0 => {}
                Err(e) => panic!("write {i} after the cut: {e} ({e:?})"),
            }
        }
        let rows: i64 = $sharded
            .run(
                diesel::select(diesel::dsl::sql::<BigInt>("(SELECT count(*) FROM t)"))
                    .on_shard("s0"),
            )
            .get_result()
            .await
            .unwrap();
        assert_eq!(rows, written as i64);
        let expected = 2 * POOL as usize - usize::from(!$checked);
        assert_eq!(written, expected);
    }};
}

const IDLE: std::time::Duration = std::time::Duration::from_millis(100);

fn sharded<C: ShardConnection>(db: &common::TestDb) -> grant::Sharded<C> {
    sharded_checking(db, Some(IDLE))
}

fn sharded_checking<C: ShardConnection>(
    db: &common::TestDb,
    check_idle_after: Option<std::time::Duration>,
) -> grant::Sharded<C> {
    grant::Sharded::<C>::builder()
        .pool(
            PoolConfig::default()
                .max_size(POOL)
                .check_idle_after(check_idle_after),
        )
        .shard("s0", &db.url)
        .strategy(Modulo::new(1).unwrap())
        .build()
        .unwrap()
}

/// Terminates every backend of the test's database but the admin's.
async fn pg_terminate(db: &common::TestDb) {
    let mut admin = db.pg().await;
    let killed: i64 = diesel::select(diesel::dsl::sql::<BigInt>(&format!(
        "(SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = '{}' AND pid <> pg_backend_pid())",
        db.name
    )))
    .get_result(&mut admin)
    .await
    .unwrap();
    assert_eq!(killed, i64::from(POOL));
}

/// Kills every connection to the test's database but the admin's.
async fn mariadb_kill(db: &common::TestDb) {
    let mut admin = db.mysql().await;
    let kills: Vec<String> = diesel::select(diesel::dsl::sql::<Text>(&format!(
        "CONCAT('KILL ', id) FROM information_schema.processlist \
         WHERE db = '{}' AND id <> CONNECTION_ID()",
        db.name
    )))
    .load(&mut admin)
    .await
    .unwrap();
    assert_eq!(kills.len(), POOL as usize);
    for kill in kills {
        admin.batch_execute(&kill).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_reads_survive_terminated_backends() {
    let db = common::TestDb::pg_empty("stale_pg").await;
    let sharded = sharded::<diesel_async::AsyncPgConnection>(&db);
    warm!(sharded, "(SELECT 1 FROM pg_sleep(0.2))");
    pg_terminate(&db).await;
    reads_survive!(sharded);
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_reads_survive_killed_connections() {
    let db = common::TestDb::mysql_empty("stale_my").await;
    let sharded = sharded::<diesel_async::AsyncMysqlConnection>(&db);
    warm!(sharded, "(SELECT SLEEP(0.2) + 1)");
    mariadb_kill(&db).await;
    reads_survive!(sharded);
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_writes_after_idle_go_out_on_live_connections() {
    for checked in [true, false] {
        let db = common::TestDb::pg_empty("stale_pg_w").await;
        db.pg()
            .await
            .batch_execute("CREATE TABLE t (v INT)")
            .await
            .unwrap();
        let sharded =
            sharded_checking::<diesel_async::AsyncPgConnection>(&db, checked.then_some(IDLE));
        warm!(sharded, "(SELECT 1 FROM pg_sleep(0.2))");
        pg_terminate(&db).await;
        writes_after_idle!(sharded, checked);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_writes_after_idle_go_out_on_live_connections() {
    for checked in [true, false] {
        let db = common::TestDb::mysql_empty("stale_my_w").await;
        db.mysql()
            .await
            .batch_execute("CREATE TABLE t (v INT)")
            .await
            .unwrap();
        let sharded =
            sharded_checking::<diesel_async::AsyncMysqlConnection>(&db, checked.then_some(IDLE));
        warm!(sharded, "(SELECT SLEEP(0.2) + 1)");
        mariadb_kill(&db).await;
        writes_after_idle!(sharded, checked);
    }
}
