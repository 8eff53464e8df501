//! Upsert by full key: `INSERT .. ON CONFLICT (<the table's key>) DO UPDATE SET ..` on
//! PostgreSQL and SQLite, `INSERT .. ON DUPLICATE KEY UPDATE ..` on MySQL and MariaDB.
//!
//! The conflict target is the table's key by construction (diesel's `on_conflict` takes any
//! target, and its statement types are private, so grant renders its own clause around
//! diesel's `INSERT`). [`incoming`] names the value the failed insert proposed for a column,
//! on every backend (`excluded.col` or `VALUES(col)`).

use super::{Keyed, KeyedTable};
use diesel::expression::{AppearsOnTable, Expression, ValidGrouping, is_aggregate};
use diesel::query_builder::{AstPass, InsertStatement, QueryFragment, QueryId};
use diesel::{AsChangeset, Column, Insertable, QueryResult};
use diesel_async::AsyncConnection;
use diesel_async::methods::ExecuteDsl;
use std::future::Future;

/// `INSERT INTO t (..) VALUES (..)` followed by the table's upsert clause; built by
/// [`UpsertStatement::upsert_statement`] and run like any diesel statement.
///
/// ```
/// # use grant::__doc_schema::{order_items, OrderItem};
/// use diesel::debug_query;
/// use diesel::sqlite::Sqlite;
/// use grant::key::{incoming, UpsertStatement};
/// use grant::prelude::*;
///
/// let item = OrderItem { order_id: 1, product_id: 2, quantity: 3 };
/// let upsert = item.upsert_statement(order_items::quantity.eq(incoming(order_items::quantity)));
/// let sql = debug_query::<Sqlite, _>(&upsert).to_string();
/// assert!(sql.contains("ON CONFLICT (`order_id`, `product_id`) DO UPDATE SET `quantity` = excluded.`quantity`"), "{sql}");
/// ```
#[must_use = "a statement does nothing until it is run"]
pub struct Upsert<T: diesel::Table, V, Ch> {
    insert: InsertStatement<T, V>,
    changes: Ch,
}

impl<T: diesel::Table, V, Ch> std::fmt::Debug for Upsert<T, V, Ch> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Upsert { .. }")
    }
}

/// Lets a blocking diesel connection run it (`.execute(&mut conn)`).
impl<T: diesel::Table, V, Ch, Conn> diesel::RunQueryDsl<Conn> for Upsert<T, V, Ch> {}

/// The upsert statement of record `R` (borrowed for `'a`) with changes `Ch`.
pub type UpsertRecord<'a, R, Ch> = Upsert<
    <R as Keyed>::Table,
    <&'a R as Insertable<<R as Keyed>::Table>>::Values,
    <Ch as AsChangeset>::Changeset,
>;

/// The upsert statement of a record: the record inserted, or, when a row with its key
/// exists, `changes` applied to that row. The conflict target is the table's key; an empty
/// changeset gives `DO NOTHING` (on MySQL, an assignment of a key column to itself).
/// Implemented for every [`Keyed`] record.
///
/// Run the statement as any diesel statement, or call
/// [`KeyedAsync::insert_or_update`](crate::KeyedAsync::insert_or_update),
/// [`KeyedSync::insert_or_update`](crate::sync::KeyedSync::insert_or_update) or
/// [`Sharded::insert_or_update`](crate::Sharded::insert_or_update), which map its errors.
///
/// ```
/// # use grant::__doc_schema::{order_items, OrderItem, sqlite_with_order_items};
/// use grant::prelude::*;
/// use grant::key::incoming;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> grant::Result<()> {
/// let mut conn = sqlite_with_order_items().await;
/// let item = OrderItem { order_id: 1, product_id: 2, quantity: 3 };
/// item.insert_or_update(&mut conn, order_items::quantity.eq(incoming(order_items::quantity))).await?;
/// let more = OrderItem { quantity: 5, ..item };
/// more.insert_or_update(&mut conn, order_items::quantity.eq(order_items::quantity + incoming(order_items::quantity))).await?;
/// assert_eq!(OrderItem::find(&mut conn, (1, 2)).await?.map(|i| i.quantity), Some(8));
/// # Ok(())
/// # }
/// ```
pub trait UpsertStatement: Keyed {
    /// `INSERT <self> ON CONFLICT (<key>) DO UPDATE SET <changes>` (MySQL:
    /// `ON DUPLICATE KEY UPDATE <changes>`).
    fn upsert_statement<'a, Ch>(&'a self, changes: Ch) -> UpsertRecord<'a, Self, Ch>
    where
        &'a Self: Insertable<Self::Table>,
        Ch: AsChangeset<Target = Self::Table>,
    {
        Upsert {
            insert: diesel::insert_into(Self::Table::default()).values(self),
            changes: changes.as_changeset(),
        }
    }
}

