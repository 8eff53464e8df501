//! Replicas, health checks and failover on real servers: a PostgreSQL streaming replica
//! (the shared one of `scripts/servers.sh`, or a primary + replica pair of the test's own
//! when the test stops, pauses or promotes servers) and the shared MariaDB replica.
//!
//! Where a statement ran is asked of the server itself: `pg_is_in_recovery()` is true only
//! on a standby, MariaDB's `@@read_only` only on the replica.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
#[path = "../schema/mod.rs"]
mod schema;

use common::pg_pair::PgPair;
use common::{Backend, TestDb, eventually};
use diesel::dsl::sql;
use diesel::sql_types::{BigInt, Bool};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use grant::cluster::{BreakerState, HealthConfig, ReadYourWrites, ReplicaConfig, ShardNodes};
use grant::prelude::*;
use grant::shard::{Modulo, Session};
use grant::{Error, PoolConfig, Sharded};
use schema::models::OrderItem;
use schema::order_items;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Health checks fast enough for tests.
fn fast_health() -> HealthConfig {
    HealthConfig::default()
        .interval(Duration::from_millis(100))
        .timeout(Duration::from_secs(1))
        .failure_threshold(2)
        .cool_down(Duration::from_millis(500))
}

fn fast_pool() -> PoolConfig {
    PoolConfig::default()
        .max_size(4)
        .connection_timeout(Duration::from_secs(2))
}

/// One shard `s0` with these servers and replica settings, fast health checks and small
/// pools.
fn one_shard<C: grant::ShardConnection>(nodes: ShardNodes, replicas: ReplicaConfig) -> Sharded<C> {
    Sharded::<C>::builder()
        .shard_nodes("s0", nodes)
        .replicas(replicas)
        .health(fast_health())
        .pool(fast_pool())
        .strategy(Modulo::new(1).unwrap())
        .build()
        .unwrap()
}

/// No read-your-writes window: reads go to replicas right after writes.
fn no_ryw() -> ReplicaConfig {
    ReplicaConfig::default().read_your_writes(ReadYourWrites::Off)
}

/// Waits until the health checks have measured every replica of shard `s0`.
async fn replicas_measured<C: grant::ShardConnection>(sharded: &Sharded<C>) {
    eventually("the replicas are measured", async || {
        sharded
            .cluster("s0")
            .unwrap()
            .replicas()
            .iter()
            .all(|r| r.lag().is_some_and(|lag| lag < Duration::from_secs(1)))
    })
    .await;
}

/// `true` when the read ran on a PostgreSQL standby.
async fn pg_read_on_replica(
    sharded: &Sharded<AsyncPgConnection>,
    session: Option<&Session>,
) -> bool {
    let statement = diesel::select(sql::<Bool>("pg_is_in_recovery()")).on_shard("s0");
    let run = sharded.run(statement);
    let run = match session {
        Some(s) => run.in_session(s),
        None => run,
    };
    run.get_result::<bool>().await.unwrap()
}

fn item(order_id: i64) -> OrderItem {
    OrderItem {
        order_id,
        product_id: 1,
        quantity: 1,
    }
}

