//! Point lookups by full composite key through `Sharded` (4 shards on one PostgreSQL) vs the
//! same lookup on a direct diesel-async bb8 pool of the database that holds the key, at 1, 4
//! and 16 concurrent tasks;
//! the idle-connection check on vs off (`idle_check`); `find_many` of 1,000 keys vs 1,000 finds; a routed batch insert of 10,000 rows vs one
//! diesel batch insert into one database.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::schema::models::OrderItem;
use common::schema::order_items;
use common::{alternating, key};
use criterion::{Criterion, criterion_group, criterion_main};
use diesel::prelude::*;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use grant::prelude::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn lookups(c: &mut Criterion) {
    let rt = common::runtime();
    let data = Arc::new(rt.block_on(common::data("lookups", true)));
    let rows = data.rows;
    let owner = common::owners(&data);
    let mut group = c.benchmark_group("point_lookup");
    for tasks in [1u64, 4, 16] {
        let d = data.clone();
        let through_grant = Arc::new(move |i: u64| {
            let d = d.clone();
            async move {
                let item: OrderItem = d
                    .sharded
                    .run(
                        order_items::table
                            .find_key(key(i, rows))
                            .select(OrderItem::as_select()),
                    )
                    .get_result()
                    .await
                    .unwrap();
                std::hint::black_box(item);
            }
        });
        let (d, owner) = (data.clone(), owner.clone());
        let direct = Arc::new(move |i: u64| {
            let (d, owner) = (d.clone(), owner.clone());
            async move {
                let shard = owner[key(i, rows).0 as usize];
                let mut conn = d.shard_pools[shard].get().await.unwrap();
                let item: OrderItem = order_items::table
                    .find(key(i, rows))
                    .select(OrderItem::as_select())
                    .get_result(&mut *conn)
                    .await
                    .unwrap();
                std::hint::black_box(item);
            }
        });
        group.bench_function(format!("grant_sharded/{tasks}_tasks"), |b| {
            b.to_async(&rt).iter_custom(|iters| {
                alternating(iters, tasks, through_grant.clone(), direct.clone())
            })
        });
        group.bench_function(format!("diesel_async_direct/{tasks}_tasks"), |b| {
            b.to_async(&rt).iter_custom(|iters| {
                alternating(iters, tasks, direct.clone(), through_grant.clone())
            })
        });
    }
    group.finish();

    // The idle-connection check (on by default) against the same handle without it: what
    // the check costs a busy node (a clock read and two atomics per checkout).
    let mut group = c.benchmark_group("idle_check");
    let find = |unchecked: bool| {
        let d = data.clone();
        Arc::new(move |i: u64| {
            let d = d.clone();
            async move {
                let sharded = if unchecked { &d.unchecked } else { &d.sharded };
                let item: Option<OrderItem> = sharded.find(key(i, rows)).await.unwrap();
                std::hint::black_box(item);
            }
        })
    };
    let (checked, unchecked) = (find(false), find(true));
    group.bench_function("check_idle_after_5s/1_task", |b| {
        b.to_async(&rt)
            .iter_custom(|iters| alternating(iters, 1, checked.clone(), unchecked.clone()))
    });
    group.bench_function("no_idle_check/1_task", |b| {
        b.to_async(&rt)
            .iter_custom(|iters| alternating(iters, 1, unchecked.clone(), checked.clone()))
    });
    group.finish();

    let mut group = c.benchmark_group("find_1000_keys");
    group.sample_size(10);
    let keys: Vec<(i64, i64)> = (0..1000).map(|i| key(i, rows)).collect();
    let distinct = keys.iter().collect::<std::collections::HashSet<_>>().len();
    group.bench_function("find_many", |b| {
        b.to_async(&rt).iter(|| async {
            let found: Vec<OrderItem> = data.sharded.find_many(keys.iter().copied()).await.unwrap();
            assert_eq!(found.len(), distinct);
        })
    });
    group.bench_function("1000_finds", |b| {
        b.to_async(&rt).iter(|| async {
            for k in &keys {
                let found: Option<OrderItem> = data.sharded.find(*k).await.unwrap();
                std::hint::black_box(found);
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("batch_insert_10000");
    group.sample_size(10);
    let batch: Vec<OrderItem> = common::items(10_000)
        .into_iter()
        .map(|i| OrderItem {
            order_id: i.order_id + 10_000_000,
            ..i
        })
        .collect();
    let clear = |data: Arc<common::Data>| async move {
        for pool in data.shard_pools.iter().chain([&data.single]) {
            let mut conn = pool.get().await.unwrap();
            conn.batch_execute("DELETE FROM order_items WHERE order_id >= 10000000")
                .await
                .unwrap();
        }
    };
    group.bench_function("grant_insert_all_4_shards", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (data, batch) = (data.clone(), batch.clone());
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    clear(data.clone()).await;
                    let started = Instant::now();
                    data.sharded.insert_all(&batch).await.unwrap();
                    total += started.elapsed();
                }
                total
            }
        })
    });
    group.bench_function("diesel_batch_insert_one_database", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (data, batch) = (data.clone(), batch.clone());
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    clear(data.clone()).await;
                    let started = Instant::now();
                    let mut conn = data.single.get().await.unwrap();
                    // One statement per 20,000 binds' worth, as PostgreSQL allows 65,535.
                    for chunk in batch.chunks(20_000) {
                        diesel::insert_into(order_items::table)
                            .values(chunk)
                            .execute(&mut *conn)
                            .await
                            .unwrap();
                    }
                    total += started.elapsed();
                }
                total
            }
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = lookups
}
criterion_main!(benches);
