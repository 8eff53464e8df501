//! Where a handle's topology comes from, and what its watcher last saw.

use super::LiveStatus;
use crate::config::Topology;
use std::sync::Mutex;
use std::time::SystemTime;

/// Fixed (the default), or watched in a control database.
#[derive(Default)]
pub(crate) struct Source {
    live: Mutex<Option<Watched>>,
    /// Serializes the taking of new versions (the watcher and
    /// [`crate::Sharded::refresh_topology`]).
    pub(crate) applying: tokio::sync::Mutex<()>,
}

struct Watched {
    status: LiveStatus,
    /// The topology the handle took last: a new version is checked against it.
    applied: Topology,
}

impl Source {
    /// Marks the handle as following `status.name`, built from `applied`.
    pub(crate) fn follow(&self, status: LiveStatus, applied: Topology) {
        *self.lock() = Some(Watched { status, applied });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Watched>> {
        // A panic while holding it cannot leave the state half-written (each write is one
        // assignment), so a poisoned lock is still good to read.
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The state, `None` for a fixed topology.
    pub(crate) fn status(&self) -> Option<LiveStatus> {
        self.lock().as_ref().map(|w| w.status.clone())
    }

    /// The topology taken last.
    pub(crate) fn applied(&self) -> Option<Topology> {
        self.lock().as_ref().map(|w| w.applied.clone())
    }

    /// The control database answered.
    pub(crate) fn reached(&self) {
        if let Some(w) = self.lock().as_mut() {
            if let Some(since) = w.status.unreachable_since.take() {
                tracing::info!(
                    topology = %w.status.name,
                    down_for = ?since.elapsed().unwrap_or_default(),
                    "the control database answers again"
                );
            }
            w.status.last_read = Some(SystemTime::now());
            w.status.last_error = None;
        }
    }

    /// The control database did not answer: the handle keeps its topology.
    pub(crate) fn unreachable(&self, error: String) {
        if let Some(w) = self.lock().as_mut() {
            if w.status.unreachable_since.is_none() {
                tracing::warn!(
                    topology = %w.status.name,
                    %error,
                    "the control database cannot be reached: serving with the last topology"
                );
                w.status.unreachable_since = Some(SystemTime::now());
            }
            w.status.last_error = Some(error);
        }
    }

    /// Version `version` was taken.
    pub(crate) fn took(&self, version: u64, applied: Topology) {
        if let Some(w) = self.lock().as_mut() {
            w.applied = applied;
            if w.status
                .refused
                .as_ref()
                .is_some_and(|(v, _)| *v <= version)
            {
                w.status.refused = None;
            }
        }
    }

    /// Version `version` could not be taken.
    pub(crate) fn refused(&self, version: u64, reason: String) {
        if let Some(w) = self.lock().as_mut() {
            if w.status.refused.as_ref().map(|(v, _)| *v) != Some(version) {
                tracing::error!(
                    topology = %w.status.name,
                    version,
                    %reason,
                    "a topology version was refused: serving with the last one"
                );
            }
            w.status.refused = Some((version, reason));
        }
    }
}
