//! Inserting many records at once on each diesel-async connection type.
//!
//! PostgreSQL and MySQL take one multi-row `INSERT`. diesel-async cannot run diesel's SQLite
//! batch insert (diesel-rs/diesel_async#277), so on SQLite the records are inserted by
//! diesel's own (blocking) batch insert on the connection's worker thread, in a
//! transaction: one hop to the thread, not one per row.

use super::{InsertRecords, Keyed, KeyedTable, map_write_error};
use crate::Result;
use diesel::Insertable;
use std::future::Future;

/// Records of one table that connection `C` can insert many at a time.
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
    /// Inserts `records` as one unit: all or none. Returns how many rows were inserted.
    fn insert_many<'a>(
        records: &'a [Self],
        conn: &'a mut C,
    ) -> impl Future<Output = Result<usize>> + Send + 'a;
}

fn table_name<R: Keyed>() -> &'static str {
    <R::Table as KeyedTable>::NAME
}

#[cfg(feature = "postgres")]
impl<R> InsertMany<diesel_async::AsyncPgConnection> for R
where
    R: Keyed + Sync,
    for<'a> &'a [R]: Insertable<R::Table>,
    for<'a> InsertRecords<'a, R>:
        diesel_async::methods::ExecuteDsl<diesel_async::AsyncPgConnection> + Send,
{
    fn insert_many<'a>(
        records: &'a [Self],
        conn: &'a mut diesel_async::AsyncPgConnection,
    ) -> impl Future<Output = Result<usize>> + Send + 'a {
        use diesel_async::RunQueryDsl;
        let statement = diesel::insert_into(R::Table::default()).values(records);
        async move {
            if records.is_empty() {
                return Ok(0);
            }
            statement
                .execute(conn)
                .await
                .map_err(|e| map_write_error(table_name::<R>(), None, e))
        }
    }
}

#[cfg(feature = "mysql")]
impl<R> InsertMany<diesel_async::AsyncMysqlConnection> for R
where
    R: Keyed + Sync,
    for<'a> &'a [R]: Insertable<R::Table>,
    for<'a> InsertRecords<'a, R>:
        diesel_async::methods::ExecuteDsl<diesel_async::AsyncMysqlConnection> + Send,
{
    fn insert_many<'a>(
        records: &'a [Self],
        conn: &'a mut diesel_async::AsyncMysqlConnection,
    ) -> impl Future<Output = Result<usize>> + Send + 'a {
        use diesel_async::RunQueryDsl;
        let statement = diesel::insert_into(R::Table::default()).values(records);
        async move {
            if records.is_empty() {
                return Ok(0);
            }
            statement
                .execute(conn)
                .await
                .map_err(|e| map_write_error(table_name::<R>(), None, e))
        }
    }
}

#[cfg(feature = "sqlite")]
impl<R> InsertMany<crate::sqlite::AsyncSqliteConnection> for R
where
    R: Keyed + Clone + Send + Sync + 'static,
    for<'a> &'a [R]: Insertable<R::Table>,
    for<'a> InsertRecords<'a, R>: diesel::query_dsl::methods::ExecuteDsl<diesel::SqliteConnection>,
{
    fn insert_many<'a>(
        records: &'a [Self],
        conn: &'a mut crate::sqlite::AsyncSqliteConnection,
    ) -> impl Future<Output = Result<usize>> + Send + 'a {
        use diesel::Connection;
        let owned: Vec<R> = records.to_vec();
        let insert = conn.spawn_blocking(move |c| {
            if owned.is_empty() {
                return Ok(0);
            }
            c.transaction(|c| {
                diesel::RunQueryDsl::execute(
                    diesel::insert_into(R::Table::default()).values(owned.as_slice()),
                    c,
                )
            })
        });
        async move {
            insert
                .await
                .map_err(|e| map_write_error(table_name::<R>(), None, e))
        }
    }
}
