//! Orderings whose sort expressions a backend can render as SQL and whose values it can read
//! from a row by field position.

use super::order::{OrderSpec, OrderTerm};
use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::expression::Expression;
use diesel::query_builder::{QueryBuilder, QueryFragment};
use diesel::row::Row;

/// An ordering whose sort expressions backend `DB` can render and whose values it can
/// read from a row: implemented for every [`OrderSpec`] whose terms qualify.
pub trait SortColumns<DB: Backend>: OrderSpec {
    /// How many terms the ordering has.
    const TERMS: usize;
    /// Each sort expression as SQL.
    fn terms_sql(exprs: &Self::Exprs) -> QueryResult<Vec<String>>;
    /// Renders any fragment as SQL.
    fn render<T: QueryFragment<DB>>(fragment: &T) -> QueryResult<String>;
    /// The sort values, term `i` read from field `positions[i]` of `row`.
    fn decode<'a>(row: &impl Row<'a, DB>, positions: &[usize])
    -> deserialize::Result<Self::Values>;
}

macro_rules! sort_columns {
    ($count:expr; $($t:ident $i:tt),+) => {
        impl<DB, $($t),+> SortColumns<DB> for ($($t,)+)
        where
            DB: Backend + Default,
            DB::QueryBuilder: Default,
            $( $t: OrderTerm,
               $t::Expr: QueryFragment<DB>,
               $t::Value: FromSql<<$t::Expr as Expression>::SqlType, DB>, )+
        {
            const TERMS: usize = $count;
            fn terms_sql(exprs: &Self::Exprs) -> QueryResult<Vec<String>> {
                Ok(vec![$(Self::render(&exprs.$i)?),+])
            }
            fn render<T: QueryFragment<DB>>(fragment: &T) -> QueryResult<String> {
                let mut builder = DB::QueryBuilder::default();
                fragment.to_sql(&mut builder, &DB::default())?;
                Ok(builder.finish())
            }
            fn decode<'a>(row: &impl Row<'a, DB>, positions: &[usize]) -> deserialize::Result<Self::Values> {
                Ok(($(
                    row.get_value::<<$t::Expr as Expression>::SqlType, $t::Value, usize>(
                        *positions.get($i).ok_or("scatter: a sort term has no field")?,
                    )?,
                )+))
            }
        }
    };
}

sort_columns!(1; A 0);
sort_columns!(2; A 0, B 1);
sort_columns!(3; A 0, B 1, C 2);
sort_columns!(4; A 0, B 1, C 2, D 3);

macro_rules! single_sort_column {
    ($term:ident) => {
        impl<DB, E> SortColumns<DB> for super::order::$term<E>
        where
            DB: Backend,
            super::order::$term<E>: OrderTerm,
            (super::order::$term<E>,): SortColumns<DB, Exprs = Self::Exprs, Values = Self::Values>,
        {
            const TERMS: usize = 1;
            fn terms_sql(exprs: &Self::Exprs) -> QueryResult<Vec<String>> {
                <(super::order::$term<E>,) as SortColumns<DB>>::terms_sql(exprs)
            }
            fn render<T: QueryFragment<DB>>(fragment: &T) -> QueryResult<String> {
                <(super::order::$term<E>,) as SortColumns<DB>>::render(fragment)
            }
            fn decode<'a>(
                row: &impl Row<'a, DB>,
                positions: &[usize],
            ) -> deserialize::Result<Self::Values> {
                <(super::order::$term<E>,) as SortColumns<DB>>::decode(row, positions)
            }
        }
    };
}

single_sort_column!(Asc);
single_sort_column!(Desc);

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(feature = "sqlite")]
    fn sort_terms_render_as_sql() {
        use super::SortColumns;
        use crate::__doc_schema::order_items;
        use crate::scatter::{asc, desc};
        use diesel::sqlite::Sqlite;
        fn terms<O: SortColumns<Sqlite>>(ordering: &O) -> Vec<String> {
            O::terms_sql(&ordering.exprs()).unwrap()
        }
        let ordering = (desc(order_items::quantity), asc(order_items::order_id));
        assert_eq!(
            terms(&ordering),
            [r#"`order_items`.`quantity`"#, r#"`order_items`.`order_id`"#]
        );
    }
}
