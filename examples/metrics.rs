//! grant's metrics in Prometheus' text format: installs `metrics-exporter-prometheus` as the
//! `metrics` recorder, runs a few statements on two SQLite shards, and prints the scrape.
//!
//! `cargo run --example metrics --features metrics`

#![allow(missing_docs)]

use grant::shard::Modulo;

grant::table! {
    #[grant(shard_key(order_id))]
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

#[derive(diesel::Queryable, diesel::Selectable, diesel::Insertable, grant::Keyed)]
#[diesel(table_name = order_items)]
struct OrderItem {
    order_id: i64,
    product_id: i64,
    quantity: i32,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let prometheus = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
    let dir = tempfile::tempdir()?;
    let mut urls = Vec::new();
    for i in 0..2 {
        let url = dir.path().join(format!("s{i}.db")).display().to_string();
        let mut conn = grant::sqlite::establish(&url).await?;
        diesel_async::SimpleAsyncConnection::batch_execute(
            &mut conn,
            "CREATE TABLE order_items (order_id BIGINT NOT NULL, product_id BIGINT NOT NULL, \
             quantity INTEGER NOT NULL, PRIMARY KEY (order_id, product_id))",
        )
        .await?;
        urls.push(url);
    }
    let shards = grant::Sharded::<grant::sqlite::AsyncSqliteConnection>::builder()
        .shard("s0", &urls[0])
        .shard("s1", &urls[1])
        .strategy(Modulo::new(2)?)
        .build()?;
    for order_id in 0..4 {
        let item = OrderItem {
            order_id,
            product_id: 1,
            quantity: 1,
        };
        shards.insert(&item).await?;
        let _found: Option<OrderItem> = shards.find((order_id, 1)).await?;
    }
    shards.publish_metrics();
    print!("{}", prometheus.render());
    Ok(())
}
