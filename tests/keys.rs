//! Composite keys on PostgreSQL, MariaDB and SQLite, for real: every key operation of
//! grant on the seed's models (`order_items`, `user_sessions`, `region_data`) and a
//! date-keyed table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
#[path = "../schema/mod.rs"]
mod schema;

use chrono::NaiveDate;
use diesel_async::RunQueryDsl;
use grant::prelude::*;
use grant::{Error, PortableUuid};
use schema::models::{DailyTotal, OrderItem, RegionData, UserSession};
use schema::{daily_totals, order_items, region_data, user_sessions};

fn item(order_id: i64, product_id: i64, quantity: i32) -> OrderItem {
    OrderItem {
        order_id,
        product_id,
        quantity,
    }
}

on_every_backend! {
    /// find / find_or_error / exists / update / delete by full key, in every key form.
    async fn find_exists_update_delete(db, conn, open) {
        for i in 1..=3 {
            item(100, i, i as i32).insert(conn).await.expect("insert");
        }

        // find: Option, by struct, tuple and builder (columns in any order).
        let key = order_items::Key { order_id: 100, product_id: 2 };
        assert_eq!(OrderItem::find(conn, &key).await.expect("find"), Some(item(100, 2, 2)));
        assert_eq!(OrderItem::find(conn, (100, 3)).await.expect("find"), Some(item(100, 3, 3)));
        let built = order_items::Key::builder().product_id(1).order_id(100);
        assert_eq!(OrderItem::find(conn, built).await.expect("find"), Some(item(100, 1, 1)));
        assert_eq!(OrderItem::find(conn, (100, 9)).await.expect("find"), None);
        assert_eq!(OrderItem::find(conn, (101, 1)).await.expect("find"), None);

        // find_or_error: typed NotFound naming the table and the key.
        match OrderItem::find_or_error(conn, (100, 9)).await {
            Err(Error::NotFound { table, key }) => {
                assert_eq!(table, "order_items");
                assert_eq!(key, "100:9");
            }
            other => panic!("expected NotFound, got {other:?}"),
        }
        assert_eq!(OrderItem::find_or_error(conn, &key).await.expect("found"), item(100, 2, 2));

        // exists
        assert!(OrderItem::exists(conn, &key).await.expect("exists"));
        assert!(!OrderItem::exists(conn, (100, 9)).await.expect("exists"));

        // update by key: only that row changes; a missing key is NotFound.
        OrderItem::update(conn, &key, order_items::quantity.eq(42)).await.expect("update");
        assert_eq!(OrderItem::find(conn, &key).await.expect("find").map(|i| i.quantity), Some(42));
        assert_eq!(OrderItem::find(conn, (100, 1)).await.expect("find").map(|i| i.quantity), Some(1));
        // An update that changes nothing still finds its row (MariaDB reports found rows).
        OrderItem::update(conn, &key, order_items::quantity.eq(42)).await.expect("same value");
        assert!(matches!(
            OrderItem::update(conn, (100, 9), order_items::quantity.eq(1)).await,
            Err(Error::NotFound { table: "order_items", .. })
        ));

        // delete by key: only that row goes.
        assert!(OrderItem::delete(conn, &key).await.expect("delete"));
        assert!(!OrderItem::delete(conn, &key).await.expect("delete again"));
        assert!(!OrderItem::exists(conn, &key).await.expect("exists"));
        let left: i64 = order_items::table.count().get_result(conn).await.expect("count");
        assert_eq!(left, 2);

        // The statement builders are plain Diesel statements that compose further.
        let quantity: i32 = order_items::table
            .find_key((100, 3))
            .select(order_items::quantity)
            .get_result(conn)
            .await
            .expect("select one column");
        assert_eq!(quantity, 3);
        let n = order_items::table
            .update_key((100, 3))
            .set(order_items::quantity.eq(order_items::quantity + 1))
            .execute(conn)
            .await
            .expect("update_key");
        assert_eq!(n, 1);
        let n = order_items::table.delete_key((100, 3)).execute(conn).await.expect("delete_key");
        assert_eq!(n, 1);
        let exists: bool = order_items::table.key_exists((100, 1)).get_result(conn).await.expect("key_exists");
        assert!(exists);
    }
}

