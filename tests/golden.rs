//! Golden vectors: key -> shard for every built-in strategy, and the stable hash itself, on
//! a fixed set of keys. These values must never change: a change would move rows between
//! shards on upgrade. If this test fails, the change is a bug (or a new strategy version
//! that must keep the old one).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use grant::ShardId;
use grant::key::PartValue;
use grant::shard::{
    Buckets, HashStrategy, JumpHash, Lookup, Modulo, MultiColumn, RangeBound, RangeEntry,
    RangeStrategy, ShardStrategy, ShardValues, TimeRange,
};

fn days(y: i32, m: u32, d: u32) -> i64 {
    (NaiveDate::from_ymd_opt(y, m, d).unwrap() - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
        .num_days()
}

const UUID_A: u128 = 0x0123_4567_89ab_cdef_0123_4567_89ab_cdef;

/// The keys: one-part keys of every kind, and a two-part key.
fn keys() -> Vec<(&'static str, Vec<PartValue<'static>>)> {
    vec![
        ("int 0", vec![PartValue::Int(0)]),
        ("int 1", vec![PartValue::Int(1)]),
        ("int -1", vec![PartValue::Int(-1)]),
        ("int 42", vec![PartValue::Int(42)]),
        ("int 1000", vec![PartValue::Int(1000)]),
        ("int 123456789", vec![PartValue::Int(123_456_789)]),
        ("int max", vec![PartValue::Int(i64::MAX)]),
        ("int min", vec![PartValue::Int(i64::MIN)]),
        ("uint 42", vec![PartValue::UInt(42)]),
        ("text empty", vec![PartValue::Text("")]),
        ("text FR", vec![PartValue::Text("FR")]),
        ("text tenant-7", vec![PartValue::Text("tenant-7")]),
        ("text unicode", vec![PartValue::Text("ünïcödé")]),
        ("uuid nil", vec![PartValue::Uuid([0; 16])]),
        ("uuid a", vec![PartValue::Uuid(UUID_A.to_be_bytes())]),
        ("date 2026-02-14", vec![PartValue::Date(days(2026, 2, 14))]),
        (
            "timestamp",
            vec![PartValue::Timestamp(1_700_000_000_123_456)],
        ),
        ("bool true", vec![PartValue::Bool(true)]),
        ("bytes", vec![PartValue::Bytes(&[0, 1, 2, 255])]),
        ("acme:7", vec![PartValue::Text("acme"), PartValue::Int(7)]),
        ("big:7", vec![PartValue::Text("big"), PartValue::Int(7)]),
    ]
}

fn values(parts: &[PartValue<'static>]) -> ShardValues<'static> {
    match parts {
        [a] => ShardValues::new([*a]),
        [a, b] => ShardValues::new([*a, *b]),
        _ => unreachable!(),
    }
}

fn strategies() -> Vec<(&'static str, Box<dyn ShardStrategy>)> {
    let int_ranges = RangeStrategy::new(
        vec![
            RangeEntry::new(None, Some(RangeBound::Int(0)), ShardId(0)),
            RangeEntry::new(
                Some(RangeBound::Int(0)),
                Some(RangeBound::Int(100)),
                ShardId(1),
            ),
            RangeEntry::new(
                Some(RangeBound::Int(100)),
                Some(RangeBound::Int(1_000_000)),
                ShardId(2),
            ),
        ],
        Some(ShardId(3)),
    )
    .unwrap();
    let text_ranges = RangeStrategy::new(
        vec![
            RangeEntry::new(None, Some(RangeBound::Text("M".into())), ShardId(0)),
            RangeEntry::new(Some(RangeBound::Text("M".into())), None, ShardId(1)),
        ],
        None,
    )
    .unwrap();
    let months = TimeRange::by_month(
        vec![((2026, 1), ShardId(0)), ((2026, 2), ShardId(1))],
        Some(ShardId(2)),
    )
    .unwrap();
    let geo = Lookup::regions(
        vec![
            (ShardId(0), vec!["FR".into(), "DE".into()]),
            (ShardId(1), vec!["US".into()]),
            (ShardId(2), vec![42.into()]),
        ],
        Some(ShardId(3)),
    )
    .unwrap();
    let tenants = Lookup::new(vec![("big".into(), ShardId(0))], Some(ShardId(1))).unwrap();
    vec![
        ("modulo 4", Box::new(Modulo::new(4).unwrap())),
        ("hash 4", Box::new(HashStrategy::new(4).unwrap())),
        ("hash 7", Box::new(HashStrategy::new(7).unwrap())),
        ("jump 4", Box::new(JumpHash::new(4).unwrap())),
        ("jump 5", Box::new(JumpHash::new(5).unwrap())),
        (
            "buckets 16/4 (3 -> 4)",
            Box::new(Buckets::even(16, 4).unwrap().moved(3, ShardId(4)).unwrap()),
        ),
        ("range int", Box::new(int_ranges)),
        ("range text", Box::new(text_ranges)),
        ("time_range months", Box::new(months)),
        ("lookup geo", Box::new(geo)),
        (
            "multi_column",
            Box::new(
                MultiColumn::new(
                    Box::new(tenants),
                    vec![vec![ShardId(0), ShardId(1), ShardId(2)], vec![ShardId(3)]],
                )
                .unwrap(),
            ),
        ),
    ]
}

/// `name -> shard` per strategy (`-` where the strategy refuses the key), one line each.
fn table() -> Vec<String> {
    let keys = keys();
    let mut lines = Vec::new();
    for (name, parts) in &keys {
        lines.push(format!(
            "hash {name} = {:016x}",
            values(parts).stable_hash()
        ));
    }
    for (strategy_name, strategy) in strategies() {
        let row: Vec<String> = keys
            .iter()
            .map(|(_, parts)| match strategy.shard_for(&values(parts)) {
                Ok(s) => s.0.to_string(),
                Err(_) => "-".into(),
            })
            .collect();
        lines.push(format!("{strategy_name}: {}", row.join(" ")));
    }
    lines
}

const GOLDEN: &str = include_str!("golden/strategies.txt");

#[test]
fn key_to_shard_never_changes() {
    let now = table().join("\n");
    if std::env::var_os("GRANT_WRITE_GOLDEN").is_some() {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/strategies.txt"),
            format!("{now}\n"),
        )
        .unwrap();
        return;
    }
    for (expected, actual) in GOLDEN.lines().zip(now.lines()) {
        assert_eq!(
            actual, expected,
            "a golden vector changed: rows would move between shards"
        );
    }
    assert_eq!(GOLDEN.lines().count(), now.lines().count());
}

/// The hash is the documented XXH3-64 of the framed canonical bytes, computed here by
/// hand from the specification, independent of grant's code path.
#[test]
fn stable_hash_is_the_documented_function() {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&4u32.to_le_bytes());
    bytes.extend_from_slice(b"acme");
    bytes.extend_from_slice(&8u32.to_le_bytes());
    bytes.extend_from_slice(&7i64.to_le_bytes());
    let by_hand = xxhash_rust::xxh3::xxh3_64(&bytes);
    assert_eq!(
        ShardValues::new([PartValue::Text("acme"), PartValue::Int(7)]).stable_hash(),
        by_hand
    );
    // An i32 column and an i64 column with the same value hash the same (widening a column
    // moves no row).
    use grant::key::KeyPart;
    assert_eq!(
        ShardValues::new([7i32.part_value()]).stable_hash(),
        ShardValues::new([7i64.part_value()]).stable_hash()
    );
}

/// Every pinned hash is the documented function of its key, computed here from bytes framed
/// by hand (not by grant's canonical encoding): `u32` little-endian length, then the value
/// (integers as `i64`/`u64` little-endian, dates as days and timestamps as microseconds since
/// 1970 in the same way, text as UTF-8, UUIDs big-endian, booleans as one byte). The values
/// in `tests/golden/strategies.txt` were also checked against the C reference implementation
/// of XXH3 (libxxhash 0.8.4 through python-xxhash 4.1.0) on 2026-12-03, so they pin the
/// documented function, not only this implementation's output.
#[test]
fn pinned_hashes_are_xxh3_of_the_framed_bytes() {
    // The reference vector of XXH3-64 (seed 0) for empty input, from the XXH3 specification's
    // implementation: a different XXH3 (or a seed) would change every hash.
    assert_eq!(xxhash_rust::xxh3::xxh3_64(b""), 0x2d06_8005_38d3_94c2);

    fn framed(parts: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for part in parts {
            out.extend_from_slice(&(part.len() as u32).to_le_bytes());
            out.extend_from_slice(part);
        }
        out
    }
    let i = |v: i64| v.to_le_bytes();
    let date = days(2026, 2, 14);
    let by_hand: Vec<(&str, Vec<u8>)> = vec![
        ("int 0", framed(&[&i(0)])),
        ("int 1", framed(&[&i(1)])),
        ("int -1", framed(&[&i(-1)])),
        ("int 42", framed(&[&i(42)])),
        ("int 1000", framed(&[&i(1000)])),
        ("int 123456789", framed(&[&i(123_456_789)])),
        ("int max", framed(&[&i(i64::MAX)])),
        ("int min", framed(&[&i(i64::MIN)])),
        ("uint 42", framed(&[&42u64.to_le_bytes()])),
        ("text empty", framed(&[b""])),
        ("text FR", framed(&[b"FR"])),
        ("text tenant-7", framed(&[b"tenant-7"])),
        ("text unicode", framed(&["ünïcödé".as_bytes()])),
        ("uuid nil", framed(&[&[0u8; 16]])),
        ("uuid a", framed(&[&UUID_A.to_be_bytes()])),
        ("date 2026-02-14", framed(&[&i(date)])),
        ("timestamp", framed(&[&i(1_700_000_000_123_456)])),
        ("bool true", framed(&[&[1u8]])),
        ("bytes", framed(&[&[0, 1, 2, 255]])),
        ("acme:7", framed(&[b"acme", &i(7)])),
        ("big:7", framed(&[b"big", &i(7)])),
    ];
    let pinned: std::collections::HashMap<&str, u64> = GOLDEN
        .lines()
        .filter_map(|l| l.strip_prefix("hash "))
        .filter_map(|l| l.split_once(" = "))
        .map(|(name, hex)| (name, u64::from_str_radix(hex, 16).unwrap()))
        .collect();
    assert_eq!(pinned.len(), by_hand.len());
    let keys = keys();
    for ((name, bytes), (key_name, parts)) in by_hand.iter().zip(&keys) {
        assert_eq!(name, key_name);
        let expected = pinned[name];
        assert_eq!(
            xxhash_rust::xxh3::xxh3_64(bytes),
            expected,
            "{name}: the pinned value"
        );
        assert_eq!(
            values(parts).stable_hash(),
            expected,
            "{name}: grant's hash"
        );
    }
}
