//! A circuit breaker per node: after `failure_threshold` consecutive failures the node is
//! left alone for `cool_down`, then one probe decides whether it is back.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// The node is used.
    Closed,
    /// The node failed repeatedly; it is skipped until the cool-down ends.
    Open,
    /// The cool-down ended; the next request (or health probe) decides.
    HalfOpen,
}

#[derive(Debug)]
struct Inner {
    state: BreakerState,
    failures: u32,
    opened_at: Option<Instant>,
}

/// A circuit breaker. Guarantee: an open breaker lets nothing through until its cool-down
/// has passed; then it lets requests through as half-open, and the first success closes it
/// while the first failure opens it again.
#[derive(Debug)]
pub struct Breaker {
    inner: Mutex<Inner>,
    threshold: u32,
    cool_down: Duration,
}

impl Breaker {
    /// Opens after `threshold` consecutive failures; half-opens after `cool_down`.
    pub fn new(threshold: u32, cool_down: Duration) -> Self {
        Breaker {
            inner: Mutex::new(Inner {
                state: BreakerState::Closed,
                failures: 0,
                opened_at: None,
            }),
            threshold: threshold.max(1),
            cool_down,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock only means a panic elsewhere while holding it; the state is
        // still a valid state.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Moves an open breaker whose cool-down passed to half-open.
    fn refresh(&self, inner: &mut Inner) -> BreakerState {
        if inner.state == BreakerState::Open
            && inner
                .opened_at
                .is_some_and(|t| t.elapsed() >= self.cool_down)
        {
            inner.state = BreakerState::HalfOpen;
        }
        inner.state
    }

    /// The current state (an open breaker whose cool-down passed reads as half-open).
    pub fn state(&self) -> BreakerState {
        let mut inner = self.lock();
        self.refresh(&mut inner)
    }

    /// Whether the node may be used now.
    pub fn allows(&self) -> bool {
        self.state() != BreakerState::Open
    }

    /// A request or probe succeeded; returns the state before, when it changed.
    pub fn record_success(&self) -> Option<BreakerState> {
        let mut inner = self.lock();
        inner.failures = 0;
        let before = self.refresh(&mut inner);
        inner.state = BreakerState::Closed;
        inner.opened_at = None;
        (before != BreakerState::Closed).then_some(before)
    }

    /// A request or probe failed; returns the state before, when it changed.
    pub fn record_failure(&self) -> Option<BreakerState> {
        let mut inner = self.lock();
        inner.failures = inner.failures.saturating_add(1);
        let before = self.refresh(&mut inner);
        if before == BreakerState::HalfOpen
            || (before == BreakerState::Closed && inner.failures >= self.threshold)
        {
            inner.state = BreakerState::Open;
            inner.opened_at = Some(Instant::now());
        }
        (inner.state != before).then_some(before)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn breaker_opens_after_threshold() {
        use super::{Breaker, BreakerState};
        use std::time::Duration;
        let b = Breaker::new(2, Duration::from_secs(60));
        assert!(b.allows());
        b.record_failure();
        b.record_failure();
        assert_eq!(b.state(), BreakerState::Open);
        assert!(!b.allows());
    }

    use super::*;

    #[test]
    fn opens_half_opens_and_closes() {
        let b = Breaker::new(3, Duration::from_millis(20));
        b.record_failure();
        b.record_failure();
        assert!(b.allows());
        assert_eq!(b.record_failure(), Some(BreakerState::Closed));
        assert!(!b.allows());
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(b.record_failure(), Some(BreakerState::HalfOpen));
        assert_eq!(b.state(), BreakerState::Open);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(b.record_success(), Some(BreakerState::HalfOpen));
        assert_eq!(b.state(), BreakerState::Closed);
    }
}
