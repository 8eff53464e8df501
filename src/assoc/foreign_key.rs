//! Composite foreign keys, declared with `grant::foreign_key!`.

use crate::key::{KeyedTable, RecordColumn};
use diesel::Expression;
use diesel::sql_types::Bool;

/// Child table `Self` references the key of parent table `P` through its columns
/// [`ForeignKey::Columns`] (in the parent's key order). Implemented by
/// `grant::foreign_key!`, which also checks at compile time that the columns match the
/// parent key in number and SQL type, and makes the two tables joinable on all key columns.
///
/// ```
/// # use grant::__doc_schema::{order_items, shipments};
/// use grant::assoc::ForeignKey;
/// assert_eq!(<shipments::table as ForeignKey<order_items::table>>::COLUMNS, ["order_id", "product_id"]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no foreign key to `{P}`",
    note = "declare it with `grant::foreign_key!(child (col, ..) -> parent (key_col, ..))`"
)]
pub trait ForeignKey<P: KeyedTable>: KeyedTable {
    /// The child's foreign-key columns, as a tuple.
    type Columns: Copy + Send + Sync + 'static;
    /// `child.a = $1 AND child.b = $2`: the children of one parent key.
    type Filter: Expression<SqlType = Bool> + Send + 'static;
    /// The constraint's name, as declared (or `child (cols) -> parent (cols)`).
    const CONSTRAINT: &'static str;
    /// The child's foreign-key column names.
    const COLUMNS: &'static [&'static str];
    /// The foreign-key columns.
    fn columns() -> Self::Columns;
    /// The filter that selects the children of `parent`.
    fn filter(parent: P::Key) -> Self::Filter;
}

/// Whether two lists of names are equal (usable in constants, where `grant::foreign_key!`
/// checks that a foreign key names its parent's key).
///
/// ```
/// const SAME: bool = grant::__private::same_names(&["a", "b"], &["a", "b"]);
/// assert!(SAME);
/// assert!(!grant::__private::same_names(&["a"], &["b"]));
/// ```
pub const fn same_names(a: &[&str], b: &[&str]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        let (x, y) = (a[i].as_bytes(), b[i].as_bytes());
        if x.len() != y.len() {
            return false;
        }
        let mut j = 0;
        while j < x.len() {
            if x[j] != y[j] {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

/// Reads the values of several columns from a record (a tuple of `RecordColumn`s), cloned.
///
/// ```
/// # use grant::__doc_schema::{order_items, OrderItem};
/// use grant::assoc::ReadColumns;
/// let item = OrderItem { order_id: 1, product_id: 2, quantity: 3 };
/// let values = ReadColumns::<(order_items::order_id, order_items::quantity)>::read_columns(&item);
/// assert_eq!(values, (1, 3));
/// ```
pub trait ReadColumns<Cols> {
    /// The values, as a tuple.
    type Values;
    /// The values.
    fn read_columns(&self) -> Self::Values;
}

macro_rules! read_columns {
    ($($col:ident),+) => {
        impl<R, $($col),+> ReadColumns<($($col,)+)> for R
        where
            $( R: RecordColumn<$col>, <R as RecordColumn<$col>>::Value: Clone, )+
        {
            type Values = ($(<R as RecordColumn<$col>>::Value,)+);
            fn read_columns(&self) -> Self::Values {
                ($( <R as RecordColumn<$col>>::column_value(self).clone(), )+)
            }
        }
    };
}

read_columns!(A);
read_columns!(A, B);
read_columns!(A, B, C);
read_columns!(A, B, C, D);
read_columns!(A, B, C, D, E);
read_columns!(A, B, C, D, E, F);
