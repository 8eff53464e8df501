//! Test support: a fresh database per test on the project's own servers (started by
//! `scripts/servers.sh`), with the example migrations applied, dropped again afterwards.
#![allow(dead_code)]

pub mod fault_proxy;
pub mod pg_pair;

use diesel_async::{AsyncConnection, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/mysql");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// The PostgreSQL server (no database): `GRANT_PG_URL` or the default of `scripts/servers.sh`.
pub fn pg_server_url() -> String {
    std::env::var("GRANT_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:54320".into())
}

/// The MariaDB server (no database): `GRANT_MYSQL_URL` or the default of `scripts/servers.sh`.
pub fn mysql_server_url() -> String {
    std::env::var("GRANT_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:53306".into())
}

/// Waits (up to 20 s, checking every 20 ms) until `check` holds; fails the test naming
/// `what` otherwise.
pub async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let started = std::time::Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "timed out waiting until {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A database name no other test (or test process) uses, at most 63 characters (MySQL
/// allows 64, PostgreSQL 63): long test names are cut, the unique tail is kept.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let random = uuid::Uuid::new_v4().simple().to_string();
    let prefix = &prefix[..prefix.len().min(32)];
    format!(
        "grant_{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        &random[..8]
    )
}

/// Fails the test with one line that says which server is missing and how to start it. A
/// panic hook prints that line alone (no location, no backtrace), so that `cargo test`
/// without the servers reads as one instruction per test rather than a wall of backtraces.
pub fn server_missing(what: &str, server: &str, error: impl std::fmt::Display) -> ! {
    const MARK: &str = "test server missing: ";
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            match info.payload().downcast_ref::<String>() {
                Some(message) if message.starts_with(MARK) => eprintln!("{message}"),
                _ => default(info),
            }
        }));
    });
    let server = redact(server);
    panic!(
        "{MARK}{what} is not reachable at {server} ({error}): start the test servers with \
         `scripts/servers.sh start` (then `eval \"$(scripts/servers.sh env)\"`), or run every \
         test with `scripts/test.sh`"
    )
}

/// `scheme://user:***@host/..`: a URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Pg,
    Mysql,
    Sqlite,
}

/// Runs a test body once per backend, each on a fresh migrated database: generates a module
/// `$name` with the tests `postgres`, `mariadb` and `sqlite`. In the body, `$db` is the
/// [`TestDb`], `$conn` a `&mut` connection to it, and `$open()` opens another connection.
#[macro_export]
macro_rules! on_every_backend {
    ($(#[$meta:meta])* async fn $name:ident($db:ident, $conn:ident, $open:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use $crate::common::{Backend, TestDb};

            #[tokio::test(flavor = "multi_thread")]
            async fn postgres() {
                let $db = TestDb::migrated(Backend::Pg, stringify!($name)).await;
                #[allow(unused_variables)]
                let $open = || $db.pg();
                let mut conn = $db.pg().await;
                let $conn = &mut conn;
                $body
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn mariadb() {
                let $db = TestDb::migrated(Backend::Mysql, stringify!($name)).await;
                #[allow(unused_variables)]
                let $open = || $db.mysql();
                let mut conn = $db.mysql().await;
                let $conn = &mut conn;
                $body
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn sqlite() {
                let $db = TestDb::migrated(Backend::Sqlite, stringify!($name)).await;
                #[allow(unused_variables)]
                let $open = || $db.sqlite();
                let mut conn = $db.sqlite().await;
                let $conn = &mut conn;
                $body
            }
        }
    };
}

/// A database of its own for one test; dropped (or deleted) when this value is dropped.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pub name: String,
    server: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// An empty PostgreSQL database.
    pub async fn pg_empty(prefix: &str) -> TestDb {
        let server = pg_server_url();
        let name = unique_name(prefix);
        let mut admin = diesel_async::AsyncPgConnection::establish(&format!("{server}/postgres"))
            .await
            .unwrap_or_else(|e| server_missing("PostgreSQL", &server, e));
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("create database {name}: {e}"));
        TestDb {
            backend: Backend::Pg,
            url: format!("{server}/{name}"),
            name,
            server,
            _dir: None,
        }
    }

    /// An empty MariaDB database.
    pub async fn mysql_empty(prefix: &str) -> TestDb {
        let server = mysql_server_url();
        let name = unique_name(prefix);
        let mut admin = diesel_async::AsyncMysqlConnection::establish(&format!("{server}/mysql"))
            .await
            .unwrap_or_else(|e| server_missing("MariaDB", &server, e));
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("create database {name}: {e}"));
        TestDb {
            backend: Backend::Mysql,
            url: format!("{server}/{name}"),
            name,
            server,
            _dir: None,
        }
    }

    /// An empty SQLite file in a temporary directory.
    pub async fn sqlite_empty(prefix: &str) -> TestDb {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let name = unique_name(prefix);
        let url = dir.path().join(format!("{name}.db")).display().to_string();
        TestDb {
            backend: Backend::Sqlite,
            url,
            name,
            server: String::new(),
            _dir: Some(dir),
        }
    }

    /// A database of `backend` with the example migrations applied.
    pub async fn migrated(backend: Backend, prefix: &str) -> TestDb {
        let db = match backend {
            Backend::Pg => TestDb::pg_empty(prefix).await,
            Backend::Mysql => TestDb::mysql_empty(prefix).await,
            Backend::Sqlite => TestDb::sqlite_empty(prefix).await,
        };
        db.run_migrations().await;
        db
    }

    /// The same database on the shared server's streaming replica (PostgreSQL, MariaDB).
    pub fn replica_url(&self) -> String {
        let (var, default) = match self.backend {
            Backend::Pg => (
                "GRANT_PG_REPLICA_URL",
                "postgres://postgres@127.0.0.1:54321",
            ),
            Backend::Mysql => ("GRANT_MYSQL_REPLICA_URL", "mysql://root@127.0.0.1:53307"),
            Backend::Sqlite => panic!("SQLite has no replica"),
        };
        let server = std::env::var(var).unwrap_or_else(|_| default.into());
        format!("{server}/{}", self.name)
    }

    /// Applies the example migrations with grant's own runner.
    pub async fn run_migrations(&self) {
        let db = [(self.name.clone(), self.url.clone())];
        let result = match self.backend {
            Backend::Pg => {
                grant::migrate::run::<diesel_async::AsyncPgConnection, _>(&db, &PG_MIGRATIONS).await
            }
            Backend::Mysql => {
                grant::migrate::run::<diesel_async::AsyncMysqlConnection, _>(&db, &MYSQL_MIGRATIONS)
                    .await
            }
            Backend::Sqlite => {
                grant::migrate::run::<grant::sqlite::AsyncSqliteConnection, _>(
                    &db,
                    &SQLITE_MIGRATIONS,
                )
                .await
            }
        };
        result.unwrap_or_else(|e| panic!("migrations: {e}"));
    }

    /// A connection of type `C` (outside any pool).
    pub async fn connect<C: grant::ShardConnection>(&self) -> C {
        C::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("connect {}: {e}", self.url))
    }

    pub async fn pg(&self) -> diesel_async::AsyncPgConnection {
        diesel_async::AsyncPgConnection::establish(&self.url)
            .await
            .unwrap_or_else(|e| panic!("connect {}: {e}", self.url))
    }

    pub async fn mysql(&self) -> diesel_async::AsyncMysqlConnection {
        diesel_async::AsyncMysqlConnection::establish(&self.url)
            .await
            .unwrap_or_else(|e| panic!("connect {}: {e}", self.url))
    }

    pub async fn sqlite(&self) -> grant::sqlite::AsyncSqliteConnection {
        grant::sqlite::establish(&self.url)
            .await
            .unwrap_or_else(|e| panic!("open {}: {e}", self.url))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.backend == Backend::Sqlite {
            return; // the temp dir goes with `_dir`
        }
        let (backend, server, name) = (self.backend, self.server.clone(), self.name.clone());
        // Drop may run inside a runtime: use a thread of its own with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async move {
                match backend {
                    Backend::Pg => {
                        let mut admin = diesel_async::AsyncPgConnection::establish(&format!(
                            "{server}/postgres"
                        ))
                        .await?;
                        admin
                            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .await?;
                    }
                    Backend::Mysql => {
                        let mut admin = diesel_async::AsyncMysqlConnection::establish(&format!(
                            "{server}/mysql"
                        ))
                        .await?;
                        admin
                            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
                            .await?;
                    }
                    Backend::Sqlite => {}
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
            .map_err(|e| e.to_string())
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("warning: could not drop test database {}: {e}", self.name);
        }
    }
}

