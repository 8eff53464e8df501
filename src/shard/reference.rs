//! Reference (broadcast) tables: small tables copied to every shard
//! (`#[grant(reference)]` in `grant::table!`).
//!
//! - A read of a reference table alone runs on any one shard ([`RouteDsl::on_any_shard`],
//!   spread over the shards); joined with a sharded table, it runs on the shard that table's
//!   key names, so the join stays local.
//! - A write goes to every shard in one transaction across the shards
//!   ([`Sharded::write_reference`]): every copy changes or none does, and a shard that cannot
//!   take part (down, or refusing) fails the write as a whole, naming the shard.
//! - A write routed to one shard by a key does not compile ([`ShardedTable`]), nor does a
//!   read of a sharded table on "any shard" ([`ReferenceRead`]).
//!
//! [`RouteDsl::on_any_shard`]: super::RouteDsl::on_any_shard

use super::dispatch::{Route, Target};
use super::operation::Execute;
use super::{PerShard, Routing, ShardId, ShardResult, Sharded};
use crate::cluster::ShardConnection;
use crate::key::KeyFuture;
use crate::{Error, Result};
use diesel::internal::table_macro::{
    BoxedSelectStatement, FromClause, Join, JoinOn, NoFromClause, SelectStatement,
};
use diesel::query_builder::{DeleteStatement, InsertStatement, UpdateStatement};
use diesel::query_source::{Alias, AliasSource, QuerySource};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A table copied to every shard: `#[grant(reference)]` in `grant::table!` implements it.
///
/// ```
/// # use grant::__doc_schema::currencies;
/// use grant::shard::ReferenceTable;
/// assert_eq!(<currencies::table as ReferenceTable>::NAME, "currencies");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a reference table",
    label = "`write_reference` writes a reference table on every shard",
    note = "declare a table copied to every shard `#[grant(reference)]` in `grant::table!`; a write of a sharded table is routed by its key (`.for_shard_key(..)`, `update_key(..)`, `delete_key(..)`)"
)]
pub trait ReferenceTable {
    /// The table's SQL name.
    const NAME: &'static str;
}

/// A table whose rows are spread over the shards (declared with `grant::table!`, not
/// `reference`): a shard key routes a write to it to the one shard that holds the row.
///
/// ```
/// # use grant::__doc_schema::order_items;
/// fn sharded(_: impl grant::shard::ShardedTable) {}
/// sharded(order_items::table);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a sharded table, so a shard key cannot route a write to it",
    label = "a write routed to one shard",
    note = "a reference table (`#[grant(reference)]`) is copied to every shard: write it on all of them at once with `shards.write_reference(statement)`",
    note = "a sharded table is declared with `grant::table!`"
)]
pub trait ShardedTable {}

/// A `FROM` clause that only reference tables make up: any one shard holds all its rows.
///
/// ```
/// # use grant::__doc_schema::currencies;
/// fn any_shard(_: impl grant::shard::ReferenceSource) {}
/// any_shard(currencies::table);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a reference table: any one shard holds only its own rows of it",
    label = "rows spread over the shards",
    note = "route a read of a sharded table by its key (`.for_shard_key(..)`, `find_key(..)`) or read every shard (`shards.scatter(..)`)"
)]
pub trait ReferenceSource {}

/// A read that any one shard answers in full: a select from reference tables only
/// (see [`super::RouteDsl::on_any_shard`]).
///
/// ```
/// # use grant::__doc_schema::currencies;
/// use grant::prelude::*;
/// fn any_shard(_: impl grant::shard::ReferenceRead) {}
/// any_shard(currencies::table.filter(currencies::name.eq("euro")).select(currencies::code));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not read reference tables only: any one shard holds only its own rows of a sharded table",
    label = "not a read of reference tables",
    note = "`.on_any_shard()` runs a select of reference tables (`#[grant(reference)]`); route a read of a sharded table by its key (`.for_shard_key(..)`) or read every shard (`shards.scatter(..)`)"
)]
pub trait ReferenceRead {}

impl<F, S, D, W, O, LOf, G, H, L> ReferenceRead
    for SelectStatement<FromClause<F>, S, D, W, O, LOf, G, H, L>
where
    F: QuerySource + ReferenceSource,
{
}

impl<ST, F, DB, GB> ReferenceRead for BoxedSelectStatement<'_, ST, FromClause<F>, DB, GB> where
    F: QuerySource + ReferenceSource
{
}

impl<S, D, W, O, LOf, G, H, L> ReferenceRead
    for SelectStatement<NoFromClause, S, D, W, O, LOf, G, H, L>
{
}

impl<J: ReferenceSource, On> ReferenceSource for JoinOn<J, On> {}

impl<Left, Right, Kind> ReferenceSource for Join<Left, Right, Kind>
where
    Left: QuerySource + ReferenceSource,
    Right: QuerySource + ReferenceSource,
{
}

impl<S: AliasSource> ReferenceSource for Alias<S> where S::Target: ReferenceSource {}

