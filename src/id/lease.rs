//! Worker numbers leased from a table on a shard: unique among live processes with no
//! configuration by hand.
//!
//! `grant_id_workers (worker, owner, expires_ms)` holds one row per worker number ever
//! leased. A process takes a number that has no row (an `INSERT`) or whose lease expired
//! (an `UPDATE` conditional on the expiry it read, so two processes cannot both take it),
//! and reads the row back to see that it won. Times are the database's clock, so the
//! processes' clocks never compare with each other. The generator renews the lease every
//! third of its time to live, and stops issuing ids `margin` before the lease could
//! expire unrenewed. A new owner's ids start after the previous lease's expiry: the
//! previous owner issued none later than that, as long as its clock was within
//! `margin` minus one second of the database's (the generator may run up to one second
//! ahead of its clock).

use super::generator::MAX_AHEAD_MS;
use super::{IdError, IdGenerator, IdLayout};
use crate::cluster::ShardConnection;
use crate::cluster::primary_sql::PrimarySql;
use crate::shard::{ShardRef, Sharded};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// How a generator leases its worker number (see [`IdGenerator::lease`]).
///
/// ```
/// use grant::id::LeaseOptions;
/// use std::time::Duration;
/// let options = LeaseOptions::default().ttl(Duration::from_secs(60)).margin(Duration::from_secs(10));
/// assert_eq!(options.ttl_value(), Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeaseOptions {
    ttl: Duration,
    margin: Duration,
}

impl Default for LeaseOptions {
    fn default() -> Self {
        LeaseOptions {
            ttl: Duration::from_secs(30),
            margin: Duration::from_secs(5),
        }
    }
}

impl LeaseOptions {
    /// How long a lease lasts unrenewed (default 30 s; renewed every third of it).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How long before the lease could expire the generator stops issuing ids (default
    /// 5 s, at most half the time to live): more than 1 s (how far a generator may run ahead of its clock) plus the
    /// largest difference between a process's clock and the database's.
    pub fn margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The time to live.
    pub fn ttl_value(&self) -> Duration {
        self.ttl
    }

    fn check(&self) -> Result<(), IdError> {
        // Above how far a generator runs ahead of its clock; at most half the time to live,
        // so that a lease renewed every third of it survives one failed renewal.
        if self.margin <= Duration::from_millis(MAX_AHEAD_MS) || self.margin > self.ttl / 2 {
            return Err(IdError::Layout(format!(
                "a lease margin must be above 1 s and at most half the time to live (margin {:?}, ttl {:?})",
                self.margin, self.ttl
            )));
        }
        Ok(())
    }
}

/// A held lease, as the generator checks it on every id.
pub(crate) struct LeaseState {
    worker: u32,
    origin: Instant,
    /// Nanoseconds after `origin` until which ids may be issued.
    valid_until: AtomicU64,
    /// Why the lease was lost, once it was.
    lost: Mutex<Option<String>>,
}

impl LeaseState {
    #[inline]
    pub(crate) fn check(&self) -> Result<(), IdError> {
        let now = self.origin.elapsed().as_nanos() as u64;
        if now < self.valid_until.load(Ordering::Acquire) {
            return Ok(());
        }
        let cause = self
            .lost
            .lock()
            .ok()
            .and_then(|c| c.clone())
            .unwrap_or_else(|| "the renewals failed".into());
        Err(IdError::LeaseLost {
            worker: self.worker,
            cause,
        })
    }

    fn extend(&self, renewed_at: Instant, ttl: Duration, margin: Duration) {
        let until = renewed_at.saturating_duration_since(self.origin) + ttl - margin;
        self.valid_until
            .store(until.as_nanos() as u64, Ordering::Release);
    }

    fn lose(&self, cause: String) {
        if let Ok(mut lost) = self.lost.lock() {
            *lost = Some(cause);
        }
        self.valid_until.store(0, Ordering::Release);
    }
}

/// The lease table's `CREATE`.
fn create_sql() -> String {
    "CREATE TABLE IF NOT EXISTS grant_id_workers (worker INTEGER NOT NULL PRIMARY KEY, \
     owner VARCHAR(64) NOT NULL, expires_ms BIGINT NOT NULL)"
        .into()
}

/// Runs grant's lease statements on one shard's primary.
struct Table<C: ShardConnection> {
    primary: PrimarySql<C>,
    owner: String,
}

impl<C: ShardConnection> std::ops::Deref for Table<C> {
    type Target = PrimarySql<C>;
    fn deref(&self) -> &PrimarySql<C> {
        &self.primary
    }
}

impl<C: ShardConnection> Table<C> {
    async fn owner_of(&self, worker: u32) -> Result<Option<String>, String> {
        let rows = self
            .texts(format!(
                "SELECT owner AS item FROM grant_id_workers WHERE worker = {worker}"
            ))
            .await?;
        Ok(rows.into_iter().next())
    }

