//! Key operations on records through [`Sharded`]: each routed to the shard of its key;
//! batches split by shard and run on the shards in parallel. The statements come from
//! [`crate::key::methods`]; this file only routes and runs them.

use super::ShardSafeChangeset;
use super::attempts::{Fresh, Once};
use super::operation::{Execute, GetResult, Load, Operation};
use super::{PerShard, Plan, RouteKey, ShardId, ShardKeyed, ShardResult, Sharded};
use crate::cluster::ShardConnection;
use crate::key::methods::{
    DeleteByKey, DeleteStatement, ExistsByKey, ExistsStatement, FindByKey, FindManyByKeys,
    FindManyStatement, FindStatement, UpdateByKey, UpdateStatement, full_key, in_key_order,
    require_row, require_updated, unique_keys,
};
use crate::key::{InsertMany, InsertOne, KeyFrom, KeyFuture, KeyOf, Keyed, KeyedTable, UpsertOne};
use crate::{Error, OptionalExt, Result};
use diesel::QueryResult;
use futures_util::future::try_join_all;
use std::collections::HashMap;
use std::future::Future;

type Backend<C> = <C as diesel_async::AsyncConnectionCore>::Backend;

impl<C: ShardConnection> Sharded<C> {
    fn shard_of_key<T: ShardKeyed>(&self, key: &T::Key) -> Result<ShardId> {
        self.routing().shard_for_key(&T::shard_key_of(key))
    }

    /// The record with this key, from the shard that holds it.
    ///
    /// ```
    /// # use grant::__doc_schema::{order_items, OrderItem, two_sqlite_shards};
    /// # #[tokio::main]
    /// # async fn main() -> grant::Result<()> {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// shards.insert(&OrderItem { order_id: 1, product_id: 2, quantity: 3 }).await?;
    /// let found = shards.find::<OrderItem, _>((1, 2)).await?;
    /// assert_eq!(found.map(|i| i.quantity), Some(3));
    /// assert!(shards.exists::<OrderItem, _>(order_items::Key { order_id: 1, product_id: 2 }).await?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn find<R, K>(&self, key: K) -> KeyFuture<'_, Option<R>>
    where
        R: FindByKey<Backend<C>> + FindManyByKeys<Backend<C>> + Send + 'static,
        R::Table: KeyFrom<K>,
        GetResult<R>: Operation<C, FindStatement<R, Backend<C>>, Output = R>,
        Load<R>: Operation<C, FindManyStatement<R, Backend<C>>, Output = Vec<R>>,
    {
        KeyFuture::new(self.find_full::<R>(R::Table::key_from(key)))
    }

    async fn find_full<R>(&self, key: KeyOf<R>) -> Result<Option<R>>
    where
        R: FindByKey<Backend<C>> + FindManyByKeys<Backend<C>> + Send + 'static,
        GetResult<R>: Operation<C, FindStatement<R, Backend<C>>, Output = R>,
        Load<R>: Operation<C, FindManyStatement<R, Backend<C>>, Output = Vec<R>>,
    {
        let shard = self.shard_of_key::<R::Table>(&key)?;
        if self.coalesces(R::Table::NAME) {
            match self.coalesce_enter::<R>(shard, &key) {
                // Nothing in flight: alone, at once, holding the slot until done.
                super::coalesced::Entered::Now(slot) => {
                    let row = self.find_alone::<R>(shard, key).await;
                    drop(slot);
                    return row;
                }
                // Boxed: a waiting find's state (the batch it may lead) stays out of every
                // find's future, which is moved whole at each step.
                entered => return Box::pin(self.await_turn::<R>(shard, key, entered)).await,
            }
        }
        self.find_alone::<R>(shard, key).await
    }

    /// The record with this key, in a statement of its own.
    async fn find_alone<R>(&self, shard: ShardId, key: KeyOf<R>) -> Result<Option<R>>
    where
        R: FindByKey<Backend<C>> + Send + 'static,
        GetResult<R>: Operation<C, FindStatement<R, Backend<C>>, Output = R>,
    {
        let query = || R::find_statement(key.clone());
        self.run_on(
            shard,
            Plan::read(Some(R::Table::NAME)),
            GetResult::new(),
            Fresh(query),
        )
        .await
        .optional()
    }

