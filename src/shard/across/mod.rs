//! Transactions across shards: two-phase commit with a decision that cannot split.
//!
//! In a [`CrossTransaction`] ([`Sharded::transaction_across`]), each statement runs on its shard's primary in
//! that shard's branch of one distributed transaction (PostgreSQL: a transaction later
//! `PREPARE`d; MySQL / MariaDB: an XA branch). At the end:
//!
//! 1. one shard touched: it commits, one phase;
//! 2. otherwise every shard but the first one touched (the **decider**) prepares; a failed
//!    prepare rolls everything back;
//! 3. the decider inserts `(id, 'commit')` into its `grant_2pc_decisions` table **in its own
//!    transaction** and commits it: that commit is the decision;
//! 4. the prepared branches commit.
//!
//! A recovery ([`Sharded::recover_in_doubt`]) that finds a prepared branch without a decision
//! inserts `(id, 'abort')` on the decider. The primary key makes the two inserts exclusive:
//! while the coordinator's transaction holding `'commit'` is open, the recovery's insert
//! waits for it; if the recovery's `'abort'` lands first, the coordinator's insert fails and
//! it rolls back. So a recovery never decides differently from a coordinator that is still
//! alive, however slow, and no timeout takes part in the decision.

mod batch;
mod commit;
mod protocol;
mod recover;

pub(crate) use protocol::name_hash;
pub use recover::Recovery;

use super::dispatch::Target;
use super::operation::{Execute, First, GetResult, Load, Operation};
use super::{Route, RoutedStatement, ShardId, Sharded, StatementKind};
use crate::cluster::exec::{StatementTimeout, run_bounded, statement_error};
use crate::cluster::{Cluster, NodeConn, ShardConnection};
use crate::{Error, Result};
use commit::{finish, roll_back};
use protocol::{Dialect, run_all};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// One shard's branch.
struct Branch<'a, C: ShardConnection> {
    shard: ShardId,
    name: Arc<str>,
    hash: String,
    node: Arc<str>,
    conn: NodeConn<'a, C>,
}

/// What a distributed transaction holds while its closure runs.
struct CrossState<'a, C: ShardConnection> {
    sharded: &'a Sharded<C>,
    dialect: Dialect,
    /// Set by the first statement: it names the decider, the first shard touched.
    id: Option<String>,
    branches: Vec<Branch<'a, C>>,
    /// Held from the first branch to the end (see [`Sharded::cross_slot`]).
    slot: Option<tokio::sync::SemaphorePermit<'a>>,
    timeout: StatementTimeout,
    /// A statement timed out: its connection is mid-statement, the transaction can only
    /// roll back.
    broken: bool,
}

/// A transaction across shards (see [`Sharded::transaction_across`]). Each statement goes to
/// the shard its route names, in that shard's branch of the transaction; [`commit`]
/// commits on every shard or none. Dropped without `commit`, it rolls back: its
/// connections are discarded and the servers abort their open branches.
///
/// [`commit`]: CrossTransaction::commit
pub struct CrossTransaction<'a, C: ShardConnection> {
    state: CrossState<'a, C>,
}

impl<'a, C: ShardConnection> CrossState<'a, C> {
    /// The branch of `shard`, begun on first use.
    async fn branch(&mut self, shard: ShardId) -> Result<&mut Branch<'a, C>> {
        if let Some(i) = self.branches.iter().position(|b| b.shard == shard) {
            return Ok(&mut self.branches[i]);
        }
        let sharded: &'a Sharded<C> = self.sharded;
        let cluster = sharded.cluster_by_id(shard)?;
        if self.slot.is_none() {
            self.slot = Some(sharded.cross_slot(cluster).await?);
        }
        let name = cluster.name().clone();
        let (_, node) = cluster.current_primary();
        let hash = name_hash(&name, node.db_namespace());
        let id = self
            .id
            .get_or_insert_with(|| protocol::new_id(&hash))
            .clone();
        let mut conn = node.checkout().await?;
        ready(cluster, self.dialect, conn.conn(), self.timeout).await?;
        bounded(conn.conn(), &[self.dialect.begin(&id, &hash)], self.timeout)
            .await
            .map_err(|e| e.on(&name))?;
        self.branches.push(Branch {
            shard,
            name,
            hash,
            node: Arc::from(node.label()),
            conn,
        });
        let last = self.branches.len() - 1;
        Ok(&mut self.branches[last])
    }
}

/// A failure of grant's own statements of the protocol.
enum ProtocolError {
    Timeout,
    Db(diesel::result::Error),
}

