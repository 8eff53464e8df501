// @generated automatically by Diesel CLI.

diesel::table! {
    order_items (order_id, product_id) {
        order_id -> Int8,
        product_id -> Int8,
        quantity -> Int4,
    }
}

diesel::table! {
    /// Shipments of order items.
    shipments (order_id, product_id, shipment_id) {
        order_id -> Int8,
        product_id -> Int8,
        shipment_id -> Int8,
        carrier -> Text,
        shipped_on -> Date,
    }
}

diesel::allow_tables_to_appear_in_same_query!(order_items, shipments,);