on_every_backend! {
    /// insert_or_update on one connection: inserted, then updated in place by the proposed
    /// value; empty changes leave the row as it is.
    async fn upsert_on_one_connection(db, conn, open) {
        use grant::key::incoming;
        let add = order_items::quantity.eq(order_items::quantity + incoming(order_items::quantity));
        item(7, 1, 2).insert_or_update(conn, add).await.expect("insert");
        item(7, 1, 5).insert_or_update(conn, add).await.expect("update");
        assert_eq!(OrderItem::find(conn, (7, 1)).await.expect("find").map(|i| i.quantity), Some(7));
        #[derive(AsChangeset)]
        #[diesel(table_name = order_items)]
        struct Restock {
            quantity: Option<i32>,
        }
        item(7, 1, 99).insert_or_update(conn, Restock { quantity: None }).await.expect("nothing");
        assert_eq!(OrderItem::find(conn, (7, 1)).await.expect("find").map(|i| i.quantity), Some(7));
        let count: i64 = order_items::table.count().get_result(conn).await.expect("count");
        assert_eq!(count, 1);
    }
}

on_every_backend! {
    /// find_many: one statement for a batch, rows in the order of the keys, missing keys
    /// skipped, duplicates once, and long lists split under the bind limits.
    async fn find_many_batches(db, conn, open) {
        let items: Vec<OrderItem> = (0..2_500).map(|i| item(i / 10, i % 10, i as i32)).collect();
        for chunk in items.chunks(500) {
            OrderItem::insert_all(chunk, conn).await.expect("insert_all");
        }

        let keys = [(3, 4), (0, 0), (999, 1), (3, 4), (1, 9)];
        let found = OrderItem::find_many(conn, keys).await.expect("find_many");
        assert_eq!(found, vec![item(3, 4, 34), item(0, 0, 0), item(1, 9, 19)]);

        let none = OrderItem::find_many(conn, Vec::<order_items::Key>::new()).await.expect("empty");
        assert!(none.is_empty());

        // 2,500 keys: more than one statement's worth (1,000 per statement).
        let all_keys: Vec<order_items::Key> = items.iter().rev().map(|i| i.key()).collect();
        let all = OrderItem::find_many(conn, &all_keys).await.expect("find_many 2,500");
        assert_eq!(all.len(), 2_500);
        assert!(all.iter().zip(&all_keys).all(|(row, key)| &row.key() == key));

        // The builder form composes with other filters.
        let big: Vec<OrderItem> = order_items::table
            .find_keys([(3, 4), (0, 0), (1, 9)])
            .filter(order_items::quantity.gt(10))
            .order(order_items::quantity)
            .select(OrderItem::as_select())
            .load(conn)
            .await
            .expect("find_keys");
        assert_eq!(big, vec![item(1, 9, 19), item(3, 4, 34)]);
    }
}

on_every_backend! {
    /// A duplicate key on insert is a typed DuplicateKey naming the table and the key.
    async fn duplicate_key_is_typed(db, conn, open) {
        item(7, 8, 1).insert(conn).await.expect("first insert");
        match item(7, 8, 2).insert(conn).await {
            Err(Error::DuplicateKey { table, key, .. }) => {
                assert_eq!(table, "order_items");
                assert_eq!(key, "7:8");
            }
            other => panic!("expected DuplicateKey, got {other:?}"),
        }
        // A batch with a duplicate inside: typed, and nothing of the batch is inserted.
        let batch = [item(9, 1, 1), item(7, 8, 3)];
        match OrderItem::insert_all(&batch, conn).await {
            Err(Error::DuplicateKey { table: "order_items", .. }) => {}
            other => panic!("expected DuplicateKey, got {other:?}"),
        }
        assert!(!OrderItem::exists(conn, (9, 1)).await.expect("exists"));
        assert_eq!(OrderItem::find(conn, (7, 8)).await.expect("find").map(|i| i.quantity), Some(1));
    }
}

