//! A circuit breaker per node: after `failure_threshold` consecutive failures the node is
//! left alone for `cool_down`, then one probe decides whether it is back.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// When the one trial request of a half-open breaker was let through.
    trial_since: Option<Instant>,
}

/// A circuit breaker. Guarantees: an open breaker lets nothing through until its cool-down
/// has passed; a half-open breaker lets exactly one trial request through (another only
/// when that trial's outcome has not been recorded within a cool-down, as when its caller
/// was cancelled); the trial's success closes the breaker and its failure opens it again.
/// Health probes record their outcomes without asking.
#[derive(Debug)]
pub struct Breaker {
    inner: Mutex<Inner>,
    /// Closed with no failure counted: a success then changes nothing, and is recorded
    /// without the lock or a clock read (every statement records one).
    clean: AtomicBool,
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
                trial_since: None,
            }),
            clean: AtomicBool::new(true),
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

    /// Moves an open breaker whose cool-down passed at `now` to half-open.
    fn refresh(&self, inner: &mut Inner, now: Instant) -> BreakerState {
        if inner.state == BreakerState::Open
            && inner
                .opened_at
                .is_some_and(|t| now.saturating_duration_since(t) >= self.cool_down)
        {
            inner.state = BreakerState::HalfOpen;
            inner.trial_since = None;
        }
        inner.state
    }

    /// Whether a half-open breaker's trial is out (and not yet overdue) at `now`.
    fn trial_out(&self, inner: &Inner, now: Instant) -> bool {
        inner
            .trial_since
            .is_some_and(|t| now.saturating_duration_since(t) < self.cool_down)
    }

    /// The current state (an open breaker whose cool-down passed reads as half-open).
    pub fn state(&self) -> BreakerState {
        let mut inner = self.lock();
        self.refresh(&mut inner, Instant::now())
    }

    /// Whether a request could be let through now, without taking the trial: closed, or
    /// half-open with no trial out.
    pub fn admits(&self) -> bool {
        self.admits_at(Instant::now())
    }

    fn admits_at(&self, now: Instant) -> bool {
        let mut inner = self.lock();
        match self.refresh(&mut inner, now) {
            BreakerState::Closed => true,
            BreakerState::Open => false,
            BreakerState::HalfOpen => !self.trial_out(&inner, now),
        }
    }

    /// Lets a request through: always when closed, never when open, and when half-open only
    /// as the one trial. Its outcome must be recorded with [`Breaker::record_success`] or
    /// [`Breaker::record_failure`].
    pub fn try_acquire(&self) -> bool {
        self.try_acquire_at(Instant::now())
    }

    fn try_acquire_at(&self, now: Instant) -> bool {
        let mut inner = self.lock();
        match self.refresh(&mut inner, now) {
            BreakerState::Closed => true,
            BreakerState::Open => false,
            BreakerState::HalfOpen if self.trial_out(&inner, now) => false,
            BreakerState::HalfOpen => {
                inner.trial_since = Some(now);
                true
            }
        }
    }

    /// A request or probe succeeded; returns the state before, when it changed.
    pub fn record_success(&self) -> Option<BreakerState> {
        if self.clean.load(Ordering::Acquire) {
            return None;
        }
        self.record_success_at(Instant::now())
    }

    fn record_success_at(&self, now: Instant) -> Option<BreakerState> {
        let mut inner = self.lock();
        inner.failures = 0;
        let before = self.refresh(&mut inner, now);
        inner.state = BreakerState::Closed;
        inner.opened_at = None;
        inner.trial_since = None;
        self.clean.store(true, Ordering::Release);
        (before != BreakerState::Closed).then_some(before)
    }

    /// A request or probe failed; returns the state before, when it changed.
    pub fn record_failure(&self) -> Option<BreakerState> {
        self.record_failure_at(Instant::now())
    }

    fn record_failure_at(&self, now: Instant) -> Option<BreakerState> {
        let mut inner = self.lock();
        self.clean.store(false, Ordering::Release);
        inner.failures = inner.failures.saturating_add(1);
        let before = self.refresh(&mut inner, now);
        if before == BreakerState::HalfOpen
            || (before == BreakerState::Closed && inner.failures >= self.threshold)
        {
            inner.state = BreakerState::Open;
            inner.opened_at = Some(now);
            inner.trial_since = None;
        }
        (inner.state != before).then_some(before)
    }
}

#[cfg(test)]
mod tests {
    use super::{Breaker, BreakerState};
    use std::time::{Duration, Instant};

    const COOL_DOWN: Duration = Duration::from_secs(5);

    /// Opens a breaker of threshold 2 at `t0`.
    fn opened(t0: Instant) -> Breaker {
        let b = Breaker::new(2, COOL_DOWN);
        assert_eq!(b.record_failure_at(t0), None);
        assert_eq!(b.record_failure_at(t0), Some(BreakerState::Closed));
        b
    }

    #[test]
    fn opens_after_threshold_and_lets_nothing_through_while_open() {
        let t0 = Instant::now();
        let b = opened(t0);
        let during = t0 + COOL_DOWN - Duration::from_millis(1);
        assert!(!b.admits_at(during));
        assert!(!b.try_acquire_at(during));
    }

    #[test]
    fn half_open_lets_exactly_one_trial_through() {
        let t0 = Instant::now();
        let b = opened(t0);
        let after = t0 + COOL_DOWN;
        assert!(b.admits_at(after));
        assert!(b.try_acquire_at(after), "the trial");
        assert!(!b.admits_at(after));
        for _ in 0..100 {
            assert!(
                !b.try_acquire_at(after),
                "a second request while the trial is out"
            );
        }
        assert_eq!(b.record_success_at(after), Some(BreakerState::HalfOpen));
        assert!(
            b.try_acquire_at(after) && b.try_acquire_at(after),
            "closed: every request"
        );
    }

    #[test]
    fn a_failed_trial_opens_again_for_a_whole_cool_down() {
        let t0 = Instant::now();
        let b = opened(t0);
        let after = t0 + COOL_DOWN;
        assert!(b.try_acquire_at(after));
        assert_eq!(b.record_failure_at(after), Some(BreakerState::HalfOpen));
        assert!(!b.try_acquire_at(after + COOL_DOWN - Duration::from_millis(1)));
        assert!(b.try_acquire_at(after + COOL_DOWN), "the next trial");
    }

    #[test]
    fn a_trial_whose_outcome_never_comes_is_replaced_after_a_cool_down() {
        let t0 = Instant::now();
        let b = opened(t0);
        let after = t0 + COOL_DOWN;
        assert!(b.try_acquire_at(after));
        assert!(!b.try_acquire_at(after + COOL_DOWN - Duration::from_millis(1)));
        assert!(
            b.try_acquire_at(after + COOL_DOWN),
            "the lost trial is replaced"
        );
    }
}
