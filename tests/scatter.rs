//! Scatter-gather must return exactly what the same query returns on one database. The
//! Northwind order lines (2,155 rows with their order's customer, country, region and
//! shipping date) are loaded into one unsharded database and into four shards; more than
//! twenty queries run both ways and are compared row for row, on PostgreSQL, MariaDB and
//! SQLite.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::type_complexity,
    missing_docs
)]

mod common;

use bigdecimal::{BigDecimal, ToPrimitive};
use chrono::NaiveDate;
use common::{Backend, TestDb, TestShards};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use futures_util::TryStreamExt;
use grant::scatter::{agg, asc, desc};
use grant::shard::HashStrategy;
use grant::shard::RouteDsl;
use grant::{ShardConnection, Sharded};
use std::collections::HashMap;

grant::table! {
    orders (order_id) {
        order_id -> BigInt,
        employee_id -> Integer,
        ship_via -> Integer,
        ship_city -> Text,
    }
}

grant::table! {
    #[grant(shard_key(order_id), colocated_with(orders))]
    order_lines (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        unit_price_cents -> BigInt,
        quantity -> Integer,
        discount_pct -> Integer,
        customer_id -> Nullable<Text>,
        ship_country -> Text,
        ship_region -> Nullable<Text>,
        shipped_date -> Nullable<Date>,
        freight_cents -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(orders, order_lines);

/// A Northwind order's head (the columns the joins read).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, grant::Keyed)]
#[diesel(table_name = orders)]
struct Order {
    order_id: i64,
    employee_id: i32,
    ship_via: i32,
    ship_city: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, grant::Keyed)]
#[diesel(table_name = order_lines)]
struct Line {
    order_id: i64,
    product_id: i64,
    unit_price_cents: i64,
    quantity: i32,
    discount_pct: i32,
    customer_id: Option<String>,
    ship_country: String,
    ship_region: Option<String>,
    shipped_date: Option<NaiveDate>,
    freight_cents: i64,
}

const CREATE: &str = "CREATE TABLE order_lines (
    order_id BIGINT NOT NULL, product_id BIGINT NOT NULL, unit_price_cents BIGINT NOT NULL,
    quantity INTEGER NOT NULL, discount_pct INTEGER NOT NULL, customer_id VARCHAR(5) {C},
    ship_country VARCHAR(15) {C} NOT NULL, ship_region VARCHAR(15) {C}, shipped_date DATE,
    freight_cents BIGINT NOT NULL, PRIMARY KEY (order_id, product_id))";

const CREATE_ORDERS: &str = "CREATE TABLE orders (order_id BIGINT NOT NULL PRIMARY KEY,
    employee_id INTEGER NOT NULL, ship_via INTEGER NOT NULL, ship_city VARCHAR(15) {C} NOT NULL)";

fn create_sql(backend: Backend) -> String {
    // MariaDB's default collation ignores case; binary is the order grant merges in.
    [CREATE, CREATE_ORDERS].join(";\n").replace(
        "{C}",
        if backend == Backend::Mysql {
            "COLLATE utf8mb4_bin"
        } else {
            ""
        },
    )
}

/// The values of one `INSERT INTO <table> VALUES (...)` line of the dump.
fn values(line: &str) -> Vec<Option<String>> {
    let inner = line
        .split_once("VALUES (")
        .map(|x| x.1)
        .unwrap()
        .trim_end()
        .trim_end_matches(");");
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        if chars.peek() == Some(&'\'') {
            chars.next();
            let mut s = String::new();
            while let Some(c) = chars.next() {
                if c == '\'' {
                    if chars.peek() == Some(&'\'') {
                        chars.next();
                        s.push('\'');
                    } else {
                        break;
                    }
                } else {
                    s.push(c);
                }
            }
            out.push(Some(s));
        } else {
            let raw: String = chars.by_ref().take_while(|c| *c != ',').collect();
            out.push(if raw.trim() == "NULL" {
                None
            } else {
                Some(raw.trim().to_owned())
            });
            if chars.peek().is_none() {
                break;
            }
            continue;
        }
        match chars.next() {
            Some(',') => continue,
            _ => break,
        }
    }
    out
}

fn cents(v: &Option<String>) -> i64 {
    (v.as_deref().unwrap().parse::<f64>().unwrap() * 100.0).round() as i64
}

/// The order lines of Northwind (`tests/data/northwind.sql`, Ms-PL, see
/// `tests/data/northwind.LICENSE`), each with its order's customer, country, region,
/// shipping date and freight.
fn northwind_lines() -> Vec<Line> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/northwind.sql");
    let dump = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let mut orders = HashMap::new();
    for line in dump
        .lines()
        .filter(|l| l.starts_with("INSERT INTO orders VALUES"))
    {
        let v = values(line);
        orders.insert(v[0].clone().unwrap().parse::<i64>().unwrap(), v);
    }
    dump.lines()
        .filter(|l| l.starts_with("INSERT INTO order_details VALUES"))
        .map(|line| {
            let v = values(line);
            let order_id: i64 = v[0].clone().unwrap().parse().unwrap();
            let order = &orders[&order_id];
            Line {
                order_id,
                product_id: v[1].clone().unwrap().parse().unwrap(),
                unit_price_cents: cents(&v[2]),
                quantity: v[3].clone().unwrap().parse().unwrap(),
                discount_pct: cents(&v[4]) as i32,
                customer_id: order[1].clone(),
                ship_country: order[13].clone().unwrap(),
                ship_region: order[11].clone(),
                shipped_date: order[5]
                    .as_deref()
                    .map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()),
                freight_cents: cents(&order[7]),
            }
        })
        .collect()
}

