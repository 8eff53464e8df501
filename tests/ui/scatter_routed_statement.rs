// A routed statement already says where it runs: `scatter` refuses it, and the message says
// to use `shards.run(..)`.
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

fn ask(shards: &grant::Sharded<grant::sqlite::AsyncSqliteConnection>) {
    let _ = shards.scatter(order_items::table.find_key((1, 2)));
}

fn main() {
    let _ = ask;
}
