//! Sharding on real servers: PostgreSQL (4 shards as databases), MariaDB (2) and SQLite
//! (4 files). Every row is checked on the shard the strategy names by querying each shard's
//! database directly, not through grant.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
#[path = "../schema/mod.rs"]
mod schema;

use diesel_async::RunQueryDsl;
use grant::prelude::*;
use grant::shard::{
    HashStrategy, JumpHash, Lookup, Modulo, PerShard, RangeBound, RangeEntry, RangeStrategy,
};
use grant::{Error, ShardId};
use schema::models::{OrderItem, RegionData, UserSession};
use schema::{order_items, region_data, user_sessions};

fn items(orders: i64, products: i64) -> Vec<OrderItem> {
    (0..orders)
        .flat_map(|o| {
            (0..products).map(move |p| OrderItem {
                order_id: o,
                product_id: p,
                quantity: (o * 10 + p) as i32,
            })
        })
        .collect()
}

on_every_sharded_backend! {
    /// Batch inserts split by shard; every row lives on exactly the shard the strategy names.
    async fn rows_land_on_their_strategy_shard(shards) {
        let n = shards.dbs.len();
        let sharded = shards.builder::<Conn>().strategy(HashStrategy::new(n as u32).unwrap()).build().unwrap();
        let rows = items(50, 4);
        let placed = sharded.insert_all(&rows).await.expect("insert_all");
        assert_eq!(placed.total(), rows.len());
        assert_eq!(placed.len(), n);

        for (i, shard_rows) in placed.iter().enumerate() {
            let mut direct: Conn = shards.direct(i).await;
            let keys: Vec<(i64, i64)> = order_items::table
                .select((order_items::order_id, order_items::product_id))
                .load(&mut direct)
                .await
                .expect("direct read");
            assert_eq!(keys.len(), shard_rows.value, "per-shard count of {}", shard_rows.name);
            for (o, p) in keys {
                let key = order_items::Key { order_id: o, product_id: p };
                assert_eq!(sharded.shard_for(&key).expect("route"), ShardId(i as u32), "row {key} on shard {i}");
            }
        }
        // Every shard got rows (the hash spreads 50 orders).
        assert!(placed.iter().all(|r| r.value > 0), "{placed:?}");
        // The shard key is order_id: all items of an order are on one shard.
        for o in 0..50 {
            let shard = sharded.shard_for(&order_items::ShardKey { order_id: o }).unwrap();
            for p in 0..4 {
                assert_eq!(sharded.shard_for(&order_items::Key { order_id: o, product_id: p }).unwrap(), shard);
            }
        }
    }
}

on_every_sharded_backend! {
    /// A table without a declared shard key (`daily_totals`) shards by its whole key: its
    /// `ShardKey` is its `Key`, and every row lives on the shard that key names.
    async fn whole_key_tables_route_by_their_key(shards) {
        use schema::daily_totals;
        use schema::models::DailyTotal;
        let n = shards.dbs.len() as u32;
        let sharded = shards.builder::<Conn>().strategy(HashStrategy::new(n).unwrap()).build().unwrap();
        let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let rows: Vec<DailyTotal> = (1..=20)
            .flat_map(|d| ["DE", "FR"].map(|c| DailyTotal { day: day(d), country_code: c.into(), total: i64::from(d) }))
            .collect();
        let placed = sharded.insert_all(&rows).await.unwrap();
        assert_eq!(placed.total(), rows.len());
        for (i, _) in placed.iter().enumerate() {
            let mut direct: Conn = shards.direct(i).await;
            let keys: Vec<(chrono::NaiveDate, String)> = daily_totals::table
                .select((daily_totals::day, daily_totals::country_code))
                .load(&mut direct)
                .await
                .unwrap();
            for (d, c) in keys {
                // One type under both names: a `ShardKey` literal is a `Key`.
                let shard_key: daily_totals::Key = daily_totals::ShardKey { day: d, country_code: c };
                assert_eq!(sharded.shard_for(&shard_key).unwrap(), ShardId(i as u32), "{shard_key}");
            }
        }
        let found: Option<DailyTotal> = sharded.find((day(7), "FR".to_string())).await.unwrap();
        assert_eq!(found.map(|r| r.total), Some(7));
    }
}

