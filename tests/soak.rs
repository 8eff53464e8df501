//! Soak: reads, writes, scatters and transactions across 4 PostgreSQL shards with replicas
//! while a fault proxy delays, blackholes and cuts one shard's primary, refuses and cuts
//! another's replica, and a third shard's primary is killed and its synchronous standby
//! promoted. At the end: no acknowledged write missing, none written that was not asked
//! for, no read that missed an acknowledged write, no operation past its bound, no panic,
//! the pools within their sizes and serving again.
//!
//! `GRANT_SOAK_SECS` sets the length: 10 s by default (CI), 60 s for the full run
//! (`GRANT_SOAK_SECS=60 cargo test --all-features --test soak -- --nocapture`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
#[path = "../schema/mod.rs"]
mod schema;

use common::fault_proxy::{Fault, FaultProxy};
use common::pg_pair::PgPair;
use common::{Backend, TestDb};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use grant::cluster::{HealthConfig, ShardNodes};
use grant::shard::{Modulo, RouteDsl};
use grant::{Error, PoolConfig, Sharded};
use schema::models::OrderItem;
use schema::order_items;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const STATEMENT: Duration = Duration::from_secs(1);
const CONNECT: Duration = Duration::from_secs(1);
const HEALTH: Duration = Duration::from_secs(1);
const POOL: u32 = 4;
const WORKERS: i64 = 4;

/// The longest any one operation may take: a write is tried at most 3 times (a checkout,
/// the statement, its position query and a search for the primary each), plus a second of
/// scheduling slack on a loaded machine.
fn bound() -> Duration {
    (CONNECT + STATEMENT + STATEMENT + HEALTH) * 3 + Duration::from_secs(1)
}

fn item(order_id: i64, product_id: i64) -> OrderItem {
    OrderItem {
        order_id,
        product_id,
        quantity: 1,
    }
}

fn host_port(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let authority = rest.split_once('/').map_or(rest, |(a, _)| a);
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, hp)| hp)
        .to_owned()
}

/// What the workers saw.
#[derive(Default)]
struct Ledger {
    /// Acknowledged writes: (order_id, product_id).
    acked: BTreeSet<(i64, i64)>,
    /// Writes that may or may not have been applied.
    unknown: BTreeSet<(i64, i64)>,
    /// Errors no fault explains (a bug).
    unexpected: Vec<String>,
    /// Reads of an acknowledged row that did not find it.
    stale: u64,
    ops: u64,
    failed: u64,
    slowest: Duration,
    over_bound: Vec<(String, Duration)>,
}

/// Errors a fault explains: the node could not be reached, hung, or failed over.
fn explained(e: &Error) -> bool {
    matches!(
        e,
        Error::ShardUnavailable { .. }
            | Error::PoolTimeout { .. }
            | Error::StatementTimeout { .. }
            | Error::WriteOutcomeUnknown { .. }
            | Error::WriteNotApplied { .. }
            | Error::ShardQuery { .. }
            | Error::Query { .. }
    )
}

impl Ledger {
    fn op(&mut self, what: &str, took: Duration, result: Result<(), Error>) {
        self.ops += 1;
        self.slowest = self.slowest.max(took);
        if took > bound() {
            self.over_bound.push((what.to_owned(), took));
        }
        if let Err(e) = result {
            self.failed += 1;
            if !explained(&e) {
                self.unexpected.push(format!("{what}: {e} ({e:?})"));
            }
        }
    }
}

