//! Record fields as key parts: what `#[derive(grant::Keyed)]` relies on.

/// A record's field for column `C`. `#[derive(grant::Keyed)]` implements it for every field.
///
/// ```
/// # use grant::__doc_schema::{order_items, OrderItem};
/// use grant::__private::RecordColumn;
/// let item = OrderItem { order_id: 1, product_id: 2, quantity: 3 };
/// assert_eq!(*RecordColumn::<order_items::quantity>::column_value(&item), 3);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no field for column `{C}`",
    label = "this record can't give a value for `{C}`",
    note = "derive `grant::Keyed` on a struct that has a field for every key column of its table"
)]
pub trait RecordColumn<C> {
    /// The field's type.
    type Value;
    /// The field.
    fn column_value(&self) -> &Self::Value;
}
