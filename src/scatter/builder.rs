//! [`Scatter`]: the builder of a cross-shard query and its runners (`load`, `aggregate`,
//! `count`, `exists`, `group_by`, `stream`). The module docs of [`crate::scatter`] say what
//! each merge guarantees.

use super::policy::within;
use super::shard_query::{AggregateQuery, DistinctQuery, ExistsQuery, GroupValue, PageQuery};
use super::value::{SortSql, SortValue};
use super::{
    Aggregate, FailFast, FailurePolicy, GroupedScatter, NullOrdering, OrderSpec, OrderedScatter,
    Partial, ScatterStream, ShardFailure, agg, merge,
};
use crate::Result;
use crate::cluster::ShardConnection;
use crate::shard::{Fresh, Plan};
use crate::shard::{ShardId, Sharded};
use diesel::Expression;
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// No ordering yet: rows come back shard after shard.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unordered;

/// An ordering, and the keyset to continue after.
#[derive(Clone)]
pub struct Ordered<O: OrderSpec> {
    spec: O,
    after: Option<O::Values>,
}

/// No selection yet (`.select(..)` gives one).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSelection;

/// A query to run on every shard (or some), built from a Diesel statement: choose the
/// selection, ordering, limit and offset, then `load`, `aggregate`, `count`, `exists`,
/// `group_by(..)` or `stream`.
#[must_use = "a scatter query runs only when one of its runners is awaited"]
pub struct Scatter<'a, C: ShardConnection, Q, S = NoSelection, O = Unordered, P = FailFast> {
    pub(super) sharded: &'a Sharded<C>,
    query: Q,
    selection: S,
    ordering: O,
    limit: Option<i64>,
    offset: i64,
    pub(super) shards: Option<Vec<ShardId>>,
    timeout: Option<Duration>,
    policy: P,
}

impl<C: ShardConnection> Sharded<C> {
    /// A scatter query over `query` (the `FROM`/`WHERE` part; choose the columns with
    /// `.select(..)`). See the [`crate::scatter`] module.
    pub fn scatter<Q: super::ScatterSource>(&self, query: Q) -> Scatter<'_, C, Q> {
        Scatter {
            sharded: self,
            query,
            selection: NoSelection,
            ordering: Unordered,
            limit: None,
            offset: 0,
            shards: None,
            timeout: None,
            policy: FailFast,
        }
    }
}

impl<'a, C: ShardConnection, Q, S, O, P> Scatter<'a, C, Q, S, O, P> {
    /// Adds `predicate` to the query's `WHERE` clause (`AND`), as diesel's `filter` does; each
    /// shard applies it.
    ///
    /// ```
    /// # use grant::__doc_schema::{order_items, OrderItem, two_sqlite_shards};
    /// use grant::prelude::*;
    /// use grant::scatter::asc;
    /// # #[tokio::main]
    /// # async fn main() -> grant::Result<()> {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// let items: Vec<OrderItem> = (1..=6).map(|o| OrderItem { order_id: o, product_id: 1, quantity: o as i32 }).collect();
    /// shards.insert_all(&items).await?;
    /// let rows: Vec<i64> = shards
    ///     .scatter(order_items::table)
    ///     .filter(order_items::quantity.gt(4))
    ///     .or_filter(order_items::order_id.eq(1))
    ///     .select(order_items::order_id)
    ///     .order_by(asc(order_items::order_id))
    ///     .load()
    ///     .await?;
    /// assert_eq!(rows, vec![1, 5, 6]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn filter<F>(self, predicate: F) -> Scatter<'a, C, diesel::dsl::Filter<Q, F>, S, O, P>
    where
        Q: diesel::query_dsl::methods::FilterDsl<F>,
    {
        self.with_query(|q| q.filter(predicate))
    }

    /// Adds `predicate` to the query's `WHERE` clause with `OR`, as diesel's `or_filter`
    /// does.
    pub fn or_filter<F>(self, predicate: F) -> Scatter<'a, C, diesel::dsl::OrFilter<Q, F>, S, O, P>
    where
        Q: diesel::query_dsl::methods::OrFilterDsl<F>,
    {
        self.with_query(|q| q.or_filter(predicate))
    }