on_every_backend! {
    /// 16 concurrent inserts of the same key: exactly one succeeds, 15 are DuplicateKey.
    async fn concurrent_duplicate_inserts(db, conn, open) {
        let mut conns = Vec::new();
        for _ in 0..16 {
            conns.push(open().await);
        }
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(16));
        let tasks: Vec<_> = conns
            .into_iter()
            .enumerate()
            .map(|(i, mut c)| {
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    item(555, 1, i as i32).insert(&mut c).await
                })
            })
            .collect();
        let mut ok = 0;
        let mut duplicates = 0;
        for task in tasks {
            match task.await.expect("task") {
                Ok(()) => ok += 1,
                Err(Error::DuplicateKey { table: "order_items", key, .. }) => {
                    assert_eq!(key, "555:1");
                    duplicates += 1;
                }
                Err(other) => panic!("unexpected error: {other}"),
            }
        }
        assert_eq!((ok, duplicates), (1, 15));
        let rows: i64 = order_items::table.count().get_result(conn).await.expect("count");
        assert_eq!(rows, 1);
    }
}

on_every_backend! {
    /// UUID keys (grant::sql_types::PortableUuid: native on PostgreSQL, 16 bytes elsewhere).
    async fn uuid_keys(db, conn, open) {
        let created_at = NaiveDate::from_ymd_opt(2026, 11, 27)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .expect("timestamp");
        let user = PortableUuid::new_v4();
        let sessions: Vec<UserSession> = (0..3)
            .map(|i| UserSession {
                user_id: user,
                session_id: PortableUuid::new_v4(),
                device: format!("device-{i}"),
                created_at,
            })
            .collect();
        UserSession::insert_all(&sessions, conn).await.expect("insert");
        let key = sessions[1].key();
        assert_eq!(key.user_id, user);
        let found = UserSession::find_or_error(conn, &key).await.expect("find");
        assert_eq!(found, sessions[1]);

        // Print and parse the key (as a URL segment would carry it), then find by it.
        let printed = key.to_string();
        assert_eq!(printed, format!("{}:{}", user, sessions[1].session_id));
        let parsed: user_sessions::Key = printed.parse().expect("parse");
        assert!(UserSession::exists(conn, parsed).await.expect("exists"));

        // A tuple of plain `uuid::Uuid`s (owned and borrowed) is a key of the portable columns.
        let (raw_user, raw_session) = (uuid::Uuid::from(user), uuid::Uuid::from(sessions[1].session_id));
        assert_eq!(UserSession::find(conn, (raw_user, raw_session)).await.expect("find"), Some(sessions[1].clone()));
        assert!(UserSession::exists(conn, (&raw_user, &raw_session)).await.expect("exists"));

        let other_user = user_sessions::Key { user_id: PortableUuid::new_v4(), session_id: sessions[0].session_id };
        assert_eq!(UserSession::find(conn, other_user).await.expect("find"), None);

        let keys: Vec<_> = sessions.iter().map(|s| s.key()).collect();
        assert_eq!(UserSession::find_many(conn, &keys).await.expect("find_many"), sessions);
        assert!(UserSession::delete(conn, &keys[0]).await.expect("delete"));
        assert_eq!(UserSession::find_many(conn, &keys).await.expect("find_many").len(), 2);
    }
}

