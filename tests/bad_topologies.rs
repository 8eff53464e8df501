//! Topologies that must be refused, each with the one error it must give: the setting it
//! names and what is wrong with it. A topology is refused before any pool exists.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use grant::config::ConfigError;
use grant::sqlite::AsyncSqliteConnection;

/// Two valid shards and a strategy; `{..}` parts are replaced per case.
const BASE: &str = r#"
{top}
[[shards]]
name = "s0"
url = "/tmp/grant-bad-topologies-s0.db"
{s0}
[[shards]]
name = "s1"
url = "/tmp/grant-bad-topologies-s1.db"

[strategy]
{strategy}
{rest}
"#;

struct Case {
    what: &'static str,
    top: &'static str,
    s0: &'static str,
    strategy: &'static str,
    rest: &'static str,
    toml: Option<&'static str>,
    expect: Expect,
}

enum Expect {
    /// This `Display`, exactly.
    Message(&'static str),
    /// A TOML error whose message contains this.
    Toml(&'static str),
}

const fn case(what: &'static str, expect: Expect) -> Case {
    Case {
        what,
        top: "",
        s0: "",
        strategy: "kind = \"hash\"",
        rest: "",
        toml: None,
        expect,
    }
}

fn cases() -> Vec<Case> {
    use Expect::{Message as M, Toml as T};
    vec![
        Case {
            toml: Some("[strategy]\nkind = \"hash\""),
            ..case("no shards", M("the topology has no shard"))
        },
        Case {
            top: "[pool]\nmax_size = 0",
            ..case(
                "a pool of no connections",
                M("pool.max_size: must be at least 1"),
            )
        },
        Case {
            top: "[pool]\nmin_idle = 11",
            ..case(
                "more idle than max",
                M("pool.min_idle: 11 is more than max_size (10)"),
            )
        },
        Case {
            top: "[pool]\nconnection_timeout_ms = 0",
            ..case(
                "no time to connect",
                M("pool.connection_timeout: must be more than 0 ms"),
            )
        },
        Case {
            top: "[pool]\nidle_timeout_ms = 0",
            ..case(
                "idle for no time",
                M("pool.idle_timeout: must be more than 0 ms"),
            )
        },
        Case {
            top: "[pool]\nmax_lifetime_ms = 0",
            ..case(
                "connections that live no time",
                M("pool.max_lifetime: must be more than 0 ms"),
            )
        },
        Case {
            s0: "pool = { max_size = 0 }",
            ..case(
                "a shard's pool of no connections",
                M("shards.s0.pool.max_size: must be at least 1"),
            )
        },
        Case {
            s0: "pool = { min_idle = 3, max_size = 2 }",
            ..case(
                "a shard's idle over max",
                M("shards.s0.pool.min_idle: 3 is more than max_size (2)"),
            )
        },
        Case {
            top: "[health]\ninterval_ms = 0",
            ..case(
                "a health loop that never sleeps",
                M("health.interval: must be more than 0 ms"),
            )
        },
        Case {
            top: "[health]\ntimeout_ms = 0",
            ..case(
                "probes with no time",
                M("health.timeout: must be more than 0 ms"),
            )
        },
        Case {
            top: "[health]\nfailure_threshold = 0",
            ..case(
                "circuits that open at once",
                M("health.failure_threshold: must be at least 1"),
            )
        },
        Case {
            toml: Some("[[shards]]\nname = \"\"\nurl = \"/tmp/a.db\"\n[strategy]\nkind = \"hash\""),
            ..case("an empty shard name", M("shards[0].name: is empty"))
        },
        Case {
            toml: Some(
                "[[shards]]\nname = \"   \"\nurl = \"/tmp/a.db\"\n[strategy]\nkind = \"hash\"",
            ),
            ..case("a blank shard name", M("shards[0].name: is empty"))
        },
        Case {
            toml: Some(
                "[[shards]]\nname = \"s\\u0007\"\nurl = \"/tmp/a.db\"\n[strategy]\nkind = \"hash\"",
            ),
            ..case(
                "a bell in a name",
                M("shards[0].name: \"s\\u{7}\" has a control character"),
            )
        },
        Case {
            toml: Some(
                "[[shards]]\nname = \"s\\n0\"\nurl = \"/tmp/a.db\"\n[strategy]\nkind = \"hash\"",
            ),
            ..case(
                "a new line in a name",
                M("shards[0].name: \"s\\n0\" has a control character"),
            )
        },
        Case {
            toml: Some(
                "[[shards]]\nname = \" s0\"\nurl = \"/tmp/a.db\"\n[strategy]\nkind = \"hash\"",
            ),
            ..case(
                "a name with spaces around",
                M("shards[0].name: \" s0\" starts or ends with white space"),
            )
        },
        Case {
            toml: Some(
                "[[shards]]\nname = \"s0\"\nurl = \"/tmp/a.db\"\n[[shards]]\nname = \"s0\"\nurl = \"/tmp/b.db\"\n[strategy]\nkind = \"hash\"",
            ),
            ..case("two shards of one name", M("two shards are named `s0`"))
        },
        Case {
            toml: Some("[[shards]]\nname = \"s0\"\nurl = \"\"\n[strategy]\nkind = \"hash\""),
            ..case("an empty URL", M("shards.s0.url: is empty"))
        },
        Case {
            toml: Some(
                "[[shards]]\nname = \"s0\"\nurl = \"${UNCLOSED\"\n[strategy]\nkind = \"hash\"",
            ),
            ..case(
                "an unclosed ${",
                M("shards.s0.url: has a `${` that was not substituted (an unclosed `${VAR`?)"),
            )
        },
        Case {
            toml: Some(
                "[[shards]]\nname = \"s0\"\nurl = \"${GRANT_TEST_SURELY_UNSET}\"\n[strategy]\nkind = \"hash\"",
            ),
            ..case(
                "an unset variable",
                M("shard `s0`: URL uses `${GRANT_TEST_SURELY_UNSET}`, which is not set"),
            )
        },
        Case {
            toml: Some(
                "[[shards]]\nname = \"s0\"\nurl = \"/tmp/a\\n.db\"\n[strategy]\nkind = \"hash\"",
            ),
            ..case(
                "a new line in a URL",
                M("shards.s0.url: has a control character"),
            )
        },
        Case {
            s0: "replicas = [\"\"]",
            ..case("an empty replica URL", M("shards.s0.replicas[0]: is empty"))
        },
        Case {
            s0: "failover_hosts = [\"${HOST\"]",
            ..case(
                "an unclosed ${ in a failover host",
                M(
                    "shards.s0.failover_hosts[0]: has a `${` that was not substituted (an unclosed `${VAR`?)",
                ),
            )
        },
        Case {
            top: "session_sql = [\"SET a = 1\", \" \"]",
            ..case("empty session SQL", M("session_sql[1]: is empty"))
        },
        Case {
            s0: "session_sql = [\"\"]",
            ..case(
                "empty shard session SQL",
                M("shards.s0.session_sql[0]: is empty"),
            )
        },
        Case {
            top: "shard = 1",
            ..case("an unknown top-level setting", T("unknown field `shard`"))
        },
        Case {
            s0: "uri = \"x\"",
            ..case("a misspelt shard setting", T("unknown field `uri`"))
        },
        Case {
            toml: Some("[[shards]]\nname = \"s0\"\n[strategy]\nkind = \"hash\""),
            ..case("a shard without a URL", T("missing field `url`"))
        },
        Case {
            toml: Some("[[shards]]\nurl = \"/tmp/a.db\"\n[strategy]\nkind = \"hash\""),
            ..case("a shard without a name", T("missing field `name`"))
        },
        Case {
            top: "[pool]\nmax_size = -1",
            ..case("a negative pool size", T("max_size"))
        },
        Case {
            top: "[health]\ninterval_ms = \"fast\"",
            ..case("a duration in words", T("interval_ms"))
        },
        Case {
            top: "[replicas]\npolicy = \"fastest\"",
            ..case("an unknown replica policy", T("unknown variant `fastest`"))
        },
        Case {
            top: "[replicas]\nread_your_writes = \"sometimes\"",
            ..case(
                "an unknown read-your-writes mode",
                T("unknown variant `sometimes`"),
            )
        },
        Case {
            top: "[replicas]\nread_your_writes = \"causal\"\nread_your_writes_ms = 500",
            ..case(
                "a window given to causal reads",
                M("replicas.read_your_writes_ms: applies to read_your_writes = \"window\""),
            )
        },
        Case {
            top: "[replicas]\nread_your_writes = \"window\"\ncausal_wait_ms = 5",
            ..case(
                "a causal wait given to a window",
                M("replicas.causal_wait_ms: applies to read_your_writes = \"causal\""),
            )
        },
        Case {
            top: "[replicas]\nread_your_writes = \"window\"\nread_your_writes_ms = 0",
            ..case(
                "an empty window",
                M(
                    "replicas.read_your_writes_ms: must be more than 0 ms (or read_your_writes = \"off\")",
                ),
            )
        },
        Case {
            top: "[replicas]\nread_your_writes = \"off\"\nread_your_writes_ms = 5",
            ..case(
                "a window given to no read-your-writes",
                M("replicas.read_your_writes_ms: applies to read_your_writes = \"window\""),
            )
        },
        Case {
            strategy: "kind = \"id_bits\"\nshard_bits = 7",
            ..case(
                "an id layout of 64 bits",
                M(
                    "[strategy]: invalid id layout: time 40 + sequence 12 + worker 5 + shard 7 bits make 64, not 63",
                ),
            )
        },
        Case {
            strategy: "kind = \"id_bits\"\nmoves = { \"3\" = \"s1\" }",
            ..case(
                "bucket moves of ids routed by shard",
                M("[strategy] `moves`: `moves` needs `buckets = true`"),
            )
        },
        Case {
            strategy: "kind = \"consistent\"",
            ..case("an unknown strategy", T("unknown variant `consistent`"))
        },
        Case {
            strategy: "kind = \"hash\"\nshards = 3",
            ..case(
                "a hash over more shards than exist",
                M("[strategy]: `shards = 3` but there are only 2"),
            )
        },
        Case {
            strategy: "kind = \"modulo\"\nshards = 0",
            ..case(
                "a modulo over no shards",
                M("invalid `modulo` strategy: needs 1 to 1048576 shards, not 0"),
            )
        },
        Case {
            strategy: "kind = \"jump\"\nshards = 0",
            ..case(
                "a jump hash over no shards",
                M("invalid `jump` strategy: needs 1 to 1048576 shards, not 0"),
            )
        },
        Case {
            strategy: "kind = \"buckets\"\ncount = 0",
            ..case(
                "no buckets",
                M(
                    "invalid `buckets` strategy: needs at least one shard and at least as many buckets as shards (0 buckets, 2 shards)",
                ),
            )
        },
        Case {
            strategy: "kind = \"buckets\"\ncount = 8\nmoves = { 3 = \"s9\" }",
            ..case(
                "a bucket moved to an unknown shard",
                M("[strategy] `moves`: no shard named `s9` (shards: s0, s1)"),
            )
        },
        Case {
            strategy: "kind = \"buckets\"\ncount = 8\nmoves = { three = \"s1\" }",
            ..case(
                "a bucket that is not a number",
                M("[strategy] `moves`: `three` is not a bucket number"),
            )
        },
        Case {
            strategy: "kind = \"buckets\"\ncount = 8\nmoves = { 8 = \"s1\" }",
            ..case(
                "a bucket past the count",
                M("invalid `buckets` strategy: bucket 8 does not exist (there are 8)"),
            )
        },
        Case {
            strategy: "kind = \"range\"\nranges = [{ end = 10, shard = \"s0\" }, { start = 5, shard = \"s1\" }]",
            ..case(
                "overlapping ranges",
                M(
                    "invalid `range` strategy: ranges overlap: [.., 10) on shard #0 and [5, ..) on shard #1",
                ),
            )
        },
        Case {
            strategy: "kind = \"range\"\nranges = [{ end = 10, shard = \"s7\" }]",
            ..case(
                "a range on an unknown shard",
                M("[strategy] `ranges`: no shard named `s7` (shards: s0, s1)"),
            )
        },
        Case {
            strategy: "kind = \"range\"\nranges = [{ end = 10, shard = \"s0\" }]\ndefault = \"nope\"",
            ..case(
                "an unknown default shard",
                M("[strategy] `default`: no shard named `nope` (shards: s0, s1)"),
            )
        },
        Case {
            strategy: "kind = \"time_range\"\nmonths = { \"2026-13\" = \"s0\" }",
            ..case(
                "a thirteenth month",
                M("[strategy]: `2026-13` is not a month (YYYY-MM)"),
            )
        },
        Case {
            strategy: "kind = \"time_range\"\nranges = [{ start = \"yesterday\", shard = \"s0\" }]",
            ..case(
                "a date in words",
                M(
                    "[strategy]: `yesterday` is not a date (YYYY-MM-DD) or timestamp (YYYY-MM-DDTHH:MM:SS)",
                ),
            )
        },
        Case {
            strategy: "kind = \"lookup\"\nvalues = { FR = \"s5\" }",
            ..case(
                "a lookup to an unknown shard",
                M("[strategy] `values`: no shard named `s5` (shards: s0, s1)"),
            )
        },
        Case {
            strategy: "kind = \"lookup\"\nregions = { s0 = [\"FR\"], s1 = [\"FR\"] }",
            ..case(
                "a value listed on two shards",
                M(
                    "invalid `lookup` strategy: value \"FR\" is listed for shard #0 and for shard #1",
                ),
            )
        },
        Case {
            strategy: "kind = \"multi_column\"\ngroups = { g = [\"s0\", \"s1\"] }\nfirst = { kind = \"multi_column\", groups = { h = [\"s0\"] }, first = { kind = \"hash\" } }",
            ..case(
                "a multi_column inside a multi_column",
                M(
                    "[strategy] `first`: a `multi_column` strategy routes the first column by a single-column strategy; it can't nest another `multi_column`",
                ),
            )
        },
        Case {
            strategy: "kind = \"multi_column\"\ngroups = { g = [\"s0\", \"s4\"] }\nfirst = { kind = \"hash\" }",
            ..case(
                "a group with an unknown shard",
                M("[strategy] `groups`: no shard named `s4` (shards: s0, s1)"),
            )
        },
        Case {
            rest: "[tables.region_data.strategy]\nkind = \"lookup\"\ndefault = \"eu\"",
            ..case(
                "a table's strategy naming an unknown shard",
                M("[tables.region_data.strategy] `default`: no shard named `eu` (shards: s0, s1)"),
            )
        },
        Case {
            rest: "[tables.region_data]\nkind = \"hash\"",
            ..case(
                "a table section without its strategy",
                T("unknown field `kind`"),
            )
        },
    ]
}

fn render(case: &Case) -> String {
    match case.toml {
        Some(toml) => toml.to_owned(),
        None => BASE
            .replace("{top}", case.top)
            .replace("{s0}", case.s0)
            .replace("{strategy}", case.strategy)
            .replace("{rest}", case.rest),
    }
}

#[tokio::test]
async fn bad_topologies_are_refused_with_the_setting_named() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut wrong = Vec::new();
    for case in &cases {
        let toml = render(case);
        let error = match grant::Sharded::<AsyncSqliteConnection>::from_toml_str(&toml) {
            Ok(_) => {
                wrong.push(format!("{}: accepted", case.what));
                continue;
            }
            Err(grant::Error::Config(error)) => error,
            Err(other) => {
                wrong.push(format!("{}: not a ConfigError: {other:?}", case.what));
                continue;
            }
        };
        let ok = match (&case.expect, &error) {
            (Expect::Message(m), e) => e.to_string() == *m,
            (Expect::Toml(part), ConfigError::Toml { message }) => message.contains(part),
            (Expect::Toml(_), _) => false,
        };
        if !ok {
            wrong.push(format!("{}: got {error:?}\n    {error}", case.what));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}
