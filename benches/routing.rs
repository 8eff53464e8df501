//! Key -> shard resolution: an integer key and a composite (i64, String) key through each
//! built-in strategy, and the whole routing of a table's shard key through `Sharded`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use grant::ShardId;
use grant::key::PartValue;
use grant::shard::{
    Buckets, HashStrategy, JumpHash, Lookup, Modulo, MultiColumn, RangeBound, RangeEntry,
    RangeStrategy, ShardStrategy, ShardValues, TimeRange,
};
use std::hint::black_box;

fn strategies() -> Vec<(&'static str, Box<dyn ShardStrategy>)> {
    let ranges = RangeStrategy::new(
        (0..4)
            .map(|i| {
                RangeEntry::new(
                    (i > 0).then(|| RangeBound::Int(i * 1_000_000)),
                    (i < 3).then(|| RangeBound::Int((i + 1) * 1_000_000)),
                    ShardId(i as u32),
                )
            })
            .collect(),
        None,
    )
    .unwrap();
    let months = TimeRange::by_month(
        vec![
            ((2026, 1), ShardId(0)),
            ((2026, 2), ShardId(1)),
            ((2026, 3), ShardId(2)),
        ],
        Some(ShardId(3)),
    )
    .unwrap();
    let lookup = Lookup::new(
        (0..64i64)
            .map(|i| (i.into(), ShardId((i % 4) as u32)))
            .collect(),
        Some(ShardId(0)),
    )
    .unwrap();
    let tenants = Lookup::new(vec![("big".into(), ShardId(0))], Some(ShardId(1))).unwrap();
    vec![
        ("modulo", Box::new(Modulo::new(4).unwrap())),
        ("hash", Box::new(HashStrategy::new(4).unwrap())),
        ("jump", Box::new(JumpHash::new(4).unwrap())),
        ("buckets", Box::new(Buckets::even(1024, 4).unwrap())),
        ("range", Box::new(ranges)),
        ("time_range", Box::new(months)),
        ("lookup", Box::new(lookup)),
        (
            "multi_column",
            Box::new(
                MultiColumn::new(
                    Box::new(tenants),
                    vec![vec![ShardId(0), ShardId(1)], vec![ShardId(2), ShardId(3)]],
                )
                .unwrap(),
            ),
        ),
    ]
}

fn routing(c: &mut Criterion) {
    let mut group = c.benchmark_group("key_to_shard");
    for (name, strategy) in strategies() {
        let int = 123_456_789i64;
        // A time range routes a date; the others an integer.
        let part = if name == "time_range" {
            PartValue::Date(20_500)
        } else {
            PartValue::Int(int)
        };
        if strategy.shard_for(&ShardValues::new([part])).is_ok() {
            group.bench_function(format!("{name}/int"), |b| {
                b.iter(|| strategy.shard_for(&ShardValues::new([black_box(part)])))
            });
        }
        let text = String::from("tenant-0042");
        fn composite(t: &str, int: i64) -> ShardValues<'_> {
            ShardValues::new([
                PartValue::Text(black_box(t)),
                PartValue::Int(black_box(int)),
            ])
        }
        if strategy.shard_for(&composite(&text, int)).is_ok() {
            group.bench_function(format!("{name}/composite_i64_string"), |b| {
                b.iter(|| strategy.shard_for(&composite(&text, int)))
            });
        }
    }
    group.finish();

    // The whole path a statement takes: table -> strategy -> shard.
    let rt = common::runtime();
    let sharded = rt.block_on(async {
        (0..4)
            .fold(
                grant::Sharded::<grant::sqlite::AsyncSqliteConnection>::builder(),
                |b, i| b.shard(format!("s{i}"), format!("/tmp/grant_bench_unused_{i}.db")),
            )
            .strategy(JumpHash::new(4).unwrap())
            .build()
            .unwrap()
    });
    c.bench_function("sharded_shard_for/order_items", |b| {
        b.iter(|| {
            sharded.shard_for(&common::schema::order_items::ShardKey {
                order_id: black_box(123_456_789),
            })
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(std::time::Duration::from_secs(2)).warm_up_time(std::time::Duration::from_millis(500));
    targets = routing
}
criterion_main!(benches);
