//! Coalesced point lookups: finds of one table on one shard that arrive while lookups there
//! are in flight wait for one of them to finish and then go out together as one `find_many`
//! (DataLoader's idea, without its timer).
//!
//! - A find that finds fewer than [`CoalesceConfig::in_flight`] lookups of its table in
//!   flight on its shard goes out at once: at one task nothing waits, nothing is added.
//! - Otherwise it joins the queue. When a lookup finishes, the first caller in the queue
//!   leads the next batch: its key and the others' (up to [`CoalesceConfig::max_batch`]
//!   distinct keys) go out as one statement on its task (no task is spawned); each caller
//!   gets its own row, or `None` for its own missing key; an error of the statement reaches
//!   every caller in it.
//! - A caller that gives up (its future dropped) leaves the others as they were: its slot
//!   passes to the queue, a leader's unanswered batch goes back to the head of the queue,
//!   and a waiter that left is passed over.
//! - Not coalesced: handles with a read-your-writes session or their own timeout
//!   ([`super::Sharded::in_session`], [`super::Sharded::with_timeout`]: the batch would not
//!   keep them), copies from [`super::Sharded::uncoalesced`], and the tables in
//!   [`CoalesceConfig::off_for`].

use super::ShardId;
use crate::key::{KeyOf, Keyed};
use crate::{Error, Result};
use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// How a handle coalesces point lookups (see [`crate::ShardedBuilder::coalesce`]).
///
/// ```
/// let config = grant::shard::CoalesceConfig::default().max_batch(32).off_for("audit_log");
/// assert!(config.enabled);
/// assert_eq!((config.max_batch, config.in_flight), (32, 1));
/// let off = grant::shard::CoalesceConfig::off();
/// assert!(!off.enabled);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CoalesceConfig {
    /// Whether finds are coalesced at all (default `true`).
    pub enabled: bool,
    /// The most keys one coalesced statement carries (default 64; at most the backend's
    /// bind limit allows).
    pub max_batch: usize,
    /// How many lookups of one table may be in flight on one shard before the next ones
    /// wait to go out together (default 1).
    pub in_flight: usize,
    /// Tables (by SQL name) whose finds are never coalesced.
    pub off_tables: HashSet<String>,
}

impl Default for CoalesceConfig {
    fn default() -> Self {
        CoalesceConfig {
            enabled: true,
            max_batch: 64,
            in_flight: 1,
            off_tables: HashSet::new(),
        }
    }
}

impl CoalesceConfig {
    /// No coalescing: every find is its own statement.
    pub fn off() -> Self {
        CoalesceConfig {
            enabled: false,
            ..CoalesceConfig::default()
        }
    }

    /// Never coalesces the finds of `table` (its SQL name).
    #[must_use]
    pub fn off_for(mut self, table: impl Into<String>) -> Self {
        self.off_tables.insert(table.into());
        self
    }
}

crate::cluster::settings::setters!(CoalesceConfig {
    /// Whether finds are coalesced at all.
    enabled: bool,
    /// The most keys one coalesced statement carries.
    max_batch: usize,
    /// How many lookups of one table may be in flight on one shard before the next wait.
    in_flight: usize,
});

/// How many coalesced statements a handle sent, and how many keys they carried
/// ([`crate::Sharded::coalesce_stats`]). Lookups that went out alone are not counted.
///
/// ```
/// let stats = grant::shard::CoalesceStats { statements: 4, keys: 40 };
/// assert_eq!(stats.keys_per_statement(), 10.0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CoalesceStats {
    /// Coalesced statements sent.
    pub statements: u64,
    /// Keys they carried.
    pub keys: u64,
}

impl CoalesceStats {
    /// The mean batch size (0 when none was sent).
    pub fn keys_per_statement(&self) -> f64 {
        if self.statements == 0 {
            0.0
        } else {
            self.keys as f64 / self.statements as f64
        }
    }
}

/// The coalescing state of a handle: one group per (record type, shard).
#[derive(Default)]
pub(crate) struct Coalescer {
    groups: Mutex<HashMap<(TypeId, ShardId), Arc<dyn Any + Send + Sync>>>,
    statements: AtomicU64,
    keys: AtomicU64,
}

