//! The key operations, each written once: the statement it sends and what its result means.
//! The three front ends ([`crate::KeyedAsync`] on a diesel-async connection,
//! [`crate::sync::KeyedSync`] on a blocking one, and [`crate::Sharded`] on the shard of the
//! key) only run these statements; none builds its own.
//!
//! Each trait is implemented for every record (or table) whose Diesel bounds hold, so a
//! front end names one trait where it used to name five Diesel bounds, in the style of
//! diesel-async's `methods::LoadQuery`. They are public so that generic code over records
//! can name them; they are never implemented by hand.
//!
//! ```
//! # use grant::__doc_schema::{order_items, OrderItem};
//! use diesel::debug_query;
//! use diesel::sqlite::Sqlite;
//! use grant::key::methods::{DeleteByKey, FindByKey};
//!
//! let key = order_items::Key { order_id: 1, product_id: 2 };
//! let find = <OrderItem as FindByKey<Sqlite>>::find_statement(key.clone());
//! assert!(debug_query::<Sqlite, _>(&find).to_string().contains("WHERE ((`order_items`.`order_id` = ?)"));
//! let delete = <OrderItem as DeleteByKey>::delete_statement(key);
//! assert!(debug_query::<Sqlite, _>(&delete).to_string().starts_with("DELETE FROM `order_items`"));
//! ```

use super::{BindLimit, KeyFrom, KeyOf, Keyed, KeyedTable, KeysIn, keys_per_statement};
use crate::{Error, Result};
use diesel::associations::HasTable;
use diesel::backend::Backend;
use diesel::dsl::{AsSelect, Filter, Select};
use diesel::query_builder::{AsChangeset, AsQuery, IntoUpdateTarget, QueryFragment, QueryId};
use diesel::query_dsl::methods::{FilterDsl, SelectDsl};
use diesel::{Expression, Selectable, SelectableHelper};
use std::collections::{HashMap, HashSet};

/// The key filter of a record's table.
type KeyFilterOf<R> = <<R as Keyed>::Table as KeyedTable>::KeyFilter;
/// The table filtered to one key.
type ByKey<R> = Filter<<R as Keyed>::Table, KeyFilterOf<R>>;

/// The statement of [`FindByKey`] for record `R` on backend `DB`.
pub type FindStatement<R, DB> = <R as FindByKey<DB>>::Statement;
/// The statement of [`FindManyByKeys`].
pub type FindManyStatement<R, DB> = <R as FindManyByKeys<DB>>::Statement;
/// The statement of [`ExistsByKey`].
pub type ExistsStatement<R> = <R as ExistsByKey>::Statement;
/// The statement of [`UpdateByKey`].
pub type UpdateStatement<R, Ch> = <R as UpdateByKey<Ch>>::Statement;
/// The statement of [`DeleteByKey`].
pub type DeleteStatement<R> = <R as DeleteByKey>::Statement;

/// `SELECT <the record's columns> FROM t WHERE <key>`: find one record by its full key.
#[diagnostic::on_unimplemented(
    message = "`{Self}` can't be read by key on this backend",
    note = "derive diesel's `Selectable` (and `grant::Keyed`) for `{Self}`, with `#[diesel(table_name = ..)]` naming a `grant::table!` table"
)]
pub trait FindByKey<DB>: Keyed + Sized {
    /// The statement.
    type Statement: Send;
    /// The statement that finds the record with `key`.
    fn find_statement(key: KeyOf<Self>) -> Self::Statement;
}

impl<R, DB> FindByKey<DB> for R
where
    DB: Backend,
    R: Keyed + Selectable<DB>,
    R::SelectExpression: QueryId,
    R::Table: FilterDsl<KeyFilterOf<R>>,
    ByKey<R>: SelectDsl<AsSelect<R, DB>>,
    Select<ByKey<R>, AsSelect<R, DB>>: Send,
{
    type Statement = Select<ByKey<R>, AsSelect<R, DB>>;
    #[inline]
    fn find_statement(key: KeyOf<Self>) -> Self::Statement {
        R::Table::default()
            .filter(R::Table::key_filter(key))
            .select(R::as_select())
    }
}

