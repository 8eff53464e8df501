//! Transactions across shards (two-phase commit) on real servers: transfers between accounts
//! on different shards keep the total on 4 PostgreSQL and 2 MariaDB shards; a statement
//! error, a drop and a failed prepare roll everything back; recovery settles branches left
//! prepared, by their decision, and decides like a coordinator that is still alive.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
#[path = "../schema/mod.rs"]
mod schema;

use common::{Backend, TestShards};
use diesel::sql_types::BigInt;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use grant::prelude::*;
use grant::shard::Modulo;
use grant::{Error, Sharded};
use schema::models::OrderItem;
use schema::order_items;

const ACCOUNTS: i64 = 8;
const OPENING: i32 = 1_000;

/// Accounts 0..8 (order_items rows `(i, 1)` holding `quantity`), two per shard on 4 shards.
macro_rules! open_accounts {
    ($conn:ty, $shards:expr) => {{
        let sharded = $shards
            .builder::<$conn>()
            .strategy(Modulo::new($shards.dbs.len() as u32).unwrap())
            .build()
            .unwrap();
        for order_id in 0..ACCOUNTS {
            sharded
                .insert(&OrderItem {
                    order_id,
                    product_id: 1,
                    quantity: OPENING,
                })
                .await
                .unwrap();
        }
        sharded
    }};
}

/// Moves `amount` from account `from` to `to` in one transaction across their shards,
/// locking the lower account first (a global order: no deadlock across shards).
macro_rules! transfer {
    ($sharded:expr, $from:expr, $to:expr, $amount:expr) => {{
        let (from, to, amount): (i64, i64, i32) = ($from, $to, $amount);
        let mut tx = $sharded.transaction_across().unwrap();
        let mut steps = [(from, -amount), (to, amount)];
        steps.sort();
        let mut result = Ok(());
        for (account, delta) in steps {
            let step = tx
                .run(
                    order_items::table
                        .update_key((account, 1))
                        .set(order_items::quantity.eq(order_items::quantity + delta)),
                )
                .execute()
                .await;
            if let Err(e) = step {
                result = Err(e);
                break;
            }
        }
        match result {
            Ok(()) => tx.commit().await,
            Err(e) => {
                tx.rollback().await;
                Err(e)
            }
        }
    }};
}

/// The sum of all balances, read on each shard.
macro_rules! total {
    ($sharded:expr) => {{
        let rows: grant::shard::PerShard<Vec<i32>> = $sharded
            .run(
                order_items::table
                    .select(order_items::quantity)
                    .on_all_shards(),
            )
            .load()
            .await
            .unwrap();
        rows.into_iter()
            .flat_map(|r| r.value)
            .map(i64::from)
            .sum::<i64>()
    }};
}

