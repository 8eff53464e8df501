//! Composite foreign keys: declarations, a child's parent key, the children of one or many
//! parents, grouping, and joins on every key column.
//!
//! ```
//! # use grant::__doc_schema::{order_items, shipments, OrderItem, Shipment};
//! use grant::prelude::*;
//! // In the schema, beside the two `grant::table!`s:
//! // grant::foreign_key!(shipments (order_id, product_id) -> order_items (order_id, product_id));
//!
//! // Joins on both key columns, as ordinary Diesel joins.
//! let q = shipments::table
//!     .inner_join(order_items::table)
//!     .filter(order_items::quantity.gt(1))
//!     .select((shipments::shipment_id, order_items::quantity));
//! # #[cfg(feature = "postgres")] {
//! let sql = diesel::debug_query::<diesel::pg::Pg, _>(&q).to_string();
//! assert!(sql.contains(r#"INNER JOIN "order_items" ON (("shipments"."order_id" = "order_items"."order_id") AND ("shipments"."product_id" = "order_items"."product_id"))"#), "{sql}");
//! # }
//! ```

mod belongs_to;
mod columns_in;
pub(crate) mod foreign_key;

pub use belongs_to::{BelongingToDsl, BelongsTo, GroupedBy};
pub use columns_in::{ColumnsIn, ValuesListSyntax};
pub use foreign_key::{ForeignKey, ReadColumns};
