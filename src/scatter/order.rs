//! Orderings of scatter queries, given once: `(desc(a), asc(b))` becomes each shard's
//! `ORDER BY`, the sort values selected with each row, the comparison of the merge, and
//! the keyset condition of `after(..)`.

use super::value::{NullOrdering, SortSql, SortValue};
use diesel::backend::Backend;
use diesel::expression::Expression;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::serialize::ToSql;
use diesel::sql_types::HasSqlType;
use diesel::{ExpressionMethods, QueryResult};
use std::cmp::Ordering;

/// Ascending order by an expression (`NULL` placed as the backend places it; see
/// [`Asc::nulls_first`] and [`Asc::nulls_last`]).
#[derive(Debug, Clone, Copy)]
pub struct Asc<E>(pub E);

/// Descending order by an expression (`NULL` placed as the backend places it; see
/// [`Desc::nulls_first`] and [`Desc::nulls_last`]).
#[derive(Debug, Clone, Copy)]
pub struct Desc<E>(pub E);

/// Where one ordering term puts `NULL`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nulls {
    /// Where the backend puts them: after every value in ascending order on PostgreSQL,
    /// before on MySQL, MariaDB and SQLite (and the reverse in descending order).
    Backend,
    /// Before every value (`NULLS FIRST`).
    First,
    /// After every value (`NULLS LAST`).
    Last,
}

impl Nulls {
    /// Whether `NULL` compares as the largest value before the term's direction is applied,
    /// given the backend's own rule.
    pub(crate) fn largest(self, descending: bool, backend_nulls_largest: bool) -> bool {
        match self {
            Nulls::Backend => backend_nulls_largest,
            Nulls::First => descending,
            Nulls::Last => !descending,
        }
    }
}

/// An ordering term with its `NULL`s placed first or last: `asc(col).nulls_first()`.
/// Rendered `NULLS FIRST` / `NULLS LAST` on PostgreSQL and SQLite, and as a leading
/// `col IS NULL` term on MySQL and MariaDB, which have no such syntax.
#[derive(Debug, Clone, Copy)]
pub struct Placed<T, const FIRST: bool>(T);

macro_rules! placement_methods {
    ($term:ident) => {
        impl<E> $term<E> {
            /// This term with its `NULL`s before every value.
            ///
            /// ```
            /// # use grant::__doc_schema::order_items;
            /// use grant::scatter::{asc, desc};
            /// let ordering = (desc(order_items::quantity).nulls_first(), asc(order_items::order_id).nulls_last());
            /// # let _ = ordering;
            /// ```
            pub fn nulls_first(self) -> Placed<Self, true> {
                Placed(self)
            }

            /// This term with its `NULL`s after every value.
            pub fn nulls_last(self) -> Placed<Self, false> {
                Placed(self)
            }
        }
    };
}

placement_methods!(Asc);
placement_methods!(Desc);

/// Ascending order by `expr`, for scatter queries.
///
/// ```
/// # use grant::__doc_schema::order_items;
/// let ordering = (grant::scatter::desc(order_items::quantity), grant::scatter::asc(order_items::order_id));
/// # let _ = ordering;
/// ```
pub fn asc<E: Expression>(expr: E) -> Asc<E> {
    Asc(expr)
}

/// Descending order by `expr`, for scatter queries.
pub fn desc<E: Expression>(expr: E) -> Desc<E> {
    Desc(expr)
}

/// One term of an ordering: an expression, a direction and a placement of `NULL`s.
///
/// Terms are grant's [`asc`] and [`desc`] (with [`Asc::nulls_first`], ..), or diesel's own
/// `column.asc()` and `column.desc()` on a column.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an ordering term of a scatter query",
    label = "not a scatter ordering term",
    note = "order by `grant::scatter::asc(expr)` / `desc(expr)` (with `.nulls_first()` / `.nulls_last()`), or by diesel's `column.asc()` / `column.desc()` on a column"
)]
pub trait OrderTerm: Clone + Send + Sync + 'static {
    /// The expression.
    type Expr: Expression + Clone + Send + Sync + 'static;
    /// Its value in Rust.
    type Value: SortValue;
    /// Diesel's `expr ASC` / `expr DESC`.
    type Sql: Clone + Send + Sync + 'static;
    /// Whether it is descending.
    const DESCENDING: bool;
    /// Where its `NULL`s go.
    const NULLS: Nulls = Nulls::Backend;
    /// The expression.
    fn expr(&self) -> Self::Expr;
    /// The `ORDER BY` term.
    fn sql(&self) -> Self::Sql;
}

