// An update given its changeset with diesel's `.set(..)` before its route can't be checked
// for shard-key columns, so `Sharded` does not run it; the message says to route first.
use grant::prelude::*;

grant::table! {
    #[grant(shard_key(order_id))]
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

async fn run(shards: &grant::Sharded<grant::sqlite::AsyncSqliteConnection>) -> grant::Result<grant::shard::PerShard<usize>> {
    shards
        .run(diesel::update(order_items::table).set(order_items::quantity.eq(1)).on_all_shards())
        .execute()
        .await
}

fn main() {
    let _ = run;
}
