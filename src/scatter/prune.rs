//! Shard pruning: a scatter query asks only the shards that can hold the rows it is pinned
//! to, by shard keys or by a range of the first shard-key column.

use super::Scatter;
use crate::Result;
use crate::cluster::ShardConnection;
use crate::shard::strategy::KeyRange;
use crate::shard::{RoutableBy, RouteKey};
use std::ops::{Bound, RangeBounds};

impl<C: ShardConnection, Q, S, O, P> Scatter<'_, C, Q, S, O, P> {
    /// Asks only the shards that hold these shard keys (of the query's table, or of a table
    /// co-located with it); each shard once, in topology order. The query's own `filter`
    /// still decides which rows come back: pruning only skips shards that cannot hold them.
    ///
    /// ```
    /// # use grant::__doc_schema::{order_items, OrderItem, two_sqlite_shards};
    /// use grant::prelude::*;
    /// # #[tokio::main]
    /// # async fn main() -> grant::Result<()> {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// let orders = [1_i64, 2];
    /// let n = shards
    ///     .scatter(order_items::table.filter(order_items::order_id.eq_any(orders)))
    ///     .for_shard_keys(orders.map(order_items::ShardKey::from))?
    ///     .count()
    ///     .await?;
    /// assert_eq!(n, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn for_shard_keys<K>(mut self, keys: impl IntoIterator<Item = K>) -> Result<Self>
    where
        K: RouteKey,
        Q: RoutableBy<K::Table>,
    {
        let routing = self.sharded.routing();
        let mut shards = Vec::new();
        for key in keys {
            shards.push(routing.shard_for_key(&key)?);
        }
        shards.sort_unstable();
        shards.dedup();
        self.shards = Some(shards);
        Ok(self)
    }

    /// Asks only the shards that may hold shard keys in `range` (compared on the first
    /// shard-key column): a range or time-range strategy names them; other strategies
    /// (hash, lookup) spread a range over every shard, so all are asked.
    ///
    /// ```
    /// # use grant::__doc_schema::{order_items, two_sqlite_shards};
    /// use grant::prelude::*;
    /// use order_items::ShardKey;
    /// # #[tokio::main]
    /// # async fn main() -> grant::Result<()> {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// let n = shards
    ///     .scatter(order_items::table.filter(order_items::order_id.between(100, 199)))
    ///     .for_shard_key_range(ShardKey::from(100)..=ShardKey::from(199))?
    ///     .count()
    ///     .await?;
    /// assert_eq!(n, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn for_shard_key_range<K>(mut self, range: impl RangeBounds<K>) -> Result<Self>
    where
        K: RouteKey,
        Q: RoutableBy<K::Table>,
    {
        fn first<K: RouteKey>(bound: Bound<&K>) -> Bound<crate::key::PartValue<'_>> {
            match bound {
                Bound::Included(k) => Bound::Included(k.shard_values().first()),
                Bound::Excluded(k) => Bound::Excluded(k.shard_values().first()),
                Bound::Unbounded => Bound::Unbounded,
            }
        }
        let range = KeyRange::new(first(range.start_bound()), first(range.end_bound()));
        let routing = self.sharded.routing();
        let strategy = routing.strategy_for_key::<K>()?;
        let mut shards =
            strategy
                .shards_for_range(&range)
                .map_err(|source| crate::Error::KeyNotRoutable {
                    table: K::TABLE,
                    source,
                })?;
        shards.sort_unstable();
        shards.dedup();
        self.shards = Some(shards);
        Ok(self)
    }
}