async fn worker(sharded: Sharded<AsyncPgConnection>, w: i64, stop: Arc<AtomicBool>) -> Ledger {
    let mut ledger = Ledger::default();
    let mut next = w * 10_000_000;
    let mut i = 0u64;
    while !AtomicBool::load(&stop, Ordering::Relaxed) {
        i += 1;
        let started = Instant::now();
        match i % 10 {
            0..=3 => {
                next += 1;
                let key = (next, 1);
                let result = sharded.insert(&item(next, 1)).await;
                match &result {
                    Ok(()) => {
                        ledger.acked.insert(key);
                    }
                    Err(e) if !e.write_not_applied() => {
                        ledger.unknown.insert(key);
                    }
                    Err(_) => {}
                }
                ledger.op("insert", started.elapsed(), result);
            }
            4..=6 => {
                let Some(&key) = ledger.acked.iter().next_back() else {
                    continue;
                };
                let result = sharded.find::<OrderItem, _>(key).await;
                if let Ok(None) = result {
                    ledger.stale += 1;
                }
                ledger.op("find", started.elapsed(), result.map(drop));
            }
            7 => {
                let result = sharded
                    .run(order_items::table.count().on_all_shards())
                    .get_result::<i64>()
                    .await;
                ledger.op("count on all shards", started.elapsed(), result.map(drop));
            }
            _ => {
                next += 1;
                let order = next;
                let result = sharded
                    .transaction(
                        &order_items::ShardKey { order_id: order },
                        async |mut tx| {
                            for product in [1, 2] {
                                let row = item(order, product);
                                tx.run(
                                    diesel::insert_into(order_items::table)
                                        .values(&row)
                                        .for_shard_key(order_items::ShardKey { order_id: order }),
                                )
                                .execute()
                                .await?;
                            }
                            Ok(())
                        },
                    )
                    .await;
                match &result {
                    Ok(()) => {
                        ledger.acked.extend([(order, 1), (order, 2)]);
                    }
                    Err(e) if !e.write_not_applied() => {
                        ledger.unknown.extend([(order, 1), (order, 2)]);
                    }
                    Err(_) => {}
                }
                ledger.op("transaction", started.elapsed(), result);
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    ledger
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn soak_under_faults_and_failover() {
    let secs: u64 = std::env::var("GRANT_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let length = Duration::from_secs(secs);

    // s0 plain; s1's primary behind proxy A; s2's replica behind proxy B; s3 a synchronous
    // pair of its own that fails over.
    let dbs = [
        TestDb::migrated(Backend::Pg, "soak_s0").await,
        TestDb::migrated(Backend::Pg, "soak_s1").await,
        TestDb::migrated(Backend::Pg, "soak_s2").await,
    ];
    let proxy_a = FaultProxy::start(&host_port(&dbs[1].url)).await;
    let proxy_b = FaultProxy::start(&host_port(&dbs[2].replica_url())).await;
    let pair = PgPair::start(true);
    pair.create_database("app").await;
    grant::migrate::run::<AsyncPgConnection, _>(
        &[("app".to_owned(), pair.primary_url("app"))],
        &common::PG_MIGRATIONS,
    )
    .await
    .unwrap();

    let sharded = Sharded::<AsyncPgConnection>::builder()
        .shard_nodes(
            "s0",
            ShardNodes::primary(&dbs[0].url).replica(dbs[0].replica_url()),
        )
        .shard_nodes(
            "s1",
            ShardNodes::primary(proxy_a.url_for(&dbs[1].url)).replica(dbs[1].replica_url()),
        )
        .shard_nodes(
            "s2",
            ShardNodes::primary(&dbs[2].url).replica(proxy_b.url_for(&dbs[2].replica_url())),
        )
        .shard_nodes(
            "s3",
            ShardNodes::primary(pair.primary_url("app"))
                .failover_host(pair.replica_url("app"))
                .replica(pair.replica_url("app")),
        )
        .pool(
            PoolConfig::default()
                .max_size(POOL)
                .connection_timeout(CONNECT * 2),
        )
        .health(
            HealthConfig::default()
                .interval(Duration::from_millis(100))
                .timeout(HEALTH)
                .failure_threshold(2)
                .cool_down(Duration::from_millis(500)),
        )
        .statement_timeout(Some(STATEMENT))
        .strategy(Modulo::new(4).unwrap())
        .build()
        .unwrap();
    sharded.check_health().await;

    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| tokio::spawn(worker(sharded.clone(), w, stop.clone())))
        .collect();

    // The faults, at fixed fractions of the run.
    let at = |fraction: f64| length.mul_f64(fraction);
    let started = Instant::now();
    let until = |t: Duration| tokio::time::sleep(t.saturating_sub(started.elapsed()));
    let failover_done = Arc::new(AtomicU64::new(0));
    until(at(0.10)).await;
    proxy_a.set(Fault::Delay(Duration::from_millis(50)));
    until(at(0.20)).await;
    proxy_a.set(Fault::Blackhole);
    until(at(0.30)).await;
    proxy_a.set(Fault::None);
    proxy_a.cut();
    until(at(0.40)).await;
    let pair = {
        let done = failover_done.clone();
        tokio::task::spawn_blocking(move || {
            pair.kill_primary();
            pair.promote_replica();
            done.store(1, Ordering::SeqCst);
            pair
        })
        .await
        .unwrap()
    };
    until(at(0.55)).await;
    proxy_b.set(Fault::Refuse);
    proxy_b.cut();
    until(at(0.70)).await;
    proxy_b.set(Fault::None);
    until(at(0.85)).await;
    stop.store(true, Ordering::Relaxed);

    let mut total = Ledger::default();
    for w in workers {
        let l = w.await.expect("a worker panicked");
        total.acked.extend(l.acked);
        total.unknown.extend(l.unknown);
        total.unexpected.extend(l.unexpected);
        total.over_bound.extend(l.over_bound);
        total.stale += l.stale;
        total.ops += l.ops;
        total.failed += l.failed;
        total.slowest = total.slowest.max(l.slowest);
    }
    assert_eq!(AtomicU64::load(&failover_done, Ordering::SeqCst), 1);

    // The pools serve again: 100 statements after the faults all succeed.
    for n in 0..100i64 {
        let order = n % 4;
        sharded
            .find::<OrderItem, _>((order, 1))
            .await
            .unwrap_or_else(|e| panic!("statement {n} after the faults: {e}"));
    }

    // Every acknowledged write is on its shard's primary; nothing is there that was not
    // written or possibly written.
    let mut present = BTreeSet::new();
    for url in [
        dbs[0].url.clone(),
        dbs[1].url.clone(),
        dbs[2].url.clone(),
        pair.replica_url("app"),
    ] {
        let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
        let rows: Vec<(i64, i64)> = order_items::table
            .select((order_items::order_id, order_items::product_id))
            .load(&mut conn)
            .await
            .unwrap();
        present.extend(rows);
    }
    let missing: Vec<_> = total.acked.difference(&present).collect();
    let phantom: Vec<_> = present
        .iter()
        .filter(|k| !total.acked.contains(k) && !total.unknown.contains(k))
        .collect();
    for name in ["s0", "s1", "s2", "s3"] {
        let cluster = sharded.cluster(name).unwrap();
        for node in cluster
            .primary_candidates()
            .iter()
            .chain(cluster.replicas())
        {
            let open = node.pool_state().connections;
            assert!(open <= POOL, "{name} {}: {open} connections", node.label());
        }
    }
    eprintln!(
        "soak {secs} s: {} operations, {} failed (all explained by a fault), {} writes acknowledged, {} of unknown outcome, slowest {:?} (bound {:?})",
        total.ops,
        total.failed,
        total.acked.len(),
        total.unknown.len(),
        total.slowest,
        bound()
    );
    assert!(total.unexpected.is_empty(), "{:#?}", total.unexpected);
    assert!(
        missing.is_empty(),
        "acknowledged writes missing: {missing:?}"
    );
    assert!(phantom.is_empty(), "rows nobody wrote: {phantom:?}");
    assert_eq!(total.stale, 0, "reads missed acknowledged writes");
    assert!(
        total.over_bound.is_empty(),
        "past the bound: {:?}",
        total.over_bound
    );
    assert!(total.acked.len() > 100, "the workload ran");
}