    fn with_query<Q2>(self, change: impl FnOnce(Q) -> Q2) -> Scatter<'a, C, Q2, S, O, P> {
        Scatter {
            sharded: self.sharded,
            query: change(self.query),
            selection: self.selection,
            ordering: self.ordering,
            limit: self.limit,
            offset: self.offset,
            shards: self.shards,
            timeout: self.timeout,
            policy: self.policy,
        }
    }

    /// The columns (or `Record::as_select()`) each row has.
    pub fn select<S2>(self, selection: S2) -> Scatter<'a, C, Q, S2, O, P> {
        Scatter {
            sharded: self.sharded,
            query: self.query,
            selection,
            ordering: self.ordering,
            limit: self.limit,
            offset: self.offset,
            shards: self.shards,
            timeout: self.timeout,
            policy: self.policy,
        }
    }

    /// The ordering: one term or a tuple, e.g. `(desc(a), asc(b))`. End it with a unique
    /// key to make the order total.
    pub fn order_by<O2: OrderSpec>(self, ordering: O2) -> Scatter<'a, C, Q, S, Ordered<O2>, P> {
        Scatter {
            sharded: self.sharded,
            query: self.query,
            selection: self.selection,
            ordering: Ordered {
                spec: ordering,
                after: None,
            },
            limit: self.limit,
            offset: self.offset,
            shards: self.shards,
            timeout: self.timeout,
            policy: self.policy,
        }
    }

    /// At most `n` rows, after the offset (pushed down as `LIMIT offset + n`).
    pub fn limit(mut self, n: i64) -> Self {
        self.limit = Some(n.max(0));
        self
    }

    /// Skips `n` rows of the merged result.
    pub fn offset(mut self, n: i64) -> Self {
        self.offset = n.max(0);
        self
    }

    /// Asks only these shards; the default is every shard. To prune by key, see
    /// [`Scatter::for_shard_keys`] and [`Scatter::for_shard_key_range`].
    pub fn only_shards(mut self, shards: impl IntoIterator<Item = ShardId>) -> Self {
        self.shards = Some(shards.into_iter().collect());
        self
    }

    /// A shard that does not answer within `after` fails with [`Error::ShardTimeout`](crate::Error::ShardTimeout).
    pub fn timeout(mut self, after: Duration) -> Self {
        self.timeout = Some(after);
        self
    }

    /// Tolerates failed shards: runners return a [`PartialResult`](super::PartialResult) listing them instead of
    /// failing.
    pub fn partial(self) -> Scatter<'a, C, Q, S, O, Partial> {
        Scatter {
            sharded: self.sharded,
            query: self.query,
            selection: self.selection,
            ordering: self.ordering,
            limit: self.limit,
            offset: self.offset,
            shards: self.shards,
            timeout: self.timeout,
            policy: Partial,
        }
    }

    fn targets(&self) -> Vec<(ShardId, Arc<str>)> {
        let routing = self.sharded.routing();
        match &self.shards {
            Some(shards) => shards
                .iter()
                .map(|s| (*s, routing.name(*s).clone()))
                .collect(),
            None => routing
                .all()
                .map(|s| (s, routing.name(s).clone()))
                .collect(),
        }
    }

    /// Runs `run` on every target shard (with the timeout), under the failure policy.
    async fn fan_out<T, F, Fut>(&self, run: F) -> Result<(Vec<T>, Vec<ShardFailure>)>
    where
        P: FailurePolicy,
        T: Send,
        F: Fn(ShardId) -> Fut,
        Fut: Future<Output = Result<T>> + Send,
    {
        let timeout = self.timeout;
        let runs = self
            .targets()
            .into_iter()
            .map(|(shard, name)| {
                let fut = run(shard);
                let shard_name = name.clone();
                let guarded = async move { within(timeout, &shard_name, fut).await };
                (shard, name, guarded)
            })
            .collect();
        P::run_all(runs).await
    }

    /// The values of `aggregates` over every row of every shard, merged exactly (see
    /// [`agg`]). Awaitable directly as `.aggregate(..).await`.
    pub async fn aggregate<A>(self, aggregates: A) -> Result<P::Output<A::Output>>
    where
        P: FailurePolicy,
        A: Aggregate,
        Q: AggregateQuery<C, A>,
    {
        let (partials, failed) = self
            .fan_out(|shard| {
                let query = || self.query.aggregate_statement(&aggregates);
                self.sharded
                    .run_on(shard, Plan::read(None), Q::aggregate_run(), Fresh(query))
            })
            .await?;
        Ok(P::finish(A::merge::<C::Dialect>(partials)?, failed))
    }

    /// The distinct values of `expr` (a column or a tuple of them) over every shard:
    /// `SELECT DISTINCT expr` on each shard, merged and de-duplicated, in ascending order
    /// (`NULL` where the backend sorts it, and kept as one value, as SQL's `DISTINCT` does).
    /// The merge holds every distinct value in memory. Like [`aggregate`](Self::aggregate), it
    /// reads the whole query: the scatter's ordering, limit and offset do not apply.
    ///
    /// ```
    /// # use grant::__doc_schema::{order_items, OrderItem, two_sqlite_shards};
    /// # #[tokio::main]
    /// # async fn main() -> grant::Result<()> {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// let items: Vec<OrderItem> = (1..=6).map(|o| OrderItem { order_id: o, product_id: o % 3, quantity: 1 }).collect();
    /// shards.insert_all(&items).await?;
    /// let products = shards.scatter(order_items::table).distinct_values(order_items::product_id).await?;
    /// assert_eq!(products, vec![0, 1, 2]);
    /// let n = shards.scatter(order_items::table).count_distinct(order_items::product_id).await?;
    /// assert_eq!(n, 3);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn distinct_values<E>(self, expr: E) -> Result<P::Output<Vec<GroupValue<E>>>>
    where
        P: FailurePolicy,
        E: Expression + Sync,
        E::SqlType: SortSql,
        Q: DistinctQuery<C, E>,
    {
        let (values, failed) = self.merged_distinct(&expr).await?;
        Ok(P::finish(values, failed))
    }

    /// `COUNT(DISTINCT expr)` over every shard: the distinct values merged across shards
    /// (a value on two shards counts once; a sum of per-shard counts would count it twice),
    /// `NULL` not counted.
    pub async fn count_distinct<E>(self, expr: E) -> Result<P::Output<i64>>
    where
        P: FailurePolicy,
        E: Expression + Sync,
        E::SqlType: SortSql,
        Q: DistinctQuery<C, E>,
    {
        let (values, failed) = self.merged_distinct(&expr).await?;
        let count = values.iter().filter(|v| !v.is_null()).count();
        Ok(P::finish(i64::try_from(count).unwrap_or(i64::MAX), failed))
    }

    /// Every shard's distinct values of `expr`, merged: sorted, each once.
    async fn merged_distinct<E>(self, expr: &E) -> Result<(Vec<GroupValue<E>>, Vec<ShardFailure>)>
    where
        P: FailurePolicy,
        E: Expression + Sync,
        E::SqlType: SortSql,
        Q: DistinctQuery<C, E>,
    {
        let (per_shard, failed) = self
            .fan_out(|shard| {
                let query = || self.query.distinct_statement(expr);
                self.sharded
                    .run_on(shard, Plan::read(None), Q::distinct_run(), Fresh(query))
            })
            .await?;
        let nulls_largest = <C::Dialect as NullOrdering>::NULLS_LARGEST;
        let mut values: Vec<GroupValue<E>> = per_shard.into_iter().flatten().collect();
        values.sort_by(|a, b| a.cmp_sql(b, nulls_largest));
        values.dedup_by(|a, b| a.cmp_sql(b, nulls_largest) == std::cmp::Ordering::Equal);
        Ok((values, failed))
    }

    /// `COUNT(*)` over every shard.
    pub async fn count(self) -> Result<P::Output<i64>>
    where
        P: FailurePolicy,
        Q: AggregateQuery<C, agg::CountAll>,
    {
        self.aggregate(agg::count_star()).await
    }

    /// Whether any shard has a row: asks every shard at once and answers as soon as one
    /// says yes (the other statements are dropped).
    pub async fn exists(self) -> Result<bool>
    where
        Q: ExistsQuery<C>,
    {
        let timeout = self.timeout;
        let mut runs: FuturesUnordered<_> = self
            .targets()
            .into_iter()
            .map(|(shard, name)| {
                let query = || self.query.exists_statement();
                let fut =
                    self.sharded
                        .run_on(shard, Plan::read(None), Q::exists_run(), Fresh(query));
                async move { within(timeout, &name, fut).await }
            })
            .collect();
        while let Some(found) = runs.next().await {
            if found? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Groups by `group` (an expression or tuple of them) on every shard, then merges the
    /// groups (see [`GroupedScatter`]).
    pub fn group_by<G>(self, group: G) -> GroupedScatter<'a, C, Q, G, P> {
        let targets = self.targets();
        GroupedScatter::new(
            self.sharded,
            self.query,
            group,
            targets,
            self.timeout,
            self.limit,
            self.offset,
        )
    }
}

