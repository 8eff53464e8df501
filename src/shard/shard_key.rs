//! The shard key of a row or statement, as values, and its stable hash.

use crate::key::PartValue;
use std::fmt;

/// Most columns a shard key may have.
pub const MAX_SHARD_KEY_PARTS: usize = 4;

/// The values of a shard key (one per shard-key column, in order), borrowed from a key. Built
/// on the stack: routing a key allocates nothing.
///
/// ```
/// use grant::key::PartValue;
/// use grant::shard::ShardValues;
/// let v = ShardValues::new([PartValue::Int(42)]);
/// assert_eq!(v.parts(), &[PartValue::Int(42)]);
/// // The stable hash never changes (pinned by golden tests).
/// assert_eq!(v.stable_hash(), ShardValues::new([PartValue::Int(42)]).stable_hash());
/// ```
#[derive(Clone, Copy)]
pub struct ShardValues<'a> {
    parts: [PartValue<'a>; MAX_SHARD_KEY_PARTS],
    len: usize,
}

impl<'a> ShardValues<'a> {
    /// The shard key with these parts. A shard key has 1 to 4 parts
    /// (checked when compiling: `grant::table!` refuses longer shard keys).
    pub fn new<const N: usize>(parts: [PartValue<'a>; N]) -> Self {
        const {
            assert!(
                N >= 1 && N <= MAX_SHARD_KEY_PARTS,
                "a shard key has 1 to 4 columns"
            )
        };
        let mut all = [PartValue::Int(0); MAX_SHARD_KEY_PARTS];
        all[..N].copy_from_slice(&parts);
        ShardValues { parts: all, len: N }
    }

    /// The parts, in shard-key column order.
    pub fn parts(&self) -> &[PartValue<'a>] {
        &self.parts[..self.len]
    }

    /// The first part (every shard key has one).
    pub fn first(&self) -> PartValue<'a> {
        self.parts[0]
    }

    /// The same key without its first part (empty when it had one part).
    pub fn rest(&self) -> ShardValues<'a> {
        let mut parts = [PartValue::Int(0); MAX_SHARD_KEY_PARTS];
        let len = self.len.saturating_sub(1);
        parts[..len].copy_from_slice(&self.parts[1..self.len]);
        ShardValues { parts, len }
    }

    /// The stable hash of the shard key: XXH3-64 (seed 0) of the framed canonical bytes of
    /// its parts, each framed as its length (`u32`, little-endian) followed by its canonical
    /// bytes ([`PartValue`]). The same key hashes the same in every process, version and
    /// platform; golden tests pin it.
    pub fn stable_hash(&self) -> u64 {
        let mut stack = [0u8; 256];
        let mut len = 0;
        let mut fits = true;
        for part in self.parts() {
            let written = part.with_canonical(|bytes| {
                let end = len + 4 + bytes.len();
                if end > stack.len() {
                    return None;
                }
                let frame = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
                stack[len..len + 4].copy_from_slice(&frame.to_le_bytes());
                stack[len + 4..end].copy_from_slice(bytes);
                Some(end)
            });
            match written {
                Some(end) => len = end,
                None => {
                    fits = false;
                    break;
                }
            }
        }
        if fits {
            return xxhash_rust::xxh3::xxh3_64(&stack[..len]);
        }
        let mut heap = Vec::new();
        for part in self.parts() {
            part.with_canonical(|bytes| {
                let frame = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
                heap.extend_from_slice(&frame.to_le_bytes());
                heap.extend_from_slice(bytes);
            });
        }
        xxhash_rust::xxh3::xxh3_64(&heap)
    }
}

impl fmt::Debug for ShardValues<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.parts()).finish()
    }
}

impl fmt::Display for ShardValues<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, part) in self.parts().iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{part}")?;
        }
        Ok(())
    }
}

impl PartialEq for ShardValues<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_keys_hash_like_short_ones_would() {
        let long = "x".repeat(1000);
        let v = ShardValues::new([PartValue::Text(&long), PartValue::Int(1)]);
        let mut expected = Vec::new();
        expected.extend_from_slice(&1000u32.to_le_bytes());
        expected.extend_from_slice(long.as_bytes());
        expected.extend_from_slice(&8u32.to_le_bytes());
        expected.extend_from_slice(&1i64.to_le_bytes());
        assert_eq!(v.stable_hash(), xxhash_rust::xxh3::xxh3_64(&expected));
    }

    #[test]
    fn rest_drops_the_first_part() {
        let v = ShardValues::new([PartValue::Int(1), PartValue::Text("a")]);
        assert_eq!(v.rest().parts(), &[PartValue::Text("a")]);
        assert_eq!(v.rest().rest().parts(), &[]);
    }
}
