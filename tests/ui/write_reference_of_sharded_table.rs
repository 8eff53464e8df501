// `write_reference` writes reference tables; a sharded table's write is routed by its key.
use grant::prelude::*;

grant::table! {
    #[grant(shard_key(order_id))]
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

grant::table! {
    #[grant(reference)]
    products (product_id) {
        product_id -> BigInt,
        name -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(order_items, products);

async fn write(shards: grant::Sharded<diesel_async::AsyncPgConnection>) {
    let _ = shards
        .write_reference(|| {
            diesel::delete(order_items::table.filter(order_items::order_id.eq(1)))
        })
        .await;
}

fn main() {
    let _ = write;
}
