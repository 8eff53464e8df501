//! Jump consistent hash (Lamping and Veach, 2014).

use super::{RouteError, ShardStrategy, StrategyError, shard_count, shard_ids};
use crate::ShardId;
use crate::shard::ShardValues;

/// Jump consistent hash of the stable hash: growing from N to N+1 shards moves only 1/(N+1)
/// of the keys, all of them to the new shard. Reads every shard-key column.
///
/// ```
/// use grant::key::PartValue;
/// use grant::shard::{JumpHash, ShardStrategy, ShardValues};
/// let key = ShardValues::new([PartValue::Int(12345)]);
/// let before = JumpHash::new(4)?.shard_for(&key)?;
/// let after = JumpHash::new(5)?.shard_for(&key)?;
/// assert!(after == before || after.index() == 4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpHash {
    shards: u32,
}

impl JumpHash {
    /// Over `shards` shards (1 to [`super::MAX_SHARDS`]).
    pub fn new(shards: u32) -> Result<Self, StrategyError> {
        Ok(JumpHash {
            shards: shard_count("jump", shards)?,
        })
    }
}

/// The jump consistent hash of `key` over `buckets` buckets (the published algorithm).
///
/// ```
/// assert_eq!(grant::shard::jump_consistent_hash(0, 1), 0);
/// assert!(grant::shard::jump_consistent_hash(u64::MAX, 10) < 10);
/// ```
pub fn jump_consistent_hash(mut key: u64, buckets: u32) -> u32 {
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    while j < i64::from(buckets) {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b.wrapping_add(1) as f64)
            * ((1u64 << 31) as f64 / ((key >> 33).wrapping_add(1) as f64))) as i64;
    }
    b.max(0) as u32
}

impl ShardStrategy for JumpHash {
    fn name(&self) -> &'static str {
        "jump"
    }

    fn shard_for(&self, key: &ShardValues<'_>) -> Result<ShardId, RouteError> {
        Ok(ShardId(jump_consistent_hash(
            key.stable_hash(),
            self.shards,
        )))
    }

    fn shards(&self) -> Vec<ShardId> {
        shard_ids(self.shards)
    }

    fn max_shard(&self) -> Option<ShardId> {
        Some(ShardId(self.shards - 1))
    }
}
