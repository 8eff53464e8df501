//! What each shard runs for the unordered runners of a scatter (`load`, `aggregate`, `count`,
//! `exists`, grouped `load`): the statement built from the scatter's query, and how it runs.
//! Each trait holds the Diesel bounds of one runner, so a runner names one trait; they are
//! implemented for every query Diesel can build the statement from, never by hand.

use super::aggregate::Aggregate;
use crate::shard::operation::{GetResult, Load, Operation};
use diesel::Expression;
use diesel::dsl::{Distinct, GroupBy, Limit, Select};
use diesel::query_builder::AsQuery;
use diesel::query_dsl::methods::{DistinctDsl, GroupByDsl, LimitDsl, SelectDsl};

/// The SQL value of a group, as the merge compares it.
pub(crate) type GroupValue<G> = <<G as Expression>::SqlType as super::value::SortSql>::Value;

/// A query whose rows (selected by `S`, as `U`) a shard can return, at most `LIMIT` of them.
#[diagnostic::on_unimplemented(
    message = "can't load `{U}` from every shard for this scatter query",
    note = "the selection must be an expression of the query's tables, and `{U}` must be the row it selects"
)]
pub trait PageQuery<C, S, U>: Clone + Sync {
    /// The shard's statement.
    type Statement: Send;
    /// How it runs.
    type Run: Operation<C, Self::Statement, Output = Vec<U>>;
    /// `SELECT <selection> .. LIMIT <limit>`.
    fn page_statement(&self, selection: &S, limit: i64) -> Self::Statement;
    /// The run.
    fn page_run() -> Self::Run;
}

impl<C, S, U, Q> PageQuery<C, S, U> for Q
where
    S: Expression + Clone,
    Q: SelectDsl<S> + Clone + Sync,
    Select<Q, S>: LimitDsl,
    Limit<Select<Q, S>>: Send,
    Load<U>: Operation<C, Limit<Select<Q, S>>, Output = Vec<U>>,
{
    type Statement = Limit<Select<Q, S>>;
    type Run = Load<U>;
    fn page_statement(&self, selection: &S, limit: i64) -> Self::Statement {
        self.clone().select(selection.clone()).limit(limit)
    }
    fn page_run() -> Load<U> {
        Load::new()
    }
}

/// A query whose aggregates `A` a shard can compute.
#[diagnostic::on_unimplemented(
    message = "can't compute these aggregates on every shard for this scatter query",
    note = "aggregate columns of the query's own tables (`agg::sum(t::col)`, ..)"
)]
pub trait AggregateQuery<C, A: Aggregate>: Clone + Sync {
    /// The shard's statement.
    type Statement: Send;
    /// How it runs.
    type Run: Operation<C, Self::Statement, Output = A::Partial>;
    /// `SELECT <aggregates> ..`.
    fn aggregate_statement(&self, aggregates: &A) -> Self::Statement;
    /// The run.
    fn aggregate_run() -> Self::Run;
}

impl<C, A, Q> AggregateQuery<C, A> for Q
where
    A: Aggregate,
    A::Exprs: Expression,
    Q: SelectDsl<A::Exprs> + Clone + Sync,
    Select<Q, A::Exprs>: Send,
    GetResult<A::Partial>: Operation<C, Select<Q, A::Exprs>, Output = A::Partial>,
{
    type Statement = Select<Q, A::Exprs>;
    type Run = GetResult<A::Partial>;
    fn aggregate_statement(&self, aggregates: &A) -> Self::Statement {
        self.clone().select(aggregates.exprs())
    }
    fn aggregate_run() -> Self::Run {
        GetResult::new()
    }
}

/// A query a shard can answer `SELECT EXISTS (..)` for.
#[diagnostic::on_unimplemented(message = "can't ask every shard whether this query has a row")]
pub trait ExistsQuery<C>: Clone {
    /// The shard's statement.
    type Statement: Send;
    /// How it runs.
    type Run: Operation<C, Self::Statement, Output = bool>;
    /// `SELECT EXISTS (<query>)`.
    fn exists_statement(&self) -> Self::Statement;
    /// The run.
    fn exists_run() -> Self::Run;
}

