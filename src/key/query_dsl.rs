//! Key-based statement builders on every `grant::table!` table. They return plain Diesel
//! statements: run them with diesel's or diesel-async's `RunQueryDsl`, or refine them with
//! further `filter`, `select`, `for_update` calls.

use super::{KeyFrom, KeyedTable, KeysIn};
use diesel::Expression;
use diesel::dsl::{Filter, delete, exists, select, update};
use diesel::query_builder::{AsQuery, IntoUpdateTarget};
use diesel::query_dsl::methods::FilterDsl;

/// `find_key`, `find_keys`, `key_exists`, `update_key` and `delete_key` on a table.
///
/// Each takes a full key ([`IntoKey`]): a partial key does not compile, and the error names
/// the table and the missing column.
///
/// ```
/// # use grant::__doc_schema::order_items;
/// use diesel::debug_query;
/// use diesel::sqlite::Sqlite;
/// use grant::prelude::*;
///
/// let key = order_items::Key { order_id: 123, product_id: 456 };
/// let q = order_items::table.find_key(&key);
/// assert_eq!(
///     debug_query::<Sqlite, _>(&q).to_string(),
///     "SELECT `order_items`.`order_id`, `order_items`.`product_id`, `order_items`.`quantity` \
///      FROM `order_items` WHERE ((`order_items`.`order_id` = ?) AND (`order_items`.`product_id` = ?)) \
///      -- binds: [123, 456]"
/// );
/// let q = order_items::table.delete_key(order_items::Key::builder().product_id(456).order_id(123));
/// assert!(debug_query::<Sqlite, _>(&q).to_string().starts_with("DELETE FROM `order_items` WHERE"));
/// ```
pub trait KeyQueryDsl: KeyedTable {
    /// `SELECT .. WHERE <key columns> = <key>`.
    fn find_key<K>(self, key: K) -> Filter<Self, Self::KeyFilter>
    where
        Self: KeyFrom<K>,
        Self: FilterDsl<Self::KeyFilter>,
    {
        self.filter(Self::key_filter(Self::key_from(key)))
    }

    /// `SELECT .. WHERE <key> IN (<keys>)` in one statement (see [`KeysIn`] for the SQL of
    /// each backend). The caller keeps the list under the backend's bind limit; the
    /// `find_many` runners split long lists for you.
    fn find_keys<I>(self, keys: I) -> Filter<Self, KeysIn<Self>>
    where
        I: IntoIterator,
        Self: KeyFrom<I::Item>,
        Self: FilterDsl<KeysIn<Self>>,
    {
        self.filter(KeysIn::new(keys.into_iter().map(Self::key_from).collect()))
    }

    /// `SELECT EXISTS (SELECT .. WHERE <key columns> = <key>)`.
    fn key_exists<K>(self, key: K) -> select<exists<Filter<Self, Self::KeyFilter>>>
    where
        Self: KeyFrom<K>,
        Self: FilterDsl<Self::KeyFilter>,
        exists<Filter<Self, Self::KeyFilter>>: Expression,
        select<exists<Filter<Self, Self::KeyFilter>>>: AsQuery,
    {
        diesel::select(diesel::dsl::exists(self.find_key(key)))
    }

    /// `UPDATE .. WHERE <key columns> = <key>`; continue with `.set(..)`.
    fn update_key<K>(self, key: K) -> update<Filter<Self, Self::KeyFilter>>
    where
        Self: KeyFrom<K>,
        Self: FilterDsl<Self::KeyFilter>,
        Filter<Self, Self::KeyFilter>: IntoUpdateTarget,
    {
        diesel::update(self.find_key(key))
    }

    /// `DELETE .. WHERE <key columns> = <key>`.
    fn delete_key<K>(self, key: K) -> delete<Filter<Self, Self::KeyFilter>>
    where
        Self: KeyFrom<K>,
        Self: FilterDsl<Self::KeyFilter>,
        Filter<Self, Self::KeyFilter>: IntoUpdateTarget,
    {
        diesel::delete(self.find_key(key))
    }
}

impl<T: KeyedTable> KeyQueryDsl for T {}
