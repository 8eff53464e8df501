//! Strategies as TOML: `[strategy]` and `[tables.<name>.strategy]` tables, resolved against
//! the topology's shard names.

use super::ConfigError;
use crate::ShardId;
use crate::shard::{
    Buckets, HashStrategy, IdBits, JumpHash, Lookup, LookupValue, Modulo, MultiColumn, RangeBound,
    RangeEntry, RangeStrategy, ShardStrategy, TimeRange,
};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;
use std::collections::BTreeMap;

/// A strategy in TOML, by `kind`:
///
/// ```toml
/// [strategy]
/// kind = "hash"                  # or "modulo", "jump"; `shards` defaults to all shards
///
/// [tables.events.strategy]
/// kind = "buckets"
/// count = 1024                   # buckets spread evenly over the shards ...
/// shards = 4                     # ... the first 4 (default: all; see `grant reshard`)
/// moves = { "17" = "s4" }        # ... then bucket 17 moved to shard s4
///
/// [tables.orders.strategy]
/// kind = "range"
/// ranges = [{ end = 1000, shard = "s0" }, { start = 1000, shard = "s1" }]
/// default = "s0"                 # optional: keys outside every range
///
/// [tables.metrics.strategy]
/// kind = "time_range"
/// months = { "2026-01" = "s0", "2026-02" = "s1" }
/// ranges = [{ start = "2025-01-01", end = "2026-01-01", shard = "s2" }]
///
/// [tables.region_data.strategy]
/// kind = "lookup"
/// regions = { eu = ["FR", "DE"], us = ["US", "CA"] }   # shard = [values]
/// values = { JP = "eu" }                                # value = shard
/// default = "eu"
///
/// [tables.tenant_data.strategy]
/// kind = "multi_column"
/// groups = { big = ["s0", "s1"], small = ["s2"] }       # group = [shards]
/// first = { kind = "lookup", values = { acme = "big" }, default = "small" }  # names groups
///
/// [tables.posts.strategy]
/// kind = "id_bits"               # ids from grant::id: routed by their shard bits
/// shard_bits = 6                 # the id layout (these four default to 40, 12, 5, 6)
/// buckets = true                 # optional: the bits name 64 buckets spread over the shards
/// moves = { "17" = "s2" }        # ... then bucket 17 moved to shard s2
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StrategyConfig {
    /// [`Modulo`].
    Modulo {
        /// Number of shards (default: all).
        shards: Option<u32>,
    },
    /// [`HashStrategy`](crate::shard::HashStrategy).
    Hash {
        /// Number of shards (default: all).
        shards: Option<u32>,
    },
    /// [`JumpHash`].
    Jump {
        /// Number of shards (default: all).
        shards: Option<u32>,
    },
    /// [`Buckets`].
    Buckets {
        /// Number of buckets.
        count: u32,
        /// Spread the buckets over the first this many shards (default: all), before
        /// `moves`. Set it before appending shards, so that their arrival moves no bucket.
        shards: Option<u32>,
        /// Bucket number (as a string key) -> shard name.
        #[serde(default)]
        moves: BTreeMap<String, String>,
    },
    /// [`RangeStrategy`].
    Range {
        /// The ranges.
        ranges: Vec<RangeConfig>,
        /// Shard for keys outside every range.
        default: Option<String>,
    },
    /// [`TimeRange`].
    TimeRange {
        /// Explicit ranges of dates or timestamps.
        #[serde(default)]
        ranges: Vec<TimeRangeConfig>,
        /// `"YYYY-MM"` -> shard name.
        #[serde(default)]
        months: BTreeMap<String, String>,
        /// Shard for times outside every range.
        default: Option<String>,
    },
    /// [`Lookup`].
    Lookup {
        /// Value -> shard name.
        #[serde(default)]
        values: BTreeMap<String, String>,
        /// Shard name -> values.
        #[serde(default)]
        regions: BTreeMap<String, Vec<BoundValue>>,
        /// Shard for unlisted values.
        default: Option<String>,
    },
    /// [`IdBits`]: ids of a [`crate::id::IdLayout`] routed by their shard bits.
    IdBits {
        /// The layout's time bits (default 40).
        time_bits: Option<u8>,
        /// The layout's sequence bits (default 12).
        sequence_bits: Option<u8>,
        /// The layout's worker bits (default 5).
        worker_bits: Option<u8>,
        /// The layout's shard bits (default 6).
        shard_bits: Option<u8>,
        /// Whether the bits name buckets (spread evenly over the shards, then `moves`)
        /// rather than shards.
        #[serde(default)]
        buckets: bool,
        /// Bucket number (as a string key) -> shard name, with `buckets = true`.
        #[serde(default)]
        moves: BTreeMap<String, String>,
    },
    /// [`MultiColumn`].
    MultiColumn {
        /// Group name -> shard names.
        groups: BTreeMap<String, Vec<String>>,
        /// The first column's strategy; its shard names are group names.
        first: Box<StrategyConfig>,
    },
}