/// The orders of Northwind (their heads).
fn northwind_orders() -> Vec<Order> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/northwind.sql");
    let dump = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    dump.lines()
        .filter(|l| l.starts_with("INSERT INTO orders VALUES"))
        .map(|line| {
            let v = values(line);
            Order {
                order_id: v[0].clone().unwrap().parse().unwrap(),
                employee_id: v[2].clone().unwrap().parse().unwrap(),
                ship_via: v[6].clone().unwrap().parse().unwrap(),
                ship_city: v[10].clone().unwrap(),
            }
        })
        .collect()
}

/// An unsharded database and four shards holding the same rows.
async fn setup<C: ShardConnection>(backend: Backend) -> (TestDb, TestShards, C, Sharded<C>)
where
    Line: grant::key::InsertMany<C>,
    Order: grant::key::InsertMany<C>,
{
    let single = TestDb::migrated(backend, "scatter_one").await;
    let shards = TestShards::new(backend, 4, "scatter").await;
    for db in std::iter::once(&single).chain(&shards.dbs) {
        let mut conn = db.connect::<C>().await;
        diesel_async::SimpleAsyncConnection::batch_execute(&mut conn, &create_sql(backend))
            .await
            .unwrap();
    }
    let lines = northwind_lines();
    assert_eq!(lines.len(), 2155);
    let mut one = single.connect::<C>().await;
    for chunk in lines.chunks(500) {
        <Line as grant::key::InsertMany<C>>::insert_many(chunk, &mut one)
            .await
            .unwrap();
    }
    let sharded = shards
        .builder::<C>()
        .strategy(HashStrategy::new(4).unwrap())
        .build()
        .unwrap();
    let placed = sharded.insert_all(&lines).await.unwrap();
    assert_eq!(placed.total(), 2155);
    let heads = northwind_orders();
    assert_eq!(heads.len(), 830);
    <Order as grant::key::InsertMany<C>>::insert_many(&heads, &mut one)
        .await
        .unwrap();
    assert_eq!(sharded.insert_all(&heads).await.unwrap().total(), 830);
    assert!(placed.iter().all(|s| s.value > 300), "{placed:?}");
    (single, shards, one, sharded)
}

fn approx(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
        (None, None) => true,
        _ => false,
    }
}

