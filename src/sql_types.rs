//! SQL types that grant adds so that one schema serves every backend.

use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};

/// A UUID on every backend: PostgreSQL's native `uuid`, and 16 bytes (`BINARY(16)`) on MySQL
/// and (`BLOB`) on SQLite. Its Rust type is [`crate::PortableUuid`] (a newtype of [`uuid::Uuid`]:
/// diesel's blanket impls leave no room to bind `uuid::Uuid` itself to a new SQL type), and
/// it can be a key part.
///
/// Use it in `grant::table!` where one schema module serves several backends; on
/// PostgreSQL alone, diesel's own `Uuid` works as well.
///
/// ```
/// grant::table! {
///     user_sessions (user_id, session_id) {
///         user_id -> grant::sql_types::PortableUuid,
///         session_id -> grant::sql_types::PortableUuid,
///         data -> diesel::sql_types::Text,
///     }
/// }
/// let key = user_sessions::Key { user_id: grant::PortableUuid::nil(), session_id: grant::PortableUuid::max() };
/// assert!(key.to_string().starts_with("00000000-0000-0000-0000-000000000000:ffffffff"));
/// ```
#[derive(
    Debug, Clone, Copy, Default, diesel::query_builder::QueryId, diesel::sql_types::SqlType,
)]
#[diesel(postgres_type(oid = 2950, array_oid = 2951))]
#[diesel(mysql_type(name = "Blob"))]
#[diesel(sqlite_type(name = "Binary"))]
pub struct PortableUuid;

#[cfg(any(feature = "mysql", feature = "sqlite"))]
fn uuid_from_bytes(bytes: &[u8]) -> deserialize::Result<crate::PortableUuid> {
    uuid::Uuid::from_slice(bytes)
        .map(crate::PortableUuid)
        .map_err(|e| format!("a UUID column held {} bytes, not 16: {e}", bytes.len()).into())
}

#[cfg(feature = "postgres")]
mod pg {
    use super::*;
    use diesel::pg::{Pg, PgValue};

    impl ToSql<PortableUuid, Pg> for crate::PortableUuid {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            <uuid::Uuid as ToSql<diesel::sql_types::Uuid, Pg>>::to_sql(&self.0, out)
        }
    }

    impl FromSql<PortableUuid, Pg> for crate::PortableUuid {
        fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
            <uuid::Uuid as FromSql<diesel::sql_types::Uuid, Pg>>::from_sql(value)
                .map(crate::PortableUuid)
        }
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;
    use diesel::mysql::{Mysql, MysqlValue};
    use diesel::sql_types::Binary;

    impl ToSql<PortableUuid, Mysql> for crate::PortableUuid {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Mysql>) -> serialize::Result {
            <[u8] as ToSql<Binary, Mysql>>::to_sql(self.0.as_bytes().as_slice(), out)
        }
    }

    impl FromSql<PortableUuid, Mysql> for crate::PortableUuid {
        fn from_sql(value: MysqlValue<'_>) -> deserialize::Result<Self> {
            uuid_from_bytes(&<Vec<u8> as FromSql<Binary, Mysql>>::from_sql(value)?)
        }
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use diesel::sql_types::Binary;
    use diesel::sqlite::{Sqlite, SqliteValue};

    impl ToSql<PortableUuid, Sqlite> for crate::PortableUuid {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
            <[u8] as ToSql<Binary, Sqlite>>::to_sql(self.0.as_bytes().as_slice(), out)
        }
    }

    impl FromSql<PortableUuid, Sqlite> for crate::PortableUuid {
        fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
            uuid_from_bytes(&<Vec<u8> as FromSql<Binary, Sqlite>>::from_sql(value)?)
        }
    }
}
