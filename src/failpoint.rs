//! Crash points for tests (hidden feature `__failpoints`): when the environment variable
//! `GRANT_CRASH_AT` names a point, the process aborts there, as a `kill -9` would stop it
//! (no destructor runs, the servers see the connections drop). Without the feature, each
//! point compiles to nothing.

/// Aborts the process when `GRANT_CRASH_AT` is `point`.
#[cfg(feature = "__failpoints")]
pub(crate) fn crash_at(point: &str) {
    static AT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if AT
        .get_or_init(|| std::env::var("GRANT_CRASH_AT").ok())
        .as_deref()
        == Some(point)
    {
        eprintln!("grant: crash point `{point}` reached: aborting");
        std::process::abort();
    }
}

/// Nothing, without the `__failpoints` feature.
#[cfg(not(feature = "__failpoints"))]
#[inline(always)]
pub(crate) fn crash_at(_point: &str) {}
