//! Cancellation safety for pooled connections: a statement whose future is dropped before
//! it finishes (a timeout, a fail-fast scatter that stopped early, `exists` answered by
//! another shard) leaves its connection mid-protocol. Such a connection must not go back
//! into the pool as if it were clean; the guard marks it broken so that bb8 discards it.

use super::{PooledConnection, ShardConnection};
use diesel_async::TransactionManager;

/// A checked-out connection that is marked broken if dropped while a statement runs.
pub(crate) struct StatementGuard<'a, C: ShardConnection> {
    conn: PooledConnection<'a, C>,
    running: bool,
}

impl<'a, C: ShardConnection> StatementGuard<'a, C> {
    /// Guards `conn` for one statement.
    pub(crate) fn new(conn: PooledConnection<'a, C>) -> Self {
        StatementGuard {
            conn,
            running: true,
        }
    }

    /// The connection, for the statement.
    pub(crate) fn conn(&mut self) -> &mut C {
        &mut self.conn
    }

    /// The statement finished (successfully or not, but completely).
    pub(crate) fn finished(mut self) {
        self.running = false;
    }
}

impl<C: ShardConnection> Drop for StatementGuard<'_, C> {
    fn drop(&mut self) {
        if self.running {
            // A broken transaction manager makes the pool's `has_broken` check discard the
            // connection instead of reusing it.
            <C::TransactionManager as TransactionManager<C>>::transaction_manager_status_mut(
                &mut self.conn,
            )
            .set_in_error();
            tracing::debug!("statement cancelled mid-flight; its connection will be discarded");
        }
    }
}
