//! Routing that cannot go wrong, on real servers: scatter pruned to the shards of given shard
//! keys or of a key range (a shard that must not be asked has no table, so asking it fails),
//! and joins and transactions of co-located tables routed by one key. The compile-time half
//! (a key of another table, a shard-key update, a routed statement handed to scatter) is in
//! `tests/ui`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
#[path = "../schema/mod.rs"]
mod schema;

use diesel_async::RunQueryDsl;
use grant::ShardId;
use grant::prelude::*;
use grant::shard::{RangeBound, RangeEntry, RangeStrategy};
use schema::models::{OrderItem, Shipment};
use schema::{order_items, shipments};

/// Shard `i` holds orders `i * 1000 .. (i + 1) * 1000`.
fn thousands(n: usize) -> RangeStrategy {
    let entries = (0..n)
        .map(|i| {
            let start = (i > 0).then(|| RangeBound::Int(i as i64 * 1000));
            let end = (i + 1 < n).then(|| RangeBound::Int((i as i64 + 1) * 1000));
            RangeEntry::new(start, end, ShardId(i as u32))
        })
        .collect();
    RangeStrategy::new(entries, None).unwrap()
}

on_every_sharded_backend! {
    /// A scatter pinned to shard keys, or to a key range, asks only their shards.
    async fn scatter_asks_only_the_shards_of_its_keys(shards) {
        let n = shards.dbs.len();
        let sharded = shards.builder::<Conn>().strategy(thousands(n)).build().unwrap();
        let rows: Vec<OrderItem> = (0..n as i64)
            .flat_map(|s| (0..3).map(move |p| OrderItem { order_id: s * 1000 + 5, product_id: p, quantity: 1 }))
            .collect();
        sharded.insert_all(&rows).await.unwrap();
        // The last shard loses its table: any query that asks it fails.
        let last = n - 1;
        let mut direct: Conn = shards.direct(last).await;
        diesel::sql_query("DROP TABLE shipments").execute(&mut direct).await.unwrap();
        diesel::sql_query("DROP TABLE order_items").execute(&mut direct).await.unwrap();
        let everywhere = sharded.scatter(order_items::table).count().await;
        assert!(everywhere.is_err(), "{everywhere:?}");

        // Orders on every shard but the last.
        let orders: Vec<i64> = (0..last as i64).map(|s| s * 1000 + 5).collect();
        let pinned = sharded
            .scatter(order_items::table.filter(order_items::order_id.eq_any(orders.clone())))
            .for_shard_keys(orders.into_iter().map(order_items::ShardKey::from))
            .unwrap()
            .count()
            .await
            .unwrap();
        assert_eq!(pinned, 3 * last as i64);

        let below_last = (last as i64) * 1000;
        let ranged = sharded
            .scatter(order_items::table)
            .for_shard_key_range(order_items::ShardKey::from(0)..order_items::ShardKey::from(below_last))
            .unwrap()
            .count()
            .await
            .unwrap();
        assert_eq!(ranged, 3 * last as i64);

        let into_last = sharded
            .scatter(order_items::table)
            .for_shard_key_range(order_items::ShardKey::from(below_last - 1)..)
            .unwrap()
            .count()
            .await;
        assert!(into_last.is_err(), "the range reaches the last shard: {into_last:?}");

        // A key no shard holds: pruning refuses it with the routing error, before any query.
        let first_only = RangeStrategy::new(vec![RangeEntry::new(None, Some(RangeBound::Int(1000)), ShardId(0))], None).unwrap();
        let narrow = shards.builder::<Conn>().strategy(first_only).build().unwrap();
        let unroutable = narrow.scatter(order_items::table).for_shard_keys([order_items::ShardKey::from(5000)]);
        match unroutable {
            Err(grant::Error::KeyNotRoutable { table: "order_items", source }) => assert_eq!(source.key, "5000"),
            other => panic!("expected KeyNotRoutable, got {:?}", other.err()),
        }
    }
}

