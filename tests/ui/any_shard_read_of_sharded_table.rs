// Any one shard holds only its own rows of a sharded table: `.on_any_shard()` reads
// reference tables only.
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
    let _q = order_items::table
        .inner_join(products::table.on(products::product_id.eq(order_items::product_id)))
        .select(order_items::quantity)
        .on_any_shard();
}
