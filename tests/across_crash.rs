//! Crashes during two-phase commit: a child process runs one transfer across shards and
//! aborts (no cleanup, as `kill -9`) at a step of the commit, `GRANT_CRASH_AT`: after the
//! first prepare, after all prepares, after the decision, after the first branch committed.
//! Then `recover_in_doubt` runs, and: the total is unchanged, no branch is left prepared,
//! and the transfer is all or nothing: not applied when the crash came before the decision,
//! applied when it came after. On 4 PostgreSQL shards (3 in the transaction) and 2 MariaDB
//! shards. `GRANT_CRASH_ROUNDS` repeats each step (default 2; the full run used 10).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
#[path = "../schema/mod.rs"]
mod schema;

use common::{Backend, TestShards};
use grant::Sharded;
use grant::prelude::*;
use grant::shard::Modulo;
use schema::models::OrderItem;
use schema::order_items;

const OPENING: i32 = 1_000;
/// The steps, and whether the transfer is applied after a crash there.
const STEPS: [(&str, bool); 4] = [
    ("2pc.after_first_prepare", false),
    ("2pc.after_prepares", false),
    ("2pc.after_decision", true),
    ("2pc.after_first_commit", true),
];

/// The shards of `urls`, routed by order modulo their count.
fn fleet<C: grant::ShardConnection>(urls: &[String]) -> Sharded<C> {
    urls.iter()
        .enumerate()
        .fold(Sharded::<C>::builder(), |b, (i, url)| {
            b.shard(format!("s{i}"), url)
        })
        .strategy(Modulo::new(urls.len() as u32).unwrap())
        .build()
        .unwrap()
}

/// One transfer: account 0 gives 1 to each of the next accounts (one per other shard, at
/// most 2), in one transaction across shards.
macro_rules! transfer {
    ($sharded:expr, $others:expr) => {{
        let mut tx = $sharded.transaction_across().unwrap();
        let others: i64 = $others;
        let delta = i32::try_from(others).unwrap();
        tx.run(
            order_items::table
                .update_key((0, 1))
                .set(order_items::quantity.eq(order_items::quantity - delta)),
        )
        .execute()
        .await
        .unwrap();
        for account in 1..=others {
            tx.run(
                order_items::table
                    .update_key((account, 1))
                    .set(order_items::quantity.eq(order_items::quantity + 1)),
            )
            .execute()
            .await
            .unwrap();
        }
        tx.commit().await
    }};
}

/// The child: one transfer on the shards of `GRANT_CRASH_URLS`; it aborts at
/// `GRANT_CRASH_AT`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "run by the crash tests as a child process"]
async fn crash_child() {
    let urls: Vec<String> = std::env::var("GRANT_CRASH_URLS")
        .unwrap()
        .split(' ')
        .map(str::to_owned)
        .collect();
    let others = (urls.len() as i64 - 1).min(2);
    match std::env::var("GRANT_CRASH_BACKEND").unwrap().as_str() {
        "postgres" => {
            let sharded = fleet::<diesel_async::AsyncPgConnection>(&urls);
            transfer!(sharded, others).unwrap();
        }
        _ => {
            let sharded = fleet::<diesel_async::AsyncMysqlConnection>(&urls);
            transfer!(sharded, others).unwrap();
        }
    }
}

/// Balances of accounts 0..=2.
macro_rules! balances {
    ($sharded:expr, $others:expr) => {{
        let mut out = Vec::new();
        for account in 0..=$others {
            let item: OrderItem = $sharded.find((account, 1)).await.unwrap().unwrap();
            out.push(item.quantity);
        }
        out
    }};
}

macro_rules! crash_at_every_step {
    ($conn:ty, $backend:expr, $shards:expr) => {{
        let urls: Vec<String> = $shards.dbs.iter().map(|d| d.url.clone()).collect();
        let sharded = fleet::<$conn>(&urls);
        let others = (urls.len() as i64 - 1).min(2);
        for order_id in 0..=others {
            sharded
                .insert(&OrderItem {
                    order_id,
                    product_id: 1,
                    quantity: OPENING,
                })
                .await
                .unwrap();
        }
        // Creates the decision tables (a crash before that would leave nothing to settle).
        transfer!(sharded, others).unwrap();
        let rounds: usize = std::env::var("GRANT_CRASH_ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(2);
        for (step, applied) in STEPS {
            for round in 0..rounds {
                let before = balances!(sharded, others);
                let child = std::process::Command::new(std::env::current_exe().unwrap())
                    .args([
                        "crash_child",
                        "--exact",
                        "--ignored",
                        "--nocapture",
                        "--test-threads=1",
                    ])
                    .env("GRANT_CRASH_AT", step)
                    .env("GRANT_CRASH_URLS", urls.join(" "))
                    .env("GRANT_CRASH_BACKEND", $backend)
                    .output()
                    .unwrap();
                let stderr = String::from_utf8_lossy(&child.stderr);
                assert!(
                    !child.status.success()
                        && stderr.contains(&format!("crash point `{step}` reached")),
                    "{step} round {round}: the child did not crash there: {stderr}"
                );
                let settled = sharded.recover_in_doubt().await.unwrap();
                assert!(settled.unsettled.is_empty(), "{step}: {settled:?}");
                let after = balances!(sharded, others);
                let moved = i32::from(applied);
                let mut expected = before.clone();
                expected[0] -= moved * i32::try_from(others).unwrap();
                for b in expected.iter_mut().skip(1) {
                    *b += moved;
                }
                assert_eq!(after, expected, "{step} round {round}: all or nothing");
                assert_eq!(
                    sharded.recover_in_doubt().await.unwrap(),
                    grant::shard::Recovery::default(),
                    "{step}: nothing left prepared"
                );
            }
        }
        let total: i32 = balances!(sharded, others).iter().sum();
        assert_eq!(i64::from(total), (others + 1) * i64::from(OPENING));
    }};
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_crash_at_every_step() {
    let shards = TestShards::new(Backend::Pg, 4, "crash").await;
    crash_at_every_step!(diesel_async::AsyncPgConnection, "postgres", shards);
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_crash_at_every_step() {
    let shards = TestShards::new(Backend::Mysql, 2, "crash").await;
    crash_at_every_step!(diesel_async::AsyncMysqlConnection, "mysql", shards);
}