impl ProtocolError {
    fn on(self, shard: &str) -> Error {
        match self {
            ProtocolError::Timeout => Error::ShardUnavailable {
                shard: shard.to_owned(),
                cause: "a two-phase commit statement timed out".into(),
            },
            ProtocolError::Db(e) => statement_error(shard, None, e),
        }
    }
}

/// Runs `statements` on `conn` within `timeout`.
async fn bounded<C: ShardConnection>(
    conn: &mut C,
    statements: &[String],
    timeout: StatementTimeout,
) -> std::result::Result<(), ProtocolError> {
    let run = run_all(conn, statements);
    match timeout {
        StatementTimeout::After(after) => match tokio::time::timeout(after, run).await {
            Ok(result) => result.map_err(ProtocolError::Db),
            Err(_) => Err(ProtocolError::Timeout),
        },
        StatementTimeout::Never => run.await.map_err(ProtocolError::Db),
    }
}

/// Checks once per shard that it can take part (PostgreSQL allows prepared transactions)
/// and that its decision table exists.
async fn ready<C: ShardConnection>(
    cluster: &Cluster<C>,
    dialect: Dialect,
    conn: &mut C,
    timeout: StatementTimeout,
) -> Result<()> {
    if cluster.two_phase_ready.load(Ordering::Relaxed) {
        return Ok(());
    }
    let shard = cluster.name();
    if dialect == Dialect::Postgres {
        let setting = C::texts(
            conn,
            "SELECT current_setting('max_prepared_transactions') AS item".to_owned(),
        )
        .await
        .map_err(|e| statement_error(shard, None, e))?;
        if setting.first().map(String::as_str) == Some("0") {
            return Err(Error::TwoPhaseUnavailable {
                shard: shard.to_string(),
                reason: "the server has max_prepared_transactions = 0: set it above 0 (and as \
                         high on its replicas) to allow prepared transactions"
                    .into(),
            });
        }
    }
    match bounded(conn, &[dialect.create_decisions()], timeout).await {
        Ok(()) => {}
        // Another task or process created it at the same moment (PostgreSQL's `CREATE
        // TABLE IF NOT EXISTS` is not atomic: the loser hits `pg_type`'s unique index).
        Err(ProtocolError::Db(e)) if crate::cluster::created_concurrently(&e) => {}
        Err(e) => return Err(e.on(shard)),
    }
    cluster.two_phase_ready.store(true, Ordering::Relaxed);
    Ok(())
}

impl<'a, C: ShardConnection> CrossTransaction<'a, C> {
    /// The id of the distributed transaction (set once a statement ran).
    pub fn id(&self) -> Option<&str> {
        self.state.id.as_deref()
    }

    /// The shards the transaction has touched so far, in order (the first decides).
    pub fn shards(&self) -> Vec<&str> {
        self.state.branches.iter().map(|b| &*b.name).collect()
    }

    async fn run_statement<S, O>(&mut self, statement: S, op: O) -> Result<O::Output>
    where
        S: RoutedStatement,
        S::Query: StatementKind,
        O: Operation<C, S::Query>,
    {
        let (query, route) = statement.into_parts();
        let routing = self.state.sharded.routing();
        let shard = match route.target(&routing)? {
            Target::One(shard) => shard,
            Target::All => {
                return Err(Error::CrossShardInTransaction {
                    transaction_shard: "(a cross-shard transaction)".into(),
                    statement_route: "every shard: route each statement to one shard".into(),
                });
            }
        };
        super::immutable::check_raw::<S::Query, O, C>(&query, &route)?;
        let access = <S::Query as StatementKind>::ACCESS;
        self.run_op(shard, route.table(), access, op, query).await
    }

    /// Runs `op` on `shard`'s branch.
    pub(crate) async fn run_op<Q, O>(
        &mut self,
        shard: ShardId,
        table: Option<&'static str>,
        access: crate::shard::Access,
        op: O,
        query: Q,
    ) -> Result<O::Output>
    where
        O: Operation<C, Q>,
    {
        if self.state.broken {
            return Err(Error::TransactionAborted {
                id: self.state.id.clone().unwrap_or_default(),
                cause: "an earlier statement timed out".into(),
            });
        }
        let timeout = self.state.timeout;
        let branch = self.state.branch(shard).await?;
        let started = std::time::Instant::now();
        let result = run_bounded(op, query, branch.conn.conn(), timeout).await;
        crate::cluster::metrics_statement(
            &branch.name,
            &branch.node,
            access,
            crate::cluster::Outcome::of(&result),
            started.elapsed(),
        );
        match result {
            Ok(value) => Ok(value),
            Err(Some(e)) => Err(statement_error(&branch.name, table, e)),
            Err(None) => {
                let error = Error::StatementTimeout {
                    shard: branch.name.to_string(),
                    node: branch.node.to_string(),
                    after: timeout.after(),
                };
                self.state.broken = true;
                Err(error)
            }
        }
    }

