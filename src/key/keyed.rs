//! Records that know their key.

use super::KeyedTable;
use crate::shard::ShardKeyed;

/// A record (a row struct) of a `grant::table!` table that can read its own key.
///
/// Derive it with `#[derive(grant::Keyed)]` next to diesel's derives; the struct needs
/// `#[diesel(table_name = ...)]` and a field for every key column (`#[diesel(column_name)]`
/// renames are honoured). A key field must have the column's key type: an `Option` field for
/// a key column is a compile error that names the column.
///
/// ```
/// # use grant::__doc_schema::{order_items, OrderItem};
/// use grant::Keyed;
/// let item = OrderItem { order_id: 123, product_id: 456, quantity: 1 };
/// assert_eq!(item.key(), order_items::Key { order_id: 123, product_id: 456 });
/// assert_eq!(item.key().to_string(), "123:456");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a keyed record",
    label = "no key for this type",
    note = "derive `grant::Keyed` on a struct with `#[diesel(table_name = ...)]` naming a `grant::table!` table"
)]
pub trait Keyed {
    /// The record's table.
    type Table: ShardKeyed;
    /// The record's key.
    fn key(&self) -> <Self::Table as KeyedTable>::Key;
}

/// The key type of a record.
pub type KeyOf<R> = <<R as Keyed>::Table as KeyedTable>::Key;
