//! Key operations on any diesel-async connection, with typed errors.

use super::{KeyFrom, KeyOf, Keyed, KeyedTable, KeysIn, map_read_error, map_write_error};
use crate::key::{BindLimit, InsertMany, keys_per_statement};
use crate::{Error, Result};
use diesel::associations::HasTable;
use diesel::dsl::{AsSelect, Filter, Select, delete, exists, select};
use diesel::query_builder::{AsChangeset, InsertStatement, IntoUpdateTarget};
use diesel::query_dsl::methods::{FilterDsl, SelectDsl};
use diesel::{Insertable, OptionalExtension, SelectableHelper};
use diesel_async::methods::{ExecuteDsl, LoadQuery};
use diesel_async::{AsyncConnection, RunQueryDsl};
use std::collections::HashMap;
use std::future::Future;

/// `SELECT <record's columns> .. WHERE <key>`: the statement of `find`.
pub type FindSelect<R, DB> = Select<Filter<<R as Keyed>::Table, KeyFilterOf<R>>, AsSelect<R, DB>>;
/// `SELECT <record's columns> .. WHERE <key> IN (..)`: the statement of `find_many`.
pub type FindManySelect<R, DB> =
    Select<Filter<<R as Keyed>::Table, KeysIn<<R as Keyed>::Table>>, AsSelect<R, DB>>;
/// The key filter of a record's table.
pub type KeyFilterOf<R> = <<R as Keyed>::Table as KeyedTable>::KeyFilter;
/// `UPDATE .. SET <changes> WHERE <key>`.
pub type UpdateByKey<R, Ch> = diesel::dsl::Update<Filter<<R as Keyed>::Table, KeyFilterOf<R>>, Ch>;
/// `INSERT INTO .. VALUES <record>`.
pub type InsertRecord<'a, R> =
    InsertStatement<<R as Keyed>::Table, <&'a R as Insertable<<R as Keyed>::Table>>::Values>;
/// `INSERT INTO .. VALUES <records>`.
pub type InsertRecords<'a, R> =
    InsertStatement<<R as Keyed>::Table, <&'a [R] as Insertable<<R as Keyed>::Table>>::Values>;

