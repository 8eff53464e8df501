//! `Sharded<C>`: a named set of shards, each a [`Cluster`] with its own pool, that runs
//! routed statements on the shard their route names.

use super::operation::{Execute, First, GetResult, Load, Operation};
use super::{Route, RouteKey, RoutedStatement, Routing, ShardId, ShardRef};
use crate::cluster::{Cluster, PooledConnection, ShardConnection, StatementGuard};
use crate::{Error, Result};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// The output of running statement `S` when each shard returns `T`: `T` for a statement
/// routed to one shard, [`super::PerShard<T>`] for one routed to every shard.
pub type Output<S, T> =
    <<S as RoutedStatement>::Route as Route<<S as RoutedStatement>::Query>>::Output<T>;

/// Shards of one backend `C` (`AsyncPgConnection`, `AsyncMysqlConnection` or
/// [`crate::sqlite::AsyncSqliteConnection`]), each a [`Cluster`] with its own bb8 pool, and
/// the strategies that route keys to them. Cheap to clone (shared).
///
/// It runs **routed** statements only ([`super::Routed`]): built by `find_key` and the
/// other key builders, or given a route with `.for_shard_key(..)`, `.on_shard(..)` or
/// `.on_all_shards()`. A bare Diesel statement does not compile.
///
/// Guarantees: a statement routed by key runs on exactly the shard the strategy names; a
/// statement on all shards runs on every shard concurrently and fails with the first shard
/// error (which names the shard); every statement runs in a `grant.statement` tracing span
/// with the table (when known), shard, operation and elapsed microseconds.
///
/// ```
/// # use grant::__doc_schema::{order_items, OrderItem};
/// use grant::prelude::*;
/// use grant::shard::Hash;
/// use grant::sqlite::AsyncSqliteConnection;
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = grant::__doc_schema::DocDir::new();
/// # let urls: Vec<String> = (0..2).map(|i| dir.0.join(format!("s{i}.db")).display().to_string()).collect();
/// # for url in &urls { grant::__doc_schema::create_order_items(url).await; }
/// let shards = grant::Sharded::<AsyncSqliteConnection>::builder()
///     .shard("s0", &urls[0])
///     .shard("s1", &urls[1])
///     .strategy(Hash::new(2)?)
///     .build()?;
/// shards.insert(&OrderItem { order_id: 1, product_id: 2, quantity: 3 }).await?;
/// let item: OrderItem = shards
///     .run(order_items::table.find_key((1, 2)).select(OrderItem::as_select()))
///     .get_result()
///     .await?;
/// let per_shard: grant::shard::PerShard<i64> =
///     shards.run(order_items::table.count().on_all_shards()).get_result().await?;
/// assert_eq!(per_shard.total(), 1);
/// # Ok(())
/// # }
/// ```
pub struct Sharded<C: ShardConnection> {
    inner: Arc<Inner<C>>,
}

struct Inner<C: ShardConnection> {
    clusters: Vec<Cluster<C>>,
    routing: Routing,
}

impl<C: ShardConnection> Clone for Sharded<C> {
    fn clone(&self) -> Self {
        Sharded {
            inner: self.inner.clone(),
        }
    }
}

impl<C: ShardConnection> std::fmt::Debug for Sharded<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sharded")
            .field("shards", &self.inner.clusters)
            .finish()
    }
}

impl<C: ShardConnection> Sharded<C> {
    pub(crate) fn from_parts(clusters: Vec<Cluster<C>>, routing: Routing) -> Self {
        Sharded {
            inner: Arc::new(Inner { clusters, routing }),
        }
    }

    /// A builder for a topology given in code (see also [`crate::Topology`] for TOML).
    pub fn builder() -> crate::ShardedBuilder<C> {
        crate::ShardedBuilder::new()
    }

    /// Shard names and strategies.
    pub fn routing(&self) -> &Routing {
        &self.inner.routing
    }

    /// The shards' names, in topology order.
    pub fn shard_names(&self) -> Vec<&str> {
        self.inner
            .clusters
            .iter()
            .map(|c| c.name().as_ref())
            .collect()
    }

    /// The number of shards.
    pub fn shard_count(&self) -> usize {
        self.inner.clusters.len()
    }

    /// The shard that holds `key` (a table's `Key` or `ShardKey`).
    pub fn shard_for<K: RouteKey>(&self, key: &K) -> Result<ShardId> {
        self.inner.routing.shard_for_key(key)
    }

    /// The cluster of a shard.
    pub fn cluster(&self, shard: impl Into<ShardRef>) -> Result<&Cluster<C>> {
        let id = self.inner.routing.resolve(&shard.into())?;
        self.cluster_by_id(id)
    }

    fn cluster_by_id(&self, shard: ShardId) -> Result<&Cluster<C>> {
        self.inner
            .clusters
            .get(shard.index())
            .ok_or_else(|| Error::UnknownShard {
                shard: shard.to_string(),
                known: self.shard_names().join(", "),
            })
    }

