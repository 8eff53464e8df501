//! Network faults between grant and a real server (PostgreSQL and MariaDB), injected by a TCP proxy
//! (`tests/common/fault_proxy.rs`): a half-dead host that never answers, a cut of every open
//! connection, a host that refuses connections, and a slow link. Every statement ends within
//! its timeout (plus a margin for a loaded machine), with the one error the README promises,
//! and the pool serves again once the fault ends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../schema/mod.rs"]
mod schema;

use common::fault_proxy::{Fault, FaultProxy};
use diesel::sql_types::Integer;
use grant::prelude::*;
use grant::shard::Modulo;
use grant::{Error, PoolConfig};
use schema::models::OrderItem;
use std::time::{Duration, Instant};

/// The fault tests for one backend, as module `$name`.
macro_rules! fault_tests {
    ($name:ident, $conn:ty, $backend:expr, $server:expr, $slow:literal) => {
        mod $name {
            use super::*;

            const TIMEOUT: Duration = Duration::from_millis(500);
            /// What a loaded 2-core machine may add to a bound; a hang would exceed it by far.
            const MARGIN: Duration = Duration::from_secs(3);

            /// Two shards: `s0` direct, `s1` behind the proxy.
            async fn shards(
                pool: u32,
            ) -> (
                common::TestDb,
                common::TestDb,
                FaultProxy,
                grant::Sharded<$conn>,
            ) {
                let direct = common::TestDb::migrated($backend, "fault_s0").await;
                let proxied = common::TestDb::migrated($backend, "fault_s1").await;
                let server = $server;
                let upstream = server
                    .rsplit_once('@')
                    .map_or(server.as_str(), |(_, hp)| hp)
                    .trim_start_matches("postgres://")
                    .trim_start_matches("mysql://");
                let proxy = FaultProxy::start(upstream).await;
                let sharded = grant::Sharded::<$conn>::builder()
                    .pool(
                        PoolConfig::default()
                            .max_size(pool)
                            .connection_timeout(Duration::from_secs(1)),
                    )
                    .statement_timeout(Some(TIMEOUT))
                    .shard("s0", &direct.url)
                    .shard("s1", proxy.url_for(&proxied.url))
                    .strategy(Modulo::new(2).unwrap())
                    .build()
                    .unwrap();
                (direct, proxied, proxy, sharded)
            }

            async fn one(
                sharded: &grant::Sharded<$conn>,
                shard: &'static str,
            ) -> grant::Result<i32> {
                sharded
                    .run(diesel::select(1i32.into_sql::<Integer>()).on_shard(shard))
                    .get_result()
                    .await
            }

            /// Opens `n` connections to `s1` by running that many slow reads at once.
            async fn warm(sharded: &grant::Sharded<$conn>, n: usize) {
                let slow = || {
                    let read = diesel::dsl::sql::<Integer>($slow);
                    sharded
                        .run(diesel::select(read).on_shard("s1"))
                        .get_result::<i32>()
                };
                for read in futures_util::future::join_all((0..n).map(|_| slow())).await {
                    assert_eq!(read.unwrap(), 1);
                }
            }

            /// `n` statements on `s1`, each of which must succeed.
            async fn all_succeed(sharded: &grant::Sharded<$conn>, n: usize, when: &str) {
                for i in 0..n {
                    let result = one(sharded, "s1").await;
                    assert_eq!(
                        result.unwrap_or_else(|e| panic!("statement {i} {when}: {e}")),
                        1
                    );
                }
            }

            /// A host that accepts and never answers: a read on an open connection ends as
            /// `StatementTimeout`, a write as `WriteOutcomeUnknown`, and a statement that needs a new
            /// connection as `ShardUnavailable` (the attempt is abandoned), each within its bound;
            /// afterwards 100 statements succeed.
            #[tokio::test(flavor = "multi_thread")]
            async fn a_host_that_never_answers_bounds_every_statement() {
                let (_d, _p, proxy, sharded) = shards(2).await;
                warm(&sharded, 2).await;
                proxy.set(Fault::Blackhole);

                let started = Instant::now();
                match one(&sharded, "s1").await {
                    Err(Error::StatementTimeout { shard, node, after }) => {
                        assert_eq!(
                            (shard.as_str(), node.as_str(), after),
                            ("s1", "primary", TIMEOUT)
                        );
                    }
                    other => panic!("expected StatementTimeout, got {other:?}"),
                }
                assert!(
                    started.elapsed() < TIMEOUT + MARGIN,
                    "{:?}",
                    started.elapsed()
                );

                // Order 1 routes to s1 (modulo 2).
                let started = Instant::now();
                let item = OrderItem {
                    order_id: 1,
                    product_id: 1,
                    quantity: 1,
                };
                match sharded.insert(&item).await {
                    // Sent on the second open connection, never answered: it may have been applied.
                    Err(Error::WriteOutcomeUnknown { shard, cause }) => {
                        assert_eq!(shard, "s1");
                        assert!(cause.contains("timed out"), "{cause}");
                    }
                    other => panic!("expected WriteOutcomeUnknown, got {other:?}"),
                }
                assert!(started.elapsed() < TIMEOUT + MARGIN);

                // Both connections were discarded; a new one never finishes its handshake.
                let started = Instant::now();
                match one(&sharded, "s1").await {
                    Err(Error::ShardUnavailable { shard, cause }) => {
                        assert_eq!(shard, "s1");
                        assert!(cause.contains("no connection within"), "{cause}");
                    }
                    other => panic!("expected ShardUnavailable, got {other:?}"),
                }
                assert!(started.elapsed() < Duration::from_secs(1) + MARGIN);

                // The other shard is untouched meanwhile.
                for _ in 0..20 {
                    assert_eq!(one(&sharded, "s0").await.unwrap(), 1);
                }

                proxy.set(Fault::None);
                all_succeed(&sharded, 100, "after the fault").await;
            }

            /// Every open connection cut at once (a restart, as the pool sees it): no read fails.
            #[tokio::test(flavor = "multi_thread")]
            async fn a_cut_of_every_connection_fails_no_read() {
                let (_d, _p, proxy, sharded) = shards(4).await;
                warm(&sharded, 4).await;
                proxy.cut();
                tokio::time::sleep(Duration::from_millis(100)).await;
                all_succeed(&sharded, 100, "after the cut").await;
            }

            /// A host that refuses connections fails its shard's statements at once as
            /// `ShardUnavailable`, while the other shard serves; once it accepts again, so does its shard.
            #[tokio::test(flavor = "multi_thread")]
            async fn a_refusing_host_fails_fast_and_only_its_shard() {
                let (_d, _p, proxy, sharded) = shards(2).await;
                proxy.set(Fault::Refuse);
                proxy.cut();
                let started = Instant::now();
                match one(&sharded, "s1").await {
                    Err(Error::ShardUnavailable { shard, .. }) => assert_eq!(shard, "s1"),
                    other => panic!("expected ShardUnavailable, got {other:?}"),
                }
                assert!(started.elapsed() < Duration::from_secs(1) + MARGIN);
                for _ in 0..100 {
                    assert_eq!(one(&sharded, "s0").await.unwrap(), 1);
                }
                proxy.set(Fault::None);
                for _ in 0..20 {
                    assert_eq!(one(&sharded, "s1").await.unwrap(), 1);
                }
            }

            /// A slow link (100 ms per message) slows statements down but fails none under the timeout.
            #[tokio::test(flavor = "multi_thread")]
            async fn a_slow_link_is_only_slow() {
                let (_d, _p, proxy, sharded) = shards(2).await;
                assert_eq!(one(&sharded, "s1").await.unwrap(), 1);
                proxy.set(Fault::Delay(Duration::from_millis(100)));
                for _ in 0..5 {
                    assert_eq!(one(&sharded, "s1").await.unwrap(), 1);
                }
            }
        }
    };
}

fault_tests!(
    postgres,
    diesel_async::AsyncPgConnection,
    common::Backend::Pg,
    common::pg_server_url(),
    "(SELECT 1 FROM pg_sleep(0.2))"
);
fault_tests!(
    mariadb,
    diesel_async::AsyncMysqlConnection,
    common::Backend::Mysql,
    common::mysql_server_url(),
    "(SELECT 1 FROM (SELECT SLEEP(0.2)) AS slept)"
);