impl<'a, C: ShardConnection, Q, S, P> Scatter<'a, C, Q, S, Unordered, P> {
    /// Every row of every shard (each shard's rows together, in topology order), with the
    /// offset and limit applied to the whole. Order the query for a meaningful page.
    pub async fn load<U>(self) -> Result<P::Output<Vec<U>>>
    where
        P: FailurePolicy,
        U: Send,
        S: Sync,
        Q: PageQuery<C, S, U>,
    {
        let per_shard = self
            .limit
            .map(|l| l.saturating_add(self.offset))
            .unwrap_or(i64::MAX);
        let (rows, failed) = self
            .fan_out(|shard| {
                let query = || self.query.page_statement(&self.selection, per_shard);
                self.sharded
                    .run_on(shard, Plan::read(None), Q::page_run(), Fresh(query))
            })
            .await?;
        let offset = usize::try_from(self.offset).unwrap_or(usize::MAX);
        let limit = self
            .limit
            .map(|l| usize::try_from(l).unwrap_or(usize::MAX))
            .unwrap_or(usize::MAX);
        let merged = rows
            .into_iter()
            .flatten()
            .skip(offset)
            .take(limit)
            .collect();
        Ok(P::finish(merged, failed))
    }
}

impl<'a, C: ShardConnection, Q, S, O: OrderSpec, P> Scatter<'a, C, Q, S, Ordered<O>, P> {
    /// Continues after the row whose sort values are `values` (keyset pagination): each
    /// shard returns only later rows, so a deep page costs what the first costs. `NULL`
    /// values continue where the ordering places `NULL`s (the backend's rule, or the term's
    /// `nulls_first()` / `nulls_last()`).
    pub fn after(mut self, values: O::Values) -> Self {
        self.ordering.after = Some(values);
        self
    }

