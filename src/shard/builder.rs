//! Building a `Sharded` from code.

use super::{CoalesceConfig, Routing, ShardStrategy};
use crate::cluster::{
    AfterConnect, Cluster, HealthConfig, NodeInfo, PoolConfig, ReplicaConfig, SetupParts,
    ShardConnection, ShardNodes,
};
use crate::config::{ConfigError, validate};
use crate::shard::ShardKeyed;
use crate::{Result, Sharded};
use diesel::QueryResult;
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::time::Duration;

/// The statement timeout of a handle that sets none.
const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
use std::sync::Arc;

/// Builds a [`Sharded`]: shards (name and URL, in order: the first is `ShardId(0)`), pool
/// settings, a default strategy and per-table strategies. `build` validates the topology:
/// at least one shard, unique names, and strategies that only name existing shards.
///
/// ```
/// use grant::shard::{HashStrategy, Lookup};
/// use grant::sqlite::AsyncSqliteConnection;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # grant::table! { region_data (country_code, region_id) { country_code -> Text, region_id -> Integer, } }
/// let shards = grant::Sharded::<AsyncSqliteConnection>::builder()
///     .pool(grant::PoolConfig::default().max_size(4))
///     .shard("eu", "/tmp/eu.db")
///     .shard("us", "/tmp/us.db")
///     .strategy(HashStrategy::new(2)?)
///     .table_strategy::<region_data::table>(Lookup::new(vec![("US".into(), grant::ShardId(1))], Some(grant::ShardId(0)))?)
///     .build()?;
/// assert_eq!(shards.shard_names(), ["eu", "us"]);
/// # Ok(())
/// # }
/// ```
pub struct ShardedBuilder<C: ShardConnection> {
    pool: PoolConfig,
    replicas: ReplicaConfig,
    health: HealthConfig,
    shards: Vec<(String, ShardNodes, Option<PoolConfig>)>,
    default: Option<Arc<dyn ShardStrategy>>,
    tables: HashMap<String, Arc<dyn ShardStrategy>>,
    /// Co-located tables given a strategy of their own: (table, the table it follows).
    followers: Vec<(&'static str, &'static str)>,
    session_sql: Vec<String>,
    after_connect: Option<AfterConnect<C>>,
    statement_timeout: Option<Duration>,
    coalesce: CoalesceConfig,
}

impl<C: ShardConnection> ShardedBuilder<C> {
    pub(crate) fn new() -> Self {
        ShardedBuilder {
            pool: PoolConfig::default(),
            replicas: ReplicaConfig::default(),
            health: HealthConfig::default(),
            shards: Vec::new(),
            default: None,
            tables: HashMap::new(),
            followers: Vec::new(),
            session_sql: Vec::new(),
            after_connect: None,
            statement_timeout: Some(DEFAULT_STATEMENT_TIMEOUT),
            coalesce: CoalesceConfig::default(),
        }
    }

    /// How point lookups (`find`, `find_or_error`) of one table on one shard that arrive
    /// together are coalesced into one statement (default: on, see [`CoalesceConfig`]).
    ///
    /// ```
    /// use grant::shard::{CoalesceConfig, HashStrategy};
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let shards = grant::Sharded::<grant::sqlite::AsyncSqliteConnection>::builder()
    ///     .shard("s0", ":memory:")
    ///     .strategy(HashStrategy::new(1)?)
    ///     .coalesce(CoalesceConfig::default().off_for("audit_log"))
    ///     .build()?;
    /// # let _ = shards;
    /// # Ok(())
    /// # }
    /// ```
    pub fn coalesce(mut self, config: CoalesceConfig) -> Self {
        self.coalesce = config;
        self
    }

    /// How long any statement may run on its server before grant stops waiting (default
    /// 30 s; `None`: no bound). On expiry a read that ran on a replica is tried on the next
    /// node, then fails with [`crate::Error::StatementTimeout`]; a write fails with
    /// [`crate::Error::WriteOutcomeUnknown`] (it may have been applied). The connection is
    /// discarded, and PostgreSQL is sent a cancel request so that the server stops too. One
    /// statement can have its own with [`crate::shard::Run::timeout`]. (Waiting for a
    /// connection is bounded separately by [`PoolConfig::connection_timeout`].)
    pub fn statement_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// Adds SQL that every new connection, to every node of every shard, runs before its
    /// first statement (`SET application_name = 'billing'`); per shard, see
    /// [`ShardNodes::session_sql`]. See [`crate::cluster::NodeInfo`] for what a failure does.
    pub fn session_sql(mut self, sql: impl Into<String>) -> Self {
        self.session_sql.push(sql.into());
        self
    }

