//! Shard identifiers.

use std::fmt;

/// A shard: its position in the topology's list of shards (0, 1, 2, ..). Strategies return
/// it; [`crate::Sharded`] knows each shard's name.
///
/// ```
/// use grant::ShardId;
/// let s = ShardId(2);
/// assert_eq!(s.index(), 2);
/// assert_eq!(s.to_string(), "shard #2");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShardId(pub u32);

impl ShardId {
    /// The position in the topology's list of shards.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for ShardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "shard #{}", self.0)
    }
}

impl From<u32> for ShardId {
    fn from(i: u32) -> Self {
        ShardId(i)
    }
}
