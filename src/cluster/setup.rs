//! Setting up each new connection before the pool hands it out: session SQL from the
//! topology (`SET search_path ..`, `SET application_name ..`) and an `after_connect` hook in
//! code, told which shard and node the connection is for.
//!
//! Guarantees: the setup runs once per connection, before its first statement, on every
//! node of every shard (primaries, failover hosts, replicas); the session SQL runs first, in
//! the order given (topology-wide, then the shard's own), then the hook. A setup that fails
//! discards the connection: the statement that waited for it fails with
//! [`crate::Error::ShardUnavailable`] naming the shard, node and the setup's error, and the
//! next checkout tries a new connection.

use super::ShardConnection;
use diesel::QueryResult;
use diesel_async::pooled_connection::PoolError;
use futures_util::future::BoxFuture;
use std::fmt;
use std::sync::Arc;

/// Which server a new connection goes to, as configured: for an `after_connect` hook that
/// sets up shards or nodes differently.
///
/// ```
/// # use grant::cluster::NodeInfo;
/// fn application_name(node: &NodeInfo) -> String {
///     format!("SET application_name = 'app-{}-{}'", node.shard(), if node.is_replica() { "ro" } else { "rw" })
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    shard: Arc<str>,
    label: Arc<str>,
    replica: bool,
}

impl NodeInfo {
    pub(crate) fn new(shard: &Arc<str>, label: &Arc<str>, replica: bool) -> Self {
        NodeInfo {
            shard: shard.clone(),
            label: label.clone(),
            replica,
        }
    }

    /// The shard's name.
    pub fn shard(&self) -> &str {
        &self.shard
    }

    /// The node's label: `primary`, `primary 2` (a failover host), `replica 1`, ..
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Whether the node is configured as a read replica (a failover host is not).
    pub fn is_replica(&self) -> bool {
        self.replica
    }
}

/// The hook's function: it gets the new connection and where it goes.
type HookFn<C> =
    dyn for<'a> Fn(&'a mut C, &'a NodeInfo) -> BoxFuture<'a, QueryResult<()>> + Send + Sync;

/// A function run on every new connection, after the session SQL (see
/// [`crate::ShardedBuilder::after_connect`]).
pub struct AfterConnect<C>(Arc<HookFn<C>>);

impl<C> AfterConnect<C> {
    /// Wraps `hook`.
    pub fn new<F>(hook: F) -> Self
    where
        F: for<'a> Fn(&'a mut C, &'a NodeInfo) -> BoxFuture<'a, QueryResult<()>>
            + Send
            + Sync
            + 'static,
    {
        AfterConnect(Arc::new(hook))
    }
}

impl<C> Clone for AfterConnect<C> {
    fn clone(&self) -> Self {
        AfterConnect(self.0.clone())
    }
}

impl<C> fmt::Debug for AfterConnect<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AfterConnect(..)")
    }
}

/// The setup a shard's nodes share: the session SQL (topology-wide, then the shard's own)
/// and the hook.
pub(crate) struct SetupParts<C> {
    pub(crate) session_sql: Arc<[String]>,
    pub(crate) hook: Option<AfterConnect<C>>,
}

/// What every node's new connections run: session SQL, then the hook.
pub(crate) struct ConnectionSetup<C> {
    pub(crate) session_sql: Arc<[String]>,
    pub(crate) hook: Option<AfterConnect<C>>,
    pub(crate) node: NodeInfo,
}

impl<C> ConnectionSetup<C> {
    /// Whether there is anything to run.
    pub(crate) fn is_empty(&self) -> bool {
        self.session_sql.is_empty() && self.hook.is_none()
    }
}

impl<C> fmt::Debug for ConnectionSetup<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionSetup")
            .field("session_sql", &self.session_sql.len())
            .field("hook", &self.hook.is_some())
            .field("node", &self.node)
            .finish()
    }
}

impl<C: ShardConnection> bb8::CustomizeConnection<C, PoolError> for ConnectionSetup<C> {
    fn on_acquire<'a>(&'a self, conn: &'a mut C) -> BoxFuture<'a, Result<(), PoolError>> {
        Box::pin(async move {
            for sql in self.session_sql.iter() {
                conn.batch_execute(sql)
                    .await
                    .map_err(PoolError::QueryError)?;
            }
            if let Some(hook) = &self.hook {
                (hook.0)(conn, &self.node)
                    .await
                    .map_err(PoolError::QueryError)?;
            }
            Ok(())
        })
    }
}
