//! Connection pools: one bb8 pool of diesel-async connections per node.

use super::Probe;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, PoolError};
use std::future::Future;
use std::time::Duration;

/// A bb8 pool of connections `C` (the manager comes from [`ShardConnection`]).
pub type Pool<C> = bb8::Pool<<C as ShardConnection>::Manager>;
/// A connection checked out of a [`Pool`]; it dereferences to `C`.
pub type PooledConnection<'a, C> = bb8::PooledConnection<'a, <C as ShardConnection>::Manager>;

/// Settings of every pool grant opens. Defaults (and why):
///
/// | setting | default | |
/// |---|---|---|
/// | `max_size` | 10 | bb8's default |
/// | `min_idle` | none | connections open on first use, so a shard that is down at start-up does not stop the application |
/// | `connection_timeout` | 5 s | how long a statement waits for a connection before [`crate::Error::PoolTimeout`] (bb8 waits 30 s) |
/// | `idle_timeout` | 10 min | bb8's default |
/// | `max_lifetime` | 30 min | bb8's default |
/// | `test_on_check_out` | false | a `SELECT 1` per checkout would double the round trips of every point lookup; broken connections are dropped when a statement fails on them |
/// | `check_idle_after` | 5 s | after the node served nothing this long (or after a connection of the node failed), each of its open connections is checked with a `SELECT 1` on its next checkout, so that connections that went stale while idle (a server restart, a network cut) are discarded before a statement is sent on them; a busy node pays nothing |
/// | `retry_connection` | false | a server that refuses connections fails the checkout at once, so a read moves on to the next server instead of waiting `connection_timeout` (bb8 retries until the timeout) |
///
/// Built from its defaults with one setter per setting (fields can be read, and new settings
/// may be added in any release, so the struct cannot be written as a literal):
///
/// ```
/// use std::time::Duration;
/// let config = grant::PoolConfig::default()
///     .max_size(32)
///     .connection_timeout(Duration::from_secs(2));
/// assert_eq!(config.max_size, 32);
/// assert_eq!(config.idle_timeout, Some(Duration::from_secs(600)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolConfig {
    /// Most connections the pool keeps open.
    pub max_size: u32,
    /// Idle connections the pool keeps ready.
    pub min_idle: Option<u32>,
    /// How long to wait for a connection.
    pub connection_timeout: Duration,
    /// Idle connections are closed after this.
    pub idle_timeout: Option<Duration>,
    /// Connections are closed after this age.
    pub max_lifetime: Option<Duration>,
    /// Whether to check a connection with a query each time it is checked out.
    pub test_on_check_out: bool,
    /// Check the node's connections before use after it was idle this long (`None`: only
    /// after one of its connections failed).
    pub check_idle_after: Option<Duration>,
    /// Whether bb8 keeps trying to open a connection until `connection_timeout`.
    pub retry_connection: bool,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_size: 10,
            min_idle: None,
            connection_timeout: Duration::from_secs(5),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
            test_on_check_out: false,
            check_idle_after: Some(Duration::from_secs(5)),
            retry_connection: false,
        }
    }
}

crate::cluster::settings::setters!(PoolConfig {
    /// most connections the pool keeps open (at least 1).
    max_size: u32,
    /// idle connections the pool keeps ready.
    min_idle: Option<u32>,
    /// how long a statement waits for a connection.
    connection_timeout: Duration,
    /// idle connections are closed after this.
    idle_timeout: Option<Duration>,
    /// connections are closed after this age.
    max_lifetime: Option<Duration>,
    /// whether each checkout runs a test query first.
    test_on_check_out: bool,
    /// check the node's connections before use after it was idle this long.
    check_idle_after: Option<Duration>,
    /// whether bb8 keeps trying to connect until `connection_timeout`.
    retry_connection: bool,
});

impl PoolConfig {
    /// A pool of connections to `url` with these settings (opened lazily).
    pub fn build<C: ShardConnection>(&self, url: &str) -> Pool<C> {
        self.builder()
            .build_unchecked(C::manager(url, self.connect_timeout()))
    }

