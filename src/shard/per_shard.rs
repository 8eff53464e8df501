//! Results that come back from every shard.

use super::ShardId;
use std::sync::Arc;

/// One shard's result.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardResult<T> {
    /// The shard.
    pub shard: ShardId,
    /// Its name in the topology.
    pub name: Arc<str>,
    /// What it returned.
    pub value: T,
}

/// The result of a statement run on several shards (`on_all_shards()`, or the rows each
/// shard received from a routed batch insert), in topology order.
///
/// ```
/// use grant::shard::{PerShard, ShardResult};
/// use grant::ShardId;
/// let counts = PerShard::new(vec![
///     ShardResult { shard: ShardId(0), name: "s0".into(), value: 3usize },
///     ShardResult { shard: ShardId(1), name: "s1".into(), value: 4usize },
/// ]);
/// assert_eq!(counts.total(), 7);
/// assert_eq!(counts.get(ShardId(1)), Some(&4));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PerShard<T> {
    results: Vec<ShardResult<T>>,
}

impl<T> PerShard<T> {
    /// From results in topology order.
    pub fn new(results: Vec<ShardResult<T>>) -> Self {
        PerShard { results }
    }

    /// The results, in topology order.
    pub fn iter(&self) -> impl Iterator<Item = &ShardResult<T>> {
        self.results.iter()
    }

    /// The result of one shard.
    pub fn get(&self, shard: ShardId) -> Option<&T> {
        self.results
            .iter()
            .find(|r| r.shard == shard)
            .map(|r| &r.value)
    }

    /// The result of the shard with this name.
    pub fn by_name(&self, name: &str) -> Option<&T> {
        self.results
            .iter()
            .find(|r| r.name.as_ref() == name)
            .map(|r| &r.value)
    }

    /// How many shards answered.
    pub fn len(&self) -> usize {
        self.results.len()
    }

    /// Whether no shard answered.
    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }

    /// Each shard's value, transformed.
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> PerShard<U> {
        PerShard {
            results: self
                .results
                .into_iter()
                .map(|r| ShardResult {
                    shard: r.shard,
                    name: r.name,
                    value: f(r.value),
                })
                .collect(),
        }
    }

    /// The values, in topology order.
    pub fn into_values(self) -> Vec<T> {
        self.results.into_iter().map(|r| r.value).collect()
    }
}

impl<T> IntoIterator for PerShard<T> {
    type Item = ShardResult<T>;
    type IntoIter = std::vec::IntoIter<ShardResult<T>>;
    fn into_iter(self) -> Self::IntoIter {
        self.results.into_iter()
    }
}

impl<U> PerShard<Vec<U>> {
    /// Every shard's rows, one shard after the other (no merging; see scatter queries for
    /// ordered, limited and aggregated results).
    pub fn concat(self) -> Vec<U> {
        self.results.into_iter().flat_map(|r| r.value).collect()
    }
}

impl PerShard<usize> {
    /// The sum over shards (for example, rows inserted).
    pub fn total(&self) -> usize {
        self.results.iter().map(|r| r.value).sum()
    }
}

impl PerShard<i64> {
    /// The sum over shards (for example, of per-shard counts).
    pub fn total(&self) -> i64 {
        self.results.iter().map(|r| r.value).sum()
    }
}
