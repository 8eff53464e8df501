//! The schema module (`schema/`) matches what the migrations create, checked against each
//! server's catalog: every table's columns (names, order, types, nullability), its primary
//! key (the grant key, in order) and its composite foreign keys.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../schema/mod.rs"]
mod schema;

use common::{Backend, TestDb};
use diesel::sql_types::{Integer, Text};
use diesel_async::RunQueryDsl;
use grant::assoc::ForeignKey;
use grant::key::KeyedTable;
use schema::*;

/// One column as a catalog describes it.
#[derive(Debug, diesel::QueryableByName)]
struct CatalogColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql_type: String,
    #[diesel(sql_type = Integer)]
    nullable: i32,
    #[diesel(sql_type = Integer)]
    key_position: i32,
}

/// One foreign-key column as a catalog describes it.
#[derive(Debug, diesel::QueryableByName)]
struct CatalogForeignKey {
    #[diesel(sql_type = Text)]
    column: String,
    #[diesel(sql_type = Text)]
    parent: String,
    #[diesel(sql_type = Text)]
    parent_column: String,
}

struct Declared {
    name: &'static str,
    key: &'static [&'static str],
    columns: &'static [(&'static str, &'static str)],
}

fn declared<T: KeyedTable>() -> Declared {
    Declared {
        name: T::NAME,
        key: T::KEY_COLUMNS,
        columns: T::COLUMNS,
    }
}

fn tables() -> Vec<Declared> {
    vec![
        declared::<order_items::table>(),
        declared::<user_sessions::table>(),
        declared::<region_data::table>(),
        declared::<daily_totals::table>(),
        declared::<shipments::table>(),
        declared::<session_events::table>(),
    ]
}

/// The catalog types a declared SQL type may have on each backend.
fn accepted(declared: &str, backend: Backend) -> &'static [&'static str] {
    let declared = declared
        .trim_start_matches("Nullable<")
        .trim_end_matches('>');
    match (declared, backend) {
        ("BigInt", Backend::Pg) => &["bigint"],
        ("BigInt", Backend::Mysql) => &["bigint"],
        ("BigInt", Backend::Sqlite) => &["BIGINT"],
        ("Integer", Backend::Pg) => &["integer"],
        ("Integer", Backend::Mysql) => &["int"],
        ("Integer", Backend::Sqlite) => &["INTEGER"],
        ("Text", Backend::Pg) => &["text", "character varying"],
        ("Text", Backend::Mysql) => &["text", "varchar"],
        ("Text", Backend::Sqlite) => &["TEXT", "VARCHAR(8)"],
        ("Date", Backend::Pg) => &["date"],
        ("Date", Backend::Mysql) => &["date"],
        ("Date", Backend::Sqlite) => &["DATE"],
        ("Timestamp", Backend::Pg) => &["timestamp without time zone"],
        ("Timestamp", Backend::Mysql) => &["datetime"],
        ("Timestamp", Backend::Sqlite) => &["TIMESTAMP"],
        ("grant::sql_types::PortableUuid", Backend::Pg) => &["uuid"],
        ("grant::sql_types::PortableUuid", Backend::Mysql) => &["binary"],
        ("grant::sql_types::PortableUuid", Backend::Sqlite) => &["BLOB"],
        _ => &[],
    }
}

const PG_COLUMNS: &str = "SELECT c.column_name::text AS name, c.data_type::text AS sql_type, \
     (c.is_nullable = 'YES')::int AS nullable, \
     COALESCE((SELECT k.ordinal_position::int FROM information_schema.table_constraints t \
       JOIN information_schema.key_column_usage k ON k.constraint_name = t.constraint_name AND k.table_name = t.table_name \
       WHERE t.table_name = c.table_name AND t.constraint_type = 'PRIMARY KEY' AND k.column_name = c.column_name), 0) AS key_position \
     FROM information_schema.columns c WHERE c.table_schema = 'public' AND c.table_name = $1 ORDER BY c.ordinal_position";

const MYSQL_COLUMNS: &str = "SELECT CAST(c.COLUMN_NAME AS CHAR) AS name, CAST(c.DATA_TYPE AS CHAR) AS sql_type, \
     CAST(c.IS_NULLABLE = 'YES' AS SIGNED) AS nullable, \
     CAST(COALESCE((SELECT k.ORDINAL_POSITION FROM information_schema.KEY_COLUMN_USAGE k \
       WHERE k.TABLE_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME AND k.CONSTRAINT_NAME = 'PRIMARY' \
       AND k.COLUMN_NAME = c.COLUMN_NAME), 0) AS SIGNED) AS key_position \
     FROM information_schema.COLUMNS c WHERE c.TABLE_SCHEMA = DATABASE() AND c.TABLE_NAME = ? ORDER BY c.ORDINAL_POSITION";

const SQLITE_COLUMNS: &str = "SELECT name, type AS sql_type, 1 - \"notnull\" AS nullable, pk AS key_position FROM pragma_table_info(?) ORDER BY cid";

const PG_FOREIGN_KEYS: &str = "SELECT k.column_name::text AS column, u.table_name::text AS parent, u.column_name::text AS parent_column \
     FROM information_schema.key_column_usage k \
     JOIN information_schema.referential_constraints r ON r.constraint_name = k.constraint_name \
     JOIN information_schema.key_column_usage u ON u.constraint_name = r.unique_constraint_name AND u.ordinal_position = k.position_in_unique_constraint \
     WHERE k.table_name = $1 AND k.constraint_name = $2 ORDER BY k.ordinal_position";

