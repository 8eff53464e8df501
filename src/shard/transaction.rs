//! Transactions on one shard, chosen by key.

use super::dispatch::Target;
use super::operation::{Execute, First, GetResult, Load, Operation};
use super::{Route, RouteKey, RoutedStatement, Routing, ShardId, Sharded, StatementKind};
use crate::cluster::ShardConnection;
use crate::cluster::exec::{
    StatementTimeout, is_connection_failure, position_after_write, run_bounded, statement_error,
};
use crate::key::KeyFuture;
use crate::{Error, Result};
use diesel_async::{AsyncConnection, TransactionManager};
use std::future::Future;
use std::sync::Arc;

/// An async closure taking `A`, whose future can be named (and so required to be `Send`):
/// `F: for<'r> AsyncFunc<&'r mut X, R, Fut: Send>`. The same device diesel-async uses for
/// its transactions.
pub trait AsyncFunc<A, R>:
    AsyncFnOnce(A) -> R + FnOnce(A) -> <Self as AsyncFunc<A, R>>::Fut
{
    /// The closure's future.
    type Fut: Future<Output = R>;
}

impl<F, A, Fut, R> AsyncFunc<A, R> for F
where
    F: AsyncFnOnce(A) -> R + FnOnce(A) -> Fut,
    Fut: Future<Output = R>,
{
    type Fut = Fut;
}

/// A transaction on one shard. Its methods run routed statements and refuse, with
/// [`Error::CrossShardInTransaction`], any statement routed to another shard (or to all
/// shards): a single-shard transaction can only be atomic on its own shard.
///
/// Guarantee: everything run through it commits or rolls back together; the transaction
/// rolls back when the closure returns an error (including the cross-shard refusal).
pub struct ShardTx<'r, C: ShardConnection> {
    conn: &'r mut C,
    shard: ShardId,
    name: Arc<str>,
    routing: &'r Routing,
    /// The node the transaction runs on, for errors.
    node: Arc<str>,
    /// Each statement's bound (the handle's statement timeout).
    timeout: StatementTimeout,
}

impl<'r, C: ShardConnection> ShardTx<'r, C> {
    /// The shard of the transaction.
    pub fn shard(&self) -> ShardId {
        self.shard
    }

    /// The shard's name.
    pub fn shard_name(&self) -> &str {
        &self.name
    }

    /// The connection, for statements that are not routed (they run inside this
    /// transaction, on this shard; nothing checks where they belong).
    pub fn connection(&mut self) -> &mut C {
        self.conn
    }

    fn check<Q, R: Route<Q>>(&self, route: &R) -> Result<()> {
        match route.target(self.routing)? {
            Target::One(shard) if shard == self.shard => Ok(()),
            Target::One(other) => Err(Error::CrossShardInTransaction {
                transaction_shard: self.name.to_string(),
                statement_route: format!("shard `{}`", self.routing.name(other)),
            }),
            Target::All => Err(Error::CrossShardInTransaction {
                transaction_shard: self.name.to_string(),
                statement_route: "every shard".into(),
            }),
        }
    }

    async fn run_statement<S, O>(&mut self, statement: S, op: O) -> Result<O::Output>
    where
        S: RoutedStatement,
        S::Query: StatementKind,
        O: Operation<C, S::Query>,
    {
        let (query, route) = statement.into_parts();
        self.check(&route)?;
        super::immutable::check_raw::<S::Query, O, C>(&query, &route)?;
        let table = route.table();
        let started = std::time::Instant::now();
        let result = run_bounded(op, query, &mut *self.conn, self.timeout).await;
        crate::cluster::metrics_statement(
            &self.name,
            &self.node,
            <S::Query as StatementKind>::ACCESS,
            crate::cluster::Outcome::of(&result),
            started.elapsed(),
        );
        match result {
            Ok(value) => Ok(value),
            Err(Some(e)) => Err(statement_error(&self.name, table, e)),
            Err(None) => {
                // The connection is mid-statement: the transaction can't go on on it. Marked
                // broken, it is not rolled back on (the server aborts the transaction when
                // the pool discards the connection) and never handed out again.
                <C::TransactionManager as TransactionManager<C>>::transaction_manager_status_mut(
                    self.conn,
                )
                .set_in_error();
                Err(Error::StatementTimeout {
                    shard: self.name.to_string(),
                    node: self.node.to_string(),
                    after: self.timeout.after(),
                })
            }
        }
    }

    /// Prepares a routed statement to run in this transaction: continue with `.load()`,
    /// `.get_result()`, `.first()` or `.execute()`. A statement routed elsewhere fails with
    /// [`Error::CrossShardInTransaction`].
    pub fn run<S: RoutedStatement>(&mut self, statement: S) -> TxRun<'_, 'r, C, S>
    where
        S::Query: StatementKind,
    {
        TxRun {
            tx: self,
            statement,
        }
    }
}

/// A routed statement about to run in a [`ShardTx`].
#[must_use = "a statement runs only when `.load()`, `.get_result()`, `.first()` or `.execute()` is awaited"]
pub struct TxRun<'a, 'r, C: ShardConnection, S> {
    tx: &'a mut ShardTx<'r, C>,
    statement: S,
}

