// A write of a reference table routed to one shard would leave the other copies behind:
// it goes through `shards.write_reference(..)` (every shard, one transaction) instead.
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
    let _q = diesel::insert_into(products::table)
        .values((products::product_id.eq(1), products::name.eq("tea")))
        .for_shard_key(order_items::ShardKey { order_id: 1 });
}
