//! The `grant` binary, run as a user runs it, against the test servers: migrations on 4
//! PostgreSQL shards, 2 MariaDB shards and 4 SQLite shards; a migration that fails on one
//! shard is reported (naming the shard and the migration) and finished by the next run; two
//! runs at once do not race; `--json` parses; `route` agrees with the library.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
#[path = "../schema/mod.rs"]
mod schema;

use common::{Backend, TestDb};
use diesel_async::SimpleAsyncConnection;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `grant --config <config> <args>`.
fn grant(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_grant"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("run grant")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The reports of a `--json migration ..` run.
fn reports(out: &Output) -> Vec<serde_json::Value> {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(out)))
}

/// A topology of these shard URLs, hashed by order.
fn topology(dir: &Path, urls: &[String]) -> PathBuf {
    let mut text = String::new();
    for (i, url) in urls.iter().enumerate() {
        text.push_str(&format!("[[shards]]\nname = \"s{i}\"\nurl = \"{url}\"\n\n"));
    }
    text.push_str(
        "[strategy]\nkind = \"jump\"\n\n[tables.order_items]\nshard_key = [\"bigint\"]\n",
    );
    let path = dir.join("grant.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A copy of the backend's migrations with one more (`2026-12-01-000000_extra`): its
/// `up.sql` creates table `extra` and, when `slow`, sleeps first.
fn migrations(dir: &Path, backend: &str, sleep: Option<&str>) -> PathBuf {
    let out = dir.join("migrations");
    for entry in std::fs::read_dir(format!("migrations/{backend}")).unwrap() {
        let entry = entry.unwrap();
        let to = out.join(entry.file_name());
        std::fs::create_dir_all(&to).unwrap();
        for file in std::fs::read_dir(entry.path()).unwrap() {
            let file = file.unwrap();
            std::fs::copy(file.path(), to.join(file.file_name())).unwrap();
        }
    }
    let extra = out.join("2026-12-01-000000_extra");
    std::fs::create_dir_all(&extra).unwrap();
    let up = format!(
        "{}CREATE TABLE extra (id INT PRIMARY KEY);",
        sleep.unwrap_or("")
    );
    std::fs::write(extra.join("up.sql"), up).unwrap();
    std::fs::write(extra.join("down.sql"), "DROP TABLE extra;").unwrap();
    out
}

/// Runs, fails on the shard where `extra` already exists (`spoil`, the last), finishes
/// after it is dropped, reverts and lists, on the fleet of `urls`.
async fn fleet_lifecycle(backend: &str, urls: Vec<String>, spoil: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let config = topology(dir.path(), &urls);
    let dir_arg = migrations(dir.path(), backend, None);
    let dir_arg = dir_arg.to_str().unwrap();
    let n = urls.len();

    // The pending list names 3 migrations on every shard.
    let out = grant(
        &config,
        &["--json", "migration", "pending", "--dir", dir_arg],
    );
    assert!(out.status.success(), "{out:?}");
    let pending = reports(&out);
    assert_eq!(pending.len(), n);
    assert!(
        pending
            .iter()
            .all(|r| r["pending"].as_array().unwrap().len() == 3)
    );

    // One shard already has a table `extra`: the third migration fails there only.
    exec(spoil, "CREATE TABLE extra (id INT PRIMARY KEY)").await;
    let out = grant(&config, &["--json", "migration", "run", "--dir", dir_arg]);
    assert!(!out.status.success(), "a failed shard fails the command");
    let raw = reports(&out);
    for (i, r) in raw.iter().enumerate() {
        if i == n - 1 {
            let error = &r["error"];
            assert_eq!(error["database"], format!("s{i}"));
            assert_eq!(error["migration"], "2026-12-01-000000_extra");
            assert_eq!(
                strings(&r["changed"]).len(),
                2,
                "the first two applied there"
            );
            assert_eq!(strings(&r["pending"]), ["2026-12-01-000000_extra"]);
        } else {
            assert!(r["error"].is_null(), "{r}");
            assert_eq!(strings(&r["changed"]).len(), 3);
        }
    }
    // The human summary names the shard and the migration too.
    let out = grant(&config, &["migration", "run", "--dir", dir_arg]);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("s{}", n - 1))
            && text.contains("FAILED")
            && text.contains("2026-12-01-000000_extra"),
        "{text}"
    );

    // Mended, the next run finishes the job.
    exec(spoil, "DROP TABLE extra").await;
    let out = grant(&config, &["--json", "migration", "run", "--dir", dir_arg]);
    assert!(out.status.success(), "{}", stdout(&out));
    let done = reports(&out);
    for (i, r) in done.iter().enumerate() {
        let changed = r["changed"].as_array().unwrap().len();
        assert_eq!(changed, usize::from(i == n - 1), "{r}");
        assert_eq!(r["applied"].as_array().unwrap().len(), 3);
    }

    // Revert the newest everywhere, then list.
    let out = grant(
        &config,
        &["--json", "migration", "revert", "--dir", dir_arg],
    );
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        reports(&out)
            .iter()
            .all(|r| r["changed"] == serde_json::json!(["2026-12-01-000000_extra"]))
    );
    let out = grant(&config, &["migration", "list", "--dir", dir_arg]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.lines().count() == n + 1, "{text}");
    assert!(text.contains("20261127110000"), "{text}");
}

