// A point lookup through `Sharded` with a key that lacks a column does not compile, and
// says which table's key it is (one error, not one per bound of `find`).
use grant::prelude::*;

grant::table! {
    #[grant(shard_key(order_id))]
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

#[derive(Queryable, Selectable, Insertable, grant::Keyed, Debug)]
#[diesel(table_name = order_items)]
struct OrderItem {
    order_id: i64,
    product_id: i64,
    quantity: i32,
}

async fn lookup(shards: &grant::Sharded<grant::sqlite::AsyncSqliteConnection>) {
    let _ = shards.find::<OrderItem, _>((1i64,)).await;
}

fn main() {
    let _ = lookup;
}
