//! Time range: dates and timestamps by explicit bounds or by calendar month.

use super::range::{RangeBound, RangeEntry, RangeStrategy};
use super::{KeyRange, RouteError, ShardStrategy, StrategyError};
use crate::ShardId;
use crate::key::PartValue;
use crate::shard::ShardValues;
use chrono::{NaiveDate, NaiveDateTime};
use std::ops::Bound;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Date or timestamp shard keys by time: explicit `[start, end)` bounds, or whole calendar
/// months (`2026-01` on one shard, `2026-02` on another). Validated like [`super::RangeStrategy`]
/// (no overlap); a time outside every range goes to `default` or is refused. Date keys are
/// placed at midnight UTC.
///
/// ```
/// use chrono::NaiveDate;
/// use grant::key::PartValue;
/// use grant::shard::{ShardStrategy, ShardValues, TimeRange};
/// use grant::ShardId;
/// let t = TimeRange::by_month(vec![((2026, 1), ShardId(0)), ((2026, 2), ShardId(1))], None)?;
/// let day = |d| PartValue::Date((NaiveDate::from_ymd_opt(2026, 2, d).unwrap() - NaiveDate::default()).num_days());
/// assert_eq!(t.shard_for(&ShardValues::new([day(14)])), Ok(ShardId(1)));
/// # Ok::<(), grant::shard::StrategyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeRange {
    range: RangeStrategy,
}

impl TimeRange {
    /// Explicit ranges `[start, end)` (open where `None`), each on a shard.
    pub fn new(
        ranges: Vec<(Option<NaiveDateTime>, Option<NaiveDateTime>, ShardId)>,
        default: Option<ShardId>,
    ) -> Result<Self, StrategyError> {
        let entries = ranges
            .into_iter()
            .map(|(s, e, shard)| {
                RangeEntry::new(
                    s.map(|t| RangeBound::Int(t.and_utc().timestamp_micros())),
                    e.map(|t| RangeBound::Int(t.and_utc().timestamp_micros())),
                    shard,
                )
            })
            .collect();
        Ok(TimeRange {
            range: RangeStrategy::named("time_range", entries, default)?,
        })
    }

    /// Whole calendar months `(year, month)`, each on a shard.
    pub fn by_month(
        months: Vec<((i32, u32), ShardId)>,
        default: Option<ShardId>,
    ) -> Result<Self, StrategyError> {
        let mut ranges = Vec::with_capacity(months.len());
        for ((year, month), shard) in months {
            let start = month_start(year, month)?;
            let (ny, nm) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
            let end = month_start(ny, nm)?;
            ranges.push((Some(start), Some(end), shard));
        }
        TimeRange::new(ranges, default)
    }

    fn micros(value: &PartValue<'_>) -> Option<i64> {
        match *value {
            PartValue::Timestamp(us) => Some(us),
            PartValue::Date(days) => days.checked_mul(MICROS_PER_DAY),
            _ => None,
        }
    }
}

fn month_start(year: i32, month: u32) -> Result<NaiveDateTime, StrategyError> {
    NaiveDate::from_ymd_opt(year, month, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or_else(|| {
            StrategyError::new("time_range", format!("{year}-{month:02} is not a month"))
        })
}

impl ShardStrategy for TimeRange {
    fn name(&self) -> &'static str {
        "time_range"
    }

    fn shard_for(&self, key: &ShardValues<'_>) -> Result<ShardId, RouteError> {
        let value = key.first();
        let micros = TimeRange::micros(&value).ok_or_else(|| {
            RouteError::new(
                self.name(),
                key,
                format!("routes dates and timestamps, not {}", value.kind()),
            )
        })?;
        self.range.route_value(key, &PartValue::Int(micros))
    }

    fn shards(&self) -> Vec<ShardId> {
        self.range.shards()
    }

    fn shards_for_range(&self, range: &KeyRange<'_>) -> Result<Vec<ShardId>, RouteError> {
        let convert = |b: Bound<PartValue<'_>>| -> Bound<PartValue<'static>> {
            match b {
                Bound::Included(v) => TimeRange::micros(&v)
                    .map_or(Bound::Unbounded, |m| Bound::Included(PartValue::Int(m))),
                Bound::Excluded(v) => TimeRange::micros(&v)
                    .map_or(Bound::Unbounded, |m| Bound::Excluded(PartValue::Int(m))),
                Bound::Unbounded => Bound::Unbounded,
            }
        };
        self.range
            .shards_for_range(&KeyRange::new(convert(range.start), convert(range.end)))
    }
}
