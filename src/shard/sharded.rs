//! `Sharded<C>`: a named set of shards, each a [`Cluster`] with its own pool, that runs
//! routed statements on the shard their route names.

use super::StatementKind;
use super::attempts::{Attempts, Retries};
use super::dispatch::Target;
use super::operation::Operation;
use super::run::Run;
use super::{Route, RouteKey, RoutedStatement, Routing, ShardId, ShardRef, ShardResult};
use crate::cluster::exec::{ExecSettings, Plan, RunOptions, StatementTimeout, run_on_cluster};
use crate::cluster::health::{Fleet, spawn_health_checks};
use crate::cluster::{Cluster, HealthConfig, PooledConnection, ShardConnection};
use crate::{Error, Result};
use arc_swap::ArcSwap;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

/// The routing a handle had when this was taken ([`Sharded::routing`]): a live topology's
/// next version does not change it. Dereferences to [`Routing`].
pub struct RoutingSnapshot(arc_swap::Guard<Arc<Routing>>);

impl std::ops::Deref for RoutingSnapshot {
    type Target = Routing;
    fn deref(&self) -> &Routing {
        &self.0
    }
}

impl std::fmt::Debug for RoutingSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

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
/// use grant::shard::HashStrategy;
/// use grant::sqlite::AsyncSqliteConnection;
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = grant::__doc_schema::DocDir::new();
/// # let urls: Vec<String> = (0..2).map(|i| dir.0.join(format!("s{i}.db")).display().to_string()).collect();
/// # for url in &urls { grant::__doc_schema::create_order_items(url).await; }
/// let shards = grant::Sharded::<AsyncSqliteConnection>::builder()
///     .shard("s0", &urls[0])
///     .shard("s1", &urls[1])
///     .strategy(HashStrategy::new(2)?)
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
    /// This copy's statement timeout, over the handle's (see [`Sharded::with_timeout`]).
    pub(super) timeout: Option<StatementTimeout>,
    /// This copy's read-your-writes session (see [`Sharded::in_session`]).
    pub(super) session: Option<super::Session>,
    /// Whether this copy coalesces finds (see [`Sharded::uncoalesced`]).
    pub(super) coalescing: bool,
}

struct Inner<C: ShardConnection> {
    /// Every shard the handle has known, in topology order. Append-only (a live topology
    /// may add shards, never remove or reorder them), so a `&Cluster` lives as long as the
    /// handle; `ShardId(i)` is the `i`-th.
    clusters: boxcar::Vec<Cluster<C>>,
    /// The current routing: replaced whole when a live topology changes
    /// ([`crate::live`]); each statement routes with the one it loaded.
    routing: ArcSwap<Routing>,
    /// How the topology is kept current: fixed, or watched in a control database.
    source: crate::live::Source,
    /// The control database of a live topology.
    control: std::sync::OnceLock<crate::live::Control<C>>,
    /// Point lookups waiting to go out together (see [`super::coalesce`]).
    coalescer: super::coalesce::Coalescer,
    coalesce: super::CoalesceConfig,
    /// The health checks run (they start with the first shard that has replicas).
    health_checked: std::sync::atomic::AtomicBool,
    health: HealthConfig,
    exec: ExecSettings,
    /// Open cross-shard transactions, at most the smallest primary pool's size: each holds
    /// up to one connection per shard while it waits for another shard's, so more of them
    /// than a pool holds could wait on each other until the pools time out.
    cross_slots: tokio::sync::Semaphore,
    /// The number of those slots.
    cross_limit: std::sync::atomic::AtomicU32,
}

impl<C: ShardConnection> Fleet<C> for Inner<C> {
    fn clusters(&self) -> Vec<&Cluster<C>> {
        self.clusters.iter().map(|(_, c)| c).collect()
    }
    fn health(&self) -> &HealthConfig {
        &self.health
    }
}

/// A [`Sharded`] that its background tasks hold without keeping it alive.
pub(crate) struct WeakSharded<C: ShardConnection>(std::sync::Weak<Inner<C>>);

impl<C: ShardConnection> WeakSharded<C> {
    /// The handle, while a copy of it lives.
    pub(crate) fn upgrade(&self) -> Option<Sharded<C>> {
        self.0.upgrade().map(|inner| Sharded {
            inner,
            timeout: None,
            session: None,
            coalescing: true,
        })
    }
}

impl<C: ShardConnection> Clone for Sharded<C> {
    fn clone(&self) -> Self {
        Sharded {
            inner: self.inner.clone(),
            timeout: self.timeout,
            session: self.session.clone(),
            coalescing: self.coalescing,
        }
    }
}

