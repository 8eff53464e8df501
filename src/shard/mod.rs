//! Sharding: strategies that map a shard key to a shard, statements that carry their shard
//! key, and [`crate::Sharded`], which runs them on the right shard's pool.

mod access;
mod across;
mod attempts;
mod builder;
mod causal_token;
pub(crate) mod changeset;
mod coalesce;
pub(crate) mod coalesced;
pub(crate) mod colocation;
mod dispatch;
mod forward;
mod id;
mod immutable;
pub(crate) mod operation;
mod per_shard;
pub(crate) mod records;
mod reference;
mod route_key;
mod routed;
mod routing;
mod run;
mod session;
mod shard_key;
mod sharded;
pub mod strategy;
mod transaction;
mod update_set;

pub(crate) use crate::cluster::exec::Plan;
pub(crate) use access::Access;
pub use access::{ReadKind, ReadOnly, StatementKind, WriteKind, Writes, read_only, writes};
pub(crate) use across::name_hash as two_phase_name_hash;
pub use across::{CrossRun, CrossTransaction, Recovery};
pub(crate) use attempts::{Attempts, Fresh};
pub use attempts::{Idempotent, Rerun, Retries, RunOnce};
pub use builder::ShardedBuilder;
pub use causal_token::{CausalToken, MAX_TOKEN_LEN, TokenParseError};
pub use changeset::{Checked, CheckedChangeset, ShardSafeChangeset, UpdatableColumn};
pub use coalesce::{CoalesceConfig, CoalesceStats};
pub use colocation::RoutableBy;
pub use dispatch::{Route, RoutedStatement};
pub use id::ShardId;
pub use per_shard::{PerShard, ShardResult};
pub use reference::{
    AnyShard, ReferenceRead, ReferenceSource, ReferenceTable, ReferenceWrite, ShardedTable,
};
pub use route_key::{RouteKey, ShardKeyed};
pub use routed::{AllShards, ByKey, OnShard, RouteDsl, Routed, ShardRef};
pub use routing::Routing;
pub use run::Run;
pub use session::Session;
pub use shard_key::ShardValues;
pub use sharded::{Output, RoutingSnapshot, Sharded};
pub use strategy::{
    Buckets, HashStrategy, IdBits, JumpHash, KeyRange, Lookup, LookupValue, MAX_SHARDS, Modulo,
    MultiColumn, RangeBound, RangeEntry, RangeStrategy, RouteError, ShardStrategy, StrategyError,
    TimeRange, jump_consistent_hash,
};
pub use transaction::{ShardTx, TxRun};
