//! Inserting many records at once on each diesel-async connection type.
//!
//! PostgreSQL and MySQL take multi-row `INSERT`s, split so that each stays under the
//! backend's bind-parameter limit, in one transaction when there is more than one.
//! diesel-async cannot run diesel's SQLite batch insert (diesel-rs/diesel_async#277), so on
//! SQLite the records are inserted by diesel's own (blocking) batch insert on the
//! connection's worker thread, in a transaction: one hop to the thread, not one per row.

use super::{InsertRecords, Keyed, KeyedTable, map_write_error};
use crate::Result;
use diesel::{Insertable, QueryResult};
use std::future::Future;

/// Records of one table that connection `C` can insert many at a time, all or none.
///
/// ```
/// # use grant::__doc_schema::{OrderItem, sqlite_with_order_items};
/// use grant::key::InsertMany;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), grant::Error> {
/// let mut conn = sqlite_with_order_items().await;
/// let rows = [OrderItem { order_id: 1, product_id: 1, quantity: 1 }, OrderItem { order_id: 1, product_id: 2, quantity: 1 }];
/// assert_eq!(OrderItem::insert_many(&rows, &mut conn).await?, 2);
/// # Ok(())
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` records can't be inserted many at a time on `{C}`",
    note = "the record must derive diesel's `Insertable` for its table (and be `Clone` for SQLite)"
)]
pub trait InsertMany<C>: Keyed + Sized {
    /// Inserts `records` as one unit: all or none. Returns how many rows were inserted;
    /// errors are diesel's.
    fn insert_raw(
        records: &[Self],
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<usize>> + Send;

    /// [`InsertMany::insert_raw`] with grant's errors ([`crate::Error::DuplicateKey`], ..).
    fn insert_many(records: &[Self], conn: &mut C) -> impl Future<Output = Result<usize>> + Send
    where
        Self: Sync,
        C: Send,
    {
        async move {
            Self::insert_raw(records, conn)
                .await
                .map_err(|e| map_write_error(<Self::Table as KeyedTable>::NAME, None, e))
        }
    }
}

/// Records per statement under `DB`'s bind limit (every column of the table bound).
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn rows_per_statement<R: Keyed, DB: super::BindLimit>() -> usize {
    (DB::MAX_BIND_PARAMS / <R::Table as KeyedTable>::COLUMN_COUNT.max(1)).max(1)
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
macro_rules! server_insert_many {
    ($conn:ty, $backend:ty) => {
        impl<R> InsertMany<$conn> for R
        where
            R: Keyed + Sync,
            for<'a> &'a [R]: Insertable<R::Table>,
            for<'a> InsertRecords<'a, R>: diesel_async::methods::ExecuteDsl<$conn> + Send,
        {
            async fn insert_raw(records: &[Self], conn: &mut $conn) -> QueryResult<usize> {
                use diesel_async::{AsyncConnection, RunQueryDsl};
                let per_statement = rows_per_statement::<R, $backend>();
                match records.len() {
                    0 => Ok(0),
                    n if n <= per_statement => {
                        diesel::insert_into(R::Table::default())
                            .values(records)
                            .execute(conn)
                            .await
                    }
                    _ => {
                        conn.transaction(async |conn| {
                            let mut inserted = 0;
                            for chunk in records.chunks(per_statement) {
                                inserted += diesel::insert_into(R::Table::default())
                                    .values(chunk)
                                    .execute(conn)
                                    .await?;
                            }
                            Ok(inserted)
                        })
                        .await
                    }
                }
            }
        }
    };
}

#[cfg(feature = "postgres")]
server_insert_many!(diesel_async::AsyncPgConnection, diesel::pg::Pg);

#[cfg(feature = "mysql")]
server_insert_many!(diesel_async::AsyncMysqlConnection, diesel::mysql::Mysql);

#[cfg(feature = "sqlite")]
impl<R> InsertMany<crate::sqlite::AsyncSqliteConnection> for R
where
    R: Keyed + Clone + Send + Sync + 'static,
    for<'a> &'a [R]: Insertable<R::Table>,
    for<'a> InsertRecords<'a, R>: diesel::query_dsl::methods::ExecuteDsl<diesel::SqliteConnection>,
{
    fn insert_raw(
        records: &[Self],
        conn: &mut crate::sqlite::AsyncSqliteConnection,
    ) -> impl Future<Output = QueryResult<usize>> + Send {
        use diesel::Connection;
        let owned: Vec<R> = records.to_vec();
        conn.spawn_blocking(move |c| {
            if owned.is_empty() {
                return Ok(0);
            }
            c.transaction(|c| {
                diesel::RunQueryDsl::execute(
                    diesel::insert_into(R::Table::default()).values(owned.as_slice()),
                    c,
                )
            })
        })
    }
}
