//! The Rust values of sort keys, group keys and aggregates, and how they compare the way a
//! database compares them.

use bigdecimal::BigDecimal;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::sql_types;
use std::cmp::Ordering;

/// A value that scatter queries compare (sort keys, group keys, `min`/`max`): ordered as
/// the database orders it. Integers, dates and timestamps compare by value, text by its
/// bytes (the order of binary/`C` collations; see the module documentation), floats by
/// their total order, and `NULL` (`None`) per the backend: larger than every value on
/// PostgreSQL, smaller on MySQL and SQLite.
///
/// ```
/// use grant::scatter::SortValue;
/// use std::cmp::Ordering;
/// assert_eq!(None::<i32>.cmp_sql(&Some(1), true), Ordering::Greater);  // PostgreSQL
/// assert_eq!(None::<i32>.cmp_sql(&Some(1), false), Ordering::Less);    // MySQL, SQLite
/// ```
pub trait SortValue: Clone + Send + Sync + 'static {
    /// Whether values of this type can be `NULL` (`Option`s).
    const NULLABLE: bool = false;
    /// Compares like the database; `nulls_largest` is the backend's rule for `NULL`.
    fn cmp_sql(&self, other: &Self, nulls_largest: bool) -> Ordering;
    /// Whether this is `NULL`.
    fn is_null(&self) -> bool {
        false
    }
}

macro_rules! ord_values {
    ($($t:ty),*) => {$(
        impl SortValue for $t {
            fn cmp_sql(&self, other: &Self, _: bool) -> Ordering {
                self.cmp(other)
            }
        }
    )*};
}

ord_values!(
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
    NaiveDate,
    NaiveDateTime,
    chrono::DateTime<chrono::Utc>,
    uuid::Uuid,
    crate::PortableUuid,
    BigDecimal
);

impl SortValue for f64 {
    fn cmp_sql(&self, other: &Self, _: bool) -> Ordering {
        self.total_cmp(other)
    }
}

impl SortValue for f32 {
    fn cmp_sql(&self, other: &Self, _: bool) -> Ordering {
        self.total_cmp(other)
    }
}

impl<T: SortValue> SortValue for Option<T> {
    const NULLABLE: bool = true;
    fn cmp_sql(&self, other: &Self, nulls_largest: bool) -> Ordering {
        match (self, other) {
            (Some(a), Some(b)) => a.cmp_sql(b, nulls_largest),
            (None, None) => Ordering::Equal,
            (None, Some(_)) if nulls_largest => Ordering::Greater,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) if nulls_largest => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
        }
    }

    fn is_null(&self) -> bool {
        self.is_none()
    }
}

/// The Rust type that a scatter query loads for a value of SQL type `Self`.
///
/// ```
/// use grant::scatter::SortSql;
/// let v: <diesel::sql_types::Nullable<diesel::sql_types::Integer> as SortSql>::Value = Some(3i32);
/// # let _ = v;
/// ```
#[diagnostic::on_unimplemented(
    message = "scatter queries cannot sort, group or aggregate values of SQL type `{Self}`",
    note = "supported: integers, Text, Bool, Date, Timestamp, floats, Numeric, UUIDs, and Nullable of these"
)]
pub trait SortSql {
    /// The Rust type.
    type Value: SortValue;
}

macro_rules! sort_sql {
    ($($sql:ty => $rust:ty),* $(,)?) => {$(
        impl SortSql for $sql {
            type Value = $rust;
        }
    )*};
}

sort_sql! {
    sql_types::SmallInt => i16,
    sql_types::Integer => i32,
    sql_types::BigInt => i64,
    sql_types::Bool => bool,
    sql_types::Text => String,
    sql_types::Binary => Vec<u8>,
    sql_types::Date => NaiveDate,
    sql_types::Timestamp => NaiveDateTime,
    sql_types::Float => f32,
    sql_types::Double => f64,
    sql_types::Numeric => BigDecimal,
    crate::sql_types::PortableUuid => crate::PortableUuid,
}

#[cfg(feature = "postgres")]
sort_sql! {
    sql_types::Uuid => uuid::Uuid,
    sql_types::Timestamptz => chrono::DateTime<chrono::Utc>,
}

#[cfg(feature = "mysql")]
sort_sql! {
    sql_types::TinyInt => i8,
    sql_types::Unsigned<sql_types::TinyInt> => u8,
    sql_types::Unsigned<sql_types::SmallInt> => u16,
    sql_types::Unsigned<sql_types::Integer> => u32,
    sql_types::Unsigned<sql_types::BigInt> => u64,
}