    /// A pool whose failed connection attempts go to `sink`.
    pub(crate) fn build_with_sink<C: ShardConnection>(
        &self,
        url: &str,
        sink: super::connect_errors::Sink,
        setup: super::setup::ConnectionSetup<C>,
    ) -> Pool<C> {
        let builder = self.builder().error_sink(Box::new(sink));
        let builder = if setup.is_empty() {
            builder
        } else {
            builder.connection_customizer(Box::new(setup))
        };
        builder.build_unchecked(C::manager(url, self.connect_timeout()))
    }

    /// How long one connection attempt may take: half of `connection_timeout`, so that a
    /// statement waiting for a connection to a host that never finishes the handshake sees
    /// the attempt fail ([`crate::Error::ShardUnavailable`]) before its own wait ends.
    fn connect_timeout(&self) -> Duration {
        self.connection_timeout / 2
    }

    fn builder<M: bb8::ManageConnection>(&self) -> bb8::Builder<M> {
        bb8::Pool::builder()
            .max_size(self.max_size.max(1))
            .min_idle(self.min_idle)
            .connection_timeout(self.connection_timeout)
            .idle_timeout(self.idle_timeout)
            .max_lifetime(self.max_lifetime)
            .test_on_check_out(self.test_on_check_out)
            .retry_connection(self.retry_connection)
    }
}

/// How a connection is opened, before the bound of [`bounded_manager`].
type Establish<C> = fn(&str) -> futures_util::future::BoxFuture<'_, diesel::ConnectionResult<C>>;

/// A manager whose connection attempts are abandoned after `timeout`: a host that accepts
/// TCP but never finishes the handshake (a half-dead host, a partition) would otherwise hold
/// a pool slot forever, and the pool would not serve again after the fault ended.
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
fn bounded_manager<C>(
    url: &str,
    timeout: Duration,
    establish: Establish<C>,
) -> AsyncDieselConnectionManager<C>
where
    C: diesel_async::pooled_connection::PoolableConnection + 'static,
{
    use diesel_async::pooled_connection::ManagerConfig;
    let mut config = ManagerConfig::default();
    config.custom_setup = Box::new(move |url| {
        Box::pin(async move {
            tokio::time::timeout(timeout, establish(url))
                .await
                .unwrap_or_else(|_| {
                    Err(diesel::ConnectionError::BadConnection(format!(
                        "no connection within {timeout:?}"
                    )))
                })
        })
    });
    AsyncDieselConnectionManager::new_with_config(url, config)
}

