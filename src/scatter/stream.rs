//! Ordered scatter results as a stream, fetched from each shard in keyset batches.

use super::layout::Layout;
use super::order::OrderSpec;
use super::policy::within;
use super::sorted_rows::OrderedScatter;
use super::value::NullOrdering;
use crate::cluster::ShardConnection;

use crate::Result;
use crate::shard::{Fresh, Plan};
use crate::shard::{ShardId, Sharded};
use futures_util::future::try_join_all;
use futures_util::stream::Stream;
use std::cmp::Ordering;
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

/// An ordered scatter query to consume as a stream ([`ScatterStream::into_stream`]).
///
/// Guarantee: rows come in the ordering's order, merged from every shard; each shard is
/// read in batches of `batch` rows (`ORDER BY .. LIMIT batch`, then the next batch after
/// the last row seen), so at most one batch per shard is held in memory however many rows
/// the query has. The ordering must be total (end it with a unique key); `NULL` sort values
/// are read where the ordering places them, so the stream returns what `load` returns.
///
/// ```
/// # use grant::__doc_schema::{order_items, OrderItem, two_sqlite_shards};
/// use futures_util::TryStreamExt;
/// use grant::prelude::*;
/// use grant::scatter::asc;
/// # #[tokio::main]
/// # async fn main() -> grant::Result<()> {
/// # let (shards, _dir) = two_sqlite_shards().await;
/// let items: Vec<OrderItem> = (1..=25).map(|o| OrderItem { order_id: o, product_id: 1, quantity: 1 }).collect();
/// shards.insert_all(&items).await?;
/// let ids: Vec<i64> = shards
///     .scatter(order_items::table)
///     .select(order_items::order_id)
///     .order_by(asc(order_items::order_id))
///     .stream::<i64>(4)
///     .into_stream()
///     .try_collect()
///     .await?;
/// assert_eq!(ids, (1..=25).collect::<Vec<_>>());
/// # Ok(())
/// # }
/// ```
#[must_use = "a stream does nothing until it is polled"]
pub struct ScatterStream<'a, C: ShardConnection, Q, S, O: OrderSpec, U> {
    sharded: &'a Sharded<C>,
    query: Q,
    selection: S,
    spec: O,
    after: Option<O::Values>,
    targets: Vec<(ShardId, Arc<str>)>,
    batch: usize,
    timeout: Option<Duration>,
    _row: PhantomData<fn() -> U>,
}

struct State<'a, C: ShardConnection, Q, S, O: OrderSpec, U> {
    query: ScatterStream<'a, C, Q, S, O, U>,
    layout: Layout,
    buffers: Vec<VecDeque<(O::Values, U)>>,
    last: Vec<Option<O::Values>>,
    exhausted: Vec<bool>,
    started: bool,
}

impl<'a, C: ShardConnection, Q, S, O: OrderSpec, U> ScatterStream<'a, C, Q, S, O, U> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        sharded: &'a Sharded<C>,
        query: Q,
        selection: S,
        spec: O,
        after: Option<O::Values>,
        targets: Vec<(ShardId, Arc<str>)>,
        batch: usize,
        timeout: Option<Duration>,
    ) -> Self {
        ScatterStream {
            sharded,
            query,
            selection,
            spec,
            after,
            targets,
            batch: batch.max(1),
            timeout,
            _row: PhantomData,
        }
    }

    /// The stream of rows.
    pub fn into_stream(self) -> impl Stream<Item = Result<U>> + Send + 'a
    where
        U: Send + 'static,
        S: Send + Sync + 'a,
        Q: OrderedScatter<C, S, O, U> + Send + Sync + 'a,
    {
        let shards = self.targets.len();
        let state = State {
            layout: <Q as OrderedScatter<C, S, O, U>>::layout(&self.spec, &self.selection),
            buffers: (0..shards).map(|_| VecDeque::new()).collect(),
            last: vec![self.after.clone(); shards],
            exhausted: vec![false; shards],
            started: false,
            query: self,
        };
        futures_util::stream::try_unfold(state, |mut state| async move {
            if !state.started {
                state.started = true;
                let fills = (0..state.buffers.len())
                    .map(|i| state.query.fetch(i, state.last[i].clone(), state.layout));
                for (i, rows) in try_join_all(fills).await?.into_iter().enumerate() {
                    state.exhausted[i] = rows.len() < state.query.batch;
                    state.buffers[i].extend(rows);
                }
            }
            let nulls_largest = <C::Dialect as NullOrdering>::NULLS_LARGEST;
            let mut best: Option<usize> = None;
            for i in 0..state.buffers.len() {
                let Some((values, _)) = state.buffers[i].front() else {
                    continue;
                };
                let better = match best.and_then(|b| state.buffers[b].front()) {
                    None => true,
                    Some((current, _)) => {
                        O::compare(values, current, nulls_largest) == Ordering::Less
                    }
                };
                if better {
                    best = Some(i);
                }
            }
            let Some(i) = best else { return Ok(None) };
            let Some((values, row)) = state.buffers[i].pop_front() else {
                return Ok(None);
            };
            state.last[i] = Some(values);
            if state.buffers[i].is_empty() && !state.exhausted[i] {
                let rows = state
                    .query
                    .fetch(i, state.last[i].clone(), state.layout)
                    .await?;
                state.exhausted[i] = rows.len() < state.query.batch;
                state.buffers[i].extend(rows);
            }
            Ok(Some((row, state)))
        })
    }

    /// The next batch of shard `i` after `after`.
    async fn fetch(
        &self,
        i: usize,
        after: Option<O::Values>,
        layout: Layout,
    ) -> Result<Vec<(O::Values, U)>>
    where
        S: Sync,
        Q: OrderedScatter<C, S, O, U>,
    {
        let Some((shard, name)) = self.targets.get(i) else {
            return Ok(Vec::new());
        };
        let limit = i64::try_from(self.batch).unwrap_or(i64::MAX);
        let query = || {
            <Q as OrderedScatter<C, S, O, U>>::shard_page(
                &self.query,
                &self.spec,
                after.clone(),
                &self.selection,
                layout,
                limit,
            )
        };
        let run = self.sharded.run_on(
            *shard,
            Plan::read(None),
            <Q as OrderedScatter<C, S, O, U>>::load_sorted(layout),
            Fresh(query),
        );
        within(self.timeout, name, run).await
    }
}

crate::opaque_debug::opaque_debug!(['a, C: ShardConnection, Q, S, O: OrderSpec, U] ScatterStream<'a, C, Q, S, O, U>, "ScatterStream");