on_every_sharded_backend! {
    /// Key operations through `Sharded`: each goes to the key's shard.
    async fn key_operations_route_by_key(shards) {
        let n = shards.dbs.len() as u32;
        let sharded = shards.builder::<Conn>().strategy(JumpHash::new(n).unwrap()).build().unwrap();
        sharded.insert_all(&items(20, 3)).await.unwrap();

        let found: Option<OrderItem> = sharded.find((7, 2)).await.unwrap();
        assert_eq!(found, Some(OrderItem { order_id: 7, product_id: 2, quantity: 72 }));
        assert_eq!(sharded.find::<OrderItem, _>((7, 9)).await.unwrap(), None);
        assert!(matches!(
            sharded.find_or_error::<OrderItem, _>((7, 9)).await,
            Err(Error::NotFound { table: "order_items", ref key }) if key == "7:9"
        ));
        assert!(sharded.exists::<OrderItem, _>(order_items::Key::builder().product_id(1).order_id(3)).await.unwrap());

        // Routed statements built by grant run where their key lives.
        let q: i32 = sharded.run(order_items::table.find_key((5, 1)).select(order_items::quantity)).get_result()
            .await
            .unwrap();
        assert_eq!(q, 51);
        let rows: Vec<OrderItem> = sharded.run(
                order_items::table
                    .filter(order_items::order_id.eq(4))
                    .order(order_items::product_id)
                    .select(OrderItem::as_select())
                    .for_shard_key(order_items::ShardKey { order_id: 4 }),
            ).load()
            .await
            .unwrap();
        assert_eq!(rows.len(), 3);
        let first: OrderItem = sharded.run(order_items::table.find_key((4, 2)).select(OrderItem::as_select())).first()
            .await
            .unwrap();
        assert_eq!(first.quantity, 42);

        // Update and delete by key; the row on its shard changes.
        sharded.update::<OrderItem, _, _, _>((4, 2), order_items::quantity.eq(1000)).await.unwrap();
        let shard = sharded.shard_for(&order_items::Key { order_id: 4, product_id: 2 }).unwrap();
        let mut direct: Conn = shards.direct(shard.index()).await;
        let q: i32 = order_items::table.find_key((4, 2)).select(order_items::quantity).get_result(&mut direct).await.unwrap();
        assert_eq!(q, 1000);
        assert!(sharded.delete::<OrderItem, _>((4, 2)).await.unwrap());
        assert!(!sharded.delete::<OrderItem, _>((4, 2)).await.unwrap());
        let n = sharded.run(order_items::table.delete_key((4, 1))).execute().await.unwrap();
        assert_eq!(n, 1);

        // find_many across shards: one statement per shard, rows in key order.
        let many: Vec<OrderItem> = sharded.find_many([(9, 0), (1, 1), (4, 2), (19, 2), (0, 0)]).await.unwrap();
        let keys: Vec<String> = many.iter().map(|r| r.key().to_string()).collect();
        assert_eq!(keys, ["9:0", "1:1", "19:2", "0:0"]);

        // Duplicate insert through the shard: typed.
        assert!(matches!(
            sharded.insert(&OrderItem { order_id: 1, product_id: 1, quantity: 0 }).await,
            Err(Error::DuplicateKey { table: "order_items", ref key, .. }) if key == "1:1"
        ));
    }
}

on_every_sharded_backend! {
    /// `on_all_shards()` runs on every shard in parallel and answers per shard; `on_shard`
    /// runs on the one named.
    async fn all_shards_and_named_shards(shards) {
        let n = shards.dbs.len();
        let sharded = shards.builder::<Conn>().strategy(Modulo::new(n as u32).unwrap()).build().unwrap();
        sharded.insert_all(&items(12, 2)).await.unwrap();

        let counts: PerShard<i64> = sharded.run(order_items::table.count().on_all_shards()).get_result().await.unwrap();
        assert_eq!(counts.len(), n);
        assert_eq!(counts.total(), 24);
        // Modulo on order_id: each shard holds the orders congruent to its index.
        for r in counts.iter() {
            let expected = (0..12).filter(|o| (o % n as i64) as u32 == r.shard.0).count() as i64 * 2;
            assert_eq!(r.value, expected, "shard {}", r.name);
        }
        let rows: PerShard<Vec<OrderItem>> = sharded.run(order_items::table.select(OrderItem::as_select()).on_all_shards()).load()
            .await
            .unwrap();
        assert_eq!(rows.concat().len(), 24);

        let s1: i64 = sharded.run(order_items::table.count().on_shard("s1")).get_result().await.unwrap();
        assert_eq!(s1, counts.by_name("s1").copied().unwrap());
        let s0: i64 = sharded.run(order_items::table.count().on_shard(ShardId(0))).get_result().await.unwrap();
        assert_eq!(s0, *counts.get(ShardId(0)).unwrap());

        let deleted: PerShard<usize> =
            sharded.run(diesel::delete(order_items::table.filter(order_items::order_id.lt(2))).on_all_shards()).execute().await.unwrap();
        assert_eq!(deleted.total(), 4);

        assert!(matches!(
            sharded.run(order_items::table.count().on_shard("nope")).get_result::<i64>().await,
            Err(Error::UnknownShard { ref shard, .. }) if shard == "shard `nope`"
        ));
    }
}