macro_rules! scatter_matches_one_database {
    ($name:ident, $backend:expr, $conn:ty) => {
        #[tokio::test(flavor = "multi_thread")]
        async fn $name() {
            use crate::order_lines::dsl::*;
            let (_single, _shards, mut one, sharded) = setup::<$conn>($backend).await;
            let one = &mut one;
            let all = || Line::as_select();
            let mut checked = 0;

            // 1-4: ordered pages: first, second, deep, and past the end.
            for (off, lim) in [(0i64, 10i64), (20, 10), (2000, 10), (3000, 10), (2150, 10)] {
                let expected: Vec<Line> = order_lines
                    .order((unit_price_cents.desc(), order_id.asc(), product_id.asc()))
                    .limit(lim)
                    .offset(off)
                    .select(all())
                    .load(one)
                    .await
                    .unwrap();
                let got: Vec<Line> = sharded
                    .scatter(order_lines)
                    .select(all())
                    .order_by((desc(unit_price_cents), asc(order_id), asc(product_id)))
                    .limit(lim)
                    .offset(off)
                    .load()
                    .await
                    .unwrap();
                assert_eq!(got, expected, "page offset {off} limit {lim}");
                checked += 1;
            }

            // 5: filtered, other columns.
            let expected: Vec<(i64, i64, i32)> = order_lines
                .filter(quantity.gt(50))
                .order((quantity.asc(), order_id.asc(), product_id.asc()))
                .select((order_id, product_id, quantity))
                .limit(15)
                .load(one)
                .await
                .unwrap();
            let got: Vec<(i64, i64, i32)> = sharded
                .scatter(order_lines.filter(quantity.gt(50)))
                .select((order_id, product_id, quantity))
                .order_by((asc(quantity), asc(order_id), asc(product_id)))
                .limit(15)
                .load()
                .await
                .unwrap();
            assert_eq!(got, expected);
            checked += 1;

            // 5b: ordered by a column the selection lacks, and by an expression: the sort
            // values travel in front of the row (`Layout::Prefixed`).
            let expected: Vec<(i64, i64)> = order_lines
                .order((unit_price_cents.desc(), order_id.asc(), product_id.asc()))
                .select((order_id, product_id))
                .limit(12)
                .offset(3)
                .load(one)
                .await
                .unwrap();
            let got: Vec<(i64, i64)> = sharded
                .scatter(order_lines)
                .select((order_id, product_id))
                .order_by((desc(unit_price_cents), asc(order_id), asc(product_id)))
                .limit(12)
                .offset(3)
                .load()
                .await
                .unwrap();
            assert_eq!(got, expected, "ordered by an unselected column");
            checked += 1;
            let expected: Vec<Line> = order_lines
                .order((
                    (quantity + quantity).desc(),
                    order_id.asc(),
                    product_id.asc(),
                ))
                .select(all())
                .limit(9)
                .load(one)
                .await
                .unwrap();
            let got: Vec<Line> = sharded
                .scatter(order_lines)
                .select(all())
                .order_by((desc(quantity + quantity), asc(order_id), asc(product_id)))
                .limit(9)
                .load()
                .await
                .unwrap();
            assert_eq!(got, expected, "ordered by an expression");
            checked += 1;

            // 6: a filter that matches nothing on some shards.
            let expected: Vec<Line> = order_lines
                .filter(ship_country.eq("Poland"))
                .order((order_id.asc(), product_id.asc()))
                .select(all())
                .load(one)
                .await
                .unwrap();
            assert!(!expected.is_empty() && expected.len() < 40);
            let got: Vec<Line> = sharded
                .scatter(order_lines.filter(ship_country.eq("Poland")))
                .select(all())
                .order_by((asc(order_id), asc(product_id)))
                .load()
                .await
                .unwrap();
            assert_eq!(got, expected);
            checked += 1;

            // 7: a filter that matches nothing anywhere.
            let got: Vec<Line> = sharded
                .scatter(order_lines.filter(quantity.gt(1000)))
                .select(all())
                .order_by(asc(order_id))
                .limit(5)
                .load()
                .await
                .unwrap();
            assert!(got.is_empty());
            checked += 1;

            // 8-10: NULLs sort where the backend puts them.
            for (off, lim) in [(0i64, 40i64), (700, 30)] {
                let expected: Vec<Line> = order_lines
                    .order((ship_region.asc(), order_id.asc(), product_id.asc()))
                    .offset(off)
                    .limit(lim)
                    .select(all())
                    .load(one)
                    .await
                    .unwrap();
                let got: Vec<Line> = sharded
                    .scatter(order_lines)
                    .select(all())
                    .order_by((asc(ship_region), asc(order_id), asc(product_id)))
                    .offset(off)
                    .limit(lim)
                    .load()
                    .await
                    .unwrap();
                assert_eq!(got, expected, "ship_region ascending, offset {off}");
                checked += 1;
            }
            let expected: Vec<Line> = order_lines
                .order((shipped_date.desc(), order_id.desc(), product_id.asc()))
                .offset(5)
                .limit(25)
                .select(all())
                .load(one)
                .await
                .unwrap();
            let got: Vec<Line> = sharded
                .scatter(order_lines)
                .select(all())
                .order_by((desc(shipped_date), desc(order_id), asc(product_id)))
                .offset(5)
                .limit(25)
                .load()
                .await
                .unwrap();
            assert_eq!(got, expected, "shipped_date descending");
            checked += 1;

            // 11: text ordering on two columns.
            let expected: Vec<(String, Option<String>, i64, i64)> = order_lines
                .order((
                    ship_country.asc(),
                    customer_id.desc(),
                    order_id.asc(),
                    product_id.asc(),
                ))
                .select((ship_country, customer_id, order_id, product_id))
                .limit(50)
                .offset(100)
                .load(one)
                .await
                .unwrap();
            let got: Vec<(String, Option<String>, i64, i64)> = sharded
                .scatter(order_lines)
                .select((ship_country, customer_id, order_id, product_id))
                .order_by((
                    asc(ship_country),
                    desc(customer_id),
                    asc(order_id),
                    asc(product_id),
                ))
                .limit(50)
                .offset(100)
                .load()
                .await
                .unwrap();
            assert_eq!(got, expected);
            checked += 1;

            // 12-18: aggregates.
            let expected: i64 = order_lines.count().get_result(one).await.unwrap();
            assert_eq!(
                sharded.scatter(order_lines).count().await.unwrap(),
                expected
            );
            let expected: i64 = order_lines
                .filter(discount_pct.gt(0))
                .count()
                .get_result(one)
                .await
                .unwrap();
            assert_eq!(
                sharded
                    .scatter(order_lines.filter(discount_pct.gt(0)))
                    .count()
                    .await
                    .unwrap(),
                expected
            );
            let expected: Option<i64> = order_lines
                .select(diesel::dsl::sum(quantity))
                .get_result(one)
                .await
                .unwrap();
            let got = sharded
                .scatter(order_lines)
                .aggregate(agg::sum(quantity))
                .await
                .unwrap();
            assert_eq!(got, expected);
            let expected: Option<BigDecimal> = order_lines
                .select(diesel::dsl::sum(unit_price_cents))
                .get_result(one)
                .await
                .unwrap();
            let got = sharded
                .scatter(order_lines)
                .aggregate(agg::sum(unit_price_cents))
                .await
                .unwrap();
            assert_eq!(got, expected);
            let expected: (
                Option<i64>,
                Option<i64>,
                Option<NaiveDate>,
                Option<NaiveDate>,
                i64,
            ) = order_lines
                .select((
                    diesel::dsl::min(unit_price_cents),
                    diesel::dsl::max(unit_price_cents),
                    diesel::dsl::min(shipped_date),
                    diesel::dsl::max(shipped_date),
                    diesel::dsl::count(ship_region),
                ))
                .get_result(one)
                .await
                .unwrap();
            let got = sharded
                .scatter(order_lines)
                .aggregate((
                    agg::min(unit_price_cents),
                    agg::max(unit_price_cents),
                    agg::min(shipped_date),
                    agg::max(shipped_date),
                    agg::count(ship_region),
                ))
                .await
                .unwrap();
            assert_eq!(got, expected);
            let expected: Option<BigDecimal> = order_lines
                .select(diesel::dsl::avg(quantity))
                .get_result(one)
                .await
                .unwrap();
            let got = sharded
                .scatter(order_lines)
                .aggregate(agg::avg(quantity))
                .await
                .unwrap();
            let expected_f64 = expected.as_ref().and_then(bigdecimal::ToPrimitive::to_f64);
            assert!(approx(got, expected_f64), "avg {got:?} vs {expected:?}");
            let (empty_sum, empty_min, empty_count) = sharded
                .scatter(order_lines.filter(quantity.gt(1000)))
                .aggregate((
                    agg::sum(quantity),
                    agg::min(shipped_date),
                    agg::count_star(),
                ))
                .await
                .unwrap();
            assert_eq!((empty_sum, empty_min, empty_count), (None, None, 0));
            checked += 7;

            // 19-21: GROUP BY with ordering and limit on the groups.
            let expected: Vec<(String, i64, Option<i64>)> = order_lines
                .group_by(ship_country)
                .select((
                    ship_country,
                    diesel::dsl::count_star(),
                    diesel::dsl::sum(quantity),
                ))
                .load::<(String, i64, Option<i64>)>(one)
                .await
                .unwrap();
            let mut expected = expected;
            expected.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
            expected.truncate(5);
            let got = sharded
                .scatter(order_lines)
                .group_by(ship_country)
                .aggregate((agg::count_star(), agg::sum(quantity)))
                .order_by_desc(|(_, (_, s))| *s)
                .limit(5)
                .load()
                .await
                .unwrap();
            let got: Vec<(String, i64, Option<i64>)> =
                got.into_iter().map(|(c, (n, s))| (c, n, s)).collect();
            assert_eq!(got, expected);
            let expected: Vec<(Option<String>, i64)> = order_lines
                .group_by(ship_region)
                .select((ship_region, diesel::dsl::count_star()))
                .order(ship_region.asc())
                .load(one)
                .await
                .unwrap();
            let got = sharded
                .scatter(order_lines)
                .group_by(ship_region)
                .aggregate(agg::count_star())
                .load()
                .await
                .unwrap();
            assert_eq!(
                got, expected,
                "groups in group order, NULL group where the backend sorts NULL"
            );
            let expected: Vec<(i64, i64, Option<i32>)> = order_lines
                .group_by(product_id)
                .select((
                    product_id,
                    diesel::dsl::count_star(),
                    diesel::dsl::max(quantity),
                ))
                .order((diesel::dsl::count_star().desc(), product_id.asc()))
                .limit(10)
                .load(one)
                .await
                .unwrap();
            let got = sharded
                .scatter(order_lines)
                .group_by(product_id)
                .aggregate((agg::count_star(), agg::max(quantity)))
                .order_by_desc(|(_, (n, _))| *n)
                .limit(10)
                .load()
                .await
                .unwrap();
            let got: Vec<(i64, i64, Option<i32>)> =
                got.into_iter().map(|(p, (n, m))| (p, n, m)).collect();
            assert_eq!(got, expected);
            checked += 3;

            // 22-23: exists.
            assert!(
                sharded
                    .scatter(order_lines.filter(ship_country.eq("Poland")))
                    .exists()
                    .await
                    .unwrap()
            );
            assert!(
                !sharded
                    .scatter(order_lines.filter(quantity.gt(1000)))
                    .exists()
                    .await
                    .unwrap()
            );
            checked += 2;

            // 24: keyset pages of 100 through everything equal one ordered read.
            let everything: Vec<Line> = order_lines
                .order((order_id.asc(), product_id.asc()))
                .select(all())
                .load(one)
                .await
                .unwrap();
            let mut paged: Vec<Line> = Vec::new();
            let mut after = None;
            loop {
                let mut page = sharded
                    .scatter(order_lines)
                    .select(all())
                    .order_by((asc(order_id), asc(product_id)))
                    .limit(100);
                if let Some(last) = after.take() {
                    page = page.after(last);
                }
                let rows = page.load_with_keys::<Line>().await.unwrap();
                if rows.is_empty() {
                    break;
                }
                after = rows.last().map(|(k, _)| *k);
                paged.extend(rows.into_iter().map(|(_, line)| line));
            }
            assert_eq!(paged, everything);
            checked += 1;

            // 25: a stream in batches of 37 per shard equals one ordered read.
            let streamed: Vec<Line> = sharded
                .scatter(order_lines)
                .select(all())
                .order_by((asc(order_id), asc(product_id)))
                .stream::<Line>(37)
                .into_stream()
                .try_collect()
                .await
                .unwrap();
            assert_eq!(streamed, everything);
            checked += 1;

            // 26-53: a nullable sort key (21 orders are not shipped) in both
            // directions and every placement: load, a stream in batches of 50, and keyset
            // pages of 7 and 50 all equal the one database's order, NULL rows included.
            macro_rules! null_ordering_case {
                ($grant:expr, $diesel:expr, $what:literal) => {{
                    let expected: Vec<Line> = order_lines
                        .order($diesel)
                        .select(all())
                        .load(one)
                        .await
                        .unwrap();
                    assert_eq!(expected.len(), 2155);
                    assert!(
                        expected
                            .iter()
                            .any(|l| l.shipped_date.is_none() || l.ship_region.is_none())
                    );
                    let loaded: Vec<Line> = sharded
                        .scatter(order_lines)
                        .select(all())
                        .order_by($grant)
                        .load()
                        .await
                        .unwrap();
                    assert_eq!(loaded, expected, "load, {}", $what);
                    let streamed: Vec<Line> = sharded
                        .scatter(order_lines)
                        .select(all())
                        .order_by($grant)
                        .stream::<Line>(50)
                        .into_stream()
                        .try_collect()
                        .await
                        .unwrap();
                    assert_eq!(streamed.len(), expected.len(), "stream, {}", $what);
                    assert_eq!(streamed, expected, "stream, {}", $what);
                    for size in [7i64, 50] {
                        let mut paged: Vec<Line> = Vec::new();
                        let mut after = None;
                        loop {
                            let mut page = sharded
                                .scatter(order_lines)
                                .select(all())
                                .order_by($grant)
                                .limit(size);
                            if let Some(last) = after.take() {
                                page = page.after(last);
                            }
                            let rows = page.load_with_keys::<Line>().await.unwrap();
                            if rows.is_empty() {
                                break;
                            }
                            after = rows.last().map(|(k, _)| k.clone());
                            paged.extend(rows.into_iter().map(|(_, line)| line));
                        }
                        assert_eq!(
                            paged.len(),
                            expected.len(),
                            "keyset pages of {size}, {}",
                            $what
                        );
                        assert_eq!(paged, expected, "keyset pages of {size}, {}", $what);
                    }
                    checked += 4;
                }};
            }
            null_ordering_case!(
                (asc(shipped_date), asc(order_id), asc(product_id)),
                (shipped_date.asc(), order_id.asc(), product_id.asc()),
                "asc, the backend's NULL placement"
            );
            null_ordering_case!(
                (desc(shipped_date), asc(order_id), asc(product_id)),
                (shipped_date.desc(), order_id.asc(), product_id.asc()),
                "desc, the backend's NULL placement"
            );
            null_ordering_case!(
                (
                    asc(shipped_date).nulls_first(),
                    asc(order_id),
                    asc(product_id)
                ),
                (
                    shipped_date.is_null().desc(),
                    shipped_date.asc(),
                    order_id.asc(),
                    product_id.asc()
                ),
                "asc nulls first"
            );
            null_ordering_case!(
                (
                    asc(shipped_date).nulls_last(),
                    desc(order_id),
                    asc(product_id)
                ),
                (
                    shipped_date.is_null().asc(),
                    shipped_date.asc(),
                    order_id.desc(),
                    product_id.asc()
                ),
                "asc nulls last"
            );
            null_ordering_case!(
                (
                    desc(shipped_date).nulls_first(),
                    asc(order_id),
                    desc(product_id)
                ),
                (
                    shipped_date.is_null().desc(),
                    shipped_date.desc(),
                    order_id.asc(),
                    product_id.desc()
                ),
                "desc nulls first"
            );
            null_ordering_case!(
                (
                    desc(shipped_date).nulls_last(),
                    asc(order_id),
                    asc(product_id)
                ),
                (
                    shipped_date.is_null().asc(),
                    shipped_date.desc(),
                    order_id.asc(),
                    product_id.asc()
                ),
                "desc nulls last"
            );
            // A NULL in a middle term: region (nullable) after country.
            null_ordering_case!(
                (
                    asc(ship_country),
                    desc(ship_region),
                    asc(order_id),
                    asc(product_id)
                ),
                (
                    ship_country.asc(),
                    ship_region.desc(),
                    order_id.asc(),
                    product_id.asc()
                ),
                "a nullable middle term"
            );

            // 54: diesel's own `.asc()` / `.desc()` order a scatter.
            let expected: Vec<(i64, i64, i32)> = order_lines
                .order((quantity.desc(), order_id.asc(), product_id.asc()))
                .select((order_id, product_id, quantity))
                .limit(25)
                .load(one)
                .await
                .unwrap();
            let got: Vec<(i64, i64, i32)> = sharded
                .scatter(order_lines)
                .select((order_id, product_id, quantity))
                .order_by((quantity.desc(), order_id.asc(), product_id.asc()))
                .limit(25)
                .load()
                .await
                .unwrap();
            assert_eq!(got, expected, "diesel's orderings");
            checked += 1;

            // 55: `.filter` / `.or_filter` on the scatter builder.
            let expected: Vec<(i64, i64)> = order_lines
                .filter(quantity.gt(100))
                .or_filter(ship_country.eq("Norway"))
                .order((order_id.asc(), product_id.asc()))
                .select((order_id, product_id))
                .load(one)
                .await
                .unwrap();
            let got: Vec<(i64, i64)> = sharded
                .scatter(order_lines)
                .filter(quantity.gt(100))
                .or_filter(ship_country.eq("Norway"))
                .select((order_id, product_id))
                .order_by((asc(order_id), asc(product_id)))
                .load()
                .await
                .unwrap();
            assert!(!expected.is_empty());
            assert_eq!(got, expected, "filter and or_filter");
            checked += 1;

            // 56-57: HAVING on merged aggregates (a per-shard HAVING would drop countries
            // whose lines are spread over the shards).
            let expected: Vec<(String, Option<i64>)> = order_lines
                .group_by(ship_country)
                .having(diesel::dsl::sum(quantity).gt(2000))
                .select((ship_country, diesel::dsl::sum(quantity)))
                .order(ship_country.asc())
                .load(one)
                .await
                .unwrap();
            let got = sharded
                .scatter(order_lines)
                .group_by(ship_country)
                .aggregate(agg::sum(quantity))
                .having(|(_, s)| s.unwrap_or(0) > 2000)
                .load()
                .await
                .unwrap();
            assert!(!expected.is_empty());
            assert_eq!(got, expected, "HAVING sum(quantity) > 2000");
            let expected: Vec<(i64, i64, Option<i64>)> = order_lines
                .group_by(product_id)
                .having(diesel::dsl::count_star().gt(30))
                .select((
                    product_id,
                    diesel::dsl::count_star(),
                    diesel::dsl::sum(quantity),
                ))
                .order((diesel::dsl::sum(quantity).desc(), product_id.asc()))
                .limit(8)
                .load(one)
                .await
                .unwrap();
            let got = sharded
                .scatter(order_lines)
                .group_by(product_id)
                .aggregate((agg::count_star(), agg::sum(quantity)))
                .having(|(_, (n, _))| *n > 30)
                .order_by_desc(|(_, (_, s))| *s)
                .order_by_asc(|(p, _)| *p)
                .limit(8)
                .load()
                .await
                .unwrap();
            let got: Vec<(i64, i64, Option<i64>)> =
                got.into_iter().map(|(p, (n, s))| (p, n, s)).collect();
            assert_eq!(
                got, expected,
                "HAVING count(*) > 30, two order terms, LIMIT"
            );
            checked += 2;

            // 58: groups ordered by two terms in opposite directions.
            let expected: Vec<(String, i64)> = order_lines
                .group_by(ship_country)
                .select((ship_country, diesel::dsl::count_star()))
                .order((diesel::dsl::count_star().asc(), ship_country.desc()))
                .load(one)
                .await
                .unwrap();
            let got = sharded
                .scatter(order_lines)
                .group_by(ship_country)
                .aggregate(agg::count_star())
                .order_by_asc(|(_, n)| *n)
                .order_by_desc(|(c, _)| c.clone())
                .load()
                .await
                .unwrap();
            assert_eq!(got, expected, "count asc, country desc");
            checked += 1;

            // 59-60: the exact average (merged SUM / COUNT as a decimal) equals the
            // database's own AVG at the database's scale (SQLite's AVG is a float: equal as
            // floats); also per group.
            let expected: Option<BigDecimal> = order_lines
                .select(diesel::dsl::avg(quantity))
                .get_result(one)
                .await
                .unwrap();
            let got = sharded
                .scatter(order_lines)
                .aggregate(agg::avg_exact(quantity))
                .await
                .unwrap();
            let same =
                |got: &Option<BigDecimal>, expected: &Option<BigDecimal>| match (got, expected) {
                    (Some(g), Some(e)) if $backend == Backend::Sqlite => {
                        approx(g.to_f64(), e.to_f64())
                    }
                    (Some(g), Some(e)) => {
                        &g.with_scale_round(
                            e.fractional_digit_count(),
                            bigdecimal::RoundingMode::HalfUp,
                        ) == e
                    }
                    (None, None) => true,
                    _ => false,
                };
            assert!(same(&got, &expected), "avg_exact {got:?} vs {expected:?}");
            let expected: Vec<(String, Option<BigDecimal>)> = order_lines
                .group_by(ship_country)
                .select((ship_country, diesel::dsl::avg(freight_cents)))
                .order(ship_country.asc())
                .load(one)
                .await
                .unwrap();
            let got = sharded
                .scatter(order_lines)
                .group_by(ship_country)
                .aggregate(agg::avg_exact(freight_cents))
                .load()
                .await
                .unwrap();
            assert_eq!(got.len(), expected.len());
            for ((gc, ga), (ec, ea)) in got.iter().zip(&expected) {
                assert_eq!(gc, ec);
                assert!(same(ga, ea), "avg_exact of {gc}: {ga:?} vs {ea:?}");
            }
            checked += 2;

            // 61-65: DISTINCT values and COUNT(DISTINCT) (a customer orders from several
            // shards: per-shard counts would add up to more).
            for (what, expected, got) in [
                (
                    "customer_id",
                    order_lines
                        .select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                            "COUNT(DISTINCT customer_id)",
                        ))
                        .get_result::<i64>(one)
                        .await
                        .unwrap(),
                    sharded
                        .scatter(order_lines)
                        .count_distinct(customer_id)
                        .await
                        .unwrap(),
                ),
                (
                    "ship_region (NULLs not counted)",
                    order_lines
                        .select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                            "COUNT(DISTINCT ship_region)",
                        ))
                        .get_result::<i64>(one)
                        .await
                        .unwrap(),
                    sharded
                        .scatter(order_lines)
                        .count_distinct(ship_region)
                        .await
                        .unwrap(),
                ),
            ] {
                assert_eq!(got, expected, "count_distinct({what})");
            }
            let expected: Vec<String> = order_lines
                .select(ship_country)
                .distinct()
                .order(ship_country.asc())
                .load(one)
                .await
                .unwrap();
            let got = sharded
                .scatter(order_lines)
                .distinct_values(ship_country)
                .await
                .unwrap();
            assert_eq!(got, expected, "distinct countries");
            let expected: Vec<Option<String>> = order_lines
                .select(ship_region)
                .distinct()
                .order(ship_region.asc())
                .load(one)
                .await
                .unwrap();
            let got = sharded
                .scatter(order_lines.filter(quantity.gt(20)))
                .distinct_values(ship_region)
                .await
                .unwrap();
            let filtered: Vec<Option<String>> = order_lines
                .filter(quantity.gt(20))
                .select(ship_region)
                .distinct()
                .order(ship_region.asc())
                .load(one)
                .await
                .unwrap();
            assert_eq!(
                got, filtered,
                "distinct regions of a filtered query, NULL once"
            );
            assert!(expected.contains(&None));
            // SELECT DISTINCT of several columns: distinct rows.
            let expected: Vec<(String, Option<String>)> = order_lines
                .select((ship_country, ship_region))
                .distinct()
                .order((ship_country.asc(), ship_region.asc()))
                .load(one)
                .await
                .unwrap();
            let got = sharded
                .scatter(order_lines)
                .distinct_values((ship_country, ship_region))
                .await
                .unwrap();
            assert_eq!(got, expected, "distinct (country, region) rows");
            checked += 5;

            // 66-67: a join of co-located tables (orders and their lines, both by
            // order_id) runs on each shard and merges like any scatter.
            let joined = || order_lines.inner_join(orders::table.on(orders::order_id.eq(order_id)));
            let expected: Vec<(i64, i64, i32, String)> = joined()
                .filter(quantity.ge(40))
                .order((orders::employee_id.asc(), order_id.desc(), product_id.asc()))
                .select((order_id, product_id, orders::employee_id, orders::ship_city))
                .limit(40)
                .load(one)
                .await
                .unwrap();
            let got: Vec<(i64, i64, i32, String)> = sharded
                .scatter(joined())
                .filter(quantity.ge(40))
                .select((order_id, product_id, orders::employee_id, orders::ship_city))
                .order_by((asc(orders::employee_id), desc(order_id), asc(product_id)))
                .limit(40)
                .load()
                .await
                .unwrap();
            assert_eq!(got, expected, "a co-located join, ordered and limited");
            let expected: Vec<(i32, i64, Option<i64>)> = joined()
                .group_by(orders::ship_via)
                .select((
                    orders::ship_via,
                    diesel::dsl::count_star(),
                    diesel::dsl::sum(quantity),
                ))
                .order(orders::ship_via.asc())
                .load(one)
                .await
                .unwrap();
            let got = sharded
                .scatter(joined())
                .group_by(orders::ship_via)
                .aggregate((agg::count_star(), agg::sum(quantity)))
                .load()
                .await
                .unwrap();
            let got: Vec<(i32, i64, Option<i64>)> =
                got.into_iter().map(|(v, (n, q))| (v, n, q)).collect();
            assert_eq!(got, expected, "a co-located join, grouped");
            checked += 2;

            assert!(checked >= 40, "{checked} queries compared");
        }
    };
}

