//! The error variants that only failures produce, each produced for real and required
//! exactly: a server error on a shard, a key operation's server error on a plain connection,
//! a write refused by a read-only server, an aggregate that overflows when merged, a key
//! that does not parse, and diesel's own error from user code in a transaction.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../schema/mod.rs"]
mod schema;

use grant::Error;
use grant::prelude::*;
use grant::scatter::agg;
use grant::shard::Modulo;
use schema::models::OrderItem;
use schema::order_items;
use std::time::{Duration, Instant};

/// A server error in a routed statement names the shard (no table: the statement was routed
/// by shard name).
#[tokio::test(flavor = "multi_thread")]
async fn a_server_error_on_a_shard_is_shard_query() {
    let db = common::TestDb::migrated(common::Backend::Pg, "shard_query").await;
    let sharded = grant::Sharded::<diesel_async::AsyncPgConnection>::builder()
        .shard("s0", &db.url)
        .strategy(Modulo::new(1).unwrap())
        .build()
        .unwrap();
    let failed = sharded
        .run(diesel::sql_query("SELECT * FROM grant_no_such_table").on_shard("s0"))
        .execute()
        .await;
    match failed {
        Err(Error::ShardQuery {
            shard,
            table,
            source,
        }) => {
            assert_eq!((shard.as_str(), table), ("s0", None));
            assert!(
                source.to_string().contains("grant_no_such_table"),
                "{source}"
            );
        }
        other => panic!("expected ShardQuery, got {other:?}"),
    }
}

/// A key operation on a plain connection whose statement the server refuses names the table.
#[tokio::test(flavor = "multi_thread")]
async fn a_key_operations_server_error_is_query() {
    let db = common::TestDb::sqlite_empty("query_error").await;
    let mut conn = db.sqlite().await;
    match OrderItem::find(&mut conn, (1, 2)).await {
        Err(Error::Query { table, source }) => {
            assert_eq!(table, "order_items");
            assert!(source.to_string().contains("no such table"), "{source}");
        }
        other => panic!("expected Query, got {other:?}"),
    }
}

/// A write sent to a server that is read-only (a standby listed as the primary) was
/// certainly not applied: `WriteNotApplied`, naming the shard and the server's reason.
#[tokio::test(flavor = "multi_thread")]
async fn a_write_refused_as_read_only_is_write_not_applied() {
    let db = common::TestDb::migrated(common::Backend::Pg, "not_applied").await;
    let sharded = grant::Sharded::<diesel_async::AsyncPgConnection>::builder()
        .shard("s0", db.replica_url())
        .strategy(Modulo::new(1).unwrap())
        .build()
        .unwrap();
    // The standby replays the new database and its tables shortly.
    let started = Instant::now();
    loop {
        let seen = sharded
            .run(order_items::table.count().on_shard("s0"))
            .get_result::<i64>()
            .await;
        if seen.is_ok() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the standby never had the table: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let item = OrderItem {
        order_id: 1,
        product_id: 2,
        quantity: 3,
    };
    match sharded.insert(&item).await {
        Err(e @ Error::WriteNotApplied { .. }) => {
            assert!(e.write_not_applied());
            let Error::WriteNotApplied { shard, cause } = e else {
                unreachable!()
            };
            assert_eq!(shard, "s0");
            assert!(cause.contains("read-only"), "{cause}");
        }
        other => panic!("expected WriteNotApplied, got {other:?}"),
    }
}

/// 64-bit sums that fit on each shard but not together are `AggregateOverflow`, not a
/// wrapped number. (Diesel sums a `BigInt` column as `Numeric`, which grant merges exactly;
/// `SUM` of an `Integer` is a 64-bit `BigInt`. SQLite, which does not check declared types,
/// sums these 64-bit values declared as `Integer` as 64-bit integers.)
#[tokio::test(flavor = "multi_thread")]
async fn a_merged_sum_past_i64_is_aggregate_overflow() {
    let shards = common::TestShards::new(common::Backend::Sqlite, 2, "overflow").await;
    let sharded = shards
        .builder::<grant::sqlite::AsyncSqliteConnection>()
        .strategy(Modulo::new(2).unwrap())
        .build()
        .unwrap();
    let big = 5_000_000_000_000_000_000_i64;
    let items = [
        OrderItem {
            order_id: big,
            product_id: 1,
            quantity: 1,
        },
        OrderItem {
            order_id: big + 1,
            product_id: 1,
            quantity: 1,
        },
    ];
    let placed = sharded.insert_all(&items).await.unwrap();
    assert_eq!(placed.iter().map(|r| r.value).collect::<Vec<_>>(), [1, 1]);
    match sharded
        .scatter(order_items::table)
        .aggregate(agg::sum(diesel::dsl::sql::<diesel::sql_types::Integer>(
            "order_id",
        )))
        .await
    {
        Err(Error::AggregateOverflow { aggregate, reason }) => {
            assert_eq!(aggregate, "sum");
            assert!(!reason.is_empty());
        }
        other => panic!("expected AggregateOverflow, got {other:?}"),
    }
}

/// A key read from text (a URL segment) that does not parse, propagated with `?` in a
/// function returning `grant::Result`, is `KeyParse`, naming the table and the part.
#[test]
fn a_key_that_does_not_parse_is_key_parse() {
    fn key_of(segment: &str) -> grant::Result<order_items::Key> {
        Ok(segment.parse()?)
    }
    assert_eq!(
        key_of("7:9").unwrap(),
        order_items::Key {
            order_id: 7,
            product_id: 9
        }
    );
    match key_of("7:x") {
        Err(Error::KeyParse(e)) => {
            let message = e.to_string();
            assert!(message.contains("order_items"), "{message}");
        }
        other => panic!("expected KeyParse, got {other:?}"),
    }
}

/// Diesel's own error from a statement run on a transaction's connection, propagated with
/// `?`, is `Database` (grant ran nothing itself, so it names no shard), and the transaction
/// rolls back.
#[tokio::test(flavor = "multi_thread")]
async fn diesel_errors_in_user_code_are_database() {
    let db = common::TestDb::migrated(common::Backend::Pg, "database_error").await;
    let sharded = grant::Sharded::<diesel_async::AsyncPgConnection>::builder()
        .shard("s0", &db.url)
        .strategy(Modulo::new(1).unwrap())
        .build()
        .unwrap();
    let key = order_items::ShardKey { order_id: 1 };
    let failed = sharded
        .transaction(&key, async |mut tx| {
            let item = OrderItem {
                order_id: 1,
                product_id: 1,
                quantity: 1,
            };
            tx.run(
                diesel::insert_into(order_items::table)
                    .values(&item)
                    .for_shard_key(item.key()),
            )
            .execute()
            .await?;
            diesel_async::RunQueryDsl::execute(
                diesel::sql_query("SELECT * FROM grant_no_such_table"),
                tx.connection(),
            )
            .await?;
            Ok(())
        })
        .await;
    match failed {
        Err(Error::Database(source)) => {
            assert!(
                source.to_string().contains("grant_no_such_table"),
                "{source}"
            );
        }
        other => panic!("expected Database, got {other:?}"),
    }
    assert!(
        !sharded.exists::<OrderItem, _>((1, 1)).await.unwrap(),
        "rolled back"
    );
}
