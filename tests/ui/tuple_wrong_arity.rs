// A tuple with fewer values than key columns is not a key.
use grant::prelude::*;

grant::table! {
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

fn main() {
    let _q = order_items::table.find_key((123i64,));
}
