// Composite foreign key columns pair by position, but a child column named like a parent key
// column must reference that column: swapped same-typed columns do not compile.
grant::table! {
    #[grant(shard_key(order_id))]
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

grant::table! {
    shipments (order_id, product_id, shipment_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        shipment_id -> BigInt,
    }
}

grant::foreign_key!(shipments (product_id, order_id) -> order_items (order_id, product_id));

fn main() {}
