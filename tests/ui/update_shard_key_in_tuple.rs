// A shard-key column in a tuple of assignments, on a named shard, is refused as well.
use grant::prelude::*;

grant::table! {
    #[grant(shard_key(order_id))]
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

fn main() {
    let _q = diesel::update(order_items::table)
        .on_shard("s0")
        .set((order_items::quantity.eq(1), order_items::order_id.eq(9)));
}
