//! A PostgreSQL primary and its streaming replica of their own, for tests that stop,
//! pause or promote servers (which the shared servers of `scripts/servers.sh` must not
//! suffer). Each pair lives in its own directory on its own ports and is removed on drop.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct PgPair {
    dir: PathBuf,
    bin: PathBuf,
    pub primary_port: u16,
    pub replica_port: u16,
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn pg_bin() -> PathBuf {
    if let Ok(bin) = std::env::var("GRANT_PG_BIN")
        && !bin.is_empty()
    {
        return PathBuf::from(bin);
    }
    let missing = |e: &dyn std::fmt::Display| -> ! {
        super::server_missing(
            "PostgreSQL's programs (initdb, pg_ctl)",
            "/usr/lib/postgresql",
            e,
        )
    };
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .unwrap_or_else(|e| missing(&e))
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .unwrap_or_else(|| missing(&"no bin directory with initdb"))
}

impl PgPair {
    /// Creates and starts a primary and a streaming replica. With `synchronous`, the
    /// primary acknowledges a commit only once the replica has it (`synchronous_standby_names
    /// = '*'`), so a promoted replica holds every acknowledged write.
    pub fn start(synchronous: bool) -> PgPair {
        let base =
            std::env::var("GRANT_SERVERS_DIR").unwrap_or_else(|_| "/tmp/grant-servers".into());
        let dir = PathBuf::from(base)
            .join("pairs")
            .join(super::unique_name("pair"));
        std::fs::create_dir_all(&dir).expect("create the pair's directory");
        let pair = PgPair {
            dir,
            bin: pg_bin(),
            primary_port: free_port(),
            replica_port: free_port(),
        };
        if is_root() {
            pair.run_as_is(
                "chown",
                &["-R", "postgres", pair.dir.to_str().unwrap_or_default()],
            );
            pair.run_as_is(
                "chown",
                &[
                    "postgres",
                    pair.dir.parent().and_then(Path::to_str).unwrap_or_default(),
                ],
            );
        }
        let primary = pair.primary_dir();
        pair.pg(
            "initdb",
            &[
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "--encoding=UTF8",
                "--no-locale",
                "-D",
                &primary,
            ],
        );
        let mut conf = format!(
            "port = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             max_connections = 100\nshared_buffers = 32MB\nwal_level = replica\nmax_wal_senders = 4\n\
             hot_standby = on\nfsync = off\nfull_page_writes = off\nwal_keep_size = 64MB\n",
            pair.primary_port,
            pair.dir.display()
        );
        if synchronous {
            conf.push_str("synchronous_standby_names = '*'\nsynchronous_commit = on\n");
        }
        pair.append(&primary, &conf);
        pair.start_instance(&primary);
        let replica = pair.replica_dir();
        let port = pair.primary_port.to_string();
        pair.pg(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                &replica,
                "-R",
                "-X",
                "stream",
            ],
        );
        // The copied configuration names a synchronous standby; the replica, once
        // promoted, has none, and would wait for one on every commit.
        pair.append(
            &replica,
            &format!(
                "port = {}\nsynchronous_standby_names = ''\n",
                pair.replica_port
            ),
        );
        pair.start_instance(&replica);
        pair
    }

    fn primary_dir(&self) -> String {
        self.dir.join("primary").display().to_string()
    }

    fn replica_dir(&self) -> String {
        self.dir.join("replica").display().to_string()
    }

    fn append(&self, data: &str, text: &str) {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(Path::new(data).join("postgresql.conf"))
            .expect("open postgresql.conf");
        file.write_all(text.as_bytes())
            .expect("write postgresql.conf");
    }

    fn run_as_is(&self, program: &str, args: &[&str]) {
        let status = Command::new(program).args(args).status().expect(program);
        assert!(status.success(), "{program} {args:?} failed");
    }

    /// Runs a PostgreSQL program (as `postgres` when root: PostgreSQL refuses root).
    fn pg_output(&self, program: &str, args: &[&str]) -> std::io::Result<std::process::Output> {
        let path = self.bin.join(program);
        if is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&path)
                .args(args)
                .output()
        } else {
            Command::new(&path).args(args).output()
        }
    }

    /// Runs a PostgreSQL program and checks that it succeeded.
    fn pg(&self, program: &str, args: &[&str]) {
        let output = self
            .pg_output(program, args)
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn start_instance(&self, data: &str) {
        let log = format!("{data}.log");
        self.pg(
            "pg_ctl",
            &["-D", data, "-l", &log, "-w", "-t", "60", "start"],
        );
    }

    /// Creates database `name` on the primary (the replica follows).
    pub async fn create_database(&self, name: &str) {
        use diesel_async::{AsyncConnection, SimpleAsyncConnection};
        let mut admin = diesel_async::AsyncPgConnection::establish(&self.primary_url("postgres"))
            .await
            .expect("connect to the pair's primary");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create the database");
    }

    /// `postgres://..` of database `db` on the primary.
    pub fn primary_url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.primary_port)
    }

    /// `postgres://..` of database `db` on the replica.
    pub fn replica_url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.replica_port)
    }

    /// Kills the primary at once (no shutdown checkpoint, connections cut): a crash.
    pub fn kill_primary(&self) {
        self.pg(
            "pg_ctl",
            &["-D", &self.primary_dir(), "-m", "immediate", "stop"],
        );
    }

    /// Kills the replica at once.
    pub fn kill_replica(&self) {
        self.pg(
            "pg_ctl",
            &["-D", &self.replica_dir(), "-m", "immediate", "stop"],
        );
    }

    /// Promotes the replica to primary and waits until it accepts writes.
    pub fn promote_replica(&self) {
        self.pg("pg_ctl", &["-D", &self.replica_dir(), "-w", "promote"]);
    }
}

impl Drop for PgPair {
    fn drop(&mut self) {
        for data in [self.replica_dir(), self.primary_dir()] {
            let path = self.bin.join("pg_ctl");
            let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
            let _ = if is_root() {
                Command::new("runuser")
                    .args(["-u", "postgres", "--"])
                    .arg(&path)
                    .args(args)
                    .output()
            } else {
                Command::new(&path).args(args).output()
            };
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
