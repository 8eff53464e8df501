//! Statement timeouts on real servers: a statement that runs too long fails in about its
//! timeout with the one error the README promises, the server is told to stop (PostgreSQL),
//! and the pool serves the next statements.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
#[path = "../schema/mod.rs"]
mod schema;

use diesel::sql_types::{BigInt, Integer};
use grant::prelude::*;
use grant::shard::Modulo;
use grant::{Error, ShardConnection};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_millis(300);

/// A read that takes about 5 s on each backend.
fn slow_read<C: ShardConnection>() -> &'static str {
    match C::BACKEND {
        "postgres" => "(SELECT 1 FROM pg_sleep(5))",
        "mysql" => "(SELECT SLEEP(5) + 1)",
        // SQLite has no sleep: count far enough (it stops when its thread is done).
        _ => {
            "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) FROM c)"
        }
    }
}

on_every_sharded_backend! {
    /// A read past its timeout fails with `StatementTimeout` naming the shard and node, in
    /// about the timeout; the next statements on the shard succeed.
    async fn reads_past_their_timeout_fail_in_time(shards) {
        let sharded = shards.builder::<Conn>().strategy(Modulo::new(shards.dbs.len() as u32).unwrap()).build().unwrap();
        let started = Instant::now();
        let result = sharded
            .run(diesel::select(diesel::dsl::sql::<BigInt>(slow_read::<Conn>())).on_shard("s1"))
            .timeout(Some(TIMEOUT))
            .get_result::<i64>()
            .await;
        let took = started.elapsed();
        match result {
            Err(Error::StatementTimeout { shard, node, after }) => {
                assert_eq!((shard.as_str(), node.as_str(), after), ("s1", "primary", TIMEOUT));
            }
            other => panic!("expected StatementTimeout, got {other:?}"),
        }
        // Known defect (issue 13): on SQLite the error comes back only when the statement ends
        // (diesel-async's `SyncConnectionWrapper` waits, when its future is dropped, for the
        // blocking task that runs the statement), so only PostgreSQL and MariaDB return within
        // the bound. The bound is the slow read's own length, not a performance figure.
        if Conn::BACKEND != "sqlite" {
            assert!(took < TIMEOUT + Duration::from_secs(2), "took {took:?}");
        }
        for _ in 0..20 {
            let one: i32 = sharded
                .run(diesel::select(1i32.into_sql::<Integer>()).on_shard("s1"))
                .get_result()
                .await
                .unwrap();
            assert_eq!(one, 1);
        }
    }
}

/// The handle's default timeout comes from the topology (`[timeouts] statement_ms`), and a
/// write past it is `WriteOutcomeUnknown`; PostgreSQL is told to cancel it, so it is not
/// applied after all.
#[tokio::test(flavor = "multi_thread")]
async fn writes_past_the_topology_timeout_are_cancelled_on_postgres() {
    let db = common::TestDb::migrated(common::Backend::Pg, "write_timeout").await;
    let toml = format!(
        "[timeouts]\nstatement_ms = {}\n[[shards]]\nname = \"s0\"\nurl = \"{}\"\n[strategy]\nkind = \"modulo\"",
        TIMEOUT.as_millis(),
        db.url
    );
    let sharded = grant::Sharded::<diesel_async::AsyncPgConnection>::from_toml_str(&toml).unwrap();
    let insert = diesel::sql_query(
        "INSERT INTO order_items (order_id, product_id, quantity) SELECT 900, 1, 1 FROM pg_sleep(5)",
    );
    let started = Instant::now();
    match sharded.run(insert.on_shard("s0")).execute().await {
        Err(Error::WriteOutcomeUnknown { shard, cause }) => {
            assert_eq!(shard, "s0");
            assert!(
                cause.contains("timed out on primary after 300ms"),
                "{cause}"
            );
        }
        other => panic!("expected WriteOutcomeUnknown, got {other:?}"),
    }
    assert!(started.elapsed() < TIMEOUT + Duration::from_secs(2));
    // The cancel request stops the server's work: the row never appears, and no statement
    // of this database is still running.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut direct = db.pg().await;
    let running: i64 = diesel_async::RunQueryDsl::get_result(
        diesel::select(diesel::dsl::sql::<BigInt>(&format!(
            "(SELECT count(*) FROM pg_stat_activity WHERE datname = '{}' AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid())",
            db.name
        ))),
        &mut direct,
    )
    .await
    .unwrap();
    assert_eq!(
        running, 0,
        "the timed-out statement still runs on the server"
    );
    let rows: i64 = sharded
        .run(schema_count().on_shard("s0"))
        .get_result()
        .await
        .unwrap();
    assert_eq!(rows, 0, "the cancelled insert was applied");
}

