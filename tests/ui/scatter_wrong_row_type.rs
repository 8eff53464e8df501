// An ordered scatter whose selection cannot load as the requested row type: the message
// is diesel's own: the row type against the selected SQL types (String vs Integer).
use grant::scatter::asc;

grant::table! {
    #[grant(shard_key(order_id))]
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

async fn page(shards: &grant::Sharded<grant::sqlite::AsyncSqliteConnection>) -> grant::Result<Vec<(i64, String)>> {
    shards
        .scatter(order_items::table)
        .select((order_items::order_id, order_items::quantity))
        .order_by(asc(order_items::order_id))
        .limit(10)
        .load()
        .await
}

fn main() {
    let _ = page;
}
