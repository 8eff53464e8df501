//! `Sharded<C>`: a named set of shards, each a [`Cluster`] with its own pool, that runs
//! routed statements on the shard their route names.

use super::attempts::{Attempts, Idempotent, Rerun, Retries, RunOnce};
use super::operation::{Execute, First, GetResult, Load, Operation};
use super::{Access, Session, StatementKind};
use super::{Route, RouteKey, RoutedStatement, Routing, ShardId, ShardRef, ShardResult};
use crate::cluster::{Cluster, HealthConfig, PooledConnection, ShardConnection};
use crate::{Error, Result};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use futures_util::future::BoxFuture;
use std::marker::PhantomData;
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
    health: HealthConfig,
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
    pub(crate) fn from_parts(
        clusters: Vec<Cluster<C>>,
        routing: Routing,
        health: HealthConfig,
    ) -> Self {
        let replicated = clusters.iter().any(Cluster::is_replicated);
        let inner = Arc::new(Inner {
            clusters,
            routing,
            health,
        });
        if replicated {
            spawn_health_checks(Arc::downgrade(&inner));
        }
        Sharded { inner }
    }

    /// Probes every server of every shard now (the background task does it every
    /// `interval`): roles, lag, circuits.
    pub async fn check_health(&self) {
        let timeout = self.inner.health.timeout;
        futures_util::future::join_all(self.inner.clusters.iter().map(|c| c.check_health(timeout)))
            .await;
    }

    /// Health-check settings.
    pub fn health_config(&self) -> &HealthConfig {
        &self.inner.health
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
    /// Reads (selects) go to a replica when the shard has usable ones, writes to the
    /// current primary (see [`crate::cluster`]).
    ///
    /// (The four verbs live on [`Run`] rather than on `Sharded` itself because diesel-async's
    /// `RunQueryDsl`, implemented for every type, would otherwise shadow them.)
    pub fn run<S: RoutedStatement>(&self, statement: S) -> Run<'_, C, S> {
        Run {
            sharded: self,
            statement,
            options: RunOptions::default(),
            _retries: PhantomData,
        }
    }

    async fn run_statement<S, O, M>(
        &self,
        statement: S,
        op: O,
        options: RunOptions<'_>,
    ) -> Result<Output<S, O::Output>>
    where
        S: RoutedStatement,
        S::Query: StatementKind,
        O: Operation<C, S::Query>,
        M: Retries<S::Query, <S::Query as StatementKind>::Kind>,
    {
        let (query, route) = statement.into_parts();
        let plan = Plan {
            table: route.table(),
            access: <S::Query as StatementKind>::ACCESS,
            options: RunOptions {
                idempotent: options.idempotent || M::IDEMPOTENT,
                ..options
            },
        };
        let routing = &self.inner.routing;
        let run_part = |(shard, query)| {
            // Boxed: the future's type then names no lifetime of the operation's own
            // future, which lets callers move `run(..).load()` into `tokio::spawn` (rustc
            // cannot prove `Send` for such higher-ranked futures otherwise). One allocation
            // per statement.
            let run: BoxFuture<'_, Result<O::Output>> =
                Box::pin(self.run_on(shard, plan, op, M::attempts(query)));
            async move {
                Ok::<_, Error>(ShardResult {
                    shard,
                    name: routing.name(shard).clone(),
                    value: run.await?,
                })
            }
        };
        let mut parts = route.split(query, routing)?;
        if parts.len() == 1 {
            // One shard (a lookup by key): no join over futures.
            if let Some(part) = parts.pop() {
                return S::Route::assemble(vec![run_part(part).await?]);
            }
        }
        let runs = parts.into_iter().map(run_part);
        S::Route::assemble(futures_util::future::try_join_all(runs).await?)
    }

    /// Runs `op` on one shard (a replica or the primary for reads, the primary for writes),
    /// in a span, mapping errors to name the shard. `attempts` gives the statement for each
    /// try.
    pub(crate) async fn run_on<Q, O, A>(
        &self,
        shard: ShardId,
        plan: Plan<'_>,
        op: O,
        attempts: A,
    ) -> Result<O::Output>
    where
        O: Operation<C, Q>,
        A: Attempts<Q>,
    {
        let cluster = self.cluster_by_id(shard)?;
        let span = tracing::debug_span!(
            "grant.statement",
            shard = %cluster.name(),
            table = plan.table.unwrap_or("-"),
            op = O::NAME,
            node = tracing::field::Empty,
            elapsed_us = tracing::field::Empty,
        );
        let started = Instant::now();
        let result = match plan.access {
            Access::Read => {
                self.read(cluster, plan, op, attempts, &span)
                    .instrument(span.clone())
                    .await
            }
            Access::Write => {
                self.write(cluster, plan, op, attempts, &span)
                    .instrument(span.clone())
                    .await
            }
        };
        span.record(
            "elapsed_us",
            u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        );
        result
    }

    /// A read: the replicas the policy picks, then the primary. A node that cannot be
    /// reached is skipped; a node that fails mid-statement is skipped and the read re-run
    /// on the next when `attempts` can give the statement again.
    async fn read<Q, O, A>(
        &self,
        cluster: &Cluster<C>,
        plan: Plan<'_>,
        op: O,
        mut attempts: A,
        span: &tracing::Span,
    ) -> Result<O::Output>
    where
        O: Operation<C, Q>,
        A: Attempts<Q>,
    {
        let sticky = match plan.options.session {
            Some(session) => session.wrote_recently(cluster.name(), cluster.read_your_writes()),
            None => cluster.wrote_recently(),
        };
        let mut last_error = None;
        let candidates = cluster.read_candidates(plan.options.primary || sticky);
        let count = candidates.len();
        for (i, node) in candidates.into_iter().enumerate() {
            let mut conn = match node.checkout().await {
                Ok(conn) => conn,
                Err(e) => {
                    last_error = Some(e);
                    continue;
                }
            };
            let Some(query) = attempts.next_attempt(i + 1 == count) else {
                break;
            };
            span.record("node", node.label());
            node.note_served();
            let result = op.run(query, conn.conn()).await;
            conn.finished();
            match result {
                Ok(value) => {
                    node.record_success();
                    return Ok(value);
                }
                Err(e) if is_connection_failure(&e) => {
                    node.record_failure(&e.to_string());
                    tracing::debug!(node = node.label(), error = %e, "read failed on its node; trying the next");
                    last_error = Some(statement_error(cluster.name(), plan.table, e));
                }
                Err(e) => return Err(statement_error(cluster.name(), plan.table, e)),
            }
        }
        Err(last_error.unwrap_or_else(|| Error::NoPrimary {
            shard: cluster.name().to_string(),
        }))
    }

    /// A write on the current primary. Retried only when it was certainly not applied (no
    /// connection to the primary, or the node refused it as read-only because it was
    /// demoted) or when it is idempotent; a failure of the primary makes the cluster look
    /// for the new one.
    async fn write<Q, O, A>(
        &self,
        cluster: &Cluster<C>,
        plan: Plan<'_>,
        op: O,
        mut attempts: A,
        span: &tracing::Span,
    ) -> Result<O::Output>
    where
        O: Operation<C, Q>,
        A: Attempts<Q>,
    {
        let shard = cluster.name();
        let timeout = self.inner.health.timeout;
        let mut retries_left = 2u32;
        loop {
            let (seen, node) = cluster.current_primary().ok_or_else(|| Error::NoPrimary {
                shard: shard.to_string(),
            })?;
            span.record("node", node.label());
            let mut conn = match node.checkout().await {
                Ok(conn) => conn,
                Err(e) => {
                    // Nothing ran: whichever host holds the primary role now may take it.
                    // (`ShardUnavailable` and `PoolTimeout` mean the write was not applied.)
                    if retries_left > 0 && cluster.rediscover(seen, timeout).await {
                        retries_left -= 1;
                        continue;
                    }
                    return Err(e);
                }
            };
            let Some(query) = attempts.next_attempt(false) else {
                return Err(Error::WriteNotApplied {
                    shard: shard.to_string(),
                    cause: "the statement cannot be re-run on the new primary".into(),
                });
            };
            node.note_served();
            let result = op.run(query, conn.conn()).await;
            conn.finished();
            cluster.record_write();
            if let Some(session) = plan.options.session {
                session.record_write(shard);
            }
            match result {
                Ok(value) => {
                    node.record_success();
                    return Ok(value);
                }
                Err(e) if is_read_only_refusal(&e) => {
                    // Refused, so not applied: the node was demoted.
                    if retries_left > 0 && cluster.rediscover(seen, timeout).await {
                        retries_left -= 1;
                        continue;
                    }
                    return Err(Error::WriteNotApplied {
                        shard: shard.to_string(),
                        cause: e.to_string(),
                    });
                }
                Err(e) if is_connection_failure(&e) => {
                    node.record_failure(&e.to_string());
                    let moved = cluster.rediscover(seen, timeout).await;
                    if plan.options.idempotent && retries_left > 0 && moved {
                        retries_left -= 1;
                        continue;
                    }
                    return Err(Error::WriteOutcomeUnknown {
                        shard: shard.to_string(),
                        cause: e.to_string(),
                    });
                }
                Err(e) => return Err(statement_error(shard, plan.table, e)),
            }
        }
    }
}

