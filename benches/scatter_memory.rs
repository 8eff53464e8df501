//! Peak memory of a scatter over every row of 4 PostgreSQL shards (1,000,000 rows under
//! `cargo bench`, 10,000 in CI's short mode): streamed in keyset batches of 1,000 rows per
//! shard, against loaded into one `Vec`.
//!
//! Peak resident memory only grows, so each way runs in a child process of its own (this
//! binary, re-run with `GRANT_MEMORY_MODE`), which prints its `VmHWM` (Linux) before and
//! after the query.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::schema::models::OrderItem;
use common::schema::order_items;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures_util::TryStreamExt;
use grant::scatter::asc;
use std::process::Command;
use std::time::Instant;

const BATCH: usize = 1_000;

fn main() {
    if let Ok(mode) = std::env::var("GRANT_MEMORY_MODE") {
        common::runtime().block_on(child(&mode));
        return;
    }
    let rows: i64 = if common::measuring() {
        1_000_000
    } else {
        10_000
    };
    common::runtime().block_on(fill(rows));
    println!("scatter over {rows} rows in 4 shards, ordered by (order_id, product_id):");
    for mode in ["stream", "collect"] {
        let out = Command::new(std::env::current_exe().unwrap())
            .env("GRANT_MEMORY_MODE", mode)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
}

/// Creates the shard databases and loads `rows` rows, `order_id % 4` deciding the shard.
async fn fill(rows: i64) {
    let data = common::data("memory", false).await;
    drop(data);
    for shard in 0..common::SHARDS {
        let url = format!("{}/grant_bench_memory_s{shard}", common::server());
        let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
        conn.batch_execute(&format!(
            "INSERT INTO order_items (order_id, product_id, quantity)
             SELECT i / 10, i % 10, (i % 1000)::int FROM generate_series(0, {}) AS i
             WHERE (i / 10) % {} = {shard}",
            rows - 1,
            common::SHARDS
        ))
        .await
        .unwrap();
        // Its own call: VACUUM refuses to run in a transaction block.
        conn.batch_execute("VACUUM ANALYZE order_items")
            .await
            .unwrap();
    }
}

/// Peak resident set size of this process, in KiB.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

async fn child(mode: &str) {
    let sharded = (0..common::SHARDS)
        .fold(grant::Sharded::<AsyncPgConnection>::builder(), |b, i| {
            b.shard(
                format!("s{i}"),
                format!("{}/grant_bench_memory_s{i}", common::server()),
            )
        })
        .strategy(grant::shard::JumpHash::new(common::SHARDS as u32).unwrap())
        .build()
        .unwrap();
    let ordered = || {
        sharded
            .scatter(order_items::table)
            .select(OrderItem::as_select())
            .order_by((asc(order_items::order_id), asc(order_items::product_id)))
    };
    // Warm the pools so that the baseline includes the connections.
    let first: Vec<OrderItem> = ordered().limit(1).load().await.unwrap();
    assert_eq!(first.len(), 1);
    let before = peak_kib();
    let started = Instant::now();
    let (rows, checksum) = match mode {
        "stream" => ordered()
            .stream::<OrderItem>(BATCH)
            .into_stream()
            .try_fold((0u64, 0i64), |(n, sum), item| async move {
                Ok((n + 1, sum.wrapping_add(item.order_id)))
            })
            .await
            .unwrap(),
        _ => {
            let all: Vec<OrderItem> = ordered().load().await.unwrap();
            let sum = all.iter().fold(0i64, |s, i| s.wrapping_add(i.order_id));
            (all.len() as u64, sum)
        }
    };
    let elapsed = started.elapsed();
    let after = peak_kib();
    println!(
        "  {mode:<8} {rows} rows (checksum {checksum}) in {:.2} s: peak RSS {:.1} MiB \
         (before the query {:.1} MiB, growth {:.1} MiB)",
        elapsed.as_secs_f64(),
        after as f64 / 1024.0,
        before as f64 / 1024.0,
        after.saturating_sub(before) as f64 / 1024.0,
    );
}
