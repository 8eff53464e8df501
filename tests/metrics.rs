//! The `metrics` feature: a known workload on two SQLite shards, read back through
//! `metrics-util`'s debugging recorder: names, labels and counts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../schema/mod.rs"]
mod schema;

use grant::shard::Modulo;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use schema::models::OrderItem;
use std::collections::HashMap;

#[tokio::test(flavor = "multi_thread")]
async fn a_known_workload_gives_known_counts() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let urls: Vec<String> = (0..2)
        .map(|i| dir.path().join(format!("s{i}.db")).display().to_string())
        .collect();
    for url in &urls {
        let mut conn = grant::sqlite::establish(url).await.unwrap();
        diesel_async::SimpleAsyncConnection::batch_execute(
            &mut conn,
            include_str!("../migrations/sqlite/2026-11-27-100000_create_keyed_tables/up.sql"),
        )
        .await
        .unwrap();
    }
    let shards = grant::Sharded::<grant::sqlite::AsyncSqliteConnection>::builder()
        .shard("s0", &urls[0])
        .shard("s1", &urls[1])
        .strategy(Modulo::new(2).unwrap())
        .build()
        .unwrap();
    // 10 inserts (5 per shard), 20 finds, 1 duplicate insert (an error from the server).
    for order_id in 0..10 {
        shards
            .insert(&OrderItem {
                order_id,
                product_id: 1,
                quantity: 1,
            })
            .await
            .unwrap();
    }
    for order_id in 0..20 {
        shards
            .find::<OrderItem, _>((order_id % 10, 1))
            .await
            .unwrap();
    }
    let duplicate = OrderItem {
        order_id: 0,
        product_id: 1,
        quantity: 1,
    };
    assert!(shards.insert(&duplicate).await.is_err());
    shards.publish_metrics();

    // A live topology over the same files (shards named l0, l1), and concurrent finds
    // through it (coalesced when they meet).
    let control = grant::live::Control::<grant::sqlite::AsyncSqliteConnection>::new(
        &dir.path().join("control.db").display().to_string(),
        "m",
    )
    .unwrap();
    let live_topology = format!(
        "[[shards]]\nname = 'l0'\nurl = '{}'\n[[shards]]\nname = 'l1'\nurl = '{}'\n\
         [strategy]\nkind = 'modulo'\n",
        urls[0], urls[1]
    );
    control.publish(&live_topology, 0).await.unwrap();
    let live = control
        .connect(grant::live::WatchOptions::default())
        .await
        .unwrap();
    let finds: Vec<_> = (0..32i64)
        .map(|i| {
            let live = live.clone();
            tokio::spawn(async move { live.find::<OrderItem, _>((i % 10, 1)).await.unwrap() })
        })
        .collect();
    for find in finds {
        assert!(find.await.unwrap().is_some());
    }
    let coalesced = live.coalesce_stats();

    // (name, labels sorted) -> value
    let mut counters: HashMap<(String, Vec<(String, String)>), u64> = HashMap::new();
    let mut histograms: HashMap<(String, Vec<(String, String)>), usize> = HashMap::new();
    let mut gauges: HashMap<(String, Vec<(String, String)>), f64> = HashMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let mut labels: Vec<(String, String)> = key
            .key()
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        labels.sort();
        let name = key.key().name().to_owned();
        match value {
            DebugValue::Counter(n) => {
                counters.insert((name, labels), n);
            }
            DebugValue::Histogram(v) => {
                histograms.insert((name, labels), v.len());
            }
            DebugValue::Gauge(g) => {
                gauges.insert((name, labels), g.into_inner());
            }
        }
    }
    let labels = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        v.sort();
        v
    };
    let statements = |shard: &str, kind: &str, outcome: &str| {
        counters
            .get(&(
                "grant_statements_total".to_owned(),
                labels(&[
                    ("shard", shard),
                    ("node", "primary"),
                    ("role", "primary"),
                    ("kind", kind),
                    ("outcome", outcome),
                ]),
            ))
            .copied()
            .unwrap_or(0)
    };
    // A single-server shard is never probed: its role is the configured one.
    assert_eq!(statements("s0", "write", "ok"), 5, "{counters:#?}");
    assert_eq!(statements("s1", "write", "ok"), 5);
    assert_eq!(statements("s0", "read", "ok"), 10);
    assert_eq!(statements("s1", "read", "ok"), 10);
    assert_eq!(statements("s0", "write", "error"), 1);
    assert_eq!(statements("s1", "write", "error"), 0);
    let durations = |shard: &str, kind: &str| {
        histograms[&(
            "grant_statement_duration_seconds".to_owned(),
            labels(&[("shard", shard), ("node", "primary"), ("kind", kind)]),
        )]
    };
    assert_eq!(durations("s0", "write"), 6);
    assert_eq!(durations("s0", "read"), 10);
    let waits = histograms[&(
        "grant_pool_wait_seconds".to_owned(),
        labels(&[("shard", "s0"), ("node", "primary")]),
    )];
    assert_eq!(waits, 16, "one checkout per statement on s0");
    let node = labels(&[("shard", "s1"), ("node", "primary")]);
    assert_eq!(
        gauges[&("grant_breaker_state".to_owned(), node.clone())],
        0.0
    );
    assert!(gauges[&("grant_pool_connections".to_owned(), node.clone())] >= 1.0);
    assert!(gauges.contains_key(&("grant_pool_idle_connections".to_owned(), node)));

    let topology = labels(&[("topology", "m")]);
    assert_eq!(
        gauges[&("grant_topology_version".to_owned(), topology.clone())],
        1.0
    );
    assert_eq!(
        gauges[&("grant_topology_control_reachable".to_owned(), topology)],
        1.0
    );
    // One sample per coalesced statement (none when no two finds met).
    let batches = histograms
        .get(&("grant_coalesced_batch_keys".to_owned(), Vec::new()))
        .copied()
        .unwrap_or(0);
    assert_eq!(batches as u64, coalesced.statements, "{coalesced:?}");
}
