//! Inserting one record on a diesel-async connection.

use super::{InsertRecord, Keyed};
use diesel::{Insertable, QueryResult};
use diesel_async::AsyncConnection;
use diesel_async::methods::ExecuteDsl;
use std::future::Future;

/// A record that connection `C` can insert alone (it derives diesel's `Insertable`).
///
/// A trait of its own so that `sharded.insert(&record)` infers the record type before
/// diesel's `Insertable` impls are searched.
///
/// ```
/// # use grant::__doc_schema::{OrderItem, sqlite_with_order_items};
/// use grant::key::InsertOne;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), diesel::result::Error> {
/// let mut conn = sqlite_with_order_items().await;
/// let item = OrderItem { order_id: 1, product_id: 1, quantity: 1 };
/// assert_eq!(item.insert_one(&mut conn).await?, 1);
/// # Ok(())
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` can't be inserted on `{C}`",
    note = "derive diesel's `Insertable` (and `grant::Keyed`) for it"
)]
pub trait InsertOne<C>: Keyed + Sync {
    /// `INSERT INTO <table> VALUES <self>`; errors are diesel's.
    fn insert_one(&self, conn: &mut C) -> impl Future<Output = QueryResult<usize>> + Send;
}

impl<R, C> InsertOne<C> for R
where
    R: Keyed + Sync,
    C: AsyncConnection,
    for<'a> &'a R: Insertable<R::Table>,
    for<'a> InsertRecord<'a, R>: ExecuteDsl<C> + Send,
{
    fn insert_one(&self, conn: &mut C) -> impl Future<Output = QueryResult<usize>> + Send {
        diesel_async::RunQueryDsl::execute(
            diesel::insert_into(R::Table::default()).values(self),
            conn,
        )
    }
}