impl<R: Keyed> UpsertStatement for R {}

/// A record that connection `C` can upsert with changes `Ch` (diesel's `Insertable`
/// record, a changeset of its table): what [`Sharded::insert_or_update`](crate::Sharded::insert_or_update)
/// requires, named as one trait so that the record's type is known before diesel's
/// `Insertable` impls are searched.
///
/// ```
/// # use grant::__doc_schema::{order_items, OrderItem, sqlite_with_order_items};
/// use grant::key::UpsertOne;
/// use diesel::ExpressionMethods;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), diesel::result::Error> {
/// let mut conn = sqlite_with_order_items().await;
/// let item = OrderItem { order_id: 1, product_id: 1, quantity: 1 };
/// assert_eq!(item.upsert_one(&mut conn, order_items::quantity.eq(2)).await?, 1);
/// # Ok(())
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` can't be upserted with changes `{Ch}` on `{C}`",
    note = "the record must derive diesel's `Insertable` (and `grant::Keyed`), and the changes be a changeset of the record's table: `column.eq(..)`, a tuple of them, or a `#[derive(AsChangeset)]` struct"
)]
pub trait UpsertOne<C, Ch>: Keyed + Sync {
    /// Runs [`UpsertStatement::upsert_statement`]; errors are diesel's.
    fn upsert_one(
        &self,
        conn: &mut C,
        changes: Ch,
    ) -> impl Future<Output = QueryResult<usize>> + Send;
}

impl<R, C, Ch> UpsertOne<C, Ch> for R
where
    R: Keyed + Sync,
    C: AsyncConnection,
    Ch: AsChangeset<Target = R::Table> + Send,
    for<'a> &'a R: Insertable<R::Table>,
    for<'a> UpsertRecord<'a, R, Ch>: ExecuteDsl<C> + Send,
{
    async fn upsert_one(&self, conn: &mut C, changes: Ch) -> QueryResult<usize> {
        diesel_async::RunQueryDsl::execute(self.upsert_statement(changes), conn).await
    }
}

impl<T: diesel::Table, V, Ch> QueryId for Upsert<T, V, Ch> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// How a backend spells the upsert clause.
enum Clause {
    /// `ON CONFLICT (<key>) DO UPDATE SET ..` / `DO NOTHING`.
    #[cfg_attr(not(any(feature = "postgres", feature = "sqlite")), allow(dead_code))]
    OnConflict,
    /// `ON DUPLICATE KEY UPDATE ..`.
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    OnDuplicateKey,
}