/// Concurrent transfers between accounts on different shards: every one commits, and the
/// total is what it was.
macro_rules! transfers_keep_the_total {
    ($conn:ty, $shards:expr) => {{
        let sharded: Sharded<$conn> = open_accounts!($conn, $shards);
        let tasks: Vec<_> = (0..4i64)
            .map(|t| {
                let sharded = sharded.clone();
                tokio::spawn(async move {
                    for i in 0..20i64 {
                        let from = (t + i) % ACCOUNTS;
                        let to = (from + 1) % ACCOUNTS; // the next shard
                        transfer!(sharded, from, to, 7).unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(total!(sharded), ACCOUNTS * i64::from(OPENING));
        let settled = sharded.recover_in_doubt().await.unwrap();
        assert_eq!(
            settled,
            grant::shard::Recovery::default(),
            "nothing left prepared"
        );
        sharded
    }};
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_transfers_across_4_shards() {
    let shards = TestShards::new(Backend::Pg, 4, "across").await;
    let sharded = transfers_keep_the_total!(diesel_async::AsyncPgConnection, shards);
    for (i, db) in shards.dbs.iter().enumerate() {
        let mut conn = db.pg().await;
        let prepared: i64 = diesel::select(diesel::dsl::sql::<BigInt>(
            "(SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database())",
        ))
        .get_result(&mut conn)
        .await
        .unwrap();
        assert_eq!(prepared, 0, "shard {i}");
        let decisions: i64 = diesel::select(diesel::dsl::sql::<BigInt>(
            "(SELECT count(*) FROM grant_2pc_decisions)",
        ))
        .get_result(&mut conn)
        .await
        .unwrap();
        assert_eq!(
            decisions, 0,
            "shard {i}: decisions are forgotten once followed"
        );
    }
    drop(sharded);
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_transfers_across_2_shards() {
    let shards = TestShards::new(Backend::Mysql, 2, "across").await;
    transfers_keep_the_total!(diesel_async::AsyncMysqlConnection, shards);
}

/// A statement error, a dropped transaction and a failed prepare each leave every shard as
/// it was.
#[tokio::test(flavor = "multi_thread")]
async fn failures_roll_back_every_shard() {
    let shards = TestShards::new(Backend::Pg, 2, "across_fail").await;
    let sharded = open_accounts!(diesel_async::AsyncPgConnection, shards);
    let balance = async |account: i64| -> i32 {
        sharded
            .find::<OrderItem, _>((account, 1))
            .await
            .unwrap()
            .unwrap()
            .quantity
    };

    // A statement fails on the second shard (a duplicate key): rolled back, explicitly.
    let mut tx = sharded.transaction_across().unwrap();
    tx.run(
        order_items::table
            .update_key((0, 1))
            .set(order_items::quantity.eq(0)),
    )
    .execute()
    .await
    .unwrap();
    let duplicate = tx
        .run(
            diesel::insert_into(order_items::table)
                .values(&OrderItem {
                    order_id: 1,
                    product_id: 1,
                    quantity: 1,
                })
                .for_shard_key(order_items::ShardKey { order_id: 1 }),
        )
        .execute()
        .await;
    assert!(
        matches!(duplicate, Err(Error::DuplicateKey { .. })),
        "{duplicate:?}"
    );
    tx.rollback().await;
    assert_eq!(balance(0).await, OPENING);

    // Dropped without a commit: rolled back.
    {
        let mut tx = sharded.transaction_across().unwrap();
        tx.run(
            order_items::table
                .update_key((0, 1))
                .set(order_items::quantity.eq(0)),
        )
        .execute()
        .await
        .unwrap();
    }
    assert_eq!(balance(0).await, OPENING);

    // The second shard refuses to prepare (a deferred unique constraint, checked at
    // PREPARE): nothing commits anywhere.
    let mut direct = shards.dbs[1].pg().await;
    direct
        .batch_execute("CREATE TABLE deferred (k INT UNIQUE DEFERRABLE INITIALLY DEFERRED)")
        .await
        .unwrap();
    let mut tx = sharded.transaction_across().unwrap();
    tx.run(
        order_items::table
            .update_key((0, 1))
            .set(order_items::quantity.eq(0)),
    )
    .execute()
    .await
    .unwrap();
    tx.run(
        grant::shard::writes(diesel::sql_query("INSERT INTO deferred VALUES (1), (1)"))
            .on_shard("s1"),
    )
    .execute()
    .await
    .unwrap();
    let refused = tx.commit().await;
    assert!(
        matches!(&refused, Err(Error::TransactionAborted { cause, .. }) if cause.contains("`s1` could not prepare")),
        "{refused:?}"
    );
    assert_eq!(balance(0).await, OPENING);
    let rows: i64 = diesel::select(diesel::dsl::sql::<BigInt>(
        "(SELECT count(*) FROM deferred)",
    ))
    .get_result(&mut direct)
    .await
    .unwrap();
    assert_eq!(rows, 0);
    assert_eq!(
        sharded.recover_in_doubt().await.unwrap(),
        grant::shard::Recovery::default()
    );
}

/// Branches left prepared by a coordinator that stopped: with no decision, recovery aborts;
/// with `commit` recorded, it commits; and while a coordinator's `commit` is still
/// uncommitted on the decider, recovery waits for it and follows it.
#[tokio::test(flavor = "multi_thread")]
async fn recovery_follows_the_decision() {
    let shards = TestShards::new(Backend::Pg, 2, "across_rec").await;
    let sharded = open_accounts!(diesel_async::AsyncPgConnection, shards);
    // Creates the decision tables.
    transfer!(sharded, 0, 1, 1).unwrap();
    let (s0, s1) = (
        grant::__private::two_phase_name_hash("s0", &shards.dbs[0].name),
        grant::__private::two_phase_name_hash("s1", &shards.dbs[1].name),
    );
    // A branch on s1 (account 1 += 100) of a transaction decided on s0, prepared and left.
    let leave_prepared = async |n: u32| -> String {
        let id = format!("grant-{:032x}-{s0}", n);
        let mut conn = shards.dbs[1].pg().await;
        conn.batch_execute(&format!(
            "BEGIN; UPDATE order_items SET quantity = quantity + 100 WHERE order_id = 1; \
             PREPARE TRANSACTION '{id}-{s1}'"
        ))
        .await
        .unwrap();
        id
    };
    let account_1 = async || -> i32 {
        sharded
            .find::<OrderItem, _>((1, 1))
            .await
            .unwrap()
            .unwrap()
            .quantity
    };
    let before = account_1().await;

    // No decision: aborted.
    leave_prepared(1).await;
    let settled = sharded.recover_in_doubt().await.unwrap();
    assert_eq!((settled.committed, settled.rolled_back), (0, 1));
    assert_eq!(account_1().await, before);

    // `commit` recorded: committed.
    let id = leave_prepared(2).await;
    let mut decider = shards.dbs[0].pg().await;
    decider
        .batch_execute(&format!(
            "INSERT INTO grant_2pc_decisions (id, decision) VALUES ('{id}', 'commit')"
        ))
        .await
        .unwrap();
    let settled = sharded.recover_in_doubt().await.unwrap();
    assert_eq!((settled.committed, settled.rolled_back), (1, 0));
    assert_eq!(account_1().await, before + 100);
    // Idempotent.
    assert_eq!(
        sharded.recover_in_doubt().await.unwrap(),
        grant::shard::Recovery::default()
    );

    // A slow coordinator: its `commit` is written but not yet committed when recovery runs.
    let id = leave_prepared(3).await;
    decider
        .batch_execute(&format!(
            "BEGIN; INSERT INTO grant_2pc_decisions (id, decision) VALUES ('{id}', 'commit')"
        ))
        .await
        .unwrap();
    let recovery = {
        let sharded = sharded.clone();
        tokio::spawn(async move { sharded.recover_in_doubt().await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        !recovery.is_finished(),
        "recovery waits for the live coordinator"
    );
    decider.batch_execute("COMMIT").await.unwrap();
    let settled = recovery.await.unwrap().unwrap();
    assert_eq!((settled.committed, settled.rolled_back), (1, 0));
    assert_eq!(account_1().await, before + 200);
}

/// SQLite shards are refused before anything runs.
#[tokio::test(flavor = "multi_thread")]
async fn sqlite_is_refused() {
    let shards = TestShards::new(Backend::Sqlite, 2, "across_lite").await;
    let sharded = shards
        .builder::<grant::sqlite::AsyncSqliteConnection>()
        .strategy(Modulo::new(2).unwrap())
        .build()
        .unwrap();
    let refused = sharded.transaction_across();
    assert!(
        matches!(&refused, Err(Error::TwoPhaseUnavailable { reason, .. }) if reason.contains("sqlite")),
        "{refused:?}"
    );
}

/// `insert_all_atomic`: rows land on every shard, or, when one shard refuses its rows (a
/// duplicate key there), on none.
#[tokio::test(flavor = "multi_thread")]
async fn atomic_batches_are_all_or_nothing() {
    let shards = TestShards::new(Backend::Pg, 4, "across_batch").await;
    let sharded = open_accounts!(diesel_async::AsyncPgConnection, shards);
    let batch: Vec<OrderItem> = (100..140)
        .map(|order_id| OrderItem {
            order_id,
            product_id: 1,
            quantity: 1,
        })
        .collect();
    let placed = sharded.insert_all_atomic(&batch).await.unwrap();
    assert_eq!(placed.total(), 40);
    assert!(placed.iter().all(|r| r.value == 10), "10 rows per shard");

    // The next batch holds a row that exists on s3 (order 3): nothing of it lands.
    let mut spoiled: Vec<OrderItem> = (200..240)
        .map(|order_id| OrderItem {
            order_id,
            product_id: 1,
            quantity: 1,
        })
        .collect();
    spoiled.push(OrderItem {
        order_id: 3,
        product_id: 1,
        quantity: 1,
    });
    let refused = sharded.insert_all_atomic(&spoiled).await;
    assert!(
        matches!(refused, Err(Error::DuplicateKey { .. })),
        "{refused:?}"
    );
    let counts: grant::shard::PerShard<i64> = sharded
        .run(order_items::table.count().on_all_shards())
        .get_result()
        .await
        .unwrap();
    assert_eq!(
        counts.total(),
        ACCOUNTS + 40,
        "no row of the refused batch anywhere"
    );
}

/// Atomic migrations on 3 PostgreSQL databases: applied everywhere; a migration that fails
/// on one database is applied nowhere (its DDL on the others rolled back); MySQL is refused
/// with the reason.
#[tokio::test(flavor = "multi_thread")]
async fn atomic_migrations_apply_everywhere_or_nowhere() {
    use common::TestDb;
    let dbs = [
        TestDb::pg_empty("atomic_mig0").await,
        TestDb::pg_empty("atomic_mig1").await,
        TestDb::pg_empty("atomic_mig2").await,
    ];
    let databases: Vec<(String, String)> = dbs
        .iter()
        .enumerate()
        .map(|(i, d)| (format!("s{i}"), d.url.clone()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    let add = |name: &str, up: &str| {
        let folder = migrations.join(name);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("up.sql"), up).unwrap();
        std::fs::write(folder.join("down.sql"), "SELECT 1;").unwrap();
    };
    add(
        "2026-12-01-000000_first",
        "CREATE TABLE first (id INT PRIMARY KEY);",
    );
    add(
        "2026-12-02-000000_second",
        "CREATE TABLE second (id INT PRIMARY KEY);",
    );
    let applied =
        grant::migrate::run_atomic::<diesel_async::AsyncPgConnection>(&databases, &migrations)
            .await
            .unwrap();
    assert_eq!(
        applied,
        ["2026-12-01-000000_first", "2026-12-02-000000_second"]
    );

    // A third migration fails on s2 only (its table exists there).
    dbs[2]
        .pg()
        .await
        .batch_execute("CREATE TABLE third (id INT)")
        .await
        .unwrap();
    add(
        "2026-12-03-000000_third",
        "CREATE TABLE third (id INT PRIMARY KEY);",
    );
    let failed =
        grant::migrate::run_atomic::<diesel_async::AsyncPgConnection>(&databases, &migrations)
            .await;
    match failed {
        Err(Error::Migration(e)) => {
            assert_eq!(e.database, "s2");
            assert_eq!(e.migration, "2026-12-03-000000_third");
        }
        other => panic!("{other:?}"),
    }
    for (i, db) in dbs.iter().enumerate().take(2) {
        let mut conn = db.pg().await;
        let tables: i64 = diesel::select(diesel::dsl::sql::<BigInt>(
            "(SELECT count(*) FROM information_schema.tables WHERE table_name = 'third')",
        ))
        .get_result(&mut conn)
        .await
        .unwrap();
        assert_eq!(tables, 0, "s{i}: the failed migration's DDL rolled back");
        let versions: i64 = diesel::select(diesel::dsl::sql::<BigInt>(
            "(SELECT count(*) FROM __diesel_schema_migrations)",
        ))
        .get_result(&mut conn)
        .await
        .unwrap();
        assert_eq!(versions, 2, "s{i}");
    }

    let my = TestDb::mysql_empty("atomic_mig_my").await;
    let refused = grant::migrate::run_atomic::<diesel_async::AsyncMysqlConnection>(
        &[("m0".to_owned(), my.url.clone())],
        &migrations,
    )
    .await;
    assert!(
        matches!(&refused, Err(Error::TwoPhaseUnavailable { reason, .. }) if reason.contains("implicitly")),
        "{refused:?}"
    );
}

/// Two fleets with the same shard names on one MariaDB server (whose `XA RECOVER` lists every
/// database's branches): one fleet's recovery leaves the other's prepared branch alone; the
/// owner's recovery settles it.
#[tokio::test(flavor = "multi_thread")]
async fn recovery_touches_only_its_own_databases() {
    let a = TestShards::new(Backend::Mysql, 2, "across_own_a").await;
    let b = TestShards::new(Backend::Mysql, 2, "across_own_b").await;
    let fleet_a = open_accounts!(diesel_async::AsyncMysqlConnection, a);
    let fleet_b = open_accounts!(diesel_async::AsyncMysqlConnection, b);
    let (s0, s1) = (
        grant::__private::two_phase_name_hash("s0", &a.dbs[0].name),
        grant::__private::two_phase_name_hash("s1", &a.dbs[1].name),
    );
    let xid = format!("'grant-{:032x}-{s0}','{s1}'", 42);
    let mut conn = a.dbs[1].mysql().await;
    conn.batch_execute(&format!("XA START {xid}"))
        .await
        .unwrap();
    conn.batch_execute("UPDATE order_items SET quantity = 0 WHERE order_id = 1")
        .await
        .unwrap();
    conn.batch_execute(&format!("XA END {xid}")).await.unwrap();
    conn.batch_execute(&format!("XA PREPARE {xid}"))
        .await
        .unwrap();
    drop(conn);

    let other = fleet_b.recover_in_doubt().await.unwrap();
    assert_eq!(
        other,
        grant::shard::Recovery::default(),
        "not fleet B's branch"
    );
    let own = fleet_a.recover_in_doubt().await.unwrap();
    assert_eq!((own.committed, own.rolled_back), (0, 1));
    let item: OrderItem = fleet_a.find((1, 1)).await.unwrap().unwrap();
    assert_eq!(item.quantity, OPENING, "rolled back");
}

/// A participant whose server goes away after its statements ran and before it prepared
/// (every connection to it cut, new ones refused): the commit fails naming it, and every
/// shard is as it was: the decider rolled back, the lost branch was never prepared (its
/// server aborted it with the connection), and a recovery finds nothing to settle.
macro_rules! a_participant_lost_before_prepare_aborts {
    ($conn:ty, $backend:expr) => {{
        use common::fault_proxy::{Fault, FaultProxy};
        let shards = TestShards::new($backend, 2, "across_lost").await;
        let proxy = FaultProxy::in_front_of(&shards.dbs[1].url).await;
        let sharded: Sharded<$conn> = Sharded::<$conn>::builder()
            .shard("s0", &shards.dbs[0].url)
            .shard("s1", proxy.url_for(&shards.dbs[1].url))
            .strategy(Modulo::new(2).unwrap())
            .build()
            .unwrap();
        for order_id in 0..2 {
            sharded
                .insert(&OrderItem {
                    order_id,
                    product_id: 1,
                    quantity: OPENING,
                })
                .await
                .unwrap();
        }
        let mut tx = sharded.transaction_across().unwrap();
        for (account, delta) in [(0i64, -5i32), (1, 5)] {
            tx.run(
                order_items::table
                    .update_key((account, 1))
                    .set(order_items::quantity.eq(order_items::quantity + delta)),
            )
            .execute()
            .await
            .unwrap();
        }
        proxy.set(Fault::Refuse);
        proxy.cut();
        let err = tx.commit().await.unwrap_err();
        assert!(matches!(err, Error::TransactionAborted { .. }), "{err}");
        assert!(
            err.to_string().contains("s1"),
            "names the lost shard: {err}"
        );
        proxy.set(Fault::None);
        for account in 0..2i64 {
            let mut conn: $conn = shards.direct(account as usize).await;
            let quantity: i32 = order_items::table
                .find((account, 1))
                .select(order_items::quantity)
                .get_result(&mut conn)
                .await
                .unwrap();
            assert_eq!(quantity, OPENING, "account {account} unchanged");
        }
        common::eventually(
            "the lost branch is gone and nothing is left to settle",
            async || {
                let report = sharded.recover_in_doubt().await.unwrap();
                report.committed == 0 && report.rolled_back == 0 && report.unsettled.is_empty()
            },
        )
        .await;
    }};
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_a_participant_lost_before_prepare_aborts() {
    a_participant_lost_before_prepare_aborts!(diesel_async::AsyncPgConnection, Backend::Pg);
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_a_participant_lost_before_prepare_aborts() {
    a_participant_lost_before_prepare_aborts!(diesel_async::AsyncMysqlConnection, Backend::Mysql);
}

/// The first transactions on fresh shards, 8 at once: each shard's decision table is
/// created once, whoever comes first (PostgreSQL's `CREATE TABLE IF NOT EXISTS` races with
/// itself: the benchmark's 16 tasks once failed on it), and every transfer commits.
macro_rules! first_transactions_at_once {
    ($conn:ty, $backend:expr) => {{
        let shards = TestShards::new($backend, 2, "across_first").await;
        let sharded: Sharded<$conn> = open_accounts!($conn, shards);
        // 32 at once over pools of 10: each transaction holds one connection per shard
        // while it waits for the other shard's; grant admits as many open transactions as
        // the smallest pool holds, so they cannot exhaust each other's pools.
        let tasks: Vec<_> = (0..32i64)
            .map(|t| {
                let sharded = sharded.clone();
                tokio::spawn(async move {
                    let from = t % ACCOUNTS;
                    let to = (from + 1) % ACCOUNTS;
                    // Locks are taken in account order: every transfer commits.
                    transfer!(sharded, from, to, 1).unwrap();
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(total!(sharded), ACCOUNTS * i64::from(OPENING));
    }};
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_first_transactions_at_once() {
    first_transactions_at_once!(diesel_async::AsyncPgConnection, Backend::Pg);
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_first_transactions_at_once() {
    first_transactions_at_once!(diesel_async::AsyncMysqlConnection, Backend::Mysql);
}
