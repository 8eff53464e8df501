//! What a write interrupted by a failover gives, on a PostgreSQL primary + replica pair of
//! the test's own: a write marked `.idempotent()` runs again on the promoted replica and
//! succeeds (applied once); the same write without the mark fails with
//! `WriteOutcomeUnknown` and is not re-run (the row is not there).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::pg_pair::PgPair;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use grant::cluster::{HealthConfig, ShardNodes};
use grant::prelude::*;
use grant::shard::Modulo;
use grant::{Error, PoolConfig, Sharded};
use std::time::Duration;

/// The write: it holds its transaction open for a second, so the primary can be killed
/// while it runs (it is never committed there).
const SLOW_INSERT: &str = "INSERT INTO t SELECT 1 FROM pg_sleep(1) ON CONFLICT DO NOTHING";

async fn rows(url: &str) -> i64 {
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    diesel::select(diesel::dsl::sql::<BigInt>("(SELECT count(*) FROM t)"))
        .get_result(&mut conn)
        .await
        .unwrap()
}

/// Starts the slow write, promotes the replica while it runs, then kills the old primary
/// under it; returns the write's result and the rows the new primary has.
async fn interrupted_write(idempotent: bool) -> (grant::Result<usize>, i64) {
    let pair = PgPair::start(false);
    pair.create_database("app").await;
    let mut app = AsyncPgConnection::establish(&pair.primary_url("app"))
        .await
        .unwrap();
    app.batch_execute("CREATE TABLE t (k INT PRIMARY KEY)")
        .await
        .unwrap();
    // The replica has the table before it is promoted.
    let started = std::time::Instant::now();
    while AsyncPgConnection::establish(&pair.replica_url("app"))
        .await
        .is_err()
    {
        assert!(started.elapsed() < Duration::from_secs(20));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut replica = AsyncPgConnection::establish(&pair.replica_url("app"))
        .await
        .unwrap();
    while replica.batch_execute("SELECT 1 FROM t").await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(20));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(replica);
    let sharded = Sharded::<AsyncPgConnection>::builder()
        .shard_nodes(
            "s0",
            ShardNodes::primary(pair.primary_url("app")).failover_host(pair.replica_url("app")),
        )
        .health(HealthConfig::default().timeout(Duration::from_secs(2)))
        .pool(PoolConfig::default().max_size(2))
        .strategy(Modulo::new(1).unwrap())
        .build()
        .unwrap();
    sharded.check_health().await;
    let write = {
        let sharded = sharded.clone();
        tokio::spawn(async move {
            let insert = grant::shard::writes(diesel::sql_query(SLOW_INSERT)).on_shard("s0");
            if idempotent {
                sharded.run(insert).idempotent().execute().await
            } else {
                sharded.run(insert).execute().await
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pair = tokio::task::spawn_blocking(move || {
        pair.promote_replica();
        pair.kill_primary();
        pair
    })
    .await
    .unwrap();
    let result = write.await.unwrap();
    let on_new_primary = rows(&pair.replica_url("app")).await;
    (result, on_new_primary)
}

#[tokio::test(flavor = "multi_thread")]
async fn pg_idempotent_write_runs_again_on_the_new_primary() {
    let (result, rows) = interrupted_write(true).await;
    assert_eq!(result.unwrap(), 1, "re-run on the promoted replica");
    assert_eq!(rows, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn pg_write_interrupted_by_failover_is_outcome_unknown() {
    let (result, rows) = interrupted_write(false).await;
    assert!(
        matches!(result, Err(Error::WriteOutcomeUnknown { .. })),
        "{result:?}"
    );
    assert_eq!(rows, 0, "not re-run");
}