impl<T: OrderTerm, const FIRST: bool> OrderTerm for Placed<T, FIRST> {
    type Expr = T::Expr;
    type Value = T::Value;
    type Sql = PlacedSql<T::Expr>;
    const DESCENDING: bool = T::DESCENDING;
    const NULLS: Nulls = if FIRST { Nulls::First } else { Nulls::Last };
    fn expr(&self) -> T::Expr {
        self.0.expr()
    }
    fn sql(&self) -> PlacedSql<T::Expr> {
        PlacedSql {
            expr: self.0.expr(),
            descending: T::DESCENDING,
            nulls_first: FIRST,
        }
    }
}

/// The `ORDER BY` term of [`Placed`].
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
pub struct PlacedSql<E> {
    expr: E,
    descending: bool,
    nulls_first: bool,
}

impl<E: Expression> Expression for PlacedSql<E> {
    type SqlType = E::SqlType;
}

impl<E, QS> diesel::AppearsOnTable<QS> for PlacedSql<E> where E: diesel::AppearsOnTable<QS> {}

impl<E, QS> diesel::SelectableExpression<QS> for PlacedSql<E> where
    E: diesel::SelectableExpression<QS>
{
}

impl<E, GB> diesel::expression::ValidGrouping<GB> for PlacedSql<E>
where
    E: diesel::expression::ValidGrouping<GB>,
{
    type IsAggregate = E::IsAggregate;
}

impl<E> PlacedSql<E> {
    fn direction(&self) -> &'static str {
        if self.descending { " DESC" } else { " ASC" }
    }
}

macro_rules! placed_nulls_syntax {
    ($feature:literal, $backend:ty) => {
        #[cfg(feature = $feature)]
        impl<E: QueryFragment<$backend>> QueryFragment<$backend> for PlacedSql<E> {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, $backend>) -> QueryResult<()> {
                self.expr.walk_ast(out.reborrow())?;
                out.push_sql(self.direction());
                out.push_sql(if self.nulls_first {
                    " NULLS FIRST"
                } else {
                    " NULLS LAST"
                });
                Ok(())
            }
        }
    };
}

placed_nulls_syntax!("postgres", diesel::pg::Pg);
placed_nulls_syntax!("sqlite", diesel::sqlite::Sqlite);

/// MySQL and MariaDB have no `NULLS FIRST`: order by `expr IS NULL` first.
#[cfg(feature = "mysql")]
impl<E: QueryFragment<diesel::mysql::Mysql>> QueryFragment<diesel::mysql::Mysql> for PlacedSql<E> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, diesel::mysql::Mysql>) -> QueryResult<()> {
        self.expr.walk_ast(out.reborrow())?;
        out.push_sql(if self.nulls_first {
            " IS NULL DESC, "
        } else {
            " IS NULL ASC, "
        });
        self.expr.walk_ast(out.reborrow())?;
        out.push_sql(self.direction());
        Ok(())
    }
}

/// Diesel's own `column.asc()` / `column.desc()`, for a column (whose value grant makes
/// again with `Default`: diesel keeps the ordered expression private).
macro_rules! diesel_term {
    ($diesel:ident, $descending:literal) => {
        impl<E> OrderTerm for diesel::dsl::$diesel<E>
        where
            E: diesel::Column + Default + Clone + Send + Sync + 'static,
            E::SqlType: SortSql + diesel::sql_types::SingleValue,
            diesel::dsl::$diesel<E>: Clone + Send + Sync + 'static,
        {
            type Expr = E;
            type Value = <E::SqlType as SortSql>::Value;
            type Sql = Self;
            const DESCENDING: bool = $descending;
            fn expr(&self) -> E {
                E::default()
            }
            fn sql(&self) -> Self {
                self.clone()
            }
        }
    };
}

diesel_term!(Asc, false);
diesel_term!(Desc, true);

impl<E> OrderTerm for Asc<E>
where
    E: Expression + Clone + Send + Sync + 'static,
    E::SqlType: SortSql + diesel::sql_types::SingleValue,
{
    type Expr = E;
    type Value = <E::SqlType as SortSql>::Value;
    type Sql = diesel::dsl::Asc<E>;
    const DESCENDING: bool = false;
    fn expr(&self) -> E {
        self.0.clone()
    }
    fn sql(&self) -> Self::Sql {
        self.0.clone().asc()
    }
}

impl<E> OrderTerm for Desc<E>
where
    E: Expression + Clone + Send + Sync + 'static,
    E::SqlType: SortSql + diesel::sql_types::SingleValue,
{
    type Expr = E;
    type Value = <E::SqlType as SortSql>::Value;
    type Sql = diesel::dsl::Desc<E>;
    const DESCENDING: bool = true;
    fn expr(&self) -> E {
        self.0.clone()
    }
    fn sql(&self) -> Self::Sql {
        self.0.clone().desc()
    }
}

