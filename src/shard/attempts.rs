//! Where each attempt of a statement comes from. A read whose server fails mid-statement is
//! re-run on the next server, which needs the statement again: a clone of it, or a fresh
//! one built by a closure. A statement that cannot be cloned runs once.

use super::access::{ReadKind, WriteKind};

/// Gives the statement for each attempt; `None` when it cannot be given again.
#[doc(hidden)]
pub trait Attempts<Q> {
    /// The statement for the next attempt; `last` when no attempt can follow it (the last
    /// candidate server), so that the statement itself can be handed over uncloned.
    fn next_attempt(&mut self, last: bool) -> Option<Q>;
}

/// The statement, once.
#[doc(hidden)]
pub struct Once<Q>(pub(crate) Option<Q>);

impl<Q> Attempts<Q> for Once<Q> {
    fn next_attempt(&mut self, _last: bool) -> Option<Q> {
        self.0.take()
    }
}

/// A clone of the statement for every attempt but the last, which gets the statement.
#[doc(hidden)]
pub struct Cloning<Q>(pub(crate) Option<Q>);

impl<Q: Clone> Attempts<Q> for Cloning<Q> {
    fn next_attempt(&mut self, last: bool) -> Option<Q> {
        if last { self.0.take() } else { self.0.clone() }
    }
}

/// A statement built afresh by a closure for every attempt.
#[doc(hidden)]
pub struct Fresh<F>(pub(crate) F);

impl<Q, F: FnMut() -> Q> Attempts<Q> for Fresh<F> {
    fn next_attempt(&mut self, _last: bool) -> Option<Q> {
        Some((self.0)())
    }
}

/// How a [`super::Run`] may re-run its statement. The default, [`Rerun`], re-runs a read
/// on the next server when its server fails mid-statement (so the read must be `Clone`,
/// which Diesel's statements are, boxed ones aside) and runs a write once;
/// [`RunOnce`] (`.once()`) runs anything once; [`Idempotent`] (`.idempotent()`) may re-run
/// a write on the new primary after a failover.
///
/// ```
/// # use grant::__doc_schema::{order_items, two_sqlite_shards};
/// use grant::prelude::*;
/// # #[tokio::main]
/// # async fn main() -> grant::Result<()> {
/// # let (shards, _dir) = two_sqlite_shards().await;
/// // A boxed query is not `Clone`: run it once.
/// let boxed = order_items::table.select(order_items::order_id).into_boxed();
/// let ids: Vec<i64> = shards.run(boxed.on_shard("s0")).once().load().await?;
/// assert!(ids.is_empty());
/// # Ok(())
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "grant re-runs a read on another server when its server fails, so it needs to clone `{Q}`",
    label = "this statement is not `Clone`",
    note = "boxed queries are not `Clone`: call `.once()` before `.load()` to run it on one server without retries"
)]
pub trait Retries<Q, K>: Send + Sync {
    /// Whether a write may run again after a failover.
    const IDEMPOTENT: bool;
    /// Where the attempts come from.
    #[doc(hidden)]
    type Source: Attempts<Q> + Send;
    #[doc(hidden)]
    fn attempts(query: Q) -> Self::Source;
}

/// Re-runs reads, runs writes once (the default).
#[derive(Debug, Clone, Copy)]
pub struct Rerun;
/// Runs the statement once.
#[derive(Debug, Clone, Copy)]
pub struct RunOnce;
/// Re-runs reads and writes (the write is idempotent).
#[derive(Debug, Clone, Copy)]
pub struct Idempotent;

impl<Q: Clone + Send> Retries<Q, ReadKind> for Rerun {
    const IDEMPOTENT: bool = false;
    type Source = Cloning<Q>;
    fn attempts(query: Q) -> Cloning<Q> {
        Cloning(Some(query))
    }
}

impl<Q: Send> Retries<Q, WriteKind> for Rerun {
    const IDEMPOTENT: bool = false;
    type Source = Once<Q>;
    fn attempts(query: Q) -> Once<Q> {
        Once(Some(query))
    }
}

impl<Q: Send, K> Retries<Q, K> for RunOnce {
    const IDEMPOTENT: bool = false;
    type Source = Once<Q>;
    fn attempts(query: Q) -> Once<Q> {
        Once(Some(query))
    }
}

impl<Q: Clone + Send, K> Retries<Q, K> for Idempotent {
    const IDEMPOTENT: bool = true;
    type Source = Cloning<Q>;
    fn attempts(query: Q) -> Cloning<Q> {
        Cloning(Some(query))
    }
}

crate::opaque_debug::opaque_debug!([Q] Once<Q>, "Once");
crate::opaque_debug::opaque_debug!([Q] Cloning<Q>, "Cloning");
