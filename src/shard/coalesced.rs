//! The coalesced find of [`Sharded`] (see [`super::coalesce`]).

use super::attempts::Fresh;
use super::coalesce::{Answer, Group, Turn, Waiter, answer};
use super::operation::{Load, Operation};
use super::{Plan, ShardId, Sharded};
use crate::cluster::ShardConnection;
use crate::key::methods::{FindManyByKeys, FindManyStatement};
use crate::key::{KeyOf, Keyed, KeyedTable};
use crate::{Error, Result};
use std::sync::Arc;

type Backend<C> = <C as diesel_async::AsyncConnectionCore>::Backend;

/// One of a group's in-flight lookups. Dropped (its lookup done, or its caller gone), it
/// passes to the queue's first waiter.
struct Slot<R: Keyed> {
    group: Arc<Group<R>>,
    max_batch: usize,
}

impl<R: Keyed> Drop for Slot<R> {
    fn drop(&mut self) {
        self.group.pass_on(self.max_batch);
    }
}

/// A leader's batch not answered yet: dropped unanswered (the leader gave up), it goes back
/// to the head of the queue, before the leader's slot passes on.
struct Unanswered<R: Keyed> {
    group: Arc<Group<R>>,
    waiters: Option<Vec<Waiter<R>>>,
}

impl<R: Keyed> Drop for Unanswered<R> {
    fn drop(&mut self) {
        if let Some(waiters) = self.waiters.take() {
            self.group.requeue(waiters);
        }
    }
}

impl<C: ShardConnection> Sharded<C> {
    /// Whether a find of `table` through this copy of the handle is coalesced.
    pub(crate) fn coalesces(&self, table: &str) -> bool {
        let config = self.coalesce_config();
        self.coalescing
            && config.enabled
            && self.session.is_none()
            && self.timeout.is_none()
            && (config.off_tables.is_empty() || !config.off_tables.contains(table))
    }

    /// A coalesced find of `key` on `shard`: at once if few lookups of the table are in
    /// flight there (`direct` runs it alone), else in a batch.
    pub(crate) async fn find_coalesced<R, F>(
        &self,
        shard: ShardId,
        key: KeyOf<R>,
        direct: F,
    ) -> Result<Option<R>>
    where
        R: FindManyByKeys<Backend<C>> + Send + 'static,
        Load<R>: Operation<C, FindManyStatement<R, Backend<C>>, Output = Vec<R>>,
        F: Future<Output = Result<Option<R>>>,
    {
        let config = self.coalesce_config();
        let max_batch = config.max_batch.min(R::keys_per_statement()).max(1);
        let group = self.coalescer().group::<R>(shard);
        match group.enter(&key, config.in_flight) {
            Turn::Now => {
                let _slot = Slot { group, max_batch };
                direct.await
            }
            Turn::Wait(told) => match told.await {
                Ok(Answer::Row(row)) => row,
                Ok(Answer::Lead(others)) => {
                    self.lead::<R>(shard, group, max_batch, key, others).await
                }
                Err(_) => Err(Error::Internal {
                    what: "a coalesced lookup ended without an answer",
                }),
            },
        }
    }

    /// Runs a batch: `key` and `others`' keys in one statement; answers the others and
    /// returns `key`'s row. Holds the slot it was handed until it returns.
    async fn lead<R>(
        &self,
        shard: ShardId,
        group: Arc<Group<R>>,
        max_batch: usize,
        key: KeyOf<R>,
        others: Vec<Waiter<R>>,
    ) -> Result<Option<R>>
    where
        R: FindManyByKeys<Backend<C>> + Send + 'static,
        Load<R>: Operation<C, FindManyStatement<R, Backend<C>>, Output = Vec<R>>,
    {
        // Declared first, dropped last: the unanswered batch is back in the queue before
        // the slot passes on.
        let _slot = Slot {
            group: group.clone(),
            max_batch,
        };
        let mut unanswered = Unanswered {
            group,
            waiters: Some(others),
        };
        let keys: Vec<KeyOf<R>> = std::iter::once(key.clone())
            .chain(unanswered.waiters.iter().flatten().map(|w| w.key.clone()))
            .collect();
        let count = keys.len();
        let query = move || R::find_many_statement(keys.clone());
        let rows = self
            .run_on(
                shard,
                Plan::read(Some(<R::Table as KeyedTable>::NAME)),
                Load::new(),
                Fresh(query),
            )
            .await;
        self.coalescer().count(count);
        #[cfg(feature = "metrics")]
        metrics::histogram!("grant_coalesced_batch_keys").record(count as f64);
        let others = unanswered.waiters.take().unwrap_or_default();
        answer(&key, others, rows)
    }
}
