// A read that fails on its server runs again on the next one, so `run(..)` needs to clone
// it; a boxed query is not `Clone`, and the message says to run it `.once()`.
use grant::prelude::*;

grant::table! {
    #[grant(shard_key(order_id))]
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

async fn ids(shards: &grant::Sharded<grant::sqlite::AsyncSqliteConnection>) -> grant::Result<Vec<i64>> {
    let boxed = order_items::table.select(order_items::order_id).into_boxed();
    shards.run(boxed.on_shard("s0")).load().await
}

fn main() {
    let _ = ids;
}