/// Probes the servers of replicated shards every `interval` while the handle lives. Without
/// a tokio runtime there is no task: replicas stay unused (their lag is unknown) and
/// failover happens only when a write fails.
fn spawn_health_checks<C: ShardConnection>(inner: std::sync::Weak<Inner<C>>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("no tokio runtime: replicas are not health-checked and stay unused");
        return;
    };
    runtime.spawn(async move {
        loop {
            let Some(inner) = inner.upgrade() else { break };
            let timeout = inner.health.timeout;
            let interval = inner.health.interval;
            let checks = inner
                .clusters
                .iter()
                .filter(|c| c.is_replicated())
                .map(|c| c.check_health(timeout));
            futures_util::future::join_all(checks).await;
            drop(inner);
            tokio::time::sleep(interval).await;
        }
    });
}

/// How one statement runs: what it touches, whether it reads, and the caller's options.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan<'a> {
    pub(crate) table: Option<&'static str>,
    pub(crate) access: Access,
    pub(crate) options: RunOptions<'a>,
}

impl Plan<'_> {
    /// A read of `table`.
    pub(crate) fn read(table: Option<&'static str>) -> Self {
        Plan {
            table,
            access: Access::Read,
            options: RunOptions::default(),
        }
    }

    /// A write to `table`.
    pub(crate) fn write(table: Option<&'static str>) -> Self {
        Plan {
            table,
            access: Access::Write,
            options: RunOptions::default(),
        }
    }
}

