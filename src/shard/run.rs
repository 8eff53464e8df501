//! [`Run`]: a routed statement about to run on [`Sharded`], and the four verbs that run it.

use super::attempts::{Idempotent, Rerun, Retries, RunOnce};
use super::operation::{Execute, First, GetResult, Load, Operation};
use super::sharded::Output;
use super::{RoutedStatement, Session, Sharded, StatementKind};
use crate::Result;
use crate::cluster::ShardConnection;
use crate::cluster::exec::RunOptions;
use std::marker::PhantomData;

/// A routed statement about to run on [`Sharded`]: pick how.
///
/// ```
/// # use grant::__doc_schema::{order_items, OrderItem, two_sqlite_shards};
/// use grant::prelude::*;
/// # #[tokio::main]
/// # async fn main() -> grant::Result<()> {
/// # let (shards, _dir) = two_sqlite_shards().await;
/// let n = shards.run(order_items::table.count().on_shard("s0")).get_result::<i64>().await?;
/// assert_eq!(n, 0);
/// # Ok(())
/// # }
/// ```
#[must_use = "a statement runs only when `.load()`, `.get_result()`, `.first()` or `.execute()` is awaited"]
pub struct Run<'a, C: ShardConnection, S, M = Rerun> {
    sharded: &'a Sharded<C>,
    statement: S,
    options: RunOptions<'a>,
    _retries: PhantomData<fn() -> M>,
}

impl<'a, C: ShardConnection, S: RoutedStatement> Run<'a, C, S> {
    pub(crate) fn new(sharded: &'a Sharded<C>, statement: S) -> Self {
        Run {
            sharded,
            statement,
            options: RunOptions::default(),
            _retries: PhantomData,
        }
    }
}

impl<'a, C: ShardConnection, S: RoutedStatement, M> Run<'a, C, S, M> {
    /// Bounds this statement's time on its server, over the handle's
    /// [`statement_timeout`](crate::ShardedBuilder::statement_timeout); `None`: no bound.
    pub fn timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
        use crate::cluster::exec::StatementTimeout;
        self.options.timeout =
            Some(timeout.map_or(StatementTimeout::Never, StatementTimeout::After));
        self
    }

    /// Reads on the primary even if replicas could answer (a write always does).
    pub fn on_primary(mut self) -> Self {
        self.options.primary = true;
        self
    }

    /// Tracks read-your-writes in `session` rather than in the handle: reads of a shard
    /// the session wrote to within the window go to the primary.
    pub fn in_session(mut self, session: &'a Session) -> Self {
        self.options.session = Some(session);
        self
    }

    /// Marks the write idempotent: after a failover that interrupted it, it runs again
    /// on the new primary (a write is otherwise never re-run once it may have been
    /// applied). The statement must be `Clone`.
    pub fn idempotent(self) -> Run<'a, C, S, Idempotent> {
        self.with_retries()
    }

    /// Runs the statement on one server, without re-running it elsewhere if that server
    /// fails mid-statement: for statements that are not `Clone` (boxed queries).
    pub fn once(self) -> Run<'a, C, S, RunOnce> {
        self.with_retries()
    }

    fn with_retries<N>(self) -> Run<'a, C, S, N> {
        Run {
            sharded: self.sharded,
            statement: self.statement,
            options: self.options,
            _retries: PhantomData,
        }
    }
}

impl<'a, C: ShardConnection, S: RoutedStatement, M> Run<'a, C, S, M>
where
    S::Query: StatementKind,
{
    /// All rows of a routed select: `Vec<U>`, or [`super::PerShard<Vec<U>>`] on all shards.
    pub async fn load<U>(self) -> Result<Output<S, Vec<U>>>
    where
        Load<U>: Operation<C, S::Query, Output = Vec<U>>,
        U: Send,
        M: Retries<S::Query, <S::Query as StatementKind>::Kind>,
    {
        self.sharded
            .run_statement::<S, _, M>(self.statement, Load::new(), self.options)
            .await
    }

    /// Exactly one row (an error satisfying [`Error::is_not_found`](crate::Error::is_not_found) when none; see
    /// [`crate::OptionalExt`]).
    pub async fn get_result<U>(self) -> Result<Output<S, U>>
    where
        GetResult<U>: Operation<C, S::Query, Output = U>,
        U: Send,
        M: Retries<S::Query, <S::Query as StatementKind>::Kind>,
    {
        self.sharded
            .run_statement::<S, _, M>(self.statement, GetResult::new(), self.options)
            .await
    }

    /// The first row (`LIMIT 1`).
    pub async fn first<U>(self) -> Result<Output<S, U>>
    where
        First<U>: Operation<C, S::Query, Output = U>,
        U: Send,
        M: Retries<S::Query, <S::Query as StatementKind>::Kind>,
    {
        self.sharded
            .run_statement::<S, _, M>(self.statement, First::new(), self.options)
            .await
    }

    /// Runs an insert, update, delete (or any statement) and returns the affected rows.
    pub async fn execute(self) -> Result<Output<S, usize>>
    where
        Execute: Operation<C, S::Query, Output = usize>,
        M: Retries<S::Query, <S::Query as StatementKind>::Kind>,
    {
        self.sharded
            .run_statement::<S, _, M>(self.statement, Execute, self.options)
            .await
    }
}

crate::opaque_debug::opaque_debug!(['a, C: ShardConnection, S, M] Run<'a, C, S, M>, "Run");
