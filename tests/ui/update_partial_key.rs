// `update_key` takes a full key.
use grant::prelude::*;

grant::table! {
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

fn main() {
    let _q = order_items::table
        .update_key(order_items::Key::builder().order_id(1))
        .set(order_items::quantity.eq(2));
}
