//! Key operations on a plain (blocking) diesel connection, with typed errors. The same
//! operations as [`crate::KeyedAsync`], for code that is not async.

use super::run_async::{
    FindManySelect, FindSelect, InsertRecord, InsertRecords, KeyFilterOf, UpdateByKey,
};
use super::run_async::{in_key_order, unique_keys};
use super::{BindLimit, KeyFrom, Keyed, KeyedTable, KeysIn, keys_per_statement};
use super::{map_read_error, map_write_error};
use crate::{Error, Result};
use diesel::associations::HasTable;
use diesel::connection::Connection;
use diesel::dsl::{AsSelect, Filter, delete, exists, select};
use diesel::query_builder::{AsChangeset, IntoUpdateTarget};
use diesel::query_dsl::LoadQuery;
use diesel::query_dsl::methods::{ExecuteDsl, FilterDsl, SelectDsl};
use diesel::{Insertable, OptionalExtension, RunQueryDsl, SelectableHelper};

/// Find, check, update, delete and insert records by their full key on a blocking diesel
/// connection. Same contract as [`crate::KeyedAsync`]; import one of the two.
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
        Self: diesel::Selectable<C::Backend>,
        <Self as diesel::Selectable<C::Backend>>::SelectExpression: diesel::query_builder::QueryId,
        Self::Table: FilterDsl<KeyFilterOf<Self>>,
        Filter<Self::Table, KeyFilterOf<Self>>: SelectDsl<AsSelect<Self, C::Backend>>,
        FindSelect<Self, C::Backend>: LoadQuery<'static, C, Self>,
    {
        Self::Table::default()
            .filter(Self::Table::key_filter(Self::Table::key_from(key)))
            .select(Self::as_select())
            .get_result(conn)
            .optional()
            .map_err(|e| map_read_error(<Self::Table as KeyedTable>::NAME, e))
    }

    /// The record with this key, or [`Error::NotFound`] naming the table and the key.
    fn find_or_error<C, K>(conn: &mut C, key: K) -> Result<Self>
    where
        C: Connection,
        Self::Table: KeyFrom<K>,
        Self: diesel::Selectable<C::Backend>,
        <Self as diesel::Selectable<C::Backend>>::SelectExpression: diesel::query_builder::QueryId,
        Self::Table: FilterDsl<KeyFilterOf<Self>>,
        Filter<Self::Table, KeyFilterOf<Self>>: SelectDsl<AsSelect<Self, C::Backend>>,
        FindSelect<Self, C::Backend>: LoadQuery<'static, C, Self>,
    {
        let key = <Self::Table as KeyFrom<K>>::key_from(key);
        let printed = key.to_string();
        let table = <Self::Table as KeyedTable>::NAME;
        Self::Table::default()
            .filter(<Self::Table as KeyedTable>::key_filter(key))
            .select(Self::as_select())
            .get_result(conn)
            .optional()
            .map_err(|e| map_read_error(table, e))?
            .ok_or(Error::NotFound {
                table,
                key: printed,
            })
    }

    /// Whether a row has this key.
    fn exists<C, K>(conn: &mut C, key: K) -> Result<bool>
    where
        C: Connection,
        Self::Table: KeyFrom<K>,
        Self::Table: FilterDsl<KeyFilterOf<Self>>,
        exists<Filter<Self::Table, KeyFilterOf<Self>>>: diesel::Expression,
        select<exists<Filter<Self::Table, KeyFilterOf<Self>>>>: diesel::query_builder::AsQuery,
        select<exists<Filter<Self::Table, KeyFilterOf<Self>>>>: LoadQuery<'static, C, bool>,
    {
        diesel::select(exists(
            Self::Table::default().filter(Self::Table::key_filter(Self::Table::key_from(key))),
        ))
        .get_result(conn)
        .map_err(|e| map_read_error(<Self::Table as KeyedTable>::NAME, e))
    }

    /// The records with these keys, in the order of `keys` (see [`crate::KeyedAsync::find_many`]).
    fn find_many<C, I>(conn: &mut C, keys: I) -> Result<Vec<Self>>
    where
        C: Connection,
        C::Backend: BindLimit,
        I: IntoIterator,
        Self::Table: KeyFrom<I::Item>,
        Self: diesel::Selectable<C::Backend>,
        <Self as diesel::Selectable<C::Backend>>::SelectExpression: diesel::query_builder::QueryId,
        Self::Table: FilterDsl<KeysIn<Self::Table>>,
        Filter<Self::Table, KeysIn<Self::Table>>: SelectDsl<AsSelect<Self, C::Backend>>,
        FindManySelect<Self, C::Backend>: LoadQuery<'static, C, Self>,
    {
        let keys = unique_keys::<Self::Table, _>(keys);
        let mut rows = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(keys_per_statement::<Self::Table, C::Backend>()) {
            let found: Vec<Self> = Self::Table::default()
                .filter(KeysIn::new(chunk.to_vec()))
                .select(Self::as_select())
                .load(conn)
                .map_err(|e| map_read_error(<Self::Table as KeyedTable>::NAME, e))?;
            rows.extend(found);
        }
        Ok(in_key_order(&keys, rows))
    }

    /// Applies `changes` to the row with this key; [`Error::NotFound`] when no row has it.
    fn update<C, K, Ch>(conn: &mut C, key: K, changes: Ch) -> Result<()>
    where
        C: Connection,
        Self::Table: KeyFrom<K>,
        Ch: AsChangeset<Target = Self::Table>,
        Self::Table: FilterDsl<KeyFilterOf<Self>>,
        Filter<Self::Table, KeyFilterOf<Self>>: IntoUpdateTarget + HasTable<Table = Self::Table>,
        UpdateByKey<Self, Ch>: ExecuteDsl<C>,
        diesel::query_builder::UpdateStatement<
            Self::Table,
            <Filter<Self::Table, KeyFilterOf<Self>> as IntoUpdateTarget>::WhereClause,
            Ch::Changeset,
        >: diesel::query_builder::AsQuery,
    {
        let key = <Self::Table as KeyFrom<K>>::key_from(key);
        let printed = key.to_string();
        let table = <Self::Table as KeyedTable>::NAME;
        let filtered = Self::Table::default().filter(<Self::Table as KeyedTable>::key_filter(key));
        match diesel::update(filtered).set(changes).execute(conn) {
            Ok(0) => Err(Error::NotFound {
                table,
                key: printed,
            }),
            Ok(_) => Ok(()),
            Err(e) => Err(map_write_error(table, Some(printed), e)),
        }
    }

    /// Deletes the row with this key; `true` if there was one.
    fn delete<C, K>(conn: &mut C, key: K) -> Result<bool>
    where
        C: Connection,
        Self::Table: KeyFrom<K>,
        Self::Table: FilterDsl<KeyFilterOf<Self>>,
        Filter<Self::Table, KeyFilterOf<Self>>: IntoUpdateTarget,
        delete<Filter<Self::Table, KeyFilterOf<Self>>>: ExecuteDsl<C>,
    {
        diesel::delete(
            Self::Table::default().filter(Self::Table::key_filter(Self::Table::key_from(key))),
        )
        .execute(conn)
        .map(|n| n > 0)
        .map_err(|e| map_write_error(<Self::Table as KeyedTable>::NAME, None, e))
    }

    /// Inserts this record; a row with the same key gives [`Error::DuplicateKey`].
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
