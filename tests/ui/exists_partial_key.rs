// `key_exists` takes a full key.
use grant::prelude::*;

grant::table! {
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

fn main() {
    let _q = order_items::table.key_exists(order_items::Key::builder().product_id(7));
}
