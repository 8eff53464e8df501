//! The topology: shards, pools and strategies, from TOML (with `${ENV}` in URLs) or code.
//!
//! ```toml
//! session_sql = ["SET application_name = 'billing'"]  # every new connection runs these first
//!
//! [pool]                           # every shard's pool; all optional (see PoolConfig)
//! max_size = 16
//! connection_timeout_ms = 2000
//!
//! [[shards]]                       # in order: the first is ShardId(0)
//! name = "s0"
//! url = "${DATABASE_URL_0}"        # ${VAR} and ${VAR:-default} are substituted
//!
//! [[shards]]
//! name = "s1"
//! url = "postgres://app@db1/app"
//! replicas = ["postgres://app@db1-replica/app"]      # reads go here (see [replicas])
//! failover_hosts = ["postgres://app@db1-replica/app"] # may be promoted; writes follow
//! pool = { max_size = 32 }         # this shard's own pool settings
//! session_sql = ["SET search_path TO shard1"]         # after the topology's session_sql
//!
//! [replicas]                       # all optional (see ReplicaConfig)
//! policy = "round_robin"           # or "random", "least_connections"
//! max_lag_ms = 5000
//! read_your_writes = "causal"     # or "window" (read_your_writes_ms = 2000), "off"
//! causal_wait_ms = 0               # how long a read may wait for a replica to catch up
//!
//! [health]                         # all optional (see HealthConfig)
//! interval_ms = 1000
//! timeout_ms = 2000
//! failure_threshold = 3
//! cool_down_ms = 5000
//!
//! [timeouts]
//! statement_ms = 30000             # a statement's time on its server (the default)
//!
//! [coalesce]                       # all optional (see CoalesceConfig)
//! max_batch = 64                   # keys per coalesced find statement
//! off_tables = ["audit_log"]       # tables whose finds always go alone
//!
//! [strategy]                       # every table's, unless it has its own
//! kind = "jump"
//!
//! [tables.region_data.strategy]    # one table's (see StrategyConfig for every kind)
//! kind = "lookup"
//! regions = { s0 = ["FR", "DE"], s1 = ["US"] }
//! default = "s0"
//! ```

mod error;
pub(crate) mod strategy;
pub(crate) mod validate;

pub use error::ConfigError;
pub use strategy::{BoundValue, RangeConfig, StrategyConfig, TimeRangeConfig};

use crate::cluster::{
    HealthConfig, PoolConfig, ReadYourWrites, ReplicaConfig, ReplicaPolicy, ShardConnection,
    ShardNodes,
};
use crate::{Result, Sharded};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// A topology read from TOML (see [the module documentation](self) for the format).
///
/// ```
/// let topology = grant::Topology::from_toml_str(r#"
///     [[shards]]
///     name = "s0"
///     url = "${GRANT_DOC_DIR:-/tmp}/s0.db"
///     [[shards]]
///     name = "s1"
///     url = "/tmp/s1.db"
///     [strategy]
///     kind = "hash"
/// "#)?;
/// assert_eq!(topology.shard_names(), ["s0", "s1"]);
/// assert_eq!(topology.shards[0].url, "/tmp/s0.db");
/// # Ok::<(), grant::config::ConfigError>(())
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    /// Pool settings for every shard.
    #[serde(default)]
    pub pool: PoolSection,
    /// The shards, in order.
    #[serde(default)]
    pub shards: Vec<ShardSection>,
    /// Read/write splitting.
    #[serde(default)]
    pub replicas: ReplicaSection,
    /// Health checks and circuit breakers.
    #[serde(default)]
    pub health: HealthSection,
    /// The default strategy.
    pub strategy: Option<StrategyConfig>,
    /// Per-table settings, by the table's SQL name.
    #[serde(default)]
    pub tables: BTreeMap<String, TableSection>,
    /// SQL every new connection runs before its first statement.
    #[serde(default)]
    pub session_sql: Vec<String>,
    /// Statement timeouts.
    #[serde(default)]
    pub timeouts: TimeoutsSection,
    /// Coalesced point lookups.
    #[serde(default)]
    pub coalesce: CoalesceSection,
}