impl<C, Q> ExistsQuery<C> for Q
where
    Q: Clone,
    diesel::dsl::exists<Q>: Expression,
    diesel::dsl::select<diesel::dsl::exists<Q>>: AsQuery + Send,
    GetResult<bool>: Operation<C, diesel::dsl::select<diesel::dsl::exists<Q>>, Output = bool>,
{
    type Statement = diesel::dsl::select<diesel::dsl::exists<Q>>;
    type Run = GetResult<bool>;
    fn exists_statement(&self) -> Self::Statement {
        diesel::select(diesel::dsl::exists(self.clone()))
    }
    fn exists_run() -> Self::Run {
        GetResult::new()
    }
}

/// A query a shard can group by `G` and aggregate by `A`.
#[diagnostic::on_unimplemented(
    message = "can't group this scatter query by `{G}` and compute these aggregates on every shard",
    note = "group by columns of the query's own tables, and aggregate others"
)]
pub trait GroupedQuery<C, G: Expression, A: Aggregate>: Clone + Sync
where
    G::SqlType: super::value::SortSql,
{
    /// The shard's statement.
    type Statement: Send;
    /// How it runs.
    type Run: Operation<C, Self::Statement, Output = Vec<(GroupValue<G>, A::Partial)>>;
    /// `SELECT <group>, <aggregates> .. GROUP BY <group>`.
    fn grouped_statement(&self, group: &G, aggregates: &A) -> Self::Statement;
    /// The run.
    fn grouped_run() -> Self::Run;
}

impl<C, G, A, Q> GroupedQuery<C, G, A> for Q
where
    G: Expression + Clone + Sync,
    G::SqlType: super::value::SortSql,
    A: Aggregate,
    (G, A::Exprs): Expression,
    Q: GroupByDsl<G> + Clone + Sync,
    GroupBy<Q, G>: SelectDsl<(G, A::Exprs)>,
    Select<GroupBy<Q, G>, (G, A::Exprs)>: Send,
    Load<(GroupValue<G>, A::Partial)>: Operation<
            C,
            Select<GroupBy<Q, G>, (G, A::Exprs)>,
            Output = Vec<(GroupValue<G>, A::Partial)>,
        >,
{
    type Statement = Select<GroupBy<Q, G>, (G, A::Exprs)>;
    type Run = Load<(GroupValue<G>, A::Partial)>;
    fn grouped_statement(&self, group: &G, aggregates: &A) -> Self::Statement {
        self.clone()
            .group_by(group.clone())
            .select((group.clone(), aggregates.exprs()))
    }
    fn grouped_run() -> Self::Run {
        Load::new()
    }
}

/// A query whose distinct values of `E` a shard can return (`SELECT DISTINCT <expr> ..`).
#[diagnostic::on_unimplemented(
    message = "can't select the distinct values of `{E}` on every shard for this scatter query",
    note = "give a column (or a tuple of columns) of the query's own tables"
)]
pub trait DistinctQuery<C, E: Expression>: Clone + Sync
where
    E::SqlType: super::value::SortSql,
{
    /// The shard's statement.
    type Statement: Send;
    /// How it runs.
    type Run: Operation<C, Self::Statement, Output = Vec<GroupValue<E>>>;
    /// `SELECT DISTINCT <expr> ..`.
    fn distinct_statement(&self, expr: &E) -> Self::Statement;
    /// The run.
    fn distinct_run() -> Self::Run;
}

impl<C, E, Q> DistinctQuery<C, E> for Q
where
    E: Expression + Clone + Sync,
    E::SqlType: super::value::SortSql,
    Q: SelectDsl<E> + Clone + Sync,
    Select<Q, E>: DistinctDsl,
    Distinct<Select<Q, E>>: Send,
    Load<GroupValue<E>>: Operation<C, Distinct<Select<Q, E>>, Output = Vec<GroupValue<E>>>,
{
    type Statement = Distinct<Select<Q, E>>;
    type Run = Load<GroupValue<E>>;
    fn distinct_statement(&self, expr: &E) -> Self::Statement {
        self.clone().select(expr.clone()).distinct()
    }
    fn distinct_run() -> Self::Run {
        Load::new()
    }
}