/// Runs `sql` on `db` directly.
async fn exec(db: &TestDb, sql: &str) {
    match db.backend {
        Backend::Pg => db.pg().await.batch_execute(sql).await.unwrap(),
        Backend::Mysql => db.mysql().await.batch_execute(sql).await.unwrap(),
        Backend::Sqlite => db.sqlite().await.batch_execute(sql).await.unwrap(),
    }
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_fleet_of_4() {
    let dbs = [
        TestDb::pg_empty("cli_pg0").await,
        TestDb::pg_empty("cli_pg1").await,
        TestDb::pg_empty("cli_pg2").await,
        TestDb::pg_empty("cli_pg3").await,
    ];
    let urls = dbs.iter().map(|d| d.url.clone()).collect();
    fleet_lifecycle("postgres", urls, &dbs[3]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_fleet_of_2() {
    let dbs = [
        TestDb::mysql_empty("cli_my0").await,
        TestDb::mysql_empty("cli_my1").await,
    ];
    let urls = dbs.iter().map(|d| d.url.clone()).collect();
    fleet_lifecycle("mysql", urls, &dbs[1]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_fleet_of_4() {
    let dbs = [
        TestDb::sqlite_empty("cli_lite0").await,
        TestDb::sqlite_empty("cli_lite1").await,
        TestDb::sqlite_empty("cli_lite2").await,
        TestDb::sqlite_empty("cli_lite3").await,
    ];
    let urls = dbs.iter().map(|d| d.url.clone()).collect();
    fleet_lifecycle("sqlite", urls, &dbs[3]).await;
}

/// Two runs at once on the same 4 PostgreSQL shards, with a migration that takes a second:
/// both succeed, each migration is applied once per shard (the second run waited for the
/// first's lock, then found nothing pending).
#[tokio::test(flavor = "multi_thread")]
async fn two_runs_at_once_do_not_race() {
    let dbs = [
        TestDb::pg_empty("cli_race0").await,
        TestDb::pg_empty("cli_race1").await,
        TestDb::pg_empty("cli_race2").await,
        TestDb::pg_empty("cli_race3").await,
    ];
    let dir = tempfile::tempdir().unwrap();
    let urls: Vec<String> = dbs.iter().map(|d| d.url.clone()).collect();
    let config = topology(dir.path(), &urls);
    let dir_arg = migrations(dir.path(), "postgres", Some("SELECT pg_sleep(1);"));
    let args = [
        "--json",
        "migration",
        "run",
        "--dir",
        dir_arg.to_str().unwrap(),
    ];
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| grant(&config, &args));
        let b = s.spawn(|| grant(&config, &args));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(a.status.success(), "{}", stdout(&a));
    assert!(b.status.success(), "{}", stdout(&b));
    let (a, b) = (reports(&a), reports(&b));
    for i in 0..4 {
        let changed = |r: &[serde_json::Value]| r[i]["changed"].as_array().unwrap().len();
        assert_eq!(
            changed(&a) + changed(&b),
            3,
            "shard s{i}: each migration once"
        );
        assert_eq!(a[i]["applied"].as_array().unwrap().len(), 3);
        assert_eq!(b[i]["applied"].as_array().unwrap().len(), 3);
    }
}

/// `grant route` gives the shard the library gives, for 10,000 keys read from standard
/// input.
#[tokio::test(flavor = "multi_thread")]
async fn route_agrees_with_the_library() {
    use schema::order_items;
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let urls: Vec<String> = (0..5)
        .map(|i| dir.path().join(format!("s{i}.db")).display().to_string())
        .collect();
    let config = topology(dir.path(), &urls);
    let sharded =
        grant::Sharded::<grant::sqlite::AsyncSqliteConnection>::from_toml_file(&config).unwrap();
    let keys: Vec<i64> = (0..10_000).map(|i| i * 7_919 - 5_000_000).collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_grant"))
        .arg("--config")
        .arg(&config)
        .args(["--json", "route", "order_items", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = String::new();
    for k in &keys {
        input.push_str(&format!("{k}\n"));
    }
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let routed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(routed.len(), keys.len());
    for (k, r) in keys.iter().zip(&routed) {
        let expected = sharded
            .shard_for(&order_items::ShardKey { order_id: *k })
            .unwrap();
        assert_eq!(r["index"], expected.index(), "key {k}");
        assert_eq!(r["key"], k.to_string());
    }
    // A table the topology does not describe is a one-line error.
    let out = grant(&config, &["route", "orders", "1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[tables.orders] shard_key"), "{err}");
}

/// `grant status --json` on a PostgreSQL shard with its replica: one primary and one
/// replica, both reachable.
#[tokio::test(flavor = "multi_thread")]
async fn status_shows_roles() {
    let db = TestDb::pg_empty("cli_status").await;
    // The replica has the new database once it replayed its creation.
    let started = std::time::Instant::now();
    while <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(
        &db.replica_url(),
    )
    .await
    .is_err()
    {
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("grant.toml");
    std::fs::write(
        &config,
        format!(
            "[[shards]]\nname = \"s0\"\nurl = \"{}\"\nreplicas = [\"{}\"]\n[strategy]\nkind = \"modulo\"\n",
            db.url,
            db.replica_url()
        ),
    )
    .unwrap();
    let out = grant(&config, &["--json", "status"]);
    assert!(out.status.success(), "{out:?}");
    let nodes: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let roles: Vec<&str> = nodes.iter().map(|n| n["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["primary", "replica"]);
    assert!(
        nodes
            .iter()
            .all(|n| n["reachable"] == true && n["breaker"] == "closed")
    );
    let text = stdout(&grant(&config, &["status"]));
    assert!(text.starts_with("shard  node"), "{text}");
}

/// `grant check-schema` after `migration run` finds no drift; after a column is added on one
/// shard, it names that shard and the column and exits 1.
async fn schema_drift(backend: &str, dbs: &[TestDb], alter: &str, column: &str) {
    let dir = tempfile::tempdir().unwrap();
    let urls: Vec<String> = dbs.iter().map(|d| d.url.clone()).collect();
    let config = topology(dir.path(), &urls);
    let out = grant(
        &config,
        &[
            "migration",
            "run",
            "--dir",
            &format!("migrations/{backend}"),
        ],
    );
    assert!(out.status.success(), "{}", stdout(&out));
    let out = grant(&config, &["check-schema"]);
    assert!(out.status.success(), "{}", stdout(&out));
    let last = dbs.len() - 1;
    exec(&dbs[last], alter).await;
    let out = grant(&config, &["--json", "check-schema"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let drifts = reports(&out);
    for (i, d) in drifts.iter().enumerate() {
        let extra = strings(&d["extra"]);
        if i == last {
            assert_eq!(extra.len(), 1, "{d}");
            assert!(extra[0].starts_with(column), "{d}");
        } else {
            assert!(extra.is_empty() && strings(&d["missing"]).is_empty(), "{d}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn check_schema_finds_drift() {
    let pg = [
        TestDb::pg_empty("cli_drift0").await,
        TestDb::pg_empty("cli_drift1").await,
        TestDb::pg_empty("cli_drift2").await,
    ];
    schema_drift(
        "postgres",
        &pg,
        "ALTER TABLE order_items ADD COLUMN note TEXT",
        "order_items.note text",
    )
    .await;
    let my = [
        TestDb::mysql_empty("cli_drift0").await,
        TestDb::mysql_empty("cli_drift1").await,
        TestDb::mysql_empty("cli_drift2").await,
    ];
    schema_drift(
        "mysql",
        &my,
        "ALTER TABLE order_items ADD COLUMN note TEXT",
        "order_items.note text",
    )
    .await;
    let lite = [
        TestDb::sqlite_empty("cli_drift0").await,
        TestDb::sqlite_empty("cli_drift1").await,
        TestDb::sqlite_empty("cli_drift2").await,
    ];
    schema_drift(
        "sqlite",
        &lite,
        "ALTER TABLE order_items ADD COLUMN note TEXT",
        "order_items.note text",
    )
    .await;
}

/// `grant print-schema` turns diesel's generated schema into `grant::table!` with the shard
/// keys and co-location the topology names (the output is pinned in
/// `tests/data/grant_schema.rs`, which `tests/ui.rs` compiles).
#[test]
fn print_schema_rewrites_diesels_output() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("grant.toml");
    std::fs::write(
        &config,
        "[[shards]]\nname = \"s0\"\nurl = \"s0.db\"\n[strategy]\nkind = \"modulo\"\n\
         [tables.order_items]\nshard_key = [\"bigint\"]\nshard_key_columns = [\"order_id\"]\n\
         [tables.shipments]\nshard_key_columns = [\"order_id\"]\ncolocated_with = \"order_items\"\n",
    )
    .unwrap();
    let out = grant(
        &config,
        &["print-schema", "--from", "tests/data/diesel_schema.rs"],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        stdout(&out),
        std::fs::read_to_string("tests/data/grant_schema.rs").unwrap()
    );
    // A table the topology names but the schema lacks is an error.
    std::fs::write(
        &config,
        "[[shards]]\nname = \"s0\"\nurl = \"s0.db\"\n[tables.orders]\nshard_key_columns = [\"id\"]\n",
    )
    .unwrap();
    let out = grant(
        &config,
        &["print-schema", "--from", "tests/data/diesel_schema.rs"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`orders`"));
}

/// `grant recover` settles a branch a crashed coordinator left prepared (no decision: it
/// rolls back) and says so; a second run finds nothing.
#[tokio::test(flavor = "multi_thread")]
async fn recover_settles_prepared_branches() {
    let dbs = [
        TestDb::migrated(Backend::Pg, "cli_recover0").await,
        TestDb::migrated(Backend::Pg, "cli_recover1").await,
    ];
    let dir = tempfile::tempdir().unwrap();
    let urls: Vec<String> = dbs.iter().map(|d| d.url.clone()).collect();
    let config = topology(dir.path(), &urls);
    let (s0, s1) = (
        grant::__private::two_phase_name_hash("s0", &dbs[0].name),
        grant::__private::two_phase_name_hash("s1", &dbs[1].name),
    );
    exec(&dbs[0], "CREATE TABLE IF NOT EXISTS grant_2pc_decisions (id VARCHAR(64) NOT NULL PRIMARY KEY, decision VARCHAR(8) NOT NULL)").await;
    exec(
        &dbs[1],
        &format!(
            "BEGIN; INSERT INTO order_items VALUES (9, 9, 9); \
             PREPARE TRANSACTION 'grant-{:032x}-{s0}-{s1}'",
            7
        ),
    )
    .await;
    let out = grant(&config, &["--json", "recover"]);
    assert!(out.status.success(), "{}", stdout(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["rolled_back"], 1, "{report}");
    assert_eq!(report["committed"], 0);
    let out = grant(&config, &["recover"]);
    assert!(out.status.success());
    assert!(
        stdout(&out).starts_with("committed 0, rolled back 0, left prepared 0"),
        "{}",
        stdout(&out)
    );
}

/// `grant migration run --atomic` applies each migration on every shard at once.
#[tokio::test(flavor = "multi_thread")]
async fn atomic_migration_run() {
    let dbs = [
        TestDb::pg_empty("cli_atomic0").await,
        TestDb::pg_empty("cli_atomic1").await,
    ];
    let dir = tempfile::tempdir().unwrap();
    let urls: Vec<String> = dbs.iter().map(|d| d.url.clone()).collect();
    let config = topology(dir.path(), &urls);
    let args = [
        "--json",
        "migration",
        "run",
        "--atomic",
        "--dir",
        "migrations/postgres",
    ];
    let out = grant(&config, &args);
    assert!(out.status.success(), "{}", stdout(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["applied"].as_array().unwrap().len(), 2, "{report}");
    let out = grant(
        &config,
        &[
            "--json",
            "migration",
            "list",
            "--dir",
            "migrations/postgres",
        ],
    );
    assert!(
        reports(&out)
            .iter()
            .all(|r| r["applied"].as_array().unwrap().len() == 2)
    );
    let text = stdout(&grant(
        &config,
        &[
            "migration",
            "run",
            "--atomic",
            "--dir",
            "migrations/postgres",
        ],
    ));
    assert_eq!(text.trim(), "every shard is up to date");
}

/// `grant topology publish|show` on a PostgreSQL control database: the first publish is
/// version 1, a handle built from it follows the next, a publish that names a stale version
/// fails (exit 2, naming both versions), and a change a running handle cannot take is
/// refused before it is stored.
#[tokio::test(flavor = "multi_thread")]
async fn topology_publish_and_show() {
    let control = TestDb::pg_empty("cli_control").await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        dir.path().join("a.db").display().to_string(),
        dir.path().join("b.db").display().to_string(),
    );
    let (dir_one, dir_two) = (dir.path().join("one"), dir.path().join("two"));
    std::fs::create_dir_all(&dir_one).unwrap();
    std::fs::create_dir_all(&dir_two).unwrap();
    let one = topology(&dir_one, std::slice::from_ref(&a));
    let args = |more: &[&str]| -> Vec<String> {
        [
            "topology",
            "--control",
            control.url.as_str(),
            "--name",
            "orders",
        ]
        .iter()
        .chain(more)
        .map(|s| s.to_string())
        .collect()
    };
    let run = |config: &Path, more: &[&str]| {
        let owned = args(more);
        let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
        grant(config, &refs)
    };
    let shown = run(&one, &["show"]);
    assert_eq!(shown.status.code(), Some(2), "nothing published yet");
    let published = run(&one, &["publish"]);
    assert!(published.status.success(), "{published:?}");
    assert_eq!(stdout(&published).trim(), "published `orders` version 1");

    let control_db =
        grant::live::Control::<diesel_async::AsyncPgConnection>::new(&control.url, "orders")
            .unwrap();
    let sharded = control_db
        .connect(grant::live::WatchOptions::default())
        .await
        .unwrap();
    assert_eq!(sharded.shard_count(), 1);

    let two = topology(&dir_two, &[a.clone(), b]);
    // Jump over 2 shards moves keys: refused unless said to be safe (no rows yet).
    let refused = run(&two, &["publish", "--expect", "1"]);
    assert_eq!(refused.status.code(), Some(2));
    let error = String::from_utf8_lossy(&refused.stderr);
    assert!(error.contains("would change shards"), "{error}");
    let published = run(&two, &["publish", "--expect", "1", "--moving"]);
    assert!(published.status.success(), "{published:?}");
    assert_eq!(sharded.refresh_topology().await.unwrap(), 2);
    assert_eq!(sharded.shard_count(), 2);
    let shown = run(&two, &["--json", "show"]);
    let value: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(value["version"], 2);
    assert_eq!(value["topology"], std::fs::read_to_string(&two).unwrap());

    // `grant status --control` reads the topology from the control database.
    let status = grant(
        &one,
        &[
            "--json",
            "status",
            "--control",
            control.url.as_str(),
            "--name",
            "orders",
        ],
    );
    // (The SQLite files do not exist: the nodes are unreachable, the exit status 1.)
    assert_eq!(status.status.code(), Some(1), "{status:?}");
    let value: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(value["topology"]["version"], 2);
    assert_eq!(value["topology"]["control_reachable"], true);
    assert_eq!(value["nodes"].as_array().unwrap().len(), 2);
    let status = grant(
        &one,
        &[
            "status",
            "--control",
            control.url.as_str(),
            "--name",
            "orders",
        ],
    );
    let text = stdout(&status);
    assert!(
        text.starts_with("topology `orders` version 2: control database reachable"),
        "{text}"
    );

    let stale = run(&one, &["publish", "--expect", "1"]);
    assert_eq!(stale.status.code(), Some(2));
    let error = String::from_utf8_lossy(&stale.stderr);
    assert!(error.contains("version 2, not 1"), "{error}");
    let dropped = run(&one, &["publish"]);
    let error = String::from_utf8_lossy(&dropped.stderr);
    assert!(error.contains("is gone"), "{error}");
    assert_eq!(control_db.version().await.unwrap(), Some(2));
}

/// `grant reshard plan`: 12 buckets over 2 shards spread over 3 move 4 buckets, all to the
/// new shard, and print the lines to write; `--to` a file with the same moves agrees;
/// a jump strategy over more shards is a remap that names both counts.
#[test]
fn reshard_plan_lists_the_fewest_moves() {
    let dir = tempfile::tempdir().unwrap();
    let shards = "[[shards]]\nname = 's0'\nurl = 'a.db'\n[[shards]]\nname = 's1'\nurl = 'b.db'\n\
                  [[shards]]\nname = 's2'\nurl = 'c.db'\n";
    let config = dir.path().join("now.toml");
    std::fs::write(
        &config,
        format!("{shards}[strategy]\nkind = 'buckets'\ncount = 12\nshards = 2\n"),
    )
    .unwrap();
    let out = grant(&config, &["--json", "reshard", "plan", "--shards", "3"]);
    assert!(out.status.success(), "{out:?}");
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let moves = plan["changes"][0]["kind"]["buckets"].as_array().unwrap();
    assert_eq!(moves.len(), 4);
    assert!(moves.iter().all(|m| m["to"] == "s2"));
    let out = grant(&config, &["reshard", "plan", "--shards", "3"]);
    let text = stdout(&out);
    assert!(text.contains("4 bucket(s) move"), "{text}");
    let moves_line = text.lines().find(|l| l.starts_with("moves = ")).unwrap();
    let to = dir.path().join("next.toml");
    std::fs::write(
        &to,
        format!("{shards}[strategy]\nkind = 'buckets'\ncount = 12\nshards = 2\n{moves_line}\n"),
    )
    .unwrap();
    let out = grant(
        &config,
        &["--json", "reshard", "plan", "--to", to.to_str().unwrap()],
    );
    let again: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again, plan);
    std::fs::write(
        &config,
        format!("{shards}[strategy]\nkind = 'jump'\nshards = 2\n"),
    )
    .unwrap();
    std::fs::write(&to, format!("{shards}[strategy]\nkind = 'jump'\n")).unwrap();
    let out = grant(&config, &["reshard", "plan", "--to", to.to_str().unwrap()]);
    let text = stdout(&out);
    assert!(text.contains("over 2 shards becomes jump over 3"), "{text}");
}
