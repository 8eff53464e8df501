//! `.set(..)` on a routed `UPDATE` (an inherent method of diesel's `UpdateStatement`, which
//! a trait cannot pass through): it checks, when compiling, that the changeset assigns no
//! shard-key column.

use super::Routed;
use super::changeset::{Checked, ShardSafeChangeset};
use diesel::Table;
use diesel::query_builder::{AsChangeset, AsQuery, UpdateStatement};
use diesel::query_source::QuerySource;

impl<T: QuerySource, U, R> Routed<UpdateStatement<T, U>, R> {
    /// Diesel's `UpdateStatement::set`, keeping the route, for a changeset that assigns no
    /// shard-key column (a compile error names the table and the column otherwise).
    ///
    /// ```
    /// # use grant::__doc_schema::order_items;
    /// use grant::prelude::*;
    /// let q = order_items::table.update_key((1, 2)).set(order_items::quantity.eq(5));
    /// let sql = diesel::debug_query::<diesel::sqlite::Sqlite, _>(&q).to_string();
    /// assert!(sql.starts_with("UPDATE `order_items` SET `quantity` = ?"), "{sql}");
    /// ```
    ///
    /// `order_items` shards by `order_id`, so this does not compile:
    ///
    /// ```compile_fail
    /// # use grant::__doc_schema::order_items;
    /// use grant::prelude::*;
    /// let q = order_items::table.update_key((1, 2)).set(order_items::order_id.eq(9));
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn set<V, M>(self, values: V) -> Routed<UpdateStatement<T, U, Checked<V::Changeset>>, R>
    where
        T: Table,
        V: AsChangeset<Target = T> + ShardSafeChangeset<T, M>,
        UpdateStatement<T, U, Checked<V::Changeset>>: AsQuery,
    {
        self.map(|update| update.set(Checked::new(values)))
    }
}
