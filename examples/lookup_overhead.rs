//! N sequential point lookups, through `Sharded` or through a direct diesel-async bb8 pool,
//! sending the same SQL (`find(key).select(quantity)`, no LIMIT) to the same database: what
//! `scripts/overhead.sh` runs under callgrind to count grant's client instructions per
//! lookup. `cargo run --release --features postgres --example lookup_overhead -- grant 1000`
//! (or `direct`, or `find` for `Sharded::find` of whole records); PostgreSQL at `GRANT_PG_URL`
//! (scripts/servers.sh).
//!
//! The runtime is single-threaded and grant's health probes are set an hour apart: their cost
//! is per second, not per lookup, and under valgrind a run of more lookups lasts longer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../schema/mod.rs"]
mod schema;

use diesel::prelude::*;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use grant::cluster::{HealthConfig, PoolConfig};
use grant::prelude::*;
use schema::models::OrderItem;
use schema::order_items;
use std::time::Duration;

const DB: &str = "grant_overhead";

async fn prepare(server: &str) -> String {
    let mut admin = AsyncPgConnection::establish(&format!("{server}/postgres"))
        .await
        .expect("PostgreSQL at GRANT_PG_URL (scripts/servers.sh start)");
    // Fails when it exists: fine.
    let _ = admin.batch_execute(&format!("CREATE DATABASE {DB}")).await;
    let url = format!("{server}/{DB}");
    let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
    conn.batch_execute(
        "CREATE TABLE IF NOT EXISTS order_items (order_id BIGINT NOT NULL, \
         product_id BIGINT NOT NULL, quantity INTEGER NOT NULL, \
         PRIMARY KEY (order_id, product_id));
         INSERT INTO order_items SELECT o, p, 1 FROM generate_series(0, 99) o, \
         generate_series(0, 9) p ON CONFLICT DO NOTHING",
    )
    .await
    .unwrap();
    url
}

fn key(i: u64) -> (i64, i64) {
    ((i % 100) as i64, (i % 10) as i64)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "grant".into());
    let n: u64 = args.next().and_then(|v| v.parse().ok()).unwrap_or(1_000);
    let server = std::env::var("GRANT_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:54320".into());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let url = prepare(&server).await;
        let mut sum = 0i64;
        match mode.as_str() {
            "direct" => {
                let pool = bb8::Pool::builder()
                    .max_size(4)
                    .test_on_check_out(false)
                    .build(AsyncDieselConnectionManager::<AsyncPgConnection>::new(&url))
                    .await
                    .unwrap();
                for i in 0..n {
                    let mut conn = pool.get().await.unwrap();
                    let q: i32 = order_items::table
                        .find(key(i))
                        .select(order_items::quantity)
                        .get_result(&mut conn)
                        .await
                        .unwrap();
                    sum += i64::from(q);
                }
            }
            "grant" | "find" => {
                let sharded = grant::Sharded::<AsyncPgConnection>::builder()
                    .shard("s0", &url)
                    .pool(PoolConfig::default().max_size(4))
                    .health(HealthConfig::default().interval(Duration::from_secs(3_600)))
                    .strategy(grant::shard::Modulo::new(1).unwrap())
                    .build()
                    .unwrap();
                for i in 0..n {
                    let (order_id, product_id) = key(i);
                    if mode == "find" {
                        let item: Option<OrderItem> = sharded.find(key(i)).await.unwrap();
                        sum += i64::from(item.map_or(0, |r| r.quantity));
                        continue;
                    }
                    let q: i32 = sharded
                        .run(
                            order_items::table
                                .find((order_id, product_id))
                                .select(order_items::quantity)
                                .for_shard_key(order_items::ShardKey { order_id }),
                        )
                        .get_result()
                        .await
                        .unwrap();
                    sum += i64::from(q);
                }
            }
            other => panic!("mode `{other}`: grant, find or direct"),
        }
        println!("{mode}: {n} lookups, sum {sum}");
    });
}
