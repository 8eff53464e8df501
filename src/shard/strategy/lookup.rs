//! Lookup: a directory of values, each on a shard (lists, geography), with a default.

use super::{RouteError, ShardStrategy, StrategyError};
use crate::ShardId;
use crate::key::PartValue;
use crate::shard::ShardValues;
use std::collections::HashMap;

/// A value in a lookup table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LookupValue {
    /// An integer.
    Int(i64),
    /// A text.
    Text(String),
}

/// Prints as the TOML would write it: `42`, `"FR"`.
impl std::fmt::Display for LookupValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LookupValue::Int(i) => write!(f, "{i}"),
            LookupValue::Text(s) => write!(f, "{s:?}"),
        }
    }
}

impl From<&str> for LookupValue {
    fn from(s: &str) -> Self {
        LookupValue::Text(s.to_owned())
    }
}

impl From<i64> for LookupValue {
    fn from(v: i64) -> Self {
        LookupValue::Int(v)
    }
}

/// Each listed value of the first shard-key column lives on its shard (a directory, a list
/// of tenants, country codes by region); other values go to `default`, or are refused when
/// there is none. A value listed for two shards is a configuration error.
///
/// ```
/// use grant::key::PartValue;
/// use grant::shard::{Lookup, ShardStrategy, ShardValues};
/// use grant::ShardId;
/// let geo = Lookup::regions(vec![
///     (ShardId(0), vec!["FR".into(), "DE".into()]),
///     (ShardId(1), vec!["US".into(), "CA".into()]),
/// ], Some(ShardId(0)))?;
/// assert_eq!(geo.shard_for(&ShardValues::new([PartValue::Text("CA")])), Ok(ShardId(1)));
/// assert_eq!(geo.shard_for(&ShardValues::new([PartValue::Text("JP")])), Ok(ShardId(0)));
/// # Ok::<(), grant::shard::StrategyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    ints: HashMap<i64, ShardId>,
    texts: HashMap<String, ShardId>,
    default: Option<ShardId>,
}

impl Lookup {
    /// A table of `(value, shard)`, and the shard of unlisted values.
    pub fn new(
        entries: Vec<(LookupValue, ShardId)>,
        default: Option<ShardId>,
    ) -> Result<Self, StrategyError> {
        let mut lookup = Lookup {
            ints: HashMap::new(),
            texts: HashMap::new(),
            default,
        };
        for (value, shard) in entries {
            let previous = match &value {
                LookupValue::Int(v) => lookup.ints.insert(*v, shard),
                LookupValue::Text(s) => lookup.texts.insert(s.clone(), shard),
            };
            if let Some(previous) = previous.filter(|p| *p != shard) {
                return Err(StrategyError::new(
                    "lookup",
                    format!("value {value} is listed for {previous} and for {shard}"),
                ));
            }
        }
        if lookup.ints.is_empty() && lookup.texts.is_empty() && default.is_none() {
            return Err(StrategyError::new(
                "lookup",
                "lists no value and has no default shard",
            ));
        }
        Ok(lookup)
    }

    /// Regions: each shard with the values it holds (e.g. country codes).
    pub fn regions(
        regions: Vec<(ShardId, Vec<LookupValue>)>,
        default: Option<ShardId>,
    ) -> Result<Self, StrategyError> {
        Lookup::new(
            regions
                .into_iter()
                .flat_map(|(shard, values)| values.into_iter().map(move |v| (v, shard)))
                .collect(),
            default,
        )
    }
}

impl ShardStrategy for Lookup {
    fn name(&self) -> &'static str {
        "lookup"
    }

    fn shard_for(&self, key: &ShardValues<'_>) -> Result<ShardId, RouteError> {
        let value = key.first();
        let found = match value {
            PartValue::Text(s) => self.texts.get(s).copied(),
            other => other.as_i64().and_then(|v| self.ints.get(&v).copied()),
        };
        found.or(self.default).ok_or_else(|| {
            RouteError::new(
                self.name(),
                key,
                "not listed, and there is no default shard",
            )
        })
    }

    fn shards(&self) -> Vec<ShardId> {
        let mut shards: Vec<ShardId> = self
            .ints
            .values()
            .chain(self.texts.values())
            .copied()
            .chain(self.default)
            .collect();
        shards.sort();
        shards.dedup();
        shards
    }
}