/// Reads go to the replica, writes to the primary; `on_primary` reads on the primary; under
/// `ReadYourWrites::Window`, a write sends the handle's (or the session's) reads of that
/// shard to the primary for the window. (The causal default: `tests/causal_reads.rs`.)
#[tokio::test(flavor = "multi_thread")]
async fn pg_reads_on_replica_writes_on_primary() {
    let db = TestDb::migrated(Backend::Pg, "rw_split").await;
    let build = |read_your_writes| {
        one_shard::<AsyncPgConnection>(
            ShardNodes::primary(&db.url).replica(db.replica_url()),
            ReplicaConfig::default().read_your_writes(read_your_writes),
        )
    };
    let sharded = build(ReadYourWrites::Off);
    replicas_measured(&sharded).await;

    assert!(
        pg_read_on_replica(&sharded, None).await,
        "a read runs on the replica"
    );
    let on_primary: bool = sharded
        .run(diesel::select(sql::<Bool>("pg_is_in_recovery()")).on_shard("s0"))
        .on_primary()
        .get_result()
        .await
        .unwrap();
    assert!(!on_primary, "on_primary() reads on the primary");

    // Writes succeed: a standby would refuse them.
    sharded.insert(&item(1)).await.unwrap();
    sharded
        .run(
            diesel::update(order_items::table)
                .on_shard("s0")
                .set(order_items::quantity.eq(5)),
        )
        .execute()
        .await
        .unwrap();
    let raw = grant::shard::writes(diesel::sql_query(
        "INSERT INTO order_items (order_id, product_id, quantity) VALUES (2, 1, 1)",
    ));
    sharded.run(raw.on_shard("s0")).execute().await.unwrap();
    // The replica catches up; reads through grant see the rows there.
    eventually("the replica has the rows", async || {
        sharded
            .run(order_items::table.count().on_shard("s0"))
            .get_result::<i64>()
            .await
            .unwrap()
            == 2
    })
    .await;
    assert!(pg_read_on_replica(&sharded, None).await);

    // Read-your-writes through the handle.
    let sticky = build(ReadYourWrites::Window(Duration::from_secs(60)));
    replicas_measured(&sticky).await;
    assert!(pg_read_on_replica(&sticky, None).await);
    sticky.insert(&item(3)).await.unwrap();
    assert!(
        !pg_read_on_replica(&sticky, None).await,
        "after a write, reads go to the primary"
    );
    let found = sticky.find::<OrderItem, _>((3, 1)).await.unwrap();
    assert!(found.is_some(), "the handle reads its own write");

    // Read-your-writes per session.
    let sessions = build(ReadYourWrites::Window(Duration::from_secs(60)));
    replicas_measured(&sessions).await;
    let (writer, other) = (Session::new(), Session::new());
    sessions
        .run(
            diesel::insert_into(order_items::table)
                .values(&item(4))
                .for_shard_key(order_items::ShardKey { order_id: 4 }),
        )
        .in_session(&writer)
        .execute()
        .await
        .unwrap();
    assert!(
        !pg_read_on_replica(&sessions, Some(&writer)).await,
        "the writing session reads the primary"
    );
    assert!(
        pg_read_on_replica(&sessions, Some(&other)).await,
        "another session still reads the replica"
    );
}

/// A replica whose replay is paused falls behind as the primary writes; once its lag is
/// over `max_lag` reads skip it, and they come back when it has caught up.
#[tokio::test(flavor = "multi_thread")]
async fn pg_lagging_replica_is_skipped_until_it_catches_up() {
    let pair = PgPair::start(false);
    pair.create_database("app").await;
    let mut primary = AsyncPgConnection::establish(&pair.primary_url("app"))
        .await
        .unwrap();
    primary
        .batch_execute("CREATE TABLE ticks (id BIGSERIAL PRIMARY KEY)")
        .await
        .unwrap();
    let sharded = one_shard::<AsyncPgConnection>(
        ShardNodes::primary(pair.primary_url("app")).replica(pair.replica_url("app")),
        ReplicaConfig::default()
            .max_lag(Duration::from_millis(500))
            .read_your_writes(ReadYourWrites::Off),
    );
    replicas_measured(&sharded).await;
    assert!(pg_read_on_replica(&sharded, None).await);

    let mut replica = AsyncPgConnection::establish(&pair.replica_url("app"))
        .await
        .unwrap();
    replica
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .unwrap();
    let writes = async || {
        primary
            .batch_execute("INSERT INTO ticks DEFAULT VALUES")
            .await
            .unwrap();
    };
    let mut writes = writes;
    let started = Instant::now();
    eventually("the paused replica is skipped", async || {
        writes().await;
        !pg_read_on_replica(&sharded, None).await
    })
    .await;
    let lag = sharded.cluster("s0").unwrap().replicas()[0].lag().unwrap();
    assert!(lag > Duration::from_millis(500), "measured lag {lag:?}");
    eprintln!(
        "paused replica skipped {:?} after the pause (measured lag {lag:?}, max_lag 500ms)",
        started.elapsed()
    );

    replica
        .batch_execute("SELECT pg_wal_replay_resume()")
        .await
        .unwrap();
    eventually("the replica is used again", async || {
        pg_read_on_replica(&sharded, None).await
    })
    .await;
}

