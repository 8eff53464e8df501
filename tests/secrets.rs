//! No password in any output: `Debug` and `Display` of every type and error built from a URL
//! with a password, and every tracing event and span field, are searched for the password.
//! A test binary of its own: it installs a global tracing subscriber that records everything.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use grant::cluster::ShardNodes;
use grant::prelude::*;
use grant::shard::Modulo;
use std::sync::{Arc, Mutex};

const SECRET: &str = "Pa55-w0rd-s3cr3t";

/// Everything the subscriber was given, as text.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} shows the password: {text}");
}

/// `Debug` and `Display` of `value`, checked.
fn check_error(what: &str, value: &(impl std::fmt::Debug + std::fmt::Display)) {
    assert_clean(&format!("{what} (Display)"), &value.to_string());
    assert_clean(&format!("{what} (Debug)"), &format!("{value:?}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn no_output_shows_a_password() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    // Nothing listens on ports 1 and 2: every connection fails, with its URL in hand.
    let pg = format!("postgres://app:{SECRET}@127.0.0.1:1/app");
    let pg_replica = format!("postgres://app:{SECRET}@127.0.0.1:2/app?sslmode=disable");
    let mysql = format!("mysql://root:{SECRET}@127.0.0.1:1/app");
    let conninfo = format!("postgres://127.0.0.1:1/app?user=app&password={SECRET}");

    // The topology, its sections and its errors.
    let toml = format!(
        r#"
        [[shards]]
        name = "s0"
        url = "{pg}"
        replicas = ["{pg_replica}"]
        failover_hosts = ["{pg_replica}"]
        [[shards]]
        name = "s1"
        url = "{conninfo}"
        [strategy]
        kind = "modulo"
        "#
    );
    let topology = grant::Topology::from_toml_str(&toml).unwrap();
    assert_clean("Topology (Debug)", &format!("{topology:?}"));
    assert_clean("ShardSection (Debug)", &format!("{:?}", topology.shards[0]));
    let broken = toml.replace(
        "[[shards]]\n        name = \"s1\"",
        "[[shards]\n        name = \"s1\"",
    );
    let toml_error =
        grant::Topology::from_toml_str(&format!("url = \"{pg}\" = 1\n{broken}")).unwrap_err();
    check_error("ConfigError::Toml", &toml_error);
    check_error("Error::Config", &grant::Error::from(toml_error));
    let nodes = ShardNodes::primary(pg.clone())
        .replica(pg_replica.clone())
        .failover_host(mysql.clone());
    assert_clean("ShardNodes (Debug)", &format!("{nodes:?}"));

    // A handle over unreachable servers, what it says about itself, and what its statements
    // fail with.
    let sharded: grant::Sharded<diesel_async::AsyncPgConnection> = topology.build().unwrap();
    assert_clean("Sharded (Debug)", &format!("{sharded:?}"));
    assert_clean(
        "Cluster (Debug)",
        &format!("{:?}", sharded.cluster("s0").unwrap()),
    );
    sharded.check_health().await;
    for shard in ["s0", "s1"] {
        let failed = sharded
            .run(diesel::select(1i32.into_sql::<diesel::sql_types::Integer>()).on_shard(shard))
            .get_result::<i32>()
            .await
            .unwrap_err();
        check_error("a statement's error", &failed);
        let Err(failed) = sharded.connection(shard).await else {
            panic!("a connection to an unreachable server");
        };
        check_error("a connection's error", &failed);
    }
    let mysql_sharded = grant::Sharded::<diesel_async::AsyncMysqlConnection>::builder()
        .shard("m0", mysql.clone())
        .strategy(Modulo::new(1).unwrap())
        .build()
        .unwrap();
    let failed = mysql_sharded
        .run(diesel::select(1i32.into_sql::<diesel::sql_types::Integer>()).on_shard("m0"))
        .get_result::<i32>()
        .await
        .unwrap_err();
    check_error("a MySQL statement's error", &failed);

    // Migrations name their database, which may be given as its URL.
    static MIGRATIONS: diesel_migrations::EmbeddedMigrations =
        diesel_migrations::embed_migrations!("migrations/postgres");
    let failed = grant::migrate::run::<diesel_async::AsyncPgConnection, _>(
        &[(pg.clone(), pg.clone())],
        &MIGRATIONS,
    )
    .await
    .unwrap_err();
    check_error("a migration's error", &failed);

    // A live topology's control database: the handle, its errors and its status.
    let control =
        grant::live::Control::<diesel_async::AsyncPgConnection>::new(&pg, "orders").unwrap();
    assert_clean("Control (Debug)", &format!("{control:?}"));
    assert_clean("Control::redacted_url", &control.redacted_url());
    let failed = control.publish(&toml, 0).await.unwrap_err();
    check_error("a publish's error", &failed);
    let failed = control
        .connect(grant::live::WatchOptions::default())
        .await
        .unwrap_err();
    check_error("a live handle's error", &failed);

    let logged = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("grant.statement"),
        "the subscriber saw grant's spans: {logged}"
    );
    assert_clean("tracing output", &logged);
}