impl<C: ShardConnection> std::fmt::Debug for Sharded<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sharded")
            .field("shards", &self.inner.clusters())
            .finish()
    }
}

impl<C: ShardConnection> Sharded<C> {
    pub(crate) fn from_parts(
        clusters: Vec<Cluster<C>>,
        routing: Routing,
        health: HealthConfig,
        statement_timeout: Option<Duration>,
        coalesce: super::CoalesceConfig,
    ) -> Self {
        let replicated = clusters.iter().any(Cluster::is_replicated);
        let exec = ExecSettings {
            rediscover_timeout: health.timeout,
            statement_timeout: statement_timeout
                .map_or(StatementTimeout::Never, StatementTimeout::After),
        };
        let slots = clusters
            .iter()
            .map(Cluster::primary_pool_size)
            .min()
            .unwrap_or(1)
            .max(1);
        let inner = Arc::new(Inner {
            cross_slots: tokio::sync::Semaphore::new(slots as usize),
            cross_limit: std::sync::atomic::AtomicU32::new(slots),
            clusters: clusters.into_iter().collect(),
            routing: ArcSwap::from_pointee(routing),
            source: crate::live::Source::default(),
            control: std::sync::OnceLock::new(),
            health_checked: std::sync::atomic::AtomicBool::new(replicated),
            coalescer: super::coalesce::Coalescer::default(),
            coalesce,
            health,
            exec,
        });
        if replicated {
            spawn_health_checks(Arc::downgrade(&inner));
        }
        Sharded {
            inner,
            timeout: None,
            session: None,
            coalescing: true,
        }
    }

    /// Probes every server of every shard now (the background task does it every
    /// `interval`): roles, lag, circuits.
    pub async fn check_health(&self) {
        let timeout = self.inner.health.timeout;
        futures_util::future::join_all(
            self.inner
                .clusters
                .iter()
                .map(|(_, c)| c.check_health(timeout)),
        )
        .await;
    }

    /// Publishes every node's pool, breaker and lag gauges now (feature `metrics`; see
    /// the README's metrics table). The health checks publish them at each round on shards
    /// with replicas; call this before a scrape to have them for the others.
    ///
    /// ```
    /// # use grant::__doc_schema::two_sqlite_shards;
    /// # #[tokio::main]
    /// # async fn main() {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// shards.publish_metrics();
    /// # }
    /// ```
    pub fn publish_metrics(&self) {
        for (_, cluster) in &self.inner.clusters {
            cluster.publish_metrics();
        }
    }

    /// The statement timeout of statements without their own.
    pub(crate) fn statement_timeout(&self) -> StatementTimeout {
        self.timeout.unwrap_or(self.inner.exec.statement_timeout)
    }

