//! Multi-column keys, combined: the first column picks a group of shards, the rest of the key
//! is hashed within the group.

use super::{RouteError, ShardStrategy, StrategyError, jump_consistent_hash};
use crate::ShardId;
use crate::shard::ShardValues;

/// For shard keys like `(tenant_id, user_id)`: a strategy on the first column chooses a
/// group (its "shard ids" are group numbers), then the jump hash of the remaining columns
/// chooses a shard inside the group. A big tenant can own a group of several shards while
/// small tenants share one. (To hash all columns together, use [`super::HashStrategy`] or
/// [`super::JumpHash`], which read every column.)
///
/// ```
/// use grant::key::PartValue;
/// use grant::shard::{Lookup, MultiColumn, ShardStrategy, ShardValues};
/// use grant::ShardId;
/// // tenant "big" -> group 0 (shards 0, 1, 2); everyone else -> group 1 (shard 3).
/// let groups = Lookup::new(vec![("big".into(), ShardId(0))], Some(ShardId(1)))?;
/// let m = MultiColumn::new(Box::new(groups), vec![vec![ShardId(0), ShardId(1), ShardId(2)], vec![ShardId(3)]])?;
/// let small = m.shard_for(&ShardValues::new([PartValue::Text("acme"), PartValue::Int(7)]))?;
/// assert_eq!(small, ShardId(3));
/// let big = m.shard_for(&ShardValues::new([PartValue::Text("big"), PartValue::Int(7)]))?;
/// assert!(big.index() < 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct MultiColumn {
    first: Box<dyn ShardStrategy>,
    groups: Vec<Vec<ShardId>>,
}

impl MultiColumn {
    /// `first` maps the first column to a group number; `groups[g]` lists group `g`'s shards.
    pub fn new(
        first: Box<dyn ShardStrategy>,
        groups: Vec<Vec<ShardId>>,
    ) -> Result<Self, StrategyError> {
        if groups.is_empty() || groups.iter().any(Vec::is_empty) {
            return Err(StrategyError::new(
                "multi_column",
                "every group needs at least one shard",
            ));
        }
        if let Some(g) = first
            .shards()
            .into_iter()
            .find(|g| g.index() >= groups.len())
        {
            return Err(StrategyError::new(
                "multi_column",
                format!(
                    "the first column's strategy can choose group {}, but there are {} groups",
                    g.0,
                    groups.len()
                ),
            ));
        }
        Ok(MultiColumn { first, groups })
    }
}

impl ShardStrategy for MultiColumn {
    fn name(&self) -> &'static str {
        "multi_column"
    }

    fn shard_for(&self, key: &ShardValues<'_>) -> Result<ShardId, RouteError> {
        let rest = key.rest();
        if rest.parts().is_empty() {
            return Err(RouteError::new(
                self.name(),
                key,
                "needs a shard key of two or more columns",
            ));
        }
        let group = self.first.shard_for(&ShardValues::new([key.first()]))?;
        let shards = self
            .groups
            .get(group.index())
            .ok_or_else(|| RouteError::new(self.name(), key, format!("no group {}", group.0)))?;
        let within = jump_consistent_hash(rest.stable_hash(), shards.len() as u32);
        shards
            .get(within as usize)
            .copied()
            .ok_or_else(|| RouteError::new(self.name(), key, "empty group"))
    }

    fn shards(&self) -> Vec<ShardId> {
        let mut shards: Vec<ShardId> = self.groups.iter().flatten().copied().collect();
        shards.sort();
        shards.dedup();
        shards
    }
}
