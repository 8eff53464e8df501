//! What a topology change moves.

use crate::config::strategy::{Names, buckets};
use crate::config::{ConfigError, StrategyConfig, Topology};
use std::collections::BTreeSet;

/// One bucket given to another shard.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BucketMove {
    /// The bucket number.
    pub bucket: u32,
    /// The shard that holds it now.
    pub from: String,
    /// The shard that will.
    pub to: String,
}

/// How one strategy's routing changes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// These buckets change shards; every other key stays where it is.
    Buckets(Vec<BucketMove>),
    /// Keys change shards in a way buckets do not describe (why).
    Remap(String),
}

/// The change of one strategy: `table` is `(default)` or a table's SQL name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// `(default)` for the default strategy, else the table.
    pub table: String,
    /// What moves.
    pub kind: ChangeKind,
}

/// What changing one topology into another moves (see [`plan`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    /// The strategies whose routing changes; empty when no key changes shards.
    pub changes: Vec<Change>,
}

impl Plan {
    /// Whether no key changes shards.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// How many buckets move, over every strategy.
    pub fn bucket_moves(&self) -> usize {
        self.changes
            .iter()
            .map(|c| match &c.kind {
                ChangeKind::Buckets(moves) => moves.len(),
                ChangeKind::Remap(_) => 0,
            })
            .sum()
    }
}

const DEFAULT: &str = "(default)";

/// What changing `old` into `new` moves: per strategy, the buckets that change shards, or
/// a remap that buckets cannot describe. `new` must keep `old`'s shards, in order (it may
/// append some).
///
/// ```
/// use grant::Topology;
/// use grant::reshard::{plan, ChangeKind};
/// let old = Topology::from_toml_str(
///     "[[shards]]\nname = 'a'\nurl = 'a.db'\n[[shards]]\nname = 'b'\nurl = 'b.db'\n\
///      [strategy]\nkind = 'buckets'\ncount = 8\nshards = 2\n",
/// )?;
/// let new = Topology::from_toml_str(
///     "[[shards]]\nname = 'a'\nurl = 'a.db'\n[[shards]]\nname = 'b'\nurl = 'b.db'\n\
///      [[shards]]\nname = 'c'\nurl = 'c.db'\n\
///      [strategy]\nkind = 'buckets'\ncount = 8\nshards = 2\nmoves = { '6' = 'c', '7' = 'c' }\n",
/// )?;
/// let plan = plan(&old, &new)?;
/// assert_eq!(plan.bucket_moves(), 2);
/// let ChangeKind::Buckets(moves) = &plan.changes[0].kind else { unreachable!() };
/// assert_eq!((moves[0].bucket, moves[0].from.as_str(), moves[0].to.as_str()), (6, "a", "c"));
/// # Ok::<(), grant::config::ConfigError>(())
/// ```
pub fn plan(old: &Topology, new: &Topology) -> Result<Plan, ConfigError> {
    let old_names: Vec<String> = old.shards.iter().map(|s| s.name.clone()).collect();
    let new_names: Vec<String> = new.shards.iter().map(|s| s.name.clone()).collect();
    let mut slots: BTreeSet<&str> = BTreeSet::new();
    slots.insert(DEFAULT);
    for (table, section) in old.tables.iter().chain(&new.tables) {
        if section.strategy.is_some() {
            slots.insert(table);
        }
    }
    let mut changes = Vec::new();
    for slot in slots {
        let before = effective(old, slot);
        let after = effective(new, slot);
        if let Some(kind) = compare(slot, before, &old_names, after, &new_names)? {
            changes.push(Change {
                table: slot.to_owned(),
                kind,
            });
        }
    }
    Ok(Plan { changes })
}

/// The strategy that routes `slot` in `topology`.
fn effective<'t>(topology: &'t Topology, slot: &str) -> Option<&'t StrategyConfig> {
    if slot == DEFAULT {
        return topology.strategy.as_ref();
    }
    topology
        .tables
        .get(slot)
        .and_then(|t| t.strategy.as_ref())
        .or(topology.strategy.as_ref())
}

fn names<'a>(names: &'a [String], slot: &str) -> Names<'a> {
    Names {
        names,
        place: if slot == DEFAULT {
            "[strategy]".into()
        } else {
            format!("[tables.{slot}.strategy]")
        },
    }
}

/// How the routing of `slot` changes, `None` when it does not.
fn compare(
    slot: &str,
    before: Option<&StrategyConfig>,
    old_names: &[String],
    after: Option<&StrategyConfig>,
    new_names: &[String],
) -> Result<Option<ChangeKind>, ConfigError> {
    let (old_n, new_n) = (names(old_names, slot), names(new_names, slot));
    let (before, after) = match (before, after) {
        (None, None) => return Ok(None),
        (Some(before), Some(after)) => (before, after),
        _ => {
            return Ok(Some(ChangeKind::Remap(
                "a strategy is added or removed".into(),
            )));
        }
    };
    use StrategyConfig as S;
    Ok(match (before, after) {
        (
            S::Buckets {
                count: c0,
                shards: s0,
                moves: m0,
            },
            S::Buckets {
                count: c1,
                shards: s1,
                moves: m1,
            },
        ) => {
            if c0 != c1 {
                return Ok(Some(ChangeKind::Remap(format!(
                    "the bucket count changes ({c0} -> {c1}): every key's bucket changes"
                ))));
            }
            let b0 = buckets(&old_n, *c0, *s0, m0)?;
            let b1 = buckets(&new_n, *c1, *s1, m1)?;
            let moves: Vec<BucketMove> = (0..*c0)
                .filter_map(|bucket| {
                    let from = b0.bucket_shard(bucket)?;
                    let to = b1.bucket_shard(bucket)?;
                    (from != to).then(|| BucketMove {
                        bucket,
                        from: old_names.get(from.index()).cloned().unwrap_or_default(),
                        to: new_names.get(to.index()).cloned().unwrap_or_default(),
                    })
                })
                .collect();
            (!moves.is_empty()).then_some(ChangeKind::Buckets(moves))
        }
        (S::Modulo { shards: s0 }, S::Modulo { shards: s1 })
        | (S::Hash { shards: s0 }, S::Hash { shards: s1 })
        | (S::Jump { shards: s0 }, S::Jump { shards: s1 }) => {
            let (n0, n1) = (old_n.count(*s0)?, new_n.count(*s1)?);
            (n0 != n1).then(|| {
                ChangeKind::Remap(format!(
                    "{} over {n0} shards becomes {} over {n1}: keys move between shards (use \
                     `buckets` with `shards = {n0}` to move them bucket by bucket)",
                    before.kind(),
                    after.kind()
                ))
            })
        }
        _ if before == after => None,
        _ => Some(ChangeKind::Remap(format!(
            "the `{}` strategy's settings change (now `{}`)",
            before.kind(),
            after.kind()
        ))),
    })
}
