// A foreign key must reference the parent's whole key, in key order.
grant::table! {
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
    }
}

grant::table! {
    shipments (shipment_id) {
        shipment_id -> BigInt,
        order_id -> BigInt,
        product_id -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(order_items, shipments);
grant::foreign_key!(shipments (product_id, order_id) -> order_items (product_id, order_id));

fn main() {}