/// The primary is killed under load and the replica promoted: writes follow the new
/// primary without a restart, reads never fail (the replica answers them throughout), and
/// every acknowledged write is on the new primary (synchronous replication).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pg_failover_loses_no_acknowledged_write() {
    let pair = PgPair::start(true);
    pair.create_database("app").await;
    grant::migrate::run::<AsyncPgConnection, _>(
        &[("app".to_owned(), pair.primary_url("app"))],
        &common::PG_MIGRATIONS,
    )
    .await
    .unwrap();
    let sharded = one_shard::<AsyncPgConnection>(
        ShardNodes::primary(pair.primary_url("app"))
            .failover_host(pair.replica_url("app"))
            .replica(pair.replica_url("app")),
        no_ryw(),
    );
    replicas_measured(&sharded).await;

    let stop = Arc::new(AtomicBool::new(false));
    let killed_at: Arc<std::sync::Mutex<Option<Instant>>> = Arc::default();
    let writer = {
        let (sharded, stop, killed_at) = (sharded.clone(), stop.clone(), killed_at.clone());
        tokio::spawn(async move {
            let (mut acked, mut unknown, mut refused) = (Vec::new(), Vec::new(), 0usize);
            let mut first_after_kill = None;
            let mut next = 1i64;
            while !stop.load(Ordering::Relaxed) {
                match sharded.insert(&item(next)).await {
                    Ok(()) => {
                        acked.push(next);
                        let killed = *killed_at.lock().unwrap();
                        if let (Some(killed), None) = (killed, first_after_kill) {
                            first_after_kill = Some(killed.elapsed());
                        }
                        next += 1;
                    }
                    // Not applied: the primary was unreachable or refused it. (A duplicate
                    // key would mean an earlier write thought lost was applied: a failure.)
                    Err(e) if e.write_not_applied() && !matches!(e, Error::DuplicateKey { .. }) => {
                        refused += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    Err(Error::WriteOutcomeUnknown { .. }) => {
                        unknown.push(next);
                        next += 1;
                    }
                    Err(e) => panic!("unexpected write error: {e}"),
                }
            }
            (acked, unknown, refused, first_after_kill)
        })
    };
    let reads = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (sharded, stop, reads) = (sharded.clone(), stop.clone(), reads.clone());
        tokio::spawn(async move {
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                match sharded
                    .run(order_items::table.count().on_shard("s0"))
                    .get_result::<i64>()
                    .await
                {
                    Ok(_) => {
                        reads.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => failures.push(e.to_string()),
                }
            }
            failures
        })
    };

    tokio::time::sleep(Duration::from_millis(500)).await;
    tokio::task::block_in_place(|| pair.kill_primary());
    let killed = Instant::now();
    *killed_at.lock().unwrap() = Some(killed);
    tokio::time::sleep(Duration::from_millis(300)).await;
    tokio::task::block_in_place(|| pair.promote_replica());
    let promoted = killed.elapsed();
    eventually("writes reach the new primary", async || {
        sharded.cluster("s0").unwrap().primary_node().label() == "primary 2"
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let (acked, unknown, refused, first_after_kill) = writer.await.unwrap();
    let read_failures = reader.await.unwrap();

    let mut new_primary = AsyncPgConnection::establish(&pair.replica_url("app"))
        .await
        .unwrap();
    let stored: Vec<i64> = diesel_async::RunQueryDsl::load(
        order_items::table.select(order_items::order_id),
        &mut new_primary,
    )
    .await
    .unwrap();
    let lost: Vec<i64> = acked
        .iter()
        .copied()
        .filter(|id| !stored.contains(id))
        .collect();
    eprintln!(
        "failover: {} writes acknowledged, {} with unknown outcome, {} refused (not applied) \
         and retried, {} lost; writes resumed {:?} after the kill (promotion done {:?} after \
         it, requested at 300ms); {} reads, {} failed",
        acked.len(),
        unknown.len(),
        refused,
        lost.len(),
        first_after_kill,
        promoted,
        reads.load(Ordering::Relaxed),
        read_failures.len()
    );
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    assert!(
        first_after_kill.is_some(),
        "writes resumed on the new primary"
    );
    assert!(read_failures.is_empty(), "reads failed: {read_failures:?}");
    assert!(reads.load(Ordering::Relaxed) > 0);
}

/// A replica killed under load: reads move to the primary without failing, and the
/// replica's circuit opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pg_dead_replica_reads_fall_back_to_primary() {
    let pair = PgPair::start(false);
    pair.create_database("app").await;
    let sharded = one_shard::<AsyncPgConnection>(
        ShardNodes::primary(pair.primary_url("app")).replica(pair.replica_url("app")),
        no_ryw(),
    );
    replicas_measured(&sharded).await;
    assert!(pg_read_on_replica(&sharded, None).await);

    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (sharded, stop) = (sharded.clone(), stop.clone());
            tokio::spawn(async move {
                let (mut ok, mut failures) = (0usize, Vec::new());
                while !stop.load(Ordering::Relaxed) {
                    let read = sharded
                        .run(diesel::select(sql::<BigInt>("count(*) FROM pg_class")).on_shard("s0"))
                        .get_result::<i64>()
                        .await;
                    match read {
                        Ok(_) => ok += 1,
                        Err(e) => failures.push(e.to_string()),
                    }
                }
                (ok, failures)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    tokio::task::block_in_place(|| pair.kill_replica());
    eventually("the replica's circuit opens", async || {
        sharded.cluster("s0").unwrap().replicas()[0].breaker_state() == BreakerState::Open
    })
    .await;
    assert!(
        !pg_read_on_replica(&sharded, None).await,
        "reads run on the primary"
    );
    stop.store(true, Ordering::Relaxed);
    let (mut ok, mut failures) = (0, Vec::new());
    for reader in readers {
        let (n, f) = reader.await.unwrap();
        ok += n;
        failures.extend(f);
    }
    eprintln!(
        "replica killed under load: {ok} reads, {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "reads failed: {failures:?}");
}

/// MariaDB: reads on the binlog replica (`@@read_only = 1`), writes on the primary.
#[tokio::test(flavor = "multi_thread")]
async fn mariadb_reads_on_replica_writes_on_primary() {
    let db = TestDb::migrated(Backend::Mysql, "rw_split").await;
    let sharded = one_shard::<diesel_async::AsyncMysqlConnection>(
        ShardNodes::primary(&db.url).replica(db.replica_url()),
        no_ryw(),
    );
    replicas_measured(&sharded).await;
    let read_only = async || -> i64 {
        sharded
            .run(diesel::select(sql::<BigInt>("CAST(@@read_only AS SIGNED)")).on_shard("s0"))
            .get_result()
            .await
            .unwrap()
    };
    assert_eq!(read_only().await, 1, "a read runs on the replica");
    sharded.insert(&item(7)).await.unwrap();
    eventually("the replica has the row", async || {
        sharded
            .find::<OrderItem, _>((7, 1))
            .await
            .unwrap()
            .is_some()
    })
    .await;
    assert_eq!(read_only().await, 1);
}

/// The balancing policies spread reads over two replicas (two pools on the shared standby):
/// round-robin alternates, random uses both, least-connections picks the idle one.
#[tokio::test(flavor = "multi_thread")]
async fn replica_policies_spread_reads() {
    use grant::cluster::ReplicaPolicy;
    let db = TestDb::migrated(Backend::Pg, "policies").await;
    for policy in [
        ReplicaPolicy::RoundRobin,
        ReplicaPolicy::Random,
        ReplicaPolicy::LeastConnections,
    ] {
        let sharded = one_shard::<AsyncPgConnection>(
            ShardNodes::primary(&db.url)
                .replica(db.replica_url())
                .replica(db.replica_url()),
            ReplicaConfig::default()
                .policy(policy)
                .read_your_writes(ReadYourWrites::Off),
        );
        replicas_measured(&sharded).await;
        for _ in 0..100 {
            assert!(pg_read_on_replica(&sharded, None).await);
        }
        let cluster = sharded.cluster("s0").unwrap();
        let served: Vec<u64> = cluster.replicas().iter().map(|r| r.served()).collect();
        assert_eq!(served.iter().sum::<u64>(), 100, "{policy:?}: {served:?}");
        assert_eq!(cluster.primary_node().served(), 0, "{policy:?}");
        match policy {
            ReplicaPolicy::RoundRobin => assert_eq!(served, [50, 50]),
            ReplicaPolicy::Random => assert!(served.iter().all(|&n| n > 0), "{served:?}"),
            // One read at a time: both idle (health probes are not counted), the first wins
            // every time.
            ReplicaPolicy::LeastConnections => assert_eq!(served, [100, 0]),
        }
    }
}

/// A topology with replicas, failover hosts and the replica and health sections, from
/// TOML.
#[tokio::test(flavor = "multi_thread")]
async fn toml_topology_with_replicas() {
    let db = TestDb::migrated(Backend::Pg, "toml_replicas").await;
    let text = format!(
        r#"
        [replicas]
        policy = "least_connections"
        max_lag_ms = 1500
        read_your_writes_ms = 0

        [health]
        interval_ms = 100
        failure_threshold = 2

        [[shards]]
        name = "s0"
        url = "{primary}"
        replicas = ["{replica}"]
        failover_hosts = ["{replica}"]

        [strategy]
        kind = "modulo"
        "#,
        primary = db.url,
        replica = db.replica_url()
    );
    let sharded = Sharded::<AsyncPgConnection>::from_toml_str(&text).unwrap();
    let cluster = sharded.cluster("s0").unwrap();
    assert_eq!(cluster.replicas().len(), 1);
    assert_eq!(cluster.primary_candidates().len(), 2);
    assert_eq!(sharded.health_config().interval, Duration::from_millis(100));
    replicas_measured(&sharded).await;
    assert!(pg_read_on_replica(&sharded, None).await);
    sharded.insert(&item(1)).await.unwrap();
}