    /// The record with this key, or [`Error::NotFound`] naming the table and the key.
    pub fn find_or_error<R, K>(&self, key: K) -> KeyFuture<'_, R>
    where
        R: FindByKey<Backend<C>> + FindManyByKeys<Backend<C>> + Send + 'static,
        R::Table: KeyFrom<K>,
        GetResult<R>: Operation<C, FindStatement<R, Backend<C>>, Output = R>,
        Load<R>: Operation<C, FindManyStatement<R, Backend<C>>, Output = Vec<R>>,
    {
        let (key, printed) = full_key::<R::Table, K>(key);
        KeyFuture::new(async move { require_row(self.find_full::<R>(key).await?, printed) })
    }

    /// Whether a row has this key.
    pub fn exists<R, K>(&self, key: K) -> KeyFuture<'_, bool>
    where
        R: ExistsByKey,
        R::Table: KeyFrom<K>,
        GetResult<bool>: Operation<C, ExistsStatement<R>, Output = bool>,
    {
        let key = R::Table::key_from(key);
        KeyFuture::new(async move {
            let shard = self.shard_of_key::<R::Table>(&key)?;
            let query = || R::exists_statement(key.clone());
            self.run_on(
                shard,
                Plan::read(Some(R::Table::NAME)),
                GetResult::new(),
                Fresh(query),
            )
            .await
        })
    }

    /// Deletes the row with this key; `true` if there was one.
    pub fn delete<R, K>(&self, key: K) -> KeyFuture<'_, bool>
    where
        R: DeleteByKey,
        R::Table: KeyFrom<K>,
        Execute: Operation<C, DeleteStatement<R>, Output = usize>,
    {
        let key = R::Table::key_from(key);
        KeyFuture::new(async move {
            let shard = self.shard_of_key::<R::Table>(&key)?;
            let statement = R::delete_statement(key);
            Ok(self
                .run_on(
                    shard,
                    Plan::write(Some(R::Table::NAME)),
                    Execute,
                    Once(Some(statement)),
                )
                .await?
                > 0)
        })
    }

