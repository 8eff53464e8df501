//! Tracing spans of statements. A test binary of its own: tracing caches which callsites a
//! subscriber wants process-wide, so a thread-local subscriber set while other tests run
//! on other threads can miss spans.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
#[path = "../schema/mod.rs"]
mod schema;

use grant::prelude::*;
use grant::shard::Modulo;
use schema::models::OrderItem;
use schema::order_items;

/// Every routed statement runs in a `grant.statement` span with its table, shard, operation
/// and elapsed time.
#[tokio::test(flavor = "current_thread")]
async fn statements_have_spans() {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use tracing::field::{Field, Visit};
    use tracing_subscriber::layer::{Context, SubscriberExt};

    #[derive(Default, Clone)]
    struct Spans(Arc<Mutex<HashMap<u64, HashMap<String, String>>>>);
    struct Fields<'a>(&'a mut HashMap<String, String>);
    impl Visit for Fields<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.insert(field.name().to_owned(), format!("{value:?}"));
        }
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.insert(field.name().to_owned(), value.to_owned());
        }
    }
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Spans {
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            id: &tracing::span::Id,
            _: Context<'_, S>,
        ) {
            let mut fields =
                HashMap::from([("name".to_owned(), attrs.metadata().name().to_owned())]);
            attrs.record(&mut Fields(&mut fields));
            self.0.lock().unwrap().insert(id.into_u64(), fields);
        }
        fn on_record(
            &self,
            id: &tracing::span::Id,
            values: &tracing::span::Record<'_>,
            _: Context<'_, S>,
        ) {
            if let Some(fields) = self.0.lock().unwrap().get_mut(&id.into_u64()) {
                values.record(&mut Fields(fields));
            }
        }
    }

    let spans = Spans::default();
    let subscriber = tracing_subscriber::registry().with(spans.clone());
    let _guard = tracing::subscriber::set_default(subscriber);

    let shards = common::TestShards::new(common::Backend::Sqlite, 2, "spans").await;
    let sharded = shards
        .builder::<grant::sqlite::AsyncSqliteConnection>()
        .strategy(Modulo::new(2).unwrap())
        .build()
        .unwrap();
    sharded
        .insert(&OrderItem {
            order_id: 3,
            product_id: 1,
            quantity: 1,
        })
        .await
        .unwrap();
    let _: i32 = sharded
        .run(
            order_items::table
                .find_key((3, 1))
                .select(order_items::quantity),
        )
        .get_result()
        .await
        .unwrap();
    // A duplicate: the server's error is recorded on the span.
    let duplicate = sharded
        .insert(&OrderItem {
            order_id: 3,
            product_id: 1,
            quantity: 1,
        })
        .await;
    assert!(duplicate.is_err());

    let recorded = spans.0.lock().unwrap();
    let statement = recorded
        .values()
        .find(|f| {
            f.get("name").map(String::as_str) == Some("grant.statement")
                && f.get("op").map(String::as_str) == Some("get_result")
        })
        .unwrap_or_else(|| panic!("no grant.statement span for the select: {recorded:?}"));
    assert_eq!(
        statement.get("table").map(String::as_str),
        Some("order_items")
    );
    assert_eq!(statement.get("shard").map(String::as_str), Some("s1"));
    assert!(
        statement
            .get("elapsed_us")
            .is_some_and(|v| v.parse::<u64>().is_ok()),
        "{statement:?}"
    );
    let insert = recorded
        .values()
        .find(|f| f.get("op").map(String::as_str) == Some("insert"))
        .expect("a span for the insert");
    assert_eq!(insert.get("shard").map(String::as_str), Some("s1"));

    // OpenTelemetry's database conventions beside grant's fields.
    let field = |f: &str| statement.get(f).map(String::as_str);
    assert_eq!(field("db.system"), Some("sqlite"));
    assert_eq!(field("db.operation.name"), Some("get_result"));
    assert_eq!(field("db.collection.name"), Some("order_items"));
    assert_eq!(field("grant.shard"), Some("s1"));
    assert_eq!(field("grant.role"), Some("primary"));
    assert_eq!(field("db.namespace"), Some(shards.dbs[1].url.as_str()));
    assert_eq!(field("error.type"), None, "no error: {statement:?}");
    let failed = recorded
        .values()
        .find(|f| f.contains_key("error.type"))
        .expect("a span with the duplicate's error");
    assert_eq!(
        failed.get("error.type").map(String::as_str),
        Some("DuplicateKey")
    );
}