/// One range of a `range` strategy: `[start, end)` on `shard`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RangeConfig {
    /// Lower bound (included); absent = open.
    pub start: Option<BoundValue>,
    /// Upper bound (excluded); absent = open.
    pub end: Option<BoundValue>,
    /// The shard's name.
    pub shard: String,
}

/// One range of a `time_range` strategy: dates (`2026-01-01`) or timestamps
/// (`2026-01-01T12:00:00`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TimeRangeConfig {
    /// Lower bound (included); absent = open.
    pub start: Option<String>,
    /// Upper bound (excluded); absent = open.
    pub end: Option<String>,
    /// The shard's name.
    pub shard: String,
}

/// An integer or a text.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum BoundValue {
    /// An integer.
    Int(i64),
    /// A text.
    Text(String),
}

impl From<BoundValue> for RangeBound {
    fn from(v: BoundValue) -> Self {
        match v {
            BoundValue::Int(i) => RangeBound::Int(i),
            BoundValue::Text(s) => RangeBound::Text(s),
        }
    }
}

impl From<BoundValue> for LookupValue {
    fn from(v: BoundValue) -> Self {
        match v {
            BoundValue::Int(i) => LookupValue::Int(i),
            BoundValue::Text(s) => LookupValue::Text(s),
        }
    }
}

/// Names -> ids, for the shards (or, inside `multi_column`, the groups) a strategy may name.
pub(crate) struct Names<'a> {
    pub(crate) names: &'a [String],
    pub(crate) place: String,
}

impl Names<'_> {
    fn id(&self, name: &str, setting: &str) -> Result<ShardId, ConfigError> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| ShardId(i as u32))
            .ok_or_else(|| ConfigError::UnknownShardName {
                place: format!("{} `{setting}`", self.place),
                name: name.to_owned(),
                known: self.names.join(", "),
            })
    }

    pub(crate) fn count(&self, shards: Option<u32>) -> Result<u32, ConfigError> {
        let all = self.names.len() as u32;
        match shards {
            Some(n) if n > all => Err(ConfigError::BadValue {
                place: self.place.clone(),
                reason: format!("`shards = {n}` but there are only {all}"),
            }),
            Some(n) => Ok(n),
            None => Ok(all),
        }
    }
}

/// `count` buckets spread evenly over the shards, then `moves` (bucket number -> shard).
pub(crate) fn buckets(
    names: &Names<'_>,
    count: u32,
    shards: Option<u32>,
    moves: &BTreeMap<String, String>,
) -> Result<Buckets, ConfigError> {
    let mut buckets = Buckets::even(count, names.count(shards)?)?;
    for (bucket, shard) in moves {
        let number: u32 = bucket.parse().map_err(|_| ConfigError::BadValue {
            place: format!("{} `moves`", names.place),
            reason: format!("`{bucket}` is not a bucket number"),
        })?;
        buckets = buckets.moved(number, names.id(shard, "moves")?)?;
    }
    Ok(buckets)
}

