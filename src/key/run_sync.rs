//! Key operations on a plain (blocking) diesel connection, with typed errors. The same
//! operations as [`crate::KeyedAsync`], for code that is not async; the statements come from
//! [`super::methods`].

use super::methods::{
    DeleteByKey, DeleteStatement, ExistsByKey, ExistsStatement, FindByKey, FindManyByKeys,
    FindManyStatement, FindStatement, InsertRecord, InsertRecords, UpdateByKey, UpdateStatement,
    full_key, in_key_order, require_row, require_updated, unique_keys,
};
use super::{KeyFrom, Keyed, KeyedTable};
use super::{UpsertRecord, UpsertStatement};
use super::{map_read_error, map_write_error};
use crate::Result;
use diesel::connection::Connection;
use diesel::query_dsl::LoadQuery;
use diesel::query_dsl::methods::ExecuteDsl;
use diesel::{Insertable, OptionalExtension, RunQueryDsl};

/// Find, check, update, delete and insert records by their full key on a blocking diesel
/// connection. Same contract as [`crate::KeyedAsync`]; import one of the two
/// ([`grant::sync::prelude`](crate::sync::prelude) brings this one with the rest of the prelude).
///
/// ```
/// # use grant::__doc_schema::{order_items, OrderItem};
/// use diesel::Connection;
/// use grant::sync::KeyedSync;
/// # fn main() -> Result<(), grant::Error> {
/// let mut conn = diesel::SqliteConnection::establish(":memory:").expect("in-memory SQLite");
/// # diesel::RunQueryDsl::execute(diesel::sql_query("CREATE TABLE order_items (order_id BIGINT, product_id BIGINT, quantity INTEGER, PRIMARY KEY (order_id, product_id))"), &mut conn).expect("table");
/// OrderItem { order_id: 1, product_id: 2, quantity: 3 }.insert(&mut conn)?;
/// assert_eq!(OrderItem::find(&mut conn, (1, 2))?.map(|i| i.quantity), Some(3));
/// assert!(matches!(
///     OrderItem { order_id: 1, product_id: 2, quantity: 9 }.insert(&mut conn),
///     Err(grant::Error::DuplicateKey { .. })
/// ));
/// # Ok(())
/// # }
/// ```
pub trait KeyedSync: Keyed + Sized + 'static {
    /// The record with this key, if there is one.
    fn find<C, K>(conn: &mut C, key: K) -> Result<Option<Self>>
    where
        C: Connection,
        Self::Table: KeyFrom<K>,
        Self: FindByKey<C::Backend>,
        FindStatement<Self, C::Backend>: LoadQuery<'static, C, Self>,
    {
        Self::find_statement(Self::Table::key_from(key))
            .get_result(conn)
            .optional()
            .map_err(|e| map_read_error(<Self::Table as KeyedTable>::NAME, e))
    }

    /// The record with this key, or [`Error::NotFound`](crate::Error::NotFound) naming the
    /// table and the key.
    fn find_or_error<C, K>(conn: &mut C, key: K) -> Result<Self>
    where
        C: Connection,
        Self::Table: KeyFrom<K>,
        Self: FindByKey<C::Backend>,
        FindStatement<Self, C::Backend>: LoadQuery<'static, C, Self>,
    {
        let (key, printed) = full_key::<Self::Table, K>(key);
        let found = Self::find_statement(key)
            .get_result(conn)
            .optional()
            .map_err(|e| map_read_error(<Self::Table as KeyedTable>::NAME, e))?;
        require_row(found, printed)
    }

    /// Whether a row has this key.
    fn exists<C, K>(conn: &mut C, key: K) -> Result<bool>
    where
        C: Connection,
        Self::Table: KeyFrom<K>,
        Self: ExistsByKey,
        ExistsStatement<Self>: LoadQuery<'static, C, bool>,
    {
        Self::exists_statement(Self::Table::key_from(key))
            .get_result(conn)
            .map_err(|e| map_read_error(<Self::Table as KeyedTable>::NAME, e))
    }

    /// The records with these keys, in the order of `keys` (see [`crate::KeyedAsync::find_many`]).
    fn find_many<C, K>(conn: &mut C, keys: impl IntoIterator<Item = K>) -> Result<Vec<Self>>
    where
        C: Connection,
        Self::Table: KeyFrom<K>,
        Self: FindManyByKeys<C::Backend>,
        FindManyStatement<Self, C::Backend>: LoadQuery<'static, C, Self>,
    {
        let keys = unique_keys::<Self::Table, _>(keys);
        let mut rows = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(Self::keys_per_statement()) {
            let found: Vec<Self> = Self::find_many_statement(chunk.to_vec())
                .load(conn)
                .map_err(|e| map_read_error(<Self::Table as KeyedTable>::NAME, e))?;
            rows.extend(found);
        }
        Ok(in_key_order(&keys, rows))
    }

    /// Applies `changes` to the row with this key; [`Error::NotFound`](crate::Error::NotFound)
    /// when no row has it.
    fn update<C, K, Ch>(conn: &mut C, key: K, changes: Ch) -> Result<()>
    where
        C: Connection,
        Self::Table: KeyFrom<K>,
        Self: UpdateByKey<Ch>,
        UpdateStatement<Self, Ch>: ExecuteDsl<C>,
    {
        let (key, printed) = full_key::<Self::Table, K>(key);
        match ExecuteDsl::execute(Self::update_statement(key, changes), conn) {
            Ok(n) => require_updated::<Self>(n, printed),
            Err(e) => Err(map_write_error(
                <Self::Table as KeyedTable>::NAME,
                Some(printed),
                e,
            )),
        }
    }

    /// Deletes the row with this key; `true` if there was one.
    fn delete<C, K>(conn: &mut C, key: K) -> Result<bool>
    where
        C: Connection,
        Self::Table: KeyFrom<K>,
        Self: DeleteByKey,
        DeleteStatement<Self>: ExecuteDsl<C>,
    {
        ExecuteDsl::execute(Self::delete_statement(Self::Table::key_from(key)), conn)
            .map(|n| n > 0)
            .map_err(|e| map_write_error(<Self::Table as KeyedTable>::NAME, None, e))
    }

    /// Inserts this record; a row with the same key gives
    /// [`Error::DuplicateKey`](crate::Error::DuplicateKey).
    fn insert<'a, C>(&'a self, conn: &mut C) -> Result<()>
    where
        C: Connection,
        &'a Self: Insertable<Self::Table>,
        InsertRecord<'a, Self>: ExecuteDsl<C>,
    {
        diesel::insert_into(Self::Table::default())
            .values(self)
            .execute(conn)
            .map(drop)
            .map_err(|e| {
                map_write_error(
                    <Self::Table as KeyedTable>::NAME,
                    Some(self.key().to_string()),
                    e,
                )
            })
    }

    /// Inserts this record, or, when a row with its key exists, applies `changes` to that
    /// row, in one statement (an upsert whose conflict target is the table's key; see
    /// [`UpsertStatement`](crate::key::UpsertStatement)).
    ///
    /// ```
    /// # use grant::__doc_schema::{order_items, OrderItem};
    /// use diesel::{Connection, SqliteConnection};
    /// use grant::key::incoming;
    /// use grant::sync::KeyedSync;
    /// use diesel::ExpressionMethods;
    /// # fn main() -> grant::Result<()> {
    /// let mut conn = SqliteConnection::establish(":memory:").unwrap();
    /// # diesel::RunQueryDsl::execute(diesel::sql_query("CREATE TABLE order_items (order_id BIGINT, product_id BIGINT, quantity INTEGER NOT NULL, PRIMARY KEY (order_id, product_id))"), &mut conn).unwrap();
    /// let item = OrderItem { order_id: 1, product_id: 2, quantity: 3 };
    /// item.insert_or_update(&mut conn, order_items::quantity.eq(incoming(order_items::quantity)))?;
    /// let more = OrderItem { quantity: 4, ..item };
    /// more.insert_or_update(&mut conn, order_items::quantity.eq(order_items::quantity + incoming(order_items::quantity)))?;
    /// assert_eq!(<OrderItem as KeyedSync>::find(&mut conn, (1, 2))?.map(|i| i.quantity), Some(7));
    /// # Ok(())
    /// # }
    /// ```
    fn insert_or_update<'a, C, Ch>(&'a self, conn: &mut C, changes: Ch) -> Result<()>
    where
        C: Connection,
        &'a Self: Insertable<Self::Table>,
        Ch: diesel::AsChangeset<Target = Self::Table>,
        UpsertRecord<'a, Self, Ch>: ExecuteDsl<C>,
    {
        self.upsert_statement(changes)
            .execute(conn)
            .map(drop)
            .map_err(|e| {
                map_write_error(
                    <Self::Table as KeyedTable>::NAME,
                    Some(self.key().to_string()),
                    e,
                )
            })
    }

    /// Inserts these records in one statement; returns how many rows were inserted.
    fn insert_all<'a, C>(records: &'a [Self], conn: &mut C) -> Result<usize>
    where
        C: Connection,
        &'a [Self]: Insertable<Self::Table>,
        InsertRecords<'a, Self>: ExecuteDsl<C>,
    {
        if records.is_empty() {
            return Ok(0);
        }
        diesel::insert_into(Self::Table::default())
            .values(records)
            .execute(conn)
            .map_err(|e| map_write_error(<Self::Table as KeyedTable>::NAME, None, e))
    }
}

impl<R: Keyed + 'static> KeyedSync for R {}