/// Options of one statement: forced to the primary, idempotent, in a session.
///
/// ```
/// let options = grant::shard::RunOptions { primary: true, ..Default::default() };
/// assert!(!options.idempotent);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions<'a> {
    /// Read on the primary even when replicas could answer.
    pub primary: bool,
    /// The write may run again after a failover (running it twice has the effect of once).
    pub idempotent: bool,
    /// Read-your-writes is tracked in this session instead of the handle.
    pub session: Option<&'a Session>,
}

/// The connection failed (rather than the statement): the node is unreachable, shutting
/// down or gone mid-statement.
pub(crate) fn is_connection_failure(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(
            DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection,
            _,
        ) => true,
        DieselError::BrokenTransactionManager => true,
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            let m = info.message().to_ascii_lowercase();
            [
                "input/output error",
                "connection closed",
                "connection reset",
                "broken pipe",
                "terminating connection",
                "shutting down",
                "starting up",
                "server has gone away",
                "lost connection",
                "connection refused",
            ]
            .iter()
            .any(|needle| m.contains(needle))
        }
        _ => false,
    }
}

/// The node refused a write because it is read-only (a demoted primary, a replica): the
/// write was not applied.
pub(crate) fn is_read_only_refusal(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::ReadOnlyTransaction, _) => true,
        DieselError::DatabaseError(_, info) => {
            let m = info.message().to_ascii_lowercase();
            m.contains("read-only") || m.contains("read_only") || m.contains("read only")
        }
        _ => false,
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
pub struct Run<'a, C: ShardConnection, S, M = Rerun> {
    sharded: &'a Sharded<C>,
    statement: S,
    options: RunOptions<'a>,
    _retries: PhantomData<fn() -> M>,
}

