// `Sharded::insert_or_update` checks its update part as `Sharded::update` does: the
// upsert's changes may not assign a shard-key column.
use grant::key::incoming;
use grant::prelude::*;

grant::table! {
    #[grant(shard_key(order_id))]
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

#[derive(Queryable, Selectable, Insertable, grant::Keyed)]
#[diesel(table_name = order_items)]
struct OrderItem {
    order_id: i64,
    product_id: i64,
    quantity: i32,
}

async fn run(shards: &grant::Sharded<grant::sqlite::AsyncSqliteConnection>) -> grant::Result<()> {
    let item = OrderItem { order_id: 1, product_id: 2, quantity: 3 };
    shards.insert_or_update(&item, order_items::order_id.eq(incoming(order_items::order_id))).await
}

fn main() {
    let _ = run;
}