impl Coalescer {
    /// Notes a coalesced statement of `keys` keys.
    pub(crate) fn count(&self, keys: usize) {
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.keys.fetch_add(keys as u64, Ordering::Relaxed);
    }

    /// The counts so far.
    pub(crate) fn stats(&self) -> CoalesceStats {
        CoalesceStats {
            statements: self.statements.load(Ordering::Relaxed),
            keys: self.keys.load(Ordering::Relaxed),
        }
    }

    /// The group of record type `R` on `shard`.
    pub(crate) fn group<R: Keyed + Send + 'static>(&self, shard: ShardId) -> Arc<Group<R>> {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        let entry = groups
            .entry((TypeId::of::<R>(), shard))
            .or_insert_with(|| Arc::new(Group::<R>::default()));
        match entry.clone().downcast::<Group<R>>() {
            Ok(group) => group,
            // The map's key is `R`'s `TypeId`, and only `Group<R>` is stored under it.
            Err(_) => Arc::new(Group::default()),
        }
    }
}

/// A caller waiting for a coalesced statement.
pub(crate) struct Waiter<R: Keyed> {
    pub(crate) key: KeyOf<R>,
    pub(crate) reply: tokio::sync::oneshot::Sender<Answer<R>>,
}

/// What a waiting caller is told: its row, or to lead the next batch (its own key and these
/// others' keys, in one statement on its own task).
pub(crate) enum Answer<R: Keyed> {
    Row(Result<Option<R>>),
    Lead(Vec<Waiter<R>>),
}

/// Lookups of one record type on one shard.
pub(crate) struct Group<R: Keyed> {
    state: Mutex<State<R>>,
}

struct State<R: Keyed> {
    in_flight: usize,
    waiting: Vec<Waiter<R>>,
}

impl<R: Keyed> Default for Group<R> {
    fn default() -> Self {
        Group {
            state: Mutex::new(State {
                in_flight: 0,
                waiting: Vec::new(),
            }),
        }
    }
}

/// What a find does: go out now (it holds a slot), or wait for a coalesced statement.
pub(crate) enum Turn<R: Keyed> {
    Now,
    Wait(tokio::sync::oneshot::Receiver<Answer<R>>),
}

impl<R: Keyed> Group<R> {
    fn lock(&self) -> MutexGuard<'_, State<R>> {
        // Every change to the state is one push, one drain or one counter step: a panic
        // cannot leave it half-changed.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot if fewer than `in_flight` lookups are in flight, else a place in the queue.
    pub(crate) fn enter(&self, key: &KeyOf<R>, in_flight: usize) -> Turn<R> {
        let mut state = self.lock();
        if state.in_flight < in_flight.max(1) {
            state.in_flight += 1;
            return Turn::Now;
        }
        let (reply, answer) = tokio::sync::oneshot::channel();
        state.waiting.push(Waiter {
            key: key.clone(),
            reply,
        });
        Turn::Wait(answer)
    }

    /// A slot is done: its first waiter leads the next batch with it, or it is freed when
    /// nobody waits. Waiters that gave up are passed over.
    pub(crate) fn pass_on(&self, max_batch: usize) {
        while let Some(mut batch) = self.next_batch(max_batch) {
            while !batch.is_empty() {
                let leader = batch.remove(0);
                match leader.reply.send(Answer::Lead(batch)) {
                    Ok(()) => return,
                    // The leader gave up: the next in the batch leads.
                    Err(Answer::Lead(rest)) => batch = rest,
                    Err(Answer::Row(_)) => return,
                }
            }
            // Everyone in the batch gave up; the slot is still held: the queue again.
        }
    }

    /// Puts `waiters` back at the head of the queue (a leader gave up before answering).
    pub(crate) fn requeue(&self, mut waiters: Vec<Waiter<R>>) {
        let mut state = self.lock();
        waiters.append(&mut state.waiting);
        state.waiting = waiters;
    }