    /// Applies `changes` to the row with this key; [`Error::NotFound`] when no row has it.
    /// `changes` may not assign a shard-key column (checked when compiling, see
    /// [`ShardSafeChangeset`](crate::shard::ShardSafeChangeset)).
    ///
    /// ```
    /// # use grant::__doc_schema::{order_items, OrderItem, two_sqlite_shards};
    /// use grant::prelude::*;
    /// # #[tokio::main]
    /// # async fn main() -> grant::Result<()> {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// shards.insert(&OrderItem { order_id: 1, product_id: 2, quantity: 3 }).await?;
    /// shards.update::<OrderItem, _, _, _>((1, 2), order_items::quantity.eq(4)).await?;
    /// // shards.update::<OrderItem, _, _, _>((1, 2), order_items::order_id.eq(9)) does not
    /// // compile: `order_items.order_id` is a shard-key column.
    /// # Ok(())
    /// # }
    /// ```
    pub fn update<'a, R, K, Ch, M>(&'a self, key: K, changes: Ch) -> KeyFuture<'a, ()>
    where
        R: UpdateByKey<Ch>,
        R::Table: KeyFrom<K>,
        Ch: ShardSafeChangeset<R::Table, M>,
        Execute: Operation<C, UpdateStatement<R, Ch>, Output = usize>,
        UpdateStatement<R, Ch>: Send + 'a,
    {
        let (key, printed) = full_key::<R::Table, K>(key);
        let shard = self.shard_of_key::<R::Table>(&key);
        let statement = R::update_statement(key, changes);
        KeyFuture::new(async move {
            let affected = self
                .run_on(
                    shard?,
                    Plan::write(Some(R::Table::NAME)),
                    Execute,
                    Once(Some(statement)),
                )
                .await?;
            require_updated::<R>(affected, printed)
        })
    }

    /// Inserts a record on the shard of its key; a row with the same key gives
    /// [`Error::DuplicateKey`].
    pub fn insert<'a, R>(&'a self, record: &'a R) -> KeyFuture<'a, ()>
    where
        R: InsertOne<C>,
    {
        KeyFuture::new(self.insert_one(record))
    }

    async fn insert_one<R>(&self, record: &R) -> Result<()>
    where
        R: InsertOne<C>,
    {
        let key = record.key();
        let shard = self.shard_of_key::<R::Table>(&key)?;
        let written = self
            .run_on(
                shard,
                Plan::write(Some(R::Table::NAME)),
                InsertOneOp,
                Once(Some(record)),
            )
            .await;
        with_key(written, &key)
    }

    /// Inserts a record on the shard of its key, or, when a row with its key exists there,
    /// applies `changes` to that row: one upsert statement whose conflict target is the
    /// table's key (see [`UpsertStatement`](crate::key::UpsertStatement)). `changes` may not
    /// assign a shard-key column (checked when compiling, as for [`Sharded::update`]).
    ///
    /// Not retried: an error after the statement was sent is
    /// [`Error::WriteOutcomeUnknown`] as for any write.
    ///
    /// ```
    /// # use grant::__doc_schema::{order_items, OrderItem, two_sqlite_shards};
    /// use grant::key::incoming;
    /// use grant::prelude::*;
    /// # #[tokio::main]
    /// # async fn main() -> grant::Result<()> {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// let add = order_items::quantity.eq(order_items::quantity + incoming(order_items::quantity));
    /// shards.insert_or_update(&OrderItem { order_id: 1, product_id: 2, quantity: 3 }, add).await?;
    /// shards.insert_or_update(&OrderItem { order_id: 1, product_id: 2, quantity: 4 }, add).await?;
    /// // `order_items::order_id.eq(9)` as the changes does not compile: a shard-key column.
    /// let found = shards.find::<OrderItem, _>((1, 2)).await?;
    /// assert_eq!(found.map(|i| i.quantity), Some(7));
    /// # Ok(())
    /// # }
    /// ```
    pub fn insert_or_update<'a, R, Ch, M>(&'a self, record: &'a R, changes: Ch) -> KeyFuture<'a, ()>
    where
        R: UpsertOne<C, Ch>,
        Ch: ShardSafeChangeset<R::Table, M> + Send + 'a,
    {
        KeyFuture::new(self.upsert_one(record, changes))
    }

    async fn upsert_one<R, Ch>(&self, record: &R, changes: Ch) -> Result<()>
    where
        R: UpsertOne<C, Ch>,
        Ch: Send,
    {
        let key = record.key();
        let shard = self.shard_of_key::<R::Table>(&key)?;
        let written = self
            .run_on(
                shard,
                Plan::write(Some(R::Table::NAME)),
                UpsertOneOp,
                Once(Some((record, changes))),
            )
            .await;
        with_key(written, &key)
    }

    /// Inserts records, split by shard: each shard's records go in one unit (one
    /// multi-row statement per bind-limit chunk, in a transaction), all shards in parallel.
    /// Returns how many rows went to each shard.
    ///
    /// Atomic per shard, not across shards: if one shard fails, the others may have
    /// committed; the error names the failing shard.
    ///
    /// ```
    /// # use grant::__doc_schema::{OrderItem, two_sqlite_shards};
    /// # #[tokio::main]
    /// # async fn main() -> grant::Result<()> {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// let items: Vec<OrderItem> = (0..10).map(|o| OrderItem { order_id: o, product_id: 1, quantity: 1 }).collect();
    /// let placed = shards.insert_all(&items).await?;
    /// assert_eq!(placed.total(), 10);
    /// # Ok(())
    /// # }
    /// ```
    pub fn insert_all<'a, R>(&'a self, records: &'a [R]) -> KeyFuture<'a, PerShard<usize>>
    where
        R: Keyed + InsertMany<C> + Clone + Send + Sync,
    {
        KeyFuture::new(self.insert_grouped(records))
    }

    /// `records` grouped by the shard their keys route to, one group per shard.
    pub(crate) fn group_by_shard<R>(&self, records: &[R]) -> Result<Vec<Vec<R>>>
    where
        R: Keyed + Clone,
    {
        let mut groups: Vec<Vec<R>> = vec![Vec::new(); self.shard_count()];
        for record in records {
            let shard = self.shard_of_key::<R::Table>(&record.key())?;
            if let Some(group) = groups.get_mut(shard.index()) {
                group.push(record.clone());
            }
        }
        Ok(groups)
    }

    async fn insert_grouped<R>(&self, records: &[R]) -> Result<PerShard<usize>>
    where
        R: Keyed + InsertMany<C> + Clone + Send + Sync,
    {
        let groups = self.group_by_shard(records)?;
        let runs = groups.iter().enumerate().map(|(i, group)| async move {
            let shard = ShardId(i as u32);
            let name = self.cluster(shard)?.name().clone();
            let count = if group.is_empty() {
                0
            } else {
                self.run_on(
                    shard,
                    Plan::write(Some(R::Table::NAME)),
                    InsertManyOp,
                    Once(Some(group.as_slice())),
                )
                .await?
            };
            Ok::<_, Error>(ShardResult {
                shard,
                name,
                value: count,
            })
        });
        Ok(PerShard::new(try_join_all(runs).await?))
    }

    /// The records with these keys: keys grouped by shard, each shard asked once (in
    /// statements of up to [`keys_per_statement`](crate::key::methods::FindManyByKeys::keys_per_statement) keys), all shards in parallel; rows come
    /// back in the order of `keys`, missing keys skipped.
    pub fn find_many<R, K>(&self, keys: impl IntoIterator<Item = K>) -> KeyFuture<'_, Vec<R>>
    where
        R: FindManyByKeys<Backend<C>> + Send + 'static,
        R::Table: KeyFrom<K>,
        Load<R>: Operation<C, FindManyStatement<R, Backend<C>>, Output = Vec<R>>,
    {
        KeyFuture::new(self.find_unique::<R>(unique_keys::<R::Table, _>(keys)))
    }

    async fn find_unique<R>(&self, keys: Vec<KeyOf<R>>) -> Result<Vec<R>>
    where
        R: FindManyByKeys<Backend<C>> + Send + 'static,
        Load<R>: Operation<C, FindManyStatement<R, Backend<C>>, Output = Vec<R>>,
    {
        let mut by_shard: HashMap<ShardId, Vec<KeyOf<R>>> = HashMap::new();
        for key in &keys {
            let shard = self.shard_of_key::<R::Table>(key)?;
            by_shard.entry(shard).or_default().push(key.clone());
        }
        let per_statement = R::keys_per_statement();
        let runs = by_shard.into_iter().flat_map(|(shard, shard_keys)| {
            let chunks: Vec<Vec<KeyOf<R>>> = shard_keys
                .chunks(per_statement)
                .map(<[_]>::to_vec)
                .collect();
            chunks
                .into_iter()
                .map(move |chunk| {
                    let query = move || R::find_many_statement(chunk.clone());
                    self.run_on(
                        shard,
                        Plan::read(Some(R::Table::NAME)),
                        Load::new(),
                        Fresh(query),
                    )
                })
                .collect::<Vec<_>>()
        });
        let rows: Vec<R> = try_join_all(runs).await?.into_iter().flatten().collect();
        Ok(in_key_order(&keys, rows))
    }
}

