//! The coalesced find of [`Sharded`] (see [`super::coalesce`]).

use super::attempts::Fresh;
use super::coalesce::{Group, Turn, Waiter, answer};
use super::operation::{Load, Operation};
use super::{Plan, ShardId, Sharded};
use crate::cluster::ShardConnection;
use crate::key::methods::{FindManyByKeys, FindManyStatement};
use crate::key::{KeyOf, Keyed};
use crate::{Error, Result};
use futures_util::future::BoxFuture;
use std::sync::Arc;

type Backend<C> = <C as diesel_async::AsyncConnectionCore>::Backend;

/// Runs a batch of waiters.
type Launch<R, C> = fn(Slot<R, C>, Vec<Waiter<R>>) -> BoxFuture<'static, ()>;

/// One of a group's in-flight lookups. Dropped (its lookup done, or its caller gone), it
/// passes itself on to the queue's next batch, on a task of its own.
pub(crate) struct Slot<R: Keyed, C: ShardConnection> {
    sharded: Sharded<C>,
    group: Arc<Group<R>>,
    shard: ShardId,
    max_batch: usize,
    launch: Launch<R, C>,
    armed: bool,
}

impl<R: Keyed, C: ShardConnection> Slot<R, C> {
    /// The slot was given back (nobody waits): dropping it passes nothing on.
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl<R: Keyed, C: ShardConnection> Drop for Slot<R, C> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Some(batch) = self.group.next_batch(self.max_batch) else {
            return;
        };
        let next = Slot {
            sharded: self.sharded.clone(),
            group: self.group.clone(),
            shard: self.shard,
            max_batch: self.max_batch,
            launch: self.launch,
            armed: true,
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn((self.launch)(next, batch));
            }
            // Outside a runtime (a handle dropped at exit): nobody can run the batch.
            Err(_) => {
                next.disarm();
                drop(batch);
            }
        }
    }
}

/// Runs batches until the queue is empty.
fn run_batches<R, C>(slot: Slot<R, C>, batch: Vec<Waiter<R>>) -> BoxFuture<'static, ()>
where
    C: ShardConnection,
    R: FindManyByKeys<Backend<C>> + Send + 'static,
    Load<R>: Operation<C, FindManyStatement<R, Backend<C>>, Output = Vec<R>>,
{
    Box::pin(async move {
        let mut batch = batch;
        loop {
            let keys: Vec<KeyOf<R>> = batch.iter().map(|w| w.key.clone()).collect();
            let query = move || R::find_many_statement(keys.clone());
            let rows = slot
                .sharded
                .run_on(
                    slot.shard,
                    Plan::read(Some(<R::Table as crate::key::KeyedTable>::NAME)),
                    Load::new(),
                    Fresh(query),
                )
                .await;
            slot.sharded.coalescer().count(batch.len());
            #[cfg(feature = "metrics")]
            metrics::histogram!("grant_coalesced_batch_keys").record(batch.len() as f64);
            answer(batch, rows);
            match slot.group.next_batch(slot.max_batch) {
                Some(next) => batch = next,
                None => return slot.disarm(),
            }
        }
    })
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
    /// flight there, else in the next batch. `direct` runs it alone.
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
        let group = self.coalescer().group::<R>(shard);
        match group.enter(&key, config.in_flight) {
            Turn::Wait(answer) => answer.await.unwrap_or(Err(Error::Internal {
                what: "a coalesced lookup ended without an answer",
            })),
            Turn::Now => {
                let _slot = Slot {
                    sharded: self.plain(),
                    group,
                    shard,
                    max_batch: config.max_batch.min(R::keys_per_statement()),
                    launch: run_batches::<R, C>,
                    armed: true,
                };
                direct.await
            }
        }
    }
}
