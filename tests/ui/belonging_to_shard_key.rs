// `belonging_to` takes a parent record (or its full key); a shard key does not name one row.
use grant::prelude::*;

grant::table! {
    #[grant(shard_key(order_id))]
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

grant::table! {
    #[grant(shard_key(order_id), colocated_with(order_items))]
    shipments (order_id, product_id, shipment_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        shipment_id -> BigInt,
    }
}

grant::foreign_key!(shipments (order_id, product_id) -> order_items (order_id, product_id));

#[derive(Queryable, Selectable, Insertable, grant::Keyed)]
#[diesel(table_name = shipments)]
struct Shipment {
    order_id: i64,
    product_id: i64,
    shipment_id: i64,
}

fn main() {
    let _q = Shipment::belonging_to(&order_items::ShardKey { order_id: 1 });
}
