//! `GROUP BY` across shards: each shard groups and aggregates its rows; the groups are
//! merged (a group's partial aggregates from every shard combined), then ordered and
//! limited.

use super::aggregate::Aggregate;
use super::policy::within;
use super::policy::{FailFast, FailurePolicy};
use super::value::{NullOrdering, SortSql, SortValue};
use crate::Result;
use crate::cluster::ShardConnection;
use crate::shard::{Fresh, Plan};
use crate::shard::{ShardId, Sharded};
use diesel::Expression;
use std::cmp::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::shard_query::{GroupValue, GroupedQuery};
type Comparator<R> = Box<dyn Fn(&R, &R) -> Ordering + Send + Sync>;
type Predicate<R> = Box<dyn Fn(&R) -> bool + Send + Sync>;

/// A scatter query grouped by `G`: choose the aggregates with [`GroupedScatter::aggregate`].
#[must_use = "a grouped scatter query runs only when its aggregates are loaded"]
pub struct GroupedScatter<'a, C: ShardConnection, Q, G, P = FailFast> {
    sharded: &'a Sharded<C>,
    query: Q,
    group: G,
    targets: Vec<(ShardId, Arc<str>)>,
    timeout: Option<Duration>,
    limit: Option<i64>,
    offset: i64,
    _policy: std::marker::PhantomData<P>,
}

impl<'a, C: ShardConnection, Q, G, P> GroupedScatter<'a, C, Q, G, P> {
    pub(crate) fn new(
        sharded: &'a Sharded<C>,
        query: Q,
        group: G,
        targets: Vec<(ShardId, Arc<str>)>,
        timeout: Option<Duration>,
        limit: Option<i64>,
        offset: i64,
    ) -> Self {
        GroupedScatter {
            sharded,
            query,
            group,
            targets,
            timeout,
            limit,
            offset,
            _policy: std::marker::PhantomData,
        }
    }

    /// The aggregates of each group (one, or a tuple; see [`super::agg`]).
    ///
    /// ```
    /// # use grant::__doc_schema::{order_items, OrderItem, two_sqlite_shards};
    /// use grant::prelude::*;
    /// use grant::scatter::agg;
    /// # #[tokio::main]
    /// # async fn main() -> grant::Result<()> {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// let items: Vec<OrderItem> = (1..=6).map(|o| OrderItem { order_id: o, product_id: o % 2, quantity: o as i32 }).collect();
    /// shards.insert_all(&items).await?;
    /// // Total quantity per product, largest first.
    /// let totals = shards
    ///     .scatter(order_items::table)
    ///     .group_by(order_items::product_id)
    ///     .aggregate((agg::count_star(), agg::sum(order_items::quantity)))
    ///     .order_by_desc(|(_, (_, sum))| *sum)
    ///     .load()
    ///     .await?;
    /// assert_eq!(totals, vec![(0, (3, Some(12))), (1, (3, Some(9)))]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn aggregate<A: Aggregate>(self, aggregates: A) -> GroupedAggregate<'a, C, Q, G, A, P>
    where
        G: Expression,
        G::SqlType: SortSql,
    {
        GroupedAggregate {
            grouped: self,
            aggregates,
            order: Vec::new(),
            having: Vec::new(),
        }
    }
}

/// A grouped scatter query with its aggregates: order, limit, then [`GroupedAggregate::load`].
#[must_use = "a grouped scatter query runs only when it is loaded"]
pub struct GroupedAggregate<'a, C: ShardConnection, Q, G, A, P>
where
    G: Expression,
    G::SqlType: SortSql,
    A: Aggregate,
{
    grouped: GroupedScatter<'a, C, Q, G, P>,
    aggregates: A,
    order: Vec<Comparator<(GroupValue<G>, A::Output)>>,
    having: Vec<Predicate<(GroupValue<G>, A::Output)>>,
}

impl<'a, C, Q, G, A, P> GroupedAggregate<'a, C, Q, G, A, P>
where
    C: ShardConnection,
    G: Expression,
    G::SqlType: SortSql,
    A: Aggregate,
{
    /// Keeps the merged groups for which `condition` holds: SQL's `HAVING`, applied to each
    /// group's merged aggregates (a per-shard `HAVING` would test partial aggregates and be
    /// wrong). Several calls must all hold.
    ///
    /// ```
    /// # use grant::__doc_schema::{order_items, OrderItem, two_sqlite_shards};
    /// use grant::prelude::*;
    /// use grant::scatter::agg;
    /// # #[tokio::main]
    /// # async fn main() -> grant::Result<()> {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// let items: Vec<OrderItem> = (1..=6).map(|o| OrderItem { order_id: o, product_id: o % 3, quantity: o as i32 }).collect();
    /// shards.insert_all(&items).await?;
    /// // Products whose total quantity is over 6 (HAVING sum(quantity) > 6).
    /// let big = shards
    ///     .scatter(order_items::table)
    ///     .group_by(order_items::product_id)
    ///     .aggregate(agg::sum(order_items::quantity))
    ///     .having(|(_, sum)| sum.unwrap_or(0) > 6)
    ///     .load()
    ///     .await?;
    /// assert_eq!(big, vec![(0, Some(9)), (2, Some(7))]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn having(
        mut self,
        condition: impl Fn(&(GroupValue<G>, A::Output)) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.having.push(Box::new(condition));
        self
    }

    /// Orders the merged groups by `key`, ascending (`NULL` where the backend puts it).
    /// Each call adds a term: the first call orders, the next ones break its ties (each in
    /// its own direction). Groups that tie on every term come in ascending order of the
    /// group value, which is also the order without any term.
    pub fn order_by_asc<K: SortValue>(
        self,
        key: impl Fn(&(GroupValue<G>, A::Output)) -> K + Send + Sync + 'static,
    ) -> Self
