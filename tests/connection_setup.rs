//! Setting up new connections: topology-wide and per-shard session SQL and an
//! `after_connect` hook, on PostgreSQL, MariaDB and SQLite. What each sets is a session
//! value (a setting, a user variable, a temporary table), read back by the next statement.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use diesel::sql_types::Text;
use diesel_async::SimpleAsyncConnection;
use grant::prelude::*;
use grant::shard::Modulo;
use grant::{Error, ShardConnection};

/// SQL that stores `value` in the session, and an expression that reads it back.
fn session_value<C: ShardConnection>(value: &str) -> (String, &'static str) {
    match C::BACKEND {
        "postgres" => (
            format!("SET application_name = '{value}'"),
            "current_setting('application_name')",
        ),
        "mysql" => (
            format!("SET @grant_setup = '{value}'"),
            "CAST(@grant_setup AS CHAR)",
        ),
        _ => (
            format!("CREATE TEMP TABLE grant_setup AS SELECT '{value}' AS v"),
            "(SELECT v FROM temp.grant_setup)",
        ),
    }
}

on_every_sharded_backend! {
    /// The hook runs on each new connection of every shard, told which shard and node it
    /// is for; what it sets is visible to the statements that follow on that connection.
    async fn after_connect_sets_up_each_shard(shards) {
        let n = shards.dbs.len();
        let sharded = shards
            .builder::<Conn>()
            .after_connect(|conn, node| {
                let (sql, _) = session_value::<Conn>(&format!("{}/{}", node.shard(), node.label()));
                Box::pin(async move { conn.batch_execute(&sql).await })
            })
            .strategy(Modulo::new(n as u32).unwrap())
            .build()
            .unwrap();
        let (_, read) = session_value::<Conn>("");
        for i in 0..n {
            let shard = format!("s{i}");
            // More statements than one connection: every connection the pool opens is set up.
            for _ in 0..3 {
                let seen: String = sharded
                    .run(diesel::select(diesel::dsl::sql::<Text>(read)).on_shard(shard.as_str()))
                    .get_result()
                    .await
                    .unwrap();
                assert_eq!(seen, format!("{shard}/primary"));
            }
        }
    }
}

on_every_sharded_backend! {
    /// Session SQL from the topology runs on every shard, then the shard's own.
    async fn session_sql_runs_topology_wide_then_per_shard(shards) {
        let (everywhere, read) = session_value::<Conn>("everywhere");
        let (own, _) = session_value::<Conn>("own");
        // SQLite's temp table can't be created twice: its shard-level SQL replaces the row.
        let own = if Conn::BACKEND == "sqlite" { "UPDATE temp.grant_setup SET v = 'own'".to_owned() } else { own };
        let mut builder = grant::Sharded::<Conn>::builder().session_sql(everywhere);
        for (i, db) in shards.dbs.iter().enumerate() {
            let mut nodes = grant::cluster::ShardNodes::primary(db.url.clone());
            if i == 0 {
                nodes = nodes.session_sql(own.clone());
            }
            builder = builder.shard_nodes(format!("s{i}"), nodes);
        }
        let sharded = builder.strategy(Modulo::new(shards.dbs.len() as u32).unwrap()).build().unwrap();
        let on = |shard: &'static str| diesel::select(diesel::dsl::sql::<Text>(read)).on_shard(shard);
        let s0: String = sharded.run(on("s0")).get_result().await.unwrap();
        let s1: String = sharded.run(on("s1")).get_result().await.unwrap();
        assert_eq!((s0.as_str(), s1.as_str()), ("own", "everywhere"));
    }
}

on_every_sharded_backend! {
    /// A setup that fails discards the connection: the statement fails as
    /// `ShardUnavailable`, naming the shard, the node and the server's error.
    async fn failed_setup_is_a_typed_error(shards) {
        let sharded = shards
            .builder::<Conn>()
            .session_sql("SELECT * FROM grant_no_such_table")
            .strategy(Modulo::new(shards.dbs.len() as u32).unwrap())
            .build()
            .unwrap();
        let result = sharded
            .run(diesel::select(diesel::dsl::sql::<Text>("'x'")).on_shard("s1"))
            .get_result::<String>()
            .await;
        match result {
            Err(Error::ShardUnavailable { shard, cause }) => {
                assert_eq!(shard, "s1");
                assert!(cause.starts_with("primary: "), "{cause}");
                assert!(cause.contains("grant_no_such_table"), "{cause}");
            }
            other => panic!("expected ShardUnavailable, got {other:?}"),
        }
    }
}

/// The topology's `session_sql` (TOML) reaches the pools.
#[tokio::test(flavor = "multi_thread")]
async fn session_sql_from_toml() {
    let db = common::TestDb::sqlite_empty("setup_toml").await;
    let toml = format!(
        r#"
        session_sql = ["CREATE TEMP TABLE grant_setup AS SELECT 'from toml' AS v"]
        [[shards]]
        name = "s0"
        url = "{}"
        [strategy]
        kind = "modulo"
        "#,
        db.url
    );
    let sharded =
        grant::Sharded::<grant::sqlite::AsyncSqliteConnection>::from_toml_str(&toml).unwrap();
    let seen: String = sharded
        .run(
            diesel::select(diesel::dsl::sql::<Text>("(SELECT v FROM temp.grant_setup)"))
                .on_shard("s0"),
        )
        .get_result()
        .await
        .unwrap();
    assert_eq!(seen, "from toml");
}
