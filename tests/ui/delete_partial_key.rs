// `delete_key` takes a full key; so does the async `KeyedAsync::delete`.
use grant::prelude::*;

grant::table! {
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

#[derive(Queryable, Selectable, grant::Keyed)]
#[diesel(table_name = order_items)]
struct OrderItem {
    order_id: i64,
    product_id: i64,
    quantity: i32,
}

async fn delete(conn: &mut grant::sqlite::AsyncSqliteConnection) {
    let _ = OrderItem::delete(conn, (5i64,)).await;
}

fn main() {
    let _q = order_items::table.delete_key(order_items::Key::builder().product_id(7));
    let _ = delete;
}
