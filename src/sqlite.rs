//! SQLite connections set up for concurrent use: what grant does to every SQLite
//! connection it opens.

use diesel::ConnectionError;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, SimpleAsyncConnection};

/// diesel-async's SQLite connection: diesel's `SqliteConnection` run on a blocking thread.
pub type AsyncSqliteConnection = SyncConnectionWrapper<diesel::SqliteConnection>;

/// The pragmas grant runs on every SQLite connection it opens:
///
/// * `busy_timeout = 10000`: a writer waits up to 10 s for another connection's write lock
///   instead of failing at once with "database is locked";
/// * `journal_mode = WAL`: readers do not block the writer (file databases only);
/// * `foreign_keys = ON`: SQLite enforces foreign keys only when asked to;
/// * `synchronous = NORMAL`: the usual setting with WAL (durable at checkpoints).
pub const CONNECTION_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";

/// Opens an SQLite database (a file path, `file:` URL or `:memory:`) and applies
/// [`CONNECTION_PRAGMAS`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), diesel::ConnectionError> {
/// let conn = grant::sqlite::establish(":memory:").await?;
/// # drop(conn);
/// # Ok(())
/// # }
/// ```
pub async fn establish(url: &str) -> Result<AsyncSqliteConnection, ConnectionError> {
    let mut conn = AsyncSqliteConnection::establish(url).await?;
    conn.batch_execute(CONNECTION_PRAGMAS)
        .await
        .map_err(ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}
