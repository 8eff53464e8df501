// A foreign-key column whose SQL type differs from the parent key column's is refused,
// naming both tables and both columns.
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
        product_id -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(order_items, shipments);
grant::foreign_key!(shipments (order_id, product_id) -> order_items (order_id, product_id));

fn main() {}