scatter_matches_one_database!(
    postgres_scatter_matches_one_database,
    Backend::Pg,
    diesel_async::AsyncPgConnection
);
scatter_matches_one_database!(
    mariadb_scatter_matches_one_database,
    Backend::Mysql,
    diesel_async::AsyncMysqlConnection
);
scatter_matches_one_database!(
    sqlite_scatter_matches_one_database,
    Backend::Sqlite,
    grant::sqlite::AsyncSqliteConnection
);

/// A shard that is down: fail fast names it; `partial()` returns the other shards' rows and
/// lists it; a per-shard timeout is typed.
#[tokio::test(flavor = "multi_thread")]
async fn failure_policies() {
    use grant::Error;
    let shards = TestShards::new(Backend::Pg, 2, "scatter_fail").await;
    for db in &shards.dbs {
        let mut conn = db.connect::<diesel_async::AsyncPgConnection>().await;
        diesel_async::SimpleAsyncConnection::batch_execute(&mut conn, &create_sql(Backend::Pg))
            .await
            .unwrap();
    }
    let sharded = shards
        .builder::<diesel_async::AsyncPgConnection>()
        .shard("down", "postgres://postgres@127.0.0.1:1/none")
        .pool(
            grant::PoolConfig::default().connection_timeout(std::time::Duration::from_millis(500)),
        )
        .strategy(HashStrategy::new(2).unwrap())
        .build()
        .unwrap();
    let lines: Vec<Line> = northwind_lines().into_iter().take(100).collect();
    sharded.insert_all(&lines).await.unwrap();

    let failed = sharded.scatter(order_lines::table).count().await;
    assert!(
        matches!(failed, Err(Error::ShardUnavailable { ref shard, .. }) if shard == "down"),
        "{failed:?}"
    );

    let partial = sharded
        .scatter(order_lines::table)
        .partial()
        .count()
        .await
        .unwrap();
    assert_eq!(partial.value, 100);
    assert_eq!(partial.failed.len(), 1);
    assert_eq!(partial.failed[0].name.as_ref(), "down");
    let rows = sharded
        .scatter(order_lines::table)
        .select(Line::as_select())
        .order_by((asc(order_lines::order_id), asc(order_lines::product_id)))
        .limit(10)
        .partial()
        .load()
        .await
        .unwrap();
    assert_eq!(rows.value, lines[..10].to_vec());
    assert!(!rows.is_complete());

    let slow = sharded
        .scatter(
            order_lines::table.filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
                "pg_sleep(2) IS NOT NULL",
            )),
        )
        .only_shards([grant::ShardId(0)])
        .timeout(std::time::Duration::from_millis(200))
        .count()
        .await;
    assert!(
        matches!(slow, Err(Error::ShardTimeout { ref shard, .. }) if shard == "s0"),
        "{slow:?}"
    );
}

