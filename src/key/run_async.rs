//! Key operations on any diesel-async connection, with typed errors. The statements come
//! from [`super::methods`]; this file only runs them.

use super::methods::{
    DeleteByKey, DeleteStatement, ExistsByKey, ExistsStatement, FindByKey, FindManyByKeys,
    FindManyStatement, FindStatement, UpdateByKey, UpdateStatement, full_key, in_key_order,
    require_row, require_updated, unique_keys,
};
use super::{InsertMany, InsertOne, KeyFrom, KeyFuture, KeyOf, Keyed, KeyedTable, UpsertOne};
use super::{map_read_error, map_write_error};
use crate::Result;
use diesel::OptionalExtension;
use diesel_async::methods::{ExecuteDsl, LoadQuery};
use diesel_async::{AsyncConnection, RunQueryDsl};
use std::future::Future;

/// Find, check, update, delete and insert records by their full key on a diesel-async
/// connection (`AsyncPgConnection`, `AsyncMysqlConnection`,
/// `SyncConnectionWrapper<SqliteConnection>`, or a pooled one). Implemented for every
/// [`Keyed`] record; the record also derives diesel's `Selectable` (for reads) and
/// `Insertable` (for inserts).
///
/// Every key argument is a full key ([`IntoKey`](crate::key::IntoKey)); errors are grant's: a missing row for
/// `find_or_error`/`update` is [`Error::NotFound`](crate::Error::NotFound), a duplicate insert is
/// [`Error::DuplicateKey`](crate::Error::DuplicateKey) (the server's unique violation, mapped: no racy pre-check).
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
    fn find<'c, C, K>(conn: &'c mut C, key: K) -> KeyFuture<'c, Option<Self>>
    where
        C: AsyncConnection + 'c,
        Self::Table: KeyFrom<K>,
        Self: FindByKey<C::Backend>,
        FindStatement<Self, C::Backend>: LoadQuery<'static, C, Self> + Send + 'static,
    {
        KeyFuture::new(find_one(conn, Self::Table::key_from(key)))
    }

    /// The record with this key, or [`Error::NotFound`](crate::Error::NotFound) naming the
    /// table and the key (Grant's `find!`).
    fn find_or_error<'c, C, K>(conn: &'c mut C, key: K) -> KeyFuture<'c, Self>
    where
        C: AsyncConnection + 'c,
        Self::Table: KeyFrom<K>,
        Self: FindByKey<C::Backend>,
        FindStatement<Self, C::Backend>: LoadQuery<'static, C, Self> + Send + 'static,
    {
        let (key, printed) = full_key::<Self::Table, K>(key);
        let found = find_one(conn, key);
        KeyFuture::new(async move { require_row(found.await?, printed) })
    }

    /// Whether a row has this key (`SELECT EXISTS (..)`).
    fn exists<'c, C, K>(conn: &'c mut C, key: K) -> KeyFuture<'c, bool>
    where
        C: AsyncConnection + 'c,
        Self::Table: KeyFrom<K>,
        Self: ExistsByKey,
        ExistsStatement<Self>: LoadQuery<'static, C, bool> + Send + 'static,
    {
        let query = Self::exists_statement(Self::Table::key_from(key));
        KeyFuture::new(async move {
            query
                .get_result(conn)
                .await
                .map_err(|e| map_read_error(<Self::Table as KeyedTable>::NAME, e))
        })
    }

    /// The records with these keys, in one statement per
    /// [`keys_per_statement`](crate::key::methods::FindManyByKeys::keys_per_statement) keys (one round trip for up to
    /// 1,000 keys), returned in the order of `keys`; keys without a row are skipped, and a key
    /// given twice gives its row once.
    fn find_many<'c, C, K>(
        conn: &'c mut C,
        keys: impl IntoIterator<Item = K>,
    ) -> KeyFuture<'c, Vec<Self>>
    where
        C: AsyncConnection + 'c,
        Self::Table: KeyFrom<K>,
        Self: FindManyByKeys<C::Backend>,
        FindManyStatement<Self, C::Backend>: LoadQuery<'static, C, Self> + Send + 'static,
    {
        KeyFuture::new(find_all(conn, unique_keys::<Self::Table, _>(keys)))
    }

    /// The parent of `child`: the row of this table that `child`'s foreign key references
    /// (see [`crate::foreign_key!`]), if it exists.
    fn parent_of<'c, C, Ch>(conn: &'c mut C, child: &Ch) -> KeyFuture<'c, Option<Self>>
    where
        C: AsyncConnection + 'c,
        Ch: crate::assoc::BelongsTo<Self::Table>,
        Self: FindByKey<C::Backend>,
        FindStatement<Self, C::Backend>: LoadQuery<'static, C, Self> + Send + 'static,
    {
        KeyFuture::new(find_one(conn, child.parent_key()))
    }

    /// The parents of a page of children, in one statement (per 1,000 keys): each parent
    /// once, in the order the children first reference them.
    fn parents_of<'c, C, Ch>(conn: &'c mut C, children: &[Ch]) -> KeyFuture<'c, Vec<Self>>
    where
        C: AsyncConnection + 'c,
        Ch: crate::assoc::BelongsTo<Self::Table>,
        Self: FindManyByKeys<C::Backend>,
        FindManyStatement<Self, C::Backend>: LoadQuery<'static, C, Self> + Send + 'static,
    {
        let mut seen = std::collections::HashSet::new();
        let keys: Vec<KeyOf<Self>> = children
            .iter()
            .map(|c| c.parent_key())
            .filter(|k| seen.insert(k.clone()))
            .collect();
        KeyFuture::new(find_all(conn, keys))
    }

    /// Applies `changes` to the row with this key; [`Error::NotFound`](crate::Error::NotFound)
    /// when no row has it.
    fn update<'c, C, K, Ch>(conn: &'c mut C, key: K, changes: Ch) -> KeyFuture<'c, ()>
    where
        C: AsyncConnection + 'c,
        Self::Table: KeyFrom<K>,
        Self: UpdateByKey<Ch>,
        UpdateStatement<Self, Ch>: ExecuteDsl<C> + Send + 'static,
    {
        let (key, printed) = full_key::<Self::Table, K>(key);
        let statement = Self::update_statement(key, changes);
        KeyFuture::new(async move {
            let table = <Self::Table as KeyedTable>::NAME;
            match statement.execute(conn).await {
                Ok(n) => require_updated::<Self>(n, printed),
                Err(e) => Err(map_write_error(table, Some(printed), e)),
            }
        })
    }

    /// Deletes the row with this key; `true` if there was one.
    fn delete<'c, C, K>(conn: &'c mut C, key: K) -> KeyFuture<'c, bool>
    where
        C: AsyncConnection + 'c,
        Self::Table: KeyFrom<K>,
        Self: DeleteByKey,
        DeleteStatement<Self>: ExecuteDsl<C> + Send + 'static,
    {
        let statement = Self::delete_statement(Self::Table::key_from(key));
        KeyFuture::new(async move {
            statement
                .execute(conn)
                .await
                .map(|n| n > 0)
                .map_err(|e| map_write_error(<Self::Table as KeyedTable>::NAME, None, e))
        })
    }

    /// Inserts this record; a row with the same key gives
    /// [`Error::DuplicateKey`](crate::Error::DuplicateKey).
    fn insert<'a, C>(&'a self, conn: &'a mut C) -> KeyFuture<'a, ()>
    where
        C: AsyncConnection + 'a,
        Self: InsertOne<C>,
    {
        KeyFuture::new(async move {
            self.insert_one(conn).await.map(drop).map_err(|e| {
                map_write_error(
                    <Self::Table as KeyedTable>::NAME,
                    Some(self.key().to_string()),
                    e,
                )
            })
        })
    }

    /// Inserts this record, or, when a row with its key exists, applies `changes` to that
    /// row, in one statement (an upsert whose conflict target is the table's key; see
    /// [`UpsertStatement`](crate::key::UpsertStatement)). Concurrent upserts of one key
    /// each take effect once.
    fn insert_or_update<'a, C, Ch>(&'a self, conn: &'a mut C, changes: Ch) -> KeyFuture<'a, ()>
    where
        C: AsyncConnection + 'a,
        Ch: Send + 'a,
        Self: UpsertOne<C, Ch>,
    {
        let upsert = self.upsert_one(conn, changes);
        KeyFuture::new(async move {
            upsert.await.map(drop).map_err(|e| {
                map_write_error(
                    <Self::Table as KeyedTable>::NAME,
                    Some(self.key().to_string()),
                    e,
                )
            })
        })
    }

    /// Inserts these records as one unit (one multi-row statement on PostgreSQL and MySQL,
    /// one transaction on SQLite); returns how many rows were inserted. A duplicate gives
    /// [`Error::DuplicateKey`](crate::Error::DuplicateKey) with the key as the server reported
    /// it, and inserts nothing.
    fn insert_all<'a, C>(records: &'a [Self], conn: &'a mut C) -> KeyFuture<'a, usize>
    where
        C: AsyncConnection + 'a,
        Self: InsertMany<C> + Sync,
    {
        KeyFuture::new(<Self as InsertMany<C>>::insert_many(records, conn))
    }
}

