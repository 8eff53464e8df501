//! The end of a transaction across shards: the two phases, the decision, and rolling back.

use super::{CrossState, bounded, recover};
use crate::cluster::ShardConnection;
use crate::{Error, Result};

/// Rolls back every branch; the first `prepared` (after the decider) are prepared. Best
/// effort: a branch that cannot be rolled back now stays for [`Sharded::recover_in_doubt`]
/// (no decision exists, so recovery aborts it).
pub(super) async fn roll_back<C: ShardConnection>(state: CrossState<'_, C>, prepared: usize) {
    let id = state.id.unwrap_or_default();
    for (i, mut branch) in state.branches.into_iter().enumerate() {
        let statements = if i >= 1 && i <= prepared {
            vec![state.dialect.rollback_prepared(&id, &branch.hash)]
        } else {
            state.dialect.rollback_open(&id, &branch.hash)
        };
        match bounded(branch.conn.conn(), &statements, state.timeout).await {
            Ok(()) => branch.conn.finished(),
            Err(_) => {
                tracing::warn!(id, shard = %branch.name, "a branch could not be rolled back now; recover_in_doubt() will");
            }
        }
    }
}

/// Commits: one phase for one shard; otherwise prepare, decide on the decider, commit the
/// prepared branches.
pub(super) async fn finish<C: ShardConnection>(mut state: CrossState<'_, C>) -> Result<()> {
    let (dialect, timeout) = (state.dialect, state.timeout);
    let Some(id) = state.id.clone() else {
        return Ok(()); // No statement ran.
    };
    if state.branches.len() == 1 {
        let mut branch = state.branches.remove(0);
        bounded(
            branch.conn.conn(),
            &dialect.commit_one_phase(&id, &branch.hash),
            timeout,
        )
        .await
        .map_err(|e| e.on(&branch.name))?;
        branch.conn.finished();
        return Ok(());
    }
    // Phase one: every branch but the decider's prepares.
    for i in 1..state.branches.len() {
        let branch = &mut state.branches[i];
        let prepare = dialect.prepare(&id, &branch.hash);
        if let Err(e) = bounded(branch.conn.conn(), &prepare, timeout).await {
            // Before the decision: nothing is applied anywhere (a branch that cannot be
            // rolled back now has no decision, so recovery aborts it).
            let cause = format!(
                "shard `{}` could not prepare: {}",
                branch.name,
                e.on(&branch.name)
            );
            roll_back(state, i - 1).await;
            return Err(Error::TransactionAborted { id, cause });
        }
        if i == 1 {
            crate::failpoint::crash_at("2pc.after_first_prepare");
        }
    }
    crate::failpoint::crash_at("2pc.after_prepares");
    // The decision: the decider's own transaction records it and commits.
    let decider = &mut state.branches[0];
    let decided = bounded(decider.conn.conn(), &[dialect.decide_commit(&id)], timeout).await;
    if let Err(e) = decided {
        let cause = e.on(&decider.name).to_string();
        let prepared = state.branches.len() - 1;
        roll_back(state, prepared).await;
        return Err(Error::TransactionAborted { id, cause });
    }
    let committed = bounded(
        decider.conn.conn(),
        &dialect.commit_one_phase(&id, &decider.hash),
        timeout,
    )
    .await;
    if committed.is_ok() {
        crate::failpoint::crash_at("2pc.after_decision");
    }
    let decider_name = decider.name.clone();
    let decider_shard = decider.shard;
    let commit = match committed {
        Ok(()) => true,
        // The commit's outcome is unknown: the decision table says it.
        Err(_) => {
            tracing::warn!(id, shard = %decider_name, "the decision's commit failed; reading it back");
            let decider_cluster = state.sharded.cluster_by_id(decider_shard)?;
            recover::decide(decider_cluster, dialect, &id, timeout)
                .await
                .map_err(|cause| Error::TransactionInDoubt {
                    id: id.clone(),
                    shard: decider_name.to_string(),
                    cause,
                })?
        }
    };
    let mut branches = state.branches.into_iter();
    let Some(mut decider) = branches.next() else {
        return Ok(());
    };
    // Phase two: the prepared branches follow the decision.
    let mut pending = Vec::new();
    for mut branch in branches {
        let statement = if commit {
            dialect.commit_prepared(&id, &branch.hash)
        } else {
            dialect.rollback_prepared(&id, &branch.hash)
        };
        match bounded(branch.conn.conn(), &[statement], timeout).await {
            Ok(()) => branch.conn.finished(),
            Err(_) => pending.push(branch.name.to_string()),
        }
        crate::failpoint::crash_at("2pc.after_first_commit");
    }
    if !commit {
        return Err(Error::TransactionAborted {
            id,
            cause: "a recovery decided to abort before the coordinator".into(),
        });
    }
    if !pending.is_empty() {
        tracing::warn!(id, shards = ?pending, "committed, but these branches are still prepared: recover_in_doubt() commits them");
        return Ok(());
    }
    // Every branch committed: the decision is no longer needed. (A recovery that read the
    // branch list before these commits finds no branch left to act on.)
    if bounded(decider.conn.conn(), &[dialect.forget(&id)], timeout)
        .await
        .is_ok()
    {
        decider.conn.finished();
    }
    Ok(())
}
