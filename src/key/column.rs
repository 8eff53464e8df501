//! Key columns and the SQL types a key part may have.

use super::KeyPart;
use diesel::sql_types;

/// A column that is part of a table's key. `grant::table!` implements it for every key column.
///
/// `Rust` is the column's Rust type in keys, derived from its SQL type by [`KeySql`].
///
/// ```
/// # use grant::__doc_schema::order_items;
/// use grant::key::KeyColumn;
/// assert_eq!(<order_items::order_id as KeyColumn>::NAME, "order_id");
/// assert_eq!(<order_items::order_id as KeyColumn>::TABLE, "order_items");
/// let part: <order_items::order_id as KeyColumn>::Rust = 7i64;
/// # let _ = part;
/// ```
#[diagnostic::on_unimplemented(
    message = "column `{Self}` is not a key column",
    label = "not part of the table's key",
    note = "grant::table! makes the columns of a table's primary key `(a, b, ..)` its key columns"
)]
pub trait KeyColumn: diesel::Column + Copy + Send + Sync + 'static {
    /// The Rust type of this column's value in a key.
    type Rust: KeyPart;
    /// The column's name in Rust (and in `table!`).
    const NAME: &'static str;
    /// The column's name in SQL (differs from [`KeyColumn::NAME`] with `#[sql_name]`).
    const SQL_NAME: &'static str;
    /// The SQL name of the column's table (schema-qualified where declared).
    const TABLE: &'static str;
}

/// The SQL types that can be part of a key, and their Rust type. `C` is the key column, so
/// that a column whose type can't be a key part is named in the compile error.
///
/// Built in: `SmallInt`, `Integer`, `BigInt` (and MySQL's `Unsigned<..>`), `Bool`, `Text`
/// (and `VarChar`), `Binary`, `Date`, `Timestamp`, PostgreSQL's `Uuid` and `Timestamptz`,
/// and grant's portable [`crate::sql_types::PortableUuid`]. `Nullable<..>` is never a key type.
/// A custom SQL type can be made a key type by implementing this trait for it:
///
/// ```
/// # use diesel::sql_types::BigInt;
/// #[derive(diesel::sql_types::SqlType)]
/// #[diesel(postgres_type(name = "order_number"))]
/// pub struct OrderNumber;
/// impl<C> grant::key::KeySql<C> for OrderNumber {
///     type Rust = i64;
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "column `{C}` cannot be part of a key: its SQL type `{Self}` is not a key type",
    label = "this column is in the table's primary key",
    note = "a key part is never NULL, so a `Nullable<..>` column can't be in a key; declare it NOT NULL",
    note = "for a custom SQL type, implement `grant::key::KeySql` for it"
)]
pub trait KeySql<C> {
    /// The Rust type of the column's value in a key.
    type Rust: KeyPart;
}

macro_rules! key_sql {
    ($($sql:ty => $rust:ty),* $(,)?) => {$(
        impl<C> KeySql<C> for $sql {
            type Rust = $rust;
        }
    )*};
}

key_sql! {
    sql_types::SmallInt => i16,
    sql_types::Integer => i32,
    sql_types::BigInt => i64,
    sql_types::Bool => bool,
    sql_types::Text => String,
    sql_types::Binary => Vec<u8>,
    sql_types::Date => chrono::NaiveDate,
    sql_types::Timestamp => chrono::NaiveDateTime,
    crate::sql_types::PortableUuid => crate::PortableUuid,
}

#[cfg(feature = "postgres")]
key_sql! {
    sql_types::Uuid => uuid::Uuid,
    sql_types::Timestamptz => chrono::DateTime<chrono::Utc>,
}

#[cfg(feature = "mysql")]
key_sql! {
    sql_types::TinyInt => i8,
    sql_types::Unsigned<sql_types::TinyInt> => u8,
    sql_types::Unsigned<sql_types::SmallInt> => u16,
    sql_types::Unsigned<sql_types::Integer> => u32,
    sql_types::Unsigned<sql_types::BigInt> => u64,
}
