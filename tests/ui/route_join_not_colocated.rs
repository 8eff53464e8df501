// A join routed by key must join only tables co-located with the key's table.
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
    #[grant(shard_key(user_id))]
    user_sessions (user_id, session_id) {
        user_id -> BigInt,
        session_id -> BigInt,
        device -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(order_items, user_sessions);

fn main() {
    let _q = order_items::table
        .inner_join(user_sessions::table.on(user_sessions::user_id.eq(order_items::order_id)))
        .select(order_items::quantity)
        .for_shard_key(order_items::ShardKey { order_id: 1 });
}
