//! Topology configuration errors (and, with the TOML loader, the topology file).

/// The topology is invalid: says what and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A topology needs at least one shard.
    #[error("the topology has no shard")]
    NoShards,
    /// Two shards have the same name.
    #[error("two shards are named `{name}`")]
    DuplicateShard {
        /// The name.
        name: String,
    },
    /// A strategy names a shard the topology does not have.
    #[error(
        "the `{strategy}` strategy of {table} routes to shard #{shard}, but the topology has {shards} shards"
    )]
    StrategyShardOutOfRange {
        /// The table (or "(default)").
        table: String,
        /// The strategy.
        strategy: &'static str,
        /// The shard index it names.
        shard: u32,
        /// How many shards there are.
        shards: usize,
    },
    /// A strategy's own settings are invalid.
    #[error(transparent)]
    Strategy(#[from] crate::shard::StrategyError),
}
