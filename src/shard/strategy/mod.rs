//! Shard strategies: a shard key -> the shard that holds it.
//!
//! | strategy | routes | adding shards |
//! |---|---|---|
//! | [`Modulo`] | integer key mod N | moves almost every key |
//! | [`HashStrategy`] | stable hash mod N | moves almost every key |
//! | [`JumpHash`] | jump consistent hash of the stable hash | moves 1/N of the keys |
//! | [`Buckets`] | stable hash -> one of B buckets -> bucket table | moves whole buckets you choose |
//! | [`RangeStrategy`] | integer or text ranges | split a range |
//! | [`TimeRange`] | date/time ranges, or calendar months | add a range |
//! | [`Lookup`] | value -> shard (directory, list, geo), with a default | edit the map |
//! | [`MultiColumn`] | first column picks a group of shards, the rest is hashed within it | grow a group |
//!
//! Hash-based strategies read every shard-key column (so `(tenant_id, user_id)` hashes as
//! one value); the others read the first column. Every strategy's mapping is pinned by golden
//! tests (`tests/golden.rs`) and never changes between versions.

mod buckets;
mod hash;
mod id_bits;
mod jump;
mod lookup;
mod modulo;
mod multi_column;
mod range;
mod time_range;

pub use buckets::Buckets;
pub use hash::HashStrategy;
pub use id_bits::IdBits;
pub use jump::{JumpHash, jump_consistent_hash};
pub use lookup::{Lookup, LookupValue};
pub use modulo::Modulo;
pub use multi_column::MultiColumn;
pub use range::{RangeBound, RangeEntry, RangeStrategy};
pub use time_range::TimeRange;

use super::{ShardId, ShardValues};
use crate::key::PartValue;
use std::fmt::Debug;
use std::ops::Bound;

/// Maps a shard key to the shard that holds it, and a range of keys to the shards that may
/// hold some of it. Implement it for a strategy of your own; the built-in ones are listed in
/// [the module documentation](self).
///
/// A strategy must be deterministic: the same key gives the same shard in every process.
///
/// ```
/// use grant::key::PartValue;
/// use grant::shard::{RouteError, ShardStrategy, ShardValues};
/// use grant::ShardId;
///
/// /// Even ids to shard 0, odd ids to shard 1.
/// #[derive(Debug)]
/// struct EvenOdd;
/// impl ShardStrategy for EvenOdd {
///     fn name(&self) -> &'static str { "even-odd" }
///     fn shard_for(&self, key: &ShardValues<'_>) -> Result<ShardId, RouteError> {
///         match key.first().as_i64() {
///             Some(v) => Ok(ShardId((v.rem_euclid(2)) as u32)),
///             None => Err(RouteError::new(self.name(), key, "needs an integer")),
///         }
///     }
///     fn shards(&self) -> Vec<ShardId> { vec![ShardId(0), ShardId(1)] }
/// }
/// assert_eq!(EvenOdd.shard_for(&ShardValues::new([PartValue::Int(7)])), Ok(ShardId(1)));
/// ```
pub trait ShardStrategy: Debug + Send + Sync + 'static {
    /// A short name for errors and logs (`"hash"`, `"range"`, ..).
    fn name(&self) -> &'static str;

    /// The shard of this key, or why the key can't be routed.
    fn shard_for(&self, key: &ShardValues<'_>) -> Result<ShardId, RouteError>;

    /// Every shard this strategy can return.
    fn shards(&self) -> Vec<ShardId>;

    /// The highest shard this strategy can return (checked against the topology at
    /// start-up); `None` when it returns none.
    fn max_shard(&self) -> Option<ShardId> {
        self.shards().into_iter().max()
    }

    /// The shards that may hold keys whose first column lies in `range`. The default answer,
    /// every shard, is always correct; range-aware strategies narrow it.
    fn shards_for_range(&self, range: &KeyRange<'_>) -> Result<Vec<ShardId>, RouteError> {
        let _ = range;
        Ok(self.shards())
    }
}

/// A range of values of the first shard-key column.
///
/// ```
/// use std::ops::Bound;
/// use grant::key::PartValue;
/// use grant::shard::KeyRange;
/// let r = KeyRange::new(Bound::Included(PartValue::Int(10)), Bound::Excluded(PartValue::Int(20)));
/// assert!(r.contains(&PartValue::Int(15)));
/// assert!(!r.contains(&PartValue::Int(20)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyRange<'a> {
    /// Lower bound.
    pub start: Bound<PartValue<'a>>,
    /// Upper bound.
    pub end: Bound<PartValue<'a>>,
}

impl<'a> KeyRange<'a> {
    /// The range between these bounds.
    pub fn new(start: Bound<PartValue<'a>>, end: Bound<PartValue<'a>>) -> Self {
        KeyRange { start, end }
    }

    /// Whether `v` lies in the range (values of another kind never do).
    pub fn contains(&self, v: &PartValue<'_>) -> bool {
        let above = match &self.start {
            Bound::Included(s) => same_kind(s, v) && v >= s,
            Bound::Excluded(s) => same_kind(s, v) && v > s,
            Bound::Unbounded => true,
        };
        let below = match &self.end {
            Bound::Included(e) => same_kind(e, v) && v <= e,
            Bound::Excluded(e) => same_kind(e, v) && v < e,
            Bound::Unbounded => true,
        };
        above && below
    }
}

fn same_kind(a: &PartValue<'_>, b: &PartValue<'_>) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// A key that a strategy could not route, and why.
///
/// ```
/// use grant::key::PartValue;
/// use grant::shard::{RouteError, ShardValues};
/// let e = RouteError::new("modulo", &ShardValues::new([PartValue::Text("x")]), "needs an integer");
/// assert_eq!(e.to_string(), "strategy `modulo` cannot route key \"x\": needs an integer");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("strategy `{strategy}` cannot route key {key}: {reason}")]
pub struct RouteError {
    /// The strategy's name.
    pub strategy: &'static str,
    /// The shard key, printed.
    pub key: String,
    /// Why.
    pub reason: String,
}

impl RouteError {
    /// The error for `key`.
    pub fn new(strategy: &'static str, key: &ShardValues<'_>, reason: impl Into<String>) -> Self {
        RouteError {
            strategy,
            key: key.to_string(),
            reason: reason.into(),
        }
    }
}

/// `0..n` as shard ids.
pub(crate) fn shard_ids(n: u32) -> Vec<ShardId> {
    (0..n).map(ShardId).collect()
}

/// Most shards a counting strategy (modulo, hash, jump, buckets) may have.
pub const MAX_SHARDS: u32 = 1 << 20;

/// `n` if it is a valid shard count for `strategy`.
pub(crate) fn shard_count(strategy: &'static str, n: u32) -> Result<u32, StrategyError> {
    if n == 0 || n > MAX_SHARDS {
        return Err(StrategyError::new(
            strategy,
            format!("needs 1 to {MAX_SHARDS} shards, not {n}"),
        ));
    }
    Ok(n)
}

/// The configuration of a strategy was invalid.
///
/// ```
/// let err = grant::shard::RangeStrategy::new(vec![], None).expect_err("no ranges");
/// assert!(err.to_string().contains("at least one range"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid `{strategy}` strategy: {reason}")]
pub struct StrategyError {
    /// The strategy's name.
    pub strategy: &'static str,
    /// What was wrong.
    pub reason: String,
}

impl StrategyError {
    pub(crate) fn new(strategy: &'static str, reason: impl Into<String>) -> Self {
        StrategyError {
            strategy,
            reason: reason.into(),
        }
    }
}
