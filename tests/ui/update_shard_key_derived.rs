// A `#[derive(AsChangeset, grant::Changeset)]` struct with a shard-key field does not
// compile: the error points at the field and names the table and the column.
use grant::prelude::*;

grant::table! {
    #[grant(shard_key(order_id))]
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

#[derive(AsChangeset, grant::Changeset)]
#[diesel(table_name = order_items)]
struct Move {
    order_id: i64,
    quantity: i32,
}

fn main() {
    let _ = Move { order_id: 1, quantity: 2 };
}
