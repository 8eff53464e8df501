//! Reference tables (`#[grant(reference)]`) on real shards: a write lands on every shard or on
//! none (4 PostgreSQL and 2 MariaDB shards), reads run on any one shard, a join with a sharded
//! table stays on the shard its key names (routed and scattered), a shard that is down or
//! refuses the row fails the write as a whole, and SQLite shards refuse the write.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
#[path = "../schema/mod.rs"]
mod schema;

use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use grant::prelude::*;
use grant::shard::Modulo;
use grant::{Error, Sharded};
use schema::models::OrderItem;
use schema::order_items;

grant::table! {
    /// Products: small, read everywhere, joined with every shard's order items.
    #[grant(reference)]
    products (product_id) {
        /// The key.
        product_id -> BigInt,
        /// The product's name.
        name -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(order_items, products);

const CREATE_PRODUCTS: &str =
    "CREATE TABLE products (product_id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL)";

/// `products`' rows on shard `i`, read directly (not through grant).
macro_rules! rows_on {
    ($conn:ty, $shards:expr, $i:expr) => {{
        let mut conn: $conn = $shards.direct($i).await;
        products::table
            .select((products::product_id, products::name))
            .order(products::product_id)
            .load::<(i64, String)>(&mut conn)
            .await
            .unwrap()
    }};
}

macro_rules! create_products {
    ($sharded:expr) => {{
        $sharded
            .run(diesel::sql_query(CREATE_PRODUCTS).on_all_shards())
            .execute()
            .await
            .unwrap();
    }};
}

on_every_sharded_backend! {
    /// Writes go to every shard together; reads of the table alone run on any shard; a join
    /// with a sharded table runs on that table's shard, routed by key or scattered.
    async fn writes_reach_every_shard(shards) {
        let n = shards.dbs.len();
        let sharded: Sharded<Conn> = shards
            .builder::<Conn>()
            .strategy(Modulo::new(n as u32).unwrap())
            .build()
            .unwrap();
        create_products!(sharded);
        // One row per statement: diesel's SQLite backend has no multi-row insert statement.
        let insert = |id: i64, name: &'static str| {
            move || diesel::insert_into(products::table).values((products::product_id.eq(id), products::name.eq(name)))
        };
        if matches!(shards.dbs[0].backend, Backend::Sqlite) {
            // SQLite files cannot commit together: refused, nothing written.
            let refused = sharded.write_reference(insert(1, "tea")).await.unwrap_err();
            assert!(matches!(refused, Error::TwoPhaseUnavailable { .. }), "{refused}");
            for i in 0..n {
                assert!(rows_on!(Conn, shards, i).is_empty());
            }
            return;
        }
        for (id, name) in [(1, "tea"), (2, "coffee")] {
            let counts = sharded.write_reference(insert(id, name)).await.unwrap();
            assert_eq!(counts.len(), n);
            assert!(counts.iter().all(|r| r.value == 1), "{counts:?}");
        }
        let renamed = sharded
            .write_reference(|| {
                diesel::update(products::table.filter(products::product_id.eq(2)))
                    .set(products::name.eq("espresso"))
            })
            .await
            .unwrap();
        assert!(renamed.iter().all(|r| r.value == 1));
        for i in 0..n {
            assert_eq!(
                rows_on!(Conn, shards, i),
                [(1, "tea".to_owned()), (2, "espresso".to_owned())],
                "shard {i}"
            );
        }

        // The table alone: any one shard answers, the next in turn, each in full.
        for _ in 0..2 * n {
            let names: Vec<String> = sharded
                .run(products::table.select(products::name).order(products::name).on_any_shard())
                .load()
                .await
                .unwrap();
            assert_eq!(names, ["espresso", "tea"]);
        }

        // Joined with a sharded table: on the shard the order's key names.
        for order_id in 0..n as i64 {
            sharded
                .insert(&OrderItem { order_id, product_id: 1 + order_id % 2, quantity: 3 })
                .await
                .unwrap();
        }
        for order_id in 0..n as i64 {
            let lines: Vec<(i64, String)> = sharded
                .run(
                    order_items::table
                        .inner_join(products::table.on(products::product_id.eq(order_items::product_id)))
                        .filter(order_items::order_id.eq(order_id))
                        .select((order_items::order_id, products::name))
                        .for_shard_key(order_items::ShardKey { order_id }),
                )
                .load()
                .await
                .unwrap();
            let name = if order_id % 2 == 0 { "tea" } else { "espresso" };
            assert_eq!(lines, [(order_id, name.to_owned())]);
        }
        let mut all: Vec<(i64, String)> = sharded
            .scatter(order_items::table.inner_join(products::table.on(products::product_id.eq(order_items::product_id))))
            .select((order_items::order_id, products::name))
            .load()
            .await
            .unwrap();
        all.sort();
        assert_eq!(all.len(), n, "each order once, joined on its own shard: {all:?}");

        let deleted = sharded
            .write_reference(|| diesel::delete(products::table.filter(products::product_id.eq(1))))
            .await
            .unwrap();
        assert!(deleted.iter().all(|r| r.value == 1));
        for i in 0..n {
            assert_eq!(rows_on!(Conn, shards, i), [(2, "espresso".to_owned())]);
        }
    }
}

/// A shard that refuses the row (a duplicate key on that shard only) fails the write as a
/// whole: no shard has the new rows.
macro_rules! a_refusing_shard_writes_nothing {
    ($conn:ty, $backend:expr) => {{
        let shards = TestShards::new($backend, 3, "reference_refused").await;
        let sharded: Sharded<$conn> = shards.builder::<$conn>().build().unwrap();
        create_products!(sharded);
        // Shard s2 alone already holds product 7.
        let mut s2: $conn = shards.direct(2).await;
        diesel::sql_query("INSERT INTO products (product_id, name) VALUES (7, 'old')")
            .execute(&mut s2)
            .await
            .unwrap();
        let rows = [
            (products::product_id.eq(6), products::name.eq("new")),
            (products::product_id.eq(7), products::name.eq("new")),
        ];
        let err = sharded
            .write_reference(|| diesel::insert_into(products::table).values(rows.to_vec()))
            .await
            .unwrap_err();
        match &err {
            Error::ReferenceWrite {
                table,
                shard,
                source,
            } => {
                assert_eq!((*table, shard.as_str()), ("products", "s2"), "{err}");
                assert!(
                    matches!(
                        **source,
                        Error::DuplicateKey {
                            table: "products",
                            ..
                        }
                    ),
                    "{err}"
                );
            }
            other => panic!("expected ReferenceWrite on s2, got {other:?}"),
        }
        assert!(rows_on!($conn, shards, 0).is_empty());
        assert!(rows_on!($conn, shards, 1).is_empty());
        assert_eq!(rows_on!($conn, shards, 2), [(7, "old".to_owned())]);
        assert_eq!(
            sharded.recover_in_doubt().await.unwrap().unsettled,
            Vec::<String>::new()
        );
    }};
}

/// A shard that is down fails the write as a whole, naming it; the shards before it roll
/// back, so no copy changes.
macro_rules! a_down_shard_writes_nothing {
    ($conn:ty, $backend:expr, $dead_url:expr) => {{
        let shards = TestShards::new($backend, 2, "reference_down").await;
        let up: Sharded<$conn> = shards.builder::<$conn>().build().unwrap();
        create_products!(up);
        let sharded: Sharded<$conn> = Sharded::<$conn>::builder()
            .shard("s0", &shards.dbs[0].url)
            .shard("down", $dead_url)
            .shard("s1", &shards.dbs[1].url)
            .build()
            .unwrap();
        let err = sharded
            .write_reference(|| {
                diesel::insert_into(products::table)
                    .values((products::product_id.eq(1), products::name.eq("tea")))
            })
            .await
            .unwrap_err();
        match &err {
            Error::ReferenceWrite {
                table,
                shard,
                source,
            } => {
                assert_eq!((*table, shard.as_str()), ("products", "down"), "{err}");
                assert!(
                    source.write_not_applied(),
                    "the down shard took nothing: {err}"
                );
            }
            other => panic!("expected ReferenceWrite on the down shard, got {other:?}"),
        }
        assert!(rows_on!($conn, shards, 0).is_empty(), "s0 rolled back");
        assert!(rows_on!($conn, shards, 1).is_empty(), "s1 never written");
    }};
}

use common::{Backend, TestShards};

#[tokio::test(flavor = "multi_thread")]
async fn postgres_a_refusing_shard_writes_nothing() {
    a_refusing_shard_writes_nothing!(diesel_async::AsyncPgConnection, Backend::Pg);
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_a_refusing_shard_writes_nothing() {
    a_refusing_shard_writes_nothing!(diesel_async::AsyncMysqlConnection, Backend::Mysql);
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_a_down_shard_writes_nothing() {
    a_down_shard_writes_nothing!(
        diesel_async::AsyncPgConnection,
        Backend::Pg,
        "postgres://postgres@127.0.0.1:1/none"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_a_down_shard_writes_nothing() {
    a_down_shard_writes_nothing!(
        diesel_async::AsyncMysqlConnection,
        Backend::Mysql,
        "mysql://root@127.0.0.1:1/none"
    );
}

/// Raw SQL reads of the table through `on_shard` see the same copy on every shard.
#[tokio::test(flavor = "multi_thread")]
async fn sqlite_reads_any_shard() {
    let shards = TestShards::new(Backend::Sqlite, 2, "reference_sqlite").await;
    let sharded: Sharded<grant::sqlite::AsyncSqliteConnection> = shards
        .builder::<grant::sqlite::AsyncSqliteConnection>()
        .build()
        .unwrap();
    create_products!(sharded);
    // SQLite has no atomic write across files: the copies are filled shard by shard here.
    sharded
        .run(diesel::sql_query("INSERT INTO products VALUES (1, 'tea')").on_all_shards())
        .execute()
        .await
        .unwrap();
    for _ in 0..4 {
        let rows: Vec<Row> = sharded
            .run(diesel::sql_query("SELECT product_id, name FROM products").on_shard("s0"))
            .load()
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        let names: Vec<String> = sharded
            .run(products::table.select(products::name).on_any_shard())
            .load()
            .await
            .unwrap();
        assert_eq!(names, ["tea"]);
    }
}

#[derive(diesel::QueryableByName)]
#[allow(dead_code)]
struct Row {
    #[diesel(sql_type = BigInt)]
    product_id: i64,
    #[diesel(sql_type = Text)]
    name: String,
}

/// A read of a reference table on "any shard" moves on when its shard is down: every read
/// succeeds while one of three shards is unreachable.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_any_shard_reads_survive_a_down_shard() {
    type Conn = diesel_async::AsyncPgConnection;
    let shards = TestShards::new(Backend::Pg, 2, "reference_reads_down").await;
    let up: Sharded<Conn> = shards.builder::<Conn>().build().unwrap();
    create_products!(up);
    up.run(
        diesel::sql_query("INSERT INTO products (product_id, name) VALUES (1, 'tea')")
            .on_all_shards(),
    )
    .execute()
    .await
    .unwrap();
    let sharded: Sharded<Conn> = Sharded::<Conn>::builder()
        .shard("s0", &shards.dbs[0].url)
        .shard("down", "postgres://postgres@127.0.0.1:1/none")
        .shard("s1", &shards.dbs[1].url)
        .build()
        .unwrap();
    // 30 reads: the turn comes round to the shard that is down ten times or so.
    for _ in 0..30 {
        let names: Vec<String> = sharded
            .run(products::table.select(products::name).on_any_shard())
            .load()
            .await
            .unwrap();
        assert_eq!(names, ["tea"]);
    }
}
