//! Shard-aware 64-bit ids: k-sorted by time, unique across processes, routed by their own
//! bits.
//!
//! An id is `0 | milliseconds since the epoch | sequence | worker | shard` (a sign bit that is
//! always 0, then the fields of an [`IdLayout`]; by default 40, 12, 5 and 6 bits). Time comes
//! first, so ids sort by creation time across processes (to the millisecond) and increase
//! strictly for one generator; the shard bits come last, so `id & mask` names the shard (or
//! the bucket) a row with that id lives on, and the [`crate::shard::IdBits`] strategy routes
//! by them with no hash and no lookup.
//!
//! The worker number makes ids unique across processes: each [`IdGenerator`] leases one from
//! a small table on a shard (`grant_id_workers`), renews the lease in the background, and
//! stops issuing ids when it could not renew in time ([`IdError::LeaseLost`]). A new owner
//! of a worker number starts after the moment the previous lease expired, so it never
//! repeats an id the previous owner issued.
//!
//! ```
//! use grant::id::{IdGenerator, IdLayout};
//! let layout = IdLayout::default();
//! // A generator with a fixed worker number: for one process (tests, tools).
//! let ids = IdGenerator::fixed(layout, 3)?;
//! let a = ids.try_next_id(2)?;
//! let b = ids.try_next_id(5)?;
//! assert!(b > a);
//! assert_eq!(layout.shard_of(a), 2);
//! assert_eq!(layout.parts(b).worker, 3);
//! # Ok::<(), grant::id::IdError>(())
//! ```

mod clock;
mod error;
mod generator;
mod layout;
mod lease;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::IdError;
pub use generator::IdGenerator;
pub use layout::{IdLayout, IdParts};
pub use lease::LeaseOptions;
