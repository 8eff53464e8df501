//! The quickstart: grant's composite keys on an SQLite file (no server needed).
//!
//! Run it with `cargo run --example quickstart`. It creates a database file in a temporary
//! directory, applies the example migrations, and walks through the key operations,
//! printing what it does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../schema/mod.rs"]
mod schema;

use diesel_async::AsyncMigrationHarness;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use grant::prelude::*;
use schema::models::OrderItem;
use schema::order_items;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("quickstart.db");
    let url = path.display().to_string();
    println!("database: {url}");

    let conn = grant::sqlite::establish(&url).await?;
    let mut harness = AsyncMigrationHarness::new(conn);
    let applied = tokio::task::block_in_place(|| harness.run_pending_migrations(MIGRATIONS))?;
    println!("migrations applied: {}", applied.len());
    let mut conn = harness.into_inner();

    let items = [
        OrderItem {
            order_id: 123,
            product_id: 456,
            quantity: 2,
        },
        OrderItem {
            order_id: 123,
            product_id: 789,
            quantity: 1,
        },
        OrderItem {
            order_id: 124,
            product_id: 456,
            quantity: 5,
        },
    ];
    let n = OrderItem::insert_all(&items, &mut conn).await?;
    println!("inserted {n} order items");

    let key = order_items::Key::builder().product_id(456).order_id(123);
    let item = OrderItem::find_or_error(&mut conn, key).await?;
    println!(
        "find_or_error(order_id: 123, product_id: 456) -> {item:?} (key {})",
        item.key()
    );

    let parsed: order_items::Key = "124:456".parse()?;
    println!(
        "exists(\"124:456\") -> {}",
        OrderItem::exists(&mut conn, &parsed).await?
    );

    OrderItem::update(&mut conn, &parsed, order_items::quantity.eq(6)).await?;
    println!(
        "update(124:456, quantity = 6) -> {:?}",
        OrderItem::find(&mut conn, &parsed).await?
    );

    let batch = OrderItem::find_many(&mut conn, [(123, 789), (999, 1), (123, 456)]).await?;
    println!(
        "find_many([123:789, 999:1, 123:456]) -> {} rows in one statement",
        batch.len()
    );

    match items[0].insert(&mut conn).await {
        Err(grant::Error::DuplicateKey { table, key, .. }) => {
            println!("insert of an existing key -> DuplicateKey {{ table: {table}, key: {key} }}")
        }
        other => return Err(format!("expected DuplicateKey, got {other:?}").into()),
    }

    println!(
        "delete(123:789) -> {}",
        OrderItem::delete(&mut conn, (123, 789)).await?
    );
    match OrderItem::find_or_error(&mut conn, (123, 789)).await {
        Err(e @ grant::Error::NotFound { .. }) => println!("find_or_error(123:789) -> {e}"),
        other => return Err(format!("expected NotFound, got {other:?}").into()),
    }
    Ok(())
}
