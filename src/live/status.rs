//! What a handle knows of its topology's source ([`crate::Sharded::topology_status`]).

use std::time::{Duration, SystemTime};

/// A handle's topology version and, for a live topology, the state of its control
/// database.
///
/// ```
/// # use grant::__doc_schema::two_sqlite_shards;
/// # #[tokio::main]
/// # async fn main() {
/// # let (shards, _dir) = two_sqlite_shards().await;
/// let status = shards.topology_status();
/// assert_eq!(status.version, 0);
/// assert!(status.live.is_none()); // a fixed topology
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyStatus {
    /// The version the handle routes with (0: a fixed topology).
    pub version: u64,
    /// `None` for a fixed topology.
    pub live: Option<LiveStatus>,
}

/// The control database as a handle last saw it.
///
/// ```
/// let status = grant::live::LiveStatus::default();
/// assert!(status.reachable());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveStatus {
    /// The topology's name in the control database.
    pub name: String,
    /// The control database (its URL without password).
    pub control: String,
    /// How often the handle reads the version.
    pub poll: Duration,
    /// When the handle last read the control database.
    pub last_read: Option<SystemTime>,
    /// Since when the control database has been unreachable (`None`: it answered last time).
    pub unreachable_since: Option<SystemTime>,
    /// The last error reading it.
    pub last_error: Option<String>,
    /// A version the handle could not take, and why (it keeps the one before).
    pub refused: Option<(u64, String)>,
}

impl LiveStatus {
    /// Whether the control database answered the last read.
    pub fn reachable(&self) -> bool {
        self.unreachable_since.is_none()
    }
}
