//! A live topology on real servers (PostgreSQL, MariaDB, SQLite): handles built from a
//! control database take each published version while statements run (no statement fails
//! across a swap), appended shards receive the keys their new ranges name, publishes are
//! compare-and-set and refuse what a running handle could not take, and a handle whose control
//! database is cut off keeps serving with the last topology it saw, says so, and catches up
//! when it is back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
#[path = "../schema/mod.rs"]
mod schema;

use common::fault_proxy::{Fault, FaultProxy};
use common::{Backend, TestDb, TestShards};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use grant::Error;
use grant::live::{Control, WatchOptions};
use schema::models::OrderItem;
use schema::order_items;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// A topology of the first `shards` databases, each range of 1,000 order ids on its own
/// shard (the last takes every id above).
fn ranges(shards: &TestShards, count: usize) -> String {
    let mut toml = String::new();
    for (i, db) in shards.dbs.iter().take(count).enumerate() {
        toml += &format!("[[shards]]\nname = 's{i}'\nurl = '{}'\n", db.url);
    }
    toml += "[strategy]\nkind = 'range'\nranges = [";
    for i in 0..count {
        let start = i * 1000;
        let end = if i + 1 == count {
            String::new()
        } else {
            format!(", end = {}", start + 1000)
        };
        toml += &format!("{{ start = {start}{end}, shard = 's{i}' }}, ");
    }
    toml += "]\n";
    toml
}

/// How many `order_items` rows shard `i` holds, read directly.
macro_rules! rows_on {
    ($conn:ty, $shards:expr, $i:expr) => {{
        let mut conn: $conn = $shards.direct($i).await;
        order_items::table
            .count()
            .get_result::<i64>(&mut conn)
            .await
            .unwrap()
    }};
}

