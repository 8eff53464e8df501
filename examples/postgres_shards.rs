//! The quickstart on PostgreSQL shards given by environment variables.
//!
//! `GRANT_SHARD_URLS` lists the shards' database URLs, comma-separated. Without it, the
//! example creates four databases (`grant_example_shard0` ..) on the server at
//! `GRANT_PG_URL` (default: the server `scripts/servers.sh start` runs) and uses those:
//!
//! ```sh
//! scripts/servers.sh start && cargo run --example postgres_shards
//! GRANT_SHARD_URLS=postgres://app@db0/app,postgres://app@db1/app cargo run --example postgres_shards
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../schema/mod.rs"]
mod schema;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use grant::Sharded;
use grant::prelude::*;
use grant::shard::{JumpHash, PerShard};
use schema::models::OrderItem;
use schema::order_items;

static MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

async fn shard_urls() -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
    if let Ok(urls) = std::env::var("GRANT_SHARD_URLS") {
        return Ok(urls
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(String::from)
            .collect());
    }
    let server = std::env::var("GRANT_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:54320".into());
    let mut admin = AsyncPgConnection::establish(&format!("{server}/postgres")).await?;
    let mut urls = Vec::new();
    for i in 0..4 {
        let name = format!("grant_example_shard{i}");
        // Start from empty databases, so that the example prints the same every run.
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await?;
        urls.push(format!("{server}/{name}"));
    }
    Ok(urls)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let urls = shard_urls().await?;
    let mut builder = Sharded::<AsyncPgConnection>::builder();
    for (i, url) in urls.iter().enumerate() {
        builder = builder.shard(format!("shard{i}"), url);
    }
    let shards = builder
        .strategy(JumpHash::new(urls.len() as u32)?)
        .build()?;
    println!("{} PostgreSQL shards", shards.shard_count());

    for db in shards.run_migrations(&MIGRATIONS).await? {
        println!(
            "  migrations on {}: {} applied",
            db.database,
            db.applied.len()
        );
    }

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

    let item = shards
        .find_or_error::<OrderItem, _>(order_items::Key {
            order_id: 1005,
            product_id: 102,
        })
        .await?;
    println!("find_or_error(1005:102) -> {item:?}");

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
    println!("transaction on the shard of order 1007 committed");

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