/// `[coalesce]`: how point lookups are coalesced (see
/// [`CoalesceConfig`](crate::shard::CoalesceConfig)); every field optional.
///
/// ```
/// let t = grant::Topology::from_toml_str(
///     "[[shards]]\nname = 'a'\nurl = 'a.db'\n[coalesce]\nmax_batch = 16\noff_tables = ['audit_log']\n",
/// )?;
/// let config = t.coalesce.config();
/// assert_eq!(config.max_batch, 16);
/// assert!(config.off_tables.contains("audit_log"));
/// # Ok::<(), grant::config::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CoalesceSection {
    /// Whether finds are coalesced (default `true`).
    pub enabled: Option<bool>,
    /// The most keys one coalesced statement carries (default 64).
    pub max_batch: Option<usize>,
    /// Lookups of one table in flight on one shard before the next wait (default 1).
    pub in_flight: Option<usize>,
    /// Tables whose finds are never coalesced.
    #[serde(default)]
    pub off_tables: Vec<String>,
}

impl CoalesceSection {
    /// The settings, defaults filled in.
    pub fn config(&self) -> crate::shard::CoalesceConfig {
        let base = crate::shard::CoalesceConfig::default();
        let mut config = crate::shard::CoalesceConfig {
            enabled: self.enabled.unwrap_or(base.enabled),
            max_batch: self.max_batch.unwrap_or(base.max_batch),
            in_flight: self.in_flight.unwrap_or(base.in_flight),
            ..base
        };
        for table in &self.off_tables {
            config = config.off_for(table.clone());
        }
        config
    }
}

/// `[timeouts]`: in milliseconds.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TimeoutsSection {
    /// How long a statement may run (see
    /// [`ShardedBuilder::statement_timeout`](crate::ShardedBuilder::statement_timeout));
    /// unset: 30 s.
    pub statement_ms: Option<u64>,
}

/// A `[[shards]]` entry. Its `Debug` shows URLs without their passwords.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ShardSection {
    /// The shard's name.
    pub name: String,
    /// Its primary's URL (after `${ENV}` substitution).
    pub url: String,
    /// Its read replicas' URLs.
    #[serde(default)]
    pub replicas: Vec<String>,
    /// Hosts that may take the primary role after a failover (often the replicas).
    #[serde(default)]
    pub failover_hosts: Vec<String>,
    /// Pool settings of this shard, over `[pool]`.
    pub pool: Option<PoolSection>,
    /// SQL each new connection to this shard runs, after the topology's `session_sql`.
    #[serde(default)]
    pub session_sql: Vec<String>,
}

impl std::fmt::Debug for ShardSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::redact::{redact_all, redact_url};
        f.debug_struct("ShardSection")
            .field("name", &self.name)
            .field("url", &redact_url(&self.url))
            .field("replicas", &redact_all(&self.replicas))
            .field("failover_hosts", &redact_all(&self.failover_hosts))
            .field("pool", &self.pool)
            .field("session_sql", &self.session_sql)
            .finish()
    }
}

/// A `[tables.<name>]` entry.
///
/// ```
/// let t = grant::Topology::from_toml_str(
///     "[[shards]]\nname = 's0'\nurl = 'a.db'\n[tables.order_items]\nshard_key = ['bigint']\n",
/// )?;
/// assert_eq!(t.tables["order_items"].shard_key, ["bigint"]);
/// # Ok::<(), grant::config::ConfigError>(())
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TableSection {
    /// The table's own strategy (without one, the default strategy routes it).
    pub strategy: Option<StrategyConfig>,
    /// The SQL types of the table's shard-key columns, in order (`bigint`, `integer`,
    /// `smallint`, `text`, `uuid`, `bool`, `date`, `timestamp`): what tools that route keys
    /// without the Rust schema (`grant route`) need. The library reads the shard key from
    /// `grant::table!`.
    #[serde(default)]
    pub shard_key: Vec<String>,
    /// The names of the shard-key columns, in order: `grant print-schema` writes them into
    /// the table's `#[grant(shard_key(..))]`.
    #[serde(default)]
    pub shard_key_columns: Vec<String>,
    /// The table whose shard this table's rows follow: `grant print-schema` writes it into
    /// `#[grant(colocated_with(..))]`.
    pub colocated_with: Option<String>,
}

