//! What can go wrong issuing an id.

use std::time::Duration;

/// Why no id was issued.
///
/// ```
/// let e = grant::id::IdError::ClockBehind { by: std::time::Duration::from_millis(1500) };
/// assert!(e.to_string().contains("1.5s"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The layout's fields do not make a 63-bit id (or one is out of range).
    #[error("invalid id layout: {0}")]
    Layout(String),
    /// The shard (or bucket) number does not fit the layout's shard bits.
    #[error("shard {shard} does not fit the id layout's {bits} shard bits (0 to {max})")]
    ShardOutOfRange {
        /// The shard asked for.
        shard: u32,
        /// The layout's shard bits.
        bits: u8,
        /// The largest shard number that fits.
        max: u64,
    },
    /// The worker number does not fit the layout's worker bits.
    #[error("worker {worker} does not fit the id layout's {bits} worker bits")]
    WorkerOutOfRange {
        /// The worker number.
        worker: u32,
        /// The layout's worker bits.
        bits: u8,
    },
    /// The clock is behind the last id issued by more than the generator may run ahead
    /// of it; [`super::IdGenerator::next_id`] waits for it (bounded) before saying so.
    #[error(
        "the clock is {by:?} behind the last id issued: waiting for it rather than repeating an id"
    )]
    ClockBehind {
        /// How far behind.
        by: Duration,
    },
    /// The time no longer fits the layout's time bits (the epoch is too far in the past).
    #[error("the time no longer fits the id layout's {bits} time bits: choose a later epoch")]
    TimeExhausted {
        /// The layout's time bits.
        bits: u8,
    },
    /// The generator's worker lease was not renewed in time: it issues no more ids, since
    /// another process may now hold its worker number.
    #[error(
        "the lease of worker {worker} was not renewed in time ({cause}): no more ids from this generator"
    )]
    LeaseLost {
        /// The worker number.
        worker: u32,
        /// Why the renewal failed.
        cause: String,
    },
    /// No worker number could be leased.
    #[error("no worker number could be leased on shard `{shard}`: {cause}")]
    NoWorker {
        /// The shard holding the lease table.
        shard: String,
        /// Why (every number taken, or the database's error).
        cause: String,
    },
}
