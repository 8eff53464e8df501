//! Modulo: an integer shard key mod the number of shards.

use super::{KeyRange, RouteError, ShardStrategy, StrategyError, shard_count, shard_ids};
use crate::ShardId;
use crate::key::PartValue;
use crate::shard::ShardValues;
use std::ops::Bound;

/// `key mod N` for a one-column integer shard key (negative keys use the Euclidean
/// remainder, so they land on 0..N too). Simple and predictable; adding a shard moves most
/// keys. Text and other keys are refused: use [`super::HashStrategy`] for them.
///
/// ```
/// use grant::key::PartValue;
/// use grant::shard::{Modulo, ShardStrategy, ShardValues};
/// use grant::ShardId;
/// let m = Modulo::new(4)?;
/// assert_eq!(m.shard_for(&ShardValues::new([PartValue::Int(10)])), Ok(ShardId(2)));
/// assert_eq!(m.shard_for(&ShardValues::new([PartValue::Int(-1)])), Ok(ShardId(3)));
/// # Ok::<(), grant::shard::StrategyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modulo {
    shards: u32,
}

impl Modulo {
    /// Over `shards` shards (at least one).
    pub fn new(shards: u32) -> Result<Self, StrategyError> {
        Ok(Modulo {
            shards: shard_count("modulo", shards)?,
        })
    }
}

impl ShardStrategy for Modulo {
    fn name(&self) -> &'static str {
        "modulo"
    }

    fn shard_for(&self, key: &ShardValues<'_>) -> Result<ShardId, RouteError> {
        if key.parts().len() != 1 {
            return Err(RouteError::new(
                self.name(),
                key,
                "modulo routes a one-column integer shard key",
            ));
        }
        let shard = match key.first() {
            PartValue::Int(v) => v.rem_euclid(i64::from(self.shards)) as u32,
            PartValue::UInt(v) => (v % u64::from(self.shards)) as u32,
            other => {
                return Err(RouteError::new(
                    self.name(),
                    key,
                    format!(
                        "modulo routes integers, not {} (use the hash strategy)",
                        other.kind()
                    ),
                ));
            }
        };
        Ok(ShardId(shard))
    }

    fn shards(&self) -> Vec<ShardId> {
        shard_ids(self.shards)
    }

    fn max_shard(&self) -> Option<ShardId> {
        Some(ShardId(self.shards - 1))
    }

    fn shards_for_range(&self, range: &KeyRange<'_>) -> Result<Vec<ShardId>, RouteError> {
        let start = match range.start {
            Bound::Included(PartValue::Int(s)) => Some(s),
            Bound::Excluded(PartValue::Int(s)) => s.checked_add(1),
            _ => None,
        };
        let end = match range.end {
            Bound::Included(PartValue::Int(e)) => Some(e),
            Bound::Excluded(PartValue::Int(e)) => e.checked_sub(1),
            _ => None,
        };
        match (start, end) {
            (Some(s), Some(e)) if e < s => Ok(Vec::new()),
            (Some(s), Some(e)) if (e - s) < i64::from(self.shards) => {
                let mut shards: Vec<ShardId> = (s..=e)
                    .map(|v| ShardId(v.rem_euclid(i64::from(self.shards)) as u32))
                    .collect();
                shards.sort();
                shards.dedup();
                Ok(shards)
            }
            _ => Ok(self.shards()),
        }
    }
}
