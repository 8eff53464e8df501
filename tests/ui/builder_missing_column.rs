// A key builder that was not given every key column is not a key.
use grant::prelude::*;

grant::table! {
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

fn main() {
    let _q = order_items::table.find_key(order_items::Key::builder().order_id(123));
}
