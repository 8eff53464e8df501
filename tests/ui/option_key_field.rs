// A record whose key field is an `Option` can't give its key: key parts are never NULL.
grant::table! {
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

#[derive(grant::Keyed)]
#[diesel(table_name = order_items)]
struct OrderItem {
    order_id: Option<i64>,
    product_id: i64,
    quantity: i32,
}

fn main() {}