    /// Runs `hook` on every new connection, after the session SQL and before its first
    /// statement; the hook is told the shard and node ([`NodeInfo`]) so that it can set up
    /// each differently. A hook that fails discards the connection, and the statement that
    /// waited for it fails with [`crate::Error::ShardUnavailable`].
    ///
    /// ```
    /// use diesel_async::SimpleAsyncConnection;
    /// use grant::sqlite::AsyncSqliteConnection;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = grant::__doc_schema::DocDir::new();
    /// let shards = grant::Sharded::<AsyncSqliteConnection>::builder()
    ///     .shard("s0", dir.0.join("s0.db").display().to_string())
    ///     .after_connect(|conn, node| Box::pin(async move {
    ///         let pragma = format!("PRAGMA user_version = {}", if node.shard() == "s0" { 7 } else { 8 });
    ///         conn.batch_execute(&pragma).await
    ///     }))
    ///     .strategy(grant::shard::Modulo::new(1)?)
    ///     .build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn after_connect<F>(mut self, hook: F) -> Self
    where
        F: for<'a> Fn(&'a mut C, &'a NodeInfo) -> BoxFuture<'a, QueryResult<()>>
            + Send
            + Sync
            + 'static,
    {
        self.after_connect = Some(AfterConnect::new(hook));
        self
    }

    /// Pool settings for every shard (see [`PoolConfig`] for the defaults).
    pub fn pool(mut self, config: PoolConfig) -> Self {
        self.pool = config;
        self
    }

    /// Adds the next shard: `ShardId(n)` for the n-th call.
    pub fn shard(mut self, name: impl Into<String>, url: impl Into<String>) -> Self {
        self.shards
            .push((name.into(), ShardNodes::primary(url), None));
        self
    }

    /// Adds the next shard with its servers: the hosts that may hold the primary role and
    /// the read replicas.
    ///
    /// ```
    /// use grant::cluster::ShardNodes;
    /// use grant::shard::Modulo;
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # #[cfg(feature = "postgres")] {
    /// let shards = grant::Sharded::<diesel_async::AsyncPgConnection>::builder()
    ///     .shard_nodes(
    ///         "s0",
    ///         ShardNodes::primary("postgres://db0a/app")
    ///             .failover_host("postgres://db0b/app")
    ///             .replica("postgres://db0b/app"),
    ///     )
    ///     .strategy(Modulo::new(1)?)
    ///     .build()?;
    /// assert_eq!(shards.cluster("s0")?.replicas().len(), 1);
    /// # }
    /// # Ok(())
    /// # }
    /// ```
    pub fn shard_nodes(mut self, name: impl Into<String>, nodes: ShardNodes) -> Self {
        self.shards.push((name.into(), nodes, None));
        self
    }

    /// Adds the next shard with its servers and, when given, pool settings of its own.
    pub fn shard_nodes_with_pool(
        mut self,
        name: impl Into<String>,
        nodes: ShardNodes,
        pool: Option<PoolConfig>,
    ) -> Self {
        self.shards.push((name.into(), nodes, pool));
        self
    }

    /// How reads use replicas (see [`ReplicaConfig`] for the defaults).
    pub fn replicas(mut self, config: ReplicaConfig) -> Self {
        self.replicas = config;
        self
    }

    /// Health checks and circuit breakers (see [`HealthConfig`] for the defaults).
    pub fn health(mut self, config: HealthConfig) -> Self {
        self.health = config;
        self
    }

    /// Adds the next shard with pool settings of its own.
    pub fn shard_with_pool(
        mut self,
        name: impl Into<String>,
        url: impl Into<String>,
        pool: PoolConfig,
    ) -> Self {
        self.shards
            .push((name.into(), ShardNodes::primary(url), Some(pool)));
        self
    }

