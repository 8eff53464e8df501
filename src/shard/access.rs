//! Whether a statement reads or writes, from its type: reads may go to replicas, writes go
//! to the primary.

use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::query_builder::{
    AstPass, BoxedSelectStatement, BoxedSqlQuery, DeleteStatement, InsertStatement, Query,
    QueryFragment, QueryId, SelectStatement, SqlQuery, UpdateStatement,
};
use diesel::query_source::QuerySource;

/// Where a statement may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A read: a replica may answer.
    Read,
    /// A write: only the primary.
    Write,
}

/// A statement whose kind grant knows: selects read; inserts, updates, deletes and raw SQL
/// write (raw SQL that only reads can say so with [`read_only`]).
#[diagnostic::on_unimplemented(
    message = "grant cannot tell whether `{Self}` reads or writes",
    note = "wrap it with `grant::shard::read_only(..)` or `grant::shard::writes(..)`"
)]
pub trait StatementKind {
    /// [`ReadKind`] or [`WriteKind`], as a type (so that bounds can depend on it).
    type Kind: Kind;
    /// Read or write.
    const ACCESS: Access = <Self::Kind as Kind>::ACCESS;
    /// Raw SQL, whose columns grant reads from its text (see [`crate::Error::ShardKeyImmutable`]).
    const RAW: bool = false;
}

/// [`ReadKind`] or [`WriteKind`].
pub trait Kind: Send + Sync + 'static {
    /// The access it stands for.
    const ACCESS: Access;
}

/// The kind of statements that only read.
#[derive(Debug, Clone, Copy)]
pub struct ReadKind;

/// The kind of statements that write.
#[derive(Debug, Clone, Copy)]
pub struct WriteKind;

impl Kind for ReadKind {
    const ACCESS: Access = Access::Read;
}

impl Kind for WriteKind {
    const ACCESS: Access = Access::Write;
}

impl<F, S, D, W, O, LOf, G, H, L> StatementKind for SelectStatement<F, S, D, W, O, LOf, G, H, L> {
    type Kind = ReadKind;
}

impl<ST, QS, DB, GB> StatementKind for BoxedSelectStatement<'_, ST, QS, DB, GB> {
    type Kind = ReadKind;
}

impl<T: QuerySource, U, Op, Ret> StatementKind for InsertStatement<T, U, Op, Ret> {
    type Kind = WriteKind;
}

/// Only an `UPDATE` whose changeset grant checked for shard-key columns
/// ([`super::CheckedChangeset`]): one routed before its `.set(..)`.
impl<T: QuerySource, U, V: super::CheckedChangeset, Ret> StatementKind
    for UpdateStatement<T, U, V, Ret>
{
    type Kind = WriteKind;
}

impl<T: QuerySource, U, Ret> StatementKind for DeleteStatement<T, U, Ret> {
    type Kind = WriteKind;
}

impl<Inner> StatementKind for SqlQuery<Inner> {
    type Kind = WriteKind;
    const RAW: bool = true;
}

impl<DB: Backend, Q> StatementKind for BoxedSqlQuery<'_, DB, Q> {
    type Kind = WriteKind;
    const RAW: bool = true;
}

/// A statement declared to only read (for raw SQL, which grant otherwise treats as a
/// write): replicas may answer it.
#[derive(Debug, Clone, Copy)]
pub struct ReadOnly<Q>(pub Q);

/// A statement declared to write.
#[derive(Debug, Clone, Copy)]
pub struct Writes<Q>(pub Q);

/// Declares `query` read-only.
pub fn read_only<Q>(query: Q) -> ReadOnly<Q> {
    ReadOnly(query)
}

/// Declares `query` a write.
pub fn writes<Q>(query: Q) -> Writes<Q> {
    Writes(query)
}

impl<Q> StatementKind for ReadOnly<Q> {
    type Kind = ReadKind;
    const RAW: bool = true;
}

impl<Q> StatementKind for Writes<Q> {
    type Kind = WriteKind;
    const RAW: bool = true;
}

macro_rules! forward_wrapper {
    ($w:ident) => {
        impl<Q: QueryId> QueryId for $w<Q> {
            type QueryId = Q::QueryId;
            const HAS_STATIC_QUERY_ID: bool = Q::HAS_STATIC_QUERY_ID;
        }

        impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for $w<Q> {
            fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
                self.0.walk_ast(pass)
            }
        }

        impl<Q: Query> Query for $w<Q> {
            type SqlType = Q::SqlType;
        }

        impl<Q, Conn> diesel::RunQueryDsl<Conn> for $w<Q> {}
    };
}

forward_wrapper!(ReadOnly);
forward_wrapper!(Writes);

#[cfg(test)]
mod tests {
    #[test]
    fn statements_are_told_apart_by_type() {
        use super::{Access, StatementKind};
        use crate::__doc_schema::order_items;
        use diesel::prelude::*;
        fn kind<Q: StatementKind>(_: &Q) -> Access {
            Q::ACCESS
        }
        assert_eq!(
            kind(
                &order_items::table
                    .filter(order_items::quantity.gt(1))
                    .select(order_items::order_id)
            ),
            Access::Read
        );
        assert_eq!(kind(&diesel::delete(order_items::table)), Access::Write);
        assert_eq!(
            kind(&super::read_only(diesel::sql_query("SELECT 1"))),
            Access::Read
        );
    }

    #[test]
    fn read_kind_reads() {
        use super::{Access, Kind, ReadKind};
        assert_eq!(<ReadKind as Kind>::ACCESS, Access::Read);
    }
}