on_every_backend! {
    /// String keys, including a ':' inside a part (escaped in the printed key).
    async fn string_keys(db, conn, open) {
        let rows = [
            RegionData { country_code: "FR".into(), region_id: 11, name: "Ile-de-France".into(), population: 12_271_794 },
            RegionData { country_code: "FR".into(), region_id: 84, name: "Auvergne-Rhone-Alpes".into(), population: 8_042_936 },
            RegionData { country_code: "a:b".into(), region_id: 1, name: "colon".into(), population: 1 },
        ];
        RegionData::insert_all(&rows, conn).await.expect("insert");
        let key = rows[2].key();
        assert_eq!(key.to_string(), "a\\:b:1");
        let parsed: region_data::Key = "a\\:b:1".parse().expect("parse");
        assert_eq!(parsed, key);
        assert_eq!(RegionData::find_or_error(conn, parsed).await.expect("find"), rows[2]);
        let fr = region_data::Key::builder().region_id(84).country_code("FR");
        assert_eq!(RegionData::find(conn, fr).await.expect("find").map(|r| r.population), Some(8_042_936));
        assert_eq!(RegionData::find(conn, ("FR".to_string(), 12)).await.expect("find"), None);
        RegionData::update(conn, ("FR".to_string(), 11), region_data::population.eq(1)).await.expect("update");
        assert_eq!(
            RegionData::find_many(conn, [rows[0].key(), rows[1].key()]).await.expect("find_many")
                .iter().map(|r| r.population).collect::<Vec<_>>(),
            vec![1, 8_042_936]
        );
        assert!(matches!(
            rows[0].insert(conn).await,
            Err(Error::DuplicateKey { table: "region_data", ref key, .. }) if key == "FR:11"
        ));
    }
}

on_every_backend! {
    /// Date keys.
    async fn date_keys(db, conn, open) {
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).expect("date");
        let rows: Vec<DailyTotal> = (1..=5)
            .map(|d| DailyTotal { day: day(d), country_code: "DE".into(), total: i64::from(d) * 10 })
            .collect();
        DailyTotal::insert_all(&rows, conn).await.expect("insert");
        let key = daily_totals::Key { day: day(3), country_code: "DE".into() };
        assert_eq!(key.to_string(), "2026-11-03:DE");
        assert_eq!("2026-11-03:DE".parse::<daily_totals::Key>(), Ok(key.clone()));
        assert_eq!(DailyTotal::find(conn, &key).await.expect("find").map(|r| r.total), Some(30));
        assert!(DailyTotal::exists(conn, (day(5), "DE".to_string())).await.expect("exists"));
        assert!(!DailyTotal::exists(conn, (day(6), "DE".to_string())).await.expect("exists"));
        assert!(DailyTotal::delete(conn, key).await.expect("delete"));
        let found = DailyTotal::find_many(conn, rows.iter().map(|r| r.key())).await.expect("find_many");
        assert_eq!(found.len(), 4);
    }
}

/// Key parsing errors are typed and say what was wrong.
#[test]
fn key_parse_errors_name_the_problem() {
    let err = "1".parse::<order_items::Key>().expect_err("too few parts");
    assert_eq!(err.table, "order_items");
    assert_eq!(
        err.reason,
        "expected 2 parts (order_id:product_id), found 1"
    );
    let err = "1:x".parse::<order_items::Key>().expect_err("not a number");
    assert!(
        err.reason.starts_with("column `product_id`:"),
        "{}",
        err.reason
    );
    let err = "1:2:3"
        .parse::<order_items::Key>()
        .expect_err("too many parts");
    assert!(err.reason.contains("found 3"), "{}", err.reason);
    let err = "not-a-uuid:also-not"
        .parse::<user_sessions::Key>()
        .expect_err("bad uuid");
    assert!(
        err.reason.starts_with("column `user_id`:"),
        "{}",
        err.reason
    );
    let err = "2026-13-01:DE"
        .parse::<daily_totals::Key>()
        .expect_err("bad date");
    assert!(err.reason.starts_with("column `day`:"), "{}", err.reason);
}