    /// The strategy of every table without one of its own.
    pub fn strategy(mut self, strategy: impl ShardStrategy) -> Self {
        self.default = Some(Arc::new(strategy));
        self
    }

    /// The strategy of every table without one of its own, shared.
    pub fn strategy_arc(mut self, strategy: Arc<dyn ShardStrategy>) -> Self {
        self.default = Some(strategy);
        self
    }

    /// The strategy of table `T`. A table declared `colocated_with(other)` follows
    /// `other`'s strategy and can't have its own: [`build`](Self::build) refuses it with
    /// [`ConfigError::ColocatedTableStrategy`].
    pub fn table_strategy<T: ShardKeyed>(mut self, strategy: impl ShardStrategy) -> Self {
        if T::STRATEGY_TABLE != T::NAME {
            self.followers.push((T::NAME, T::STRATEGY_TABLE));
        }
        self.table_strategy_named(T::NAME, Arc::new(strategy))
    }

    /// The strategy of the table with this SQL name.
    pub fn table_strategy_named(
        mut self,
        table: impl Into<String>,
        strategy: Arc<dyn ShardStrategy>,
    ) -> Self {
        self.tables.insert(table.into(), strategy);
        self
    }

    /// Validates the topology and sets up the pools (connections open on first use). Call it
    /// inside a tokio runtime: the pools run background tasks.
    pub fn build(self) -> Result<Sharded<C>> {
        let parts = self.into_parts()?;
        Ok(Sharded::from_parts(
            parts.clusters,
            parts.routing,
            parts.health,
            parts.statement_timeout,
            parts.coalesce,
        ))
    }

    /// Validates the topology and sets up its shards' pools, without a handle.
    pub(crate) fn into_parts(self) -> Result<Parts<C>> {
        if self.shards.is_empty() {
            return Err(ConfigError::NoShards.into());
        }
        validate::pool("pool", &self.pool)?;
        validate::statement_timeout(self.statement_timeout)?;
        validate::health(&self.health)?;
        validate::session_sql(&self.session_sql)?;
        let mut names: Vec<Arc<str>> = Vec::with_capacity(self.shards.len());
        for (index, (name, nodes, pool)) in self.shards.iter().enumerate() {
            validate::shard_name(index, name)?;
            validate::shard_nodes(name, nodes)?;
            if let Some(pool) = pool {
                validate::pool(&format!("shards.{name}.pool"), pool)?;
            }
            if names.iter().any(|n| n.as_ref() == name) {
                return Err(ConfigError::DuplicateShard { name: name.clone() }.into());
            }
            names.push(Arc::from(name.as_str()));
        }
        if let Some((table, follows)) = self.followers.first() {
            return Err(ConfigError::ColocatedTableStrategy {
                table: (*table).to_owned(),
                follows: (*follows).to_owned(),
            }
            .into());
        }
        let routing = Routing::new(names, self.default, self.tables);
        routing.check_strategies()?;
        let clusters = self
            .shards
            .iter()
            .map(|(name, nodes, pool)| {
                let setup = SetupParts {
                    session_sql: self
                        .session_sql
                        .iter()
                        .chain(&nodes.session_sql)
                        .cloned()
                        .collect(),
                    hook: self.after_connect.clone(),
                };
                Cluster::new(
                    name,
                    nodes,
                    pool.as_ref().unwrap_or(&self.pool),
                    &self.replicas,
                    &self.health,
                    &setup,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Parts {
            clusters,
            routing,
            health: self.health,
            statement_timeout: self.statement_timeout,
            coalesce: self.coalesce,
        })
    }
}

/// A validated topology's shards and routing, before they make a handle.
pub(crate) struct Parts<C: ShardConnection> {
    pub(crate) clusters: Vec<Cluster<C>>,
    pub(crate) routing: Routing,
    pub(crate) health: HealthConfig,
    pub(crate) statement_timeout: Option<Duration>,
    pub(crate) coalesce: CoalesceConfig,
}

crate::opaque_debug::opaque_debug!([C: ShardConnection] ShardedBuilder<C>, "ShardedBuilder");
