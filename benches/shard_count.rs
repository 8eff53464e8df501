//! How grant's cost grows with the number of shards: 4, 16, 64 and 256 SQLite files (4 and
//! 16 in CI's short mode). For each count: the time to build a `Sharded` handle (pools
//! connect lazily: building opens no connection), a point lookup by key (should not grow), a
//! scattered `COUNT(*)` and an ordered `LIMIT 10` against the same statements run on every
//! shard's own connection one after the other (grant's own cost per shard is the difference
//! divided by the count), and the resident memory each shard adds once it has one open
//! connection (printed, from /proc/self/statm).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::schema::models::OrderItem;
use common::schema::order_items;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use diesel::prelude::*;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use grant::Sharded;
use grant::scatter::asc;
use grant::shard::Modulo;
use grant::sqlite::AsyncSqliteConnection;
use std::hint::black_box;
use std::path::Path;

const ROWS_PER_SHARD: i64 = 40;

fn counts() -> Vec<usize> {
    if common::measuring() {
        vec![4, 16, 64, 256]
    } else {
        vec![4, 16]
    }
}

fn urls(dir: &Path, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| dir.join(format!("n{n}_s{i}.db")).display().to_string())
        .collect()
}

fn handle(urls: &[String]) -> Sharded<AsyncSqliteConnection> {
    urls.iter()
        .enumerate()
        .fold(Sharded::builder(), |b, (i, url)| {
            b.shard(format!("s{i}"), url)
        })
        .strategy(Modulo::new(urls.len() as u32).unwrap())
        .build()
        .unwrap()
}

/// Resident memory in bytes (Linux), 0 elsewhere.
fn resident() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

async fn fill(urls: &[String]) -> Vec<AsyncSqliteConnection> {
    let mut direct = Vec::new();
    for url in urls {
        let mut conn = grant::sqlite::establish(url).await.unwrap();
        conn.batch_execute(
            "CREATE TABLE IF NOT EXISTS order_items (order_id BIGINT NOT NULL, \
             product_id BIGINT NOT NULL, quantity INTEGER NOT NULL, \
             PRIMARY KEY (order_id, product_id))",
        )
        .await
        .unwrap();
        direct.push(conn);
    }
    let n = urls.len() as i64;
    let rows: Vec<OrderItem> = (0..n * ROWS_PER_SHARD)
        .map(|order_id| OrderItem {
            order_id,
            product_id: 1,
            quantity: (order_id % 7) as i32,
        })
        .collect();
    handle(urls).insert_all(&rows).await.unwrap();
    direct
}

fn shard_count(c: &mut Criterion) {
    let rt = common::runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("shard_count");
    group.sample_size(20);
    for n in counts() {
        let urls = urls(dir.path(), n);
        let mut direct = rt.block_on(fill(&urls));
        let _guard = rt.enter();
        group.bench_with_input(BenchmarkId::new("build", n), &urls, |b, urls| {
            b.iter(|| black_box(handle(urls)))
        });
        let before = resident();
        let sharded = handle(&urls);
        // One scatter: every shard opens one connection.
        rt.block_on(sharded.scatter(order_items::table).count())
            .unwrap();
        let per_shard = resident().saturating_sub(before) / n as u64;
        println!("shard_count/{n}: {per_shard} bytes resident per shard with one open connection");
        let keys = n as i64 * ROWS_PER_SHARD;
        let mut i = 0i64;
        group.bench_with_input(BenchmarkId::new("lookup", n), &n, |b, _| {
            b.to_async(&rt).iter(|| {
                i = (i + 7_919) % keys;
                let sharded = &sharded;
                async move {
                    let found: Option<OrderItem> = sharded.find((i, 1)).await.unwrap();
                    black_box(found)
                }
            })
        });
        group.bench_with_input(BenchmarkId::new("scatter_count", n), &n, |b, _| {
            b.to_async(&rt).iter(|| async {
                black_box(sharded.scatter(order_items::table).count().await.unwrap())
            })
        });
        group.bench_with_input(BenchmarkId::new("direct_counts_in_turn", n), &n, |b, _| {
            b.iter(|| {
                rt.block_on(async {
                    let mut total = 0i64;
                    for conn in direct.iter_mut() {
                        total += order_items::table
                            .count()
                            .get_result::<i64>(conn)
                            .await
                            .unwrap();
                    }
                    black_box(total)
                })
            })
        });
        group.bench_with_input(BenchmarkId::new("scatter_order_limit_10", n), &n, |b, _| {
            b.to_async(&rt).iter(|| async {
                let rows: Vec<(i64, i64, i32)> = sharded
                    .scatter(order_items::table)
                    .select((
                        order_items::order_id,
                        order_items::product_id,
                        order_items::quantity,
                    ))
                    .order_by((asc(order_items::order_id), asc(order_items::product_id)))
                    .limit(10)
                    .load()
                    .await
                    .unwrap();
                black_box(rows)
            })
        });
        group.bench_with_input(
            BenchmarkId::new("direct_order_limit_10_in_turn", n),
            &n,
            |b, _| {
                b.iter(|| {
                    rt.block_on(async {
                        let mut all = Vec::new();
                        for conn in direct.iter_mut() {
                            let rows: Vec<(i64, i64, i32)> = order_items::table
                                .select((
                                    order_items::order_id,
                                    order_items::product_id,
                                    order_items::quantity,
                                ))
                                .order((order_items::order_id, order_items::product_id))
                                .limit(10)
                                .load(conn)
                                .await
                                .unwrap();
                            all.extend(rows);
                        }
                        all.sort_by_key(|r| (r.0, r.1));
                        all.truncate(10);
                        black_box(all)
                    })
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, shard_count);
criterion_main!(benches);
