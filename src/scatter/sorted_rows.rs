//! The statement each shard runs for an ordered scatter, and how the merge reads each row's
//! sort values.
//!
//! When every sort expression is a column the selection already has (the common
//! `order_by(desc(t::a))` over `T::as_select()`), a shard selects the row alone and the sort
//! values are read from the row's own fields ([`Layout::Within`]). Selecting them a second
//! time would make the server project every scanned row twice: on PostgreSQL a top-10 over
//! 50,000 rows took 7.2 ms that way against 3.5 ms for the row alone (see BENCHMARKS.md).
//! Otherwise (an expression, or a column the selection lacks) the sort expressions are
//! selected in front of the row ([`Layout::Prefixed`]).

use super::keyset::KeysetFilter;
use super::layout::{Layout, MAX_TERMS};
use super::order::OrderSpec;
use super::sort_columns::SortColumns;
use crate::cluster::ShardConnection;
use crate::shard::operation::Operation;
use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSqlRow};
use diesel::dsl::{Filter, Limit, Order, Select};
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AsQuery, AstPass, QueryFragment, QueryId};
use diesel::query_dsl::CompatibleType;
use diesel::query_dsl::methods::{FilterDsl, LimitDsl, OrderDsl, SelectDsl};
use diesel::row::Row;
use diesel_async::AsyncConnectionCore;
use futures_util::StreamExt;
use std::marker::PhantomData;

/// A shard's select list: the row's selection, behind the sort expressions when the
/// [`Layout`] is [`Layout::Prefixed`]. Its SQL type is the selection's. (Plumbing of
/// [`OrderedScatter`]; not built by hand.)
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct SortedSelection<E, S> {
    exprs: E,
    selection: S,
    layout: Layout,
}

impl<E, S: Expression> Expression for SortedSelection<E, S> {
    type SqlType = S::SqlType;
}

impl<E, S, QS> AppearsOnTable<QS> for SortedSelection<E, S>
where
    E: AppearsOnTable<QS>,
    S: AppearsOnTable<QS>,
{
}

impl<E, S, QS> SelectableExpression<QS> for SortedSelection<E, S>
where
    E: SelectableExpression<QS>,
    S: SelectableExpression<QS>,
{
}

impl<E, S, GB> ValidGrouping<GB> for SortedSelection<E, S>
where
    (E, S): ValidGrouping<GB>,
{
    type IsAggregate = <(E, S) as ValidGrouping<GB>>::IsAggregate;
}

impl<E, S> QueryId for SortedSelection<E, S> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<E, S, DB> QueryFragment<DB> for SortedSelection<E, S>
where
    DB: Backend,
    E: QueryFragment<DB>,
    S: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if self.layout == Layout::Prefixed {
            self.exprs.walk_ast(out.reborrow())?;
            out.push_sql(", ");
        }
        self.selection.walk_ast(out)
    }
}

/// The statement each shard runs for an ordered page: the rows after the keyset, in order,
/// at most `LIMIT` of them. (Plumbing of [`OrderedScatter`].)
#[doc(hidden)]
pub type OrderedShardQuery<Q, S, O> = Limit<
    Order<
        Select<Filter<Q, KeysetFilter<O>>, SortedSelection<<O as OrderSpec>::Exprs, S>>,
        <O as OrderSpec>::Sql,
    >,
>;

/// Loads a shard's rows with their sort values, read as the [`Layout`] says. (Plumbing of
/// [`OrderedScatter`].)
#[doc(hidden)]
pub struct LoadSorted<O, U> {
    layout: Layout,
    _rows: PhantomData<fn() -> (O, U)>,
}

impl<O, U> Clone for LoadSorted<O, U> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<O, U> Copy for LoadSorted<O, U> {}

impl<C, Q, O, U, DB, ST> Operation<C, Q> for LoadSorted<O, U>
where
    C: AsyncConnectionCore<Backend = DB>,
    DB: Backend + 'static,
    O: SortColumns<DB>,
    Q: AsQuery + Send,
    Q::Query: QueryFragment<DB> + QueryId + Send,
    Q::SqlType: CompatibleType<U, DB, SqlType = ST>,
    U: FromSqlRow<ST, DB> + Send + 'static,
    ST: 'static,
{
    type Output = Vec<(O::Values, U)>;
    const NAME: &'static str = "load";

    async fn run(self, query: Q, conn: &mut C) -> QueryResult<Self::Output> {
        let mut rows = std::pin::pin!(conn.load(query).await?);
        let mut out = Vec::new();
        while let Some(row) = rows.next().await {
            let decoded = self
                .decode::<DB, ST>(&row?)
                .map_err(diesel::result::Error::DeserializationError)?;
            out.push(decoded);
        }
        Ok(out)
    }
}

