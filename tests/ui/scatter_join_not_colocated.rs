// A scatter joins on each shard, so it may join only co-located tables: rows of a table
// sharded by another key live on other shards and would be silently missed.
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

fn run(shards: &grant::Sharded<grant::sqlite::AsyncSqliteConnection>) {
    let _q = shards.scatter(
        order_items::table.inner_join(user_sessions::table.on(user_sessions::user_id.eq(order_items::order_id))),
    );
}

fn main() {
    let _ = run;
}
