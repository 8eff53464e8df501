//! Virtual buckets: hash -> one of B fixed buckets -> the bucket's shard.

use super::{RouteError, ShardStrategy, StrategyError};
use crate::ShardId;
use crate::shard::ShardValues;

/// `bucket = stable_hash(key) mod B`, then a bucket-to-shard table. The number of buckets
/// never changes; adding a shard means moving some buckets to it (and their rows), which
/// [`Buckets::moved`] expresses. Reads every shard-key column.
///
/// ```
/// use grant::shard::{Buckets, ShardStrategy};
/// use grant::ShardId;
/// // 16 buckets over 4 shards, then bucket 3 moved to a fifth shard.
/// let b = Buckets::even(16, 4)?.moved(3, ShardId(4))?;
/// assert_eq!(b.bucket_shard(3), Some(ShardId(4)));
/// assert_eq!(b.bucket_shard(5), Some(ShardId(1)));
/// assert_eq!(b.shards().len(), 5);
/// # Ok::<(), grant::shard::StrategyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buckets {
    table: Vec<ShardId>,
}

impl Buckets {
    /// A bucket table given whole: bucket `i` lives on `table[i]`.
    pub fn new(table: Vec<ShardId>) -> Result<Self, StrategyError> {
        if table.is_empty() || table.len() > super::MAX_SHARDS as usize {
            return Err(StrategyError::new(
                "buckets",
                format!("needs 1 to {} buckets", super::MAX_SHARDS),
            ));
        }
        Ok(Buckets { table })
    }

    /// `buckets` buckets spread over `shards` shards: bucket `i` on shard `i mod shards`.
    pub fn even(buckets: u32, shards: u32) -> Result<Self, StrategyError> {
        if shards == 0 || buckets < shards || buckets > super::MAX_SHARDS {
            return Err(StrategyError::new(
                "buckets",
                format!(
                    "needs at least one shard and at least as many buckets as shards ({buckets} buckets, {shards} shards)"
                ),
            ));
        }
        Buckets::new((0..buckets).map(|b| ShardId(b % shards)).collect())
    }

    /// The same table with `bucket` moved to `shard`.
    pub fn moved(mut self, bucket: u32, shard: ShardId) -> Result<Self, StrategyError> {
        let len = self.table.len();
        let slot = self.table.get_mut(bucket as usize).ok_or_else(|| {
            StrategyError::new(
                "buckets",
                format!("bucket {bucket} does not exist (there are {len})"),
            )
        })?;
        *slot = shard;
        Ok(self)
    }

    /// The bucket of a key.
    pub fn bucket_for(&self, key: &ShardValues<'_>) -> u32 {
        (key.stable_hash() % self.table.len() as u64) as u32
    }

    /// The shard of a bucket.
    pub fn bucket_shard(&self, bucket: u32) -> Option<ShardId> {
        self.table.get(bucket as usize).copied()
    }

    /// The number of buckets.
    pub fn bucket_count(&self) -> usize {
        self.table.len()
    }
}

impl ShardStrategy for Buckets {
    fn name(&self) -> &'static str {
        "buckets"
    }

    fn shard_for(&self, key: &ShardValues<'_>) -> Result<ShardId, RouteError> {
        let bucket = self.bucket_for(key);
        self.bucket_shard(bucket).ok_or_else(|| {
            RouteError::new(self.name(), key, format!("bucket {bucket} has no shard"))
        })
    }

    fn shards(&self) -> Vec<ShardId> {
        let mut shards = self.table.clone();
        shards.sort();
        shards.dedup();
        shards
    }
}