mod generated {
    //! Proptest: random rows (duplicate and NULL sort values included) and random pages and
    //! orderings, scattered over four SQLite shards and compared with one SQLite database.
    use super::*;
    use proptest::prelude::*;

    fn line() -> impl Strategy<Value = (i32, Option<String>, Option<i64>)> {
        (
            0i32..5,
            proptest::option::of("[A-C]{0,2}"),
            proptest::option::of(0i64..4),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        #[test]
        fn pages_and_aggregates_match(
            rows in proptest::collection::vec(line(), 0..120),
            offset in 0i64..130,
            limit in 0i64..40,
            descending in any::<bool>(),
            batch in 1usize..20,
        ) {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                use crate::order_lines::dsl::*;
                type C = grant::sqlite::AsyncSqliteConnection;
                let single = TestDb::sqlite_empty("prop_one").await;
                let shards = TestShards { dbs: vec![
                    TestDb::sqlite_empty("prop_s0").await, TestDb::sqlite_empty("prop_s1").await,
                    TestDb::sqlite_empty("prop_s2").await, TestDb::sqlite_empty("prop_s3").await,
                ]};
                for db in std::iter::once(&single).chain(&shards.dbs) {
                    let mut conn = db.connect::<C>().await;
                    diesel_async::SimpleAsyncConnection::batch_execute(&mut conn, &create_sql(Backend::Sqlite)).await.unwrap();
                }
                let lines: Vec<Line> = rows.iter().enumerate().map(|(i, (q, region, price))| Line {
                    order_id: i as i64 / 3, product_id: i as i64 % 3, unit_price_cents: price.unwrap_or(0),
                    quantity: *q, discount_pct: 0, customer_id: None, ship_country: "X".into(),
                    ship_region: region.clone(), shipped_date: None, freight_cents: 0,
                }).collect();
                let mut one = single.connect::<C>().await;
                <Line as grant::key::InsertMany<C>>::insert_many(&lines, &mut one).await.unwrap();
                let sharded = shards.builder::<C>().strategy(HashStrategy::new(4).unwrap()).build().unwrap();
                sharded.insert_all(&lines).await.unwrap();

                let expected: Vec<Line> = if descending {
                    order_lines.order((ship_region.desc(), quantity.asc(), order_id.desc(), product_id.asc()))
                        .offset(offset).limit(limit).select(Line::as_select()).load(&mut one).await.unwrap()
                } else {
                    order_lines.order((ship_region.asc(), quantity.asc(), order_id.desc(), product_id.asc()))
                        .offset(offset).limit(limit).select(Line::as_select()).load(&mut one).await.unwrap()
                };
                let got: Vec<Line> = if descending {
                    sharded.scatter(order_lines).select(Line::as_select())
                        .order_by((desc(ship_region), asc(quantity), desc(order_id), asc(product_id)))
                        .offset(offset).limit(limit).load().await.unwrap()
                } else {
                    sharded.scatter(order_lines).select(Line::as_select())
                        .order_by((asc(ship_region), asc(quantity), desc(order_id), asc(product_id)))
                        .offset(offset).limit(limit).load().await.unwrap()
                };
                assert_eq!(got, expected);

                // Every row, NULL regions and duplicate quantities included: a stream and
                // keyset pages of `batch` rows equal the unsharded order.
                macro_rules! whole {
                    ($grant:expr, $diesel:expr) => {{
                        let expected: Vec<Line> = order_lines.order($diesel).select(Line::as_select()).load(&mut one).await.unwrap();
                        let streamed: Vec<Line> = sharded.scatter(order_lines).select(Line::as_select()).order_by($grant)
                            .stream::<Line>(batch).into_stream().try_collect().await.unwrap();
                        assert_eq!(&streamed, &expected);
                        let mut paged: Vec<Line> = Vec::new();
                        let mut after = None;
                        loop {
                            let mut page = sharded.scatter(order_lines).select(Line::as_select()).order_by($grant).limit(batch as i64);
                            if let Some(last) = after.take() {
                                page = page.after(last);
                            }
                            let rows = page.load_with_keys::<Line>().await.unwrap();
                            if rows.is_empty() {
                                break;
                            }
                            after = rows.last().map(|(k, _)| k.clone());
                            paged.extend(rows.into_iter().map(|(_, l)| l));
                        }
                        assert_eq!(&paged, &expected);
                    }};
                }
                if descending {
                    whole!((desc(ship_region), asc(quantity), desc(order_id), asc(product_id)),
                        (ship_region.desc(), quantity.asc(), order_id.desc(), product_id.asc()));
                    whole!((desc(ship_region).nulls_last(), desc(unit_price_cents), asc(order_id), asc(product_id)),
                        (ship_region.is_null().asc(), ship_region.desc(), unit_price_cents.desc(), order_id.asc(), product_id.asc()));
                } else {
                    whole!((asc(ship_region), asc(quantity), desc(order_id), asc(product_id)),
                        (ship_region.asc(), quantity.asc(), order_id.desc(), product_id.asc()));
                    whole!((asc(ship_region).nulls_last(), asc(unit_price_cents), asc(order_id), asc(product_id)),
                        (ship_region.is_null().asc(), ship_region.asc(), unit_price_cents.asc(), order_id.asc(), product_id.asc()));
                }

                let expected: Vec<(Option<String>, i64, Option<i64>, Option<i32>)> = order_lines.group_by(ship_region)
                    .select((ship_region, diesel::dsl::count_star(), diesel::dsl::sum(quantity), diesel::dsl::min(quantity)))
                    .order(ship_region.asc()).load(&mut one).await.unwrap();
                let got = sharded.scatter(order_lines).group_by(ship_region)
                    .aggregate((agg::count_star(), agg::sum(quantity), agg::min(quantity))).load().await.unwrap();
                let got: Vec<_> = got.into_iter().map(|(g, (n, s, m))| (g, n, s, m)).collect();
                assert_eq!(got, expected);
            });
        }
    }
}

