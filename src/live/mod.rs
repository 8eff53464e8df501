//! A live topology: the topology kept in a **control database** with a version number, and
//! handles that follow it while they serve.
//!
//! - [`Control`] reads and publishes a named topology (the same TOML as
//!   [`crate::Topology`]) in the control database's `grant_topology` table. A publish is a
//!   compare-and-set on the version: it names the version it replaces and fails with
//!   [`crate::Error::TopologyVersionConflict`] when another publisher came first. Before it
//!   stores anything it checks the topology as a handle would take it (strategies build,
//!   shards are only appended), so a handle never meets a topology it must refuse.
//! - [`Control::connect`] builds a [`crate::Sharded`] from the current version and watches
//!   the control database: every [`WatchOptions::poll`] interval, and at once on PostgreSQL,
//!   where a publish sends `NOTIFY grant_topology` and the handle `LISTEN`s. A new version
//!   adds its new shards' pools (lazily connected) and then replaces the routing in one
//!   atomic swap: a statement routes with the routing it loaded when it started, so
//!   statements in flight finish where they were sent and none is dropped.
//! - The control database is not needed for traffic: when it cannot be reached, the handle
//!   keeps the last topology it saw, logs it, and says so in
//!   [`crate::Sharded::topology_status`] (and the `grant_topology_control_reachable` gauge).
//! - A fixed topology (code or TOML) is version 0 and is never watched.
//!
//! What a new version may change: strategies, per-table settings and bucket maps, and new
//! shards appended at the end. Changing or reordering an existing shard, or the pool,
//! replica, health, timeout or session settings, needs the processes restarted; a publish
//! that does is refused ([`crate::Error::Control`]).

mod apply;
mod control;
mod source;
mod status;
mod watch;

pub use control::{Control, Published};
pub(crate) use source::Source;
pub use status::{LiveStatus, TopologyStatus};
pub use watch::WatchOptions;
pub(crate) use watch::read_once;