/// The four ways to finish a statement of a transaction (`load`, `get_result`, `first`,
/// `execute`), for a type with fields `tx` (whose `run_statement` runs it) and `statement`:
/// written once for [`TxRun`] and [`super::CrossRun`].
macro_rules! tx_run_methods {
    ($($lt:lifetime),* ; $ty:ident) => {
        impl<C: ShardConnection, S: RoutedStatement> $ty<$($lt,)* C, S>
        where
            S::Query: StatementKind,
        {
            /// All rows of a routed select.
            pub async fn load<U>(self) -> Result<Vec<U>>
            where
                Load<U>: Operation<C, S::Query, Output = Vec<U>>,
            {
                self.tx.run_statement(self.statement, Load::new()).await
            }

            /// Exactly one row.
            pub async fn get_result<U>(self) -> Result<U>
            where
                GetResult<U>: Operation<C, S::Query, Output = U>,
            {
                self.tx
                    .run_statement(self.statement, GetResult::new())
                    .await
            }

            /// The first row.
            pub async fn first<U>(self) -> Result<U>
            where
                First<U>: Operation<C, S::Query, Output = U>,
            {
                self.tx.run_statement(self.statement, First::new()).await
            }

            /// The affected rows of an insert, update or delete.
            pub async fn execute(self) -> Result<usize>
            where
                Execute: Operation<C, S::Query, Output = usize>,
            {
                self.tx.run_statement(self.statement, Execute).await
            }
        }
    };
}
pub(crate) use tx_run_methods;

tx_run_methods!('_, '_; TxRun);

impl<C: ShardConnection> Sharded<C> {
    /// Runs `f` in a transaction on the shard that holds `key`; commits when `f` returns
    /// `Ok`, rolls back on `Err`. Inside, statements routed to another shard are refused.
    ///
    /// The closure takes the transaction by value (`async |mut tx| { .. }`).
    ///
    /// ```
    /// # use grant::__doc_schema::{order_items, OrderItem, two_sqlite_shards};
    /// use grant::prelude::*;
    /// # #[tokio::main]
    /// # async fn main() -> grant::Result<()> {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// let key = order_items::ShardKey { order_id: 1 };
    /// shards.transaction(&key, async |mut tx| {
    ///     let item = OrderItem { order_id: 1, product_id: 1, quantity: 1 };
    ///     tx.run(diesel::insert_into(order_items::table).values(&item).for_shard_key(item.key())).execute().await?;
    ///     tx.run(order_items::table.update_key((1, 1)).set(order_items::quantity.eq(2))).execute().await?;
    ///     Ok(())
    /// }).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn transaction<'a, K, T, F>(&'a self, key: &K, f: F) -> KeyFuture<'a, T>
    where
        K: RouteKey,
        T: Send + 'a,
        F: for<'r> AsyncFunc<ShardTx<'r, C>, Result<T>, Fut: Send> + Send + 'a,
    {
        let shard = self.routing().shard_for_key(key);
        KeyFuture::new(self.transaction_on(shard, K::TABLE, f))
    }

    async fn transaction_on<'a, T, F>(
        &'a self,
        shard: Result<ShardId>,
        table: &'static str,
        f: F,
    ) -> Result<T>
    where
        T: Send + 'a,
        F: for<'r> AsyncFunc<ShardTx<'r, C>, Result<T>, Fut: Send> + Send + 'a,
    {
        let routing = self.routing();
        let shard = shard?;
        let cluster = self.cluster(shard)?;
        let name = cluster.name().clone();
        let (seen, node) = cluster.current_primary();
        let mut conn = match node.checkout().await {
            Ok(conn) => conn,
            Err(e) => {
                // Nothing ran; let the next attempt find the primary if it moved.
                cluster.rediscover(seen, self.health_config().timeout).await;
                return Err(e);
            }
        };
        let span =
            tracing::debug_span!("grant.transaction", shard = %name, table, node = node.label());
        let node_label: Arc<str> = Arc::from(node.label());
        let timeout = self.statement_timeout();
        // Whether `BEGIN` went through (the closure started): a failure before it applied
        // nothing; a failure of the connection after it may have come at `COMMIT`.
        let began = std::sync::atomic::AtomicBool::new(false);
        let began_ref = &began;
        let shard_name = name.clone();
        let run = AsyncConnection::transaction::<T, Error, _>(conn.conn(), async move |c| {
            began_ref.store(true, std::sync::atomic::Ordering::Relaxed);
            f(ShardTx {
                conn: c,
                shard,
                name,
                routing: &routing,
                node: node_label,
                timeout,
            })
            .await
        });
        let result = tracing::Instrument::instrument(run, span).await;
        // A lost connection (at `BEGIN`, `COMMIT`, or in the closure's own statements) is
        // said in grant's terms, naming the shard; other errors stay as they came (a
        // diesel error the closure returned is the caller's own `Error::Database`).
        let connection_lost =
            matches!(&result, Err(Error::Database(e)) if is_connection_failure(e));
        let result = result.map_err(|e| match e {
            Error::Database(e) if is_connection_failure(&e) => {
                node.record_failure(&e.to_string());
                if began.load(std::sync::atomic::Ordering::Relaxed) {
                    Error::WriteOutcomeUnknown {
                        shard: shard_name.to_string(),
                        cause: format!("the connection failed during the transaction: {e}"),
                    }
                } else {
                    Error::WriteNotApplied {
                        shard: shard_name.to_string(),
                        cause: format!("the transaction could not begin: {e}"),
                    }
                }
            }
            other => other,
        });
        // Where the commit left the replication stream, for reads that must see it.
        let position = match &result {
            Ok(_) if cluster.tracks_positions() => position_after_write(conn.conn(), timeout).await,
            _ => Ok(None),
        };
        // A connection that failed is not handed out again.
        if position.is_ok() && !connection_lost {
            conn.finished();
        }
        cluster.note_write(position.ok().flatten(), self.session());
        result
    }
}

crate::opaque_debug::opaque_debug!(['r, C: ShardConnection] ShardTx<'r, C>, "ShardTx");
crate::opaque_debug::opaque_debug!(['a, 'r, C: ShardConnection, S] TxRun<'a, 'r, C, S>, "TxRun");
