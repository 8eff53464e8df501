//! The checks a topology passes before any pool is built, from TOML or from code: every
//! setting that would make grant misbehave (a pool of no connections, a health loop that never
//! sleeps, a shard without a usable name or URL) is refused with [`ConfigError::BadValue`]
//! naming the setting, in the TOML's terms (`pool.max_size`, `shards.s0.url`).

use super::ConfigError;
use crate::cluster::{HealthConfig, PoolConfig, ShardNodes};
use std::time::Duration;

fn bad(place: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::BadValue {
        place: place.into(),
        reason: reason.into(),
    }
}

fn positive(place: &str, value: Duration) -> Result<(), ConfigError> {
    if value.is_zero() {
        return Err(bad(place, "must be more than 0 ms"));
    }
    Ok(())
}

/// A pool's settings; `place` is `pool` or `shards.<name>.pool`.
pub(crate) fn pool(place: &str, config: &PoolConfig) -> Result<(), ConfigError> {
    if config.max_size == 0 {
        return Err(bad(format!("{place}.max_size"), "must be at least 1"));
    }
    if let Some(min) = config.min_idle.filter(|min| *min > config.max_size) {
        return Err(bad(
            format!("{place}.min_idle"),
            format!("{min} is more than max_size ({})", config.max_size),
        ));
    }
    positive(
        &format!("{place}.connection_timeout"),
        config.connection_timeout,
    )?;
    for (name, value) in [
        ("idle_timeout", config.idle_timeout),
        ("max_lifetime", config.max_lifetime),
    ] {
        if let Some(value) = value {
            positive(&format!("{place}.{name}"), value)?;
        }
    }
    Ok(())
}

/// Health checks: a zero interval would probe in a busy loop, a zero timeout fail every
/// probe, a zero threshold open every circuit at once.
pub(crate) fn health(config: &HealthConfig) -> Result<(), ConfigError> {
    positive("health.interval", config.interval)?;
    positive("health.timeout", config.timeout)?;
    if config.failure_threshold == 0 {
        return Err(bad("health.failure_threshold", "must be at least 1"));
    }
    Ok(())
}

/// The statement timeout: when there is one, more than 0.
pub(crate) fn statement_timeout(timeout: Option<Duration>) -> Result<(), ConfigError> {
    match timeout {
        Some(after) => positive("timeouts.statement", after),
        None => Ok(()),
    }
}

/// A shard's name (`index` is its position, for a name that can't be shown).
pub(crate) fn shard_name(index: usize, name: &str) -> Result<(), ConfigError> {
    let place = format!("shards[{index}].name");
    if name.trim().is_empty() {
        return Err(bad(place, "is empty"));
    }
    if name.chars().any(char::is_control) {
        return Err(bad(place, format!("{name:?} has a control character")));
    }
    if name.trim() != name {
        return Err(bad(
            place,
            format!("{name:?} starts or ends with white space"),
        ));
    }
    Ok(())
}

/// A shard's servers: at least a primary host, and URLs that can be used.
pub(crate) fn shard_nodes(name: &str, nodes: &ShardNodes) -> Result<(), ConfigError> {
    if nodes.primaries.is_empty() {
        return Err(ConfigError::NoPrimaryHost {
            shard: name.to_owned(),
        });
    }
    let urls = nodes
        .primaries
        .iter()
        .enumerate()
        .map(|(i, url)| {
            (
                if i == 0 {
                    "url".to_owned()
                } else {
                    format!("failover_hosts[{}]", i - 1)
                },
                url,
            )
        })
        .chain(
            nodes
                .replicas
                .iter()
                .enumerate()
                .map(|(i, url)| (format!("replicas[{i}]"), url)),
        );
    for (field, url) in urls {
        let place = format!("shards.{name}.{field}");
        if url.trim().is_empty() {
            return Err(bad(place, "is empty"));
        }
        if url.chars().any(char::is_control) {
            return Err(bad(place, "has a control character"));
        }
        if url.contains("${") {
            return Err(bad(
                place,
                "has a `${` that was not substituted (an unclosed `${VAR`?)",
            ));
        }
    }
    for (i, sql) in nodes.session_sql.iter().enumerate() {
        if sql.trim().is_empty() {
            return Err(bad(format!("shards.{name}.session_sql[{i}]"), "is empty"));
        }
    }
    Ok(())
}

/// Topology-wide session SQL.
pub(crate) fn session_sql(sql: &[String]) -> Result<(), ConfigError> {
    match sql.iter().position(|s| s.trim().is_empty()) {
        Some(i) => Err(bad(format!("session_sql[{i}]"), "is empty")),
        None => Ok(()),
    }
}