/// Several migrated databases of one backend, to be the shards of a test.
pub struct TestShards {
    pub dbs: Vec<TestDb>,
}

impl TestShards {
    /// `n` migrated databases of `backend`, named `s0`, `s1`, .. in the topology.
    pub async fn new(backend: Backend, n: usize, prefix: &str) -> TestShards {
        let mut dbs = Vec::with_capacity(n);
        for i in 0..n {
            dbs.push(TestDb::migrated(backend, &format!("{prefix}_s{i}")).await);
        }
        TestShards { dbs }
    }

    /// A builder with every database as a shard (`s0`, `s1`, ..), no strategy yet.
    pub fn builder<C: grant::ShardConnection>(&self) -> grant::ShardedBuilder<C> {
        self.dbs
            .iter()
            .enumerate()
            .fold(grant::Sharded::<C>::builder(), |b, (i, db)| {
                b.shard(format!("s{i}"), &db.url)
            })
    }

    /// A direct connection to shard `i` (not through grant's routing).
    pub async fn direct<C: grant::ShardConnection>(&self, i: usize) -> C {
        self.dbs[i].connect::<C>().await
    }
}

/// Runs a test body on real shards of every backend: PostgreSQL (4 databases), MariaDB (2)
/// and SQLite (4 files). In the body, `Conn` is the backend's connection type and `$shards`
/// the [`TestShards`].
#[macro_export]
macro_rules! on_every_sharded_backend {
    ($(#[$meta:meta])* async fn $name:ident($shards:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use $crate::common::{Backend, TestShards};

            #[tokio::test(flavor = "multi_thread")]
            async fn postgres() {
                #[allow(dead_code)]
                type Conn = diesel_async::AsyncPgConnection;
                let $shards = TestShards::new(Backend::Pg, 4, stringify!($name)).await;
                $body
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn mariadb() {
                #[allow(dead_code)]
                type Conn = diesel_async::AsyncMysqlConnection;
                let $shards = TestShards::new(Backend::Mysql, 2, stringify!($name)).await;
                $body
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn sqlite() {
                #[allow(dead_code)]
                type Conn = grant::sqlite::AsyncSqliteConnection;
                let $shards = TestShards::new(Backend::Sqlite, 4, stringify!($name)).await;
                $body
            }
        }
    };
}
