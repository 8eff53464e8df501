//! One shard's servers: its primary (replicas come with the replica issue), each with a
//! bb8 pool, and the checkout that turns pool errors into grant's typed errors.

mod guard;
mod pool;

pub(crate) use guard::StatementGuard;
pub use pool::{Pool, PoolConfig, PooledConnection, ShardConnection};

use crate::Error;
use std::sync::Arc;

/// One shard: its name and the pool of its primary.
///
/// Guarantee: a checkout either gives a working connection or a typed error naming the
/// shard: [`Error::PoolTimeout`] when no connection came free within the pool's
/// `connection_timeout`, [`Error::ShardUnavailable`] when the server refused or could not be
/// reached.
pub struct Cluster<C: ShardConnection> {
    name: Arc<str>,
    url: String,
    primary: Pool<C>,
    timeout: std::time::Duration,
}

impl<C: ShardConnection> Cluster<C> {
    /// A shard named `name` whose primary is at `url`.
    pub fn new(name: &str, url: &str, config: &PoolConfig) -> Self {
        Cluster {
            name: Arc::from(name),
            url: url.to_owned(),
            primary: config.build::<C>(url),
            timeout: config.connection_timeout,
        }
    }

    /// The shard's name.
    pub fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// The primary's URL (it may hold a password: do not log it).
    pub fn primary_url(&self) -> &str {
        &self.url
    }

    /// A connection to the primary.
    pub async fn primary(&self) -> Result<PooledConnection<'_, C>, Error> {
        self.primary.get().await.map_err(|e| match e {
            bb8::RunError::TimedOut => Error::PoolTimeout {
                shard: self.name.to_string(),
                waited: self.timeout,
            },
            bb8::RunError::User(cause) => Error::ShardUnavailable {
                shard: self.name.to_string(),
                cause: cause.to_string(),
            },
        })
    }

    /// Pool statistics of the primary: open and idle connections.
    pub fn primary_state(&self) -> bb8::State {
        self.primary.state()
    }
}

impl<C: ShardConnection> std::fmt::Debug for Cluster<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("name", &self.name)
            .field("backend", &C::BACKEND)
            .finish()
    }
}
