//! Key-based statement builders on every `grant::table!` table. They return Diesel
//! statements that also carry their shard route ([`Routed`]): run them with diesel's or
//! diesel-async's `RunQueryDsl` on one connection, or on [`crate::Sharded`], and refine them
//! with further `filter`, `select`, `for_update` calls.

use super::{KeyFrom, KeyedTable, KeysIn};
use crate::shard::{ByKey, Routed, ShardKeyed};
use diesel::Expression;
use diesel::dsl::{Filter, delete, exists, select, update};
use diesel::query_builder::{AsQuery, IntoUpdateTarget};
use diesel::query_dsl::methods::FilterDsl;

/// A statement routed by the shard key of table `T`'s key.
type ByKeyOf<T> = ByKey<<T as ShardKeyed>::ShardKey>;
/// The table filtered to one key.
type KeyFiltered<T> = Filter<T, <T as KeyedTable>::KeyFilter>;
/// What [`KeyQueryDsl::find_key`] returns (as diesel's `dsl::Find`).
pub type FindKey<T> = Routed<KeyFiltered<T>, ByKeyOf<T>>;
/// What [`KeyQueryDsl::key_exists`] returns.
pub type KeyExists<T> = Routed<select<exists<KeyFiltered<T>>>, ByKeyOf<T>>;
/// What [`KeyQueryDsl::update_key`] returns.
pub type UpdateKey<T> = Routed<update<KeyFiltered<T>>, ByKeyOf<T>>;
/// What [`KeyQueryDsl::delete_key`] returns.
pub type DeleteKey<T> = Routed<delete<KeyFiltered<T>>, ByKeyOf<T>>;

/// `find_key`, `find_keys`, `key_exists`, `update_key` and `delete_key` on a table.
///
/// Each takes a full key ([`IntoKey`](crate::key::IntoKey)): a partial key does not compile, and the error names
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
pub trait KeyQueryDsl: ShardKeyed {
    /// `SELECT .. WHERE <key columns> = <key>`.
    fn find_key<K>(self, key: K) -> FindKey<Self>
    where
        Self: KeyFrom<K>,
        Self: FilterDsl<Self::KeyFilter>,
    {
        let key = Self::key_from(key);
        let route = ByKey(Self::shard_key_of(&key));
        Routed::new(self.filter(Self::key_filter(key)), route)
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
    fn key_exists<K>(self, key: K) -> KeyExists<Self>
    where
        Self: KeyFrom<K>,
        Self: FilterDsl<Self::KeyFilter>,
        exists<Filter<Self, Self::KeyFilter>>: Expression,
        select<exists<Filter<Self, Self::KeyFilter>>>: AsQuery,
    {
        self.find_key(key)
            .map(|q| diesel::select(diesel::dsl::exists(q)))
    }

    /// `UPDATE .. WHERE <key columns> = <key>`; continue with `.set(..)`.
    fn update_key<K>(self, key: K) -> UpdateKey<Self>
    where
        Self: KeyFrom<K>,
        Self: FilterDsl<Self::KeyFilter>,
        Filter<Self, Self::KeyFilter>: IntoUpdateTarget,
    {
        self.find_key(key).map(diesel::update)
    }

    /// `DELETE .. WHERE <key columns> = <key>`.
    fn delete_key<K>(self, key: K) -> DeleteKey<Self>
    where
        Self: KeyFrom<K>,
        Self: FilterDsl<Self::KeyFilter>,
        Filter<Self, Self::KeyFilter>: IntoUpdateTarget,
    {
        self.find_key(key).map(diesel::delete)
    }
}

impl<T: ShardKeyed> KeyQueryDsl for T {}
