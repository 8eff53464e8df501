//! A bucket map spread over a new number of shards with the fewest moves.

use crate::config::strategy::{Names, buckets};
use crate::config::{ConfigError, StrategyConfig, Topology};
use std::collections::BTreeMap;

/// `topology` with the buckets of `table`'s strategy (`None`: the default strategy) spread
/// evenly over its first `shards` shards, moving as few buckets as can be: a shard keeps
/// its buckets up to its new share, the surplus (highest bucket numbers first) goes to the
/// shards below theirs. Buckets never move between two shards that both keep or both gain
/// buckets. The result keeps the strategy's base spread (`shards = n` is written if it was
/// unset) and lists every bucket off that spread in `moves`, so appending shards later
/// moves nothing by itself. [`super::plan`] of the two topologies lists the moves.
///
/// ```
/// use grant::Topology;
/// use grant::reshard::{plan, rebalance};
/// let mut text = String::new();
/// for s in ["a", "b", "c", "d", "e", "f"] {
///     text += &format!("[[shards]]\nname = '{s}'\nurl = '{s}.db'\n");
/// }
/// let four = Topology::from_toml_str(&format!("{text}[strategy]\nkind = 'buckets'\ncount = 64\nshards = 4\n"))?;
/// let six = rebalance(&four, None, 6)?;
/// // 64 buckets: 16 per shard on 4 shards; on 6, 11 stay on each of a-d and 10 go to
/// // each of e and f: 20 move.
/// let moves = plan(&four, &six)?;
/// assert_eq!(moves.bucket_moves(), 20);
/// # Ok::<(), grant::config::ConfigError>(())
/// ```
pub fn rebalance(
    topology: &Topology,
    table: Option<&str>,
    shards: u32,
) -> Result<Topology, ConfigError> {
    let place = match table {
        None => "[strategy]".to_owned(),
        Some(t) => format!("[tables.{t}.strategy]"),
    };
    let bad = |reason: String| ConfigError::BadValue {
        place: place.clone(),
        reason,
    };
    let all: Vec<String> = topology.shards.iter().map(|s| s.name.clone()).collect();
    if shards == 0 || shards as usize > all.len() {
        return Err(bad(format!(
            "cannot spread over {shards} shards: the topology lists {}",
            all.len()
        )));
    }
    let mut result = topology.clone();
    let config = match table {
        None => result.strategy.as_mut(),
        Some(t) => result
            .tables
            .get_mut(t)
            .and_then(|section| section.strategy.as_mut()),
    };
    let Some(StrategyConfig::Buckets {
        count,
        shards: base,
        moves,
    }) = config
    else {
        return Err(bad(
            "only a `buckets` strategy can be rebalanced bucket by bucket".into(),
        ));
    };
    let names = Names {
        names: &all,
        place: place.clone(),
    };
    let current = buckets(&names, *count, *base, moves)?;
    let base_count = names.count(*base)?;
    // Each bucket's shard now.
    let mut owner: Vec<usize> = (0..*count)
        .map(|b| current.bucket_shard(b).map_or(0, |s| s.index()))
        .collect();
    let target = shares(&owner, *count as usize, shards as usize);
    let mut held = vec![0usize; all.len()];
    for &s in &owner {
        held[s] += 1;
    }
    // The surplus: from the highest bucket numbers of each shard above its share.
    let mut pool = Vec::new();
    for bucket in (0..owner.len()).rev() {
        let s = owner[bucket];
        if held[s] > target[s] {
            held[s] -= 1;
            pool.push(bucket);
        }
    }
    pool.sort_unstable();
    let mut pool = pool.into_iter();
    for (s, share) in target.iter().enumerate() {
        while held[s] < *share {
            let Some(bucket) = pool.next() else { break };
            owner[bucket] = s;
            held[s] += 1;
        }
    }
    // Written against the base spread, which stays as it was.
    let spread = |b: usize| b % base_count as usize;
    let mut written = BTreeMap::new();
    for (bucket, &s) in owner.iter().enumerate() {
        if s != spread(bucket) {
            written.insert(bucket.to_string(), all[s].clone());
        }
    }
    *base = Some(base_count);
    *moves = written;
    Ok(result)
}

/// Each shard's share of `count` buckets over the first `shards`: `count / shards`, one
/// more for the `count % shards` shards that hold the most now (ties: the first), 0 for
/// shards past `shards`.
fn shares(owner: &[usize], count: usize, shards: usize) -> Vec<usize> {
    let len = owner.iter().copied().max().map_or(0, |m| m + 1).max(shards);
    let mut held = vec![0usize; len];
    for &s in owner {
        held[s] += 1;
    }
    let mut order: Vec<usize> = (0..shards).collect();
    order.sort_by_key(|&s| std::cmp::Reverse(held[s]));
    let mut target = vec![0usize; len];
    for (rank, &s) in order.iter().enumerate() {
        target[s] = count / shards + usize::from(rank < count % shards);
    }
    target
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reshard::{ChangeKind, plan};

    fn six(strategy: &str) -> Topology {
        let mut text = String::new();
        for s in ["s0", "s1", "s2", "s3", "s4", "s5"] {
            text += &format!("[[shards]]\nname = '{s}'\nurl = '{s}.db'\n");
        }
        Topology::from_toml_str(&format!("{text}{strategy}")).unwrap()
    }

    #[test]
    fn four_to_six_moves_only_to_the_new_shards() {
        let four = six("[strategy]\nkind = 'buckets'\ncount = 1024\nshards = 4\n");
        let grown = rebalance(&four, None, 6).unwrap();
        let p = plan(&four, &grown).unwrap();
        // 256 per shard on 4; on 6, 171 stay on each old shard and 170 go to each new
        // one: 340 move, none between old shards.
        assert_eq!(p.bucket_moves(), 1024 - 4 * 171);
        let ChangeKind::Buckets(moves) = &p.changes[0].kind else {
            panic!("{p:?}")
        };
        assert!(moves.iter().all(|m| m.to == "s4" || m.to == "s5"));
        // Rebalancing again moves nothing.
        assert!(
            plan(&grown, &rebalance(&grown, None, 6).unwrap())
                .unwrap()
                .is_empty()
        );
        // Back to 4: exactly the same buckets return.
        let back = plan(&grown, &rebalance(&grown, None, 4).unwrap()).unwrap();
        assert_eq!(back.bucket_moves(), p.bucket_moves());
    }

    #[test]
    fn plans_name_remaps_that_buckets_cannot_describe() {
        let jump4 = six("[strategy]\nkind = 'jump'\nshards = 4\n");
        let jump6 = six("[strategy]\nkind = 'jump'\n");
        let p = plan(&jump4, &jump6).unwrap();
        assert!(matches!(&p.changes[0].kind, ChangeKind::Remap(why) if why.contains("4 shards")));
        assert!(plan(&jump4, &jump4).unwrap().is_empty());
        assert!(rebalance(&jump4, None, 6).is_err());
        let per_table = six(
            "[strategy]\nkind = 'jump'\nshards = 4\n[tables.t.strategy]\nkind = 'modulo'\nshards = 4\n",
        );
        let p = plan(&jump4, &per_table).unwrap();
        assert_eq!(p.changes.len(), 1);
        assert_eq!(p.changes[0].table, "t");
    }
}