    /// A connection to a shard's primary, for what routed statements can't express. Nothing
    /// checks where statements on it belong.
    pub async fn connection(&self, shard: impl Into<ShardRef>) -> Result<PooledConnection<'_, C>> {
        self.cluster(shard)?.primary().await
    }

    /// Prepares a routed statement to run: continue with `.load()`, `.get_result()`,
    /// `.first()` or `.execute()` (see [`Run`]). A statement without a route does not
    /// compile.
    ///
    /// (The four verbs live on [`Run`] rather than on `Sharded` itself because diesel-async's
    /// `RunQueryDsl`, implemented for every type, would otherwise shadow them.)
    pub fn run<S: RoutedStatement>(&self, statement: S) -> Run<'_, C, S> {
        Run {
            sharded: self,
            statement,
        }
    }

    async fn run_statement<S, O>(&self, statement: S, op: O) -> Result<Output<S, O::Output>>
    where
        S: RoutedStatement,
        O: Operation<C, S::Query>,
    {
        let (query, route) = statement.into_parts();
        let table = route.table();
        route
            .dispatch(query, &self.inner.routing, move |shard, query| {
                self.run_on(shard, table, op, query)
            })
            .await
    }

    /// Runs `op` on one shard's primary, in a span, mapping errors to name the shard.
    pub(crate) async fn run_on<Q, O>(
        &self,
        shard: ShardId,
        table: Option<&'static str>,
        op: O,
        query: Q,
    ) -> Result<O::Output>
    where
        O: Operation<C, Q>,
    {
        let cluster = self.cluster_by_id(shard)?;
        let span = tracing::debug_span!(
            "grant.statement",
            shard = %cluster.name(),
            table = table.unwrap_or("-"),
            op = O::NAME,
            elapsed_us = tracing::field::Empty,
        );
        let started = Instant::now();
        let result = async {
            let mut guard = StatementGuard::new(cluster.primary().await?);
            let result = op.run(query, guard.conn()).await;
            guard.finished();
            result.map_err(|e| statement_error(cluster.name(), table, e))
        }
        .instrument(span.clone())
        .await;
        span.record("elapsed_us", started.elapsed().as_micros() as u64);
        result
    }
}

/// A server error on `shard`: unique and foreign-key violations become
/// [`Error::DuplicateKey`] and [`Error::ForeignKeyViolation`] when the table is known;
/// everything else is [`Error::ShardQuery`], naming the shard.
pub(crate) fn statement_error(shard: &str, table: Option<&'static str>, e: DieselError) -> Error {
    match (table, e) {
        (
            Some(table),
            e @ DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::ForeignKeyViolation,
                _,
            ),
        ) => crate::key::map_write_error(table, None, e),
        (table, source) => Error::ShardQuery {
            shard: shard.to_owned(),
            table,
            source,
        },
    }
}

/// A routed statement about to run on [`Sharded`]: pick how.
///
/// ```
/// # use grant::__doc_schema::{order_items, OrderItem, two_sqlite_shards};
/// use grant::prelude::*;
/// # #[tokio::main]
/// # async fn main() -> grant::Result<()> {
/// # let (shards, _dir) = two_sqlite_shards().await;
/// let n = shards.run(order_items::table.count().on_shard("s0")).get_result::<i64>().await?;
/// assert_eq!(n, 0);
/// # Ok(())
/// # }
/// ```
#[must_use = "a statement runs only when `.load()`, `.get_result()`, `.first()` or `.execute()` is awaited"]
pub struct Run<'a, C: ShardConnection, S> {
    sharded: &'a Sharded<C>,
    statement: S,
}

impl<C: ShardConnection, S: RoutedStatement> Run<'_, C, S> {
    /// All rows of a routed select: `Vec<U>`, or [`super::PerShard<Vec<U>>`] on all shards.
    pub async fn load<U>(self) -> Result<Output<S, Vec<U>>>
    where
        Load<U>: Operation<C, S::Query, Output = Vec<U>>,
        U: Send,
    {
        self.sharded
            .run_statement(self.statement, Load::new())
            .await
    }

    /// Exactly one row (an error satisfying [`Error::is_not_found`] when none; see
    /// [`crate::OptionalExt`]).
    pub async fn get_result<U>(self) -> Result<Output<S, U>>
    where
        GetResult<U>: Operation<C, S::Query, Output = U>,
        U: Send,
    {
        self.sharded
            .run_statement(self.statement, GetResult::new())
            .await
    }

    /// The first row (`LIMIT 1`).
    pub async fn first<U>(self) -> Result<Output<S, U>>
    where
        First<U>: Operation<C, S::Query, Output = U>,
        U: Send,
    {
        self.sharded
            .run_statement(self.statement, First::new())
            .await
    }

    /// Runs an insert, update, delete (or any statement) and returns the affected rows.
    pub async fn execute(self) -> Result<Output<S, usize>>
    where
        Execute: Operation<C, S::Query, Output = usize>,
    {
        self.sharded.run_statement(self.statement, Execute).await
    }
}
