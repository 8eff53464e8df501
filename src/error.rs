//! The one error type of grant. Every variant names what was involved: the table, the key,
//! and (for sharding) the shard.

use crate::key::KeyParseError;

/// What went wrong in a grant operation.
///
/// Database errors that grant can explain are mapped to their own variant: a unique violation
/// on insert is [`Error::DuplicateKey`], a missing row asked for by key is [`Error::NotFound`].
/// Everything else the server said is kept whole in [`Error::Query`].
///
/// ```
/// let err = grant::Error::NotFound { table: "order_items", key: "1:2".into() };
/// assert_eq!(err.to_string(), "no row of `order_items` has key 1:2");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No row has this key (from `find_or_error`, Grant's `find!`).
    #[error("no row of `{table}` has key {key}")]
    NotFound {
        /// The table that was searched (its SQL name).
        table: &'static str,
        /// The key, printed as `a:b` (see [`crate::key::CompositeKey`]).
        key: String,
    },
    /// An insert hit a row that already has this key (the server's unique violation, mapped;
    /// never a racy pre-check).
    #[error("a row of `{table}` with key {key} already exists{}", constraint_suffix(.constraint))]
    DuplicateKey {
        /// The table inserted into.
        table: &'static str,
        /// The duplicated key as `a:b`, or as the server described it for batch inserts.
        key: String,
        /// The violated constraint, when the server names it.
        constraint: Option<String>,
    },
    /// A write left a child row without its parent: the server's foreign-key violation,
    /// mapped.
    #[error("row {key} of `{table}` references a parent that does not exist{}{}", references.as_ref().map(|r| format!(" (key {r})")).unwrap_or_default(), constraint_suffix(.constraint))]
    ForeignKeyViolation {
        /// The child table written to.
        table: &'static str,
        /// The key of the row written, as `a:b` (`?` when the server did not say, in batches).
        key: String,
        /// The violated constraint, when the server names it (PostgreSQL and MySQL do;
        /// SQLite does not).
        constraint: Option<String>,
        /// The referenced (missing) parent key, when the server reports it (PostgreSQL).
        references: Option<String>,
    },
    /// A key given as text (from a URL or a log) did not parse.
    #[error(transparent)]
    KeyParse(#[from] KeyParseError),
    /// A statement on a shard failed (the server's error, kept whole).
    #[error("statement{} on shard `{shard}` failed: {source}", table.map(|t| format!(" on `{t}`")).unwrap_or_default())]
    ShardQuery {
        /// The shard's name.
        shard: String,
        /// The table, when the statement was routed by one of its keys.
        table: Option<&'static str>,
        /// What diesel or the server reported.
        #[source]
        source: diesel::result::Error,
    },
    /// No shard has this name or id.
    #[error("no shard {shard} in the topology (shards: {known})")]
    UnknownShard {
        /// The shard asked for.
        shard: String,
        /// The shards there are.
        known: String,
    },
    /// The strategy could not route a key of this table.
    #[error("cannot route a key of `{table}`: {source}")]
    KeyNotRoutable {
        /// The table.
        table: &'static str,
        /// The strategy's reason, with the key.
        #[source]
        source: crate::shard::RouteError,
    },
    /// No strategy routes this table: the topology has no default strategy and none for it.
    #[error(
        "no shard strategy for table `{table}`: give the topology a default strategy or one for this table"
    )]
    NoStrategy {
        /// The table.
        table: &'static str,
    },
    /// A shard could not give a connection: it is down or refuses connections. Nothing
    /// ran, so a write that fails this way was not applied.
    #[error("shard `{shard}` is unavailable: {cause}")]
    ShardUnavailable {
        /// The shard's name.
        shard: String,
        /// Why (the connection error).
        cause: String,
    },
    /// An invariant of grant itself did not hold (a bug in grant, reported as an error
    /// rather than a panic): `what` says which.
    #[error("internal error in grant ({what}); please report it")]
    Internal {
        /// The invariant.
        what: &'static str,
    },
    /// A write failed before it reached the primary, or the primary refused it as
    /// read-only: it was certainly not applied, and may be retried.
    #[error("write on shard `{shard}` was not applied: {cause}")]
    WriteNotApplied {
        /// The shard's name.
        shard: String,
        /// Why.
        cause: String,
    },
    /// The primary's connection failed while the write ran: it may or may not have been
    /// applied (grant never retries it unless it was marked idempotent).
    #[error("write on shard `{shard}` has an unknown outcome (it may have been applied): {cause}")]
    WriteOutcomeUnknown {
        /// The shard's name.
        shard: String,
        /// What failed.
        cause: String,
    },
    /// No connection of the shard's pool came free in time.
    #[error("timed out after {waited:?} waiting for a connection to shard `{shard}`")]
    PoolTimeout {
        /// The shard's name.
        shard: String,
        /// How long the pool waited (its `connection_timeout`).
        waited: std::time::Duration,
    },
    /// Inside a single-shard transaction, a statement was routed to another shard (or to
    /// every shard).
    #[error(
        "the transaction runs on shard `{transaction_shard}`, but the statement is routed to {statement_route}"
    )]
    CrossShardInTransaction {
        /// The shard of the transaction.
        transaction_shard: String,
        /// Where the statement was routed.
        statement_route: String,
    },
    /// An update would change a shard-key column, which would leave the row on the wrong
    /// shard.
    #[error(
        "cannot update shard-key column `{column}` of `{table}`: shard keys are immutable (delete and insert the row instead)"
    )]
    ShardKeyImmutable {
        /// The table.
        table: &'static str,
        /// The shard-key column the update sets.
        column: &'static str,
    },
    /// A shard cannot take part in a transaction across shards: SQLite, or a PostgreSQL
    /// server that does not allow prepared transactions. Nothing was written.
    #[error("shard `{shard}` cannot take part in a transaction across shards: {reason}")]
    TwoPhaseUnavailable {
        /// The shard (or shards).
        shard: String,
        /// Why, and what to change.
        reason: String,
    },
    /// A transaction across shards was rolled back on every shard.
    #[error("transaction {id} across shards was rolled back on every shard: {cause}")]
    TransactionAborted {
        /// The distributed transaction's id.
        id: String,
        /// Why.
        cause: String,
    },
    /// The outcome of a transaction across shards could not be read back after a failure;
    /// [`crate::Sharded::recover_in_doubt`] settles it (all shards commit or none does).
    #[error(
        "transaction {id} across shards is in doubt: its decision on shard `{shard}` could not be read ({cause}); recover_in_doubt() settles it"
    )]
    TransactionInDoubt {
        /// The distributed transaction's id.
        id: String,
        /// The shard that holds its decision.
        shard: String,
        /// Why it could not be read.
        cause: String,
    },
    /// A write of a reference table failed on one shard, so no shard took it (all the
    /// copies are as they were); `source` is that shard's error.
    #[error(
        "the write of reference table `{table}` failed on shard `{shard}`, so no shard took it: {source}"
    )]
    ReferenceWrite {
        /// The reference table.
        table: &'static str,
        /// The shard that failed.
        shard: String,
        /// Its error.
        source: Box<Error>,
    },
    /// A live topology's control database refused a topology, could not be reached, or
    /// holds nothing under the name (see [`crate::live`]).
    #[error("topology `{name}` (control database): {cause}")]
    Control {
        /// The topology's name.
        name: String,
        /// What was wrong.
        cause: String,
    },
    /// A publish named another version than the one stored: someone published first.
    #[error(
        "topology `{name}` is at version {found}, not {expected}: read it again, re-apply the change and publish after version {found}"
    )]
    TopologyVersionConflict {
        /// The topology's name.
        name: String,
        /// The version the publish replaces.
        expected: u64,
        /// The version stored.
        found: u64,
    },
    /// A migration failed (names the database and the migration).
    #[error(transparent)]
    Migration(crate::migrate::MigrationError),
    /// A merged aggregate overflowed its type.
    #[error("cannot merge `{aggregate}` across shards: {reason}")]
    AggregateOverflow {
        /// The aggregate (`count`, `sum`, `avg`).
        aggregate: &'static str,
        /// What overflowed.
        reason: String,
    },
    /// A statement did not finish within its timeout (see
    /// [`ShardedBuilder::statement_timeout`](crate::ShardedBuilder::statement_timeout)): grant
    /// stopped waiting, discarded the connection and, on PostgreSQL, asked the server to
    /// cancel the statement. A read that timed out on a replica was tried on the next node
    /// first; a write that timed out is [`Error::WriteOutcomeUnknown`] instead.
    #[error("statement on shard `{shard}` ({node}) did not finish within {after:?}")]
    StatementTimeout {
        /// The shard's name.
        shard: String,
        /// The node it ran on (`primary`, `replica 1`, ..).
        node: String,
        /// The timeout.
        after: std::time::Duration,
    },
    /// A shard did not answer a scatter query in time.
    #[error("shard `{shard}` did not answer within {after:?}")]
    ShardTimeout {
        /// The shard's name.
        shard: String,
        /// The per-shard timeout.
        after: std::time::Duration,
    },
    /// The topology (code or TOML) is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A database error outside any one table (for example while committing).
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    /// Any other database error, with the table it happened on.
    #[error("query on `{table}` failed: {source}")]
    Query {
        /// The table the statement was about.
        table: &'static str,
        /// What diesel or the server reported.
        #[source]
        source: diesel::result::Error,
    },
}