impl<T: SortSql + sql_types::SqlType + sql_types::SingleValue> SortSql for sql_types::Nullable<T> {
    type Value = Option<T::Value>;
}

/// Where a backend puts `NULL` when it sorts.
///
/// ```
/// use grant::scatter::NullOrdering;
/// # #[cfg(feature = "postgres")] {
/// assert!(<diesel::pg::Pg as NullOrdering>::NULLS_LARGEST);
/// # }
/// assert!(!<diesel::sqlite::Sqlite as NullOrdering>::NULLS_LARGEST);
/// ```
pub trait NullOrdering {
    /// `true`: `NULL` sorts after every value in ascending order (PostgreSQL); `false`:
    /// before (MySQL, SQLite).
    const NULLS_LARGEST: bool;
}

#[cfg(feature = "postgres")]
impl NullOrdering for diesel::pg::Pg {
    const NULLS_LARGEST: bool = true;
}

#[cfg(feature = "mysql")]
impl NullOrdering for diesel::mysql::Mysql {
    const NULLS_LARGEST: bool = false;
}

#[cfg(feature = "sqlite")]
impl NullOrdering for diesel::sqlite::Sqlite {
    const NULLS_LARGEST: bool = false;
}

macro_rules! tuple_values {
    ($($t:ident $i:tt),+) => {
        impl<$($t: SortValue),+> SortValue for ($($t,)+) {
            fn cmp_sql(&self, other: &Self, nulls_largest: bool) -> Ordering {
                Ordering::Equal $(.then_with(|| self.$i.cmp_sql(&other.$i, nulls_largest)))+
            }
            fn is_null(&self) -> bool {
                false $(|| self.$i.is_null())+
            }
        }

        impl<$($t: SortSql),+> SortSql for ($($t,)+) {
            type Value = ($($t::Value,)+);
        }
    };
}

tuple_values!(A 0, B 1);
tuple_values!(A 0, B 1, C 2);
tuple_values!(A 0, B 1, C 2, D 3);

/// How a backend rounds `AVG` of exact numbers: MySQL and MariaDB return `AVG` of an
/// integer column as a decimal with 4 places (`div_precision_increment`), PostgreSQL and
/// SQLite return it unrounded. Merged averages are rounded the same way.
///
/// ```
/// use grant::scatter::AvgRounding;
/// # #[cfg(all(feature = "postgres", feature = "mysql"))] {
/// assert_eq!(<diesel::mysql::Mysql as AvgRounding>::avg_scale(0), Some(4));
/// assert_eq!(<diesel::pg::Pg as AvgRounding>::avg_scale(0), None);
/// # }
/// ```
pub trait AvgRounding {
    /// The decimal places of `AVG` over a column with `input_scale` decimal places
    /// (integers: 0), or `None` when the backend does not round.
    fn avg_scale(input_scale: u32) -> Option<u32>;
}

#[cfg(feature = "postgres")]
impl AvgRounding for diesel::pg::Pg {
    fn avg_scale(_: u32) -> Option<u32> {
        None
    }
}

#[cfg(feature = "mysql")]
impl AvgRounding for diesel::mysql::Mysql {
    fn avg_scale(input_scale: u32) -> Option<u32> {
        Some(input_scale + 4)
    }
}

#[cfg(feature = "sqlite")]
impl AvgRounding for diesel::sqlite::Sqlite {
    fn avg_scale(_: u32) -> Option<u32> {
        None
    }
}

/// The decimal places of a SQL type's values, when they are exact: integers have 0;
/// floats and numerics of unknown scale have none.
pub trait AvgInput {
    /// The scale, if exact and known.
    const SCALE: Option<u32>;
}

macro_rules! avg_input {
    ($($sql:ty => $scale:expr),* $(,)?) => {$(
        impl AvgInput for $sql {
            const SCALE: Option<u32> = $scale;
        }
    )*};
}

avg_input! {
    sql_types::SmallInt => Some(0),
    sql_types::Integer => Some(0),
    sql_types::BigInt => Some(0),
    sql_types::Float => None,
    sql_types::Double => None,
    sql_types::Numeric => None,
}

#[cfg(feature = "mysql")]
avg_input! {
    sql_types::TinyInt => Some(0),
    sql_types::Unsigned<sql_types::TinyInt> => Some(0),
    sql_types::Unsigned<sql_types::SmallInt> => Some(0),
    sql_types::Unsigned<sql_types::Integer> => Some(0),
    sql_types::Unsigned<sql_types::BigInt> => Some(0),
}

impl<T: AvgInput> AvgInput for sql_types::Nullable<T> {
    const SCALE: Option<u32> = T::SCALE;
}
