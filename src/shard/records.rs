//! Key operations on records through [`Sharded`]: each routed to the shard of its key;
//! batches split by shard and run on the shards in parallel.

use super::Plan;
use super::attempts::{Fresh, Once};
use super::operation::{Execute, GetResult, Load, Operation};
use super::{PerShard, RouteKey, ShardId, ShardKeyed, ShardResult, Sharded};
use crate::cluster::ShardConnection;
use crate::key::{
    BindLimit, InsertMany, InsertRecord, KeyFilterOf, KeyFrom, KeyOf, Keyed, KeyedTable, KeysIn,
    keys_per_statement,
};
use crate::{Error, OptionalExt, Result};
use diesel::associations::HasTable;
use diesel::dsl::{AsSelect, Filter, Select, delete, exists, select};
use diesel::query_builder::{AsChangeset, IntoUpdateTarget, QueryFragment};
use diesel::query_dsl::methods::{FilterDsl, SelectDsl};
use diesel::{Insertable, QueryResult, SelectableHelper};
use diesel_async::methods::ExecuteDsl;
use futures_util::future::try_join_all;
use std::collections::HashMap;
use std::future::Future;

type FindQuery<R, DB> = Select<Filter<<R as Keyed>::Table, KeyFilterOf<R>>, AsSelect<R, DB>>;
type FindManyQuery<R, DB> =
    Select<Filter<<R as Keyed>::Table, KeysIn<<R as Keyed>::Table>>, AsSelect<R, DB>>;
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
    pub async fn find<R, K>(&self, key: K) -> Result<Option<R>>
    where
        R: Keyed + diesel::Selectable<Backend<C>> + Send + 'static,
        R::Table: KeyFrom<K> + FilterDsl<KeyFilterOf<R>>,
        Filter<R::Table, KeyFilterOf<R>>: SelectDsl<AsSelect<R, Backend<C>>>,
        <R as diesel::Selectable<Backend<C>>>::SelectExpression: diesel::query_builder::QueryId,
        GetResult<R>: Operation<C, FindQuery<R, Backend<C>>, Output = R>,
    {
        let key = R::Table::key_from(key);
        let shard = self.shard_of_key::<R::Table>(&key)?;
        let query = || {
            R::Table::default()
                .filter(R::Table::key_filter(key.clone()))
                .select(R::as_select())
        };
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
    pub async fn find_or_error<R, K>(&self, key: K) -> Result<R>
    where
        R: Keyed + diesel::Selectable<Backend<C>> + Send + 'static,
        R::Table: KeyFrom<K> + KeyFrom<KeyOf<R>> + FilterDsl<KeyFilterOf<R>>,
        Filter<R::Table, KeyFilterOf<R>>: SelectDsl<AsSelect<R, Backend<C>>>,
        <R as diesel::Selectable<Backend<C>>>::SelectExpression: diesel::query_builder::QueryId,
        GetResult<R>: Operation<C, FindQuery<R, Backend<C>>, Output = R>,
    {
        let key = <R::Table as KeyFrom<K>>::key_from(key);
        let printed = key.to_string();
        self.find::<R, KeyOf<R>>(key).await?.ok_or(Error::NotFound {
            table: R::Table::NAME,
            key: printed,
        })
    }

    /// Whether a row has this key.
    pub async fn exists<R, K>(&self, key: K) -> Result<bool>
    where
        R: Keyed,
        R::Table: KeyFrom<K> + FilterDsl<KeyFilterOf<R>>,
        exists<Filter<R::Table, KeyFilterOf<R>>>: diesel::Expression,
        select<exists<Filter<R::Table, KeyFilterOf<R>>>>: diesel::query_builder::AsQuery,
        GetResult<bool>:
            Operation<C, select<exists<Filter<R::Table, KeyFilterOf<R>>>>, Output = bool>,
    {
        let key = R::Table::key_from(key);
        let shard = self.shard_of_key::<R::Table>(&key)?;
        let query = || {
            diesel::select(exists(
                R::Table::default().filter(R::Table::key_filter(key.clone())),
            ))
        };
        self.run_on(
            shard,
            Plan::read(Some(R::Table::NAME)),
            GetResult::new(),
            Fresh(query),
        )
        .await
    }

    /// Deletes the row with this key; `true` if there was one.
    pub async fn delete<R, K>(&self, key: K) -> Result<bool>
    where
        R: Keyed,
        R::Table: KeyFrom<K> + FilterDsl<KeyFilterOf<R>>,
        Filter<R::Table, KeyFilterOf<R>>: IntoUpdateTarget,
        Execute: Operation<C, delete<Filter<R::Table, KeyFilterOf<R>>>, Output = usize>,
    {
        let key = R::Table::key_from(key);
        let shard = self.shard_of_key::<R::Table>(&key)?;
        let statement = diesel::delete(R::Table::default().filter(R::Table::key_filter(key)));
        Ok(self
            .run_on(
                shard,
                Plan::write(Some(R::Table::NAME)),
                Execute,
                Once(Some(statement)),
            )
            .await?
            > 0)
    }

    /// Applies `changes` to the row with this key; [`Error::NotFound`] when no row has it,
    /// and [`Error::ShardKeyImmutable`] (before anything runs) when `changes` sets a
    /// shard-key column.
    ///
    /// ```
    /// # use grant::__doc_schema::{order_items, OrderItem, two_sqlite_shards};
    /// use grant::prelude::*;
    /// # #[tokio::main]
    /// # async fn main() -> grant::Result<()> {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// shards.insert(&OrderItem { order_id: 1, product_id: 2, quantity: 3 }).await?;
    /// shards.update::<OrderItem, _, _>((1, 2), order_items::quantity.eq(4)).await?;
    /// let moved = shards.update::<OrderItem, _, _>((1, 2), order_items::order_id.eq(9)).await;
    /// assert!(matches!(moved, Err(grant::Error::ShardKeyImmutable { column: "order_id", .. })));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn update<R, K, Ch>(&self, key: K, changes: Ch) -> Result<()>
    where
        R: Keyed,
        R::Table: KeyFrom<K> + FilterDsl<KeyFilterOf<R>>,
        Ch: AsChangeset<Target = R::Table>,
        Filter<R::Table, KeyFilterOf<R>>: IntoUpdateTarget + HasTable<Table = R::Table>,
        diesel::dsl::Update<Filter<R::Table, KeyFilterOf<R>>, Ch>:
            QueryFragment<Backend<C>> + diesel::query_builder::AsQuery,
        Backend<C>: Default,
        <Backend<C> as diesel::backend::Backend>::QueryBuilder: Default,
        Execute:
            Operation<C, diesel::dsl::Update<Filter<R::Table, KeyFilterOf<R>>, Ch>, Output = usize>,
    {
        let key = R::Table::key_from(key);
        let printed = key.to_string();
        let shard = self.shard_of_key::<R::Table>(&key)?;
        let statement =
            diesel::update(R::Table::default().filter(R::Table::key_filter(key))).set(changes);
        let sql = diesel::debug_query::<Backend<C>, _>(&statement).to_string();
        if let Some(column) =
            super::immutable::set_shard_key_column(&sql, R::Table::SHARD_KEY_COLUMNS)
        {
            return Err(Error::ShardKeyImmutable {
                table: R::Table::NAME,
                column,
            });
        }
        match self
            .run_on(
                shard,
                Plan::write(Some(R::Table::NAME)),
                Execute,
                Once(Some(statement)),
            )
            .await?
        {
            0 => Err(Error::NotFound {
                table: R::Table::NAME,
                key: printed,
            }),
            _ => Ok(()),
        }
    }

    /// Inserts a record on the shard of its key; a row with the same key gives
    /// [`Error::DuplicateKey`].
    pub async fn insert<R>(&self, record: &R) -> Result<()>
    where
        R: InsertOne<C>,
    {
        let key = record.key();
        let shard = self.shard_of_key::<R::Table>(&key)?;
        match self
            .run_on(
                shard,
                Plan::write(Some(R::Table::NAME)),
                InsertOneOp,
                Once(Some(record)),
            )
            .await
        {
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
    pub async fn insert_all<R>(&self, records: &[R]) -> Result<PerShard<usize>>
    where
        R: Keyed + InsertMany<C> + Clone + Send + Sync,
    {
        let mut groups: Vec<Vec<R>> = vec![Vec::new(); self.shard_count()];
        for record in records {
            let shard = self.shard_of_key::<R::Table>(&record.key())?;
            if let Some(group) = groups.get_mut(shard.index()) {
                group.push(record.clone());
            }
        }
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
    /// statements of up to [`keys_per_statement`] keys), all shards in parallel; rows come
    /// back in the order of `keys`, missing keys skipped.
    pub async fn find_many<R, I>(&self, keys: I) -> Result<Vec<R>>
    where
        I: IntoIterator,
        R: Keyed + diesel::Selectable<Backend<C>> + Send + 'static,
        R::Table: KeyFrom<I::Item> + FilterDsl<KeysIn<R::Table>>,
        Backend<C>: BindLimit,
        Filter<R::Table, KeysIn<R::Table>>: SelectDsl<AsSelect<R, Backend<C>>>,
        <R as diesel::Selectable<Backend<C>>>::SelectExpression: diesel::query_builder::QueryId,
        Load<R>: Operation<C, FindManyQuery<R, Backend<C>>, Output = Vec<R>>,
    {
        let keys = crate::key::run_async::unique_keys::<R::Table, I>(keys);
        let mut by_shard: HashMap<ShardId, Vec<KeyOf<R>>> = HashMap::new();
        for key in &keys {
            let shard = self.shard_of_key::<R::Table>(key)?;
            by_shard.entry(shard).or_default().push(key.clone());
        }
        let per_statement = keys_per_statement::<R::Table, Backend<C>>();
        let runs = by_shard.into_iter().flat_map(|(shard, shard_keys)| {
            let chunks: Vec<Vec<KeyOf<R>>> = shard_keys
                .chunks(per_statement)
                .map(<[_]>::to_vec)
                .collect();
            chunks
                .into_iter()
                .map(move |chunk| {
                    let query = move || {
                        R::Table::default()
                            .filter(KeysIn::new(chunk.clone()))
                            .select(R::as_select())
                    };
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
        Ok(crate::key::run_async::in_key_order(&keys, rows))
    }
}

/// A record that connection `C` can insert alone (it derives diesel's `Insertable`).
///
/// A trait of its own so that `sharded.insert(&record)` infers the record type before
/// diesel's `Insertable` impls are searched.
#[diagnostic::on_unimplemented(
    message = "`{Self}` can't be inserted on `{C}`",
    note = "derive diesel's `Insertable` (and `grant::Keyed`) for it"
)]
pub trait InsertOne<C>: Keyed + Sync {
    /// `INSERT INTO <table> VALUES <self>`.
    fn insert_one(&self, conn: &mut C) -> impl Future<Output = QueryResult<usize>> + Send;
}

impl<R, C> InsertOne<C> for R
where
    R: Keyed + Sync,
    C: ShardConnection,
    for<'a> &'a R: Insertable<R::Table>,
    for<'a> InsertRecord<'a, R>: ExecuteDsl<C> + Send,
{
    fn insert_one(&self, conn: &mut C) -> impl Future<Output = QueryResult<usize>> + Send {
        diesel_async::RunQueryDsl::execute(
            diesel::insert_into(R::Table::default()).values(self),
            conn,
        )
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
    const TABLE: &'static str = K::TABLE;
    fn shard_values(&self) -> super::ShardValues<'_> {
        (**self).shard_values()
    }
}
