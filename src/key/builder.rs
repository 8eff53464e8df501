//! The completeness of a key builder, tracked in its type: one marker per column.

use super::KeyColumn;
use std::fmt;
use std::marker::PhantomData;

/// Marks key column `C` as not given yet in a table's `KeyBuilder`.
///
/// ```
/// # use grant::__doc_schema::order_items;
/// let b = order_items::Key::builder(); // KeyBuilder<Missing<order_id>, Missing<product_id>>
/// let key = grant::key::IntoKey::<order_items::table>::into_key(b.product_id(2).order_id(1));
/// // Each column is `Missing` until given; a builder with a `Missing` column is not a key.
/// assert_eq!(key.to_string(), "1:2");
/// ```
pub struct Missing<C>(PhantomData<fn() -> C>);

impl<C> Missing<C> {
    /// The marker.
    pub fn new() -> Self {
        Missing(PhantomData)
    }
}

impl<C> Default for Missing<C> {
    fn default() -> Self {
        Missing::new()
    }
}

impl<C> Clone for Missing<C> {
    fn clone(&self) -> Self {
        Missing::new()
    }
}

impl<C> fmt::Debug for Missing<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Missing")
    }
}

/// The value of key column `C` in a table's `KeyBuilder`.
///
/// ```
/// # use grant::__doc_schema::order_items;
/// let given = grant::key::Given::<order_items::order_id>::new(7);
/// assert_eq!(given.value(), &7);
/// ```
pub struct Given<C: KeyColumn>(C::Rust);

impl<C: KeyColumn> Given<C> {
    /// Wraps the value.
    pub fn new(value: C::Rust) -> Self {
        Given(value)
    }

    /// The value.
    pub fn value(&self) -> &C::Rust {
        &self.0
    }

    /// The value, moved out.
    pub fn into_value(self) -> C::Rust {
        self.0
    }
}

impl<C: KeyColumn> Clone for Given<C> {
    fn clone(&self) -> Self {
        Given(self.0.clone())
    }
}

impl<C: KeyColumn> fmt::Debug for Given<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Given").field(&self.0).finish()
    }
}
