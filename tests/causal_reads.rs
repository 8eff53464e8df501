//! Read-your-writes by causal token (`ReadYourWrites::Causal`, the default) on real replicas:
//! a PostgreSQL streaming replica of the test's own (its replay is paused and resumed) and
//! the shared MariaDB binlog replica.
//!
//! What is proven: a read after a write in a session never misses the write, whichever node
//! serves it; the read goes to the replica once the replica has replayed the write (and to
//! the primary before); the token carries this across handles as text; a read may wait for
//! the replica instead of going to the primary. Where a read ran is asked of the server
//! (`pg_is_in_recovery()`) or counted by the node (`served()`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
#[path = "../schema/mod.rs"]
mod schema;

use common::pg_pair::PgPair;
use common::{Backend, TestDb, eventually};
use diesel::dsl::sql;
use diesel::sql_types::Bool;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use grant::cluster::{HealthConfig, Position, ReadYourWrites, ReplicaConfig, ShardNodes};
use grant::prelude::*;
use grant::shard::{CausalToken, Modulo, Session};
use grant::{PoolConfig, Sharded};
use schema::models::OrderItem;
use std::time::{Duration, Instant};

fn one_shard<C: grant::ShardConnection>(nodes: ShardNodes, mode: ReadYourWrites) -> Sharded<C> {
    Sharded::<C>::builder()
        .shard_nodes("s0", nodes)
        .replicas(
            ReplicaConfig::default()
                .read_your_writes(mode)
                // Lag never decides here: only the replayed position does.
                .max_lag(Duration::from_secs(600)),
        )
        .health(
            HealthConfig::default()
                .interval(Duration::from_millis(100))
                .timeout(Duration::from_secs(2)),
        )
        .pool(PoolConfig::default().max_size(4))
        .strategy(Modulo::new(1).unwrap())
        .build()
        .unwrap()
}

const CAUSAL: ReadYourWrites = ReadYourWrites::Causal {
    wait: Duration::ZERO,
};

/// Waits until the health checks know the replica's replayed position.
async fn replica_measured<C: grant::ShardConnection>(sharded: &Sharded<C>) {
    eventually("the replica's position is known", async || {
        sharded.cluster("s0").unwrap().replicas()[0]
            .replayed()
            .is_some()
    })
    .await;
}

fn item(order_id: i64) -> OrderItem {
    OrderItem {
        order_id,
        product_id: 1,
        quantity: 1,
    }
}

/// Reads served by the replica and by the primary so far.
fn served<C: grant::ShardConnection>(sharded: &Sharded<C>) -> (u64, u64) {
    let cluster = sharded.cluster("s0").unwrap();
    (
        cluster.replicas()[0].served(),
        cluster.primary_candidates()[0].served(),
    )
}

async fn on_replica(sharded: &Sharded<AsyncPgConnection>) -> bool {
    sharded
        .run(diesel::select(sql::<Bool>("pg_is_in_recovery()")).on_shard("s0"))
        .get_result::<bool>()
        .await
        .unwrap()
}

/// A primary + replica pair of the test's own, with the tables, and a connection to the
/// replica (to pause its replay).
async fn pg_pair() -> (PgPair, AsyncPgConnection) {
    let pair = PgPair::start(false);
    pair.create_database("app").await;
    let mut primary = AsyncPgConnection::establish(&pair.primary_url("app"))
        .await
        .unwrap();
    primary
        .batch_execute(include_str!(
            "../migrations/postgres/2026-11-27-100000_create_keyed_tables/up.sql"
        ))
        .await
        .unwrap();
    let mut replica = None;
    eventually("the replica has the database", async || {
        replica = AsyncPgConnection::establish(&pair.replica_url("app"))
            .await
            .ok();
        replica.is_some()
    })
    .await;
    (pair, replica.unwrap())
}

