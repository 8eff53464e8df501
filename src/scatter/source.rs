//! What a scatter query starts from: an unrouted select.

use diesel::internal::table_macro::{BoxedSelectStatement, SelectStatement};
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

impl<F, S, D, W, O, LOf, G, H, L> ScatterSource for SelectStatement<F, S, D, W, O, LOf, G, H, L> {}

impl<ST, QS, DB, GB> ScatterSource for BoxedSelectStatement<'_, ST, QS, DB, GB> {}

impl<S: AliasSource> ScatterSource for Alias<S> {}