    /// A copy of the handle (the same shards and pools) whose statements have this timeout
    /// instead of the handle's [`statement_timeout`](crate::ShardedBuilder::statement_timeout)
    /// (`None`: no bound): for the key operations, scatters and transactions of one call.
    /// (One routed statement can also take its own with [`crate::shard::Run::timeout`].)
    ///
    /// ```
    /// # use grant::__doc_schema::{OrderItem, two_sqlite_shards};
    /// # #[tokio::main]
    /// # async fn main() -> grant::Result<()> {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// use std::time::Duration;
    /// let quick = shards.with_timeout(Some(Duration::from_millis(200)));
    /// assert_eq!(quick.find::<OrderItem, _>((1, 2)).await?, None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_timeout(&self, timeout: Option<Duration>) -> Sharded<C> {
        Sharded {
            inner: self.inner.clone(),
            timeout: Some(timeout.map_or(StatementTimeout::Never, StatementTimeout::After)),
            session: self.session.clone(),
            coalescing: self.coalescing,
        }
    }

    /// A copy of the handle (the same shards and pools) whose statements keep
    /// read-your-writes in `session`: its key operations, scatters, routed statements and
    /// transactions see the session's writes (and those its [`super::CausalToken`]
    /// records), and their writes are noted in it. Take one per request, from the token the
    /// client brought back.
    ///
    /// ```
    /// # use grant::__doc_schema::{OrderItem, two_sqlite_shards};
    /// use grant::shard::{CausalToken, Session};
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// let from_cookie: CausalToken = "".parse()?;
    /// let session = Session::from_token(&from_cookie);
    /// let db = shards.in_session(&session);
    /// db.insert(&OrderItem { order_id: 1, product_id: 2, quantity: 3 }).await?;
    /// assert!(db.find::<OrderItem, _>((1, 2)).await?.is_some());
    /// let to_cookie = session.token().to_string(); // empty: SQLite shards have no replicas
    /// # assert!(to_cookie.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn in_session(&self, session: &super::Session) -> Sharded<C> {
        Sharded {
            inner: self.inner.clone(),
            timeout: self.timeout,
            session: Some(session.clone()),
            coalescing: self.coalescing,
        }
    }

    /// The session of this copy (see [`Sharded::in_session`]).
    pub(crate) fn session(&self) -> Option<&super::Session> {
        self.session.as_ref()
    }

    /// Health-check settings.
    pub fn health_config(&self) -> &HealthConfig {
        &self.inner.health
    }

    /// A builder for a topology given in code (see also [`crate::Topology`] for TOML).
    pub fn builder() -> crate::ShardedBuilder<C> {
        crate::ShardedBuilder::new()
    }

    /// Shard names and strategies: the current routing (a live topology replaces it when
    /// its control database publishes a new version; this snapshot stays as it was).
    ///
    /// ```
    /// # use grant::__doc_schema::two_sqlite_shards;
    /// # #[tokio::main]
    /// # async fn main() {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// let routing = shards.routing();
    /// assert_eq!(routing.len(), 2);
    /// assert_eq!(routing.version(), 0); // a fixed topology
    /// # }
    /// ```
    pub fn routing(&self) -> RoutingSnapshot {
        RoutingSnapshot(self.inner.routing.load())
    }

    /// Replaces the routing (a live topology's new version); `clusters` already holds every
    /// shard it names.
    pub(crate) fn swap_routing(&self, routing: Routing) {
        self.inner.routing.store(Arc::new(routing));
    }

    /// Appends a shard (a live topology's new version), and starts the health checks if
    /// it is the first with replicas.
    pub(crate) fn add_cluster(&self, cluster: Cluster<C>) {
        // A smaller pool lowers the limit on open cross-shard transactions to its size.
        let limit = cluster.primary_pool_size().max(1);
        let before = self
            .inner
            .cross_limit
            .fetch_min(limit, std::sync::atomic::Ordering::Relaxed);
        if limit < before {
            // Permits held now are forgotten as they come back; new transactions wait.
            let mut owed = (before - limit) as usize;
            owed -= self.inner.cross_slots.forget_permits(owed);
            if owed > 0 {
                let inner = self.inner.clone();
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(async move {
                        if let Ok(permits) = inner.cross_slots.acquire_many(owed as u32).await {
                            permits.forget();
                        }
                    });
                }
            }
        }
        let replicated = cluster.is_replicated();
        self.inner.clusters.push(cluster);
        if replicated
            && !self
                .inner
                .health_checked
                .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            spawn_health_checks(Arc::downgrade(&self.inner));
        }
    }

    /// How the handle's topology is kept current.
    pub(crate) fn source(&self) -> &crate::live::Source {
        &self.inner.source
    }

    /// A copy of the handle (the same shards and pools) whose finds are never coalesced:
    /// each is its own statement (see [`crate::shard::CoalesceConfig`]).
    ///
    /// ```
    /// # use grant::__doc_schema::{OrderItem, two_sqlite_shards};
    /// # #[tokio::main]
    /// # async fn main() -> grant::Result<()> {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// let alone = shards.uncoalesced();
    /// assert_eq!(alone.find::<OrderItem, _>((1, 2)).await?, None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn uncoalesced(&self) -> Sharded<C> {
        Sharded {
            coalescing: false,
            ..self.clone()
        }
    }

    /// How many coalesced statements the handle sent and how many keys they carried (see
    /// [`crate::shard::CoalesceConfig`]).
    ///
    /// ```
    /// # use grant::__doc_schema::two_sqlite_shards;
    /// # #[tokio::main]
    /// # async fn main() {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// assert_eq!(shards.coalesce_stats().statements, 0);
    /// # }
    /// ```
    pub fn coalesce_stats(&self) -> super::CoalesceStats {
        self.inner.coalescer.stats()
    }

    pub(crate) fn coalesce_config(&self) -> &super::CoalesceConfig {
        &self.inner.coalesce
    }

    pub(crate) fn coalescer(&self) -> &super::coalesce::Coalescer {
        &self.inner.coalescer
    }

    /// Sets the control database the handle follows.
    pub(crate) fn set_control(&self, control: crate::live::Control<C>) {
        let _ = self.inner.control.set(control);
    }

    /// A reference to the handle that does not keep it alive (for its background tasks).
    pub(crate) fn downgrade(&self) -> WeakSharded<C> {
        WeakSharded(Arc::downgrade(&self.inner))
    }

    /// Reads the control database now and takes a newer topology version if there is one
    /// (the handle also does it every [`crate::live::WatchOptions::poll`]); returns the
    /// version the handle routes with. A fixed topology returns 0.
    ///
    /// Errors: [`Error::Control`] when the control database cannot be reached (the handle
    /// keeps its topology) or the new version cannot be taken.
    ///
    /// ```
    /// # use grant::__doc_schema::two_sqlite_shards;
    /// # #[tokio::main]
    /// # async fn main() -> grant::Result<()> {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// assert_eq!(shards.refresh_topology().await?, 0); // a fixed topology
    /// # Ok(())
    /// # }
    /// ```
    pub async fn refresh_topology(&self) -> Result<u64> {
        match self.inner.control.get() {
            Some(control) => crate::live::read_once(self, control).await,
            None => Ok(self.routing().version()),
        }
    }

    /// The topology version the handle routes with, and for a live topology what it last
    /// saw of its control database (see [`crate::live`]).
    pub fn topology_status(&self) -> crate::live::TopologyStatus {
        crate::live::TopologyStatus {
            version: self.routing().version(),
            live: self.inner.source.status(),
        }
    }

    /// The shards' names, in topology order.
    pub fn shard_names(&self) -> Vec<&str> {
        self.inner
            .clusters
            .iter()
            .map(|(_, c)| c.name().as_ref())
            .collect()
    }

    /// The number of shards.
    pub fn shard_count(&self) -> usize {
        self.inner.clusters.count()
    }

    /// The shard that holds `key` (a table's `Key` or `ShardKey`).
    pub fn shard_for<K: RouteKey>(&self, key: &K) -> Result<ShardId> {
        self.inner.routing.load().shard_for_key(key)
    }

    /// The cluster of a shard.
    pub fn cluster(&self, shard: impl Into<ShardRef>) -> Result<&Cluster<C>> {
        let id = self.inner.routing.load().resolve(&shard.into())?;
        self.cluster_by_id(id)
    }

    /// A slot for one open cross-shard transaction (see `Inner::cross_slots`), waiting at
    /// most the first shard's pool timeout for one.
    pub(crate) async fn cross_slot(
        &self,
        first: &Cluster<C>,
    ) -> Result<tokio::sync::SemaphorePermit<'_>> {
        let waited = first.primary_node().connection_timeout();
        match tokio::time::timeout(waited, self.inner.cross_slots.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed; a timeout and a closed one both mean no slot.
            Ok(Err(_)) | Err(_) => Err(Error::PoolTimeout {
                shard: first.name().to_string(),
                waited,
            }),
        }
    }

    pub(crate) fn cluster_by_id(&self, shard: ShardId) -> Result<&Cluster<C>> {
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
    pub fn run<S: RoutedStatement>(&self, statement: S) -> Run<'_, C, S>
    where
        S::Query: StatementKind,
    {
        Run::new(self, statement)
    }

    pub(crate) async fn run_statement<S, O, M>(
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
        super::immutable::check_raw::<S::Query, O, C>(&query, &route)?;
        let plan = Plan {
            table: route.table(),
            access: <S::Query as StatementKind>::ACCESS,
            options: RunOptions {
                idempotent: options.idempotent || M::IDEMPOTENT,
                ..options
            },
        };
        let snapshot = self.inner.routing.load();
        let routing: &Routing = &snapshot;
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
        if let Target::One(shard) = route.target(routing)? {
            // One shard (a lookup by key): no list of parts, no join over futures. A route
            // that another shard can answer for (reference tables) moves on when a shard
            // cannot answer.
            let mut tried = 1;
            let mut spare = route.fallback(&query, routing, tried);
            let mut result = run_part((shard, query)).await;
            loop {
                match (result, spare.take()) {
                    (Err(e), Some((next, query))) if e.shard_could_not_answer() => {
                        tracing::debug!(error = %e, "a shard could not answer; trying the next");
                        tried += 1;
                        spare = route.fallback(&query, routing, tried);
                        result = run_part((next, query)).await;
                    }
                    (result, _) => return S::Route::assemble_one(result?),
                }
            }
        }
        let parts = route.split(query, routing)?;
        let runs = parts.into_iter().map(run_part);
        S::Route::assemble(futures_util::future::try_join_all(runs).await?)
    }

    /// Runs `op` on one shard (see [`crate::cluster::exec`]).
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
        let settings = ExecSettings {
            statement_timeout: self.statement_timeout(),
            ..self.inner.exec
        };
        let mut plan = plan;
        if plan.options.session.is_none() {
            plan.options.session = self.session.as_ref();
        }
        run_on_cluster(cluster, settings, plan, op, attempts).await
    }
}
