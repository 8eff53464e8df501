// A table declared with diesel's own `table!` has no key to find by.
use grant::prelude::*;

diesel::table! {
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

fn main() {
    let _q = order_items::table.find_key((1i64, 2i64));
}
