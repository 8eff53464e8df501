//! Atomic batches: `insert_all` whose rows land on every shard or on none.

use crate::Result;
use crate::cluster::ShardConnection;
use crate::key::{InsertMany, KeyFuture, Keyed, KeyedTable};
use crate::shard::records::InsertManyOp;
use crate::shard::{PerShard, ShardId, ShardResult, Sharded};

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
        let mut tx = self.transaction_across()?;
        let groups = self.group_by_shard(records)?;
        let mut results = Vec::with_capacity(groups.len());
        for (i, group) in groups.iter().enumerate() {
            let shard = ShardId(i as u32);
            let name = self.cluster(shard)?.name().clone();
            let count = if group.is_empty() {
                0
            } else {
                let run = tx
                    .run_op(
                        shard,
                        Some(R::Table::NAME),
                        crate::shard::Access::Write,
                        InsertManyOp,
                        group.as_slice(),
                    )
                    .await;
                match run {
                    Ok(count) => count,
                    Err(e) => {
                        tx.rollback().await;
                        return Err(e);
                    }
                }
            };
            results.push(ShardResult {
                shard,
                name,
                value: count,
            });
        }
        tx.commit().await?;
        Ok(PerShard::new(results))
    }
}
