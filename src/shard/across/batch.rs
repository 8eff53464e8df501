//! Atomic batches: `insert_all` whose rows land on every shard or on none.

use super::CrossTransaction;
use crate::cluster::ShardConnection;
use crate::key::{InsertMany, KeyFuture, Keyed, KeyedTable};
use crate::shard::operation::Operation;
use crate::shard::records::InsertManyOp;
use crate::shard::{Access, PerShard, ShardId, ShardResult, Sharded};
use crate::{Error, Result};

impl<C: ShardConnection> Sharded<C> {
    /// Inserts `records` on their shards in one transaction across the shards: every
    /// shard's rows are inserted, or none (see [`Sharded::transaction_across`]; SQLite
    /// shards give [`crate::Error::TwoPhaseUnavailable`]).
    ///
    /// ```
    /// # use grant::__doc_schema::{OrderItem, two_sqlite_shards};
    /// # #[tokio::main]
    /// # async fn main() {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// let items = [OrderItem { order_id: 1, product_id: 1, quantity: 1 }];
    /// let refused = shards.insert_all_atomic(&items).await;
    /// assert!(matches!(refused, Err(grant::Error::TwoPhaseUnavailable { .. })));
    /// # }
    /// ```
    pub fn insert_all_atomic<'a, R>(&'a self, records: &'a [R]) -> KeyFuture<'a, PerShard<usize>>
    where
        R: Keyed + InsertMany<C> + Clone + Send + Sync,
    {
        KeyFuture::new(self.insert_atomic(records))
    }

    async fn insert_atomic<R>(&self, records: &[R]) -> Result<PerShard<usize>>
    where
        R: Keyed + InsertMany<C> + Clone + Send + Sync,
    {
        let tx = self.transaction_across()?;
        let groups = self.group_by_shard(records)?;
        let parts = groups
            .iter()
            .enumerate()
            .map(|(i, group)| {
                (
                    ShardId(i as u32),
                    (!group.is_empty()).then_some(group.as_slice()),
                )
            })
            .collect();
        tx.each_then_commit(parts, R::Table::NAME, || InsertManyOp, |_, e| e)
            .await
    }
}

impl<C: ShardConnection> CrossTransaction<'_, C> {
    /// Runs each shard's statement of `parts` (`None`: nothing to run there, the default
    /// counted) in this transaction, then commits: every shard's, or none. At the first
    /// failure every shard rolls back and `wrap(shard name, error)` is returned.
    pub(crate) async fn each_then_commit<Q, O>(
        mut self,
        parts: Vec<(ShardId, Option<Q>)>,
        table: &'static str,
        op: impl Fn() -> O,
        wrap: impl Fn(&str, Error) -> Error,
    ) -> Result<PerShard<O::Output>>
    where
        O: Operation<C, Q>,
        O::Output: Default,
    {
        let mut results = Vec::with_capacity(parts.len());
        for (shard, statement) in parts {
            let name = self.state.sharded.cluster_by_id(shard)?.name().clone();
            let value = match statement {
                None => O::Output::default(),
                Some(statement) => {
                    let run = self
                        .run_op(shard, Some(table), Access::Write, op(), statement)
                        .await;
                    match run {
                        Ok(value) => value,
                        Err(e) => {
                            self.rollback().await;
                            return Err(wrap(&name, e));
                        }
                    }
                }
            };
            results.push(ShardResult { shard, name, value });
        }
        self.commit().await?;
        Ok(PerShard::new(results))
    }
}
