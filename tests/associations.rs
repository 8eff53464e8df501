//! Composite foreign keys on PostgreSQL, MariaDB and SQLite, for real: children of one and
//! many parents, grouping, parents of a page of children, joins on every key column, and a
//! typed foreign-key violation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
#[path = "../schema/mod.rs"]
mod schema;

use chrono::NaiveDate;
use diesel_async::RunQueryDsl;
use grant::Error;
use grant::prelude::*;
use schema::models::{OrderItem, SessionEvent, Shipment, UserSession};
use schema::{order_items, session_events, shipments, user_sessions};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

fn item(o: i64, p: i64, q: i32) -> OrderItem {
    OrderItem {
        order_id: o,
        product_id: p,
        quantity: q,
    }
}

fn ship(o: i64, p: i64, s: i64) -> Shipment {
    Shipment {
        order_id: o,
        product_id: p,
        shipment_id: s,
        carrier: format!("carrier-{s}"),
        shipped_on: day(s as u32),
    }
}

on_every_backend! {
    /// belonging_to one parent and many parents (one statement), grouped_by, parent_key,
    /// parent_of and parents_of.
    async fn children_and_parents(db, conn, open) {
        let parents = vec![item(1, 1, 5), item(1, 2, 1), item(2, 1, 7)];
        OrderItem::insert_all(&parents, conn).await.unwrap();
        let children = vec![ship(1, 1, 1), ship(1, 1, 2), ship(2, 1, 3), ship(1, 2, 4)];
        Shipment::insert_all(&children, conn).await.unwrap();

        let of_first: Vec<Shipment> = Shipment::belonging_to(&parents[0])
            .order(shipments::shipment_id)
            .select(Shipment::as_select())
            .load(conn)
            .await
            .unwrap();
        assert_eq!(of_first, vec![ship(1, 1, 1), ship(1, 1, 2)]);
        // The parent's full key selects the same children as the parent record.
        let by_key: Vec<Shipment> = Shipment::belonging_to(&order_items::Key { order_id: 1, product_id: 1 })
            .order(shipments::shipment_id)
            .select(Shipment::as_select())
            .load(conn)
            .await
            .unwrap();
        assert_eq!(by_key, of_first);

        let of_two: Vec<Shipment> = Shipment::belonging_to(&parents[1..])
            .order(shipments::shipment_id)
            .select(Shipment::as_select())
            .load(conn)
            .await
            .unwrap();
        assert_eq!(of_two, vec![ship(2, 1, 3), ship(1, 2, 4)]);

        let all: Vec<Shipment> = Shipment::belonging_to(&parents)
            .order(shipments::shipment_id)
            .select(Shipment::as_select())
            .load(conn)
            .await
            .unwrap();
        let grouped = all.grouped_by(&parents);
        assert_eq!(grouped, vec![vec![ship(1, 1, 1), ship(1, 1, 2)], vec![ship(1, 2, 4)], vec![ship(2, 1, 3)]]);
        for (parent, kids) in parents.iter().zip(&grouped) {
            assert!(kids.iter().all(|k| BelongsTo::<order_items::table>::parent_key(k) == parent.key()));
        }

        assert_eq!(OrderItem::parent_of(conn, &children[2]).await.unwrap(), Some(item(2, 1, 7)));
        let page_parents = OrderItem::parents_of(conn, &children).await.unwrap();
        assert_eq!(page_parents, vec![item(1, 1, 5), item(2, 1, 7), item(1, 2, 1)]);

        let none: Vec<Shipment> = Shipment::belonging_to(&Vec::<OrderItem>::new())
            .select(Shipment::as_select())
            .load(conn)
            .await
            .unwrap();
        assert!(none.is_empty());
    }
}

on_every_backend! {
    /// Inner and left joins on both key columns, refined with further filter and select.
    async fn joins_on_every_key_column(db, conn, open) {
        OrderItem::insert_all(&[item(1, 1, 5), item(1, 2, 1), item(2, 1, 7)], conn).await.unwrap();
        // (1, 2) has no shipment; (2, 1)'s shipment must not match (1, 1) though order_id 1
        // and product_id 1 each appear there: the join needs both columns.
        Shipment::insert_all(&[ship(1, 1, 1), ship(2, 1, 2)], conn).await.unwrap();

        let joined: Vec<(i64, i32)> = shipments::table
            .inner_join(order_items::table)
            .filter(order_items::quantity.gt(1))
            .order(shipments::shipment_id)
            .select((shipments::shipment_id, order_items::quantity))
            .load(conn)
            .await
            .unwrap();
        assert_eq!(joined, vec![(1, 5), (2, 7)]);

        let left: Vec<(i64, i64, Option<i64>)> = order_items::table
            .left_join(shipments::table)
            .order((order_items::order_id, order_items::product_id))
            .select((order_items::order_id, order_items::product_id, shipments::shipment_id.nullable()))
            .load(conn)
            .await
            .unwrap();
        assert_eq!(left, vec![(1, 1, Some(1)), (1, 2, None), (2, 1, Some(2))]);
    }
}

