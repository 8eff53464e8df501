//! What can be wrong with a topology.

/// The topology (TOML or code) is invalid: says what and where.
///
/// ```
/// let err = grant::Topology::from_toml_str("[[shards]]\nname = 's0'\n").expect_err("no url");
/// assert!(err.to_string().contains("url"), "{err}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A topology needs at least one shard.
    #[error("the topology has no shard")]
    NoShards,
    /// A table declared `colocated_with(..)` another follows that table's strategy, so it
    /// can't be given one of its own.
    #[error(
        "table `{table}` is co-located with `{follows}` and shards by its strategy: remove the strategy given to `{table}` (give it to `{follows}`)"
    )]
    ColocatedTableStrategy {
        /// The co-located table that was given a strategy.
        table: String,
        /// The table whose strategy it follows.
        follows: String,
    },
    /// A shard lists no host for its primary role.
    #[error("shard `{shard}` has no primary host")]
    NoPrimaryHost {
        /// The shard.
        shard: String,
    },
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
    /// The TOML did not parse or does not have the topology's shape.
    #[error("invalid topology TOML: {message}")]
    Toml {
        /// The parser's message, with the line and column.
        message: String,
    },
    /// The topology file could not be read.
    #[error("cannot read topology file {path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        message: String,
    },
    /// A `${VAR}` in a shard's URL names an environment variable that is not set.
    #[error("shard `{shard}`: URL uses `${{{var}}}`, which is not set")]
    MissingEnv {
        /// The shard.
        shard: String,
        /// The variable.
        var: String,
    },
    /// A strategy in the TOML names a shard (or group) that does not exist.
    #[error("{place}: no shard named `{name}` (shards: {known})")]
    UnknownShardName {
        /// Where (the table's strategy, and which setting).
        place: String,
        /// The name given.
        name: String,
        /// The names there are.
        known: String,
    },
    /// A value in the TOML is not valid for its setting.
    #[error("{place}: {reason}")]
    BadValue {
        /// Where.
        place: String,
        /// What is wrong.
        reason: String,
    },
}
