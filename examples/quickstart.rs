//! The quickstart: composite keys and sharding on four SQLite file shards (no server).
//!
//! Run it with `cargo run --example quickstart`. It creates four database files in a
//! temporary directory, applies the example migrations to every shard, inserts the seed's
//! order items routed by their shard key, finds one by its full key, runs a single-shard
//! transaction, and prints how many rows each shard holds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../schema/mod.rs"]
mod schema;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use grant::prelude::*;
use grant::shard::{JumpHash, PerShard};
use grant::sqlite::AsyncSqliteConnection;
use grant::{Error, Sharded};
use schema::models::OrderItem;
use schema::order_items;

static MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let dir = tempfile::tempdir()?;
    let mut builder = Sharded::<AsyncSqliteConnection>::builder();
    for i in 0..4 {
        let path = dir.path().join(format!("shard{i}.db"));
        builder = builder.shard(format!("shard{i}"), path.display().to_string());
    }
    // Jump consistent hash of the shard key (order_id): all items of an order share a shard.
    let shards = builder.strategy(JumpHash::new(4)?).build()?;
    println!("4 SQLite shards in {}", dir.path().display());

    for db in shards.run_migrations(&MIGRATIONS).await? {
        println!(
            "  migrations on {}: {} applied",
            db.database,
            db.applied.len()
        );
    }

    // The seed's order items: 25 orders of 1 to 4 products each.
    let items: Vec<OrderItem> = (1..=25)
        .flat_map(|order| {
            (1..=(order % 4 + 1)).map(move |p| OrderItem {
                order_id: 1000 + order,
                product_id: 100 + p,
                quantity: p as i32,
            })
        })
        .collect();
    let placed = shards.insert_all(&items).await?;
    println!(
        "inserted {} order items, split by shard and inserted in parallel",
        placed.total()
    );

    let key = order_items::Key::builder().product_id(102).order_id(1005);
    let item = shards.find_or_error::<OrderItem, _>(key).await?;
    let home = shards.shard_for(&item.key())?;
    println!(
        "find_or_error(order_id 1005, product_id 102) -> {item:?} from {}",
        shards.shard_names()[home.index()]
    );

    match shards.find_or_error::<OrderItem, _>((1005, 999)).await {
        Err(e @ Error::NotFound { .. }) => println!("find_or_error(1005:999) -> {e}"),
        other => return Err(format!("expected NotFound, got {other:?}").into()),
    }

    // A single-shard transaction: move quantity between two items of order 1007.
    let order = order_items::ShardKey { order_id: 1007 };
    shards
        .transaction(&order, async |mut tx| {
            tx.run(
                order_items::table
                    .update_key((1007, 101))
                    .set(order_items::quantity.eq(order_items::quantity - 1)),
            )
            .execute()
            .await?;
            tx.run(
                order_items::table
                    .update_key((1007, 102))
                    .set(order_items::quantity.eq(order_items::quantity + 1)),
            )
            .execute()
            .await?;
            Ok(())
        })
        .await?;
    let moved: Vec<OrderItem> = shards.find_many([(1007, 101), (1007, 102)]).await?;
    println!(
        "transaction on the shard of order 1007 -> quantities {:?}",
        moved.iter().map(|i| i.quantity).collect::<Vec<_>>()
    );

    // A statement on another order's shard inside that transaction is refused.
    let elsewhere = (1001..=1025)
        .find(|o| {
            shards
                .shard_for(&order_items::ShardKey { order_id: *o })
                .ok()
                != shards.shard_for(&order).ok()
        })
        .unwrap_or(1001);
    let refused = shards
        .transaction(&order, async |mut tx| {
            tx.run(order_items::table.delete_key((elsewhere, 101)))
                .execute()
                .await?;
            Ok(())
        })
        .await;
    if let Err(e) = refused {
        println!("statement for another shard inside the transaction -> {e}");
    }

    let counts: PerShard<i64> = shards
        .run(order_items::table.count().on_all_shards())
        .get_result()
        .await?;
    println!();
    println!("{:<8} | {:>4}", "shard", "rows");
    println!("{:-<8}-+-{:->4}", "", "");
    for shard in counts.iter() {
        println!("{:<8} | {:>4}", shard.name, shard.value);
    }
    println!("{:<8} | {:>4}", "total", counts.total());
    Ok(())
}
