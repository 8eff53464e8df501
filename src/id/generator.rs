//! The generator: time, then a sequence within the millisecond, CAS on one atomic word.

use super::lease::LeaseState;
use super::{Clock, IdError, IdLayout, SystemClock};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How far ahead of its clock a generator may run: when a millisecond's sequence is used
/// up it takes the next millisecond, and when the clock steps back it goes on from the
/// last id. Beyond this it waits for the clock (so ids stay close to their creation time).
pub(crate) const MAX_AHEAD_MS: u64 = 1_000;

/// Issues ids of one [`IdLayout`] for one worker number: strictly increasing, never
/// repeated, whatever the clock does (see the [module](super) docs).
///
/// [`IdGenerator::lease`] takes a worker number from the database, unique among live
/// processes; [`IdGenerator::fixed`] uses a number you give (one process, tests, tools).
/// Share one generator in a process (`Arc<IdGenerator>`): it is lock-free.
///
/// ```
/// use grant::id::{IdGenerator, IdLayout};
/// let ids = IdGenerator::fixed(IdLayout::default(), 0)?;
/// let mut last = 0;
/// for shard in [0, 1, 2, 3, 0, 1] {
///     let id = ids.try_next_id(shard)?;
///     assert!(id > last);
///     last = id;
/// }
/// # Ok::<(), grant::id::IdError>(())
/// ```
pub struct IdGenerator {
    layout: IdLayout,
    worker: u64,
    /// `time << sequence_bits | sequence` of the last id issued.
    last: AtomicU64,
    clock: Arc<dyn Clock>,
    max_wait: Duration,
    pub(super) lease: Option<Arc<LeaseState>>,
    pub(super) renewal: Option<tokio::task::JoinHandle<()>>,
}

impl IdGenerator {
    /// A generator with worker number `worker`, for a single process: two processes with
    /// the same number would issue the same ids (use [`IdGenerator::lease`] for several).
    pub fn fixed(layout: IdLayout, worker: u32) -> Result<Self, IdError> {
        Self::starting_after(layout, worker, 0)
    }

    /// A generator whose first id comes after `floor_unix_ms`.
    pub(super) fn starting_after(
        layout: IdLayout,
        worker: u32,
        floor_unix_ms: u64,
    ) -> Result<Self, IdError> {
        if u64::from(worker) > layout.max_worker() {
            return Err(IdError::WorkerOutOfRange {
                worker,
                bits: layout.worker_bits(),
            });
        }
        let floor = floor_unix_ms.saturating_sub(layout.epoch_ms());
        let sequence_bits = layout.sequence_bits();
        Ok(IdGenerator {
            layout,
            worker: u64::from(worker),
            // The floor's millisecond counts as used up: the first id is after it.
            last: AtomicU64::new((floor << sequence_bits) | layout.max_sequence()),
            clock: Arc::new(SystemClock),
            max_wait: Duration::from_secs(2),
            lease: None,
            renewal: None,
        })
    }

    /// The same generator reading time from `clock` (tests of a clock stepped backwards).
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How long [`IdGenerator::next_id`] waits for a clock that stepped backwards before it
    /// gives up with [`IdError::ClockBehind`] (default 2 s).
    pub fn with_max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// The layout.
    pub fn layout(&self) -> IdLayout {
        self.layout
    }

    /// The worker number.
    pub fn worker(&self) -> u32 {
        self.worker as u32
    }

    /// The next id, routed to `shard` (a shard or bucket number within the layout's shard
    /// bits), without waiting: [`IdError::ClockBehind`] when the clock is too far behind
    /// the last id to issue one now.
    #[inline]
    pub fn try_next_id(&self, shard: u32) -> Result<i64, IdError> {
        let layout = &self.layout;
        if u64::from(shard) > layout.max_shard() {
            return Err(IdError::ShardOutOfRange {
                shard,
                bits: layout.shard_bits(),
                max: layout.max_shard(),
            });
        }
        if let Some(lease) = &self.lease {
            lease.check()?;
        }
        let now = self.clock.now_ms().saturating_sub(layout.epoch_ms());
        let sequence_bits = layout.sequence_bits();
        let max_sequence = layout.max_sequence();
        let mut current = self.last.load(Ordering::Relaxed);
        loop {
            let (last, sequence) = (current >> sequence_bits, current & max_sequence);
            let (time, sequence) = if now > last {
                (now, 0)
            } else if sequence < max_sequence {
                (last, sequence + 1)
            } else if last < now + MAX_AHEAD_MS {
                (last + 1, 0)
            } else {
                return Err(IdError::ClockBehind {
                    by: Duration::from_millis(last - now),
                });
            };
            if time > layout.max_time() {
                return Err(IdError::TimeExhausted {
                    bits: layout.time_bits(),
                });
            }
            let next = (time << sequence_bits) | sequence;
            match self.last.compare_exchange_weak(
                current,
                next,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    return Ok(layout.compose(time, sequence, self.worker, u64::from(shard)));
                }
                Err(actual) => current = actual,
            }
        }
    }

    /// The next id, routed to `shard`; when the clock stepped backwards further than the
    /// generator may run ahead of it, waits for it (at most the max wait, 2 s by default)
    /// and then gives [`IdError::ClockBehind`]. Never repeats an id.
    ///
    /// ```
    /// use grant::id::{IdGenerator, IdLayout};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), grant::id::IdError> {
    /// let ids = IdGenerator::fixed(IdLayout::default(), 0)?;
    /// let id = ids.next_id(4).await?;
    /// assert_eq!(IdLayout::default().shard_of(id), 4);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn next_id(&self, shard: u32) -> Result<i64, IdError> {
        let started = tokio::time::Instant::now();
        loop {
            match self.try_next_id(shard) {
                Err(IdError::ClockBehind { by }) => {
                    let waited = started.elapsed();
                    if waited >= self.max_wait {
                        return Err(IdError::ClockBehind { by });
                    }
                    let nap = by
                        .saturating_sub(Duration::from_millis(MAX_AHEAD_MS))
                        .max(Duration::from_millis(1))
                        .min(self.max_wait - waited);
                    tokio::time::sleep(nap).await;
                }
                other => return other,
            }
        }
    }
}

