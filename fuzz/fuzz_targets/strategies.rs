//! Every built-in strategy on any shard key: no panic, a shard in range, the same shard on
//! every call.
#![no_main]

use grant::ShardId;
use grant::key::PartValue;
use grant::shard::{
    Buckets, HashStrategy, JumpHash, Lookup, Modulo, RangeBound, RangeEntry, RangeStrategy,
    ShardStrategy, ShardValues,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u8, i64, String, bool)| {
    let (shards, int, text, pick_text) = input;
    let shards = u32::from(shards % 64) + 1;
    let value = if pick_text {
        PartValue::Text(&text)
    } else {
        PartValue::Int(int)
    };
    let key = ShardValues::new([value]);
    let strategies: Vec<Box<dyn ShardStrategy>> = vec![
        Box::new(Modulo::new(shards).unwrap()),
        Box::new(HashStrategy::new(shards).unwrap()),
        Box::new(JumpHash::new(shards).unwrap()),
        Box::new(Buckets::even(shards * 4, shards).unwrap()),
        Box::new(
            RangeStrategy::new(
                vec![
                    RangeEntry::new(None, Some(RangeBound::Int(0)), ShardId(0)),
                    RangeEntry::new(Some(RangeBound::Int(0)), None, ShardId(shards - 1)),
                ],
                None,
            )
            .unwrap(),
        ),
        Box::new(Lookup::new(vec![("FR".into(), ShardId(0))], Some(ShardId(shards - 1))).unwrap()),
    ];
    for strategy in &strategies {
        match strategy.shard_for(&key) {
            Ok(shard) => {
                assert!(
                    shard.0 < shards,
                    "{}: {shard:?} of {shards}",
                    strategy.name()
                );
                assert_eq!(
                    strategy.shard_for(&key),
                    Ok(shard),
                    "{}: not stable",
                    strategy.name()
                );
            }
            Err(error) => {
                let _ = error.to_string();
            }
        }
    }
});
