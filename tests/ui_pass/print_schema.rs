//! What `grant print-schema` makes of diesel's `schema.rs` compiles, and routes: the shard
//! key and the co-location came from the topology.
#![allow(missing_docs)]

include!("../data/grant_schema.rs");

fn main() {
    use grant::shard::RouteKey;
    let key = shipments::ShardKey { order_id: 7 };
    assert_eq!(<shipments::ShardKey as RouteKey>::STRATEGY_TABLE, "order_items");
    let _ = key;
    let _ = order_items::ShardKey { order_id: 1 };
}
