//! Coalesced point lookups on real shards (PostgreSQL, MariaDB, SQLite): many tasks finding
//! random present and missing keys at once get exactly the rows a plain find returns (their
//! own `None` for their own missing key), in fewer statements than lookups; callers that
//! give up leave the others' answers intact; an error of a coalesced statement reaches every
//! caller in it; opting out per call and per table sends every find alone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
#[path = "../schema/mod.rs"]
mod schema;

use grant::shard::{CoalesceConfig, HashStrategy};
use schema::models::OrderItem;
use std::collections::HashMap;
use std::time::Duration;

/// 400 rows over 100 orders: keys (order, product) with product < 4.
fn rows() -> Vec<OrderItem> {
    (0..100i64)
        .flat_map(|o| {
            (0..4i64).map(move |p| OrderItem {
                order_id: o,
                product_id: p,
                quantity: (o * 10 + p) as i32,
            })
        })
        .collect()
}

/// The `i`-th key of task `t`: two in three exist (product 0..4 of 6).
fn key(t: u64, i: u64) -> (i64, i64) {
    let x = (t * 7_919 + i * 104_729) % 600;
    ((x / 6) as i64, (x % 6) as i64)
}

/// A handle over the shards (hash strategy, coalescing on) holding [`rows`], and the rows
/// by key.
macro_rules! filled {
    ($conn:ty, $shards:expr) => {{
        let n = $shards.dbs.len() as u32;
        let sharded = $shards
            .builder::<$conn>()
            .strategy(HashStrategy::new(n).unwrap())
            .build()
            .unwrap();
        sharded.insert_all(&rows()).await.unwrap();
        let expected: HashMap<(i64, i64), OrderItem> = rows()
            .into_iter()
            .map(|r| ((r.order_id, r.product_id), r))
            .collect();
        (sharded, expected)
    }};
}

on_every_sharded_backend! {
    /// 64 tasks x 40 finds of random present and missing keys: each gets what a plain find
    /// gets, and the lookups went out in fewer statements than there were lookups.
    async fn concurrent_finds_get_their_own_rows(shards) {
        let (sharded, expected) = filled!(Conn, shards);
        let tasks: Vec<_> = (0..64u64)
            .map(|t| {
                let sharded = sharded.clone();
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    for i in 0..40 {
                        let k = key(t, i);
                        got.push((k, sharded.find::<OrderItem, _>(k).await.unwrap()));
                    }
                    got
                })
            })
            .collect();
        let mut lookups = 0;
        for task in tasks {
            for (k, row) in task.await.unwrap() {
                assert_eq!(row.as_ref(), expected.get(&k), "key {k:?}");
                lookups += 1;
            }
        }
        // The same keys one at a time, not coalesced: the same answers.
        let alone = sharded.uncoalesced();
        let before = sharded.coalesce_stats();
        for i in 0..40 {
            let k = key(3, i);
            assert_eq!(alone.find::<OrderItem, _>(k).await.unwrap().as_ref(), expected.get(&k));
        }
        assert_eq!(sharded.coalesce_stats(), before, "uncoalesced finds were coalesced");
        let stats = sharded.coalesce_stats();
        assert!(stats.keys > 0, "64 concurrent tasks never coalesced: {stats:?}");
        assert!(
            stats.statements < stats.keys,
            "coalesced statements carried one key each: {stats:?}"
        );
        assert!(stats.keys <= lookups);
        // find_or_error: each caller's own NotFound names its key.
        let missing = sharded.find_or_error::<OrderItem, _>((5, 5)).await.unwrap_err();
        assert!(missing.is_not_found() && missing.to_string().contains('5'), "{missing}");
    }
}

on_every_sharded_backend! {
    /// Callers that give up (timed out after a few microseconds to a few milliseconds, their
    /// futures dropped at every point) do not disturb the others, and nothing hangs.
    async fn callers_that_give_up_leave_the_others_intact(shards) {
        let (sharded, expected) = filled!(Conn, shards);
        let tasks: Vec<_> = (0..48u64)
            .map(|t| {
                let sharded = sharded.clone();
                let expected = expected.clone();
                tokio::spawn(async move {
                    for i in 0..30 {
                        let k = key(t, i);
                        let find = sharded.find::<OrderItem, _>(k);
                        if t % 3 == 0 {
                            // Gives up after 0-2 ms.
                            let after = Duration::from_micros((t * 37 + i * 101) % 2_000);
                            let _ = tokio::time::timeout(after, find).await;
                        } else {
                            assert_eq!(find.await.unwrap().as_ref(), expected.get(&k), "key {k:?}");
                        }
                    }
                })
            })
            .collect();
        let all = async {
            for task in tasks {
                task.await.unwrap();
            }
        };
        tokio::time::timeout(Duration::from_secs(60), all).await.expect("lookups hung");
        // Every slot was given back: a find after the storm answers.
        let k = key(1, 1);
        assert_eq!(sharded.find::<OrderItem, _>(k).await.unwrap().as_ref(), expected.get(&k));
    }
}

on_every_sharded_backend! {
    /// A coalesced statement that fails (its shard's table is gone) fails for every caller in
    /// it, each with the shard's error; no caller hangs or gets `None`.
    async fn a_failed_batch_fails_every_caller(shards) {
        let n = shards.dbs.len() as u32;
        let sharded = shards.builder::<Conn>().strategy(HashStrategy::new(n).unwrap()).build().unwrap();
        sharded.insert_all(&rows()).await.unwrap();
        let mut direct: Conn = shards.direct(0).await;
        diesel_async::SimpleAsyncConnection::batch_execute(&mut direct, "ALTER TABLE order_items RENAME TO order_items_gone").await.unwrap();
        let on_s0: Vec<(i64, i64)> = rows()
            .iter()
            .map(|r| (r.order_id, r.product_id))
            .filter(|k| sharded.shard_for(&schema::order_items::ShardKey { order_id: k.0 }).unwrap().0 == 0)
            .take(40)
            .collect();
        assert!(!on_s0.is_empty());
        let tasks: Vec<_> = on_s0
            .iter()
            .map(|&k| {
                let sharded = sharded.clone();
                tokio::spawn(async move { sharded.find::<OrderItem, _>(k).await })
            })
            .collect();
        for task in tasks {
            let error = task.await.unwrap().unwrap_err();
            assert!(error.to_string().contains("s0"), "{error}");
        }
    }
}

on_every_sharded_backend! {
    /// A table opted out in the configuration, and a handle with coalescing off: every find
    /// goes alone.
    async fn opting_out_sends_every_find_alone(shards) {
        let n = shards.dbs.len() as u32;
        for config in [CoalesceConfig::default().off_for("order_items"), CoalesceConfig::off()] {
            let sharded = shards
                .builder::<Conn>()
                .strategy(HashStrategy::new(n).unwrap())
                .coalesce(config)
                .build()
                .unwrap();
            if sharded.find::<OrderItem, _>((0, 0)).await.unwrap().is_none() {
                sharded.insert_all(&rows()).await.unwrap();
            }
            let tasks: Vec<_> = (0..32u64)
                .map(|t| {
                    let sharded = sharded.clone();
                    tokio::spawn(async move {
                        for i in 0..10 {
                            sharded.find::<OrderItem, _>(key(t, i)).await.unwrap();
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(sharded.coalesce_stats().statements, 0);
        }
    }
}
