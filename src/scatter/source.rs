//! What a scatter query starts from: an unrouted select.

use crate::shard::RoutableBy;
use diesel::QuerySource;
use diesel::internal::table_macro::{
    BoxedSelectStatement, FromClause, Join, JoinOn, NoFromClause, SelectStatement,
};
use diesel::query_source::{Alias, AliasSource};

/// A query a scatter can ask every shard: a `grant::table!` table, a select on it
/// (`table.filter(..)`, a join, ..), or a boxed select. A routed statement is not one: it
/// already says where it runs, so it runs with `shards.run(..)`.
///
/// ```
/// # use grant::__doc_schema::order_items;
/// use grant::prelude::*;
/// use grant::scatter::ScatterSource;
/// fn scatterable(_: impl ScatterSource) {}
/// scatterable(order_items::table);
/// scatterable(order_items::table.filter(order_items::quantity.gt(1)));
/// ```
///
/// ```compile_fail
/// # use grant::__doc_schema::order_items;
/// use grant::prelude::*;
/// use grant::scatter::ScatterSource;
/// fn scatterable(_: impl ScatterSource) {}
/// scatterable(order_items::table.find_key((1, 2))); // routed: use `shards.run(..)`
/// ```
#[diagnostic::on_unimplemented(
    message = "`scatter` asks every shard, but `{Self}` is not an unrouted select",
    label = "not a query to scatter",
    note = "a routed statement (`find_key`, `.for_shard_key(..)`, `.on_shard(..)`, `.on_all_shards()`) already says where it runs: run it with `shards.run(..)`",
    note = "scatter takes a `grant::table!` table, `table.filter(..)`, a join or a boxed select; pin it to a few shards with `.for_shard_keys(..)`"
)]
pub trait ScatterSource {}

impl<F, S, D, W, O, LOf, G, H, L> ScatterSource
    for SelectStatement<FromClause<F>, S, D, W, O, LOf, G, H, L>
where
    F: QuerySource + ScatterFrom,
{
}

impl<S, D, W, O, LOf, G, H, L> ScatterSource
    for SelectStatement<NoFromClause, S, D, W, O, LOf, G, H, L>
{
}

impl<ST, F, DB, GB> ScatterSource for BoxedSelectStatement<'_, ST, FromClause<F>, DB, GB> where
    F: QuerySource + ScatterFrom
{
}

impl<ST, DB, GB> ScatterSource for BoxedSelectStatement<'_, ST, NoFromClause, DB, GB> {}

/// The `FROM` of a scatter query: a `grant::table!` table, or a join whose tables are all
/// co-located with its first one (`#[grant(colocated_with(..))]`), so that each shard joins
/// its own rows and no joined row lives on another shard. A join of tables that are not
/// co-located does not compile.
///
/// ```
/// # use grant::__doc_schema::{order_items, shipments};
/// use grant::prelude::*;
/// use grant::scatter::{ScatterFrom, ScatterSource};
/// fn from(_: impl ScatterFrom) {}
/// fn scatterable(_: impl ScatterSource) {}
/// from(order_items::table);
/// // shipments is declared `colocated_with(order_items)`.
/// scatterable(order_items::table.inner_join(shipments::table.on(shipments::order_id.eq(order_items::order_id))));
/// ```
pub trait ScatterFrom {
    /// The first table of the join, whose shard key every other table shares.
    type Anchor;
}

impl<J, On> ScatterFrom for JoinOn<J, On>
where
    J: ScatterFrom,
    J: RoutableBy<J::Anchor>,
{
    type Anchor = J::Anchor;
}

impl<Left, Right, Kind> ScatterFrom for Join<Left, Right, Kind>
where
    Left: QuerySource + ScatterFrom,
    Right: QuerySource,
    Join<Left, Right, Kind>: RoutableBy<Left::Anchor>,
{
    type Anchor = Left::Anchor;
}

impl<S: AliasSource> ScatterFrom for Alias<S>
where
    S::Target: ScatterFrom,
{
    type Anchor = <S::Target as ScatterFrom>::Anchor;
}

impl<S: AliasSource> ScatterSource for Alias<S> {}