/// Pool settings in TOML; durations in milliseconds. Unset fields keep
/// [`PoolConfig::default`].
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PoolSection {
    /// See [`PoolConfig::max_size`].
    pub max_size: Option<u32>,
    /// See [`PoolConfig::min_idle`].
    pub min_idle: Option<u32>,
    /// See [`PoolConfig::connection_timeout`].
    pub connection_timeout_ms: Option<u64>,
    /// See [`PoolConfig::idle_timeout`].
    pub idle_timeout_ms: Option<u64>,
    /// See [`PoolConfig::max_lifetime`].
    pub max_lifetime_ms: Option<u64>,
    /// See [`PoolConfig::test_on_check_out`].
    pub test_on_check_out: Option<bool>,
    /// See [`PoolConfig::check_idle_after`] (`0`: never).
    pub check_idle_after_ms: Option<u64>,
    /// See [`PoolConfig::retry_connection`].
    pub retry_connection: Option<bool>,
}

/// `[replicas]`: durations in milliseconds; unset fields keep [`ReplicaConfig::default`].
///
/// `read_your_writes` is `"causal"` (the default; `causal_wait_ms` bounds a read's wait for
/// a replica), `"window"` (`read_your_writes_ms`, default 2000) or `"off"`. A
/// `read_your_writes_ms` without `read_your_writes` means `"window"` (`0`: `"off"`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ReplicaSection {
    /// See [`ReplicaConfig::policy`].
    pub policy: Option<ReplicaPolicy>,
    /// See [`ReplicaConfig::max_lag`].
    pub max_lag_ms: Option<u64>,
    /// See [`ReplicaConfig::read_your_writes`].
    pub read_your_writes: Option<ReadYourWritesMode>,
    /// The window of [`ReadYourWrites::Window`].
    pub read_your_writes_ms: Option<u64>,
    /// The wait of [`ReadYourWrites::Causal`].
    pub causal_wait_ms: Option<u64>,
}

/// `[replicas] read_your_writes`: which [`ReadYourWrites`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadYourWritesMode {
    /// [`ReadYourWrites::Causal`].
    Causal,
    /// [`ReadYourWrites::Window`].
    Window,
    /// [`ReadYourWrites::Off`].
    Off,
}

impl ReplicaSection {
    /// The defaults with the settings given here; a setting that does not apply to the
    /// chosen `read_your_writes` is refused.
    ///
    /// ```
    /// use grant::config::ReplicaSection;
    /// let s: ReplicaSection = toml::from_str("read_your_writes = 'off'\ncausal_wait_ms = 5")?;
    /// let err = s.config().unwrap_err();
    /// assert_eq!(err.to_string(), "replicas.causal_wait_ms: applies to read_your_writes = \"causal\"");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn config(&self) -> Result<ReplicaConfig, ConfigError> {
        let base = ReplicaConfig::default();
        let not_for = |field: &str, mode: &str| ConfigError::BadValue {
            place: format!("replicas.{field}"),
            reason: format!("applies to read_your_writes = \"{mode}\""),
        };
        let window = |ms: Option<u64>| Duration::from_millis(ms.unwrap_or(2000));
        let causal = |ms: Option<u64>| ReadYourWrites::Causal {
            wait: Duration::from_millis(ms.unwrap_or(0)),
        };
        let read_your_writes = match (
            self.read_your_writes,
            self.read_your_writes_ms,
            self.causal_wait_ms,
        ) {
            (None | Some(ReadYourWritesMode::Causal), None, wait) => causal(wait),
            (Some(ReadYourWritesMode::Causal), Some(_), _) => {
                return Err(not_for("read_your_writes_ms", "window"));
            }
            (None, Some(_), Some(_)) | (Some(ReadYourWritesMode::Window), _, Some(_)) => {
                return Err(not_for("causal_wait_ms", "causal"));
            }
            (None, Some(0), None) => ReadYourWrites::Off,
            (Some(ReadYourWritesMode::Window), Some(0), None) => {
                return Err(ConfigError::BadValue {
                    place: "replicas.read_your_writes_ms".into(),
                    reason: "must be more than 0 ms (or read_your_writes = \"off\")".into(),
                });
            }
            (None | Some(ReadYourWritesMode::Window), ms, None) => {
                ReadYourWrites::Window(window(ms))
            }
            (Some(ReadYourWritesMode::Off), None, None) => ReadYourWrites::Off,
            (Some(ReadYourWritesMode::Off), Some(_), _) => {
                return Err(not_for("read_your_writes_ms", "window"));
            }
            (Some(ReadYourWritesMode::Off), None, Some(_)) => {
                return Err(not_for("causal_wait_ms", "causal"));
            }
        };
        Ok(ReplicaConfig {
            policy: self.policy.unwrap_or(base.policy),
            max_lag: self.max_lag_ms.map_or(base.max_lag, Duration::from_millis),
            read_your_writes,
        })
    }
}

