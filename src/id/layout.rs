//! How an id's 63 bits are shared: time, sequence, worker, shard.

use super::IdError;

/// The fields of an id, from the top: `time_bits` of milliseconds since `epoch_ms`, then
/// `sequence_bits` (ids within one millisecond of one generator), `worker_bits` (the
/// generator's leased worker number) and `shard_bits` (the shard or bucket the id routes
/// to). The four add up to 63: ids are positive `i64`s (a `BIGINT` key).
///
/// The default, 40 + 12 + 5 + 6 from 2026-01-01 UTC: ids until 2060, 4,096 per millisecond
/// per generator, 32 generators at once, 64 shards or buckets. **Pinned**: a layout is part
/// of the data; changing it for a table that has ids would route them elsewhere.
///
/// ```
/// use grant::id::IdLayout;
/// let layout = IdLayout::default();
/// assert_eq!(layout.max_shard(), 63);
/// let wider = IdLayout::new(41, 11, 3, 8)?.with_epoch_ms(1_700_000_000_000);
/// assert_eq!(wider.max_shard(), 255);
/// assert!(IdLayout::new(41, 12, 5, 6).is_err()); // 64 bits
/// # Ok::<(), grant::id::IdError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdLayout {
    epoch_ms: u64,
    time_bits: u8,
    sequence_bits: u8,
    worker_bits: u8,
    shard_bits: u8,
}

/// An id taken apart ([`IdLayout::parts`]).
///
/// ```
/// use grant::id::{IdGenerator, IdLayout};
/// let ids = IdGenerator::fixed(IdLayout::default(), 1)?;
/// let parts = IdLayout::default().parts(ids.try_next_id(9)?);
/// assert_eq!((parts.worker, parts.shard), (1, 9));
/// # Ok::<(), grant::id::IdError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdParts {
    /// When it was issued, in milliseconds since the Unix epoch.
    pub unix_ms: u64,
    /// Its sequence number within that millisecond.
    pub sequence: u32,
    /// The worker number of the generator that issued it.
    pub worker: u32,
    /// The shard (or bucket) it routes to.
    pub shard: u32,
}

/// 2026-01-01T00:00:00Z.
const DEFAULT_EPOCH_MS: u64 = 1_767_225_600_000;

impl Default for IdLayout {
    fn default() -> Self {
        IdLayout {
            epoch_ms: DEFAULT_EPOCH_MS,
            time_bits: 40,
            sequence_bits: 12,
            worker_bits: 5,
            shard_bits: 6,
        }
    }
}

impl IdLayout {
    /// A layout of these field widths (adding up to 63; time at least 32 bits, sequence
    /// at least 1, worker and shard at most 20 each), from the default epoch.
    pub fn new(
        time_bits: u8,
        sequence_bits: u8,
        worker_bits: u8,
        shard_bits: u8,
    ) -> Result<Self, IdError> {
        let total = u32::from(time_bits)
            + u32::from(sequence_bits)
            + u32::from(worker_bits)
            + u32::from(shard_bits);
        if total != 63 {
            return Err(IdError::Layout(format!(
                "time {time_bits} + sequence {sequence_bits} + worker {worker_bits} + shard \
                 {shard_bits} bits make {total}, not 63"
            )));
        }
        if time_bits < 32 {
            return Err(IdError::Layout(format!(
                "{time_bits} time bits last {} days; use at least 32",
                (1u64 << time_bits) / 86_400_000
            )));
        }
        if sequence_bits == 0 || worker_bits > 20 || shard_bits > 20 {
            return Err(IdError::Layout(
                "the sequence needs at least 1 bit, worker and shard at most 20 each".into(),
            ));
        }
        Ok(IdLayout {
            epoch_ms: DEFAULT_EPOCH_MS,
            time_bits,
            sequence_bits,
            worker_bits,
            shard_bits,
        })
    }

