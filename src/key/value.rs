//! Record fields as key parts: what `#[derive(grant::Keyed)]` relies on.

use super::KeyColumn;

/// A record's field for column `C`. `#[derive(grant::Keyed)]` implements it for every field.
///
/// ```
/// # use grant::__doc_schema::{order_items, OrderItem};
/// use grant::key::RecordColumn;
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

/// A field type that can give the key part of column `C`: exactly the column's key type.
///
/// ```
/// # use grant::__doc_schema::order_items;
/// use grant::key::KeyValue;
/// assert_eq!(KeyValue::<order_items::order_id>::to_key_part(&5i64), 5i64);
/// ```
#[diagnostic::on_unimplemented(
    message = "a field of type `{Self}` can't hold key column `{C}`",
    label = "not the key type of `{C}`",
    note = "a key part is never NULL, so an `Option<..>` field can't hold one: use the column's own type"
)]
pub trait KeyValue<C: KeyColumn> {
    /// The key part, copied out of the field.
    fn to_key_part(&self) -> C::Rust;
}

macro_rules! key_value {
    ($($t:ty),* $(,)?) => {$(
        impl<C: KeyColumn<Rust = $t>> KeyValue<C> for $t {
            fn to_key_part(&self) -> $t {
                self.clone()
            }
        }
    )*};
}

key_value!(
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
    bool,
    String,
    Vec<u8>,
    uuid::Uuid,
    chrono::NaiveDate,
    chrono::NaiveDateTime,
    chrono::DateTime<chrono::Utc>,
);
