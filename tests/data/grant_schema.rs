// @generated automatically by Diesel CLI.

grant::table! {
    #[grant(shard_key(order_id))]
    order_items (order_id, product_id) {
        order_id -> Int8,
        product_id -> Int8,
        quantity -> Int4,
    }
}

grant::table! {
    /// Shipments of order items.
    #[grant(shard_key(order_id), colocated_with(order_items))]
    shipments (order_id, product_id, shipment_id) {
        order_id -> Int8,
        product_id -> Int8,
        shipment_id -> Int8,
        carrier -> Text,
        shipped_on -> Date,
    }
}

diesel::allow_tables_to_appear_in_same_query!(order_items, shipments,);