/// A diesel-async connection type that grant can pool and shard: `AsyncPgConnection`,
/// `AsyncMysqlConnection` and [`crate::sqlite::AsyncSqliteConnection`] (whose connections get
/// [`crate::sqlite::CONNECTION_PRAGMAS`]).
///
/// ```
/// use grant::ShardConnection;
/// assert_eq!(<grant::sqlite::AsyncSqliteConnection as ShardConnection>::BACKEND, "sqlite");
/// ```
pub trait ShardConnection: diesel_async::AsyncConnection + Send + 'static {
    /// The pool's connection manager.
    type Manager: bb8::ManageConnection<Connection = Self, Error = PoolError>;
    /// How the backend orders `NULL` and rounds `AVG`, for merging across shards (the
    /// backend type itself).
    type Dialect: crate::scatter::NullOrdering + crate::scatter::AvgRounding;
    /// The backend's name, for logs.
    const BACKEND: &'static str;
    /// The manager that opens connections to `url`, each attempt abandoned after
    /// `connect_timeout`.
    fn manager(url: &str, connect_timeout: Duration) -> Self::Manager;
    /// One connection to `url`, outside any pool (set up like pooled ones).
    fn connect(url: &str) -> impl Future<Output = diesel::ConnectionResult<Self>> + Send;
    /// Asks a node whether it accepts writes and how far behind it is (health checks).
    fn probe(conn: &mut Self) -> impl Future<Output = diesel::QueryResult<Probe>> + Send;
    /// Where the write just committed on `conn` left the replication stream (`None`: the
    /// backend has no replicas or the server does not say).
    #[doc(hidden)]
    fn write_position(
        _conn: &mut Self,
    ) -> impl Future<Output = diesel::QueryResult<Option<super::Position>>> + Send {
        std::future::ready(Ok(None))
    }
    /// How far the replica behind `conn` has replayed (`None`: unknown).
    #[doc(hidden)]
    fn replay_position(
        _conn: &mut Self,
    ) -> impl Future<Output = diesel::QueryResult<Option<super::Position>>> + Send {
        std::future::ready(Ok(None))
    }
    /// The `item` text column of the rows of `sql` (grant's own bookkeeping queries).
    #[doc(hidden)]
    fn texts(
        _conn: &mut Self,
        _sql: String,
    ) -> impl Future<Output = diesel::QueryResult<Vec<String>>> + Send {
        std::future::ready(Err(diesel::result::Error::QueryBuilderError(
            "not supported on this backend".into(),
        )))
    }
    /// Listens on `channel` of the server at `url` in a task of its own, waking `wake` at
    /// each notification; the task ends when the connection does. `None` where the backend
    /// has no notifications (only PostgreSQL has them).
    #[doc(hidden)]
    fn listen(
        _url: &str,
        _channel: &'static str,
        _wake: std::sync::Arc<tokio::sync::Notify>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        None
    }
    /// The prepared two-phase branches on the server, as (transaction id, branch qualifier).
    #[doc(hidden)]
    fn prepared_branches(
        _conn: &mut Self,
    ) -> impl Future<Output = diesel::QueryResult<Vec<(String, String)>>> + Send {
        std::future::ready(Ok(Vec::new()))
    }
    /// What can ask the server to stop the statement running on `conn` (after a timeout).
    #[doc(hidden)]
    fn cancel_handle(_conn: &Self) -> Option<super::cancel::CancelHandle> {
        None
    }
}

#[cfg(feature = "postgres")]
impl ShardConnection for diesel_async::AsyncPgConnection {
    type Manager = AsyncDieselConnectionManager<Self>;
    type Dialect = diesel::pg::Pg;
    const BACKEND: &'static str = "postgres";
    fn manager(url: &str, connect_timeout: Duration) -> Self::Manager {
        bounded_manager(url, connect_timeout, |url| {
            Box::pin(<Self as diesel_async::AsyncConnection>::establish(url))
        })
    }
    fn connect(url: &str) -> impl Future<Output = diesel::ConnectionResult<Self>> + Send {
        <Self as diesel_async::AsyncConnection>::establish(url)
    }
    fn probe(conn: &mut Self) -> impl Future<Output = diesel::QueryResult<Probe>> + Send {
        super::probe::probe_pg(conn)
    }
    fn write_position(
        conn: &mut Self,
    ) -> impl Future<Output = diesel::QueryResult<Option<super::Position>>> + Send {
        super::probe::pg_write_position(conn)
    }
    fn replay_position(
        conn: &mut Self,
    ) -> impl Future<Output = diesel::QueryResult<Option<super::Position>>> + Send {
        super::probe::pg_replay_position(conn)
    }
    fn cancel_handle(conn: &Self) -> Option<super::cancel::CancelHandle> {
        Some(super::cancel::CancelHandle::postgres(conn.cancel_token()))
    }
    fn texts(
        conn: &mut Self,
        sql: String,
    ) -> impl Future<Output = diesel::QueryResult<Vec<String>>> + Send {
        super::queries::pg_texts(conn, sql)
    }
    fn listen(
        url: &str,
        channel: &'static str,
        wake: std::sync::Arc<tokio::sync::Notify>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let url = url.to_owned();
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        Some(runtime.spawn(async move {
            use futures_util::StreamExt;
            let Ok(mut conn) = <Self as diesel_async::AsyncConnection>::establish(&url).await
            else {
                return;
            };
            let listen = format!("LISTEN {channel}");
            if diesel_async::SimpleAsyncConnection::batch_execute(&mut conn, &listen)
                .await
                .is_err()
            {
                return;
            }
            let mut notifications = std::pin::pin!(conn.notifications_stream());
            while let Some(Ok(_)) = notifications.next().await {
                wake.notify_one();
            }
        }))
    }
    async fn prepared_branches(conn: &mut Self) -> diesel::QueryResult<Vec<(String, String)>> {
        // `<id>-<participant hash>`: the id is the first 55 characters.
        let gids = super::queries::pg_texts(
            conn,
            "SELECT gid AS item FROM pg_prepared_xacts \
             WHERE database = current_database() AND gid LIKE 'grant-%'"
                .to_owned(),
        )
        .await?;
        Ok(gids
            .into_iter()
            .filter_map(|g| {
                let (id, participant) = (g.get(..55)?, g.get(56..)?);
                Some((id.to_owned(), participant.to_owned()))
            })
            .collect())
    }
}