fn walk_upsert<'b, T, V, Ch, DB>(
    upsert: &'b Upsert<T, V, Ch>,
    mut out: AstPass<'_, 'b, DB>,
    clause: Clause,
) -> QueryResult<()>
where
    DB: diesel::backend::Backend,
    T: KeyedTable,
    InsertStatement<T, V>: QueryFragment<DB>,
    Ch: QueryFragment<DB>,
{
    upsert.insert.walk_ast(out.reborrow())?;
    let noop = upsert.changes.is_noop(out.backend())?;
    match clause {
        Clause::OnConflict => {
            out.push_sql(" ON CONFLICT (");
            push_key_columns::<T, DB>(&mut out)?;
            if noop {
                out.push_sql(") DO NOTHING");
                return Ok(());
            }
            out.push_sql(") DO UPDATE SET ");
        }
        Clause::OnDuplicateKey => {
            out.push_sql(" ON DUPLICATE KEY UPDATE ");
            if noop {
                // MySQL has no DO NOTHING: assigning a key column to itself changes nothing.
                if let Some(first) = T::KEY_COLUMNS.first() {
                    out.push_identifier(first)?;
                    out.push_sql(" = ");
                    out.push_identifier(first)?;
                }
                return Ok(());
            }
        }
    }
    upsert.changes.walk_ast(out.reborrow())
}

fn push_key_columns<T: KeyedTable, DB: diesel::backend::Backend>(
    out: &mut AstPass<'_, '_, DB>,
) -> QueryResult<()> {
    for (i, column) in T::KEY_COLUMNS.iter().enumerate() {
        if i > 0 {
            out.push_sql(", ");
        }
        out.push_identifier(column)?;
    }
    Ok(())
}

macro_rules! upsert_fragment {
    ($feature:literal, $backend:ty, $clause:expr) => {
        #[cfg(feature = $feature)]
        impl<T, V, Ch> QueryFragment<$backend> for Upsert<T, V, Ch>
        where
            T: KeyedTable,
            InsertStatement<T, V>: QueryFragment<$backend>,
            Ch: QueryFragment<$backend>,
        {
            fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, $backend>) -> QueryResult<()> {
                walk_upsert(self, out, $clause)
            }
        }
    };
}

upsert_fragment!("postgres", diesel::pg::Pg, Clause::OnConflict);
upsert_fragment!("sqlite", diesel::sqlite::Sqlite, Clause::OnConflict);
upsert_fragment!("mysql", diesel::mysql::Mysql, Clause::OnDuplicateKey);

/// The value the insert of an upsert proposed for `column`: `excluded.column` on PostgreSQL
/// and SQLite, `VALUES(column)` on MySQL and MariaDB. Use it on the right of the changes.
///
/// ```
/// # use grant::__doc_schema::order_items;
/// use diesel::debug_query;
/// use diesel::sqlite::Sqlite;
/// use grant::key::incoming;
///
/// let sql = debug_query::<Sqlite, _>(&incoming(order_items::quantity)).to_string();
/// assert_eq!(sql, "excluded.`quantity` -- binds: []");
/// ```
pub fn incoming<C: Column>(column: C) -> Incoming<C> {
    Incoming(column)
}

/// The expression [`incoming`] returns.
#[derive(Debug, Clone, Copy, QueryId)]
pub struct Incoming<C>(C);

impl<C: Column> Expression for Incoming<C> {
    type SqlType = C::SqlType;
}

impl<C: Column, QS> AppearsOnTable<QS> for Incoming<C> where C: AppearsOnTable<QS> {}

impl<C: Column, GB> ValidGrouping<GB> for Incoming<C> {
    type IsAggregate = is_aggregate::Never;
}

macro_rules! incoming_fragment {
    ($feature:literal, $backend:ty, $before:literal, $after:literal) => {
        #[cfg(feature = $feature)]
        impl<C: Column> QueryFragment<$backend> for Incoming<C> {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, $backend>) -> QueryResult<()> {
                out.push_sql($before);
                out.push_identifier(C::NAME)?;
                out.push_sql($after);
                Ok(())
            }
        }
    };
}

incoming_fragment!("postgres", diesel::pg::Pg, "excluded.", "");
incoming_fragment!("sqlite", diesel::sqlite::Sqlite, "excluded.", "");
incoming_fragment!("mysql", diesel::mysql::Mysql, "VALUES(", ")");
