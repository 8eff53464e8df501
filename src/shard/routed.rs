//! Statements that carry their route: by shard key, to a named shard, or to every shard.

use super::{RouteKey, ShardId};

/// A statement and where it runs. Build one with [`crate::KeyQueryDsl::find_key`] (and the
/// other key builders), or add a route to any Diesel statement with [`RouteDsl`]:
/// `.for_shard_key(key)`, `.on_shard(shard)` or `.on_all_shards()`.
///
/// A `Routed` statement is still a Diesel statement: it refines with `filter`, `select`,
/// `order`, `limit`, `for_update`, .. (the route is kept), and runs on a plain connection
/// with diesel's or diesel-async's `RunQueryDsl` as before. [`crate::Sharded`] runs only
/// routed statements.
///
/// ```
/// # use grant::__doc_schema::order_items;
/// use grant::prelude::*;
/// let q = order_items::table
///     .find_key((1, 2))                      // routed by its key
///     .select(order_items::quantity);        // still routed
/// let all = order_items::table.filter(order_items::quantity.gt(5)).on_all_shards();
/// let one = order_items::table.filter(order_items::order_id.eq(7))
///     .for_shard_key(order_items::ShardKey { order_id: 7 });
/// # let _ = (q, all, one);
/// ```
#[derive(Debug, Clone)]
#[must_use = "a routed statement does nothing until it is run"]
pub struct Routed<Q, R> {
    query: Q,
    route: R,
}

impl<Q, R> Routed<Q, R> {
    /// `query` with `route`.
    pub fn new(query: Q, route: R) -> Self {
        Routed { query, route }
    }

    /// The statement.
    pub fn query(&self) -> &Q {
        &self.query
    }

    /// The route.
    pub fn route(&self) -> &R {
        &self.route
    }

    /// The statement and the route.
    pub fn into_parts(self) -> (Q, R) {
        (self.query, self.route)
    }

    /// Changes the statement, keeping the route: for builder methods that are not Diesel
    /// DSL traits (`.set(..)` of an update, `.returning(..)`, ..).
    ///
    /// ```
    /// # use grant::__doc_schema::order_items;
    /// use grant::prelude::*;
    /// let update = order_items::table
    ///     .update_key((1, 2))
    ///     .map(|u| u.set(order_items::quantity.eq(3)));
    /// # let _ = update;
    /// ```
    pub fn map<Q2>(self, f: impl FnOnce(Q) -> Q2) -> Routed<Q2, R> {
        Routed {
            query: f(self.query),
            route: self.route,
        }
    }
}

/// Route: the shard that holds this shard key (a table's `Key` or `ShardKey`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByKey<K>(pub K);

/// Route: one shard, by id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnShard(pub ShardRef);

/// Route: every shard, in parallel; results come back per shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllShards;

/// A shard named by id or by its name in the topology.
///
/// ```
/// use grant::shard::ShardRef;
/// use grant::ShardId;
/// assert_eq!(ShardRef::from("s1"), ShardRef::Name("s1".into()));
/// assert_eq!(ShardRef::from(ShardId(1)), ShardRef::Id(ShardId(1)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardRef {
    /// By position.
    Id(ShardId),
    /// By name.
    Name(String),
}

impl From<ShardId> for ShardRef {
    fn from(id: ShardId) -> Self {
        ShardRef::Id(id)
    }
}

impl From<&str> for ShardRef {
    fn from(name: &str) -> Self {
        ShardRef::Name(name.to_owned())
    }
}

impl From<String> for ShardRef {
    fn from(name: String) -> Self {
        ShardRef::Name(name)
    }
}

impl std::fmt::Display for ShardRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShardRef::Id(id) => write!(f, "{id}"),
            ShardRef::Name(name) => write!(f, "shard `{name}`"),
        }
    }
}

/// Adds a route to any statement.
///
/// ```
/// # use grant::__doc_schema::order_items;
/// use grant::prelude::*;
/// use grant::ShardId;
/// let a = order_items::table.filter(order_items::order_id.eq(7)).for_shard_key(order_items::ShardKey::from(7));
/// let b = order_items::table.count().on_shard("s1");
/// let c = order_items::table.count().on_shard(ShardId(0));
/// let d = order_items::table.count().on_all_shards();
/// # use grant::__doc_schema::currencies;
/// let e = currencies::table.select(currencies::name).on_any_shard(); // a reference table
/// # let _ = (a, b, c, d, e);
/// ```
pub trait RouteDsl: Sized {
    /// Runs on the shard that holds `key`: a `Key` or `ShardKey` of the statement's own
    /// table, or of a table declared co-located with it (a key of another table does not
    /// compile, see [`super::RoutableBy`]).
    fn for_shard_key<K: RouteKey>(self, key: K) -> Routed<Self, ByKey<K>>
    where
        Self: super::RoutableBy<K::Table>,
    {
        Routed::new(self, ByKey(key))
    }

    /// Runs on one shard, named by id or name.
    fn on_shard(self, shard: impl Into<ShardRef>) -> Routed<Self, OnShard> {
        Routed::new(self, OnShard(shard.into()))
    }

    /// Runs on every shard in parallel; the results come back per shard.
    fn on_all_shards(self) -> Routed<Self, AllShards> {
        Routed::new(self, AllShards)
    }

    /// Runs a read of reference tables (`#[grant(reference)]`, copied to every shard) on any
    /// one shard, the next in turn; a select of a sharded table does not compile (see
    /// [`super::ReferenceRead`]).
    fn on_any_shard(self) -> Routed<Self, super::AnyShard>
    where
        Self: super::ReferenceRead,
    {
        Routed::new(self, super::AnyShard::next())
    }
}

impl<Q: diesel::query_builder::QueryId> RouteDsl for Q {}
