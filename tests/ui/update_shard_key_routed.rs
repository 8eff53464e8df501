// A routed update may not assign a shard-key column: the row would stay on a shard its new
// key does not route to. The error names the table and the column.
use grant::prelude::*;

grant::table! {
    #[grant(shard_key(order_id))]
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

async fn run(shards: &grant::Sharded<grant::sqlite::AsyncSqliteConnection>) -> grant::Result<usize> {
    shards
        .run(order_items::table.update_key((1, 2)).set(order_items::order_id.eq(9)))
        .execute()
        .await
}

fn main() {
    let _ = run;
}
