//! Orderings of scatter queries, given once: `(desc(a), asc(b))` becomes each shard's
//! `ORDER BY`, the sort values selected with each row, the comparison of the merge, and
//! the keyset condition of `after(..)`.

use super::value::{SortSql, SortValue};
use diesel::backend::Backend;
use diesel::expression::Expression;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::serialize::ToSql;
use diesel::sql_types::HasSqlType;
use diesel::{ExpressionMethods, QueryResult};
use std::cmp::Ordering;

/// Ascending order by an expression (`NULL` placed as the backend places it).
#[derive(Debug, Clone, Copy)]
pub struct Asc<E>(pub E);

/// Descending order by an expression.
#[derive(Debug, Clone, Copy)]
pub struct Desc<E>(pub E);

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

/// One term of an ordering: an expression and a direction.
pub trait OrderTerm: Clone + Send + Sync + 'static {
    /// The expression.
    type Expr: Expression + Clone + Send + Sync + 'static;
    /// Its value in Rust.
    type Value: SortValue;
    /// Diesel's `expr ASC` / `expr DESC`.
    type Sql: Clone + Send + Sync + 'static;
    /// Whether it is descending.
    const DESCENDING: bool;
    /// The expression.
    fn expr(&self) -> Self::Expr;
    /// The `ORDER BY` term.
    fn sql(&self) -> Self::Sql;
}

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
    /// Compares two rows' values like the database would.
    fn compare(a: &Self::Values, b: &Self::Values, nulls_largest: bool) -> Ordering;
    /// Whether any value is `NULL` (keyset pagination needs non-null values).
    fn has_null(values: &Self::Values) -> bool;
}

macro_rules! single_term_spec {
    ($term:ident) => {
        impl<E> OrderSpec for $term<E>
        where
            $term<E>: OrderTerm,
        {
            type Exprs = (<$term<E> as OrderTerm>::Expr,);
            type Values = (<$term<E> as OrderTerm>::Value,);
            type Sql = <$term<E> as OrderTerm>::Sql;
            fn exprs(&self) -> Self::Exprs {
                (self.expr(),)
            }
            fn sql(&self) -> Self::Sql {
                OrderTerm::sql(self)
            }
            fn compare(a: &Self::Values, b: &Self::Values, nulls_largest: bool) -> Ordering {
                let o = a.0.cmp_sql(&b.0, nulls_largest);
                if <$term<E> as OrderTerm>::DESCENDING {
                    o.reverse()
                } else {
                    o
                }
            }
            fn has_null(values: &Self::Values) -> bool {
                values.0.is_null()
            }
        }
    };
}

single_term_spec!(Asc);
single_term_spec!(Desc);

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
                    let o = a.$i.cmp_sql(&b.$i, nulls_largest);
                    let o = if $t::DESCENDING { o.reverse() } else { o };
                    if o != Ordering::Equal {
                        return o;
                    }
                )+
                Ordering::Equal
            }
            fn has_null(values: &Self::Values) -> bool {
                false $(|| values.$i.is_null())+
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

/// Renders one disjunct: `e0 = v0 AND .. AND e_i (>|<) v_i`.
macro_rules! keyset_sql {
    ($($t:ident $i:tt),+) => {
        impl<DB, $($t),+> KeysetSql<DB> for ($($t,)+)
        where
            DB: Backend,
            $( $t: OrderTerm,
               $t::Expr: QueryFragment<DB>,
               DB: HasSqlType<<$t::Expr as Expression>::SqlType>,
               $t::Value: ToSql<<$t::Expr as Expression>::SqlType, DB>, )+
        {
            fn walk_after<'b>(exprs: &'b Self::Exprs, values: &'b Self::Values, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
                let descending = [$($t::DESCENDING),+];
                let count = descending.len();
                out.push_sql("(");
                if count > 1 {
                    // A bound on the first term alone, which an index on the ordering can
                    // use (the OR of ANDs below cannot, so every batch would scan).
                    exprs.0.walk_ast(out.reborrow())?;
                    out.push_sql(if A::DESCENDING { " <= " } else { " >= " });
                    out.push_bind_param::<<A::Expr as Expression>::SqlType, A::Value>(&values.0)?;
                    out.push_sql(" AND (");
                }
                for i in 0..count {
                    if i > 0 {
                        out.push_sql(" OR ");
                    }
                    out.push_sql("(");
                    let mut j = 0usize;
                    $(
                        if j <= i {
                            if j > 0 {
                                out.push_sql(" AND ");
                            }
                            exprs.$i.walk_ast(out.reborrow())?;
                            out.push_sql(if j < i { " = " } else if descending[j] { " < " } else { " > " });
                            out.push_bind_param::<<$t::Expr as Expression>::SqlType, $t::Value>(&values.$i)?;
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
    ($term:ident) => {
        impl<DB, E> KeysetSql<DB> for $term<E>
        where
            DB: Backend,
            $term<E>: OrderTerm,
            ($term<E>,): KeysetSql<DB, Exprs = Self::Exprs, Values = Self::Values>,
        {
            fn walk_after<'b>(
                exprs: &'b Self::Exprs,
                values: &'b Self::Values,
                out: AstPass<'_, 'b, DB>,
            ) -> QueryResult<()> {
                <($term<E>,) as KeysetSql<DB>>::walk_after(exprs, values, out)
            }
        }
    };
}

single_keyset_sql!(Asc);
single_keyset_sql!(Desc);

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
            r#"("order_items"."order_id" >= $1 AND (("order_items"."order_id" > $2) OR ("order_items"."order_id" = $3 AND "order_items"."product_id" < $4))) -- binds: [7, 7, 7, 3]"#
        );
        let single = After::new(&desc(order_items::order_id), (7,));
        let sql = diesel::debug_query::<Pg, _>(&single).to_string();
        assert_eq!(sql, r#"(("order_items"."order_id" < $1)) -- binds: [7]"#);
    }
}