where {
        self.ordered(key, false)
    }

    /// Orders the merged groups by `key`, descending; adds a term like
    /// [`order_by_asc`](Self::order_by_asc).
    ///
    /// ```
    /// # use grant::__doc_schema::{order_items, OrderItem, two_sqlite_shards};
    /// use grant::prelude::*;
    /// use grant::scatter::agg;
    /// # #[tokio::main]
    /// # async fn main() -> grant::Result<()> {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// let items: Vec<OrderItem> = (1..=6).map(|o| OrderItem { order_id: o, product_id: o % 3, quantity: 1 }).collect();
    /// shards.insert_all(&items).await?;
    /// // By count descending, then by product descending (ORDER BY count(*) DESC, product_id DESC).
    /// let rows = shards
    ///     .scatter(order_items::table)
    ///     .group_by(order_items::product_id)
    ///     .aggregate(agg::count_star())
    ///     .order_by_desc(|(_, n)| *n)
    ///     .order_by_desc(|(p, _)| *p)
    ///     .load()
    ///     .await?;
    /// assert_eq!(rows, vec![(2, 2), (1, 2), (0, 2)]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn order_by_desc<K: SortValue>(
        self,
        key: impl Fn(&(GroupValue<G>, A::Output)) -> K + Send + Sync + 'static,
    ) -> Self
where {
        self.ordered(key, true)
    }

    fn ordered<K: SortValue>(
        mut self,
        key: impl Fn(&(GroupValue<G>, A::Output)) -> K + Send + Sync + 'static,
        descending: bool,
    ) -> Self
where {
        let nulls_largest = <C::Dialect as NullOrdering>::NULLS_LARGEST;
        self.order.push(Box::new(move |a, b| {
            let o = key(a).cmp_sql(&key(b), nulls_largest);
            if descending { o.reverse() } else { o }
        }));
        self
    }

    /// At most `n` groups.
    pub fn limit(mut self, n: i64) -> Self {
        self.grouped.limit = Some(n.max(0));
        self
    }

    /// Skips `n` groups.
    pub fn offset(mut self, n: i64) -> Self {
        self.grouped.offset = n.max(0);
        self
    }

    /// Runs on every shard in parallel and merges: one row per group,
    /// `(group value, aggregates)`, ordered and limited.
    pub async fn load(self) -> Result<P::Output<Vec<(GroupValue<G>, A::Output)>>>
    where
        P: FailurePolicy,
        G: Sync,
        Q: GroupedQuery<C, G, A>,
    {
        let g = &self.grouped;
        let timeout = g.timeout;
        let runs = g
            .targets
            .iter()
            .map(|(shard, name)| {
                let query = || g.query.grouped_statement(&g.group, &self.aggregates);
                let fut =
                    g.sharded
                        .run_on(*shard, Plan::read(None), Q::grouped_run(), Fresh(query));
                let shard_name = name.clone();
                let guarded = async move { within(timeout, &shard_name, fut).await };
                (*shard, name.clone(), guarded)
            })
            .collect();
        let (per_shard, failed) = P::run_all(runs).await?;

        let nulls_largest = <C::Dialect as NullOrdering>::NULLS_LARGEST;
        let mut rows: Vec<(GroupValue<G>, A::Partial)> = per_shard.into_iter().flatten().collect();
        rows.sort_by(|a, b| a.0.cmp_sql(&b.0, nulls_largest));
        let mut groups: Vec<(GroupValue<G>, A::Output)> = Vec::new();
        let mut rows = rows.into_iter().peekable();
        while let Some((value, partial)) = rows.next() {
            let mut partials = vec![partial];
            while let Some((_, next)) =
                rows.next_if(|(v, _)| v.cmp_sql(&value, nulls_largest) == Ordering::Equal)
            {
                partials.push(next);
            }
            groups.push((value, A::merge::<C::Dialect>(partials)?));
        }
        groups.retain(|group| self.having.iter().all(|holds| holds(group)));
        if !self.order.is_empty() {
            // Stable: groups tied on every term stay in group-value order.
            groups.sort_by(|a, b| {
                self.order
                    .iter()
                    .map(|term| term(a, b))
                    .find(|o| *o != Ordering::Equal)
                    .unwrap_or(Ordering::Equal)
            });
        }
        let offset = usize::try_from(g.offset).unwrap_or(usize::MAX);
        let limit = g
            .limit
            .map(|l| usize::try_from(l).unwrap_or(usize::MAX))
            .unwrap_or(usize::MAX);
        let groups = groups.into_iter().skip(offset).take(limit).collect();
        Ok(P::finish(groups, failed))
    }
}

crate::opaque_debug::opaque_debug!(['a, C: ShardConnection, Q, G, P] GroupedScatter<'a, C, Q, G, P>, "GroupedScatter");
crate::opaque_debug::opaque_debug!(['a, C: ShardConnection, Q, G, A, P] GroupedAggregate<'a, C, Q, G, A, P>, "GroupedAggregate" where G: Expression, G::SqlType: SortSql, A: Aggregate);
