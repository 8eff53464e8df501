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
    /// A key given as text (from a URL or a log) did not parse.
    #[error(transparent)]
    KeyParse(#[from] KeyParseError),
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

/// `Result` with grant's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
