//! `ColumnsIn`: "these columns hold one of these keys", for the children of many parents.

use crate::key::KeyBinds;
use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::query_builder::{AstPass, QueryFragment};

/// `(child.a, child.b) IN ((..), (..))`: the rows whose columns `Cols` equal one of the
/// keys `K` (the values of another table's key, e.g. a parent's). SQLite gets
/// `IN (VALUES (..), (..))`. An empty list is `1 = 0`.
///
/// ```
/// # use grant::__doc_schema::{order_items, shipments, OrderItem, Shipment};
/// use grant::assoc::BelongingToDsl;
/// use diesel::debug_query;
/// let parents = [OrderItem { order_id: 1, product_id: 2, quantity: 0 }, OrderItem { order_id: 3, product_id: 4, quantity: 0 }];
/// let q = Shipment::belonging_to(&parents[..]);
/// # #[cfg(feature = "postgres")] {
/// let sql = debug_query::<diesel::pg::Pg, _>(&q).to_string();
/// assert!(sql.contains(r#"("shipments"."order_id", "shipments"."product_id") IN (($1, $2), ($3, $4))"#), "{sql}");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ColumnsIn<Cols, K> {
    columns: Cols,
    keys: Vec<K>,
}

impl<Cols, K> ColumnsIn<Cols, K> {
    /// `columns IN keys`.
    pub fn new(columns: Cols, keys: Vec<K>) -> Self {
        ColumnsIn { columns, keys }
    }
}

crate::condition::condition_on_columns!([Cols, K] ColumnsIn<Cols, K>, Cols);

impl<Cols, K, DB> QueryFragment<DB> for ColumnsIn<Cols, K>
where
    DB: Backend + ValuesListSyntax,
    Cols: QueryFragment<DB>,
    K: KeyBinds<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if self.keys.is_empty() {
            out.push_sql("1 = 0");
            return Ok(());
        }
        out.push_sql("(");
        self.columns.walk_ast(out.reborrow())?;
        out.push_sql(") IN (");
        if DB::VALUES_KEYWORD {
            out.push_sql("VALUES ");
        }
        for (i, key) in self.keys.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_sql("(");
            key.walk_values(&mut out)?;
            out.push_sql(")");
        }
        out.push_sql(")");
        Ok(())
    }
}

/// How a backend writes a list of row values after `IN`: SQLite needs `VALUES`.
pub trait ValuesListSyntax {
    /// Whether the list starts with `VALUES`.
    const VALUES_KEYWORD: bool;
}

#[cfg(feature = "postgres")]
impl ValuesListSyntax for diesel::pg::Pg {
    const VALUES_KEYWORD: bool = false;
}

#[cfg(feature = "mysql")]
impl ValuesListSyntax for diesel::mysql::Mysql {
    const VALUES_KEYWORD: bool = false;
}

#[cfg(feature = "sqlite")]
impl ValuesListSyntax for diesel::sqlite::Sqlite {
    const VALUES_KEYWORD: bool = true;
}
