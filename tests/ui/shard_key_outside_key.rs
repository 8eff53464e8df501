// A shard key must be made of key columns.
grant::table! {
    #[grant(shard_key(quantity))]
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

fn main() {}