/// `[health]`: durations in milliseconds; unset fields keep [`HealthConfig::default`].
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HealthSection {
    /// See [`HealthConfig::interval`].
    pub interval_ms: Option<u64>,
    /// See [`HealthConfig::timeout`].
    pub timeout_ms: Option<u64>,
    /// See [`HealthConfig::failure_threshold`].
    pub failure_threshold: Option<u32>,
    /// See [`HealthConfig::cool_down`].
    pub cool_down_ms: Option<u64>,
}

impl HealthSection {
    /// The defaults with the settings given here.
    pub fn config(&self) -> HealthConfig {
        let base = HealthConfig::default();
        HealthConfig {
            interval: self
                .interval_ms
                .map_or(base.interval, Duration::from_millis),
            timeout: self.timeout_ms.map_or(base.timeout, Duration::from_millis),
            failure_threshold: self.failure_threshold.unwrap_or(base.failure_threshold),
            cool_down: self
                .cool_down_ms
                .map_or(base.cool_down, Duration::from_millis),
        }
    }
}

impl PoolSection {
    /// `base` with the settings given here.
    pub fn apply(&self, base: &PoolConfig) -> PoolConfig {
        PoolConfig {
            max_size: self.max_size.unwrap_or(base.max_size),
            min_idle: self.min_idle.or(base.min_idle),
            connection_timeout: self
                .connection_timeout_ms
                .map(Duration::from_millis)
                .unwrap_or(base.connection_timeout),
            idle_timeout: self
                .idle_timeout_ms
                .map(Duration::from_millis)
                .or(base.idle_timeout),
            max_lifetime: self
                .max_lifetime_ms
                .map(Duration::from_millis)
                .or(base.max_lifetime),
            test_on_check_out: self.test_on_check_out.unwrap_or(base.test_on_check_out),
            check_idle_after: match self.check_idle_after_ms {
                Some(0) => None,
                Some(ms) => Some(Duration::from_millis(ms)),
                None => base.check_idle_after,
            },
            retry_connection: self.retry_connection.unwrap_or(base.retry_connection),
        }
    }
}

impl Topology {
    /// Parses TOML and substitutes `${VAR}` / `${VAR:-default}` in shard URLs.
    pub fn from_toml_str(text: &str) -> Result<Topology, ConfigError> {
        // The parser quotes the offending line, which may hold a URL with its password.
        let mut topology: Topology = toml::from_str(text).map_err(|e| ConfigError::Toml {
            message: crate::redact::redact(&e.to_string()).into_owned(),
        })?;
        for shard in &mut topology.shards {
            let name = shard.name.clone();
            let expand = |url: &mut String| -> Result<(), ConfigError> {
                *url = shellexpand::env(url.as_str())
                    .map_err(|e| ConfigError::MissingEnv {
                        shard: name.clone(),
                        var: e.var_name,
                    })?
                    .into_owned();
                Ok(())
            };
            expand(&mut shard.url)?;
            for url in shard
                .replicas
                .iter_mut()
                .chain(shard.failover_hosts.iter_mut())
            {
                expand(url)?;
            }
        }
        Ok(topology)
    }