on_every_backend! {
    /// A child without its parent is a typed error naming the constraint and the key.
    async fn foreign_key_violations_are_typed(db, conn, open) {
        item(1, 1, 1).insert(conn).await.unwrap();
        ship(1, 1, 1).insert(conn).await.unwrap();
        match ship(9, 9, 1).insert(conn).await {
            Err(Error::ForeignKeyViolation { table, key, constraint, references }) => {
                assert_eq!(table, "shipments");
                assert_eq!(key, "9:9:1");
                match db.backend {
                    common::Backend::Pg => {
                        assert_eq!(constraint.as_deref(), Some("fk_shipments_order_items"));
                        assert_eq!(references.as_deref(), Some("9:9"));
                    }
                    common::Backend::Mysql => assert_eq!(constraint.as_deref(), Some("fk_shipments_order_items")),
                    common::Backend::Sqlite => assert_eq!(constraint, None, "SQLite does not name it"),
                }
            }
            other => panic!("expected ForeignKeyViolation, got {other:?}"),
        }
        // Deleting a parent that still has children is refused too.
        let deleted = OrderItem::delete(conn, (1, 1)).await;
        assert!(matches!(deleted, Err(Error::ForeignKeyViolation { table: "order_items", .. })), "{deleted:?}");

        // UUID-keyed parent and child.
        let created_at = day(1).and_hms_opt(0, 0, 0).unwrap();
        let session = UserSession { user_id: grant::PortableUuid::new_v4(), session_id: grant::PortableUuid::new_v4(), device: "d".into(), created_at };
        session.insert(conn).await.unwrap();
        let event = |id| SessionEvent { user_id: session.user_id, session_id: session.session_id, event_id: id, kind: "click".into() };
        SessionEvent::insert_all(&[event(1), event(2)], conn).await.unwrap();
        let events: Vec<SessionEvent> = SessionEvent::belonging_to(&session)
            .order(session_events::event_id)
            .select(SessionEvent::as_select())
            .load(conn)
            .await
            .unwrap();
        assert_eq!(events, vec![event(1), event(2)]);
        assert_eq!(UserSession::parent_of(conn, &events[0]).await.unwrap(), Some(session.clone()));
        let orphan = SessionEvent { user_id: grant::PortableUuid::new_v4(), ..event(3) };
        assert!(matches!(orphan.insert(conn).await, Err(Error::ForeignKeyViolation { table: "session_events", .. })));
        let count: i64 = user_sessions::table.count().get_result(conn).await.unwrap();
        assert_eq!(count, 1);
    }
}

/// The declared foreign keys are what the migrations create, on every backend.
#[tokio::test(flavor = "multi_thread")]
async fn foreign_key_declarations_match_the_migrations() {
    use grant::assoc::ForeignKey;
    assert_eq!(
        <shipments::table as ForeignKey<order_items::table>>::CONSTRAINT,
        "fk_shipments_order_items"
    );
    assert_eq!(
        <shipments::table as ForeignKey<order_items::table>>::COLUMNS,
        ["order_id", "product_id"]
    );
    assert_eq!(
        <session_events::table as ForeignKey<user_sessions::table>>::CONSTRAINT,
        "fk_session_events_user_sessions"
    );
    for up in ["postgres", "mysql", "sqlite"] {
        let path = format!(
            "{}/migrations/{up}/2026-11-27-110000_create_child_tables/up.sql",
            env!("CARGO_MANIFEST_DIR")
        );
        let sql = std::fs::read_to_string(&path).unwrap();
        assert!(
            sql.contains("CONSTRAINT fk_shipments_order_items FOREIGN KEY (order_id, product_id)"),
            "{path}"
        );
        assert!(
            sql.contains("REFERENCES order_items (order_id, product_id)"),
            "{path}"
        );
        assert!(
            sql.contains(
                "CONSTRAINT fk_session_events_user_sessions FOREIGN KEY (user_id, session_id)"
            ),
            "{path}"
        );
    }
}
