//! Range: integer or text ranges of the first shard-key column, each on one shard.

use super::{KeyRange, RouteError, ShardStrategy, StrategyError};
use crate::ShardId;
use crate::key::PartValue;
use crate::shard::ShardValues;
use std::cmp::Ordering;
use std::ops::Bound;

/// A bound of a range: an integer or a text (compared byte-wise, as UTF-8).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RangeBound {
    /// An integer bound.
    Int(i64),
    /// A text bound.
    Text(String),
}

impl RangeBound {
    fn kind(&self) -> &'static str {
        match self {
            RangeBound::Int(_) => "integer",
            RangeBound::Text(_) => "text",
        }
    }

    /// How `value` compares with this bound; `None` when it is of another kind.
    fn cmp_value(&self, value: &PartValue<'_>) -> Option<Ordering> {
        match (self, value) {
            (RangeBound::Int(b), v) => v.as_i64().map(|v| v.cmp(b)),
            (RangeBound::Text(b), PartValue::Text(v)) => Some((*v).cmp(b.as_str())),
            _ => None,
        }
    }
}

impl std::fmt::Display for RangeBound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RangeBound::Int(v) => write!(f, "{v}"),
            RangeBound::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// Keys from `start` (included) to `end` (excluded) live on `shard`; a missing bound is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeEntry {
    /// Lower bound, included; `None` for no lower bound.
    pub start: Option<RangeBound>,
    /// Upper bound, excluded; `None` for no upper bound.
    pub end: Option<RangeBound>,
    /// The shard.
    pub shard: ShardId,
}

impl RangeEntry {
    /// `[start, end)` on `shard`.
    pub fn new(start: Option<RangeBound>, end: Option<RangeBound>, shard: ShardId) -> Self {
        RangeEntry { start, end, shard }
    }

    fn contains(&self, value: &PartValue<'_>) -> Option<bool> {
        let above = match &self.start {
            Some(s) => s.cmp_value(value)? != Ordering::Less,
            None => true,
        };
        let below = match &self.end {
            Some(e) => e.cmp_value(value)? == Ordering::Less,
            None => true,
        };
        Some(above && below)
    }
}

/// Ranges of the first shard-key column, each on one shard, validated when built: the ranges
/// do not overlap and all have bounds of one kind. A key outside every range goes to the
/// `default` shard, or is refused with a [`RouteError`] when there is none.
///
/// ```
/// use grant::key::PartValue;
/// use grant::shard::{RangeStrategy, RangeBound::Int, RangeEntry, ShardStrategy, ShardValues};
/// use grant::ShardId;
/// let r = RangeStrategy::new(vec![
///     RangeEntry::new(None, Some(Int(1000)), ShardId(0)),
///     RangeEntry::new(Some(Int(1000)), Some(Int(5000)), ShardId(1)),
///     RangeEntry::new(Some(Int(5000)), None, ShardId(2)),
/// ], None)?;
/// assert_eq!(r.shard_for(&ShardValues::new([PartValue::Int(1000)])), Ok(ShardId(1)));
/// // Overlapping ranges are a configuration error.
/// assert!(RangeStrategy::new(vec![
///     RangeEntry::new(None, Some(Int(10)), ShardId(0)),
///     RangeEntry::new(Some(Int(5)), None, ShardId(1)),
/// ], None).is_err());
/// # Ok::<(), grant::shard::StrategyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeStrategy {
    entries: Vec<RangeEntry>,
    default: Option<ShardId>,
    name: &'static str,
}

impl RangeStrategy {
    /// The ranges (in any order), and the shard for keys outside all of them.
    pub fn new(entries: Vec<RangeEntry>, default: Option<ShardId>) -> Result<Self, StrategyError> {
        RangeStrategy::named("range", entries, default)
    }

