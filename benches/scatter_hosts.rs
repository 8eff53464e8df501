//! Scatter where the shards are separate hosts: each of the 4 PostgreSQL shards sits behind a
//! proxy that adds 1 ms to every request (a round trip between hosts of one data centre;
//! `tests/common/fault_proxy.rs`), and the query is served by the index with little work per
//! shard (`order_id BETWEEN .. ORDER BY the key LIMIT 10`), so the round trip dominates as
//! it does across hosts. The scatter against the same 4 statements one after the other and
//! against the 4 run concurrently by hand (each then merged and cut to 10 rows); and the
//! scan-and-sort case beside it (`ORDER BY quantity LIMIT 10`, no index), where the shards'
//! scans share this machine's 2 cores.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
#[path = "../tests/common/fault_proxy.rs"]
mod fault_proxy;

use common::schema::order_items;
use criterion::{Criterion, criterion_group, criterion_main};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use fault_proxy::{Fault, FaultProxy};
use grant::scatter::asc;
use grant::shard::JumpHash;
use std::hint::black_box;
use std::time::Duration;

type Row = (i64, i64, i32);

fn upstream() -> String {
    let server = common::server();
    let rest = server.split_once("://").unwrap().1;
    rest.rsplit_once('@')
        .map_or(rest, |(_, h)| h)
        .trim_end_matches('/')
        .to_owned()
}

fn merged(mut rows: Vec<Row>, key: fn(&Row) -> (i64, i64, i64)) -> Vec<Row> {
    rows.sort_by_key(key);
    rows.truncate(10);
    rows
}

fn by_key(r: &Row) -> (i64, i64, i64) {
    (r.0, r.1, 0)
}

fn by_quantity(r: &Row) -> (i64, i64, i64) {
    (i64::from(r.2), r.0, r.1)
}

fn scatter_hosts(c: &mut Criterion) {
    let rt = common::runtime();
    let data = rt.block_on(common::data("scatter_hosts", true));
    let (lo, hi) = (data.rows / 40, data.rows / 40 + 50);
    let proxies: Vec<FaultProxy> = rt.block_on(async {
        let mut proxies = Vec::new();
        for _ in 0..common::SHARDS {
            let proxy = FaultProxy::start(&upstream()).await;
            proxy.set(Fault::Delay(Duration::from_millis(1)));
            proxies.push(proxy);
        }
        proxies
    });
    let urls: Vec<String> = (0..common::SHARDS)
        .map(|i| {
            proxies[i].url_for(&format!(
                "{}/grant_bench_scatter_hosts_s{i}",
                common::server()
            ))
        })
        .collect();
    let _guard = rt.enter();
    let sharded = urls
        .iter()
        .enumerate()
        .fold(
            grant::Sharded::<diesel_async::AsyncPgConnection>::builder(),
            |b, (i, url)| b.shard(format!("s{i}"), url),
        )
        .pool(grant::PoolConfig::default().max_size(8))
        .strategy(JumpHash::new(common::SHARDS as u32).unwrap())
        .build()
        .unwrap();
    let pools: Vec<common::DirectPool> = rt.block_on(async {
        futures_util::future::join_all(urls.iter().map(|u| common::pool(u, 8))).await
    });
    let columns = (
        order_items::order_id,
        order_items::product_id,
        order_items::quantity,
    );
    let one = |pool: &common::DirectPool, by_index: bool| {
        let pool = pool.clone();
        async move {
            let mut conn = pool.get().await.unwrap();
            let rows: Vec<Row> = if by_index {
                order_items::table
                    .filter(order_items::order_id.between(lo, hi))
                    .select(columns)
                    .order((order_items::order_id, order_items::product_id))
                    .limit(10)
                    .load(&mut *conn)
                    .await
                    .unwrap()
            } else {
                order_items::table
                    .select(columns)
                    .order((
                        order_items::quantity,
                        order_items::order_id,
                        order_items::product_id,
                    ))
                    .limit(10)
                    .load(&mut *conn)
                    .await
                    .unwrap()
            };
            rows
        }
    };
    let scatter = |by_index: bool| {
        let sharded = &sharded;
        async move {
            let rows: Vec<Row> = if by_index {
                sharded
                    .scatter(order_items::table.filter(order_items::order_id.between(lo, hi)))
                    .select(columns)
                    .order_by((asc(order_items::order_id), asc(order_items::product_id)))
                    .limit(10)
                    .load()
                    .await
                    .unwrap()
            } else {
                sharded
                    .scatter(order_items::table)
                    .select(columns)
                    .order_by((
                        asc(order_items::quantity),
                        asc(order_items::order_id),
                        asc(order_items::product_id),
                    ))
                    .limit(10)
                    .load()
                    .await
                    .unwrap()
            };
            rows
        }
    };
    for (name, by_index) in [("index_limit_10", true), ("scan_sort_limit_10", false)] {
        let key = if by_index { by_key } else { by_quantity };
        // The scatter gives the rows the statements give by hand.
        let by_hand = rt.block_on(async {
            let parts =
                futures_util::future::join_all(pools.iter().map(|p| one(p, by_index))).await;
            merged(parts.into_iter().flatten().collect(), key)
        });
        assert_eq!(by_hand.len(), 10, "{name}: enough rows");
        assert_eq!(rt.block_on(scatter(by_index)), by_hand, "{name}");
        let mut group = c.benchmark_group(format!("scatter_hosts_1ms/{name}"));
        group.sample_size(20);
        group.bench_function("grant_scatter", |b| {
            b.to_async(&rt)
                .iter(|| async { black_box(scatter(by_index).await) })
        });
        group.bench_function("one_after_another", |b| {
            b.to_async(&rt).iter(|| async {
                let mut all = Vec::new();
                for pool in &pools {
                    all.extend(one(pool, by_index).await);
                }
                black_box(merged(all, key))
            })
        });
        group.bench_function("concurrent_by_hand", |b| {
            b.to_async(&rt).iter(|| async {
                let parts =
                    futures_util::future::join_all(pools.iter().map(|p| one(p, by_index))).await;
                black_box(merged(parts.into_iter().flatten().collect(), key))
            })
        });
        group.finish();
    }
}

criterion_group!(benches, scatter_hosts);
criterion_main!(benches);
