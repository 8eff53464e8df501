// A nullable column can't be part of a key.
grant::table! {
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> Nullable<BigInt>,
        quantity -> Integer,
    }
}

fn main() {}