/// The outcome of a write of one record: a duplicate names the record's key (the server
/// names only its constraint).
fn with_key(written: Result<usize>, key: &impl std::fmt::Display) -> Result<()> {
    match written {
        Err(Error::DuplicateKey {
            table, constraint, ..
        }) => Err(Error::DuplicateKey {
            table,
            key: key.to_string(),
            constraint,
        }),
        other => other.map(drop),
    }
}

/// Runs [`InsertOne`] as an [`Operation`].
#[derive(Clone, Copy)]
pub(crate) struct InsertOneOp;

impl<'q, C, R> Operation<C, &'q R> for InsertOneOp
where
    R: InsertOne<C> + Sync,
    C: Send,
{
    type Output = usize;
    const NAME: &'static str = "insert";
    fn run(self, query: &'q R, conn: &mut C) -> impl Future<Output = QueryResult<usize>> + Send {
        query.insert_one(conn)
    }
}

/// Runs [`UpsertOne`] as an [`Operation`].
#[derive(Clone, Copy)]
pub(crate) struct UpsertOneOp;

impl<'q, C, R, Ch> Operation<C, (&'q R, Ch)> for UpsertOneOp
where
    R: UpsertOne<C, Ch> + Sync,
    C: Send,
    Ch: Send,
{
    type Output = usize;
    const NAME: &'static str = "insert_or_update";
    fn run(
        self,
        (record, changes): (&'q R, Ch),
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<usize>> + Send {
        record.upsert_one(conn, changes)
    }
}

/// Runs [`InsertMany`] as an [`Operation`]. Its errors are already grant's; they travel
/// through diesel's error type and back.
#[derive(Clone, Copy)]
pub(crate) struct InsertManyOp;

impl<'q, C, R> Operation<C, &'q [R]> for InsertManyOp
where
    R: InsertMany<C> + Sync,
    C: Send,
{
    type Output = usize;
    const NAME: &'static str = "insert_all";
    async fn run(self, query: &'q [R], conn: &mut C) -> QueryResult<usize> {
        R::insert_raw(query, conn).await
    }
}

impl<K: RouteKey> RouteKey for std::sync::Arc<K> {
    type Table = K::Table;
    const TABLE: &'static str = K::TABLE;
    const SHARD_KEY_COLUMNS: &'static [&'static str] = K::SHARD_KEY_COLUMNS;
    const STRATEGY_TABLE: &'static str = K::STRATEGY_TABLE;
    fn shard_values(&self) -> super::ShardValues<'_> {
        (**self).shard_values()
    }
}
