//! Resharding: what a change of topology moves ([`plan`]), and a bucket map spread over
//! more (or fewer) shards with the fewest moves ([`rebalance`]).
//!
//! A topology change moves keys when a strategy would send an existing key to another
//! shard: buckets given to other shards, a hash over another number of shards, a changed
//! range or lookup. [`plan`] lists, per table (and for the default strategy), the buckets
//! that move and from where to where, or says that the strategy remaps keys in a way that
//! buckets cannot express (every key could move). The live topology refuses to publish such
//! a version unless told its rows are handled ([`crate::live::Control::publish_moving`]):
//! publishing it alone would leave rows on shards their keys no longer route to.
//!
//! Not built yet: the mover that copies a moving bucket's rows while writes continue,
//! freezes, verifies and flips it (issue 16).

mod plan;
mod rebalance;

pub use plan::{BucketMove, Change, ChangeKind, Plan, plan};
pub use rebalance::rebalance;
