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

/// How a find entered its group: it goes out now, or waits in the queue.
pub(crate) enum Entered<R: Keyed> {
    /// Go out now; the slot passes on when dropped.
    Now(Slot<R>),
    /// Wait to be told the row, or to lead a batch.
    Wait {
        told: tokio::sync::oneshot::Receiver<Answer<R>>,
        group: Arc<Group<R>>,
        max_batch: usize,
    },
}

/// One of a group's in-flight lookups. Dropped (its lookup done, or its caller gone), it
/// passes to the queue's first waiter.
pub(crate) struct Slot<R: Keyed> {
    group: Arc<Group<R>>,
    max_batch: usize,
}

impl<R: Keyed> Drop for Slot<R> {
    fn drop(&mut self) {
        self.group.pass_on(self.max_batch);
    }
}

/// A find waiting for its answer. Dropped before it read one (its caller gone), it takes
/// back a lead it was sent and not yet received: the batch goes back to the queue and the
/// slot that came with it passes on.
struct Waiting<R: Keyed> {
    told: tokio::sync::oneshot::Receiver<Answer<R>>,
    group: Arc<Group<R>>,
    max_batch: usize,
    answered: bool,
}

impl<R: Keyed> Drop for Waiting<R> {
    fn drop(&mut self) {
        if self.answered {
            return;
        }
        // Closed first: a lead sent from now on comes back to its sender, who passes it on.
        self.told.close();
        if let Ok(Answer::Lead(others)) = self.told.try_recv() {
            self.group.requeue(others);
            self.group.pass_on(self.max_batch);
        }
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

    /// Enters the coalescing of `key`'s lookup on `shard`: go out now (holding a slot,
    /// passed on when dropped), or wait for an answer.
    pub(crate) fn coalesce_enter<R>(&self, shard: ShardId, key: &KeyOf<R>) -> Entered<R>
    where
        R: FindManyByKeys<Backend<C>> + Send + 'static,
    {
        let config = self.coalesce_config();
        let max_batch = config.max_batch.min(R::keys_per_statement()).max(1);
        let group = self.coalescer().group::<R>(shard);
        match group.enter(key, config.in_flight) {
            Turn::Now => Entered::Now(Slot { group, max_batch }),
            Turn::Wait(told) => Entered::Wait {
                told,
                group,
                max_batch,
            },
        }
    }

    /// Waits for a coalesced answer, or leads the batch when told to.
    pub(crate) async fn await_turn<R>(
        &self,
        shard: ShardId,
        key: KeyOf<R>,
        entered: Entered<R>,
    ) -> Result<Option<R>>
    where
        R: FindManyByKeys<Backend<C>> + Send + 'static,
        Load<R>: Operation<C, FindManyStatement<R, Backend<C>>, Output = Vec<R>>,
    {
        let Entered::Wait {
            told,
            group,
            max_batch,
        } = entered
        else {
            return Err(Error::Internal {
                what: "a coalesced lookup waited without a place in the queue",
            });
        };
        let mut waiting = Waiting {
            told,
            group,
            max_batch,
            answered: false,
        };
        let answer = (&mut waiting.told).await;
        waiting.answered = true;
        let (group, max_batch) = (waiting.group.clone(), waiting.max_batch);
        match answer {
            Ok(Answer::Row(row)) => row,
            Ok(Answer::Lead(others)) => self.lead::<R>(shard, group, max_batch, key, others).await,
            Err(_) => Err(Error::Internal {
                what: "a coalesced lookup ended without an answer",
            }),
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