    /// The next batch (distinct keys, at most `max_batch`), keeping the slot; `None` (the
    /// slot freed) when nobody waits.
    fn next_batch(&self, max_batch: usize) -> Option<Vec<Waiter<R>>> {
        let mut state = self.lock();
        // Callers that gave up are dropped here.
        state.waiting.retain(|w| !w.reply.is_closed());
        if state.waiting.is_empty() {
            state.in_flight = state.in_flight.saturating_sub(1);
            return None;
        }
        let mut keys = HashSet::new();
        let mut batch = Vec::new();
        let mut rest = Vec::new();
        for waiter in state.waiting.drain(..) {
            if batch.len() < max_batch.max(1) && keys.insert(waiter.key.clone()) {
                batch.push(waiter);
            } else {
                // A second caller of the same key goes in the next statement.
                rest.push(waiter);
            }
        }
        state.waiting = rest;
        Some(batch)
    }
}

/// Hands each waiter of `batch` its row (or `None`), or a copy of the statement's error;
/// returns the leader's own (`key`'s).
pub(crate) fn answer<R: Keyed>(
    key: &KeyOf<R>,
    batch: Vec<Waiter<R>>,
    result: Result<Vec<R>>,
) -> Result<Option<R>> {
    match result {
        Ok(rows) => {
            let mut by_key: HashMap<KeyOf<R>, R> = rows.into_iter().map(|r| (r.key(), r)).collect();
            for waiter in batch {
                let row = by_key.remove(&waiter.key);
                let _ = waiter.reply.send(Answer::Row(Ok(row)));
            }
            Ok(by_key.remove(key))
        }
        Err(error) => {
            for waiter in batch {
                let _ = waiter.reply.send(Answer::Row(Err(shared(&error))));
            }
            Err(error)
        }
    }
}

/// A copy of a read's error for each caller of a coalesced statement. The variants a read
/// produces are copied as they are (a database error keeps its kind and message); any other
/// is reported as a failed statement on its shard.
pub(crate) fn shared(error: &Error) -> Error {
    use diesel::result::Error as D;
    fn diesel_copy(e: &D) -> D {
        match e {
            D::NotFound => D::NotFound,
            D::DatabaseError(kind, info) => {
                D::DatabaseError(*kind, Box::new(info.message().to_owned()))
            }
            other => D::QueryBuilderError(other.to_string().into()),
        }
    }
    match error {
        Error::ShardQuery {
            shard,
            table,
            source,
        } => Error::ShardQuery {
            shard: shard.clone(),
            table: *table,
            source: diesel_copy(source),
        },
        Error::Query { table, source } => Error::Query {
            table,
            source: diesel_copy(source),
        },
        Error::Database(source) => Error::Database(diesel_copy(source)),
        Error::ShardUnavailable { shard, cause } => Error::ShardUnavailable {
            shard: shard.clone(),
            cause: cause.clone(),
        },
        Error::PoolTimeout { shard, waited } => Error::PoolTimeout {
            shard: shard.clone(),
            waited: *waited,
        },
        Error::StatementTimeout { shard, node, after } => Error::StatementTimeout {
            shard: shard.clone(),
            node: node.clone(),
            after: *after,
        },
        Error::ShardTimeout { shard, after } => Error::ShardTimeout {
            shard: shard.clone(),
            after: *after,
        },
        Error::UnknownShard { shard, known } => Error::UnknownShard {
            shard: shard.clone(),
            known: known.clone(),
        },
        Error::Internal { what } => Error::Internal { what },
        other => Error::ShardQuery {
            shard: String::from("(coalesced lookup)"),
            table: None,
            source: D::QueryBuilderError(other.to_string().into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_errors_keep_their_kind_and_message() {
        let e = Error::ShardQuery {
            shard: "s1".into(),
            table: Some("order_items"),
            source: diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::SerializationFailure,
                Box::new("could not serialize".to_owned()),
            ),
        };
        let copy = shared(&e);
        assert_eq!(copy.to_string(), e.to_string());
        assert!(matches!(
            copy,
            Error::ShardQuery {
                source: diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::SerializationFailure,
                    _
                ),
                ..
            }
        ));
        let down = shared(&Error::ShardUnavailable {
            shard: "s0".into(),
            cause: "refused".into(),
        });
        assert!(down.write_not_applied() && down.to_string().contains("s0"));
    }
}
