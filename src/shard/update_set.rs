//! `.set(..)` on a routed `UPDATE` (an inherent method of diesel's `UpdateStatement`, which
//! a trait cannot pass through).

use super::Routed;
use diesel::Table;
use diesel::query_builder::{AsChangeset, AsQuery, UpdateStatement};
use diesel::query_source::QuerySource;

impl<T: QuerySource, U, R> Routed<UpdateStatement<T, U>, R> {
    /// Diesel's `UpdateStatement::set`, keeping the route.
    ///
    /// ```
    /// # use grant::__doc_schema::order_items;
    /// use grant::prelude::*;
    /// let q = order_items::table.update_key((1, 2)).set(order_items::quantity.eq(5));
    /// let sql = diesel::debug_query::<diesel::sqlite::Sqlite, _>(&q).to_string();
    /// assert!(sql.starts_with("UPDATE `order_items` SET `quantity` = ?"), "{sql}");
    /// ```
    pub fn set<V>(self, values: V) -> Routed<UpdateStatement<T, U, V::Changeset>, R>
    where
        T: Table,
        V: AsChangeset<Target = T>,
        UpdateStatement<T, U, V::Changeset>: AsQuery,
    {
        self.map(|update| update.set(values))
    }
}
