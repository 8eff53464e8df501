//! Ids per second from one generator: `try_next_id` on a generator with a fixed worker
//! number and on one that leased its number (SQLite file; each id also checks the lease),
//! one thread, and 4 threads sharing one leased generator. Criterion reports time per id;
//! ids per second is its inverse (BENCHMARKS.md).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use grant::id::{IdError, IdGenerator, IdLayout, LeaseOptions};
use std::hint::black_box;
use std::sync::Arc;

/// The next id; when the layout's 4,096 ids of a millisecond and the second the generator
/// may run ahead are used up, spins until the clock moves (so the figure is the sustained
/// rate, which the layout caps at 4,096,000 ids per second).
#[inline]
fn next(generator: &IdGenerator, shard: u32) -> i64 {
    loop {
        match generator.try_next_id(shard) {
            Ok(id) => return id,
            Err(IdError::ClockBehind { .. }) => std::hint::spin_loop(),
            Err(e) => panic!("{e}"),
        }
    }
}

fn leased(runtime: &tokio::runtime::Runtime, dir: &std::path::Path) -> IdGenerator {
    let url = dir.join("control.db").display().to_string();
    runtime.block_on(async {
        let sharded = grant::Sharded::<grant::sqlite::AsyncSqliteConnection>::builder()
            .shard("control", &url)
            .build()
            .unwrap();
        IdGenerator::lease(
            &sharded,
            "control",
            IdLayout::default(),
            LeaseOptions::default(),
        )
        .await
        .unwrap()
    })
}

fn ids(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("ids");
    group.throughput(Throughput::Elements(1));
    let fixed = IdGenerator::fixed(IdLayout::default(), 1).unwrap();
    let mut shard = 0u32;
    group.bench_function("fixed worker", |b| {
        b.iter(|| {
            shard = (shard + 1) & 63;
            black_box(next(&fixed, shard))
        })
    });
    // The generator's own cost, with a layout whose sequence never runs out (17 bits: 131
    // million ids per millisecond, no worker bits).
    let wide = IdGenerator::fixed(IdLayout::new(40, 17, 0, 6).unwrap(), 0).unwrap();
    group.bench_function("cost per id (17 sequence bits)", |b| {
        b.iter(|| {
            shard = (shard + 1) & 63;
            black_box(next(&wide, shard))
        })
    });
    let _guard = runtime.enter();
    let generator = Arc::new(leased(&runtime, dir.path()));
    group.bench_function("leased worker", |b| {
        b.iter(|| {
            shard = (shard + 1) & 63;
            black_box(next(&generator, shard))
        })
    });
    // 4 threads issuing from one generator: time per 4,000 ids.
    group.throughput(Throughput::Elements(4_000));
    group.bench_function("leased worker, 4 threads x 1000", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                for t in 0..4u32 {
                    let generator = &generator;
                    s.spawn(move || {
                        for _ in 0..1_000 {
                            black_box(next(generator, t));
                        }
                    });
                }
            })
        })
    });
    group.finish();
}

criterion_group!(benches, ids);
criterion_main!(benches);
