//! Scatter ORDER BY + LIMIT 10 over 4 PostgreSQL shards: grant's parallel scatter (k-way
//! merge), the same shards asked one after the other, and one database holding every row;
//! once ordered by a non-indexed column (each shard scans and sorts), once by the primary key
//! (each shard reads 10 index entries). Then GROUP BY + HAVING and COUNT(DISTINCT) against
//! one database.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::schema::models::OrderItem;
use common::schema::order_items;
use criterion::{Criterion, criterion_group, criterion_main};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use grant::scatter::{asc, desc};

/// The top 10 of one database.
async fn top10(pool: &common::DirectPool) -> Vec<OrderItem> {
    let mut conn = pool.get().await.unwrap();
    order_items::table
        .select(OrderItem::as_select())
        .order_by((
            order_items::quantity.desc(),
            order_items::order_id.asc(),
            order_items::product_id.asc(),
        ))
        .limit(10)
        .load(&mut *conn)
        .await
        .unwrap()
}

/// The 10 rows with the highest primary key of one database (an index scan).
async fn last10(pool: &common::DirectPool) -> Vec<OrderItem> {
    let mut conn = pool.get().await.unwrap();
    order_items::table
        .select(OrderItem::as_select())
        .order_by((order_items::order_id.desc(), order_items::product_id.desc()))
        .limit(10)
        .load(&mut *conn)
        .await
        .unwrap()
}

fn scatter(c: &mut Criterion) {
    let rt = common::runtime();
    let data = rt.block_on(common::data("scatter", true));
    let mut group = c.benchmark_group("scatter_order_by_limit_10");
    group.bench_function("grant_parallel_4_shards", |b| {
        b.to_async(&rt).iter(|| async {
            let rows: Vec<OrderItem> = data
                .sharded
                .scatter(order_items::table)
                .select(OrderItem::as_select())
                .order_by((
                    desc(order_items::quantity),
                    asc(order_items::order_id),
                    asc(order_items::product_id),
                ))
                .limit(10)
                .load()
                .await
                .unwrap();
            assert_eq!(rows.len(), 10);
        })
    });
    group.bench_function("sequential_4_shards", |b| {
        b.to_async(&rt).iter(|| async {
            let mut rows = Vec::new();
            for pool in &data.shard_pools {
                rows.extend(top10(pool).await);
            }
            rows.sort_by(|a, b| {
                b.quantity
                    .cmp(&a.quantity)
                    .then(a.order_id.cmp(&b.order_id))
                    .then(a.product_id.cmp(&b.product_id))
            });
            rows.truncate(10);
            assert_eq!(rows.len(), 10);
        })
    });
    // The same four statements at once without grant: what concurrency alone costs or
    // saves on this machine.
    group.bench_function("concurrent_4_shards_without_grant", |b| {
        b.to_async(&rt).iter(|| async {
            let tops = futures_util::future::join_all(data.shard_pools.iter().map(top10)).await;
            assert_eq!(tops.len(), 4);
        })
    });
    group.bench_function("one_database", |b| {
        b.to_async(&rt).iter(|| async {
            assert_eq!(top10(&data.single).await.len(), 10);
        })
    });
    group.finish();

    // Ordered by the primary key: each shard reads 10 rows from its index, so the work is
    // round trips and client overhead rather than scans.
    let mut group = c.benchmark_group("scatter_by_primary_key_limit_10");
    group.bench_function("grant_parallel_4_shards", |b| {
        b.to_async(&rt).iter(|| async {
            let rows: Vec<OrderItem> = data
                .sharded
                .scatter(order_items::table)
                .select(OrderItem::as_select())
                .order_by((desc(order_items::order_id), desc(order_items::product_id)))
                .limit(10)
                .load()
                .await
                .unwrap();
            assert_eq!(rows.len(), 10);
        })
    });
    group.bench_function("sequential_4_shards", |b| {
        b.to_async(&rt).iter(|| async {
            let mut rows = Vec::new();
            for pool in &data.shard_pools {
                rows.extend(last10(pool).await);
            }
            rows.sort_by_key(|r| std::cmp::Reverse((r.order_id, r.product_id)));
            rows.truncate(10);
            assert_eq!(rows.len(), 10);
        })
    });
    group.bench_function("concurrent_4_shards_without_grant", |b| {
        b.to_async(&rt).iter(|| async {
            let tops = futures_util::future::join_all(data.shard_pools.iter().map(last10)).await;
            assert_eq!(tops.len(), 4);
        })
    });
    group.bench_function("one_database", |b| {
        b.to_async(&rt).iter(|| async {
            assert_eq!(last10(&data.single).await.len(), 10);
        })
    });
    group.finish();
}

/// HAVING and COUNT(DISTINCT) over 4 shards against one database holding every row: grant
/// merges the groups (or the distinct values) of every shard, then tests the condition (or
/// counts) once.
fn having_and_distinct(c: &mut Criterion) {
    use grant::scatter::agg;
    let rt = common::runtime();
    let data = rt.block_on(common::data("scatter_having", true));
    let mut group = c.benchmark_group("scatter_group_by_having");
    group.bench_function("grant_parallel_4_shards", |b| {
        b.to_async(&rt).iter(|| async {
            let groups = data
                .sharded
                .scatter(order_items::table)
                .group_by(order_items::product_id)
                .aggregate(agg::sum(order_items::quantity))
                .having(|(_, sum)| sum.unwrap_or(0) > 0)
                .load()
                .await
                .unwrap();
            assert_eq!(groups.len(), 10);
        })
    });
    group.bench_function("one_database", |b| {
        b.to_async(&rt).iter(|| async {
            let mut conn = data.single.get().await.unwrap();
            let groups: Vec<(i64, Option<i64>)> = order_items::table
                .group_by(order_items::product_id)
                .having(diesel::dsl::sum(order_items::quantity).gt(0))
                .select((
                    order_items::product_id,
                    diesel::dsl::sum(order_items::quantity),
                ))
                .load(&mut *conn)
                .await
                .unwrap();
            assert_eq!(groups.len(), 10);
        })
    });
    group.finish();

    let mut group = c.benchmark_group("scatter_count_distinct");
    group.bench_function("grant_parallel_4_shards", |b| {
        b.to_async(&rt).iter(|| async {
            let n = data
                .sharded
                .scatter(order_items::table)
                .count_distinct(order_items::product_id)
                .await
                .unwrap();
            assert_eq!(n, 10);
        })
    });
    group.bench_function("one_database", |b| {
        b.to_async(&rt).iter(|| async {
            let mut conn = data.single.get().await.unwrap();
            let n: i64 = order_items::table
                .select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                    "COUNT(DISTINCT product_id)",
                ))
                .get_result(&mut *conn)
                .await
                .unwrap();
            assert_eq!(n, 10);
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(4));
    targets = scatter, having_and_distinct
}
criterion_main!(benches);