on_every_sharded_backend! {
    /// A single-shard transaction commits together, rolls back together, and refuses a
    /// statement for another shard.
    async fn single_shard_transactions(shards) {
        let n = shards.dbs.len() as u32;
        let sharded = shards.builder::<Conn>().strategy(Modulo::new(n).unwrap()).build().unwrap();
        let key = order_items::ShardKey { order_id: 1 };

        sharded
            .transaction(&key, async |mut tx| {
                let item = OrderItem { order_id: 1, product_id: 1, quantity: 1 };
                tx.run(diesel::insert_into(order_items::table).values(&item).for_shard_key(item.key())).execute().await?;
                tx.run(order_items::table.update_key((1, 1)).set(order_items::quantity.eq(5))).execute().await?;
                let q: i32 = tx.run(order_items::table.find_key((1, 1)).select(order_items::quantity)).get_result().await?;
                assert_eq!(q, 5);
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(sharded.find::<OrderItem, _>((1, 1)).await.unwrap().map(|i| i.quantity), Some(5));
        // A key builder with its shard-key column given routes as the shard key does.
        let by_builder = order_items::Key::builder().order_id(1);
        assert_eq!(sharded.shard_for(&by_builder).unwrap(), sharded.shard_for(&key).unwrap());
        sharded
            .transaction(&by_builder, async |mut tx| {
                tx.run(order_items::table.update_key((1, 1)).set(order_items::quantity.eq(6))).execute().await
            })
            .await
            .unwrap();
        assert_eq!(sharded.find::<OrderItem, _>((1, 1)).await.unwrap().map(|i| i.quantity), Some(6));
        sharded.update::<OrderItem, _, _, _>((1, 1), order_items::quantity.eq(5)).await.unwrap();

        // Order 2 lives on another shard (modulo): refused, and the whole transaction
        // (including its first insert) rolls back.
        let result = sharded
            .transaction(&key, async |mut tx| {
                let mine = OrderItem { order_id: 1, product_id: 2, quantity: 1 };
                tx.run(diesel::insert_into(order_items::table).values(&mine).for_shard_key(mine.key())).execute().await?;
                let other = OrderItem { order_id: 2, product_id: 1, quantity: 1 };
                tx.run(diesel::insert_into(order_items::table).values(&other).for_shard_key(other.key())).execute().await?;
                Ok(())
            })
            .await;
        match result {
            Err(Error::CrossShardInTransaction { transaction_shard, statement_route }) => {
                assert_eq!(transaction_shard, "s1");
                assert_eq!(statement_route, format!("shard `s{}`", 2 % n));
            }
            other => panic!("expected CrossShardInTransaction, got {other:?}"),
        }
        assert_eq!(sharded.find::<OrderItem, _>((1, 2)).await.unwrap(), None, "rolled back");
        assert_eq!(sharded.find::<OrderItem, _>((2, 1)).await.unwrap(), None);

        // A statement to every shard is refused too.
        let result: grant::Result<()> = sharded
            .transaction(&key, async |mut tx| {
                tx.run(diesel::delete(order_items::table).on_all_shards()).execute().await?;
                Ok(())
            })
            .await;
        assert!(matches!(result, Err(Error::CrossShardInTransaction { ref statement_route, .. }) if statement_route == "every shard"));
        assert!(sharded.find::<OrderItem, _>((1, 1)).await.unwrap().is_some());
    }
}

on_every_sharded_backend! {
    /// Shard keys are immutable: an update that sets one does not compile (tests/ui/
    /// update_shard_key_*.rs); key columns outside the shard key may change, through every
    /// route, and the row stays findable by its new key.
    async fn shard_keys_are_immutable(shards) {
        let n = shards.dbs.len() as u32;
        let sharded = shards.builder::<Conn>().strategy(HashStrategy::new(n).unwrap()).build().unwrap();
        sharded.insert(&OrderItem { order_id: 3, product_id: 4, quantity: 5 }).await.unwrap();
        sharded.update::<OrderItem, _, _, _>((3, 4), order_items::product_id.eq(40)).await.unwrap();
        assert!(sharded.exists::<OrderItem, _>((3, 40)).await.unwrap());
        let n = sharded
            .run(order_items::table.update_key((3, 40)).set((order_items::product_id.eq(41), order_items::quantity.eq(6))))
            .execute()
            .await
            .unwrap();
        assert_eq!(n, 1);
        let per_shard = sharded
            .run(diesel::update(order_items::table.filter(order_items::product_id.eq(41))).on_all_shards().set(order_items::quantity.eq(7)))
            .execute()
            .await
            .unwrap();
        assert_eq!(per_shard.total(), 1);
        let found = sharded.find::<OrderItem, _>((3, 41)).await.unwrap();
        assert_eq!(found.map(|i| i.quantity), Some(7));
        // A `#[derive(AsChangeset, grant::Changeset)]` struct, through `update_key` and
        // `Sharded::update`.
        #[derive(AsChangeset, grant::Changeset)]
        #[diesel(table_name = order_items)]
        struct Restock {
            quantity: i32,
        }
        sharded.run(order_items::table.update_key((3, 41)).set(&Restock { quantity: 70 })).execute().await.unwrap();
        assert_eq!(sharded.find::<OrderItem, _>((3, 41)).await.unwrap().map(|i| i.quantity), Some(70));
        sharded.update::<OrderItem, _, _, _>((3, 41), Restock { quantity: 7 }).await.unwrap();
        assert_eq!(sharded.find::<OrderItem, _>((3, 41)).await.unwrap().map(|i| i.quantity), Some(7));
        // Raw SQL can't be typed: routed by a key of its table, it is read before it runs.
        let key = order_items::ShardKey { order_id: 3 };
        let moved = sharded
            .run(diesel::sql_query("UPDATE order_items SET quantity = 8, order_id = 99 WHERE order_id = 3").for_shard_key(key.clone()))
            .execute()
            .await;
        assert!(matches!(moved, Err(Error::ShardKeyImmutable { table: "order_items", column: "order_id" })), "{moved:?}");
        let in_tx = sharded
            .transaction(&key, async |mut tx| {
                tx.run(diesel::sql_query("update order_items set order_id = 99").for_shard_key(order_items::ShardKey { order_id: 3 })).execute().await
            })
            .await;
        assert!(matches!(in_tx, Err(Error::ShardKeyImmutable { .. })), "{in_tx:?}");
        let n = sharded
            .run(diesel::sql_query("UPDATE order_items SET quantity = 8 WHERE order_id = 3").for_shard_key(key))
            .execute()
            .await
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(sharded.find::<OrderItem, _>((3, 41)).await.unwrap().map(|i| i.quantity), Some(8));
    }
}

on_every_sharded_backend! {
    /// Upsert by full key: inserted, then updated in place on the shard of its key; 16
    /// concurrent upserts of one key each take effect once; empty changes do nothing.
    async fn upserts_by_full_key(shards) {
        use grant::key::incoming;
        let n = shards.dbs.len() as u32;
        let sharded = std::sync::Arc::new(shards.builder::<Conn>().strategy(HashStrategy::new(n).unwrap()).build().unwrap());
        let set = order_items::quantity.eq(incoming(order_items::quantity));
        sharded.insert_or_update(&OrderItem { order_id: 5, product_id: 6, quantity: 1 }, set).await.unwrap();
        sharded.insert_or_update(&OrderItem { order_id: 5, product_id: 6, quantity: 2 }, set).await.unwrap();
        let found = sharded.find::<OrderItem, _>((5, 6)).await.unwrap();
        assert_eq!(found.map(|i| i.quantity), Some(2));
        // The row is on the shard its key names, and only there.
        let shard = sharded.shard_for(&order_items::ShardKey { order_id: 5 }).unwrap();
        for i in 0..shards.dbs.len() {
            let mut direct: Conn = shards.direct(i).await;
            let count: i64 = order_items::table.count().get_result(&mut direct).await.unwrap();
            assert_eq!(count, i64::from(ShardId(i as u32) == shard), "rows on shard {i}");
        }
        // 16 concurrent upserts of one new key, each adding 1.
        let add = order_items::quantity.eq(order_items::quantity + incoming(order_items::quantity));
        let runs = (0..16).map(|_| {
            let sharded = sharded.clone();
            tokio::spawn(async move {
                sharded.insert_or_update(&OrderItem { order_id: 7, product_id: 8, quantity: 1 }, add).await
            })
        });
        for run in futures_util::future::join_all(runs).await {
            run.unwrap().unwrap();
        }
        let found = sharded.find::<OrderItem, _>((7, 8)).await.unwrap();
        assert_eq!(found.map(|i| i.quantity), Some(16));
        // Empty changes (every field `None`): the existing row is left as it is.
        #[derive(AsChangeset, grant::Changeset)]
        #[diesel(table_name = order_items)]
        struct Restock {
            quantity: Option<i32>,
        }
        sharded.insert_or_update(&OrderItem { order_id: 7, product_id: 8, quantity: 99 }, Restock { quantity: None }).await.unwrap();
        assert_eq!(sharded.find::<OrderItem, _>((7, 8)).await.unwrap().map(|i| i.quantity), Some(16));
        sharded.insert_or_update(&OrderItem { order_id: 9, product_id: 9, quantity: 3 }, Restock { quantity: None }).await.unwrap();
        assert_eq!(sharded.find::<OrderItem, _>((9, 9)).await.unwrap().map(|i| i.quantity), Some(3));
        sharded.insert_or_update(&OrderItem { order_id: 9, product_id: 9, quantity: 0 }, Restock { quantity: Some(4) }).await.unwrap();
        assert_eq!(sharded.find::<OrderItem, _>((9, 9)).await.unwrap().map(|i| i.quantity), Some(4));
    }
}

on_every_sharded_backend! {
    /// Per-table strategies: region data by country (a geo lookup); sessions by user UUID.
    async fn per_table_strategies(shards) {
        let n = shards.dbs.len() as u32;
        let last = ShardId(n - 1);
        let geo = Lookup::regions(
            vec![(ShardId(0), vec!["FR".into(), "DE".into()]), (last, vec!["US".into(), "CA".into()])],
            Some(ShardId(0)),
        )
        .unwrap();
        let sharded = shards
            .builder::<Conn>()
            .strategy(HashStrategy::new(n).unwrap())
            .table_strategy::<region_data::table>(geo)
            .build()
            .unwrap();
        let regions: Vec<RegionData> = [("FR", 1), ("US", 2), ("CA", 3), ("JP", 4), ("DE", 5)]
            .into_iter()
            .map(|(c, r)| RegionData { country_code: c.into(), region_id: r, name: format!("{c}-{r}"), population: 1 })
            .collect();
        let placed = sharded.insert_all(&regions).await.unwrap();
        assert_eq!(placed.get(ShardId(0)), Some(&3)); // FR, DE and JP (default)
        assert_eq!(placed.get(last), Some(&2));
        let mut direct: Conn = shards.direct(last.index()).await;
        let mut codes: Vec<String> = region_data::table.select(region_data::country_code).load(&mut direct).await.unwrap();
        codes.sort();
        assert_eq!(codes, ["CA", "US"]);
        // Keys from borrowed values: `&str` for a text column, `&i32` for an integer one.
        let us = sharded.find::<RegionData, _>(("US", 2)).await.unwrap();
        assert_eq!(us.map(|r| r.name), Some("US-2".to_string()));
        let code = String::from("CA");
        assert!(sharded.exists::<RegionData, _>((code.as_str(), &3)).await.unwrap());
        assert!(!sharded.exists::<RegionData, _>((&code, 4)).await.unwrap());

        let user = grant::PortableUuid::new_v4();
        let created_at = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap();
        let sessions: Vec<UserSession> = (0..5)
            .map(|i| UserSession { user_id: user, session_id: grant::PortableUuid::new_v4(), device: format!("d{i}"), created_at })
            .collect();
        let placed = sharded.insert_all(&sessions).await.unwrap();
        let home = sharded.shard_for(&user_sessions::ShardKey { user_id: user }).unwrap();
        assert_eq!(placed.get(home), Some(&5), "all sessions of a user on the user's shard");
        let again = sharded.find_many::<UserSession, _>(sessions.iter().map(|s| s.key())).await.unwrap();
        assert_eq!(again, sessions);
    }
}

on_every_sharded_backend! {
    /// Typed errors: a key outside every range, and a table without a strategy.
    async fn unroutable_keys_are_typed(shards) {
        let ranges = RangeStrategy::new(
            vec![
                RangeEntry::new(Some(RangeBound::Int(0)), Some(RangeBound::Int(100)), ShardId(0)),
                RangeEntry::new(Some(RangeBound::Int(100)), Some(RangeBound::Int(200)), ShardId(1)),
            ],
            None,
        )
        .unwrap();
        let sharded = shards.builder::<Conn>().table_strategy::<order_items::table>(ranges).build().unwrap();
        sharded.insert(&OrderItem { order_id: 150, product_id: 1, quantity: 1 }).await.unwrap();
        let mut direct: Conn = shards.direct(1).await;
        let n: i64 = order_items::table.count().get_result(&mut direct).await.unwrap();
        assert_eq!(n, 1);
        match sharded.insert(&OrderItem { order_id: 250, product_id: 1, quantity: 1 }).await {
            Err(Error::KeyNotRoutable { table: "order_items", source }) => {
                assert_eq!(source.strategy, "range");
                assert_eq!(source.key, "250");
            }
            other => panic!("expected KeyNotRoutable, got {other:?}"),
        }
        assert!(matches!(
            sharded.find::<RegionData, _>(("FR".to_string(), 1)).await,
            Err(Error::NoStrategy { table: "region_data" })
        ));
    }
}

/// A shard that is down gives `ShardUnavailable` naming it; a pool that stays busy gives
/// `PoolTimeout` naming it.
#[tokio::test(flavor = "multi_thread")]
async fn unavailable_shards_and_pool_timeouts_are_typed() {
    use grant::PoolConfig;
    use std::time::Duration;
    let db = common::TestDb::migrated(common::Backend::Pg, "unavailable").await;
    let pool = PoolConfig::default()
        .max_size(1)
        .connection_timeout(Duration::from_millis(300));
    let sharded = grant::Sharded::<diesel_async::AsyncPgConnection>::builder()
        .pool(pool)
        .shard("up", &db.url)
        // Nothing listens on port 1.
        .shard("down", "postgres://postgres@127.0.0.1:1/none")
        .strategy(Modulo::new(2).unwrap())
        .build()
        .unwrap();
    match sharded
        .run(order_items::table.count().on_shard("down"))
        .get_result::<i64>()
        .await
    {
        // Refused connections fail the checkout at once (not a `PoolTimeout` after waiting).
        Err(Error::ShardUnavailable { shard, cause }) => {
            assert_eq!(shard, "down");
            assert!(cause.starts_with("primary: "), "{cause}");
        }
        other => panic!("expected ShardUnavailable, got {other:?}"),
    }
    // Every shard is asked: the one that is down makes the whole call fail, naming it.
    let all = sharded
        .run(order_items::table.count().on_all_shards())
        .get_result::<i64>()
        .await;
    assert!(
        matches!(all, Err(Error::ShardUnavailable { ref shard, .. }) if shard == "down"),
        "{all:?}"
    );

    let held = sharded.connection("up").await.unwrap();
    match sharded
        .run(order_items::table.count().on_shard("up"))
        .get_result::<i64>()
        .await
    {
        Err(Error::PoolTimeout { shard, waited }) => {
            assert_eq!(shard, "up");
            assert_eq!(waited, Duration::from_millis(300));
        }
        other => panic!("expected PoolTimeout, got {other:?}"),
    }
    drop(held);
    let n: i64 = sharded
        .run(order_items::table.count().on_shard("up"))
        .get_result()
        .await
        .unwrap();
    assert_eq!(n, 0);
}

/// A topology from TOML with `${ENV}` URLs, per-table strategies and pool settings.
#[tokio::test(flavor = "multi_thread")]
async fn topology_from_toml() {
    let shards = common::TestShards::new(common::Backend::Sqlite, 2, "toml").await;
    // An unset variable with a default: `${VAR:-default}` gives the default.
    let var = format!("GRANT_TEST_UNSET_{}", std::process::id());
    let toml = format!(
        r#"
        [pool]
        max_size = 3
        connection_timeout_ms = 1500

        [[shards]]
        name = "eu"
        url = "{}"

        [[shards]]
        name = "us"
        url = "${{{var}:-{}}}"
        pool = {{ max_size = 5 }}

        [strategy]
        kind = "modulo"

        [tables.region_data.strategy]
        kind = "lookup"
        regions = {{ eu = ["FR"], us = ["US"] }}
        default = "eu"
        "#,
        shards.dbs[0].url, shards.dbs[1].url
    );
    let sharded: grant::Sharded<grant::sqlite::AsyncSqliteConnection> =
        grant::Sharded::from_toml_str(&toml).unwrap();
    assert_eq!(sharded.shard_names(), ["eu", "us"]);
    sharded
        .insert(&OrderItem {
            order_id: 3,
            product_id: 1,
            quantity: 1,
        })
        .await
        .unwrap();
    sharded
        .insert(&RegionData {
            country_code: "US".into(),
            region_id: 1,
            name: "x".into(),
            population: 2,
        })
        .await
        .unwrap();
    let mut us: grant::sqlite::AsyncSqliteConnection = shards.direct(1).await;
    let items: i64 = order_items::table
        .count()
        .get_result(&mut us)
        .await
        .unwrap();
    let regions: i64 = region_data::table
        .count()
        .get_result(&mut us)
        .await
        .unwrap();
    assert_eq!((items, regions), (1, 1));

    // Errors name what is wrong.
    let err = grant::Topology::from_toml_str(
        "[[shards]]\nname = 'a'\nurl = '${GRANT_SURELY_UNSET_VAR}'\n",
    )
    .unwrap_err();
    assert!(err.to_string().contains("GRANT_SURELY_UNSET_VAR"), "{err}");
    let err = grant::Topology::from_toml_str(
        "[[shards]]\nname = 'a'\nurl = 'x'\n[strategy]\nkind = 'lookup'\nvalues = { FR = 'b' }\n",
    )
    .unwrap()
    .build::<grant::sqlite::AsyncSqliteConnection>()
    .unwrap_err();
    assert!(err.to_string().contains("no shard named `b`"), "{err}");
    let err = grant::Topology::from_toml_str(
        "[[shards]]\nname = 'a'\nurl = 'x'\n[[shards]]\nname = 'b'\nurl = 'y'\n[strategy]\nkind = 'range'\nranges = [{ end = 10, shard = 'a' }, { start = 5, shard = 'b' }]\n",
    )
    .unwrap()
    .build::<grant::sqlite::AsyncSqliteConnection>()
    .unwrap_err();
    assert!(err.to_string().contains("ranges overlap"), "{err}");
    let err = grant::Topology::from_toml_str("[strategy]\nkind = 'zigzag'\n").unwrap_err();
    assert!(err.to_string().contains("zigzag"), "{err}");
}

/// Migrations on every shard: reported per database, safe to run twice.
#[tokio::test(flavor = "multi_thread")]
async fn migrations_run_on_every_shard() {
    let dbs = [
        common::TestDb::pg_empty("mig_a").await,
        common::TestDb::pg_empty("mig_b").await,
    ];
    let sharded = grant::Sharded::<diesel_async::AsyncPgConnection>::builder()
        .shard("a", &dbs[0].url)
        .shard("b", &dbs[1].url)
        .strategy(HashStrategy::new(2).unwrap())
        .build()
        .unwrap();
    let report = sharded
        .run_migrations(&common::PG_MIGRATIONS)
        .await
        .unwrap();
    assert_eq!(report.len(), 2);
    assert!(report.iter().all(|db| !db.applied.is_empty()), "{report:?}");
    let again = sharded
        .run_migrations(&common::PG_MIGRATIONS)
        .await
        .unwrap();
    assert!(again.iter().all(|db| db.applied.is_empty()), "{again:?}");
    sharded
        .insert(&OrderItem {
            order_id: 1,
            product_id: 1,
            quantity: 1,
        })
        .await
        .unwrap();
}