impl<R: Keyed + Send + 'static> KeyedAsync for R {}

/// Runs [`FindByKey`] for one full key.
fn find_one<'c, R, C>(
    conn: &'c mut C,
    key: KeyOf<R>,
) -> impl Future<Output = Result<Option<R>>> + Send + 'c
where
    C: AsyncConnection + 'c,
    R: FindByKey<C::Backend> + Send + 'static,
    FindStatement<R, C::Backend>: LoadQuery<'static, C, R> + Send + 'static,
{
    let query = R::find_statement(key);
    async move {
        query
            .get_result(conn)
            .await
            .optional()
            .map_err(|e| map_read_error(<R::Table as KeyedTable>::NAME, e))
    }
}

/// Runs [`FindManyByKeys`] for distinct full keys, chunk after chunk, rows in key order.
fn find_all<'c, R, C>(
    conn: &'c mut C,
    keys: Vec<KeyOf<R>>,
) -> impl Future<Output = Result<Vec<R>>> + Send + 'c
where
    C: AsyncConnection + 'c,
    R: FindManyByKeys<C::Backend> + Send + 'static,
    FindManyStatement<R, C::Backend>: LoadQuery<'static, C, R> + Send + 'static,
{
    let queries: Vec<_> = keys
        .chunks(R::keys_per_statement())
        .map(|chunk| R::find_many_statement(chunk.to_vec()))
        .collect();
    async move {
        let mut rows = Vec::with_capacity(keys.len());
        for query in queries {
            let chunk: Vec<R> = query
                .load(conn)
                .await
                .map_err(|e| map_read_error(<R::Table as KeyedTable>::NAME, e))?;
            rows.extend(chunk);
        }
        Ok(in_key_order(&keys, rows))
    }
}
