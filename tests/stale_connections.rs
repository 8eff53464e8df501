//! Pooled connections that went stale together (their server backends were terminated, as in
//! a server restart) fail no read: each stale connection is found dead on its first statement,
//! discarded, and the read runs again on the next connection.

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
        let open = $sharded
            .cluster("s0")
            .unwrap()
            .primary_state()
            .unwrap()
            .connections;
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

fn sharded<C: ShardConnection>(db: &common::TestDb) -> grant::Sharded<C> {
    grant::Sharded::<C>::builder()
        .pool(PoolConfig::default().max_size(POOL))
        .shard("s0", &db.url)
        .strategy(Modulo::new(1).unwrap())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_reads_survive_terminated_backends() {
    let db = common::TestDb::pg_empty("stale_pg").await;
    let sharded = sharded::<diesel_async::AsyncPgConnection>(&db);
    warm!(sharded, "(SELECT 1 FROM pg_sleep(0.2))");
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
    reads_survive!(sharded);
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_reads_survive_killed_connections() {
    let db = common::TestDb::mysql_empty("stale_my").await;
    let sharded = sharded::<diesel_async::AsyncMysqlConnection>(&db);
    warm!(sharded, "(SELECT SLEEP(0.2) + 1)");
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
    reads_survive!(sharded);
}
