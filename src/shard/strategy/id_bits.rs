//! Routing by an id's own shard bits ([`crate::id`]): no hash, no lookup.

use super::{Buckets, RouteError, ShardStrategy, StrategyError, shard_count, shard_ids};
use crate::ShardId;
use crate::id::IdLayout;
use crate::key::PartValue;
use crate::shard::ShardValues;

/// Routes a one-column id issued by an [`crate::id::IdGenerator`] by the shard bits it
/// carries: a row created with an id for shard `s` lives on shard `s`. With
/// [`IdBits::buckets`] the bits name a bucket instead, and a [`Buckets`] table places the
/// bucket, so that buckets can move between shards while ids keep their bits.
///
/// ```
/// use grant::id::{IdGenerator, IdLayout};
/// use grant::key::PartValue;
/// use grant::shard::{Buckets, IdBits, ShardStrategy, ShardValues};
/// use grant::ShardId;
/// let layout = IdLayout::default();
/// let ids = IdGenerator::fixed(layout, 0)?;
/// let id = ids.try_next_id(2)?;
/// let by_shard = IdBits::shards(layout, 4)?;
/// assert_eq!(by_shard.shard_for(&ShardValues::new([PartValue::Int(id)])), Ok(ShardId(2)));
/// // 64 buckets on 4 shards; bucket 2 moved to shard 3.
/// let buckets = Buckets::even(64, 4)?.moved(2, ShardId(3))?;
/// let by_bucket = IdBits::buckets(layout, buckets)?;
/// assert_eq!(by_bucket.shard_for(&ShardValues::new([PartValue::Int(id)])), Ok(ShardId(3)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdBits {
    layout: IdLayout,
    place: Place,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    /// The bits are the shard number (below this count).
    Shards(u32),
    /// The bits are a bucket of this table.
    Buckets(Buckets),
}

impl IdBits {
    /// The shard bits are the shard number, on `shards` shards (at most the layout's
    /// `max_shard() + 1`).
    pub fn shards(layout: IdLayout, shards: u32) -> Result<Self, StrategyError> {
        let shards = shard_count("id_bits", shards)?;
        if u64::from(shards) > layout.max_shard() + 1 {
            return Err(StrategyError::new(
                "id_bits",
                format!(
                    "{shards} shards do not fit the id layout's shard bits (at most {})",
                    layout.max_shard() + 1
                ),
            ));
        }
        Ok(IdBits {
            layout,
            place: Place::Shards(shards),
        })
    }

    /// The shard bits name a bucket of `buckets`, which must have one bucket for every
    /// value the bits can take.
    pub fn buckets(layout: IdLayout, buckets: Buckets) -> Result<Self, StrategyError> {
        if buckets.bucket_count() as u64 != layout.max_shard() + 1 {
            return Err(StrategyError::new(
                "id_bits",
                format!(
                    "the id layout's shard bits name {} buckets, the table has {}",
                    layout.max_shard() + 1,
                    buckets.bucket_count()
                ),
            ));
        }
        Ok(IdBits {
            layout,
            place: Place::Buckets(buckets),
        })
    }
}

impl ShardStrategy for IdBits {
    fn name(&self) -> &'static str {
        "id_bits"
    }

    fn shard_for(&self, key: &ShardValues<'_>) -> Result<ShardId, RouteError> {
        let id = match (key.parts().len(), key.first()) {
            (1, PartValue::Int(v)) if v >= 0 => v,
            (1, PartValue::UInt(v)) if i64::try_from(v).is_ok() => v as i64,
            _ => {
                return Err(RouteError::new(
                    self.name(),
                    key,
                    "id_bits routes a one-column id issued by grant::id (a non-negative integer)",
                ));
            }
        };
        let bits = self.layout.shard_of(id);
        match &self.place {
            Place::Shards(n) if bits < *n => Ok(ShardId(bits)),
            Place::Shards(n) => Err(RouteError::new(
                self.name(),
                key,
                format!("the id carries shard {bits}, and there are {n} shards"),
            )),
            Place::Buckets(buckets) => buckets.bucket_shard(bits).ok_or_else(|| {
                RouteError::new(self.name(), key, format!("bucket {bits} has no shard"))
            }),
        }
    }

    fn shards(&self) -> Vec<ShardId> {
        match &self.place {
            Place::Shards(n) => shard_ids(*n),
            Place::Buckets(buckets) => buckets.shards(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::IdBits;
    use crate::ShardId;
    use crate::id::IdLayout;
    use crate::key::PartValue;
    use crate::shard::{Buckets, ShardStrategy, ShardValues};

    /// Golden vectors: an id's shard never changes.
    #[test]
    fn ids_route_by_their_bits() {
        let s = IdBits::shards(IdLayout::default(), 8).unwrap();
        let route = |v: i64| s.shard_for(&ShardValues::new([PartValue::Int(v)]));
        assert_eq!(route(1_035_630_616_248_263), Ok(ShardId(7)));
        assert_eq!(route(8_388_608_000), Ok(ShardId(0)));
        assert_eq!(route(8_388_608_005), Ok(ShardId(5)));
        assert!(route(8_388_608_009).is_err(), "shard 9 of 8");
        assert!(route(-1).is_err());
        assert!(IdBits::shards(IdLayout::default(), 65).is_err());
        assert!(IdBits::buckets(IdLayout::default(), Buckets::even(32, 4).unwrap()).is_err());
    }
}