fn constraint_suffix(constraint: &Option<String>) -> String {
    match constraint {
        Some(c) => format!(" (constraint `{c}`)"),
        None => String::new(),
    }
}

impl Error {
    /// The variant's name (`ShardUnavailable`, `StatementTimeout`, ..): a low-cardinality
    /// error class for spans (`error.type`) and metrics.
    ///
    /// ```
    /// let e = grant::Error::WriteNotApplied { shard: "s0".into(), cause: "read-only".into() };
    /// assert_eq!(e.kind_name(), "WriteNotApplied");
    /// ```
    pub fn kind_name(&self) -> &'static str {
        match self {
            Error::NotFound { .. } => "NotFound",
            Error::DuplicateKey { .. } => "DuplicateKey",
            Error::ForeignKeyViolation { .. } => "ForeignKeyViolation",
            Error::KeyParse(_) => "KeyParse",
            Error::ShardQuery { .. } => "ShardQuery",
            Error::UnknownShard { .. } => "UnknownShard",
            Error::KeyNotRoutable { .. } => "KeyNotRoutable",
            Error::NoStrategy { .. } => "NoStrategy",
            Error::ShardUnavailable { .. } => "ShardUnavailable",
            Error::Internal { .. } => "Internal",
            Error::WriteNotApplied { .. } => "WriteNotApplied",
            Error::WriteOutcomeUnknown { .. } => "WriteOutcomeUnknown",
            Error::PoolTimeout { .. } => "PoolTimeout",
            Error::CrossShardInTransaction { .. } => "CrossShardInTransaction",
            Error::ShardKeyImmutable { .. } => "ShardKeyImmutable",
            Error::Migration(_) => "Migration",
            Error::AggregateOverflow { .. } => "AggregateOverflow",
            Error::StatementTimeout { .. } => "StatementTimeout",
            Error::ShardTimeout { .. } => "ShardTimeout",
            Error::Config(_) => "Config",
            Error::Database(_) => "Database",
            Error::Query { .. } => "Query",
            Error::TwoPhaseUnavailable { .. } => "TwoPhaseUnavailable",
            Error::TransactionAborted { .. } => "TransactionAborted",
            Error::TransactionInDoubt { .. } => "TransactionInDoubt",
            Error::ReferenceWrite { .. } => "ReferenceWrite",
            Error::Control { .. } => "Control",
            Error::TopologyVersionConflict { .. } => "TopologyVersionConflict",
        }
    }

    /// Whether this is a "no row" error: [`Error::NotFound`], or diesel's `NotFound` from a
    /// `get_result`/`first` that matched nothing.
    ///
    /// ```
    /// assert!(grant::Error::Database(diesel::result::Error::NotFound).is_not_found());
    /// ```
    pub fn is_not_found(&self) -> bool {
        match self {
            Error::NotFound { .. } => true,
            Error::ShardQuery { source, .. }
            | Error::Query { source, .. }
            | Error::Database(source) => {
                matches!(source, diesel::result::Error::NotFound)
            }
            _ => false,
        }
    }

    /// Whether the shard could not answer at all (down, its pool exhausted, the statement
    /// timed out on every node), as opposed to answering with an error.
    pub(crate) fn shard_could_not_answer(&self) -> bool {
        matches!(
            self,
            Error::ShardUnavailable { .. }
                | Error::PoolTimeout { .. }
                | Error::StatementTimeout { .. }
        )
    }

    /// Whether a write that failed with this error was certainly not applied, so that
    /// running it again cannot apply it twice: no connection was had
    /// ([`Error::ShardUnavailable`], [`Error::PoolTimeout`]), the
    /// server refused it ([`Error::WriteNotApplied`]), or grant refused it before it ran.
    /// [`Error::WriteOutcomeUnknown`] is the case where this is `false` and the write may
    /// have been applied.
    ///
    /// ```
    /// let e = grant::Error::WriteNotApplied { shard: "s0".into(), cause: "read-only".into() };
    /// assert!(e.write_not_applied());
    /// let e = grant::Error::WriteOutcomeUnknown { shard: "s0".into(), cause: "reset".into() };
    /// assert!(!e.write_not_applied());
    /// ```
    pub fn write_not_applied(&self) -> bool {
        matches!(
            self,
            Error::ShardUnavailable { .. }
                | Error::PoolTimeout { .. }
                | Error::WriteNotApplied { .. }
                | Error::UnknownShard { .. }
                | Error::KeyNotRoutable { .. }
                | Error::NoStrategy { .. }
                | Error::ShardKeyImmutable { .. }
                | Error::CrossShardInTransaction { .. }
                | Error::TwoPhaseUnavailable { .. }
                | Error::TransactionAborted { .. }
                | Error::DuplicateKey { .. }
                | Error::ForeignKeyViolation { .. }
        ) || matches!(self, Error::ReferenceWrite { source, .. } if source.write_not_applied())
    }
}

/// `.optional()` on grant results: a "no row" error becomes `Ok(None)`, like diesel's
/// `OptionalExtension`.
///
/// ```
/// use grant::OptionalExt;
/// let r: grant::Result<i32> = Err(grant::Error::NotFound { table: "t", key: "1".into() });
/// assert_eq!(r.optional().ok(), Some(None));
/// ```
pub trait OptionalExt<T> {
    /// `Ok(Some(v))`, `Ok(None)` for "no row", or the error.
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExt<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// `Result` with grant's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
