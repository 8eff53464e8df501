//! Settling the branches a coordinator left prepared (it crashed, or lost a connection):
//! each follows the decision on its transaction's decider, and a transaction without a
//! decision is decided `abort` there first.

use super::protocol::{self, Dialect};
use crate::cluster::exec::StatementTimeout;
use crate::cluster::{Cluster, ShardConnection};
use crate::{Result, Sharded};

/// What [`Sharded::recover_in_doubt`] did.
///
/// ```
/// let r = grant::shard::Recovery::default();
/// assert_eq!(r.committed + r.rolled_back, 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Recovery {
    /// Prepared branches committed (their transaction's decision was `commit`).
    pub committed: usize,
    /// Prepared branches rolled back (the decision was `abort`, or there was none).
    pub rolled_back: usize,
    /// Branches that could not be settled now, with why (a shard down, a decider no shard
    /// of the topology has); running the recovery again retries them.
    pub unsettled: Vec<String>,
}

/// The decision of transaction `id` on its decider `cluster`: `abort` is recorded first
/// when there is none (waiting while a live coordinator's uncommitted `commit` holds the
/// key). `Ok(true)`: commit.
pub(crate) async fn decide<C: ShardConnection>(
    cluster: &Cluster<C>,
    dialect: Dialect,
    id: &str,
    timeout: StatementTimeout,
) -> std::result::Result<bool, String> {
    let (_, node) = cluster.current_primary();
    let mut conn = node.checkout().await.map_err(|e| e.to_string())?;
    let statements = [
        dialect.create_decisions(),
        dialect.decide_abort_unless_decided(id),
    ];
    super::bounded(conn.conn(), &statements, timeout)
        .await
        .map_err(|e| e.on(cluster.name()).to_string())?;
    let decision = C::texts(conn.conn(), dialect.read_decision(id))
        .await
        .map_err(|e| e.to_string())?;
    conn.finished();
    match decision.first().map(String::as_str) {
        Some("commit") => Ok(true),
        Some("abort") => Ok(false),
        other => Err(format!("no readable decision for {id}: {other:?}")),
    }
}

impl<C: ShardConnection> Sharded<C> {
    /// Settles grant's prepared branches on every shard: each commits or rolls back by its
    /// transaction's decision; a transaction without one is decided `abort` first (which
    /// waits for a coordinator still deciding, so both decide the same). Idempotent, and
    /// safe to run from several processes at once. Run it at start-up, or after a crash;
    /// SQLite shards have nothing to settle.
    ///
    /// ```
    /// # use grant::__doc_schema::two_sqlite_shards;
    /// # #[tokio::main]
    /// # async fn main() -> grant::Result<()> {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// let settled = shards.recover_in_doubt().await?;
    /// assert!(settled.unsettled.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn recover_in_doubt(&self) -> Result<Recovery> {
        let mut report = Recovery::default();
        let Some(dialect) = Dialect::of(C::BACKEND) else {
            return Ok(report);
        };
        let timeout = self.statement_timeout();
        let mut hashes: Vec<(String, &str)> = Vec::new();
        for name in self.shard_names() {
            let database = self.cluster(name)?.primary_node().db_namespace().to_owned();
            hashes.push((protocol::name_hash(name, &database), name));
        }
        for (hash, name) in &hashes {
            let cluster = self.cluster(*name)?;
            let (_, node) = cluster.current_primary();
            let mut conn = match node.checkout().await {
                Ok(conn) => conn,
                Err(e) => {
                    report.unsettled.push(format!("shard `{name}`: {e}"));
                    continue;
                }
            };
            let branches = C::prepared_branches(conn.conn())
                .await
                .map_err(|e| crate::cluster::exec::statement_error(name, None, e))?;
            for (id, participant) in branches {
                // A branch of this shard (MySQL lists the whole server's).
                if participant != *hash || !protocol::is_id(&id) {
                    continue;
                }
                let decider = protocol::decider_hash(&id);
                let Some((_, decider_name)) = hashes.iter().find(|(h, _)| h == decider) else {
                    report.unsettled.push(format!(
                        "{id} on `{name}`: no shard of the topology is its decider"
                    ));
                    continue;
                };
                let decider_cluster = self.cluster(*decider_name)?;
                let commit = match decide(decider_cluster, dialect, &id, timeout).await {
                    Ok(commit) => commit,
                    Err(cause) => {
                        report.unsettled.push(format!("{id} on `{name}`: {cause}"));
                        continue;
                    }
                };
                let statement = if commit {
                    dialect.commit_prepared(&id, hash)
                } else {
                    dialect.rollback_prepared(&id, hash)
                };
                match super::bounded(conn.conn(), &[statement], timeout).await {
                    Ok(()) if commit => report.committed += 1,
                    Ok(()) => report.rolled_back += 1,
                    // Another recovery (or the coordinator) settled it meanwhile.
                    Err(super::ProtocolError::Db(e)) if protocol::is_unknown_branch(&e) => {}
                    Err(e) => report
                        .unsettled
                        .push(format!("{id} on `{name}`: {}", e.on(name))),
                }
            }
            conn.finished();
        }
        if !report.unsettled.is_empty() {
            tracing::warn!(unsettled = ?report.unsettled, "recover_in_doubt left branches prepared");
        }
        Ok(report)
    }
}