/// Find, check, update, delete and insert records by their full key on a diesel-async
/// connection (`AsyncPgConnection`, `AsyncMysqlConnection`,
/// `SyncConnectionWrapper<SqliteConnection>`, or a pooled one). Implemented for every
/// [`Keyed`] record; the record also derives diesel's `Selectable` (for reads) and
/// `Insertable` (for inserts).
///
/// Every key argument is a full key ([`IntoKey`](crate::key::IntoKey)); errors are grant's: a missing row for
/// `find_or_error`/`update` is [`Error::NotFound`], a duplicate insert is
/// [`Error::DuplicateKey`] (the server's unique violation, mapped: no racy pre-check).
///
/// ```
/// # use grant::__doc_schema::{order_items, OrderItem, sqlite_with_order_items};
/// use grant::prelude::*;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), grant::Error> {
/// let mut conn = sqlite_with_order_items().await;
/// OrderItem { order_id: 1, product_id: 2, quantity: 3 }.insert(&mut conn).await?;
/// let found = OrderItem::find(&mut conn, (1, 2)).await?;
/// assert_eq!(found.map(|i| i.quantity), Some(3));
/// assert!(OrderItem::exists(&mut conn, order_items::Key::builder().product_id(2).order_id(1)).await?);
/// OrderItem::update(&mut conn, (1, 2), order_items::quantity.eq(5)).await?;
/// assert!(OrderItem::delete(&mut conn, (1, 2)).await?);
/// match OrderItem::find_or_error(&mut conn, (1, 2)).await {
///     Err(grant::Error::NotFound { table, key }) => assert_eq!((table, key.as_str()), ("order_items", "1:2")),
///     other => panic!("{other:?}"),
/// }
/// # Ok(())
/// # }
/// ```
pub trait KeyedAsync: Keyed + Sized + Send + 'static {
    /// The record with this key, if there is one.
    fn find<'c, C, K>(
        conn: &'c mut C,
        key: K,
    ) -> impl Future<Output = Result<Option<Self>>> + Send + 'c
    where
        C: AsyncConnection + 'c,
        Self::Table: KeyFrom<K>,
        Self: diesel::Selectable<C::Backend>,
        <Self as diesel::Selectable<C::Backend>>::SelectExpression: diesel::query_builder::QueryId,
        Self::Table: FilterDsl<KeyFilterOf<Self>>,
        Filter<Self::Table, KeyFilterOf<Self>>: SelectDsl<AsSelect<Self, C::Backend>>,
        FindSelect<Self, C::Backend>: LoadQuery<'static, C, Self> + Send + 'static,
    {
        let query = Self::Table::default()
            .filter(Self::Table::key_filter(Self::Table::key_from(key)))
            .select(Self::as_select());
        async move {
            query
                .get_result(conn)
                .await
                .optional()
                .map_err(|e| map_read_error(<Self::Table as KeyedTable>::NAME, e))
        }
    }

    /// The record with this key, or [`Error::NotFound`] naming the table and the key
    /// (Grant's `find!`).
    fn find_or_error<'c, C, K>(
        conn: &'c mut C,
        key: K,
    ) -> impl Future<Output = Result<Self>> + Send + 'c
    where
        C: AsyncConnection + 'c,
        Self::Table: KeyFrom<K>,
        Self: diesel::Selectable<C::Backend>,
        <Self as diesel::Selectable<C::Backend>>::SelectExpression: diesel::query_builder::QueryId,
        Self::Table: FilterDsl<KeyFilterOf<Self>>,
        Filter<Self::Table, KeyFilterOf<Self>>: SelectDsl<AsSelect<Self, C::Backend>>,
        FindSelect<Self, C::Backend>: LoadQuery<'static, C, Self> + Send + 'static,
    {
        let key = <Self::Table as KeyFrom<K>>::key_from(key);
        let printed = key.to_string();
        let query = Self::Table::default()
            .filter(<Self::Table as KeyedTable>::key_filter(key))
            .select(Self::as_select());
        async move {
            let table = <Self::Table as KeyedTable>::NAME;
            query
                .get_result(conn)
                .await
                .optional()
                .map_err(|e| map_read_error(table, e))?
                .ok_or(Error::NotFound {
                    table,
                    key: printed,
                })
        }
    }

    /// Whether a row has this key (`SELECT EXISTS (..)`).
    fn exists<'c, C, K>(conn: &'c mut C, key: K) -> impl Future<Output = Result<bool>> + Send + 'c
    where
        C: AsyncConnection + 'c,
        Self::Table: KeyFrom<K>,
        Self::Table: FilterDsl<KeyFilterOf<Self>>,
        exists<Filter<Self::Table, KeyFilterOf<Self>>>: diesel::Expression,
        select<exists<Filter<Self::Table, KeyFilterOf<Self>>>>: diesel::query_builder::AsQuery,
        select<exists<Filter<Self::Table, KeyFilterOf<Self>>>>:
            LoadQuery<'static, C, bool> + Send + 'static,
    {
        let query = diesel::select(exists(
            Self::Table::default().filter(Self::Table::key_filter(Self::Table::key_from(key))),
        ));
        async move {
            query
                .get_result(conn)
                .await
                .map_err(|e| map_read_error(<Self::Table as KeyedTable>::NAME, e))
        }
    }

    /// The records with these keys, in one statement per [`keys_per_statement`] keys (one
    /// round trip for up to 1,000 keys), returned in the order of `keys`; keys without a row
    /// are skipped, and a key given twice gives its row once.
    fn find_many<'c, C, I>(
        conn: &'c mut C,
        keys: I,
    ) -> impl Future<Output = Result<Vec<Self>>> + Send + 'c
    where
        C: AsyncConnection + 'c,
        C::Backend: BindLimit,
        I: IntoIterator,
        Self::Table: KeyFrom<I::Item>,
        Self: diesel::Selectable<C::Backend>,
        <Self as diesel::Selectable<C::Backend>>::SelectExpression: diesel::query_builder::QueryId,
        Self::Table: FilterDsl<KeysIn<Self::Table>>,
        Filter<Self::Table, KeysIn<Self::Table>>: SelectDsl<AsSelect<Self, C::Backend>>,
        FindManySelect<Self, C::Backend>: LoadQuery<'static, C, Self> + Send + 'static,
    {
        let keys = unique_keys::<Self::Table, _>(keys);
        let per_statement = keys_per_statement::<Self::Table, C::Backend>();
        let queries: Vec<_> = keys
            .chunks(per_statement)
            .map(|chunk| {
                Self::Table::default()
                    .filter(KeysIn::new(chunk.to_vec()))
                    .select(Self::as_select())
            })
            .collect();
        async move {
            let mut rows = Vec::with_capacity(keys.len());
            for query in queries {
                let chunk: Vec<Self> = query
                    .load(conn)
                    .await
                    .map_err(|e| map_read_error(<Self::Table as KeyedTable>::NAME, e))?;
                rows.extend(chunk);
            }
            Ok(in_key_order(&keys, rows))
        }
    }

    /// The parent of `child`: the row of this table that `child`'s foreign key references
    /// (see [`crate::foreign_key!`]), if it exists.
    fn parent_of<'c, C, Ch>(
        conn: &'c mut C,
        child: &Ch,
    ) -> impl Future<Output = Result<Option<Self>>> + Send + 'c
    where
        C: AsyncConnection + 'c,
        Ch: crate::assoc::BelongsTo<Self::Table>,
        Self::Table: KeyFrom<KeyOf<Self>>,
        Self: diesel::Selectable<C::Backend>,
        <Self as diesel::Selectable<C::Backend>>::SelectExpression: diesel::query_builder::QueryId,
        Self::Table: FilterDsl<KeyFilterOf<Self>>,
        Filter<Self::Table, KeyFilterOf<Self>>: SelectDsl<AsSelect<Self, C::Backend>>,
        FindSelect<Self, C::Backend>: LoadQuery<'static, C, Self> + Send + 'static,
    {
        Self::find(conn, child.parent_key())
    }

    /// The parents of a page of children, in one statement (per 1,000 keys): each parent
    /// once, in the order the children first reference them.
    fn parents_of<'c, C, Ch>(
        conn: &'c mut C,
        children: &[Ch],
    ) -> impl Future<Output = Result<Vec<Self>>> + Send + 'c
    where
        C: AsyncConnection + 'c,
        C::Backend: BindLimit,
        Ch: crate::assoc::BelongsTo<Self::Table>,
        Self::Table: KeyFrom<KeyOf<Self>>,
        Self: diesel::Selectable<C::Backend>,
        <Self as diesel::Selectable<C::Backend>>::SelectExpression: diesel::query_builder::QueryId,
        Self::Table: FilterDsl<KeysIn<Self::Table>>,
        Filter<Self::Table, KeysIn<Self::Table>>: SelectDsl<AsSelect<Self, C::Backend>>,
        FindManySelect<Self, C::Backend>: LoadQuery<'static, C, Self> + Send + 'static,
    {
        let keys: Vec<KeyOf<Self>> = children.iter().map(|c| c.parent_key()).collect();
        Self::find_many(conn, keys)
    }

    /// Applies `changes` to the row with this key; [`Error::NotFound`] when no row has it.
    fn update<'c, C, K, Ch>(
        conn: &'c mut C,
        key: K,
        changes: Ch,
    ) -> impl Future<Output = Result<()>> + Send + 'c
    where
        C: AsyncConnection + 'c,
        Self::Table: KeyFrom<K>,
        Ch: AsChangeset<Target = Self::Table>,
        Self::Table: FilterDsl<KeyFilterOf<Self>>,
        Filter<Self::Table, KeyFilterOf<Self>>: IntoUpdateTarget + HasTable<Table = Self::Table>,
        UpdateByKey<Self, Ch>: ExecuteDsl<C> + Send + 'static,
        diesel::query_builder::UpdateStatement<
            Self::Table,
            <Filter<Self::Table, KeyFilterOf<Self>> as IntoUpdateTarget>::WhereClause,
            Ch::Changeset,
        >: diesel::query_builder::AsQuery,
    {
        let key = <Self::Table as KeyFrom<K>>::key_from(key);
        let printed = key.to_string();
        let statement = diesel::update(
            Self::Table::default().filter(<Self::Table as KeyedTable>::key_filter(key)),
        )
        .set(changes);
        async move {
            let table = <Self::Table as KeyedTable>::NAME;
            match statement.execute(conn).await {
                Ok(0) => Err(Error::NotFound {
                    table,
                    key: printed,
                }),
                Ok(_) => Ok(()),
                Err(e) => Err(map_write_error(table, Some(printed), e)),
            }
        }
    }

    /// Deletes the row with this key; `true` if there was one.
    fn delete<'c, C, K>(conn: &'c mut C, key: K) -> impl Future<Output = Result<bool>> + Send + 'c
    where
        C: AsyncConnection + 'c,
        Self::Table: KeyFrom<K>,
        Self::Table: FilterDsl<KeyFilterOf<Self>>,
        Filter<Self::Table, KeyFilterOf<Self>>: IntoUpdateTarget,
        delete<Filter<Self::Table, KeyFilterOf<Self>>>: ExecuteDsl<C> + Send + 'static,
    {
        let statement = diesel::delete(
            Self::Table::default().filter(Self::Table::key_filter(Self::Table::key_from(key))),
        );
        async move {
            statement
                .execute(conn)
                .await
                .map(|n| n > 0)
                .map_err(|e| map_write_error(<Self::Table as KeyedTable>::NAME, None, e))
        }
    }

    /// Inserts this record; a row with the same key gives [`Error::DuplicateKey`].
    fn insert<'a, C>(&'a self, conn: &'a mut C) -> impl Future<Output = Result<()>> + Send + 'a
    where
        C: AsyncConnection + 'a,
        &'a Self: Insertable<Self::Table>,
        InsertRecord<'a, Self>: ExecuteDsl<C> + Send + 'a,
    {
        let printed = self.key().to_string();
        let statement = diesel::insert_into(Self::Table::default()).values(self);
        async move {
            statement
                .execute(conn)
                .await
                .map(drop)
                .map_err(|e| map_write_error(<Self::Table as KeyedTable>::NAME, Some(printed), e))
        }
    }

    /// Inserts these records as one unit (one multi-row statement on PostgreSQL and MySQL,
    /// one transaction on SQLite); returns how many rows were inserted. A duplicate gives
    /// [`Error::DuplicateKey`] with the key as the server reported it, and inserts nothing.
    fn insert_all<'a, C>(
        records: &'a [Self],
        conn: &'a mut C,
    ) -> impl Future<Output = Result<usize>> + Send + 'a
    where
        C: AsyncConnection + 'a,
        Self: InsertMany<C> + Sync,
    {
        <Self as InsertMany<C>>::insert_many(records, conn)
    }
}

impl<R: Keyed + Send + 'static> KeyedAsync for R {}

/// The keys, each once, in first-seen order.
pub(crate) fn unique_keys<T, I>(keys: I) -> Vec<T::Key>
where
    T: KeyFrom<I::Item>,
    I: IntoIterator,
{
    let mut seen = std::collections::HashSet::new();
    keys.into_iter()
        .map(T::key_from)
        .filter(|k| seen.insert(k.clone()))
        .collect()
}

/// The rows in the order of `keys`.
pub(crate) fn in_key_order<R: Keyed>(keys: &[KeyOf<R>], rows: Vec<R>) -> Vec<R> {
    let mut by_key: HashMap<KeyOf<R>, R> = rows.into_iter().map(|r| (r.key(), r)).collect();
    keys.iter().filter_map(|k| by_key.remove(k)).collect()
}