    pub(crate) fn named(
        name: &'static str,
        mut entries: Vec<RangeEntry>,
        default: Option<ShardId>,
    ) -> Result<Self, StrategyError> {
        if entries.is_empty() {
            return Err(StrategyError::new(name, "needs at least one range"));
        }
        let kinds: Vec<&'static str> = entries
            .iter()
            .flat_map(|e| e.start.iter().chain(e.end.iter()))
            .map(RangeBound::kind)
            .collect();
        if kinds.windows(2).any(|w| w[0] != w[1]) {
            return Err(StrategyError::new(name, "mixes integer and text bounds"));
        }
        for e in &entries {
            if let (Some(s), Some(end)) = (&e.start, &e.end)
                && s >= end
            {
                return Err(StrategyError::new(
                    name,
                    format!("range [{s}, {end}) on {} is empty", e.shard),
                ));
            }
        }
        // Open starts first, then by start.
        entries.sort_by(|a, b| match (&a.start, &b.start) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => x.cmp(y),
        });
        for pair in entries.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            let overlaps = match (&a.end, &b.start) {
                (None, _) | (_, None) => true,
                (Some(end), Some(start)) => end > start,
            };
            if overlaps {
                return Err(StrategyError::new(
                    name,
                    format!(
                        "ranges overlap: [{}, {}) on {} and [{}, {}) on {}",
                        show(&a.start),
                        show(&a.end),
                        a.shard,
                        show(&b.start),
                        show(&b.end),
                        b.shard
                    ),
                ));
            }
        }
        Ok(RangeStrategy {
            entries,
            default,
            name,
        })
    }

    /// The ranges, sorted.
    pub fn entries(&self) -> &[RangeEntry] {
        &self.entries
    }

    pub(crate) fn route_value(
        &self,
        key: &ShardValues<'_>,
        value: &PartValue<'_>,
    ) -> Result<ShardId, RouteError> {
        let mut kind_mismatch = false;
        for e in &self.entries {
            match e.contains(value) {
                Some(true) => return Ok(e.shard),
                Some(false) => {}
                None => kind_mismatch = true,
            }
        }
        if kind_mismatch {
            let expected = self
                .entries
                .iter()
                .flat_map(|e| e.start.iter().chain(e.end.iter()))
                .next();
            return Err(RouteError::new(
                self.name,
                key,
                format!(
                    "the ranges have {} bounds, the key is {}",
                    expected.map(RangeBound::kind).unwrap_or("no"),
                    value.kind()
                ),
            ));
        }
        self.default.ok_or_else(|| {
            RouteError::new(
                self.name,
                key,
                "outside every range, and there is no default shard",
            )
        })
    }
}

fn show(b: &Option<RangeBound>) -> String {
    b.as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| "..".into())
}

impl ShardStrategy for RangeStrategy {
    fn name(&self) -> &'static str {
        self.name
    }

    fn shard_for(&self, key: &ShardValues<'_>) -> Result<ShardId, RouteError> {
        self.route_value(key, &key.first())
    }

    fn shards(&self) -> Vec<ShardId> {
        let mut shards: Vec<ShardId> = self
            .entries
            .iter()
            .map(|e| e.shard)
            .chain(self.default)
            .collect();
        shards.sort();
        shards.dedup();
        shards
    }

    fn shards_for_range(&self, range: &KeyRange<'_>) -> Result<Vec<ShardId>, RouteError> {
        let mut shards: Vec<ShardId> = self
            .entries
            .iter()
            .filter(|e| entry_meets(e, range))
            .map(|e| e.shard)
            .chain(self.default)
            .collect();
        shards.sort();
        shards.dedup();
        Ok(shards)
    }
}

/// Whether the entry's range and `range` may share a value (conservative: true when unsure).
/// `cmp_value` compares the value with the bound.
fn entry_meets(e: &RangeEntry, range: &KeyRange<'_>) -> bool {
    // The entry ends (excluded) at or before the range starts.
    let below_start = match (&e.end, &range.start) {
        (Some(end), Bound::Included(s) | Bound::Excluded(s)) => {
            matches!(end.cmp_value(s), Some(Ordering::Greater | Ordering::Equal))
        }
        _ => false,
    };
    // The entry starts after the range ends.
    let above_end = match (&e.start, &range.end) {
        (Some(start), Bound::Included(v)) => matches!(start.cmp_value(v), Some(Ordering::Less)),
        (Some(start), Bound::Excluded(v)) => {
            matches!(start.cmp_value(v), Some(Ordering::Less | Ordering::Equal))
        }
        _ => false,
    };
    !below_start && !above_end
}
