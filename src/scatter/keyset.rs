//! The optional keyset condition of a scatter page: `after(..)` or nothing.

use super::order::{After, KeysetSql, OrderSpec};
use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::Bool;

/// `WHERE <rows after the keyset>`, or `1 = 1` when the page starts at the beginning (one
/// statement type for both, so that every page is the same statement).
#[derive(Clone)]
pub struct KeysetFilter<O: OrderSpec> {
    after: Option<After<O>>,
}

impl<O: OrderSpec> KeysetFilter<O> {
    /// After `values` in `ordering`, or everything.
    pub fn new(ordering: &O, values: Option<O::Values>) -> Self {
        KeysetFilter {
            after: values.map(|v| After::new(ordering, v)),
        }
    }
}

impl<O: OrderSpec> Expression for KeysetFilter<O> {
    type SqlType = Bool;
}

impl<O: OrderSpec, QS> AppearsOnTable<QS> for KeysetFilter<O> where O::Exprs: AppearsOnTable<QS> {}

impl<O: OrderSpec, QS> SelectableExpression<QS> for KeysetFilter<O> where
    O::Exprs: SelectableExpression<QS>
{
}

impl<O: OrderSpec, GB> ValidGrouping<GB> for KeysetFilter<O>
where
    O::Exprs: ValidGrouping<GB>,
{
    type IsAggregate = <O::Exprs as ValidGrouping<GB>>::IsAggregate;
}

impl<O: OrderSpec> QueryId for KeysetFilter<O> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<O: KeysetSql<DB>, DB: Backend> QueryFragment<DB> for KeysetFilter<O> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        match &self.after {
            Some(after) => after.walk_ast(out),
            None => {
                out.push_sql("1 = 1");
                Ok(())
            }
        }
    }
}
