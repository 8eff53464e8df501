//! Row structs of the example schema.

use super::{daily_totals, order_items, region_data, session_events, shipments, user_sessions};
use diesel::prelude::*;

/// A row of `order_items`.
#[derive(
    Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset, grant::Keyed,
)]
#[diesel(table_name = order_items)]
pub struct OrderItem {
    pub order_id: i64,
    pub product_id: i64,
    pub quantity: i32,
}

/// A row of `user_sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, grant::Keyed)]
#[diesel(table_name = user_sessions)]
pub struct UserSession {
    pub user_id: grant::PortableUuid,
    pub session_id: grant::PortableUuid,
    pub device: String,
    pub created_at: chrono::NaiveDateTime,
}

/// A row of `region_data`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, grant::Keyed)]
#[diesel(table_name = region_data)]
pub struct RegionData {
    pub country_code: String,
    pub region_id: i32,
    pub name: String,
    pub population: i64,
}

/// A row of `daily_totals`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, grant::Keyed)]
#[diesel(table_name = daily_totals)]
pub struct DailyTotal {
    pub day: chrono::NaiveDate,
    pub country_code: String,
    pub total: i64,
}

/// A row of `shipments` (child of `order_items`).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, grant::Keyed)]
#[diesel(table_name = shipments)]
pub struct Shipment {
    pub order_id: i64,
    pub product_id: i64,
    pub shipment_id: i64,
    pub carrier: String,
    pub shipped_on: chrono::NaiveDate,
}

/// A row of `session_events` (child of `user_sessions`).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, grant::Keyed)]
#[diesel(table_name = session_events)]
pub struct SessionEvent {
    pub user_id: grant::PortableUuid,
    pub session_id: grant::PortableUuid,
    pub event_id: i64,
    pub kind: String,
}
