//! Property tests: no strategy panics on any key; invalid range and lookup configurations
//! are refused with a typed error, valid ones route every key to the one range holding it;
//! jump hash moves keys only to a new shard; keys survive printing and parsing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use grant::__private::{KeyReader, KeyWriter};
use grant::ShardId;
use grant::key::PartValue;
use grant::shard::{
    Buckets, HashStrategy, JumpHash, KeyRange, Lookup, LookupValue, Modulo, MultiColumn,
    RangeBound, RangeEntry, RangeStrategy, ShardStrategy, ShardValues, TimeRange,
};
use proptest::prelude::*;
use std::ops::Bound;

#[derive(Debug, Clone)]
enum Owned {
    Int(i64),
    UInt(u64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
    Uuid([u8; 16]),
    Date(i64),
    Timestamp(i64),
}

impl Owned {
    fn view(&self) -> PartValue<'_> {
        match self {
            Owned::Int(v) => PartValue::Int(*v),
            Owned::UInt(v) => PartValue::UInt(*v),
            Owned::Bool(v) => PartValue::Bool(*v),
            Owned::Text(s) => PartValue::Text(s),
            Owned::Bytes(b) => PartValue::Bytes(b),
            Owned::Uuid(u) => PartValue::Uuid(*u),
            Owned::Date(d) => PartValue::Date(*d),
            Owned::Timestamp(t) => PartValue::Timestamp(*t),
        }
    }
}

fn part() -> impl Strategy<Value = Owned> {
    prop_oneof![
        any::<i64>().prop_map(Owned::Int),
        any::<u64>().prop_map(Owned::UInt),
        any::<bool>().prop_map(Owned::Bool),
        ".{0,300}".prop_map(Owned::Text),
        proptest::collection::vec(any::<u8>(), 0..400).prop_map(Owned::Bytes),
        any::<[u8; 16]>().prop_map(Owned::Uuid),
        any::<i64>().prop_map(Owned::Date),
        any::<i64>().prop_map(Owned::Timestamp),
    ]
}