/// A whole ordering: one term, or a tuple of up to four (`(desc(a), asc(b))`).
///
/// Guarantee: rows merged from the shards come out in the order this comparison gives,
/// which is the database's own order for the types of [`SortValue`]; make the ordering total
/// (end it with a unique key) to get the very rows a single database would return.
pub trait OrderSpec: Clone + Send + Sync + 'static {
    /// The expressions, selected with each row.
    type Exprs: Clone + Send + Sync + 'static;
    /// Their values, loaded with each row.
    type Values: Clone + Send + Sync + 'static;
    /// The `ORDER BY` clause.
    type Sql: Clone + Send + Sync + 'static;
    /// The expressions.
    fn exprs(&self) -> Self::Exprs;
    /// The `ORDER BY` clause.
    fn sql(&self) -> Self::Sql;
    /// Compares two rows' values like the database would, each term's `NULL`s placed as the
    /// term says (`nulls_largest` is the backend's own rule).
    fn compare(a: &Self::Values, b: &Self::Values, nulls_largest: bool) -> Ordering;
}

macro_rules! single_term_spec {
    ([$($g:tt)*] $ty:ty) => {
        impl<$($g)*> OrderSpec for $ty
        where
            $ty: OrderTerm,
        {
            type Exprs = (<$ty as OrderTerm>::Expr,);
            type Values = (<$ty as OrderTerm>::Value,);
            type Sql = <$ty as OrderTerm>::Sql;
            fn exprs(&self) -> Self::Exprs {
                (self.expr(),)
            }
            fn sql(&self) -> Self::Sql {
                OrderTerm::sql(self)
            }
            fn compare(a: &Self::Values, b: &Self::Values, nulls_largest: bool) -> Ordering {
                let descending = <$ty as OrderTerm>::DESCENDING;
                let largest = <$ty as OrderTerm>::NULLS.largest(descending, nulls_largest);
                let o = a.0.cmp_sql(&b.0, largest);
                if descending { o.reverse() } else { o }
            }
        }
    };
}

single_term_spec!([E] Asc<E>);
single_term_spec!([E] Desc<E>);
single_term_spec!([T, const FIRST: bool] Placed<T, FIRST>);
single_term_spec!([E] diesel::dsl::Asc<E>);
single_term_spec!([E] diesel::dsl::Desc<E>);

macro_rules! tuple_spec {
    ($($t:ident $i:tt),+) => {
        impl<$($t: OrderTerm),+> OrderSpec for ($($t,)+) {
            type Exprs = ($($t::Expr,)+);
            type Values = ($($t::Value,)+);
            type Sql = ($($t::Sql,)+);
            fn exprs(&self) -> Self::Exprs {
                ($(self.$i.expr(),)+)
            }
            fn sql(&self) -> Self::Sql {
                ($(self.$i.sql(),)+)
            }
            fn compare(a: &Self::Values, b: &Self::Values, nulls_largest: bool) -> Ordering {
                $(
                    let largest = $t::NULLS.largest($t::DESCENDING, nulls_largest);
                    let o = a.$i.cmp_sql(&b.$i, largest);
                    let o = if $t::DESCENDING { o.reverse() } else { o };
                    if o != Ordering::Equal {
                        return o;
                    }
                )+
                Ordering::Equal
            }
        }
    };
}

tuple_spec!(A 0);
tuple_spec!(A 0, B 1);
tuple_spec!(A 0, B 1, C 2);
tuple_spec!(A 0, B 1, C 2, D 3);

/// The keyset condition "the row comes after `values` in this ordering":
/// `a >= $1 AND ((a > $1) OR (a = $1 AND b < $2))` for `(asc(a), desc(b))`. The leading
/// bound on the first term is implied by the rest; it is there for the index.
#[derive(Clone)]
pub struct After<O: OrderSpec> {
    exprs: O::Exprs,
    values: O::Values,
}

impl<O: OrderSpec> After<O> {
    /// The condition for rows after `values` in `ordering`.
    pub fn new(ordering: &O, values: O::Values) -> Self {
        After {
            exprs: ordering.exprs(),
            values,
        }
    }
}

crate::condition::condition_on_columns!([O: OrderSpec] After<O>, O::Exprs);

/// Renders [`After`] for backend `DB`; implemented for every ordering whose expressions and
/// values the backend can render and bind.
pub trait KeysetSql<DB: Backend>: OrderSpec {
    /// Renders the condition.
    fn walk_after<'b>(
        exprs: &'b Self::Exprs,
        values: &'b Self::Values,
        out: AstPass<'_, 'b, DB>,
    ) -> QueryResult<()>;
}