/// With the replica's replay paused, a session's read after its write goes to the primary
/// and sees the write; another session (no write) still reads the replica, which does not
/// have it (so the replica really is behind); once replay resumes, the session's reads go
/// back to the replica. The session's token, as text, makes another handle do the same.
#[tokio::test(flavor = "multi_thread")]
async fn pg_session_reads_its_writes_and_returns_to_the_replica() {
    let (pair, mut replica) = pg_pair().await;
    let nodes = || ShardNodes::primary(pair.primary_url("app")).replica(pair.replica_url("app"));
    let shards = one_shard::<AsyncPgConnection>(nodes(), CAUSAL);
    replica_measured(&shards).await;
    assert!(on_replica(&shards).await, "no write yet: the replica reads");

    replica
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .unwrap();
    let session = Session::new();
    let db = shards.in_session(&session);
    db.insert(&item(1)).await.unwrap();
    let token = session.token();
    assert!(
        matches!(token.position("s0"), Some(Position::Lsn(_))),
        "the write's LSN is kept: {token}"
    );
    assert!(!on_replica(&db).await, "the session reads the primary");
    assert!(db.find::<OrderItem, _>((1, 1)).await.unwrap().is_some());

    let other = shards.in_session(&Session::new());
    assert!(
        on_replica(&other).await,
        "another session reads the replica"
    );
    assert!(
        other.find::<OrderItem, _>((1, 1)).await.unwrap().is_none(),
        "the paused replica does not have the write"
    );

    // The token travels as text to another handle (another process, in practice).
    let elsewhere = one_shard::<AsyncPgConnection>(nodes(), CAUSAL);
    replica_measured(&elsewhere).await;
    let carried: CausalToken = token.to_string().parse().unwrap();
    let resumed = elsewhere.in_session(&Session::from_token(&carried));
    assert!(!on_replica(&resumed).await);
    assert!(
        resumed
            .find::<OrderItem, _>((1, 1))
            .await
            .unwrap()
            .is_some()
    );

    replica
        .batch_execute("SELECT pg_wal_replay_resume()")
        .await
        .unwrap();
    eventually("the session reads the replica again", async || {
        on_replica(&db).await
    })
    .await;
    assert!(db.find::<OrderItem, _>((1, 1)).await.unwrap().is_some());
    eventually("the carried token reads the replica again", async || {
        on_replica(&resumed).await
    })
    .await;
}

/// Under `Causal { wait }`, a read whose replica is behind waits for it: with replay
/// resumed 300 ms into the wait, the read is served by the replica and sees the write.
#[tokio::test(flavor = "multi_thread")]
async fn pg_read_waits_for_the_replica() {
    let (pair, mut replica) = pg_pair().await;
    let shards = one_shard::<AsyncPgConnection>(
        ShardNodes::primary(pair.primary_url("app")).replica(pair.replica_url("app")),
        ReadYourWrites::Causal {
            wait: Duration::from_secs(10),
        },
    );
    replica_measured(&shards).await;
    replica
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .unwrap();
    let session = Session::new();
    let db = shards.in_session(&session);
    db.insert(&item(2)).await.unwrap();
    let resume = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        replica
            .batch_execute("SELECT pg_wal_replay_resume()")
            .await
            .unwrap();
    });
    let before = served(&shards);
    let found = db.find::<OrderItem, _>((2, 1)).await.unwrap();
    let after = served(&shards);
    resume.await.unwrap();
    assert!(found.is_some(), "the read sees the write");
    assert_eq!(after.0 - before.0, 1, "the replica served the read");
    assert_eq!(after.1, before.1, "the primary served nothing");
}

/// Many write-then-read rounds in sessions, on a backend's shared replica: no read misses
/// its session's write. Gives (replica reads, primary reads) of the read-backs.
macro_rules! write_then_read {
    ($shards:expr, $rounds:expr) => {{
        let shards = &$shards;
        let rounds: i64 = $rounds;
        let before = served(shards);
        for i in 0..rounds {
            let session = Session::new();
            shards
                .in_session(&session)
                .insert(&item(1000 + i))
                .await
                .unwrap();
            // The client's next request: only the token carries over.
            let next = shards.in_session(&Session::from_token(&session.token()));
            let found = next.find::<OrderItem, _>((1000 + i, 1)).await.unwrap();
            assert!(found.is_some(), "round {i}: the read missed its write");
        }
        let after = served(shards);
        (
            after.0 - before.0,
            after.1 - before.1 - rounds.unsigned_abs(),
        )
    }};
}