/// `SELECT <the record's columns> FROM t WHERE <key> IN (..)`: many records by their keys,
/// in statements of at most [`FindManyByKeys::keys_per_statement`] keys.
#[diagnostic::on_unimplemented(
    message = "`{Self}` can't be read by a list of keys on this backend",
    note = "derive diesel's `Selectable` (and `grant::Keyed`) for `{Self}`"
)]
pub trait FindManyByKeys<DB>: Keyed + Sized {
    /// The statement of one chunk of keys.
    type Statement: Send;
    /// The most keys one statement may carry on `DB`.
    fn keys_per_statement() -> usize;
    /// The statement that finds the records with `keys` (at most
    /// [`FindManyByKeys::keys_per_statement`] of them).
    fn find_many_statement(keys: Vec<KeyOf<Self>>) -> Self::Statement;
}

impl<R, DB> FindManyByKeys<DB> for R
where
    DB: Backend + BindLimit,
    R: Keyed + Selectable<DB>,
    R::SelectExpression: QueryId,
    R::Table: FilterDsl<KeysIn<R::Table>>,
    Filter<R::Table, KeysIn<R::Table>>: SelectDsl<AsSelect<R, DB>>,
    Select<Filter<R::Table, KeysIn<R::Table>>, AsSelect<R, DB>>: Send,
{
    type Statement = Select<Filter<R::Table, KeysIn<R::Table>>, AsSelect<R, DB>>;
    #[inline]
    fn keys_per_statement() -> usize {
        keys_per_statement::<R::Table, DB>()
    }
    #[inline]
    fn find_many_statement(keys: Vec<KeyOf<Self>>) -> Self::Statement {
        R::Table::default()
            .filter(KeysIn::new(keys))
            .select(R::as_select())
    }
}

/// `SELECT EXISTS (SELECT .. WHERE <key>)`.
pub trait ExistsByKey: Keyed + Sized {
    /// The statement.
    type Statement: Send;
    /// The statement that asks whether a row has `key`.
    fn exists_statement(key: KeyOf<Self>) -> Self::Statement;
}

impl<R> ExistsByKey for R
where
    R: Keyed,
    R::Table: FilterDsl<KeyFilterOf<R>>,
    diesel::dsl::exists<ByKey<R>>: Expression,
    diesel::dsl::select<diesel::dsl::exists<ByKey<R>>>: AsQuery,
    diesel::dsl::select<diesel::dsl::exists<ByKey<R>>>: Send,
{
    type Statement = diesel::dsl::select<diesel::dsl::exists<ByKey<R>>>;
    #[inline]
    fn exists_statement(key: KeyOf<Self>) -> Self::Statement {
        diesel::select(diesel::dsl::exists(
            R::Table::default().filter(R::Table::key_filter(key)),
        ))
    }
}

/// `UPDATE t SET <changes> WHERE <key>`.
#[diagnostic::on_unimplemented(
    message = "`{Ch}` is not a changeset of `{Self}`'s table",
    note = "give `column.eq(value)`, a tuple of them, or a `#[derive(AsChangeset)]` struct of the same table"
)]
pub trait UpdateByKey<Ch>: Keyed + Sized {
    /// The statement.
    type Statement;
    /// The statement that applies `changes` to the row with `key`.
    fn update_statement(key: KeyOf<Self>, changes: Ch) -> Self::Statement;
}

impl<R, Ch> UpdateByKey<Ch> for R
where
    R: Keyed,
    Ch: AsChangeset<Target = R::Table>,
    R::Table: FilterDsl<KeyFilterOf<R>>,
    ByKey<R>: IntoUpdateTarget + HasTable<Table = R::Table>,
    diesel::query_builder::UpdateStatement<
        R::Table,
        <ByKey<R> as IntoUpdateTarget>::WhereClause,
        Ch::Changeset,
    >: AsQuery,
{
    type Statement = diesel::dsl::Update<ByKey<R>, Ch>;
    #[inline]
    fn update_statement(key: KeyOf<Self>, changes: Ch) -> Self::Statement {
        diesel::update(R::Table::default().filter(R::Table::key_filter(key))).set(changes)
    }
}

