//! Taking a new topology version into a running handle.

use super::Published;
use crate::cluster::ShardConnection;
use crate::config::Topology;
use crate::{Result, Sharded};

/// Why `new` cannot replace `old` in a running handle, if it cannot: shards may only be
/// appended, and the settings that shape pools and connections stay as they were.
pub(crate) fn incompatible(old: &Topology, new: &Topology) -> Option<String> {
    for (i, before) in old.shards.iter().enumerate() {
        match new.shards.get(i) {
            None => {
                return Some(format!(
                    "shard `{}` (#{i}) is gone: a live topology may only append shards",
                    before.name
                ));
            }
            Some(after) if after != before => {
                return Some(format!(
                    "shard #{i} changed (`{}` before, `{}` now, or its URLs or settings): a \
                     live topology may only append shards; restart the processes to take \
                     other changes",
                    before.name, after.name
                ));
            }
            Some(_) => {}
        }
    }
    let sections = [
        ("[pool]", old.pool != new.pool),
        ("[replicas]", old.replicas != new.replicas),
        ("[health]", old.health != new.health),
        ("session_sql", old.session_sql != new.session_sql),
        ("[timeouts]", old.timeouts != new.timeouts),
        ("[coalesce]", old.coalesce != new.coalesce),
    ];
    sections
        .iter()
        .find(|(_, changed)| *changed)
        .map(|(section, _)| {
            format!(
                "{section} changed: a running handle takes new strategies and appended shards \
                 only; restart the processes to take it"
            )
        })
}

/// Checks `published` as a handle built from `old` would take it: it parses, its
/// strategies build and name existing shards, and it only appends shards.
pub(crate) fn check(old: Option<&Topology>, published: &str) -> Result<Topology, String> {
    let new = Topology::from_toml_str(published).map_err(|e| e.to_string())?;
    new.routing().map_err(|e| e.to_string())?;
    if let Some(reason) = old.and_then(|old| incompatible(old, &new)) {
        return Err(reason);
    }
    Ok(new)
}

/// Takes `published` into `sharded`: appends the new shards (pools connect on first use),
/// then swaps the routing. Statements already routed finish with the routing they loaded.
pub(crate) fn take<C: ShardConnection>(sharded: &Sharded<C>, published: &Published) -> Result<()> {
    let source = sharded.source();
    let old = source.applied();
    let new = check(old.as_ref(), &published.topology).map_err(|cause| crate::Error::Control {
        name: published.name.clone(),
        cause: format!("version {}: {cause}", published.version),
    })?;
    let parts = new.builder::<C>()?.into_parts()?;
    let have = sharded.shard_count();
    for cluster in parts.clusters.into_iter().skip(have) {
        sharded.add_cluster(cluster);
    }
    sharded.swap_routing(parts.routing.at_version(published.version));
    source.took(published.version, new);
    crate::cluster::metrics_topology(&published.name, published.version, true);
    tracing::info!(
        topology = %published.name,
        version = published.version,
        shards = sharded.shard_count(),
        "took a new topology version"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "[[shards]]\nname = 'a'\nurl = 'a.db'\n[[shards]]\nname = 'b'\nurl = 'b.db'\n[strategy]\nkind = 'modulo'\n";

    #[test]
    fn appending_shards_and_changing_strategies_is_compatible() {
        let old = Topology::from_toml_str(TWO).unwrap();
        let three = TWO.replace(
            "[strategy]",
            "[[shards]]\nname = 'c'\nurl = 'c.db'\n[strategy]",
        );
        assert!(check(Some(&old), &three).is_ok());
        let jump = TWO.replace("modulo", "jump");
        assert!(check(Some(&old), &jump).is_ok());
    }

    #[test]
    fn changed_removed_or_reordered_shards_are_refused() {
        let old = Topology::from_toml_str(TWO).unwrap();
        let moved = TWO.replace("b.db", "elsewhere.db");
        assert!(
            check(Some(&old), &moved)
                .unwrap_err()
                .contains("shard #1 changed")
        );
        let one = "[[shards]]\nname = 'a'\nurl = 'a.db'\n[strategy]\nkind = 'modulo'\n";
        assert!(
            check(Some(&old), one)
                .unwrap_err()
                .contains("`b` (#1) is gone")
        );
        let pool = format!("[pool]\nmax_size = 3\n{TWO}");
        assert!(
            check(Some(&old), &pool)
                .unwrap_err()
                .contains("[pool] changed")
        );
        assert!(check(Some(&old), "not toml [").is_err());
    }
}
