//! Stable hash: the fixed hash of the shard key mod the number of shards.

use super::{RouteError, ShardStrategy, StrategyError, shard_count, shard_ids};
use crate::ShardId;
use crate::shard::ShardValues;

/// `stable_hash(key) mod N`, where the stable hash is XXH3-64 of the key's canonical bytes
/// ([`ShardValues::stable_hash`]): never `std`'s per-process random hasher, so a key maps to
/// the same shard in every process, version and platform. Reads every shard-key column, so
/// it also serves multi-column keys like `(tenant_id, user_id)`. Adding a shard moves most
/// keys; see [`super::JumpHash`] and [`super::Buckets`] for strategies that grow.
///
/// ```
/// use grant::key::PartValue;
/// use grant::shard::{HashStrategy, ShardStrategy, ShardValues};
/// let h = HashStrategy::new(4)?;
/// let shard = h.shard_for(&ShardValues::new([PartValue::Text("tenant-7"), PartValue::Int(12)]))?;
/// assert!(shard.index() < 4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashStrategy {
    shards: u32,
}

impl HashStrategy {
    /// Over `shards` shards (at least one).
    pub fn new(shards: u32) -> Result<Self, StrategyError> {
        Ok(HashStrategy {
            shards: shard_count("hash", shards)?,
        })
    }
}

impl ShardStrategy for HashStrategy {
    fn name(&self) -> &'static str {
        "hash"
    }

    fn shard_for(&self, key: &ShardValues<'_>) -> Result<ShardId, RouteError> {
        Ok(ShardId((key.stable_hash() % u64::from(self.shards)) as u32))
    }

    fn shards(&self) -> Vec<ShardId> {
        shard_ids(self.shards)
    }

    fn max_shard(&self) -> Option<ShardId> {
        Some(ShardId(self.shards - 1))
    }
}