/// An `INSERT`, `UPDATE` or `DELETE` of a reference table: what
/// [`Sharded::write_reference`] runs on every shard.
///
/// ```
/// # use grant::__doc_schema::currencies;
/// use grant::prelude::*;
/// use grant::shard::ReferenceWrite;
/// fn table_of<W: ReferenceWrite>(_: &W) -> &'static str { W::TABLE }
/// let insert = diesel::insert_into(currencies::table)
///     .values((currencies::code.eq("EUR"), currencies::name.eq("euro")));
/// assert_eq!(table_of(&insert), "currencies");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a write of a reference table",
    label = "`write_reference` runs an insert, update or delete of a reference table",
    note = "declare the table `#[grant(reference)]` in `grant::table!` to copy it to every shard; a write of a sharded table is routed by its key (`.for_shard_key(..)`, `update_key(..)`)"
)]
pub trait ReferenceWrite {
    /// The reference table written.
    const TABLE: &'static str;
}

impl<T: ReferenceTable + QuerySource, U, V, Ret> ReferenceWrite for UpdateStatement<T, U, V, Ret> {
    const TABLE: &'static str = T::NAME;
}

impl<T: ReferenceTable + QuerySource, U, Ret> ReferenceWrite for DeleteStatement<T, U, Ret> {
    const TABLE: &'static str = T::NAME;
}

impl<T: ReferenceTable + QuerySource, U, Op, Ret> ReferenceWrite
    for InsertStatement<T, U, Op, Ret>
{
    const TABLE: &'static str = T::NAME;
}

/// Which shard the next read of a reference table goes to: reads are spread over the shards.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

/// The route of a read of reference tables: any one shard, the next in turn; when that
/// shard cannot answer (down, its pool exhausted, the read timed out), the next one does
/// (see [`super::RouteDsl::on_any_shard`]).
///
/// ```
/// # use grant::__doc_schema::currencies;
/// use grant::prelude::*;
/// let read = currencies::table.select(currencies::name).on_any_shard();
/// # let _ = read;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct AnyShard(usize);

impl AnyShard {
    pub(crate) fn next() -> Self {
        AnyShard(NEXT_SHARD.fetch_add(1, Ordering::Relaxed))
    }

    fn shard(self, routing: &Routing) -> ShardId {
        let count = routing.len().max(1);
        ShardId((self.0 % count) as u32)
    }
}

impl<Q: Clone> Route<Q> for AnyShard {
    type Output<T: Send> = T;

    fn target(&self, routing: &Routing) -> Result<Target> {
        Ok(Target::One(self.shard(routing)))
    }

    /// The next shard in turn, until every shard was tried: a read of reference tables
    /// survives shards that are down.
    fn fallback(&self, query: &Q, routing: &Routing, tried: usize) -> Option<(ShardId, Q)> {
        (tried < routing.len()).then(|| (AnyShard(self.0 + tried).shard(routing), query.clone()))
    }

    fn split(self, query: Q, routing: &Routing) -> Result<Vec<(ShardId, Q)>> {
        Ok(vec![(self.shard(routing), query)])
    }

    fn assemble<T: Send>(results: Vec<ShardResult<T>>) -> Result<T> {
        super::dispatch::only(results)
    }

    fn assemble_one<T: Send>(result: ShardResult<T>) -> Result<T> {
        Ok(result.value)
    }
}

impl<C: ShardConnection> Sharded<C> {
    /// Writes a reference table on every shard in one transaction across the shards
    /// ([`Sharded::transaction_across`]): every copy changes, or none does. `statement`
    /// builds the insert, update or delete; it is called once per shard (diesel's batch
    /// inserts cannot be cloned). Returns each shard's count of affected rows.
    ///
    /// Errors: a shard that cannot take part (down, timing out, refusing the statement)
    /// fails the write as a whole, and every other shard rolls back:
    /// [`Error::ReferenceWrite`] names the table and the shard and holds its error (a
    /// failure at commit is [`Sharded::transaction_across`]'s);
    /// SQLite shards give [`crate::Error::TwoPhaseUnavailable`] (their files cannot commit
    /// together), as does a PostgreSQL server without prepared transactions.
    ///
    /// ```
    /// # use grant::__doc_schema::{currencies, two_sqlite_shards};
    /// use grant::prelude::*;
    /// # #[tokio::main]
    /// # async fn main() {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// let insert = || {
    ///     diesel::insert_into(currencies::table)
    ///         .values((currencies::code.eq("EUR"), currencies::name.eq("euro")))
    /// };
    /// // SQLite files cannot commit together: refused before anything is written.
    /// let refused = shards.write_reference(insert).await;
    /// assert!(matches!(refused, Err(grant::Error::TwoPhaseUnavailable { .. })));
    /// # }
    /// ```
    pub fn write_reference<'a, S, F>(&'a self, statement: F) -> KeyFuture<'a, PerShard<usize>>
    where
        F: Fn() -> S + Send + Sync + 'a,
        S: ReferenceWrite + Send + 'a,
        Execute: super::operation::Operation<C, S, Output = usize>,
    {
        KeyFuture::new(self.write_everywhere(statement))
    }

    async fn write_everywhere<S, F>(&self, statement: F) -> Result<PerShard<usize>>
    where
        F: Fn() -> S + Send + Sync,
        S: ReferenceWrite + Send,
        Execute: super::operation::Operation<C, S, Output = usize>,
    {
        let tx = self.transaction_across()?;
        let parts = self
            .routing()
            .all()
            .map(|shard| (shard, Some(statement())))
            .collect();
        tx.each_then_commit(
            parts,
            S::TABLE,
            || Execute,
            |shard, e| Error::ReferenceWrite {
                table: S::TABLE,
                shard: shard.to_owned(),
                source: Box::new(e),
            },
        )
        .await
    }
}
