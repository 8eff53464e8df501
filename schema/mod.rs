//! The example schema: the `table!` declarations (through `grant::table!`, which adds each
//! table's composite key) shared by the examples, tests and benches. It matches what
//! `migrations/<backend>/` creates on PostgreSQL, MariaDB and SQLite.
//!
//! Include it with `#[path = "../schema/mod.rs"] mod schema;`.
#![allow(dead_code)]

pub mod models;

grant::table! {
    /// Line items of orders: the seed's `OrderItem`, keyed by (order_id, product_id).
    #[grant(shard_key(order_id))]
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
    }
}

grant::table! {
    /// Sessions per user: the seed's `UserSession`, keyed by two UUIDs.
    #[grant(shard_key(user_id))]
    user_sessions (user_id, session_id) {
        user_id -> grant::sql_types::PortableUuid,
        session_id -> grant::sql_types::PortableUuid,
        device -> Text,
        created_at -> Timestamp,
    }
}

grant::table! {
    /// Figures per region: the seed's `RegionData`, keyed by (country_code, region_id).
    #[grant(shard_key(country_code))]
    region_data (country_code, region_id) {
        country_code -> Text,
        region_id -> Integer,
        name -> Text,
        population -> BigInt,
    }
}

grant::table! {
    /// Totals per day and country: a key with a date part.
    daily_totals (day, country_code) {
        day -> Date,
        country_code -> Text,
        total -> BigInt,
    }
}

grant::table! {
    /// Shipments of order items: a child of `order_items` through (order_id, product_id),
    /// sharded like its parent (by order_id) so that parent and children share a shard.
    #[grant(shard_key(order_id), colocated_with(order_items))]
    shipments (order_id, product_id, shipment_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        shipment_id -> BigInt,
        carrier -> Text,
        shipped_on -> Date,
    }
}

grant::table! {
    /// Events of a session: a child of `user_sessions` through (user_id, session_id).
    #[grant(shard_key(user_id), colocated_with(user_sessions))]
    session_events (user_id, session_id, event_id) {
        user_id -> grant::sql_types::PortableUuid,
        session_id -> grant::sql_types::PortableUuid,
        event_id -> BigInt,
        kind -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    order_items,
    user_sessions,
    region_data,
    daily_totals,
    shipments,
    session_events
);

grant::foreign_key!(
    shipments (order_id, product_id) -> order_items (order_id, product_id),
    constraint = "fk_shipments_order_items"
);
grant::foreign_key!(
    session_events (user_id, session_id) -> user_sessions (user_id, session_id),
    constraint = "fk_session_events_user_sessions"
);