#[tokio::test(flavor = "multi_thread")]
async fn pg_no_read_misses_its_write() {
    let db = TestDb::migrated(Backend::Pg, "causal").await;
    let shards = one_shard::<AsyncPgConnection>(
        ShardNodes::primary(&db.url).replica(db.replica_url()),
        CAUSAL,
    );
    replica_measured(&shards).await;
    let (replica, primary) = write_then_read!(shards, 200);
    eprintln!("postgres: 200 read-backs, {replica} on the replica, {primary} on the primary");
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_no_read_misses_its_write() {
    let db = TestDb::migrated(Backend::Mysql, "causal").await;
    let shards = one_shard::<diesel_async::AsyncMysqlConnection>(
        ShardNodes::primary(&db.url).replica(db.replica_url()),
        CAUSAL,
    );
    replica_measured(&shards).await;
    let session = Session::new();
    shards.in_session(&session).insert(&item(1)).await.unwrap();
    assert!(
        matches!(session.token().position("s0"), Some(Position::Gtid(_))),
        "the write's GTID is kept: {}",
        session.token()
    );
    let (replica, primary) = write_then_read!(shards, 200);
    eprintln!("mariadb: 200 read-backs, {replica} on the replica, {primary} on the primary");
    // Once the replica has applied them, the session's reads go there.
    let token = session.token();
    let db = shards.in_session(&Session::from_token(&token));
    eventually("the session reads the replica", async || {
        let before = served(&shards).0;
        db.find::<OrderItem, _>((1, 1)).await.unwrap().is_some() && served(&shards).0 > before
    })
    .await;
}

/// A token survives serde (here TOML, as a web session store might keep it).
#[test]
fn token_serializes_as_its_text() {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Cookie {
        token: CausalToken,
    }
    let cookie = Cookie {
        token: "s0=16/B374D848;s1=0-1-42".parse().unwrap(),
    };
    let text = toml::to_string(&cookie).unwrap();
    assert_eq!(text.trim(), r#"token = "s0=16/B374D848;s1=0-1-42""#);
    assert_eq!(toml::from_str::<Cookie>(&text).unwrap(), cookie);
    let bad = toml::from_str::<Cookie>(r#"token = "s0=zz""#).unwrap_err();
    assert!(bad.to_string().contains("causal token, byte 3"), "{bad}");
}

/// One mode's run of the mixed workload: reads served by the replica, by the primary, and
/// read-backs that missed their client's own last write.
#[derive(Debug, Default, Clone, Copy)]
struct Share {
    replica: u64,
    primary: u64,
    stale: u64,
    /// Mean time of an insert (the causal modes add a position query after it).
    insert: Duration,
}

/// Four clients for `secs` seconds: each op is a write of a new row (1 in 20) or a read of
/// the client's own last row, 5 ms apart, each client in its own session. Every mode runs
/// the same workload on the same servers.
macro_rules! mixed_workload {
    ($conn:ty, $db:expr, $mode:expr, $secs:expr, $base:expr) => {{
        let shards = one_shard::<$conn>(
            ShardNodes::primary(&$db.url).replica($db.replica_url()),
            $mode,
        );
        replica_measured(&shards).await;
        let before = served(&shards);
        let stale = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut clients = Vec::new();
        for client in 0..4i64 {
            let shards = shards.clone();
            let stale = stale.clone();
            clients.push(tokio::spawn(async move {
                let db = shards.in_session(&Session::new());
                let until = Instant::now() + Duration::from_secs($secs);
                let mut next = $base + client * 1_000_000;
                db.insert(&item(next)).await.unwrap();
                let mut op = 0u64;
                let mut reads = 0u64;
                let (mut inserts, mut insert_time) = (0u32, Duration::ZERO);
                while Instant::now() < until {
                    op += 1;
                    if op % 20 == 0 {
                        next += 1;
                        let started = Instant::now();
                        db.insert(&item(next)).await.unwrap();
                        insert_time += started.elapsed();
                        inserts += 1;
                    } else {
                        reads += 1;
                        if db.find::<OrderItem, _>((next, 1)).await.unwrap().is_none() {
                            stale.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                (reads, inserts, insert_time)
            }));
        }
        let (mut reads, mut inserts, mut insert_time) = (0, 0u32, Duration::ZERO);
        for c in clients {
            let (r, i, t) = c.await.unwrap();
            reads += r;
            inserts += i;
            insert_time += t;
        }
        let after = served(&shards);
        let replica = after.0 - before.0;
        Share {
            replica,
            primary: reads - replica,
            stale: stale.load(std::sync::atomic::Ordering::Relaxed),
            insert: insert_time / inserts.max(1),
        }
    }};
}

/// The replica's share of reads under the causal token vs the 2 s window (and with reads
/// off, for the stale count), on PostgreSQL and MariaDB. No mode but `Off` may serve a
/// stale read. `GRANT_SHARE_SECS` sets each run's length (default 2 s; BENCHMARKS.md used
/// 20 s).
#[tokio::test(flavor = "multi_thread")]
async fn replica_share_token_vs_window() {
    let secs: u64 = std::env::var("GRANT_SHARE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let modes = [
        ("window 2 s", ReadYourWrites::Window(Duration::from_secs(2))),
        ("causal, no wait", CAUSAL),
        (
            "causal, wait 20 ms",
            ReadYourWrites::Causal {
                wait: Duration::from_millis(20),
            },
        ),
        ("off", ReadYourWrites::Off),
    ];
    let pg = TestDb::migrated(Backend::Pg, "share").await;
    let my = TestDb::migrated(Backend::Mysql, "share").await;
    for (i, (name, mode)) in modes.into_iter().enumerate() {
        let base = (i as i64 + 1) * 10_000_000;
        let p = mixed_workload!(AsyncPgConnection, pg, mode, secs, base);
        let m = mixed_workload!(diesel_async::AsyncMysqlConnection, my, mode, secs, base);
        for (backend, s) in [("postgres", p), ("mariadb", m)] {
            let share = s.replica as f64 * 100.0 / (s.replica + s.primary).max(1) as f64;
            eprintln!(
                "{backend:8} {name:18}: replica {share:5.1} % of {} reads, stale {}, insert {:?}",
                s.replica + s.primary,
                s.stale,
                s.insert
            );
            if mode != ReadYourWrites::Off {
                assert_eq!(s.stale, 0, "{backend} {name}: stale reads");
            }
        }
    }
}