impl<'a, C: ShardConnection, S: RoutedStatement, M> Run<'a, C, S, M> {
    /// Reads on the primary even if replicas could answer (a write always does).
    pub fn on_primary(mut self) -> Self {
        self.options.primary = true;
        self
    }

    /// Tracks read-your-writes in `session` rather than in the handle: reads of a shard
    /// the session wrote to within the window go to the primary.
    pub fn in_session(mut self, session: &'a Session) -> Self {
        self.options.session = Some(session);
        self
    }

    /// Marks the write idempotent: after a failover that interrupted it, it runs again
    /// on the new primary (a write is otherwise never re-run once it may have been
    /// applied). The statement must be `Clone`.
    pub fn idempotent(self) -> Run<'a, C, S, Idempotent> {
        self.with_retries()
    }

    /// Runs the statement on one server, without re-running it elsewhere if that server
    /// fails mid-statement: for statements that are not `Clone` (boxed queries).
    pub fn once(self) -> Run<'a, C, S, RunOnce> {
        self.with_retries()
    }

    fn with_retries<N>(self) -> Run<'a, C, S, N> {
        Run {
            sharded: self.sharded,
            statement: self.statement,
            options: self.options,
            _retries: PhantomData,
        }
    }
}

impl<'a, C: ShardConnection, S: RoutedStatement, M> Run<'a, C, S, M>
where
    S::Query: StatementKind,
{
    /// All rows of a routed select: `Vec<U>`, or [`super::PerShard<Vec<U>>`] on all shards.
    pub async fn load<U>(self) -> Result<Output<S, Vec<U>>>
    where
        Load<U>: Operation<C, S::Query, Output = Vec<U>>,
        U: Send,
        M: Retries<S::Query, <S::Query as StatementKind>::Kind>,
    {
        self.sharded
            .run_statement::<S, _, M>(self.statement, Load::new(), self.options)
            .await
    }

    /// Exactly one row (an error satisfying [`Error::is_not_found`] when none; see
    /// [`crate::OptionalExt`]).
    pub async fn get_result<U>(self) -> Result<Output<S, U>>
    where
        GetResult<U>: Operation<C, S::Query, Output = U>,
        U: Send,
        M: Retries<S::Query, <S::Query as StatementKind>::Kind>,
    {
        self.sharded
            .run_statement::<S, _, M>(self.statement, GetResult::new(), self.options)
            .await
    }

    /// The first row (`LIMIT 1`).
    pub async fn first<U>(self) -> Result<Output<S, U>>
    where
        First<U>: Operation<C, S::Query, Output = U>,
        U: Send,
        M: Retries<S::Query, <S::Query as StatementKind>::Kind>,
    {
        self.sharded
            .run_statement::<S, _, M>(self.statement, First::new(), self.options)
            .await
    }

    /// Runs an insert, update, delete (or any statement) and returns the affected rows.
    pub async fn execute(self) -> Result<Output<S, usize>>
    where
        Execute: Operation<C, S::Query, Output = usize>,
        M: Retries<S::Query, <S::Query as StatementKind>::Kind>,
    {
        self.sharded
            .run_statement::<S, _, M>(self.statement, Execute, self.options)
            .await
    }
}
