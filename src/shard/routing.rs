//! The routing table of a topology: shard names, the default strategy and per-table ones.

use super::{RouteKey, ShardId, ShardRef, ShardStrategy};
use crate::Error;
use std::collections::HashMap;
use std::sync::Arc;

/// Shard names and strategies; resolves keys and shard references to shard ids. Built and
/// validated by [`crate::ShardedBuilder`]: every strategy returns only shards that exist.
#[derive(Debug, Clone)]
pub struct Routing {
    /// The topology version it was built from: 0 for a fixed topology, the control
    /// database's version for a live one.
    version: u64,
    names: Vec<Arc<str>>,
    unknown: Arc<str>,
    default: Option<Arc<dyn ShardStrategy>>,
    tables: HashMap<String, Arc<dyn ShardStrategy>>,
}

impl Routing {
    pub(crate) fn new(
        names: Vec<Arc<str>>,
        default: Option<Arc<dyn ShardStrategy>>,
        tables: HashMap<String, Arc<dyn ShardStrategy>>,
    ) -> Self {
        Routing {
            version: 0,
            names,
            unknown: Arc::from("?"),
            default,
            tables,
        }
    }

    /// The same routing, marked as built from topology `version`.
    pub(crate) fn at_version(mut self, version: u64) -> Self {
        self.version = version;
        self
    }

    /// The topology version this routing was built from: 0 for a fixed topology (code or
    /// TOML), the control database's version for a live one ([`crate::live`]).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Every strategy names only shards that exist.
    pub(crate) fn check_strategies(&self) -> Result<(), crate::config::ConfigError> {
        let strategies = self
            .default
            .iter()
            .map(|s| ("(default)".to_owned(), s))
            .chain(self.tables.iter().map(|(t, s)| (t.clone(), s)));
        for (table, strategy) in strategies {
            if let Some(bad) = strategy
                .shards()
                .into_iter()
                .find(|s| s.index() >= self.names.len())
            {
                return Err(crate::config::ConfigError::StrategyShardOutOfRange {
                    table,
                    strategy: strategy.name(),
                    shard: bad.0,
                    shards: self.names.len(),
                });
            }
        }
        Ok(())
    }

    /// The strategy that routes `table`.
    pub fn strategy_for(&self, table: &'static str) -> Result<&Arc<dyn ShardStrategy>, Error> {
        if !self.tables.is_empty()
            && let Some(s) = self.tables.get(table)
        {
            return Ok(s);
        }
        self.default.as_ref().ok_or(Error::NoStrategy { table })
    }

    /// The strategy that routes keys `K`: their table's, or, for a table declared
    /// `colocated_with(..)`, the strategy of the table it follows. A co-located table given a
    /// strategy of its own (by name, in TOML) is
    /// [`ConfigError::ColocatedTableStrategy`](crate::config::ConfigError::ColocatedTableStrategy).
    pub fn strategy_for_key<K: RouteKey>(&self) -> Result<&Arc<dyn ShardStrategy>, Error> {
        // Decided when compiling: a table that follows no other pays nothing here.
        if const { !same_name(K::STRATEGY_TABLE, K::TABLE) } && self.tables.contains_key(K::TABLE) {
            return Err(crate::config::ConfigError::ColocatedTableStrategy {
                table: K::TABLE.to_owned(),
                follows: K::STRATEGY_TABLE.to_owned(),
            }
            .into());
        }
        self.strategy_for(K::STRATEGY_TABLE)
    }

    /// The shard that holds `key`.
    pub fn shard_for_key<K: RouteKey>(&self, key: &K) -> Result<ShardId, Error> {
        let strategy = self.strategy_for_key::<K>()?;
        let shard =
            strategy
                .shard_for(&key.shard_values())
                .map_err(|source| Error::KeyNotRoutable {
                    table: K::TABLE,
                    source,
                })?;
        self.check(shard)
    }

    /// The id of a shard named by id or name.
    pub fn resolve(&self, shard: &ShardRef) -> Result<ShardId, Error> {
        match shard {
            ShardRef::Id(id) => self.check(*id),
            ShardRef::Name(name) => self
                .names
                .iter()
                .position(|n| n.as_ref() == name)
                .map(|i| ShardId(i as u32))
                .ok_or_else(|| self.unknown(shard.to_string())),
        }
    }

    fn check(&self, shard: ShardId) -> Result<ShardId, Error> {
        if shard.index() < self.names.len() {
            Ok(shard)
        } else {
            Err(self.unknown(shard.to_string()))
        }
    }

    fn unknown(&self, shard: String) -> Error {
        Error::UnknownShard {
            shard,
            known: self
                .names
                .iter()
                .map(|n| n.as_ref())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// Every shard, in topology order.
    pub fn all(&self) -> impl ExactSizeIterator<Item = ShardId> + '_ {
        (0..self.names.len()).map(|i| ShardId(i as u32))
    }

    /// The number of shards.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no shards (never, once built).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The name of a shard.
    pub fn name(&self, shard: ShardId) -> &Arc<str> {
        // Ids come from `check`/`all`, so they index `names`.
        self.names.get(shard.index()).unwrap_or(&self.unknown)
    }
}

/// Whether two table names are equal, in a `const` context.
const fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