    /// Prepares a routed statement to run in this transaction, on the shard its route
    /// names: continue with `.load()`, `.get_result()`, `.first()` or `.execute()`.
    pub fn run<S: RoutedStatement>(&mut self, statement: S) -> CrossRun<'_, 'a, C, S>
    where
        S::Query: StatementKind,
    {
        CrossRun {
            tx: self,
            statement,
        }
    }
}

/// A routed statement about to run in a [`CrossTransaction`].
#[must_use = "a statement runs only when `.load()`, `.get_result()`, `.first()` or `.execute()` is awaited"]
pub struct CrossRun<'t, 'a, C: ShardConnection, S> {
    tx: &'t mut CrossTransaction<'a, C>,
    statement: S,
}

super::transaction::tx_run_methods!('_, '_; CrossRun);

impl<C: ShardConnection> Sharded<C> {
    /// Begins a transaction across the shards its statements will touch: every shard
    /// commits or none does (two-phase commit; see the README's design notes). Statements
    /// routed by key (`find_key`, `update_key`, `.for_shard_key(..)`, `.on_shard(..)`) run
    /// on their shards' primaries; one routed to every shard is refused.
    ///
    /// Errors: [`Error::TwoPhaseUnavailable`] for SQLite here, and at a shard's first
    /// statement for a PostgreSQL server with `max_prepared_transactions = 0` (before
    /// anything is written there). [`CrossTransaction::commit`] says what else can happen.
    ///
    /// ```
    /// # use grant::__doc_schema::two_sqlite_shards;
    /// # #[tokio::main]
    /// # async fn main() {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// // SQLite files have no prepared transactions: refused before anything runs.
    /// let refused = shards.transaction_across();
    /// assert!(matches!(refused, Err(grant::Error::TwoPhaseUnavailable { .. })));
    /// # }
    /// ```
    pub fn transaction_across(&self) -> Result<CrossTransaction<'_, C>> {
        let Some(dialect) = Dialect::of(C::BACKEND) else {
            return Err(Error::TwoPhaseUnavailable {
                shard: self.shard_names().join(", "),
                reason: format!(
                    "{} has no prepared transactions: grant does not make its shard files \
                     commit atomically together",
                    C::BACKEND
                ),
            });
        };
        Ok(CrossTransaction {
            state: CrossState {
                sharded: self,
                dialect,
                id: None,
                branches: Vec::new(),
                slot: None,
                timeout: self.statement_timeout(),
                broken: false,
            },
        })
    }
}

impl<C: ShardConnection> CrossTransaction<'_, C> {
    /// Commits on every shard the transaction touched, or on none: one phase for one shard;
    /// otherwise every shard but the first touched prepares, the first records the decision
    /// in its own transaction and commits, and the prepared branches commit.
    ///
    /// Errors (nothing was committed unless said): [`Error::TransactionAborted`] when a
    /// shard failed to prepare (everything rolls back; the cause names the shard), when a
    /// recovery decided first, or when a statement had timed out; [`Error::TransactionInDoubt`] when the decision
    /// could not be read back after a failure ([`Sharded::recover_in_doubt`] settles it).
    /// A branch that cannot commit after the decision stays prepared, is logged, and is
    /// committed by the next recovery: the commit is decided, so this returns `Ok`.
    pub async fn commit(self) -> Result<()> {
        let state = self.state;
        if state.broken {
            let id = state.id.clone().unwrap_or_default();
            roll_back(state, 0).await;
            return Err(Error::TransactionAborted {
                id,
                cause: "a statement timed out".into(),
            });
        }
        let span = tracing::debug_span!(
            "grant.transaction_across",
            id = state.id.as_deref().unwrap_or("-"),
            shards = state.branches.len(),
        );
        tracing::Instrument::instrument(finish(state), span).await
    }

    /// Rolls back on every shard the transaction touched.
    pub async fn rollback(self) {
        roll_back(self.state, 0).await;
    }
}

crate::opaque_debug::opaque_debug!(['a, C: ShardConnection] CrossTransaction<'a, C>, "CrossTransaction");
crate::opaque_debug::opaque_debug!(['t, 'a, C: ShardConnection, S] CrossRun<'t, 'a, C, S>, "CrossRun");