    /// The rows in order, merged from every shard by a k-way merge, with the offset and
    /// limit applied to the merged rows, together with each row's sort values (to continue
    /// with [`Scatter::after`]).
    pub async fn load_with_keys<U>(self) -> Result<P::Output<Vec<(O::Values, U)>>>
    where
        P: FailurePolicy,
        U: Send + 'static,
        S: Sync,
        Q: OrderedScatter<C, S, O, U>,
    {
        self.load_merged(|values, row| (values, row)).await
    }

    /// Every shard's page, merged; each merged row made by `keep` from its sort values and
    /// the row.
    async fn load_merged<U, T: Send>(
        self,
        keep: impl FnMut(O::Values, U) -> T,
    ) -> Result<P::Output<Vec<T>>>
    where
        P: FailurePolicy,
        U: Send + 'static,
        S: Sync,
        Q: OrderedScatter<C, S, O, U>,
    {
        let per_shard = self
            .limit
            .map(|l| l.saturating_add(self.offset))
            .unwrap_or(i64::MAX);
        let spec = &self.ordering.spec;
        let after = &self.ordering.after;
        let layout = <Q as OrderedScatter<C, S, O, U>>::layout(spec, &self.selection);
        let (rows, failed) = self
            .fan_out(|shard| {
                let query = || {
                    <Q as OrderedScatter<C, S, O, U>>::shard_page(
                        &self.query,
                        spec,
                        after.clone(),
                        &self.selection,
                        layout,
                        per_shard,
                    )
                };
                self.sharded.run_on(
                    shard,
                    Plan::read(None),
                    <Q as OrderedScatter<C, S, O, U>>::load_sorted(layout),
                    Fresh(query),
                )
            })
            .await?;
        let offset = usize::try_from(self.offset).unwrap_or(usize::MAX);
        let limit = self.limit.map(|l| usize::try_from(l).unwrap_or(usize::MAX));
        let merged = merge::merge_sorted::<O, _, _>(
            rows,
            <C::Dialect as NullOrdering>::NULLS_LARGEST,
            offset,
            limit,
            keep,
        );
        Ok(P::finish(merged, failed))
    }

    /// The rows in order, merged from every shard, with the offset and limit applied to the
    /// merged rows: the rows one database would return for the same query.
    pub async fn load<U>(self) -> Result<P::Output<Vec<U>>>
    where
        P: FailurePolicy,
        U: Send + 'static,
        S: Sync,
        Q: OrderedScatter<C, S, O, U>,
    {
        self.load_merged(|_, row| row).await
    }

    /// The rows in order as a stream, fetched from each shard in keyset batches of
    /// `batch` rows: at most one batch per shard is in memory. Needs a total ordering (end
    /// it with a unique key); `NULL` sort values are read where the ordering places them.
    ///
    /// The row type is named here, `stream::<Line>(50)`: this is the one runner that needs
    /// it, because a stream's consumer does not fix it (`try_collect` into a `Vec<Line>` could
    /// also extend from `&Line`, so rustc cannot infer it; E0282 otherwise).
    pub fn stream<U>(self, batch: usize) -> ScatterStream<'a, C, Q, S, O, U>
    where
        S: Clone,
    {
        let targets = self.targets();
        ScatterStream::new(
            self.sharded,
            self.query,
            self.selection,
            self.ordering.spec,
            self.ordering.after,
            targets,
            batch,
            self.timeout,
        )
    }
}

crate::opaque_debug::opaque_debug!([O: OrderSpec] Ordered<O>, "Ordered");
crate::opaque_debug::opaque_debug!(['a, C: ShardConnection, Q, S, O, P] Scatter<'a, C, Q, S, O, P>, "Scatter");
