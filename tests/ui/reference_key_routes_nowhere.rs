// A reference table is copied to every shard: its key names no shard.
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

fn main() {
    let _q = products::table
        .select(products::name)
        .for_shard_key(products::Key { product_id: 1 });
}
