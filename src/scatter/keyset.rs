//! The optional keyset condition of a scatter page: `after(..)` or nothing.

use super::order::{After, KeysetSql, OrderSpec};
use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::query_builder::{AstPass, QueryFragment};

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

crate::condition::condition_on_columns!([O: OrderSpec] KeysetFilter<O>, O::Exprs);

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

crate::opaque_debug::opaque_debug!([O: OrderSpec] KeysetFilter<O>, "KeysetFilter");