const MYSQL_FOREIGN_KEYS: &str = "SELECT CAST(COLUMN_NAME AS CHAR) AS `column`, CAST(REFERENCED_TABLE_NAME AS CHAR) AS parent, \
     CAST(REFERENCED_COLUMN_NAME AS CHAR) AS parent_column FROM information_schema.KEY_COLUMN_USAGE \
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND CONSTRAINT_NAME = ? ORDER BY ORDINAL_POSITION";

// SQLite does not keep constraint names in its catalog: match by parent table.
const SQLITE_FOREIGN_KEYS: &str = "SELECT \"from\" AS \"column\", \"table\" AS parent, \"to\" AS parent_column \
     FROM pragma_foreign_key_list(?) WHERE ? IS NOT NULL ORDER BY seq";

async fn catalog_columns(db: &TestDb, table: &str) -> Vec<CatalogColumn> {
    match db.backend {
        Backend::Pg => {
            diesel::sql_query(PG_COLUMNS)
                .bind::<Text, _>(table)
                .load(&mut db.pg().await)
                .await
        }
        Backend::Mysql => {
            diesel::sql_query(MYSQL_COLUMNS)
                .bind::<Text, _>(table)
                .load(&mut db.mysql().await)
                .await
        }
        Backend::Sqlite => {
            diesel::sql_query(SQLITE_COLUMNS)
                .bind::<Text, _>(table)
                .load(&mut db.sqlite().await)
                .await
        }
    }
    .unwrap_or_else(|e| panic!("catalog of {table}: {e}"))
}

async fn catalog_foreign_key(db: &TestDb, table: &str, constraint: &str) -> Vec<CatalogForeignKey> {
    let (t, c) = (table.to_owned(), constraint.to_owned());
    match db.backend {
        Backend::Pg => {
            diesel::sql_query(PG_FOREIGN_KEYS)
                .bind::<Text, _>(t)
                .bind::<Text, _>(c)
                .load(&mut db.pg().await)
                .await
        }
        Backend::Mysql => {
            diesel::sql_query(MYSQL_FOREIGN_KEYS)
                .bind::<Text, _>(t)
                .bind::<Text, _>(c)
                .load(&mut db.mysql().await)
                .await
        }
        Backend::Sqlite => {
            diesel::sql_query(SQLITE_FOREIGN_KEYS)
                .bind::<Text, _>(t)
                .bind::<Text, _>(c)
                .load(&mut db.sqlite().await)
                .await
        }
    }
    .unwrap_or_else(|e| panic!("foreign keys of {table}: {e}"))
}

async fn check(backend: Backend) {
    let db = TestDb::migrated(backend, "catalog").await;
    for table in tables() {
        let catalog = catalog_columns(&db, table.name).await;
        let names: Vec<&str> = catalog.iter().map(|c| c.name.as_str()).collect();
        let declared_names: Vec<&str> = table.columns.iter().map(|c| c.0).collect();
        assert_eq!(
            names, declared_names,
            "{backend:?}: columns of {}",
            table.name
        );
        for (column, (name, sql_type)) in catalog.iter().zip(table.columns) {
            let ok = accepted(sql_type, backend);
            assert!(
                ok.contains(&column.sql_type.as_str()),
                "{backend:?}: {}.{name} is {} in the catalog, declared {sql_type} (accepts {ok:?})",
                table.name,
                column.sql_type
            );
            assert_eq!(
                column.nullable == 1,
                sql_type.starts_with("Nullable<"),
                "{backend:?}: nullability of {}.{name}",
                table.name
            );
        }
        let mut key: Vec<(i32, &str)> = catalog
            .iter()
            .filter(|c| c.key_position > 0)
            .map(|c| (c.key_position, c.name.as_str()))
            .collect();
        key.sort();
        let key: Vec<&str> = key.into_iter().map(|(_, n)| n).collect();
        assert_eq!(key, table.key, "{backend:?}: primary key of {}", table.name);
    }

    let expect =
        |fk: Vec<CatalogForeignKey>, columns: &[&str], parent: &str, parent_columns: &[&str]| {
            assert_eq!(
                fk.iter().map(|f| f.column.as_str()).collect::<Vec<_>>(),
                columns,
                "{backend:?}"
            );
            assert!(fk.iter().all(|f| f.parent == parent), "{backend:?}: {fk:?}");
            assert_eq!(
                fk.iter()
                    .map(|f| f.parent_column.as_str())
                    .collect::<Vec<_>>(),
                parent_columns,
                "{backend:?}"
            );
        };
    let fk = catalog_foreign_key(
        &db,
        "shipments",
        <shipments::table as ForeignKey<order_items::table>>::CONSTRAINT,
    )
    .await;
    expect(
        fk,
        <shipments::table as ForeignKey<order_items::table>>::COLUMNS,
        "order_items",
        order_items::table::KEY_COLUMNS,
    );
    let fk = catalog_foreign_key(
        &db,
        "session_events",
        <session_events::table as ForeignKey<user_sessions::table>>::CONSTRAINT,
    )
    .await;
    expect(
        fk,
        <session_events::table as ForeignKey<user_sessions::table>>::COLUMNS,
        "user_sessions",
        user_sessions::table::KEY_COLUMNS,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_catalog_matches_the_schema() {
    check(Backend::Pg).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_catalog_matches_the_schema() {
    check(Backend::Mysql).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_catalog_matches_the_schema() {
    check(Backend::Sqlite).await;
}