    /// The same layout counting time from `epoch_ms` (milliseconds since the Unix epoch).
    pub fn with_epoch_ms(mut self, epoch_ms: u64) -> Self {
        self.epoch_ms = epoch_ms;
        self
    }

    /// The epoch, in milliseconds since the Unix epoch.
    pub fn epoch_ms(&self) -> u64 {
        self.epoch_ms
    }

    /// The largest shard (or bucket) number an id can carry.
    pub fn max_shard(&self) -> u64 {
        mask(self.shard_bits)
    }

    /// The largest worker number.
    pub fn max_worker(&self) -> u64 {
        mask(self.worker_bits)
    }

    pub(crate) fn sequence_bits(&self) -> u8 {
        self.sequence_bits
    }

    pub(crate) fn max_sequence(&self) -> u64 {
        mask(self.sequence_bits)
    }

    pub(crate) fn max_time(&self) -> u64 {
        mask(self.time_bits)
    }

    pub(crate) fn shard_bits(&self) -> u8 {
        self.shard_bits
    }

    pub(crate) fn worker_bits(&self) -> u8 {
        self.worker_bits
    }

    pub(crate) fn time_bits(&self) -> u8 {
        self.time_bits
    }

    /// The shard (or bucket) bits of `id`.
    #[inline]
    pub fn shard_of(&self, id: i64) -> u32 {
        (id as u64 & mask(self.shard_bits)) as u32
    }

    /// `id`'s fields.
    pub fn parts(&self, id: i64) -> IdParts {
        let id = id as u64;
        let worker_shift = self.shard_bits;
        let sequence_shift = worker_shift + self.worker_bits;
        let time_shift = sequence_shift + self.sequence_bits;
        IdParts {
            unix_ms: ((id >> time_shift) & mask(self.time_bits)) + self.epoch_ms,
            sequence: ((id >> sequence_shift) & mask(self.sequence_bits)) as u32,
            worker: ((id >> worker_shift) & mask(self.worker_bits)) as u32,
            shard: (id & mask(self.shard_bits)) as u32,
        }
    }

    /// The id of these fields: `time` in milliseconds since the epoch; every field within
    /// its width (the generator checks).
    #[inline]
    pub(crate) fn compose(&self, time: u64, sequence: u64, worker: u64, shard: u64) -> i64 {
        let worker_shift = self.shard_bits;
        let sequence_shift = worker_shift + self.worker_bits;
        let time_shift = sequence_shift + self.sequence_bits;
        ((time << time_shift) | (sequence << sequence_shift) | (worker << worker_shift) | shard)
            as i64
    }
}

#[inline]
fn mask(bits: u8) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::IdLayout;

    /// Golden vectors: these ids must never change (they are stored in tables).
    #[test]
    fn the_default_layout_is_pinned() {
        let l = IdLayout::default();
        assert_eq!(l.compose(0, 0, 0, 0), 0);
        assert_eq!(l.compose(1, 0, 0, 0), 1 << 23);
        assert_eq!(
            l.compose(1_000, 7, 3, 5),
            8_388_608_000 + (7 << 11) + (3 << 6) + 5
        );
        let id = l.compose(123_456_789, 4095, 31, 63);
        assert_eq!(id, 1_035_630_616_248_319);
        let p = l.parts(id);
        assert_eq!(
            (p.unix_ms, p.sequence, p.worker, p.shard),
            (1_767_225_600_000 + 123_456_789, 4095, 31, 63)
        );
        assert_eq!(l.compose(l.max_time(), 4095, 31, 63), i64::MAX);
    }

    #[test]
    fn layouts_that_do_not_make_63_bits_are_refused() {
        assert!(IdLayout::new(40, 12, 5, 6).is_ok());
        assert!(IdLayout::new(40, 12, 5, 7).is_err());
        assert!(IdLayout::new(31, 12, 10, 10).is_err());
        assert!(IdLayout::new(40, 0, 11, 12).is_err());
        assert!(IdLayout::new(33, 1, 21, 8).is_err());
    }
}
