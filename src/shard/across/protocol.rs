//! The SQL of two-phase commit on each backend, and the names of grant's distributed
//! transactions.
//!
//! A shard's hash is the stable hash of its name and its database's name (the URL's path).
//! A transaction's id is `grant-<32 hex: random>-<16 hex: the decider shard's hash>`:
//! recovery finds the shard that holds the decision from the id alone. Each participant's
//! branch adds its own shard's hash, so that two shards on one server (databases of one
//! PostgreSQL cluster, of one MariaDB server) never share a branch name, and a recovery
//! acts only on its own databases' branches, even where another application's shards have
//! the same names on the same server (MySQL's `XA RECOVER` lists the whole server's):
//! PostgreSQL's gid is `<id>-<participant hash>`; MySQL's xid is
//! `'<id>','<participant hash>'`.

use diesel_async::SimpleAsyncConnection;

/// The table, on every shard that decides a transaction, that holds the decisions.
pub(crate) const DECISIONS: &str = "grant_2pc_decisions";

/// A shard's hash: 16 hex digits of the stable hash of its name and its database's name.
pub(crate) fn name_hash(shard: &str, database: &str) -> String {
    let mut bytes = Vec::with_capacity(shard.len() + database.len() + 1);
    bytes.extend_from_slice(shard.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(database.as_bytes());
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&bytes))
}

/// A new transaction id decided on the shard whose hash is `decider`.
pub(crate) fn new_id(decider: &str) -> String {
    format!("grant-{}-{decider}", uuid::Uuid::new_v4().simple())
}

/// Whether `id` has the shape of a grant transaction id (so that it can be written into
/// SQL as a literal: hex digits, `-` and `grant` only).
pub(crate) fn is_id(id: &str) -> bool {
    id.len() == 55
        && id.starts_with("grant-")
        && id[6..].bytes().enumerate().all(|(i, b)| {
            if i == 32 {
                b == b'-'
            } else {
                b.is_ascii_hexdigit() && !b.is_ascii_uppercase()
            }
        })
}

/// The decider's name hash in a transaction id.
pub(crate) fn decider_hash(id: &str) -> &str {
    &id[39..]
}

/// The statements of one backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Postgres,
    Mysql,
}

impl Dialect {
    /// The backend's dialect; `None` where grant has no two-phase commit (SQLite).
    pub(crate) fn of(backend: &str) -> Option<Dialect> {
        match backend {
            "postgres" => Some(Dialect::Postgres),
            "mysql" => Some(Dialect::Mysql),
            _ => None,
        }
    }

    /// The branch of transaction `id` on the shard whose name hash is `participant`.
    fn branch(self, id: &str, participant: &str) -> String {
        match self {
            Dialect::Postgres => format!("'{id}-{participant}'"),
            Dialect::Mysql => format!("'{id}','{participant}'"),
        }
    }

    pub(crate) fn begin(self, id: &str, participant: &str) -> String {
        match self {
            Dialect::Postgres => "BEGIN".to_owned(),
            Dialect::Mysql => format!("XA START {}", self.branch(id, participant)),
        }
    }

    /// Prepares the branch (the statements, run in order).
    pub(crate) fn prepare(self, id: &str, participant: &str) -> Vec<String> {
        let b = self.branch(id, participant);
        match self {
            Dialect::Postgres => vec![format!("PREPARE TRANSACTION {b}")],
            Dialect::Mysql => vec![format!("XA END {b}"), format!("XA PREPARE {b}")],
        }
    }

    /// Commits a branch that was not prepared (the decider, or the only participant).
    pub(crate) fn commit_one_phase(self, id: &str, participant: &str) -> Vec<String> {
        let b = self.branch(id, participant);
        match self {
            Dialect::Postgres => vec!["COMMIT".to_owned()],
            Dialect::Mysql => vec![format!("XA END {b}"), format!("XA COMMIT {b} ONE PHASE")],
        }
    }

    /// Rolls back a branch that was not prepared.
    pub(crate) fn rollback_open(self, id: &str, participant: &str) -> Vec<String> {
        let b = self.branch(id, participant);
        match self {
            Dialect::Postgres => vec!["ROLLBACK".to_owned()],
            Dialect::Mysql => vec![format!("XA END {b}"), format!("XA ROLLBACK {b}")],
        }
    }

    pub(crate) fn commit_prepared(self, id: &str, participant: &str) -> String {
        let b = self.branch(id, participant);
        match self {
            Dialect::Postgres => format!("COMMIT PREPARED {b}"),
            Dialect::Mysql => format!("XA COMMIT {b}"),
        }
    }

    pub(crate) fn rollback_prepared(self, id: &str, participant: &str) -> String {
        let b = self.branch(id, participant);
        match self {
            Dialect::Postgres => format!("ROLLBACK PREPARED {b}"),
            Dialect::Mysql => format!("XA ROLLBACK {b}"),
        }
    }

    pub(crate) fn create_decisions(self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {DECISIONS} (id VARCHAR(64) NOT NULL PRIMARY KEY, \
             decision VARCHAR(8) NOT NULL)"
        )
    }

    /// Records `commit` for `id`, in the decider's own transaction.
    pub(crate) fn decide_commit(self, id: &str) -> String {
        format!("INSERT INTO {DECISIONS} (id, decision) VALUES ('{id}', 'commit')")
    }

    /// Records `abort` for `id` unless a decision exists; waits while a coordinator's
    /// uncommitted decision holds the key.
    pub(crate) fn decide_abort_unless_decided(self, id: &str) -> String {
        match self {
            Dialect::Postgres => format!(
                "INSERT INTO {DECISIONS} (id, decision) VALUES ('{id}', 'abort') \
                 ON CONFLICT (id) DO NOTHING"
            ),
            Dialect::Mysql => {
                format!("INSERT IGNORE INTO {DECISIONS} (id, decision) VALUES ('{id}', 'abort')")
            }
        }
    }

    /// Deletes the decision of `id` once every branch followed it.
    pub(crate) fn forget(self, id: &str) -> String {
        format!("DELETE FROM {DECISIONS} WHERE id = '{id}'")
    }

    pub(crate) fn read_decision(self, id: &str) -> String {
        format!("SELECT decision AS item FROM {DECISIONS} WHERE id = '{id}'")
    }
}

/// Runs `statements` in order on `conn`.
pub(crate) async fn run_all<C: SimpleAsyncConnection + Send>(
    conn: &mut C,
    statements: &[String],
) -> diesel::QueryResult<()> {
    for s in statements {
        conn.batch_execute(s).await?;
    }
    Ok(())
}

/// The server no longer has the branch (another recovery settled it).
pub(crate) fn is_unknown_branch(e: &diesel::result::Error) -> bool {
    let m = e.to_string().to_ascii_lowercase();
    m.contains("does not exist") || m.contains("xaer_nota") || m.contains("unknown xid")
}

#[cfg(test)]
mod tests {
    use super::{decider_hash, is_id, name_hash, new_id};

    #[test]
    fn ids_name_their_decider() {
        let id = new_id(&name_hash("s1", "app"));
        assert!(is_id(&id), "{id}");
        assert_eq!(decider_hash(&id), name_hash("s1", "app"));
        assert_ne!(name_hash("s1", "app"), name_hash("s1", "other_app"));
        assert!(!is_id("grant-x'; DROP TABLE t; --"));
        assert!(!is_id(&id.to_uppercase()));
    }
}
