//! Which statements a table's shard key may route: statements on that table, or on tables
//! declared co-located with it (`#[grant(colocated_with(..))]`: sharded by the same key and
//! strategy, so matching rows live on the same shard). A join routed by key must join only
//! such tables.

use super::{ReadOnly, ShardedTable, Writes};
use diesel::internal::table_macro::{
    BoxedSelectStatement, FromClause, Join, JoinOn, NoFromClause, SelectStatement,
};
use diesel::query_builder::{
    BoxedSqlQuery, DeleteStatement, InsertStatement, SqlQuery, UpdateStatement,
};
use diesel::query_source::{Alias, AliasSource, QuerySource};

/// A statement whose rows a shard key of table `T` locates: a statement on `T`, or on
/// tables co-located with `T`, or a join of such tables. `grant::table!` implements it for
/// the table itself and for each table it names in `colocated_with(..)`; grant implements it
/// for selects, inserts, updates, deletes and joins of such tables. Raw SQL, and selects with
/// no `FROM`, name no table and are taken as they are.
///
/// ```
/// # use grant::__doc_schema::{order_items, shipments};
/// use grant::prelude::*;
/// // `shipments` is declared co-located with `order_items` (both shard by `order_id`).
/// let q = shipments::table
///     .inner_join(order_items::table.on(order_items::order_id.eq(shipments::order_id)))
///     .filter(order_items::order_id.eq(7))
///     .for_shard_key(order_items::ShardKey { order_id: 7 });
/// # let _ = q;
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not co-located with `{T}`",
    label = "a statement on another table, or a join with one",
    note = "a shard key routes statements of its own table (`table::ShardKey`), and a join (routed or scattered) runs on one shard, so it joins only co-located tables",
    note = "declare the tables co-located when they shard by the same key: `#[grant(shard_key(..), colocated_with(other_table))]` in `grant::table!` (the follower then shards by the other's strategy)"
)]
pub trait RoutableBy<T> {}

impl<F, S, D, W, O, LOf, G, H, L, T> RoutableBy<T>
    for SelectStatement<FromClause<F>, S, D, W, O, LOf, G, H, L>
where
    F: QuerySource + RoutableBy<T>,
{
}

impl<S, D, W, O, LOf, G, H, L, T> RoutableBy<T>
    for SelectStatement<NoFromClause, S, D, W, O, LOf, G, H, L>
{
}

impl<ST, F, DB, GB, T> RoutableBy<T> for BoxedSelectStatement<'_, ST, FromClause<F>, DB, GB> where
    F: QuerySource + RoutableBy<T>
{
}

impl<ST, DB, GB, T> RoutableBy<T> for BoxedSelectStatement<'_, ST, NoFromClause, DB, GB> {}

// A write is routed by key only to a sharded table: a reference table's copies change
// together (`Sharded::write_reference`).
impl<Tab: QuerySource + RoutableBy<T> + ShardedTable, U, V, Ret, T> RoutableBy<T>
    for UpdateStatement<Tab, U, V, Ret>
{
}

impl<Tab: QuerySource + RoutableBy<T> + ShardedTable, U, Ret, T> RoutableBy<T>
    for DeleteStatement<Tab, U, Ret>
{
}

impl<Tab: QuerySource + RoutableBy<T> + ShardedTable, U, Op, Ret, T> RoutableBy<T>
    for InsertStatement<Tab, U, Op, Ret>
{
}

impl<J: RoutableBy<T>, On, T> RoutableBy<T> for JoinOn<J, On> {}

impl<Left, Right, Kind, T> RoutableBy<T> for Join<Left, Right, Kind>
where
    Left: QuerySource + RoutableBy<T>,
    Right: QuerySource + RoutableBy<T>,
{
}

impl<S: AliasSource, T> RoutableBy<T> for Alias<S> where S::Target: RoutableBy<T> {}

impl<Inner, T> RoutableBy<T> for SqlQuery<Inner> {}

impl<DB: diesel::backend::Backend, Q, T> RoutableBy<T> for BoxedSqlQuery<'_, DB, Q> {}

impl<Q: RoutableBy<T>, T> RoutableBy<T> for ReadOnly<Q> {}

impl<Q: RoutableBy<T>, T> RoutableBy<T> for Writes<Q> {}

/// No table: the second `RoutableBy` impl of every table (see `grant::table!`).
#[doc(hidden)]
#[derive(Debug)]
pub struct NoTable;
