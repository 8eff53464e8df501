// `Sharded::update` checks its changeset the same way.
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
    shards.update::<OrderItem, _, _, _>((1, 2), order_items::order_id.eq(9)).await
}

fn main() {
    let _ = run;
}
