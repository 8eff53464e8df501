//! Bench support: the same rows in 4 PostgreSQL shard databases and in one database holding
//! them all, on the server of `scripts/servers.sh`, plus pools to reach each directly.
//!
//! `cargo bench` uses the full data set; `cargo test --benches` (CI's short mode) a small
//! one, so that every bench runs once quickly.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../../schema/mod.rs"]
pub mod schema;

use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use grant::shard::JumpHash;
use schema::models::OrderItem;
use std::sync::Arc;

pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

pub const SHARDS: usize = 4;

/// Whether criterion measures (`cargo bench`) rather than runs each bench once.
pub fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// How many rows the data set has.
pub fn rows() -> i64 {
    if measuring() { 200_000 } else { 2_000 }
}

pub fn server() -> String {
    std::env::var("GRANT_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:54320".into())
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The data set's rows: order `o` has products `0..10`.
pub fn items(n: i64) -> Vec<OrderItem> {
    (0..n)
        .map(|i| OrderItem {
            order_id: i / 10,
            product_id: i % 10,
            quantity: ((i * 7919) % 100_003) as i32,
        })
        .collect()
}

pub type DirectPool = bb8::Pool<AsyncDieselConnectionManager<AsyncPgConnection>>;

pub struct Data {
    pub sharded: grant::Sharded<AsyncPgConnection>,
    /// The same shards with the idle-connection check off (`check_idle_after = None`).
    pub unchecked: grant::Sharded<AsyncPgConnection>,
    /// The shard databases, each reached directly.
    pub shard_pools: Vec<DirectPool>,
    /// One database holding every row.
    pub single: DirectPool,
    pub rows: i64,
}

/// A direct pool set up like grant's (bb8's default `test_on_check_out = true` would add a
/// `SELECT 1` round trip to every checkout, and so to every lookup of the baseline).
pub async fn pool(url: &str, size: u32) -> DirectPool {
    bb8::Pool::builder()
        .max_size(size)
        .test_on_check_out(false)
        .build(AsyncDieselConnectionManager::new(url))
        .await
        .unwrap()
}

/// (Re)creates `grant_bench_<name>_s0..3` and `grant_bench_<name>_all` with the example
/// schema; with `fill`, loads the rows (through grant's routing for the shards).
pub async fn data(name: &str, fill: bool) -> Data {
    let server = server();
    let mut admin = AsyncPgConnection::establish(&format!("{server}/postgres"))
        .await
        .expect("PostgreSQL of scripts/servers.sh (run scripts/bench.sh)");
    let mut dbs: Vec<String> = (0..SHARDS)
        .map(|i| format!("grant_bench_{name}_s{i}"))
        .collect();
    dbs.push(format!("grant_bench_{name}_all"));
    for db in &dbs {
        // One statement per call: DROP/CREATE DATABASE refuse to run in a transaction block.
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
            .await
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {db}"))
            .await
            .unwrap();
    }
    let named: Vec<(String, String)> = dbs
        .iter()
        .map(|d| (d.clone(), format!("{server}/{d}")))
        .collect();
    grant::migrate::run::<AsyncPgConnection, _>(&named, &PG_MIGRATIONS)
        .await
        .unwrap();
    let urls: Vec<String> = named.iter().map(|(_, u)| u.clone()).collect();
    let build = |pool: grant::PoolConfig| {
        (0..SHARDS)
            .fold(grant::Sharded::<AsyncPgConnection>::builder(), |b, i| {
                b.shard(format!("s{i}"), &urls[i])
            })
            .pool(pool)
            .strategy(JumpHash::new(SHARDS as u32).unwrap())
            .build()
            .unwrap()
    };
    let sharded = build(grant::PoolConfig::default().max_size(20));
    let unchecked = build(
        grant::PoolConfig::default()
            .max_size(20)
            .check_idle_after(None),
    );
    let mut shard_pools = Vec::new();
    for url in &urls[..SHARDS] {
        shard_pools.push(pool(url, 20).await);
    }
    let single = pool(&urls[SHARDS], 20).await;
    let rows = rows();
    if fill {
        let all = items(rows);
        for chunk in all.chunks(20_000) {
            sharded.insert_all(chunk).await.unwrap();
            let mut conn = single.get().await.unwrap();
            diesel::insert_into(schema::order_items::table)
                .values(chunk)
                .execute(&mut *conn)
                .await
                .unwrap();
        }
        for url in &urls {
            let mut conn = AsyncPgConnection::establish(url).await.unwrap();
            // VACUUM too, so that autovacuum does not run during the measurements.
            conn.batch_execute("VACUUM ANALYZE").await.unwrap();
        }
    }
    Data {
        sharded,
        unchecked,
        shard_pools,
        single,
        rows,
    }
}

/// Runs lookups `first..first + per_task * tasks` split over `tasks` tasks; the wall time.
pub async fn phase<F, Fut>(
    first: u64,
    per_task: u64,
    tasks: u64,
    lookup: &Arc<F>,
) -> std::time::Duration
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let started = std::time::Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let lookup = lookup.clone();
            tokio::spawn(async move {
                for i in 0..per_task {
                    lookup(first + t * per_task + i).await;
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    started.elapsed()
}

/// The wall time of `iters` lookups of `measured` split over `tasks` tasks, run in short
/// phases that alternate with as many lookups of `other` (not timed): both sides see the
/// same machine state (CPU frequency, server caches, other load), so that drift over a
/// run does not favour whichever bench criterion runs first.
pub async fn alternating<F, Fut, G, Gut>(
    iters: u64,
    tasks: u64,
    measured: Arc<F>,
    other: Arc<G>,
) -> std::time::Duration
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
    G: Fn(u64) -> Gut + Send + Sync + 'static,
    Gut: std::future::Future<Output = ()> + Send,
{
    const PER_TASK: u64 = 32;
    let (mut timed, mut done) = (std::time::Duration::ZERO, 0u64);
    while done < iters {
        let per_task = PER_TASK.min((iters - done).div_ceil(tasks));
        timed += phase(done, per_task, tasks, &measured).await;
        phase(done, per_task, tasks, &other).await;
        done += per_task * tasks;
    }
    // Per lookup actually run, so that the figures compare across task counts.
    timed.mul_f64(iters as f64 / done as f64)
}

/// The `i`-th key looked up: spread over the data set of `rows` rows.
pub fn key(i: u64, rows: i64) -> (i64, i64) {
    let orders = (rows / 10).max(1) as u64;
    (((i * 7_919) % orders) as i64, (i % 10) as i64)
}

/// Which shard holds each order: the direct baselines ask the database grant asks.
pub fn owners(data: &Data) -> Arc<Vec<usize>> {
    Arc::new(
        (0..(data.rows / 10).max(1))
            .map(|order_id| {
                data.sharded
                    .shard_for(&schema::order_items::ShardKey { order_id })
                    .unwrap()
                    .index()
            })
            .collect(),
    )
}
