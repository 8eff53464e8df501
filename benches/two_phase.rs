//! A transfer between two accounts on two shards through two-phase commit
//! (`transaction_across`) against the same two updates in a one-shard transaction
//! (`Sharded::transaction`), on the 4 PostgreSQL shards of `benches/common`, at 1 and 16
//! concurrent tasks (each task moves money between its own accounts: no lock waits).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::schema::models::OrderItem;
use common::schema::order_items;
use criterion::{Criterion, criterion_group, criterion_main};
use diesel::prelude::*;
use grant::prelude::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Shards = grant::Sharded<diesel_async::AsyncPgConnection>;

/// Per task: (a, b) on two shards and (a, c) on a's shard.
fn pairs(sharded: &Shards, tasks: usize) -> Vec<(i64, i64, i64)> {
    let shard = |o: i64| {
        sharded
            .shard_for(&order_items::ShardKey { order_id: o })
            .unwrap()
    };
    let mut out = Vec::new();
    let mut next = 1_000_000i64;
    while out.len() < tasks {
        let a = next;
        let b = (a + 1..).find(|o| shard(*o) != shard(a)).unwrap();
        let c = (b + 1..).find(|o| shard(*o) == shard(a)).unwrap();
        out.push((a, b, c));
        next = c + 1;
    }
    out
}

async fn across(sharded: &Shards, from: i64, to: i64) {
    let mut tx = sharded.transaction_across().unwrap();
    for (account, delta) in [(from, -1), (to, 1)] {
        tx.run(
            order_items::table
                .update_key((account, 1))
                .set(order_items::quantity.eq(order_items::quantity + delta)),
        )
        .execute()
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn one_shard(sharded: &Shards, from: i64, to: i64) {
    sharded
        .transaction(&order_items::ShardKey { order_id: from }, async |mut tx| {
            for (account, delta) in [(from, -1), (to, 1)] {
                tx.run(
                    order_items::table
                        .update_key((account, 1))
                        .set(order_items::quantity.eq(order_items::quantity + delta)),
                )
                .execute()
                .await?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

/// `iters` transfers split over the tasks of `pairs`; the wall time per transfer batch.
async fn run(
    sharded: &Arc<Shards>,
    pairs: &[(i64, i64, i64)],
    iters: u64,
    two_phase: bool,
) -> Duration {
    let per_task = iters.div_ceil(pairs.len() as u64);
    let started = Instant::now();
    let tasks: Vec<_> = pairs
        .iter()
        .map(|&(a, b, c)| {
            let sharded = sharded.clone();
            tokio::spawn(async move {
                for _ in 0..per_task {
                    if two_phase {
                        across(&sharded, a, b).await;
                    } else {
                        one_shard(&sharded, a, c).await;
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    started
        .elapsed()
        .mul_f64(iters as f64 / (per_task * pairs.len() as u64) as f64)
}

fn transfers(c: &mut Criterion) {
    let rt = common::runtime();
    let data = rt.block_on(common::data("two_phase", false));
    let sharded = Arc::new(data.sharded);
    let all = pairs(&sharded, 16);
    rt.block_on(async {
        for &(a, b, c) in &all {
            for order_id in [a, b, c] {
                sharded
                    .insert(&OrderItem {
                        order_id,
                        product_id: 1,
                        quantity: 1_000_000,
                    })
                    .await
                    .unwrap();
            }
        }
    });
    let mut group = c.benchmark_group("transfer");
    for tasks in [1usize, 16] {
        let pairs = all[..tasks].to_vec();
        for (name, two_phase) in [("two_shards_2pc", true), ("one_shard_tx", false)] {
            let (sharded, pairs) = (sharded.clone(), pairs.clone());
            group.bench_function(format!("{name}/{tasks}_tasks"), |b| {
                b.to_async(&rt).iter_custom(|iters| {
                    let (sharded, pairs) = (sharded.clone(), pairs.clone());
                    async move { run(&sharded, &pairs, iters, two_phase).await }
                })
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(5));
    targets = transfers
}
criterion_main!(benches);
