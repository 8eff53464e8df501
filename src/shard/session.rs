//! Read-your-writes per session: what one client (a user, a request chain) wrote, kept
//! apart from the handle's other clients, and carried across processes as a
//! [`CausalToken`].

use super::CausalToken;
use crate::cluster::Position;
use crate::cluster::ReadYourWrites;
use crate::cluster::written::{ReadFloor, Written};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// A read-your-writes session. Without one, a write through a [`crate::Sharded`] handle
/// holds back every read of that handle on the shard (see
/// [`crate::cluster::ReadYourWrites`]); in one (`shards.in_session(&session)`, or
/// `.in_session(&session)` on one statement), only the session's own writes hold back the
/// session's own reads.
///
/// Under the default [`ReadYourWrites::Causal`], a session keeps the replication position
/// of its last write per shard; [`Session::token`] gives it as a [`CausalToken`] to hand to
/// the client (a cookie, a header), and [`Session::from_token`] resumes it in the next
/// request, on any process. Cheap to clone: clones share their writes.
///
/// ```
/// use grant::shard::{CausalToken, Session};
/// let session = Session::from_token(&"s0=0/3000148".parse()?);
/// assert_eq!(session.token().to_string(), "s0=0/3000148");
/// session.record_write("s1");
/// assert!(session.wrote_recently("s1", std::time::Duration::from_secs(2)));
/// # Ok::<(), grant::shard::TokenParseError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Session {
    shards: Arc<Mutex<BTreeMap<String, Written>>>,
}

impl Session {
    /// A session without writes.
    ///
    /// ```
    /// assert!(grant::shard::Session::new().token().is_empty());
    /// ```
    pub fn new() -> Self {
        Session::default()
    }

    /// A session that must see the writes `token` records (a previous request's
    /// [`Session::token`]).
    ///
    /// ```
    /// let s = grant::shard::Session::from_token(&"s0=0/10".parse()?);
    /// assert_eq!(s.token().to_string(), "s0=0/10");
    /// # Ok::<(), grant::shard::TokenParseError>(())
    /// ```
    pub fn from_token(token: &CausalToken) -> Self {
        let session = Session::new();
        session.observe(token);
        session
    }

    /// Adds the writes `token` records (for instance another request's).
    ///
    /// ```
    /// let s = grant::shard::Session::from_token(&"s0=0/10".parse()?);
    /// s.observe(&"s0=0/5;s1=0/2".parse()?);
    /// assert_eq!(s.token().to_string(), "s0=0/10;s1=0/2");
    /// # Ok::<(), grant::shard::TokenParseError>(())
    /// ```
    pub fn observe(&self, token: &CausalToken) {
        let now = Instant::now();
        let mut shards = self.lock();
        for (shard, position) in token.iter() {
            shards
                .entry(shard.to_owned())
                .or_default()
                .note(Some(position.clone()), now);
        }
    }

    /// The positions of this session's writes, to carry to its next request.
    ///
    /// ```
    /// assert!(grant::shard::Session::new().token().is_empty());
    /// ```
    pub fn token(&self) -> CausalToken {
        let mut token = CausalToken::default();
        for (shard, written) in self.lock().iter() {
            if let Some(position) = &written.position {
                token.advance(shard, position.clone());
            }
        }
        token
    }

    /// Notes a write to `shard` whose position is unknown: reads of the shard go to the
    /// primary for the window ([`ReadYourWrites::Window`], or 2 s under
    /// [`ReadYourWrites::Causal`]). grant calls it; call it for writes made outside grant.
    ///
    /// ```
    /// let s = grant::shard::Session::new();
    /// s.record_write("s0");
    /// assert!(s.wrote_recently("s0", std::time::Duration::from_secs(2)));
    /// ```
    pub fn record_write(&self, shard: &str) {
        self.note(shard, None);
    }

    /// Whether this session made a write of unknown position to `shard` within `window`.
    ///
    /// ```
    /// assert!(!grant::shard::Session::new().wrote_recently("s0", std::time::Duration::MAX));
    /// ```
    pub fn wrote_recently(&self, shard: &str, window: Duration) -> bool {
        self.lock()
            .get(shard)
            .and_then(|w| w.unplaced)
            .is_some_and(|at| at.elapsed() < window)
    }

    /// Notes a write to `shard` that left `position` (`None`: unknown).
    pub(crate) fn note(&self, shard: &str, position: Option<Position>) {
        let now = Instant::now();
        let mut shards = self.lock();
        match shards.get_mut(shard) {
            Some(written) => written.note(position, now),
            None => {
                let mut written = Written::default();
                written.note(position, now);
                shards.insert(shard.to_owned(), written);
            }
        }
    }

    /// Where this session's next read of `shard` may go.
    pub(crate) fn floor(&self, shard: &str, mode: ReadYourWrites) -> ReadFloor {
        self.lock()
            .get(shard)
            .map_or(ReadFloor::Any, |w| w.floor(mode, Instant::now()))
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Written>> {
        self.shards.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