impl<O: KeysetSql<DB>, DB: Backend> QueryFragment<DB> for After<O> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        O::walk_after(&self.exprs, &self.values, out)
    }
}

/// Whether `NULL`s come after every value in term `T`'s order on backend `DB` (never for an
/// expression that can't be `NULL`, so that its condition stays a plain range an index
/// serves).
fn nulls_after<T: OrderTerm, DB: NullOrdering>() -> bool {
    <T::Value as SortValue>::NULLABLE
        && T::NULLS.largest(T::DESCENDING, DB::NULLS_LARGEST) != T::DESCENDING
}

/// `e = v`, or `e IS NULL` when `v` is `NULL`.
fn walk_equal<'b, T, DB>(
    expr: &'b T::Expr,
    value: &'b T::Value,
    out: &mut AstPass<'_, 'b, DB>,
) -> QueryResult<()>
where
    DB: Backend,
    T: OrderTerm,
    T::Expr: QueryFragment<DB>,
    DB: HasSqlType<<T::Expr as Expression>::SqlType>,
    T::Value: ToSql<<T::Expr as Expression>::SqlType, DB>,
{
    expr.walk_ast(out.reborrow())?;
    if value.is_null() {
        out.push_sql(" IS NULL");
        return Ok(());
    }
    out.push_sql(" = ");
    out.push_bind_param::<<T::Expr as Expression>::SqlType, T::Value>(value)
}

/// "`e` comes after `v`" in term `T`'s order (`or_equal`: or ties with it), `NULL`s placed as
/// the term and the backend place them: after a `NULL` come only the values (when `NULL`s
/// are first) or nothing; after a value come the later values and, when `NULL`s are last,
/// the `NULL`s.
fn walk_after_term<'b, T, DB>(
    expr: &'b T::Expr,
    value: &'b T::Value,
    or_equal: bool,
    out: &mut AstPass<'_, 'b, DB>,
) -> QueryResult<()>
where
    DB: Backend + NullOrdering,
    T: OrderTerm,
    T::Expr: QueryFragment<DB>,
    DB: HasSqlType<<T::Expr as Expression>::SqlType>,
    T::Value: ToSql<<T::Expr as Expression>::SqlType, DB>,
{
    let nulls_after = nulls_after::<T, DB>();
    if value.is_null() {
        match (nulls_after, or_equal) {
            (true, true) => {
                expr.walk_ast(out.reborrow())?;
                out.push_sql(" IS NULL");
            }
            (true, false) => out.push_sql("1 = 0"),
            (false, true) => out.push_sql("1 = 1"),
            (false, false) => {
                expr.walk_ast(out.reborrow())?;
                out.push_sql(" IS NOT NULL");
            }
        }
        return Ok(());
    }
    if nulls_after {
        out.push_sql("(");
    }
    expr.walk_ast(out.reborrow())?;
    out.push_sql(match (T::DESCENDING, or_equal) {
        (false, false) => " > ",
        (false, true) => " >= ",
        (true, false) => " < ",
        (true, true) => " <= ",
    });
    out.push_bind_param::<<T::Expr as Expression>::SqlType, T::Value>(value)?;
    if nulls_after {
        out.push_sql(" OR ");
        expr.walk_ast(out.reborrow())?;
        out.push_sql(" IS NULL)");
    }
    Ok(())
}

/// Renders `lead AND ((after_0) OR (eq_0 AND after_1) OR ..)`, each part `NULL`-aware.
macro_rules! keyset_sql {
    ($($t:ident $i:tt),+) => {
        impl<DB, $($t),+> KeysetSql<DB> for ($($t,)+)
        where
            DB: Backend + NullOrdering,
            $( $t: OrderTerm,
               $t::Expr: QueryFragment<DB>,
               DB: HasSqlType<<$t::Expr as Expression>::SqlType>,
               $t::Value: ToSql<<$t::Expr as Expression>::SqlType, DB>, )+
        {
            fn walk_after<'b>(exprs: &'b Self::Exprs, values: &'b Self::Values, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
                let count = [$($t::DESCENDING),+].len();
                out.push_sql("(");
                if count > 1 {
                    // A bound on the first term alone, which an index on the ordering can
                    // use (the OR of ANDs below cannot, so every batch would scan).
                    out.push_sql("(");
                    walk_after_term::<A, DB>(&exprs.0, &values.0, true, &mut out)?;
                    out.push_sql(") AND (");
                }
                for i in 0..count {
                    if i > 0 {
                        out.push_sql(" OR ");
                    }
                    out.push_sql("(");
                    let mut j = 0usize;
                    $(
                        if j < i {
                            walk_equal::<$t, DB>(&exprs.$i, &values.$i, &mut out)?;
                            out.push_sql(" AND ");
                        } else if j == i {
                            out.push_sql("(");
                            walk_after_term::<$t, DB>(&exprs.$i, &values.$i, false, &mut out)?;
                            out.push_sql(")");
                        }
                        j += 1;
                    )+
                    let _ = j;
                    out.push_sql(")");
                }
                if count > 1 {
                    out.push_sql(")");
                }
                out.push_sql(")");
                Ok(())
            }
        }
    };
}

