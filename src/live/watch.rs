//! The task that keeps a handle's topology current.

use super::Control;
use super::apply::take;
use crate::cluster::ShardConnection;
use crate::{Result, Sharded};
use std::sync::Arc;
use std::time::Duration;

/// How a handle follows its control database.
///
/// ```
/// use std::time::Duration;
/// let options = grant::live::WatchOptions::default().poll(Duration::from_millis(250));
/// assert_eq!(options.poll, Duration::from_millis(250));
/// assert!(options.listen);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WatchOptions {
    /// How often the handle reads the version (default 1 s): the longest a new version
    /// takes to reach a handle that missed its notification or does not listen.
    pub poll: Duration,
    /// On PostgreSQL, also `LISTEN` for publishes, to take them at once (default `true`).
    pub listen: bool,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            poll: Duration::from_secs(1),
            listen: true,
        }
    }
}

crate::cluster::settings::setters!(WatchOptions {
    /// How often the handle reads the version.
    poll: Duration,
    /// On PostgreSQL, also `LISTEN` for publishes.
    listen: bool,
});

/// Reads the control database once and takes a newer version if there is one.
pub(crate) async fn read_once<C: ShardConnection>(
    sharded: &Sharded<C>,
    control: &Control<C>,
) -> Result<u64> {
    let source = sharded.source();
    let _one_at_a_time = source.applying.lock().await;
    let current = sharded.routing().version();
    let newer = match control.newer_than(current).await {
        Ok(newer) => newer,
        Err(e) => {
            source.unreachable(e.to_string());
            crate::cluster::metrics_topology(control.name(), current, false);
            return Err(e);
        }
    };
    source.reached();
    crate::cluster::metrics_topology(control.name(), current, true);
    let Some(published) = newer else {
        return Ok(current);
    };
    match take(sharded, &published) {
        Ok(()) => Ok(published.version),
        Err(e) => {
            source.refused(published.version, e.to_string());
            Err(e)
        }
    }
}

/// Spawns the watcher of `sharded`: it ends when the last copy of the handle is dropped.
pub(crate) fn spawn<C: ShardConnection>(
    sharded: &Sharded<C>,
    control: Control<C>,
    options: WatchOptions,
) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("no tokio runtime: the topology is not watched");
        return;
    };
    let weak = sharded.downgrade();
    sharded.set_control(control.clone());
    runtime.spawn(async move {
        let wake = Arc::new(tokio::sync::Notify::new());
        let mut listener: Option<tokio::task::JoinHandle<()>> = None;
        loop {
            if options.listen && listener.as_ref().is_none_or(|l| l.is_finished()) {
                listener = C::listen(control.url(), super::control::CHANNEL, wake.clone());
            }
            tokio::select! {
                () = tokio::time::sleep(options.poll) => {}
                () = wake.notified() => {}
            }
            let Some(sharded) = weak.upgrade() else { break };
            // Errors are in the handle's status and the log.
            let _ = read_once(&sharded, &control).await;
        }
        if let Some(listener) = listener {
            listener.abort();
        }
    });
}