fn with_values<R>(parts: &[Owned], f: impl FnOnce(&ShardValues<'_>) -> R) -> R {
    let v: Vec<PartValue<'_>> = parts.iter().map(Owned::view).collect();
    let key = match v.as_slice() {
        [a] => ShardValues::new([*a]),
        [a, b] => ShardValues::new([*a, *b]),
        [a, b, c] => ShardValues::new([*a, *b, *c]),
        [a, b, c, d] => ShardValues::new([*a, *b, *c, *d]),
        _ => unreachable!("1 to 4 parts"),
    };
    f(&key)
}

fn every_strategy() -> Vec<Box<dyn ShardStrategy>> {
    vec![
        Box::new(Modulo::new(1).unwrap()),
        Box::new(Modulo::new(grant::shard::MAX_SHARDS).unwrap()),
        Box::new(HashStrategy::new(13).unwrap()),
        Box::new(JumpHash::new(1).unwrap()),
        Box::new(JumpHash::new(1000).unwrap()),
        Box::new(Buckets::even(1024, 7).unwrap()),
        Box::new(
            RangeStrategy::new(
                vec![
                    RangeEntry::new(None, Some(RangeBound::Int(-5)), ShardId(0)),
                    RangeEntry::new(Some(RangeBound::Int(10)), None, ShardId(1)),
                ],
                None,
            )
            .unwrap(),
        ),
        Box::new(
            RangeStrategy::new(
                vec![RangeEntry::new(
                    Some(RangeBound::Text("m".into())),
                    None,
                    ShardId(0),
                )],
                Some(ShardId(1)),
            )
            .unwrap(),
        ),
        Box::new(
            TimeRange::by_month(vec![((1970, 1), ShardId(0)), ((2262, 4), ShardId(1))], None)
                .unwrap(),
        ),
        Box::new(
            Lookup::new(
                vec![(LookupValue::Int(1), ShardId(0)), ("x".into(), ShardId(1))],
                None,
            )
            .unwrap(),
        ),
        Box::new(
            MultiColumn::new(
                Box::new(Lookup::new(vec![], Some(ShardId(0))).unwrap()),
                vec![vec![ShardId(0), ShardId(1), ShardId(2)]],
            )
            .unwrap(),
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Every strategy answers every key with a shard it declares, or a typed refusal.
    #[test]
    fn no_strategy_panics_on_any_key(parts in proptest::collection::vec(part(), 1..=4)) {
        for strategy in every_strategy() {
            let max = strategy.max_shard().unwrap();
            with_values(&parts, |key| {
                if let Ok(shard) = strategy.shard_for(key) {
                    prop_assert!(shard <= max, "{} returned {shard}", strategy.name());
                }
                let start = Bound::Included(key.first());
                let _ = strategy.shards_for_range(&KeyRange::new(start, Bound::Unbounded));
                Ok(())
            })?;
        }
    }

    /// A range configuration is accepted exactly when its ranges are non-empty and do not
    /// overlap; accepted ones route every key to the one range that holds it.
    #[test]
    fn range_configs_are_validated(
        raw in proptest::collection::vec((proptest::option::of(-50i64..50), proptest::option::of(-50i64..50), 0u32..4), 1..5),
        default in proptest::option::of(0u32..4),
        probes in proptest::collection::vec(-60i64..60, 20),
    ) {
        let entries: Vec<RangeEntry> = raw
            .iter()
            .map(|(s, e, shard)| RangeEntry::new(s.map(RangeBound::Int), e.map(RangeBound::Int), ShardId(*shard)))
            .collect();
        let contains = |(s, e, _): &(Option<i64>, Option<i64>, u32), v: i64| s.is_none_or(|s| v >= s) && e.is_none_or(|e| v < e);
        let empty = raw.iter().any(|(s, e, _)| matches!((s, e), (Some(s), Some(e)) if s >= e));
        // Two ranges overlap when some integer lies in both (ranges are integer-only here).
        let overlap = !empty && raw.iter().enumerate().any(|(i, a)| raw.iter().skip(i + 1).any(|b| {
            let lo = a.0.unwrap_or(i64::MIN).max(b.0.unwrap_or(i64::MIN));
            let hi = a.1.unwrap_or(i64::MAX).min(b.1.unwrap_or(i64::MAX));
            lo < hi
        }));
        match RangeStrategy::new(entries, default.map(ShardId)) {
            Ok(range) => {
                prop_assert!(!empty && !overlap, "accepted an invalid configuration: {raw:?}");
                for v in probes {
                    let holder = raw.iter().find(|r| contains(r, v)).map(|r| ShardId(r.2));
                    let routed = range.shard_for(&ShardValues::new([PartValue::Int(v)])).ok();
                    prop_assert_eq!(routed, holder.or(default.map(ShardId)), "key {}", v);
                }
            }
            Err(e) => {
                prop_assert!(empty || overlap, "refused a valid configuration {raw:?}: {e}");
                prop_assert!(e.to_string().starts_with("invalid `range` strategy"));
            }
        }
    }

    /// A value listed for two different shards is refused.
    #[test]
    fn lookup_duplicates_are_refused(values in proptest::collection::vec(("[a-c]", 0u32..3), 1..8)) {
        let mut first: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
        let conflict = values.iter().any(|(v, s)| *first.entry(v.clone()).or_insert(*s) != *s);
        let entries = values.iter().map(|(v, s)| (LookupValue::Text(v.clone()), ShardId(*s))).collect();
        prop_assert_eq!(Lookup::new(entries, None).is_err(), conflict);
    }

    /// Growing jump hash from n to n+1 shards moves keys only to the new shard.
    #[test]
    fn jump_hash_moves_keys_only_to_the_new_shard(n in 1u32..64, key in any::<i64>()) {
        let k = ShardValues::new([PartValue::Int(key)]);
        let before = JumpHash::new(n).unwrap().shard_for(&k).unwrap();
        let after = JumpHash::new(n + 1).unwrap().shard_for(&k).unwrap();
        prop_assert!(after == before || after == ShardId(n));
    }

    /// Any text survives the key codec, `:` and `\` included.
    #[test]
    fn text_parts_survive_printing_and_parsing(a in ".{0,40}", b in ".{0,40}") {
        let mut out = String::new();
        let mut w = KeyWriter::new(&mut out);
        w.part(&a);
        w.part(&b);
        let mut r = KeyReader::new("t", &out).unwrap();
        prop_assert_eq!(r.remaining(), 2);
        prop_assert_eq!(r.part::<String>("a").unwrap(), a);
        prop_assert_eq!(r.part::<String>("b").unwrap(), b);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Range pruning never drops a shard that holds a key of the range: for every key in a
    /// range, the shard the strategy routes it to is among `shards_for_range`.
    #[test]
    fn range_pruning_keeps_every_shard_of_the_range(
        cuts in proptest::collection::btree_set(-1000_i64..1000, 1..6),
        a in -1200_i64..1200,
        len in 0_i64..600,
        start_included in any::<bool>(),
        end_included in any::<bool>(),
        probe in 0_i64..600,
    ) {
        let cuts: Vec<i64> = cuts.into_iter().collect();
        let n = cuts.len() + 1;
        let entries = (0..n)
            .map(|i| {
                let start = (i > 0).then(|| RangeBound::Int(cuts[i - 1]));
                let end = (i + 1 < n).then(|| RangeBound::Int(cuts[i]));
                RangeEntry::new(start, end, ShardId(i as u32))
            })
            .collect();
        let strategy = RangeStrategy::new(entries, None).unwrap();
        let b = a + len;
        let bound = |v: i64, included: bool| if included { Bound::Included(PartValue::Int(v)) } else { Bound::Excluded(PartValue::Int(v)) };
        let range = KeyRange::new(bound(a, start_included), bound(b, end_included));
        let shards = strategy.shards_for_range(&range).unwrap();
        let key = a + probe.min(len);
        if range.contains(&PartValue::Int(key)) {
            let shard = strategy.shard_for(&ShardValues::new([PartValue::Int(key)])).unwrap();
            prop_assert!(shards.contains(&shard), "key {key} on {shard}, pruned to {shards:?} for {range:?}");
        }
        // Pruning prunes: a range inside one entry asks one shard.
        if len == 0 && start_included && end_included {
            prop_assert_eq!(shards.len(), 1);
        }
    }
}