    /// Reads and parses a TOML file.
    pub fn from_toml_file(path: impl AsRef<std::path::Path>) -> Result<Topology, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Topology::from_toml_str(&text)
    }

    /// The shards' names, in order.
    pub fn shard_names(&self) -> Vec<&str> {
        self.shards.iter().map(|s| s.name.as_str()).collect()
    }

    /// Builds the [`Sharded`] of backend `C` (inside a tokio runtime: pools run tasks).
    pub fn build<C: ShardConnection>(&self) -> Result<Sharded<C>> {
        self.builder::<C>()?.build()
    }

    /// The builder of this topology's handle.
    pub(crate) fn builder<C: ShardConnection>(&self) -> Result<crate::ShardedBuilder<C>> {
        if self.shards.is_empty() {
            return Err(ConfigError::NoShards.into());
        }
        let names: Vec<String> = self.shards.iter().map(|s| s.name.clone()).collect();
        let base = self.pool.apply(&PoolConfig::default());
        let mut builder = Sharded::<C>::builder()
            .coalesce(self.coalesce.config())
            .pool(base.clone())
            .replicas(self.replicas.config()?)
            .health(self.health.config());
        for sql in &self.session_sql {
            builder = builder.session_sql(sql.clone());
        }
        if let Some(ms) = self.timeouts.statement_ms {
            builder = builder.statement_timeout(Some(Duration::from_millis(ms)));
        }
        for shard in &self.shards {
            let mut nodes = ShardNodes::primary(shard.url.clone());
            for host in &shard.failover_hosts {
                nodes = nodes.failover_host(host.clone());
            }
            for replica in &shard.replicas {
                nodes = nodes.replica(replica.clone());
            }
            for sql in &shard.session_sql {
                nodes = nodes.session_sql(sql.clone());
            }
            let pool = shard.pool.as_ref().map(|own| own.apply(&base));
            builder = builder.shard_nodes_with_pool(&shard.name, nodes, pool);
        }
        let (default, tables) = self.strategies(&names)?;
        if let Some(default) = default {
            builder = builder.strategy_arc(default);
        }
        for (table, strategy) in tables {
            builder = builder.table_strategy_named(table, strategy);
        }
        Ok(builder)
    }
}

impl Topology {
    /// The default strategy and the tables' own, built from the TOML.
    #[allow(clippy::type_complexity)]
    fn strategies(
        &self,
        names: &[String],
    ) -> Result<
        (
            Option<Arc<dyn crate::shard::ShardStrategy>>,
            Vec<(String, Arc<dyn crate::shard::ShardStrategy>)>,
        ),
        ConfigError,
    > {
        let default = match &self.strategy {
            Some(strategy) => Some(Arc::from(strategy.build(&strategy::Names {
                names,
                place: "[strategy]".into(),
            })?)),
            None => None,
        };
        let mut tables = Vec::new();
        for (table, section) in &self.tables {
            let Some(table_strategy) = &section.strategy else {
                continue;
            };
            let resolved = table_strategy.build(&strategy::Names {
                names,
                place: format!("[tables.{table}.strategy]"),
            })?;
            tables.push((table.clone(), Arc::from(resolved)));
        }
        Ok((default, tables))
    }

    /// The routing the topology describes (shard names and strategies), without pools or
    /// connections: for tools that only route keys (`grant route`).
    ///
    /// ```
    /// let t = grant::Topology::from_toml_str(
    ///     "[[shards]]\nname = 'a'\nurl = 'a.db'\n[[shards]]\nname = 'b'\nurl = 'b.db'\n[strategy]\nkind = 'modulo'\n",
    /// )?;
    /// let routing = t.routing()?;
    /// assert_eq!(routing.len(), 2);
    /// # Ok::<(), grant::config::ConfigError>(())
    /// ```
    pub fn routing(&self) -> Result<crate::shard::Routing, ConfigError> {
        if self.shards.is_empty() {
            return Err(ConfigError::NoShards);
        }
        let names: Vec<String> = self.shards.iter().map(|s| s.name.clone()).collect();
        let (default, tables) = self.strategies(&names)?;
        let routing = crate::shard::Routing::new(
            names.iter().map(|n| Arc::from(n.as_str())).collect(),
            default,
            tables.into_iter().collect(),
        );
        routing.check_strategies()?;
        Ok(routing)
    }
}

impl<C: ShardConnection> Sharded<C> {
    /// A `Sharded` from a TOML topology (see [`Topology`]).
    pub fn from_toml_str(text: &str) -> Result<Sharded<C>> {
        Topology::from_toml_str(text)?.build()
    }

    /// A `Sharded` from a TOML topology file.
    pub fn from_toml_file(path: impl AsRef<std::path::Path>) -> Result<Sharded<C>> {
        Topology::from_toml_file(path)?.build()
    }
}