/// `DELETE FROM t WHERE <key>`.
pub trait DeleteByKey: Keyed + Sized {
    /// The statement.
    type Statement: Send;
    /// The statement that deletes the row with `key`.
    fn delete_statement(key: KeyOf<Self>) -> Self::Statement;
}

impl<R> DeleteByKey for R
where
    R: Keyed,
    R::Table: FilterDsl<KeyFilterOf<R>>,
    ByKey<R>: IntoUpdateTarget,
    diesel::dsl::delete<ByKey<R>>: Send,
{
    type Statement = diesel::dsl::delete<ByKey<R>>;
    #[inline]
    fn delete_statement(key: KeyOf<Self>) -> Self::Statement {
        diesel::delete(R::Table::default().filter(R::Table::key_filter(key)))
    }
}

/// A statement that renders as SQL on backend `DB` (for checks that read the SQL).
pub trait RenderSql<DB> {
    /// The SQL text, binds left out.
    fn render_sql(&self) -> String;
}

impl<T, DB> RenderSql<DB> for T
where
    T: QueryFragment<DB>,
    DB: Backend + Default,
    DB::QueryBuilder: Default,
{
    fn render_sql(&self) -> String {
        diesel::debug_query::<DB, _>(self).to_string()
    }
}

/// The full key that `key` stands for, with its printed form (for errors).
pub(crate) fn full_key<T: KeyFrom<K>, K>(key: K) -> (T::Key, String) {
    let key = T::key_from(key);
    let printed = key.to_string();
    (key, printed)
}

/// `find_or_error`'s outcome: the row, or [`Error::NotFound`] naming the table and the key.
pub(crate) fn require_row<R: Keyed>(row: Option<R>, printed: String) -> Result<R> {
    row.ok_or(Error::NotFound {
        table: <R::Table as KeyedTable>::NAME,
        key: printed,
    })
}

/// `update`'s outcome from the affected-row count: [`Error::NotFound`] when no row had the key.
pub(crate) fn require_updated<R: Keyed>(affected: usize, printed: String) -> Result<()> {
    match affected {
        0 => Err(Error::NotFound {
            table: <R::Table as KeyedTable>::NAME,
            key: printed,
        }),
        _ => Ok(()),
    }
}

/// The keys, each once, in first-seen order.
pub(crate) fn unique_keys<T, I>(keys: I) -> Vec<T::Key>
where
    T: KeyFrom<I::Item>,
    I: IntoIterator,
{
    let mut seen = HashSet::new();
    keys.into_iter()
        .map(T::key_from)
        .filter(|k| seen.insert(k.clone()))
        .collect()
}

/// The rows in the order of `keys`.
pub(crate) fn in_key_order<R: Keyed>(keys: &[KeyOf<R>], rows: Vec<R>) -> Vec<R> {
    let mut by_key: HashMap<KeyOf<R>, R> = rows.into_iter().map(|r| (r.key(), r)).collect();
    keys.iter().filter_map(|k| by_key.remove(k)).collect()
}

/// `INSERT INTO t VALUES <record>`.
pub(crate) type InsertRecord<'a, R> = diesel::query_builder::InsertStatement<
    <R as Keyed>::Table,
    <&'a R as diesel::Insertable<<R as Keyed>::Table>>::Values,
>;
/// `INSERT INTO t VALUES <records>`.
pub(crate) type InsertRecords<'a, R> = diesel::query_builder::InsertStatement<
    <R as Keyed>::Table,
    <&'a [R] as diesel::Insertable<<R as Keyed>::Table>>::Values,
>;