macro_rules! follows_published_versions {
    ($conn:ty, $backend:expr, $control:expr) => {{
        let shards = TestShards::new($backend, 3, "live").await;
        let control_db: TestDb = $control;
        let control = Control::<$conn>::new(&control_db.url, "orders").unwrap();
        assert_eq!(control.version().await.unwrap(), None);
        assert_eq!(control.publish(&ranges(&shards, 2), 0).await.unwrap(), 1);
        let options = WatchOptions::default().poll(Duration::from_millis(100));
        let sharded = control.connect(options).await.unwrap();
        assert_eq!(sharded.routing().version(), 1);
        assert_eq!(sharded.shard_count(), 2);

        // Writers and readers run through every swap: none of their statements may fail.
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..4i64)
            .map(|t| {
                let (sharded, stop, done) = (sharded.clone(), stop.clone(), done.clone());
                tokio::spawn(async move {
                    let mut i = 0i64;
                    while !AtomicBool::load(&stop, Ordering::Relaxed) || i < 20 {
                        // Ids below 2,000: on s0 and s1 in every version.
                        let item = OrderItem {
                            order_id: (t * 500 + i) % 2000,
                            product_id: t * 100_000 + i,
                            quantity: 1,
                        };
                        sharded.insert(&item).await.unwrap();
                        let found: Option<OrderItem> = sharded
                            .find::<OrderItem, _>((item.order_id, item.product_id))
                            .await
                            .unwrap();
                        assert_eq!(found, Some(item));
                        done.fetch_add(1, Ordering::Relaxed);
                        i += 1;
                    }
                })
            })
            .collect();

        // Version 2 appends s2 and gives it the ids from 2,000.
        tokio::time::sleep(Duration::from_millis(150)).await;
        // A publish that moves keys is refused unless said to be safe: ids from 2,000 have
        // no rows yet.
        let moving = control.publish(&ranges(&shards, 3), 1).await.unwrap_err();
        assert!(
            moving.to_string().contains("would change shards"),
            "{moving}"
        );
        assert_eq!(
            control
                .publish_moving(&ranges(&shards, 3), 1)
                .await
                .unwrap(),
            2
        );
        common::eventually("the handle takes version 2", async || {
            sharded.routing().version() == 2
        })
        .await;
        assert_eq!(sharded.shard_count(), 3);
        assert_eq!(sharded.shard_names(), ["s0", "s1", "s2"]);
        let status = sharded.topology_status();
        assert_eq!(status.version, 2);
        let live = status.live.unwrap();
        assert!(live.reachable() && live.refused.is_none(), "{live:?}");
        let item = OrderItem {
            order_id: 2500,
            product_id: 1,
            quantity: 7,
        };
        sharded.insert(&item).await.unwrap();
        assert_eq!(
            rows_on!($conn, shards, 2),
            1,
            "id 2500 is on s2 in version 2"
        );

        // Version 3 moves the ids from 1,000 to 2,000 to s2 as well (data not moved here:
        // the readers keep to ids below 1,000 from now on).
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await.unwrap();
        }
        assert!(AtomicU64::load(&done, Ordering::Relaxed) >= 80);
        let v3 = ranges(&shards, 3).replace("end = 2000, shard = 's1'", "end = 2000, shard = 's2'");
        assert_eq!(control.publish_moving(&v3, 2).await.unwrap(), 3);
        assert_eq!(sharded.refresh_topology().await.unwrap(), 3);
        assert_eq!(
            sharded
                .shard_for(&order_items::ShardKey { order_id: 1500 })
                .unwrap()
                .0,
            2
        );

        // A publish that names an old version lost a race; one that changes an existing
        // shard is refused before it is stored; a handle started now begins at version 3.
        let lost = control
            .publish_moving(&ranges(&shards, 2), 2)
            .await
            .unwrap_err();
        assert!(
            matches!(
                lost,
                Error::TopologyVersionConflict {
                    expected: 2,
                    found: 3,
                    ..
                }
            ),
            "{lost}"
        );
        let moved = v3.replacen(&shards.dbs[0].url, &shards.dbs[1].url, 1);
        let refused = control.publish(&moved, 3).await.unwrap_err();
        assert!(
            refused.to_string().contains("shard #0 changed"),
            "{refused}"
        );
        let dropped = ranges(&shards, 2);
        let refused = control.publish(&dropped, 3).await.unwrap_err();
        assert!(
            refused.to_string().contains("`s2` (#2) is gone"),
            "{refused}"
        );
        let bad = control
            .publish("[[shards]]\nname = 's0'\n", 3)
            .await
            .unwrap_err();
        assert!(matches!(bad, Error::Control { .. }), "{bad}");
        assert_eq!(control.version().await.unwrap(), Some(3));
        let late = control.connect(options).await.unwrap();
        assert_eq!((late.routing().version(), late.shard_count()), (3, 3));
    }};
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_follows_published_versions() {
    follows_published_versions!(
        diesel_async::AsyncPgConnection,
        Backend::Pg,
        TestDb::pg_empty("live_control").await
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_follows_published_versions() {
    follows_published_versions!(
        diesel_async::AsyncMysqlConnection,
        Backend::Mysql,
        TestDb::mysql_empty("live_control").await
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_follows_published_versions() {
    follows_published_versions!(
        grant::sqlite::AsyncSqliteConnection,
        Backend::Sqlite,
        TestDb::sqlite_empty("live_control").await
    );
}

/// PostgreSQL notifies: with a poll interval of a minute, a handle still takes a publish at
/// once.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_handles_take_a_publish_when_notified() {
    let shards = TestShards::new(Backend::Pg, 2, "live_notify").await;
    let control_db = TestDb::pg_empty("live_notify_control").await;
    let control = Control::<diesel_async::AsyncPgConnection>::new(&control_db.url, "n").unwrap();
    control.publish(&ranges(&shards, 1), 0).await.unwrap();
    let options = WatchOptions::default().poll(Duration::from_secs(60));
    let sharded = control.connect(options).await.unwrap();
    // The listener connects in the background: publish until one is taken.
    let mut version = 1;
    common::eventually("a notified handle takes the publish", async || {
        if sharded.routing().version() > 1 {
            return true;
        }
        let body = if version % 2 == 1 {
            ranges(&shards, 2)
        } else {
            ranges(&shards, 2).replace("'range'", "'range' ")
        };
        version = control.publish_moving(&body, version).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        sharded.routing().version() > 1
    })
    .await;
    assert_eq!(sharded.shard_count(), 2);
}

/// The control database cut off from a handle (not from the publisher): the handle keeps
/// serving with its last topology, says so, and takes the new version once it is back.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_handles_serve_while_the_control_database_is_unreachable() {
    let shards = TestShards::new(Backend::Pg, 2, "live_cut").await;
    let control_db = TestDb::pg_empty("live_cut_control").await;
    let proxy = FaultProxy::in_front_of(&common::pg_server_url()).await;
    type Pg = diesel_async::AsyncPgConnection;
    let publisher = Control::<Pg>::new(&control_db.url, "cut").unwrap();
    publisher.publish(&ranges(&shards, 1), 0).await.unwrap();
    let through_proxy = Control::<Pg>::new(&proxy.url_for(&control_db.url), "cut").unwrap();
    let options = WatchOptions::default()
        .poll(Duration::from_millis(100))
        .listen(false);
    let sharded = through_proxy.connect(options).await.unwrap();

    proxy.set(Fault::Refuse);
    proxy.cut();
    let cut = sharded.refresh_topology().await.unwrap_err();
    assert!(matches!(cut, Error::Control { .. }), "{cut}");
    publisher
        .publish_moving(&ranges(&shards, 2), 1)
        .await
        .unwrap();
    common::eventually(
        "the status says the control database is unreachable",
        async || {
            sharded
                .topology_status()
                .live
                .is_some_and(|l| !l.reachable() && l.last_error.is_some())
        },
    )
    .await;
    // Traffic goes on with version 1 (every id on s0).
    for i in 0..20 {
        let item = OrderItem {
            order_id: 1000 + i,
            product_id: i,
            quantity: 1,
        };
        sharded.insert(&item).await.unwrap();
        assert_eq!(
            sharded
                .find::<OrderItem, _>((item.order_id, i))
                .await
                .unwrap(),
            Some(item)
        );
    }
    assert_eq!(sharded.routing().version(), 1);
    assert_eq!(rows_on!(Pg, shards, 0), 20);

    proxy.set(Fault::None);
    common::eventually(
        "the handle takes version 2 once the control database is back",
        async || sharded.routing().version() == 2,
    )
    .await;
    let live = sharded.topology_status().live.unwrap();
    assert!(live.reachable() && live.last_error.is_none(), "{live:?}");
    assert_eq!(sharded.shard_count(), 2);
}

/// A control database URL with a password (the test server trusts, so any password
/// connects): the handle's status and debug output show it without the password.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_status_shows_no_password() {
    const SECRET: &str = "Pa55-live-s3cr3t";
    let shards = TestShards::new(Backend::Pg, 1, "live_secret").await;
    let control_db = TestDb::pg_empty("live_secret_control").await;
    let with_password = control_db.url.replacen(
        "postgres://postgres@",
        &format!("postgres://postgres:{SECRET}@"),
        1,
    );
    assert!(with_password.contains(SECRET));
    let control = Control::<diesel_async::AsyncPgConnection>::new(&with_password, "s").unwrap();
    control.publish(&ranges(&shards, 1), 0).await.unwrap();
    let sharded = control.connect(WatchOptions::default()).await.unwrap();
    let status = sharded.topology_status();
    let live = status.live.clone().unwrap();
    assert!(live.control.contains("***"), "{live:?}");
    for text in [
        format!("{status:?}"),
        format!("{control:?}"),
        format!("{sharded:?}"),
    ] {
        assert!(!text.contains(SECRET), "{text}");
    }
}

/// Shards appended with smaller pools (2 connections each) lower the handle's limit on
/// open cross-shard transactions to 2: 16 transfers at once between the two new shards, in
/// both orders, all commit. With the old limit (the first shard's 10), transactions holding
/// one new shard's connections wait for the other's until the pools time out.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_appended_small_pools_lower_the_cross_shard_limit() {
    use grant::prelude::*;
    let shards = TestShards::new(Backend::Pg, 3, "live_small_pool").await;
    let control_db = TestDb::pg_empty("live_small_pool_control").await;
    let control = Control::<diesel_async::AsyncPgConnection>::new(&control_db.url, "p").unwrap();
    let shard = |i: usize, pool: &str| {
        format!(
            "[[shards]]\nname = 's{i}'\nurl = '{}'\n{pool}",
            shards.dbs[i].url
        )
    };
    let settings = "[pool]\nconnection_timeout_ms = 3000\n";
    let one = format!(
        "{}{settings}[strategy]\nkind = 'range'\nranges = [{{ start = 0, shard = 's0' }}]\n",
        shard(0, "")
    );
    control.publish(&one, 0).await.unwrap();
    let sharded = control.connect(WatchOptions::default()).await.unwrap();
    let small = "pool = { max_size = 2 }\n";
    let three = format!(
        "{}{}{}{settings}[strategy]\nkind = 'range'\nranges = [{{ start = 0, end = 100, shard = 's0' }}, \
         {{ start = 100, end = 200, shard = 's1' }}, {{ start = 200, shard = 's2' }}]\n",
        shard(0, ""),
        shard(1, small),
        shard(2, small)
    );
    control.publish_moving(&three, 1).await.unwrap();
    assert_eq!(sharded.refresh_topology().await.unwrap(), 2);
    // Accounts 100..104 on s1, 200..204 on s2.
    let accounts = [100, 101, 102, 103, 200, 201, 202, 203];
    for order_id in accounts {
        let item = OrderItem {
            order_id,
            product_id: 1,
            quantity: 1000,
        };
        sharded.insert(&item).await.unwrap();
    }
    let tasks: Vec<_> = (0..16i64)
        .map(|t| {
            let sharded = sharded.clone();
            tokio::spawn(async move {
                // Half take s1 first, half s2 first (each on other rows: no row waits).
                let (a, b) = (100 + t % 4, 200 + (t + 1) % 4);
                let steps = if t % 2 == 0 {
                    [(a, -1), (b, 1)]
                } else {
                    [(b, -1), (a, 1)]
                };
                let mut tx = sharded.transaction_across().unwrap();
                for (account, delta) in steps {
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
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let mut total = 0i64;
    for order_id in accounts {
        let item = sharded
            .find::<OrderItem, _>((order_id, 1))
            .await
            .unwrap()
            .unwrap();
        total += i64::from(item.quantity);
    }
    assert_eq!(total, 8 * 1000);
}
