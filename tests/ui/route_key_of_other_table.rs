// `for_shard_key` takes a shard key of the statement's own table (or of a co-located one):
// a key of another table would route by that table's strategy.
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
        .filter(order_items::order_id.eq(1))
        .for_shard_key(user_sessions::ShardKey { user_id: 1 });
}