impl StrategyConfig {
    /// The strategy's `kind` as written in TOML.
    ///
    /// ```
    /// let s: grant::config::StrategyConfig = toml::from_str("kind = 'jump'").unwrap();
    /// assert_eq!(s.kind(), "jump");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            StrategyConfig::Modulo { .. } => "modulo",
            StrategyConfig::Hash { .. } => "hash",
            StrategyConfig::Jump { .. } => "jump",
            StrategyConfig::Buckets { .. } => "buckets",
            StrategyConfig::Range { .. } => "range",
            StrategyConfig::TimeRange { .. } => "time_range",
            StrategyConfig::Lookup { .. } => "lookup",
            StrategyConfig::MultiColumn { .. } => "multi_column",
            StrategyConfig::IdBits { .. } => "id_bits",
        }
    }

    /// The strategy, with shard names resolved against `names`.
    pub(crate) fn build(&self, names: &Names<'_>) -> Result<Box<dyn ShardStrategy>, ConfigError> {
        let place = &names.place;
        Ok(match self {
            StrategyConfig::Modulo { shards } => Box::new(Modulo::new(names.count(*shards)?)?),
            StrategyConfig::Hash { shards } => Box::new(HashStrategy::new(names.count(*shards)?)?),
            StrategyConfig::Jump { shards } => Box::new(JumpHash::new(names.count(*shards)?)?),
            StrategyConfig::Buckets {
                count,
                shards,
                moves,
            } => Box::new(buckets(names, *count, *shards, moves)?),
            StrategyConfig::IdBits {
                time_bits,
                sequence_bits,
                worker_bits,
                shard_bits,
                buckets: by_bucket,
                moves,
            } => {
                let layout = crate::id::IdLayout::new(
                    time_bits.unwrap_or(40),
                    sequence_bits.unwrap_or(12),
                    worker_bits.unwrap_or(5),
                    shard_bits.unwrap_or(6),
                )
                .map_err(|e| ConfigError::BadValue {
                    place: place.clone(),
                    reason: e.to_string(),
                })?;
                if *by_bucket {
                    let count = u32::try_from(layout.max_shard() + 1).unwrap_or(u32::MAX);
                    Box::new(IdBits::buckets(
                        layout,
                        buckets(names, count, None, moves)?,
                    )?)
                } else if !moves.is_empty() {
                    return Err(ConfigError::BadValue {
                        place: format!("{place} `moves`"),
                        reason: "`moves` needs `buckets = true`".into(),
                    });
                } else {
                    Box::new(IdBits::shards(layout, names.count(None)?)?)
                }
            }
            StrategyConfig::Range { ranges, default } => {
                let entries = ranges
                    .iter()
                    .map(|r| {
                        Ok(RangeEntry::new(
                            r.start.clone().map(Into::into),
                            r.end.clone().map(Into::into),
                            names.id(&r.shard, "ranges")?,
                        ))
                    })
                    .collect::<Result<Vec<_>, ConfigError>>()?;
                let default = default
                    .as_deref()
                    .map(|d| names.id(d, "default"))
                    .transpose()?;
                Box::new(RangeStrategy::new(entries, default)?)
            }
            StrategyConfig::TimeRange {
                ranges,
                months,
                default,
            } => {
                let mut explicit = Vec::new();
                for r in ranges {
                    let start = r
                        .start
                        .as_deref()
                        .map(|t| parse_time(t, place))
                        .transpose()?;
                    let end = r.end.as_deref().map(|t| parse_time(t, place)).transpose()?;
                    explicit.push((start, end, names.id(&r.shard, "ranges")?));
                }
                for (month, shard) in months {
                    let (start, end) = parse_month(month, place)?;
                    explicit.push((Some(start), Some(end), names.id(shard, "months")?));
                }
                let default = default
                    .as_deref()
                    .map(|d| names.id(d, "default"))
                    .transpose()?;
                Box::new(TimeRange::new(explicit, default)?)
            }
            StrategyConfig::Lookup {
                values,
                regions,
                default,
            } => {
                let mut entries = Vec::new();
                for (value, shard) in values {
                    entries.push((LookupValue::Text(value.clone()), names.id(shard, "values")?));
                }
                for (shard, listed) in regions {
                    let id = names.id(shard, "regions")?;
                    entries.extend(listed.iter().cloned().map(|v| (v.into(), id)));
                }
                let default = default
                    .as_deref()
                    .map(|d| names.id(d, "default"))
                    .transpose()?;
                Box::new(Lookup::new(entries, default)?)
            }
            StrategyConfig::MultiColumn { groups, first } => {
                if matches!(**first, StrategyConfig::MultiColumn { .. }) {
                    return Err(ConfigError::BadValue {
                        place: format!("{place} `first`"),
                        reason: "a `multi_column` strategy routes the first column by a \
                                 single-column strategy; it can't nest another `multi_column`"
                            .into(),
                    });
                }
                let group_names: Vec<String> = groups.keys().cloned().collect();
                let group_shards = groups
                    .values()
                    .map(|shards| shards.iter().map(|s| names.id(s, "groups")).collect())
                    .collect::<Result<Vec<Vec<ShardId>>, ConfigError>>()?;
                let first = first.build(&Names {
                    names: &group_names,
                    place: format!("{place} `first` (names groups)"),
                })?;
                Box::new(MultiColumn::new(first, group_shards)?)
            }
        })
    }
}

