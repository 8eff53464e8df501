//! The control database: named topologies with a version, in `grant_topology`.

use super::WatchOptions;
use crate::cluster::primary_sql::PrimarySql;
use crate::cluster::{PoolConfig, ShardConnection};
use crate::shard::ShardRef;
use crate::{Error, Result, Sharded};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The channel a publish notifies on PostgreSQL.
pub(crate) const CHANNEL: &str = "grant_topology";

/// One version of a named topology, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The topology's name.
    pub name: String,
    /// Its version: 1 for the first publish, one more at each.
    pub version: u64,
    /// The topology, as TOML (see [`crate::Topology`]).
    pub topology: String,
}

/// A control database holding topology `name` (see [`crate::live`]). Cheap to clone.
///
/// ```
/// use grant::live::{Control, WatchOptions};
/// use grant::sqlite::AsyncSqliteConnection;
/// # #[tokio::main]
/// # async fn main() -> grant::Result<()> {
/// # let dir = grant::__doc_schema::DocDir::new();
/// # let path = |f: &str| dir.0.join(f).display().to_string();
/// # for f in ["s0.db", "s1.db"] { grant::__doc_schema::create_order_items(&path(f)).await; }
/// let control = Control::<AsyncSqliteConnection>::new(&path("control.db"), "orders")?;
/// let v1 = format!(
///     "[[shards]]\nname = 's0'\nurl = '{}'\n[strategy]\nkind = 'modulo'\n",
///     path("s0.db")
/// );
/// assert_eq!(control.publish(&v1, 0).await?, 1);
/// let shards = control.connect(WatchOptions::default()).await?;
/// assert_eq!(shards.routing().version(), 1);
///
/// // A second shard, appended: modulo over 2 shards moves keys, so `publish` refuses it;
/// // the shards hold no rows yet, so it is safe to publish as moving.
/// let v2 = v1.replace("[strategy]", &format!("[[shards]]\nname = 's1'\nurl = '{}'\n[strategy]", path("s1.db")));
/// assert!(control.publish(&v2, 1).await.is_err());
/// assert_eq!(control.publish_moving(&v2, 1).await?, 2);
/// shards.refresh_topology().await?;
/// assert_eq!((shards.routing().version(), shards.shard_count()), (2, 2));
///
/// // A publish that names an old version lost a race: nothing changes.
/// let lost = control.publish(&v1, 1).await;
/// assert!(matches!(lost, Err(grant::Error::TopologyVersionConflict { found: 2, .. })));
/// # Ok(())
/// # }
/// ```
pub struct Control<C: ShardConnection> {
    primary: Arc<PrimarySql<C>>,
    /// `grant_topology` is known to exist.
    ready: Arc<AtomicBool>,
    name: String,
    url: String,
}

impl<C: ShardConnection> Clone for Control<C> {
    fn clone(&self) -> Self {
        Control {
            primary: self.primary.clone(),
            ready: self.ready.clone(),
            name: self.name.clone(),
            url: self.url.clone(),
        }
    }
}

crate::opaque_debug::opaque_debug!([C: ShardConnection] Control<C>, "Control");

impl<C: ShardConnection> Control<C> {
    /// The control database at `url` (connected on first use), for topology `name` (1 to
    /// 200 letters, digits, `_`, `-` or `.`). Call it inside a tokio runtime.
    pub fn new(url: &str, name: &str) -> Result<Self> {
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
        if name.is_empty() || name.len() > 200 || !name.chars().all(valid) {
            return Err(Error::Control {
                name: name.to_owned(),
                cause: "a topology name is 1 to 200 letters, digits, `_`, `-` or `.`".into(),
            });
        }
        let pool = PoolConfig::default()
            .max_size(2)
            .connection_timeout(Duration::from_secs(2));
        let sharded = Sharded::<C>::builder()
            .shard("control", url)
            .pool(pool)
            .statement_timeout(Some(Duration::from_secs(5)))
            .build()?;
        Ok(Control {
            primary: Arc::new(PrimarySql::new(sharded, ShardRef::Name("control".into()))),
            ready: Arc::new(AtomicBool::new(false)),
            name: name.to_owned(),
            url: url.to_owned(),
        })
    }