impl Drop for IdGenerator {
    fn drop(&mut self) {
        if let Some(renewal) = self.renewal.take() {
            renewal.abort();
        }
    }
}

impl std::fmt::Debug for IdGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdGenerator")
            .field("layout", &self.layout)
            .field("worker", &self.worker)
            .field("leased", &self.lease.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::{IdError, IdGenerator, MAX_AHEAD_MS};
    use crate::id::{IdLayout, ManualClock};
    use std::collections::HashSet;
    use std::time::Duration;

    const T0: u64 = 1_800_000_000_000;

    fn generator(clock: &ManualClock) -> IdGenerator {
        IdGenerator::fixed(IdLayout::default(), 7)
            .unwrap()
            .with_clock(clock.clone())
            .with_max_wait(Duration::from_millis(50))
    }

    #[test]
    fn ids_increase_and_carry_their_fields() {
        let clock = ManualClock::new(T0);
        let ids = generator(&clock);
        let layout = IdLayout::default();
        let a = ids.try_next_id(3).unwrap();
        let b = ids.try_next_id(63).unwrap();
        assert!(b > a);
        let (pa, pb) = (layout.parts(a), layout.parts(b));
        assert_eq!(
            (pa.unix_ms, pa.sequence, pa.worker, pa.shard),
            (T0, 0, 7, 3)
        );
        assert_eq!((pb.unix_ms, pb.sequence, pb.shard), (T0, 1, 63));
        clock.advance(1);
        assert_eq!(layout.parts(ids.try_next_id(0).unwrap()).sequence, 0);
        assert!(matches!(
            ids.try_next_id(64),
            Err(IdError::ShardOutOfRange { shard: 64, .. })
        ));
    }

    /// A used-up millisecond borrows the next one, up to the limit ahead of the clock.
    #[test]
    fn a_full_millisecond_borrows_the_next_up_to_the_limit() {
        let clock = ManualClock::new(T0);
        let ids = generator(&clock);
        let per_ms = IdLayout::default().max_sequence() + 1;
        let mut seen = HashSet::new();
        let mut last = 0;
        loop {
            match ids.try_next_id(1) {
                Ok(id) => {
                    assert!(id > last && seen.insert(id));
                    last = id;
                }
                Err(IdError::ClockBehind { .. }) => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(seen.len() as u64, per_ms * (MAX_AHEAD_MS + 1));
        clock.advance(MAX_AHEAD_MS + 1);
        assert!(ids.try_next_id(1).unwrap() > last);
    }

    /// A clock stepped backwards: ids go on from the last (never repeated, still
    /// increasing) while the generator may run ahead, then `next_id` waits (bounded)
    /// and says why.
    #[tokio::test]
    async fn a_clock_stepped_backwards_never_repeats_an_id() {
        let clock = ManualClock::new(T0);
        let ids = generator(&clock);
        let before = ids.try_next_id(2).unwrap();
        clock.set(T0 - 10_000);
        let mut last = before;
        let mut issued = 0;
        let err = loop {
            match ids.next_id(2).await {
                Ok(id) => {
                    assert!(id > last, "{id} after {last}");
                    last = id;
                    issued += 1;
                }
                Err(e) => break e,
            }
        };
        assert!(issued > 0);
        assert!(
            matches!(err, IdError::ClockBehind { by } if by >= Duration::from_secs(10)),
            "{err}"
        );
        clock.set(T0 + 5_000);
        assert!(ids.next_id(2).await.unwrap() > last);
    }

    /// An epoch so far back that the time no longer fits: refused, not wrapped.
    #[test]
    fn a_time_beyond_the_time_bits_is_refused() {
        let layout = IdLayout::new(32, 19, 6, 6).unwrap().with_epoch_ms(0);
        let ids = IdGenerator::fixed(layout, 0)
            .unwrap()
            .with_clock(ManualClock::new(T0));
        assert_eq!(ids.try_next_id(0), Err(IdError::TimeExhausted { bits: 32 }));
    }

    #[test]
    fn workers_must_fit_their_bits() {
        assert!(matches!(
            IdGenerator::fixed(IdLayout::default(), 32),
            Err(IdError::WorkerOutOfRange {
                worker: 32,
                bits: 5
            })
        ));
    }
}
