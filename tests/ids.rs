//! Shard-aware ids on real servers: 8 processes × 4 shards × 100,000 ids from generators
//! that lease their worker numbers from one PostgreSQL table: no id twice, each process's
//! ids increasing, each id routed to the shard it was made for; a lease that cannot be
//! renewed stops its generator, and the next owner of the number issues only later ids;
//! MariaDB and SQLite lease tables too. (`GRANT_IDS_PER_SHARD` sets the count per shard.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestDb;
use diesel_async::{AsyncMysqlConnection, AsyncPgConnection};
use grant::id::{IdError, IdGenerator, IdLayout, LeaseOptions};
use grant::key::PartValue;
use grant::shard::{IdBits, ShardStrategy, ShardValues};
use grant::{ShardId, Sharded};
use std::collections::HashSet;
use std::time::Duration;

const PROCESSES: usize = 8;
const SHARDS: u32 = 4;

fn per_shard() -> usize {
    std::env::var("GRANT_IDS_PER_SHARD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn control<C: grant::ShardConnection>(url: &str) -> Sharded<C> {
    Sharded::<C>::builder()
        .shard("control", url)
        .build()
        .unwrap()
}

/// The child: leases a worker number from `GRANT_IDS_URL` and writes `per_shard()` ids for
/// each of 4 shards, round robin, to `GRANT_IDS_OUT` (8 bytes each, little endian).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "run by processes_never_share_an_id as a child process"]
async fn id_child() {
    let url = std::env::var("GRANT_IDS_URL").unwrap();
    let out = std::env::var("GRANT_IDS_OUT").unwrap();
    let sharded = control::<AsyncPgConnection>(&url);
    let ids = IdGenerator::lease(
        &sharded,
        "control",
        IdLayout::default(),
        LeaseOptions::default(),
    )
    .await
    .unwrap();
    let mut bytes = Vec::with_capacity(per_shard() * SHARDS as usize * 8);
    for _ in 0..per_shard() {
        for shard in 0..SHARDS {
            bytes.extend_from_slice(&ids.next_id(shard).await.unwrap().to_le_bytes());
        }
    }
    std::fs::write(out, bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn processes_never_share_an_id() {
    let db = TestDb::pg_empty("ids").await;
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..PROCESSES)
        .map(|p| {
            let out = dir.path().join(format!("ids{p}"));
            let child = std::process::Command::new(&exe)
                .args(["--ignored", "--exact", "id_child", "--quiet"])
                .env("GRANT_IDS_URL", &db.url)
                .env("GRANT_IDS_OUT", &out)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            (child, out)
        })
        .collect();
    let layout = IdLayout::default();
    let route = IdBits::shards(layout, SHARDS).unwrap();
    let mut all = HashSet::with_capacity(PROCESSES * per_shard() * SHARDS as usize);
    let mut workers = HashSet::new();
    for (mut child, out) in children {
        assert!(child.wait().unwrap().success(), "a child failed");
        let bytes = std::fs::read(out).unwrap();
        let ids: Vec<i64> = bytes
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(ids.len(), per_shard() * SHARDS as usize);
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "one generator's ids increase"
        );
        workers.insert(layout.parts(ids[0]).worker);
        for (i, id) in ids.iter().enumerate() {
            let shard = (i % SHARDS as usize) as u32;
            assert_eq!(
                route.shard_for(&ShardValues::new([PartValue::Int(*id)])),
                Ok(ShardId(shard))
            );
            assert!(all.insert(*id), "id {id} issued twice");
        }
    }
    assert_eq!(
        workers.len(),
        PROCESSES,
        "each process its own worker number"
    );
    assert_eq!(all.len(), PROCESSES * per_shard() * SHARDS as usize);
}

/// A generator cut off from its lease table stops issuing ids once its lease could have
/// expired; the number's next owner (one worker number in this layout) gets it only after
/// the expiry, and issues ids after the last one the first generator issued.
#[tokio::test(flavor = "multi_thread")]
async fn a_lease_that_cannot_be_renewed_stops_its_generator() {
    use common::fault_proxy::{Fault, FaultProxy};
    let db = TestDb::pg_empty("ids_lease").await;
    let proxy = FaultProxy::in_front_of(&common::pg_server_url()).await;
    let one_worker = IdLayout::new(40, 17, 0, 6).unwrap();
    let options = LeaseOptions::default()
        .ttl(Duration::from_secs(3))
        .margin(Duration::from_millis(1_500));
    let cut_off = control::<AsyncPgConnection>(&proxy.url_for(&db.url));
    let first = IdGenerator::lease(&cut_off, "control", one_worker, options)
        .await
        .unwrap();
    let direct = control::<AsyncPgConnection>(&db.url);
    assert!(
        matches!(
            IdGenerator::lease(&direct, "control", one_worker, options).await,
            Err(IdError::NoWorker { .. })
        ),
        "the only worker number is leased"
    );
    let mut last = first.next_id(1).await.unwrap();
    proxy.set(Fault::Blackhole);
    proxy.cut();
    let started = std::time::Instant::now();
    let lost = loop {
        match first.try_next_id(1) {
            Ok(id) => last = id,
            Err(e) => break e,
        }
        assert!(started.elapsed() < Duration::from_secs(10), "still issuing");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert!(
        matches!(lost, IdError::LeaseLost { worker: 0, .. }),
        "{lost}"
    );
    let second = loop {
        match IdGenerator::lease(&direct, "control", one_worker, options).await {
            Ok(g) => break g,
            Err(IdError::NoWorker { .. }) => {
                assert!(started.elapsed() < Duration::from_secs(20), "never freed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(second.worker(), 0);
    assert!(second.next_id(1).await.unwrap() > last);
}

/// Two generators leased from the lease table of `url`'s database: two worker numbers, two
/// different ids.
async fn two_leases<C: grant::ShardConnection>(url: &str) {
    let sharded = control::<C>(url);
    let lease = || {
        IdGenerator::lease(
            &sharded,
            "control",
            IdLayout::default(),
            LeaseOptions::default(),
        )
    };
    let (a, b) = (lease().await.unwrap(), lease().await.unwrap());
    assert_ne!(a.worker(), b.worker());
    assert_ne!(a.next_id(0).await.unwrap(), b.next_id(0).await.unwrap());
}

/// MariaDB and SQLite hold lease tables too.
#[tokio::test(flavor = "multi_thread")]
async fn mariadb_and_sqlite_lease_distinct_workers() {
    let db = TestDb::mysql_empty("ids_my").await;
    two_leases::<AsyncMysqlConnection>(&db.url).await;
    let db = TestDb::sqlite_empty("ids_lite").await;
    two_leases::<grant::sqlite::AsyncSqliteConnection>(&db.url).await;
}