impl<O: OrderSpec, U> LoadSorted<O, U> {
    fn decode<'a, DB, ST>(self, row: &impl Row<'a, DB>) -> deserialize::Result<(O::Values, U)>
    where
        DB: Backend,
        O: SortColumns<DB>,
        U: FromSqlRow<ST, DB>,
    {
        match self.layout {
            Layout::Prefixed => {
                let terms: [usize; MAX_TERMS] = [0, 1, 2, 3];
                let values = O::decode(row, terms.get(..O::TERMS).unwrap_or(&terms))?;
                let rest = row.partial_row(O::TERMS..row.field_count());
                Ok((values, U::build_from_row(&rest)?))
            }
            Layout::Within { positions, fields } => {
                if row.field_count() != fields {
                    return Err(format!(
                        "scatter: a shard row has {} fields where the selection has {fields}",
                        row.field_count()
                    )
                    .into());
                }
                Ok((O::decode(row, &positions)?, U::build_from_row(row)?))
            }
        }
    }
}

/// What an ordered scatter needs of its query `Self`, selection `S`, ordering `O` and row
/// type `U` on connection `C`: stated once, implemented for every combination that
/// qualifies. Generic code that runs ordered scatters names this one bound:
///
/// ```
/// # use grant::__doc_schema::{order_items, OrderItem, two_sqlite_shards};
/// use diesel::prelude::*;
/// use grant::scatter::{asc, Asc, OrderedScatter};
/// use grant::{ShardConnection, Sharded};
///
/// /// The first `n` rows of any table query, ordered by `order_id`.
/// async fn first_n<C, Q, S>(shards: &Sharded<C>, query: Q, selection: S, n: i64) -> grant::Result<Vec<OrderItem>>
/// where
///     C: ShardConnection,
///     C::Backend: grant::scatter::NullOrdering,
///     S: Sync,
///     Q: OrderedScatter<C, S, Asc<order_items::order_id>, OrderItem>,
/// {
///     shards.scatter(query).select(selection).order_by(asc(order_items::order_id)).limit(n).load().await
/// }
/// # #[tokio::main]
/// # async fn main() -> grant::Result<()> {
/// # let (shards, _dir) = two_sqlite_shards().await;
/// let rows = first_n(&shards, order_items::table, OrderItem::as_select(), 5).await?;
/// assert!(rows.is_empty());
/// # Ok(())
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "this scatter query cannot be ordered by `{O}` and loaded as `{U}`",
    note = "the selection must load as `{U}`, and every sort expression must be a column or expression of the queried tables with a type grant can compare (see `grant::scatter::SortValue`)"
)]
pub trait OrderedScatter<C: ShardConnection, S, O: OrderSpec, U>:
    super::ScatterSource + Clone + Sync + Sized
{
    /// The statement of one shard.
    type Page: Send;
    /// The operation that loads its rows.
    type Load: Operation<C, Self::Page, Output = Vec<(O::Values, U)>>;
    /// Where the rows keep their sort values.
    fn layout(ordering: &O, selection: &S) -> Layout;
    /// The statement of one shard: rows after `after`, in order, at most `limit`.
    fn shard_page(
        &self,
        ordering: &O,
        after: Option<O::Values>,
        selection: &S,
        layout: Layout,
        limit: i64,
    ) -> Self::Page;
    /// The operation that loads them.
    fn load_sorted(layout: Layout) -> Self::Load;
}

impl<C, Q, S, O, U> OrderedScatter<C, S, O, U> for Q
where
    C: ShardConnection,
    O: SortColumns<C::Backend>,
    S: QueryFragment<C::Backend> + Clone + Sync,
    SortedSelection<O::Exprs, S>: Expression,
    O::Sql: Expression,
    Q: super::ScatterSource + FilterDsl<KeysetFilter<O>> + Clone + Sync,
    Filter<Q, KeysetFilter<O>>: SelectDsl<SortedSelection<O::Exprs, S>>,
    Select<Filter<Q, KeysetFilter<O>>, SortedSelection<O::Exprs, S>>: OrderDsl<O::Sql>,
    Order<Select<Filter<Q, KeysetFilter<O>>, SortedSelection<O::Exprs, S>>, O::Sql>: LimitDsl,
    OrderedShardQuery<Q, S, O>: Send,
    LoadSorted<O, U>: Operation<C, OrderedShardQuery<Q, S, O>, Output = Vec<(O::Values, U)>>,
{
    type Page = OrderedShardQuery<Q, S, O>;
    type Load = LoadSorted<O, U>;

    fn layout(ordering: &O, selection: &S) -> Layout {
        Layout::find::<C::Backend, O, S>(ordering, selection)
    }

    fn shard_page(
        &self,
        ordering: &O,
        after: Option<O::Values>,
        selection: &S,
        layout: Layout,
        limit: i64,
    ) -> OrderedShardQuery<Q, S, O> {
        self.clone()
            .filter(KeysetFilter::new(ordering, after))
            .select(SortedSelection {
                exprs: ordering.exprs(),
                selection: selection.clone(),
                layout,
            })
            .order(ordering.sql())
            .limit(limit)
    }

    fn load_sorted(layout: Layout) -> LoadSorted<O, U> {
        LoadSorted {
            layout,
            _rows: PhantomData,
        }
    }
}

crate::opaque_debug::opaque_debug!([O, U] LoadSorted<O, U>, "LoadSorted");
