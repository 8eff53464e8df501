//! Small queries grant runs for itself that read rows (two-phase commit's decisions and
//! prepared branches), written per backend so that generic code needs no row bounds.

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
use diesel::QueryResult;

/// PostgreSQL: the `item` text column of `sql`'s rows.
#[cfg(feature = "postgres")]
pub(crate) async fn pg_texts(
    conn: &mut diesel_async::AsyncPgConnection,
    sql: String,
) -> QueryResult<Vec<String>> {
    texts(conn, sql).await
}

/// MySQL: the `item` text column of `sql`'s rows.
#[cfg(feature = "mysql")]
pub(crate) async fn mysql_texts(
    conn: &mut diesel_async::AsyncMysqlConnection,
    sql: String,
) -> QueryResult<Vec<String>> {
    texts(conn, sql).await
}

/// SQLite: the `item` text column of `sql`'s rows.
#[cfg(feature = "sqlite")]
pub(crate) async fn sqlite_texts(
    conn: &mut crate::sqlite::AsyncSqliteConnection,
    sql: String,
) -> QueryResult<Vec<String>> {
    texts(conn, sql).await
}

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
async fn texts<C>(conn: &mut C, sql: String) -> QueryResult<Vec<String>>
where
    C: diesel_async::AsyncConnection,
    for<'a> diesel::query_builder::SqlQuery: diesel_async::methods::LoadQuery<'a, C, Item>,
{
    let rows: Vec<Item> = diesel_async::RunQueryDsl::load(diesel::sql_query(sql), conn).await?;
    Ok(rows.into_iter().map(|r| r.item).collect())
}

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
#[derive(diesel::QueryableByName)]
pub(crate) struct Item {
    #[diesel(sql_type = diesel::sql_types::Text)]
    item: String,
}

/// MySQL's `XA RECOVER`: each prepared branch's (gtrid, bqual).
#[cfg(feature = "mysql")]
pub(crate) async fn mysql_xa_recover(
    conn: &mut diesel_async::AsyncMysqlConnection,
) -> QueryResult<Vec<(String, String)>> {
    use diesel::sql_types::{BigInt, Binary};
    #[derive(diesel::QueryableByName)]
    struct Branch {
        #[diesel(sql_type = BigInt)]
        gtrid_length: i64,
        #[diesel(sql_type = Binary)]
        data: Vec<u8>,
    }
    let rows: Vec<Branch> =
        diesel_async::RunQueryDsl::load(diesel::sql_query("XA RECOVER"), conn).await?;
    Ok(rows
        .into_iter()
        .map(|b| {
            let split = usize::try_from(b.gtrid_length)
                .unwrap_or(0)
                .min(b.data.len());
            let (gtrid, bqual) = b.data.split_at(split);
            (
                String::from_utf8_lossy(gtrid).into_owned(),
                String::from_utf8_lossy(bqual).into_owned(),
            )
        })
        .collect())
}

/// Whether `e`, from a `CREATE TABLE IF NOT EXISTS`, says that another session created the
/// table at the same moment (PostgreSQL reports a unique violation on `pg_type` or "already
/// exists" instead of doing nothing): the table is there either way.
pub(crate) fn created_concurrently(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => true,
        Error::DatabaseError(_, info) => info.message().contains("already exists"),
        _ => false,
    }
}
