//! The blocking key API (`grant::sync::KeyedSync`) on a plain diesel connection.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../schema/mod.rs"]
mod schema;

use grant::Error;
use grant::sync::prelude::*;
use schema::models::OrderItem;
use schema::order_items;

/// The example schema's SQLite migrations.
const SQLITE_MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/sqlite");

fn item(order_id: i64, product_id: i64, quantity: i32) -> OrderItem {
    OrderItem {
        order_id,
        product_id,
        quantity,
    }
}

/// The blocking API on a plain diesel connection (SQLite; diesel's sync PostgreSQL and
/// MySQL connections need their C client libraries, which grant does not require).
#[test]
fn sync_api_on_plain_diesel() {
    use diesel::Connection;
    use diesel_migrations::MigrationHarness;

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("sync.db");
    let mut conn = diesel::SqliteConnection::establish(&path.display().to_string()).expect("open");
    conn.run_pending_migrations(SQLITE_MIGRATIONS)
        .expect("migrations");

    item(1, 1, 5).insert(&mut conn).expect("insert");
    OrderItem::insert_all(&[item(1, 2, 6), item(2, 1, 7)], &mut conn).expect("insert_all");
    assert_eq!(
        OrderItem::find(&mut conn, (1, 2)).expect("find"),
        Some(item(1, 2, 6))
    );
    assert!(
        OrderItem::exists(
            &mut conn,
            order_items::Key::builder().product_id(1).order_id(2)
        )
        .expect("exists")
    );
    OrderItem::update(&mut conn, (1, 1), order_items::quantity.eq(50)).expect("update");
    assert_eq!(
        OrderItem::find_or_error(&mut conn, (1, 1))
            .expect("find")
            .quantity,
        50
    );
    assert_eq!(
        OrderItem::find_many(&mut conn, [(2, 1), (1, 1), (5, 5)]).expect("find_many"),
        vec![item(2, 1, 7), item(1, 1, 50)]
    );
    assert!(matches!(
        item(2, 1, 0).insert(&mut conn),
        Err(Error::DuplicateKey { table: "order_items", ref key, .. }) if key == "2:1"
    ));
    assert!(OrderItem::delete(&mut conn, (2, 1)).expect("delete"));
    assert!(matches!(
        OrderItem::find_or_error(&mut conn, (2, 1)),
        Err(Error::NotFound { .. })
    ));
}
