// A key builder routes once its shard-key columns are given; one without them names the
// missing column.

grant::table! {
    #[grant(shard_key(order_id))]
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

async fn run(shards: &grant::Sharded<grant::sqlite::AsyncSqliteConnection>) -> grant::Result<()> {
    // Routes: `order_id` is the shard key; `product_id` may be missing.
    shards.transaction(&order_items::Key::builder().order_id(5), async |_tx| Ok(())).await?;
    // Does not: the shard-key column is missing.
    shards.transaction(&order_items::Key::builder().product_id(5), async |_tx| Ok(())).await
}

fn main() {
    let _ = run;
}