    /// Takes `worker` if it is free: `Some(floor)` (the previous lease's expiry, 0 for a
    /// number never leased) when this process won it.
    async fn try_take(&self, worker: u32, ttl_ms: u128) -> Result<Option<u64>, String> {
        let now = self.sql.now_ms();
        let read = self
            .texts(format!(
                "SELECT {} AS item FROM grant_id_workers WHERE worker = {worker}",
                self.sql.text(&format!(
                    "CASE WHEN expires_ms < {now} THEN expires_ms ELSE -1 END"
                ))
            ))
            .await?;
        let floor = match read.first() {
            None => {
                let insert = format!(
                    "INSERT INTO grant_id_workers (worker, owner, expires_ms) \
                     VALUES ({worker}, '{}', {now} + {ttl_ms})",
                    self.owner
                );
                if self.execute(insert).await.is_err() {
                    return Ok(None); // another process inserted it first
                }
                0
            }
            Some(expiry) => {
                let expiry: i64 = expiry.trim().parse().map_err(|_| {
                    format!("grant_id_workers holds an unreadable expiry `{expiry}`")
                })?;
                if expiry < 0 {
                    return Ok(None); // leased
                }
                self.execute(format!(
                    "UPDATE grant_id_workers SET owner = '{}', expires_ms = {now} + {ttl_ms} \
                     WHERE worker = {worker} AND expires_ms = {expiry}",
                    self.owner
                ))
                .await?;
                expiry as u64
            }
        };
        let won = self.owner_of(worker).await?.as_deref() == Some(self.owner.as_str());
        Ok(won.then_some(floor))
    }

    /// Extends the lease: `Ok(false)` when another process holds the number now.
    async fn renew(&self, worker: u32, ttl_ms: u128) -> Result<bool, String> {
        self.execute(format!(
            "UPDATE grant_id_workers SET expires_ms = {} + {ttl_ms} \
             WHERE worker = {worker} AND owner = '{}'",
            self.sql.now_ms(),
            self.owner
        ))
        .await?;
        Ok(self.owner_of(worker).await?.as_deref() == Some(self.owner.as_str()))
    }
}

impl IdGenerator {
    /// A generator whose worker number is leased from the table `grant_id_workers` on
    /// `shard`'s primary (created if missing): unique among the processes that lease from
    /// the same table, renewed in the background (the generator must be used inside a
    /// tokio runtime), given up when renewals fail for longer than the lease allows
    /// ([`IdError::LeaseLost`] from then on). The number is taken at random among the free
    /// ones; its previous owner's ids all come before this generator's.
    ///
    /// ```
    /// # use grant::__doc_schema::two_sqlite_shards;
    /// use grant::id::{IdGenerator, IdLayout, LeaseOptions};
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), grant::id::IdError> {
    /// # let (shards, _dir) = two_sqlite_shards().await;
    /// let ids = IdGenerator::lease(&shards, "s0", IdLayout::default(), LeaseOptions::default()).await?;
    /// let other = IdGenerator::lease(&shards, "s0", IdLayout::default(), LeaseOptions::default()).await?;
    /// assert_ne!(ids.worker(), other.worker());
    /// let id = ids.next_id(1).await?;
    /// assert_eq!(IdLayout::default().shard_of(id), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn lease<C: ShardConnection>(
        sharded: &Sharded<C>,
        shard: impl Into<ShardRef>,
        layout: IdLayout,
        options: LeaseOptions,
    ) -> Result<IdGenerator, IdError> {
        options.check()?;
        let table = Table {
            primary: PrimarySql::new(sharded.clone(), shard.into()),
            owner: format!("grant-{}", uuid::Uuid::new_v4().simple()),
        };
        let no_worker = |cause: String| IdError::NoWorker {
            shard: table.shard_name(),
            cause,
        };
        table
            .execute_or(create_sql(), crate::cluster::created_concurrently)
            .await
            .map_err(no_worker)?;
        let ttl_ms = options.ttl.as_millis();
        let count = layout.max_worker() + 1;
        let start = u64::from(uuid::Uuid::new_v4().as_u128() as u32) % count;
        for i in 0..count {
            let worker = ((start + i) % count) as u32;
            let asked = Instant::now();
            let Some(floor) =
                table
                    .try_take(worker, ttl_ms)
                    .await
                    .map_err(|cause| IdError::NoWorker {
                        shard: table.shard_name(),
                        cause,
                    })?
            else {
                continue;
            };
            let mut generator = IdGenerator::starting_after(layout, worker, floor)?;
            let state = Arc::new(LeaseState {
                worker,
                origin: asked,
                valid_until: AtomicU64::new(0),
                lost: Mutex::new(None),
            });
            state.extend(asked, options.ttl, options.margin);
            generator.renewal = Some(tokio::spawn(renew(
                table,
                worker,
                options,
                Arc::downgrade(&state),
            )));
            generator.lease = Some(state);
            tracing::debug!(worker, floor, "grant: leased an id worker number");
            return Ok(generator);
        }
        Err(IdError::NoWorker {
            shard: table.shard_name(),
            cause: format!("all {count} worker numbers are leased"),
        })
    }
}

/// Renews the lease every third of its time to live while the generator lives.
async fn renew<C: ShardConnection>(
    table: Table<C>,
    worker: u32,
    options: LeaseOptions,
    state: Weak<LeaseState>,
) {
    let every = options.ttl / 3;
    let ttl_ms = options.ttl.as_millis();
    loop {
        tokio::time::sleep(every).await;
        let Some(lease) = state.upgrade() else {
            return;
        };
        let started = Instant::now();
        match tokio::time::timeout(every, table.renew(worker, ttl_ms)).await {
            Ok(Ok(true)) => lease.extend(started, options.ttl, options.margin),
            Ok(Ok(false)) => {
                lease.lose(format!("another process holds worker {worker} now"));
                return;
            }
            Ok(Err(cause)) => {
                tracing::warn!(worker, cause, "grant: an id lease renewal failed");
                if let Ok(mut lost) = lease.lost.lock() {
                    *lost = Some(cause);
                }
            }
            Err(_) => {
                tracing::warn!(worker, "grant: an id lease renewal timed out");
                if let Ok(mut lost) = lease.lost.lock() {
                    *lost = Some("a renewal timed out".into());
                }
            }
        }
    }
}