on_every_sharded_backend! {
    /// Co-located tables (`shipments` with `order_items`, both by order_id): a join and a
    /// transaction across both are routed by one shard key.
    async fn colocated_tables_route_by_one_key(shards) {
        let n = shards.dbs.len();
        let sharded = shards.builder::<Conn>().strategy(thousands(n)).build().unwrap();
        let order = (n as i64 - 1) * 1000 + 7;
        let key = order_items::ShardKey { order_id: order };
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        sharded
            .transaction(&key, async |mut tx| {
                let item = OrderItem { order_id: order, product_id: 1, quantity: 2 };
                tx.run(diesel::insert_into(order_items::table).values(&item).for_shard_key(item.key())).execute().await?;
                let shipment = Shipment { order_id: order, product_id: 1, shipment_id: 1, carrier: "DHL".into(), shipped_on: day };
                // A shipments statement routed by the order_items key: co-located.
                tx.run(diesel::insert_into(shipments::table).values(&shipment).for_shard_key(order_items::ShardKey { order_id: order }))
                    .execute()
                    .await
            })
            .await
            .unwrap();
        let joined: Vec<(i32, String)> = sharded
            .run(
                order_items::table
                    .inner_join(shipments::table.on(shipments::order_id.eq(order_items::order_id).and(shipments::product_id.eq(order_items::product_id))))
                    .filter(order_items::order_id.eq(order))
                    .select((order_items::quantity, shipments::carrier))
                    .for_shard_key(key),
            )
            .load()
            .await
            .unwrap();
        assert_eq!(joined, vec![(2, "DHL".to_string())]);
        // The rows are on the shard the key names, read directly.
        let mut direct: Conn = shards.direct(n - 1).await;
        let there: i64 = shipments::table.count().get_result(&mut direct).await.unwrap();
        assert_eq!(there, 1);
    }
}

on_every_sharded_backend! {
    /// A co-located table shards by the strategy of the table it follows: with a default
    /// strategy and another one for `order_items`, a shipment lands where its order's items
    /// are. A strategy of its own is refused (typed at build; by name, at first use).
    async fn colocated_tables_share_one_strategy(shards) {
        let n = shards.dbs.len();
        let sharded = shards
            .builder::<Conn>()
            .strategy(grant::shard::Modulo::new(n as u32).unwrap())
            .table_strategy::<order_items::table>(thousands(n))
            .build()
            .unwrap();
        let order = 7; // thousands: shard 0; modulo: shard 7 % n = 1 or 3
        let item_shard = sharded.shard_for(&order_items::ShardKey { order_id: order }).unwrap();
        assert_eq!(item_shard, ShardId(0));
        assert_eq!(sharded.shard_for(&shipments::ShardKey { order_id: order }).unwrap(), item_shard);
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        sharded.insert(&OrderItem { order_id: order, product_id: 1, quantity: 1 }).await.unwrap();
        sharded
            .insert(&Shipment { order_id: order, product_id: 1, shipment_id: 1, carrier: "UPS".into(), shipped_on: day })
            .await
            .unwrap();
        let mut direct: Conn = shards.direct(0).await;
        let there: i64 = shipments::table.count().get_result(&mut direct).await.unwrap();
        assert_eq!(there, 1, "the shipment is on its order's shard");

        let typed = shards
            .builder::<Conn>()
            .strategy(grant::shard::Modulo::new(n as u32).unwrap())
            .table_strategy::<shipments::table>(thousands(n))
            .build();
        assert!(
            matches!(&typed, Err(grant::Error::Config(grant::config::ConfigError::ColocatedTableStrategy { table, follows })) if table == "shipments" && follows == "order_items"),
            "{:?}",
            typed.err()
        );
        let named = shards
            .builder::<Conn>()
            .strategy(grant::shard::Modulo::new(n as u32).unwrap())
            .table_strategy_named("shipments", std::sync::Arc::new(thousands(n)))
            .build()
            .unwrap();
        let refused = named.find::<Shipment, _>((order, 1, 1)).await;
        assert!(matches!(refused, Err(grant::Error::Config(grant::config::ConfigError::ColocatedTableStrategy { .. }))), "{refused:?}");
    }
}