fn schema_count() -> diesel::dsl::select<diesel::expression::SqlLiteral<BigInt>> {
    diesel::select(diesel::dsl::sql::<BigInt>(
        "(SELECT count(*) FROM order_items)",
    ))
}

/// `None` lifts the bound for one statement; a zero timeout is refused when the topology is
/// built.
#[tokio::test(flavor = "multi_thread")]
async fn timeouts_can_be_lifted_and_must_be_positive() {
    let shards = common::TestShards::new(common::Backend::Sqlite, 1, "timeout_none").await;
    let sharded = shards
        .builder::<grant::sqlite::AsyncSqliteConnection>()
        .statement_timeout(Some(Duration::from_millis(1)))
        .strategy(Modulo::new(1).unwrap())
        .build()
        .unwrap();
    let n: i64 = sharded
        .run(diesel::select(diesel::dsl::sql::<BigInt>(
            "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000) SELECT count(*) FROM c)",
        )).on_shard("s0"))
        .timeout(None)
        .get_result()
        .await
        .unwrap();
    assert_eq!(n, 200_000);
    let zero = shards
        .builder::<grant::sqlite::AsyncSqliteConnection>()
        .statement_timeout(Some(Duration::ZERO))
        .strategy(Modulo::new(1).unwrap())
        .build();
    assert!(
        matches!(zero, Err(Error::Config(ref e)) if e.to_string() == "timeouts.statement: must be more than 0 ms"),
        "{zero:?}"
    );
}

on_every_sharded_backend! {
    /// A statement of a transaction past the timeout fails the transaction as
    /// `StatementTimeout`; nothing of it commits, and the shard serves the next statements.
    async fn transaction_statements_are_bounded(shards) {
        let sharded = shards
            .builder::<Conn>()
            .statement_timeout(Some(TIMEOUT))
            .strategy(Modulo::new(shards.dbs.len() as u32).unwrap())
            .build()
            .unwrap();
        let key = schema::order_items::ShardKey { order_id: 1 };
        let started = Instant::now();
        let result: grant::Result<()> = sharded
            .transaction(&key, async |mut tx| {
                let item = schema::models::OrderItem { order_id: 1, product_id: 1, quantity: 1 };
                tx.run(diesel::insert_into(schema::order_items::table).values(&item).for_shard_key(item.key()))
                    .execute()
                    .await?;
                let slow = diesel::select(diesel::dsl::sql::<BigInt>(slow_read::<Conn>())).for_shard_key(key.clone());
                tx.run(slow).get_result::<i64>().await?;
                Ok(())
            })
            .await;
        match result {
            Err(Error::StatementTimeout { shard, node, after }) => {
                assert_eq!((shard.as_str(), node.as_str(), after), ("s1", "primary", TIMEOUT));
            }
            other => panic!("expected StatementTimeout, got {other:?}"),
        }
        // SQLite's statement runs on the connection's own thread and can't be interrupted: the
        // transaction gives up the connection only when that statement ends (the README says
        // so). The servers' statements are abandoned at the timeout.
        if Conn::BACKEND != "sqlite" {
            assert!(started.elapsed() < TIMEOUT + Duration::from_secs(2), "{:?}", started.elapsed());
        }
        // Checked through a handle without a timeout: SQLite's statement goes on in its thread
        // until it ends (its transaction then rolls back), and a check must not time out.
        let checker = shards
            .builder::<Conn>()
            .statement_timeout(None)
            .strategy(Modulo::new(shards.dbs.len() as u32).unwrap())
            .build()
            .unwrap();
        let found = checker.find::<schema::models::OrderItem, _>((1, 1)).await;
        assert_eq!(found.unwrap(), None, "nothing of the transaction committed");
    }
}

/// `with_timeout` gives one call's statements (key operations, routed statements) a timeout
/// of their own on a handle that has none.
#[tokio::test(flavor = "multi_thread")]
async fn a_copy_of_the_handle_takes_its_own_timeout() {
    let shards = common::TestShards::new(common::Backend::Pg, 1, "with_timeout").await;
    let sharded = shards
        .builder::<diesel_async::AsyncPgConnection>()
        .statement_timeout(None)
        .strategy(Modulo::new(1).unwrap())
        .build()
        .unwrap();
    let quick = sharded.with_timeout(Some(TIMEOUT));
    let slow = diesel::select(diesel::dsl::sql::<BigInt>(slow_read::<
        diesel_async::AsyncPgConnection,
    >()));
    match quick.run(slow.on_shard("s0")).get_result::<i64>().await {
        Err(Error::StatementTimeout { shard, after, .. }) => {
            assert_eq!((shard.as_str(), after), ("s0", TIMEOUT))
        }
        other => panic!("expected StatementTimeout, got {other:?}"),
    }
    assert_eq!(
        quick
            .find::<schema::models::OrderItem, _>((1, 1))
            .await
            .unwrap(),
        None
    );
}
