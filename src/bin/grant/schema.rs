//! `grant check-schema`: the applied migrations and the table columns of every shard,
//! compared. What most shards have is expected; a shard that lacks some of it, or has more,
//! has drifted.

use crate::output;
use diesel::QueryableByName;
use diesel::query_builder::SqlQuery;
use diesel::sql_types::Text;
use grant::ShardConnection;
use std::collections::BTreeSet;

#[derive(QueryableByName)]
pub struct Item {
    #[diesel(sql_type = Text)]
    item: String,
}

/// Each column as `table.column type [NOT NULL]`, and each applied migration as
/// `migration <version>`, in one query per backend.
fn inventory_sql(backend: &str) -> &'static str {
    match backend {
        "postgres" => {
            "SELECT table_name || '.' || column_name || ' ' || data_type || \
             CASE WHEN is_nullable = 'NO' THEN ' NOT NULL' ELSE '' END AS item \
             FROM information_schema.columns WHERE table_schema = current_schema() \
             UNION ALL SELECT 'migration ' || version FROM __diesel_schema_migrations"
        }
        "mysql" => {
            "SELECT CONCAT(table_name, '.', column_name, ' ', column_type, \
             IF(is_nullable = 'NO', ' NOT NULL', '')) AS item \
             FROM information_schema.columns WHERE table_schema = DATABASE() \
             UNION ALL SELECT CONCAT('migration ', version) FROM __diesel_schema_migrations"
        }
        _ => {
            "SELECT m.name || '.' || p.name || ' ' || lower(p.type) || \
             CASE WHEN p.\"notnull\" THEN ' NOT NULL' ELSE '' END AS item \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
             UNION ALL SELECT 'migration ' || version FROM __diesel_schema_migrations"
        }
    }
}

#[derive(serde::Serialize)]
struct Drift {
    shard: String,
    /// What most shards have and this one lacks.
    missing: Vec<String>,
    /// What this shard has and most do not.
    extra: Vec<String>,
    /// Set when the shard could not be read.
    error: Option<String>,
}

pub async fn check<C>(topology: &grant::Topology, json: bool) -> Result<bool, String>
where
    C: ShardConnection,
    for<'a> SqlQuery: diesel_async::methods::LoadQuery<'a, C, Item>,
{
    let sharded = topology.build::<C>().map_err(|e| e.to_string())?;
    sharded.check_health().await;
    let mut inventories: Vec<(String, Result<BTreeSet<String>, String>)> = Vec::new();
    for name in sharded.shard_names() {
        let cluster = sharded.cluster(name).map_err(|e| e.to_string())?;
        let read = async {
            let mut conn = cluster.primary().await.map_err(|e| e.to_string())?;
            let items: Vec<Item> = diesel_async::RunQueryDsl::load(
                diesel::sql_query(inventory_sql(C::BACKEND)),
                &mut *conn,
            )
            .await
            .map_err(|e| e.to_string())?;
            Ok::<_, String>(items.into_iter().map(|i| i.item).collect())
        };
        inventories.push((name.to_owned(), read.await));
    }
    let readable: Vec<&BTreeSet<String>> = inventories
        .iter()
        .filter_map(|(_, i)| i.as_ref().ok())
        .collect();
    let all: BTreeSet<&String> = readable.iter().flat_map(|i| i.iter()).collect();
    // Expected: what more than half of the readable shards have.
    let expected: BTreeSet<&String> = all
        .into_iter()
        .filter(|item| readable.iter().filter(|i| i.contains(*item)).count() * 2 > readable.len())
        .collect();
    let drifts: Vec<Drift> = inventories
        .iter()
        .map(|(shard, inventory)| match inventory {
            Ok(items) => Drift {
                shard: shard.clone(),
                missing: expected
                    .iter()
                    .filter(|e| !items.contains(**e))
                    .map(|e| (*e).clone())
                    .collect(),
                extra: items
                    .iter()
                    .filter(|i| !expected.contains(i))
                    .cloned()
                    .collect(),
                error: None,
            },
            Err(e) => Drift {
                shard: shard.clone(),
                missing: Vec::new(),
                extra: Vec::new(),
                error: Some(e.clone()),
            },
        })
        .collect();
    let same = drifts
        .iter()
        .all(|d| d.missing.is_empty() && d.extra.is_empty() && d.error.is_none());
    if json {
        output::json(&drifts)?;
    } else {
        for d in &drifts {
            match &d.error {
                Some(e) => println!("{}: cannot read its schema: {e}", d.shard),
                None if d.missing.is_empty() && d.extra.is_empty() => {
                    println!("{}: same as the others", d.shard);
                }
                None => {
                    println!("{}: DRIFT", d.shard);
                    for m in &d.missing {
                        println!("  missing  {m}");
                    }
                    for x in &d.extra {
                        println!("  extra    {x}");
                    }
                }
            }
        }
    }
    Ok(same)
}