/// A statement cancelled mid-flight (here by a per-shard timeout) must not leave a
/// half-read connection in the pool: the next statement on that shard, on a pool of one
/// connection, gets a clean connection. (Without the guard, MariaDB's protocol stays
/// desynchronised and the next statement fails to parse its rows.)
#[tokio::test(flavor = "multi_thread")]
async fn cancelled_statements_do_not_poison_the_pool() {
    use grant::PoolConfig;
    use std::time::Duration;
    for backend in [Backend::Mysql, Backend::Pg] {
        let db = TestDb::migrated(backend, "cancel").await;
        let pool = PoolConfig::default().max_size(1);
        let sleep = match backend {
            Backend::Mysql => "(SELECT SLEEP(2)) = 0",
            _ => "(SELECT pg_sleep(2)) IS NOT NULL",
        };
        macro_rules! check {
            ($conn:ty) => {{
                let sharded = Sharded::<$conn>::builder()
                    .pool(pool.clone())
                    .shard("s0", &db.url)
                    .strategy(HashStrategy::new(1).unwrap())
                    .build()
                    .unwrap();
                let items: Vec<(i64, i64, i32)> = (0..5).map(|i| (i, 1, 1)).collect();
                for (o, p, q) in &items {
                    sharded
                        .run(
                            diesel::insert_into(grant::__doc_schema::order_items::table)
                                .values((
                                    grant::__doc_schema::order_items::order_id.eq(o),
                                    grant::__doc_schema::order_items::product_id.eq(p),
                                    grant::__doc_schema::order_items::quantity.eq(q),
                                ))
                                .on_shard("s0"),
                        )
                        .execute()
                        .await
                        .unwrap();
                }
                let slow = sharded
                    .scatter(
                        grant::__doc_schema::order_items::table
                            .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(sleep)),
                    )
                    .select(grant::__doc_schema::order_items::order_id)
                    .timeout(Duration::from_millis(100))
                    .load::<i64>()
                    .await;
                assert!(
                    matches!(slow, Err(grant::Error::ShardTimeout { .. })),
                    "{backend:?}: {slow:?}"
                );
                for _ in 0..3 {
                    let ids: Vec<i64> = sharded
                        .scatter(grant::__doc_schema::order_items::table)
                        .select(grant::__doc_schema::order_items::order_id)
                        .order_by(asc(grant::__doc_schema::order_items::order_id))
                        .load()
                        .await
                        .unwrap();
                    assert_eq!(ids.len(), 5, "{backend:?}");
                }
            }};
        }
        match backend {
            Backend::Mysql => check!(diesel_async::AsyncMysqlConnection),
            _ => check!(diesel_async::AsyncPgConnection),
        }
    }
}
