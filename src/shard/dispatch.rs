//! How each kind of route runs a statement: on the one shard it names, or on all of them.

use super::{AllShards, ByKey, OnShard, PerShard, RouteKey, Routed, Routing, ShardId, ShardResult};
use crate::{Error, Result};

/// Where a route sends its statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// One shard.
    One(ShardId),
    /// Every shard.
    All,
}

/// A route kind ([`ByKey`], [`OnShard`], [`AllShards`]): where a statement runs and what
/// shape its result takes (`T` for one shard, [`PerShard<T>`] for all).
///
/// ```
/// use grant::shard::{AllShards, Route};
/// // `AllShards` returns one result per shard.
/// fn per_shard<Q: Clone + Send>(_: impl Route<Q, Output<Vec<i32>> = grant::shard::PerShard<Vec<i32>>>) {}
/// per_shard::<()>(AllShards);
/// ```
pub trait Route<Q>: Send + Sized {
    /// The result of running on this route, given each shard's result `T`.
    type Output<T: Send>: Send;

    /// Where the statement goes.
    fn target(&self, routing: &Routing) -> Result<Target>;

    /// The table the route is about, when it knows (for spans and errors).
    fn table(&self) -> Option<&'static str> {
        None
    }

    /// The shard-key columns of that table, when the route knows them.
    fn shard_key_columns(&self) -> &'static [&'static str] {
        &[]
    }

    /// The statement for each shard it runs on (a copy per shard for [`AllShards`]), in
    /// topology order.
    fn split(self, query: Q, routing: &Routing) -> Result<Vec<(ShardId, Q)>>;

    /// The route's result from each shard's, in the order of [`Route::split`].
    fn assemble<T: Send>(results: Vec<ShardResult<T>>) -> Result<Self::Output<T>>;

    /// Another shard that can answer in place of those tried so far (`tried` of them),
    /// with the statement for it: for reads any shard can answer (reference tables), so
    /// that one shard down does not fail them. `None` (the default) for routes bound to
    /// their shard.
    fn fallback(&self, _query: &Q, _routing: &Routing, _tried: usize) -> Option<(ShardId, Q)> {
        None
    }

    /// The route's result when [`Route::target`] named one shard: that shard's result.
    fn assemble_one<T: Send>(result: ShardResult<T>) -> Result<Self::Output<T>> {
        Self::assemble(vec![result])
    }
}

/// The one result of a single-shard route.
pub(super) fn only<T>(results: Vec<ShardResult<T>>) -> Result<T> {
    // `split` gave one statement, so there is one result: a proven invariant, reported
    // as an error rather than a panic all the same.
    results
        .into_iter()
        .next()
        .map(|r| r.value)
        .ok_or(Error::Internal {
            what: "a single-shard route gave no result",
        })
}

impl<Q, K: RouteKey> Route<Q> for ByKey<K> {
    type Output<T: Send> = T;

    fn target(&self, routing: &Routing) -> Result<Target> {
        routing.shard_for_key(&self.0).map(Target::One)
    }

    fn table(&self) -> Option<&'static str> {
        Some(K::TABLE)
    }

    fn shard_key_columns(&self) -> &'static [&'static str] {
        K::SHARD_KEY_COLUMNS
    }

    fn split(self, query: Q, routing: &Routing) -> Result<Vec<(ShardId, Q)>> {
        Ok(vec![(routing.shard_for_key(&self.0)?, query)])
    }

    fn assemble<T: Send>(results: Vec<ShardResult<T>>) -> Result<T> {
        only(results)
    }

    fn assemble_one<T: Send>(result: ShardResult<T>) -> Result<T> {
        Ok(result.value)
    }
}

impl<Q> Route<Q> for OnShard {
    type Output<T: Send> = T;

    fn target(&self, routing: &Routing) -> Result<Target> {
        routing.resolve(&self.0).map(Target::One)
    }

    fn split(self, query: Q, routing: &Routing) -> Result<Vec<(ShardId, Q)>> {
        Ok(vec![(routing.resolve(&self.0)?, query)])
    }

    fn assemble<T: Send>(results: Vec<ShardResult<T>>) -> Result<T> {
        only(results)
    }

    fn assemble_one<T: Send>(result: ShardResult<T>) -> Result<T> {
        Ok(result.value)
    }
}

impl<Q: Clone> Route<Q> for AllShards {
    type Output<T: Send> = PerShard<T>;

    fn target(&self, _routing: &Routing) -> Result<Target> {
        Ok(Target::All)
    }

    fn split(self, query: Q, routing: &Routing) -> Result<Vec<(ShardId, Q)>> {
        Ok(routing.all().map(|shard| (shard, query.clone())).collect())
    }

    fn assemble<T: Send>(results: Vec<ShardResult<T>>) -> Result<PerShard<T>> {
        Ok(PerShard::new(results))
    }
}

/// A statement with a route: what [`crate::Sharded`] runs. Only [`Routed`] statements are;
/// a bare Diesel statement does not compile, with a message that says how to route it.
#[diagnostic::on_unimplemented(
    message = "this statement names no shard, so `Sharded` cannot run it",
    label = "not routed to a shard",
    note = "route it: build it with `table.find_key(key)` (or `key_exists`, `update_key`, `delete_key`), or add `.for_shard_key(key)`, `.on_shard(shard)` or `.on_all_shards()` (from `grant::prelude::*`)"
)]
pub trait RoutedStatement: Send {
    /// The statement.
    type Query: Send;
    /// Its route.
    type Route: Route<Self::Query>;
    /// Both.
    fn into_parts(self) -> (Self::Query, Self::Route);
}

impl<Q: Send, R: Route<Q>> RoutedStatement for Routed<Q, R> {
    type Query = Q;
    type Route = R;
    fn into_parts(self) -> (Q, R) {
        Routed::into_parts(self)
    }
}

#[cfg(test)]
mod tests {
    /// The one place grant reports a broken invariant of its own: a single-shard route
    /// whose run gave no result is `Error::Internal`, not a panic.
    #[test]
    fn a_missing_single_result_is_internal() {
        let err = super::only::<i32>(Vec::new()).unwrap_err();
        assert!(matches!(err, crate::Error::Internal { .. }), "{err:?}");
        assert!(err.to_string().contains("please report it"));
    }
}
