// `Sharded` runs only routed statements: a bare Diesel statement does not compile, and the
// message says how to route it.
use grant::prelude::*;

grant::table! {
    #[grant(shard_key(order_id))]
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

async fn count(shards: &grant::Sharded<grant::sqlite::AsyncSqliteConnection>) -> grant::Result<i64> {
    shards.run(order_items::table.filter(order_items::quantity.gt(10)).count()).get_result().await
}

fn main() {
    let _ = count;
}