#[cfg(feature = "mysql")]
impl ShardConnection for diesel_async::AsyncMysqlConnection {
    type Manager = AsyncDieselConnectionManager<Self>;
    type Dialect = diesel::mysql::Mysql;
    const BACKEND: &'static str = "mysql";
    fn manager(url: &str, connect_timeout: Duration) -> Self::Manager {
        bounded_manager(url, connect_timeout, |url| {
            Box::pin(<Self as diesel_async::AsyncConnection>::establish(url))
        })
    }
    fn connect(url: &str) -> impl Future<Output = diesel::ConnectionResult<Self>> + Send {
        <Self as diesel_async::AsyncConnection>::establish(url)
    }
    fn probe(conn: &mut Self) -> impl Future<Output = diesel::QueryResult<Probe>> + Send {
        super::probe::probe_mysql(conn)
    }
    fn write_position(
        conn: &mut Self,
    ) -> impl Future<Output = diesel::QueryResult<Option<super::Position>>> + Send {
        super::probe::mysql_write_position(conn)
    }
    fn replay_position(
        conn: &mut Self,
    ) -> impl Future<Output = diesel::QueryResult<Option<super::Position>>> + Send {
        super::probe::mysql_replay_position(conn)
    }
    fn texts(
        conn: &mut Self,
        sql: String,
    ) -> impl Future<Output = diesel::QueryResult<Vec<String>>> + Send {
        super::queries::mysql_texts(conn, sql)
    }
    fn prepared_branches(
        conn: &mut Self,
    ) -> impl Future<Output = diesel::QueryResult<Vec<(String, String)>>> + Send {
        super::queries::mysql_xa_recover(conn)
    }
}

#[cfg(feature = "sqlite")]
impl ShardConnection for crate::sqlite::AsyncSqliteConnection {
    type Manager = AsyncDieselConnectionManager<Self>;
    type Dialect = diesel::sqlite::Sqlite;
    const BACKEND: &'static str = "sqlite";
    fn manager(url: &str, connect_timeout: Duration) -> Self::Manager {
        bounded_manager(url, connect_timeout, |url| {
            Box::pin(crate::sqlite::establish(url))
        })
    }
    fn connect(url: &str) -> impl Future<Output = diesel::ConnectionResult<Self>> + Send {
        crate::sqlite::establish(url)
    }
    fn texts(
        conn: &mut Self,
        sql: String,
    ) -> impl Future<Output = diesel::QueryResult<Vec<String>>> + Send {
        super::queries::sqlite_texts(conn, sql)
    }
    /// SQLite files have no replicas: always a writable primary.
    async fn probe(_conn: &mut Self) -> diesel::QueryResult<Probe> {
        Ok(Probe {
            writable: true,
            position: None,
            received: None,
            behind: Some(Duration::ZERO),
            replayed: None,
        })
    }
}