keyset_sql!(A 0);
keyset_sql!(A 0, B 1);
keyset_sql!(A 0, B 1, C 2);
keyset_sql!(A 0, B 1, C 2, D 3);

macro_rules! single_keyset_sql {
    ([$($g:tt)*] $ty:ty) => {
        impl<DB, $($g)*> KeysetSql<DB> for $ty
        where
            DB: Backend,
            $ty: OrderTerm,
            ($ty,): KeysetSql<DB, Exprs = Self::Exprs, Values = Self::Values>,
        {
            fn walk_after<'b>(
                exprs: &'b Self::Exprs,
                values: &'b Self::Values,
                out: AstPass<'_, 'b, DB>,
            ) -> QueryResult<()> {
                <($ty,) as KeysetSql<DB>>::walk_after(exprs, values, out)
            }
        }
    };
}

single_keyset_sql!([E] Asc<E>);
single_keyset_sql!([E] Desc<E>);
single_keyset_sql!([T, const FIRST: bool] Placed<T, FIRST>);
single_keyset_sql!([E] diesel::dsl::Asc<E>);
single_keyset_sql!([E] diesel::dsl::Desc<E>);

#[cfg(all(test, feature = "postgres"))]
mod tests {
    use super::*;
    use crate::__doc_schema::order_items;
    use diesel::pg::Pg;

    #[test]
    fn keyset_condition_leads_with_a_bound_an_index_can_use() {
        let ordering = (asc(order_items::order_id), desc(order_items::product_id));
        let after = After::new(&ordering, (7, 3));
        let sql = diesel::debug_query::<Pg, _>(&after).to_string();
        assert_eq!(
            sql,
            r#"(("order_items"."order_id" >= $1) AND ((("order_items"."order_id" > $2)) OR ("order_items"."order_id" = $3 AND ("order_items"."product_id" < $4)))) -- binds: [7, 7, 7, 3]"#
        );
        let single = After::new(&desc(order_items::order_id), (7,));
        let sql = diesel::debug_query::<Pg, _>(&single).to_string();
        assert_eq!(sql, r#"((("order_items"."order_id" < $1))) -- binds: [7]"#);
    }

    diesel::table! {
        shipped (id) {
            id -> BigInt,
            on -> Nullable<Integer>,
        }
    }

    #[test]
    fn keyset_conditions_place_nulls_as_the_ordering_does() {
        // PostgreSQL ascending: NULLs last, so the rows after a value include the NULLs, and
        // after a NULL come only the other NULLs.
        let ordering = (asc(shipped::on), asc(shipped::id));
        let sql = diesel::debug_query::<Pg, _>(&After::new(&ordering, (Some(3), 9))).to_string();
        assert_eq!(
            sql,
            r#"((("shipped"."on" >= $1 OR "shipped"."on" IS NULL)) AND (((("shipped"."on" > $2 OR "shipped"."on" IS NULL))) OR ("shipped"."on" = $3 AND ("shipped"."id" > $4)))) -- binds: [Some(3), Some(3), Some(3), 9]"#
        );
        let sql = diesel::debug_query::<Pg, _>(&After::new(&ordering, (None, 9))).to_string();
        assert_eq!(
            sql,
            r#"(("shipped"."on" IS NULL) AND (((1 = 0)) OR ("shipped"."on" IS NULL AND ("shipped"."id" > $1)))) -- binds: [9]"#
        );
        // NULLS FIRST: after a NULL come the rest of the NULLs, then every value.
        let first = (asc(shipped::on).nulls_first(), asc(shipped::id));
        let sql = diesel::debug_query::<Pg, _>(&After::new(&first, (None, 9))).to_string();
        assert_eq!(
            sql,
            r#"((1 = 1) AND ((("shipped"."on" IS NOT NULL)) OR ("shipped"."on" IS NULL AND ("shipped"."id" > $1)))) -- binds: [9]"#
        );
    }
}