    /// The topology's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The control database's URL without its password.
    pub fn redacted_url(&self) -> String {
        crate::redact::redact(&self.url).into_owned()
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    fn error(&self, cause: impl Into<String>) -> Error {
        Error::Control {
            name: self.name.clone(),
            cause: crate::redact::redact(&cause.into()).into_owned(),
        }
    }

    fn quoted_name(&self) -> String {
        // The name is checked to hold only letters, digits, `_`, `-` and `.`.
        format!("'{}'", self.name)
    }

    /// Creates `grant_topology` once (every read and write comes after).
    async fn ready(&self) -> Result<()> {
        if self.ready.load(Ordering::Relaxed) {
            return Ok(());
        }
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS grant_topology (name VARCHAR(200) NOT NULL PRIMARY KEY, \
             version BIGINT NOT NULL, body {} NOT NULL)",
            self.primary.sql.long_text()
        );
        self.primary
            .execute_or(sql, crate::cluster::created_concurrently)
            .await
            .map_err(|e| self.error(e))?;
        self.ready.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// The current version, `None` when nothing was published under the name.
    pub async fn version(&self) -> Result<Option<u64>> {
        self.ready().await?;
        let sql = format!(
            "SELECT {} AS item FROM grant_topology WHERE name = {}",
            self.primary.sql.text("version"),
            self.quoted_name()
        );
        let rows = self.primary.texts(sql).await.map_err(|e| self.error(e))?;
        rows.first()
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| self.error(format!("grant_topology holds version `{v}`")))
            })
            .transpose()
    }

    /// Version `version`'s topology, `None` when the stored version is another one.
    async fn body_at(&self, version: u64) -> Result<Option<String>> {
        self.ready().await?;
        let sql = format!(
            "SELECT body AS item FROM grant_topology WHERE name = {} AND version = {version}",
            self.quoted_name()
        );
        let rows = self.primary.texts(sql).await.map_err(|e| self.error(e))?;
        Ok(rows.into_iter().next())
    }

    /// The current version, `None` when nothing was published under the name.
    pub async fn current(&self) -> Result<Option<Published>> {
        // Read the version, then the body of that version: a publish in between makes the
        // second read find nothing, and the loop reads again.
        for _ in 0..10 {
            let Some(version) = self.version().await? else {
                return Ok(None);
            };
            if let Some(topology) = self.body_at(version).await? {
                return Ok(Some(self.published(version, topology)));
            }
        }
        Err(self.error("the version changed at every read (10 times): too many publishes"))
    }

    /// The current version if it is above `version`.
    pub(crate) async fn newer_than(&self, version: u64) -> Result<Option<Published>> {
        match self.version().await? {
            Some(v) if v > version => Ok(self
                .body_at(v)
                .await?
                .map(|topology| self.published(v, topology))),
            _ => Ok(None),
        }
    }

    fn published(&self, version: u64, topology: String) -> Published {
        Published {
            name: self.name.clone(),
            version,
            topology,
        }
    }

    /// Publishes `topology` (TOML, see [`crate::Topology`]) as the version after
    /// `expected` (0: the first) and returns its version. Handles that follow the name take
    /// it at their next read (at once on PostgreSQL, which notifies them).
    ///
    /// Publishing again what is already stored as the version after `expected` returns that
    /// version: a publish retried after its answer was lost does not conflict with itself.
    ///
    /// Errors: [`Error::TopologyVersionConflict`] when the stored version is not `expected`
    /// (another publish came first: read, re-apply the change, publish again);
    /// [`Error::Control`] when the topology does not parse or build, changes what a running
    /// handle cannot take (it may append shards and change strategies), or the control
    /// database cannot be reached.
    pub async fn publish(&self, topology: &str, expected: u64) -> Result<u64> {
        self.publish_checked(topology, expected, false).await
    }

    /// [`Control::publish`] of a version that moves keys between shards (see
    /// [`crate::reshard::plan`]): bucket moves, a hash over more shards, a changed range.
    /// `publish` refuses those, because handles would look for existing rows on shards that
    /// do not hold them; publish one with this only when the rows are where the new version
    /// routes them (they were moved, or the keys that move have no rows yet, as when a new
    /// shard takes a range of ids not issued yet).
    pub async fn publish_moving(&self, topology: &str, expected: u64) -> Result<u64> {
        self.publish_checked(topology, expected, true).await
    }

    async fn publish_checked(&self, topology: &str, expected: u64, moving: bool) -> Result<u64> {
        self.ready().await?;
        let previous = match expected {
            0 => None,
            v => match self.body_at(v).await {
                Ok(Some(body)) => Some(body),
                Ok(None) | Err(_) => return Err(self.conflict(expected).await),
            },
        };
        let previous = previous
            .map(|body| crate::config::Topology::from_toml_str(&body))
            .transpose()
            .map_err(|e| {
                self.error(format!("the stored version {expected} does not parse: {e}"))
            })?;
        let checked = super::apply::check(previous.as_ref(), topology)
            .map_err(|cause| self.error(format!("refused: {cause}")))?;
        if let (Some(previous), false) = (&previous, moving) {
            let plan = crate::reshard::plan(previous, &checked)?;
            if let Some(change) = plan.changes.first() {
                let what = match &change.kind {
                    crate::reshard::ChangeKind::Buckets(moves) => {
                        let first = moves
                            .first()
                            .map(|m| {
                                format!(
                                    " (bucket {} from `{}` to `{}`, ..)",
                                    m.bucket, m.from, m.to
                                )
                            })
                            .unwrap_or_default();
                        format!("{} bucket(s) change shards{first}", moves.len())
                    }
                    crate::reshard::ChangeKind::Remap(why) => why.clone(),
                };
                return Err(self.error(format!(
                    "refused: keys of {} would change shards: {what}; existing rows would be                      looked for where they are not. Move them first, or use publish_moving                      (`grant topology publish --moving`) when they are already where this                      version routes them",
                    if change.table == "(default)" {
                        "the default strategy".to_owned()
                    } else {
                        format!("table `{}`", change.table)
                    }
                )));
            }
        }
        let body = self.primary.sql.literal(topology).ok_or_else(|| {
            self.error("refused: the topology holds a NUL character, which no backend stores")
        })?;
        let next = expected + 1;
        let write = if expected == 0 {
            format!(
                "INSERT INTO grant_topology (name, version, body) VALUES ({}, 1, {body})",
                self.quoted_name()
            )
        } else {
            format!(
                "UPDATE grant_topology SET version = {next}, body = {body} \
                 WHERE name = {} AND version = {expected}",
                self.quoted_name()
            )
        };
        // A duplicate first version fails here, and an update of another version changes
        // nothing: the read below tells who won.
        let written = self.primary.execute(write).await;
        match self.body_at(next).await? {
            Some(stored) if stored == topology => {}
            _ => {
                return Err(match (written, self.conflict(expected).await) {
                    // Nobody else wrote: the write itself failed.
                    (Err(e), Error::TopologyVersionConflict { found, .. }) if found == expected => {
                        self.error(e)
                    }
                    (_, conflict) => conflict,
                });
            }
        }
        if C::BACKEND == "postgres" {
            // Wakes the handles that listen; they read at their next poll anyway.
            let notify = format!("NOTIFY {CHANNEL}, {}", self.quoted_name());
            if let Err(e) = self.primary.execute(notify).await {
                tracing::warn!(error = %e, "published, but could not notify the handles");
            }
        }
        Ok(next)
    }

    async fn conflict(&self, expected: u64) -> Error {
        match self.version().await {
            Ok(found) => Error::TopologyVersionConflict {
                name: self.name.clone(),
                expected,
                found: found.unwrap_or(0),
            },
            Err(e) => e,
        }
    }

    /// A [`Sharded`] built from the current version, which follows the next ones (see
    /// [`crate::live`]). [`Error::Control`] when nothing is published under the name or the
    /// control database cannot be reached (a handle needs it once, to start).
    pub async fn connect(&self, options: WatchOptions) -> Result<Sharded<C>> {
        let published = self.current().await?.ok_or_else(|| {
            self.error("nothing is published under this name: publish a topology first")
        })?;
        let topology = crate::config::Topology::from_toml_str(&published.topology)?;
        let parts = topology.builder::<C>()?.into_parts()?;
        let sharded = Sharded::from_parts(
            parts.clusters,
            parts.routing.at_version(published.version),
            parts.health,
            parts.statement_timeout,
            parts.coalesce,
        );
        sharded.source().follow(
            super::LiveStatus {
                name: self.name.clone(),
                control: self.redacted_url(),
                poll: options.poll,
                last_read: Some(std::time::SystemTime::now()),
                ..Default::default()
            },
            topology,
        );
        crate::cluster::metrics_topology(&self.name, published.version, true);
        super::watch::spawn(&sharded, self.clone(), options);
        Ok(sharded)
    }
}
