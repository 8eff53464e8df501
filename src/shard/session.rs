//! Read-your-writes per session: a token the caller keeps (per user, per request chain)
//! instead of the handle-wide default.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A read-your-writes session. Without one, a write through a [`crate::Sharded`] handle
/// sends that handle's reads of the shard to the primary for the shard's
/// `read_your_writes` window; with one (`.in_session(&session)`), only the session's own
/// writes count, for the session's own reads.
///
/// ```
/// let session = grant::shard::Session::new();
/// assert!(!session.wrote_recently("s0", std::time::Duration::from_secs(2)));
/// session.record_write("s0");
/// assert!(session.wrote_recently("s0", std::time::Duration::from_secs(2)));
/// ```
#[derive(Debug, Default)]
pub struct Session {
    writes: Mutex<HashMap<String, Instant>>,
}

impl Session {
    /// A session without writes.
    pub fn new() -> Self {
        Session::default()
    }

    /// Notes a write to `shard`.
    pub fn record_write(&self, shard: &str) {
        let mut writes = self
            .writes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        writes.insert(shard.to_owned(), Instant::now());
    }

    /// Whether this session wrote to `shard` within `window`.
    pub fn wrote_recently(&self, shard: &str, window: Duration) -> bool {
        let writes = self
            .writes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        writes.get(shard).is_some_and(|t| t.elapsed() < window)
    }
}
