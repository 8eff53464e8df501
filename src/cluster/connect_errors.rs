//! Connection failures of one node's pool, as they happen.
//!
//! bb8 never hands a failed connection attempt to the caller waiting in `get()`: the caller
//! waits out `connection_timeout` while the error goes to the pool's error sink. Grant gives
//! each pool a sink that records the error and wakes the callers waiting on that node, so
//! that a checkout from a server that refuses connections fails in milliseconds (and the
//! read moves on to the next server, the write looks for the new primary) instead of
//! seconds.

use diesel_async::pooled_connection::PoolError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Notify;

/// The latest connection failure of a node, and the callers to wake on the next.
#[derive(Debug, Default)]
pub(crate) struct ConnectErrors {
    notify: Notify,
    last: Mutex<Option<String>>,
    count: AtomicU64,
}

impl ConnectErrors {
    /// Wakes the callers waiting on the node with `error`.
    fn record(&self, error: String) {
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(error);
        self.count.fetch_add(1, Ordering::AcqRel);
        self.notify.notify_waiters();
    }

    /// How many failures were recorded so far: a caller compares it before and after it
    /// starts waiting on [`ConnectErrors::next_failure`], so that no failure in between is
    /// missed.
    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Acquire)
    }

    /// The latest failure.
    pub(crate) fn last(&self) -> String {
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_else(|| "connection failed".to_owned())
    }

    /// Resolves at the next failure recorded after it was created (and enabled).
    pub(crate) fn next_failure(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }
}

/// The bb8 error sink that feeds [`ConnectErrors`].
#[derive(Debug, Clone)]
pub(crate) struct Sink(pub(crate) Arc<ConnectErrors>);

impl bb8::ErrorSink<PoolError> for Sink {
    fn sink(&self, error: PoolError) {
        let error = crate::redact::redact(&error.to_string()).into_owned();
        tracing::debug!(%error, "connection attempt failed");
        self.0.record(error);
    }

    fn boxed_clone(&self) -> Box<dyn bb8::ErrorSink<PoolError>> {
        Box::new(self.clone())
    }
}
