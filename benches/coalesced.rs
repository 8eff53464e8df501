//! Coalesced point lookups: `Sharded::find` (coalescing on, the default) vs the same lookup
//! on a direct diesel-async bb8 pool of the database that holds the key, at 1, 16 and 64
//! concurrent tasks, 4 shards on one PostgreSQL server, in alternating phases (see
//! `common::alternating`). Also `find` with coalescing off, and the batch sizes seen (printed).
//!
//! pgbench beside it: `scripts/pgbench_lookups.sh` (the same lookups, C and libpq).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::schema::models::OrderItem;
use common::schema::order_items;
use common::{alternating, key};
use criterion::{Criterion, criterion_group, criterion_main};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::sync::Arc;
use std::time::Duration;

fn coalesced(c: &mut Criterion) {
    let rt = common::runtime();
    let data = Arc::new(rt.block_on(common::data("coalesced", true)));
    let rows = data.rows;
    let owner = common::owners(&data);
    let find = |coalescing: bool| {
        let d = data.clone();
        Arc::new(move |i: u64| {
            let d = d.clone();
            async move {
                let sharded = if coalescing {
                    d.sharded.clone()
                } else {
                    d.sharded.uncoalesced()
                };
                let item: Option<OrderItem> = sharded.find(key(i, rows)).await.unwrap();
                assert!(item.is_some());
            }
        })
    };
    let (coalescing, alone) = (find(true), find(false));
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
    let mut group = c.benchmark_group("coalesced_lookup");
    for tasks in [1u64, 16, 64] {
        let before = data.sharded.coalesce_stats();
        group.bench_function(format!("grant_find_coalesced/{tasks}_tasks"), |b| {
            b.to_async(&rt)
                .iter_custom(|iters| alternating(iters, tasks, coalescing.clone(), direct.clone()))
        });
        let after = data.sharded.coalesce_stats();
        let (statements, keys) = (
            after.statements - before.statements,
            after.keys - before.keys,
        );
        println!(
            "coalesced_lookup/{tasks}_tasks: {statements} coalesced statements carried {keys} \
             keys ({:.1} per statement)",
            if statements == 0 {
                0.0
            } else {
                keys as f64 / statements as f64
            }
        );
        group.bench_function(format!("grant_find_alone/{tasks}_tasks"), |b| {
            b.to_async(&rt)
                .iter_custom(|iters| alternating(iters, tasks, alone.clone(), direct.clone()))
        });
        group.bench_function(format!("diesel_async_direct/{tasks}_tasks"), |b| {
            b.to_async(&rt)
                .iter_custom(|iters| alternating(iters, tasks, direct.clone(), coalescing.clone()))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = coalesced
}
criterion_main!(benches);