fn parse_time(text: &str, place: &str) -> Result<NaiveDateTime, ConfigError> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|d| d.and_time(chrono::NaiveTime::MIN))
        })
        .map_err(|_| ConfigError::BadValue {
            place: place.to_owned(),
            reason: format!(
                "`{text}` is not a date (YYYY-MM-DD) or timestamp (YYYY-MM-DDTHH:MM:SS)"
            ),
        })
}

fn parse_month(text: &str, place: &str) -> Result<(NaiveDateTime, NaiveDateTime), ConfigError> {
    let bad = || ConfigError::BadValue {
        place: place.to_owned(),
        reason: format!("`{text}` is not a month (YYYY-MM)"),
    };
    let (y, m) = text.split_once('-').ok_or_else(bad)?;
    let (year, month): (i32, u32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    let start = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(bad)?;
    let end = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .ok_or_else(bad)?;
    Ok((
        start.and_time(chrono::NaiveTime::MIN),
        end.and_time(chrono::NaiveTime::MIN),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::ShardId;
    use crate::config::Topology;
    use crate::id::{IdGenerator, IdLayout};
    use crate::key::PartValue;
    use crate::shard::ShardValues;

    /// `id_bits` in TOML: ids of the default layout whose bits name buckets, bucket 5 moved.
    #[test]
    fn id_bits_route_ids_by_their_bucket() {
        let topology = Topology::from_toml_str(
            r#"
            [[shards]]
            name = "s0"
            url = "/tmp/a.db"
            [[shards]]
            name = "s1"
            url = "/tmp/b.db"
            [[shards]]
            name = "s2"
            url = "/tmp/c.db"
            [tables.posts.strategy]
            kind = "id_bits"
            buckets = true
            moves = { "5" = "s2" }
            "#,
        )
        .unwrap();
        let routing = topology.routing().unwrap();
        let strategy = routing.strategy_for("posts").unwrap();
        let ids = IdGenerator::fixed(IdLayout::default(), 0).unwrap();
        let route = |bucket: u32| {
            let id = ids.try_next_id(bucket).unwrap();
            strategy.shard_for(&ShardValues::new([PartValue::Int(id)]))
        };
        assert_eq!(route(5), Ok(ShardId(2)), "moved");
        assert_eq!(route(4), Ok(ShardId(1)), "4 mod 3");
        assert_eq!(route(63), Ok(ShardId(0)), "63 mod 3");
    }
}
