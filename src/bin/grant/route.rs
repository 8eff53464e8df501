//! `grant route <table> <key>...`: the shard each key routes to, computed as the library
//! computes it, from the shard-key types the topology declares for the table.

use crate::output;
use grant::key::{KeyPart, PartValue};
use grant::shard::ShardValues;
use std::io::BufRead;

/// One part parsed by its declared SQL type.
enum Part {
    Int(i64),
    Text(String),
    Uuid(uuid::Uuid),
    Bool(bool),
    Date(chrono::NaiveDate),
    Timestamp(chrono::NaiveDateTime),
}

impl Part {
    fn parse(sql_type: &str, text: &str) -> Result<Part, String> {
        Ok(match sql_type.to_ascii_lowercase().as_str() {
            "bigint" | "int8" => Part::Int(i64::parse_text(text)?),
            "integer" | "int" | "int4" => Part::Int(i32::parse_text(text)?.into()),
            "smallint" | "int2" => Part::Int(i16::parse_text(text)?.into()),
            "text" | "varchar" => Part::Text(String::parse_text(text)?),
            "uuid" => Part::Uuid(uuid::Uuid::parse_text(text)?),
            "bool" | "boolean" => Part::Bool(bool::parse_text(text)?),
            "date" => Part::Date(chrono::NaiveDate::parse_text(text)?),
            "timestamp" => Part::Timestamp(chrono::NaiveDateTime::parse_text(text)?),
            other => return Err(format!("unknown shard-key type `{other}`")),
        })
    }

    fn value(&self) -> PartValue<'_> {
        match self {
            Part::Int(v) => v.part_value(),
            Part::Text(v) => v.part_value(),
            Part::Uuid(v) => v.part_value(),
            Part::Bool(v) => v.part_value(),
            Part::Date(v) => v.part_value(),
            Part::Timestamp(v) => v.part_value(),
        }
    }
}

#[derive(serde::Serialize)]
struct Routed {
    key: String,
    shard: String,
    index: u32,
}

pub fn route(
    topology: &grant::Topology,
    table: &str,
    keys: Vec<String>,
    json: bool,
) -> Result<bool, String> {
    let types = topology
        .tables
        .get(table)
        .map(|t| t.shard_key.clone())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            format!(
                "the topology does not declare the shard key of `{table}`: add `[tables.{table}] shard_key = [\"bigint\"]` (its columns' SQL types, in order)"
            )
        })?;
    if types.len() > 4 {
        return Err(format!("`{table}`: a shard key has at most 4 columns"));
    }
    let names = topology.shard_names();
    // The routing of a one-shard-per-name topology, with the table's strategy: built from
    // the TOML exactly as the library builds it, without connecting anywhere.
    let routing = topology.routing().map_err(|e| e.to_string())?;
    let table_name: &'static str = Box::leak(table.to_owned().into_boxed_str());
    let strategy = routing
        .strategy_for(table_name)
        .map_err(|e| e.to_string())?
        .clone();
    let keys: Vec<String> = if keys == ["-"] {
        std::io::stdin()
            .lock()
            .lines()
            .map(|l| l.map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .collect()
    } else {
        keys
    };
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let reader =
            grant::__private::KeyReader::new(table_name, &key).map_err(|e| e.to_string())?;
        let mut reader = reader;
        let mut parts = Vec::with_capacity(types.len());
        for (i, sql_type) in types.iter().enumerate() {
            let text: String = reader
                .part::<String>(&format!("shard-key column {}", i + 1))
                .map_err(|e| e.to_string())?;
            parts.push(Part::parse(sql_type, &text).map_err(|e| format!("key `{key}`: {e}"))?);
        }
        if reader.remaining() > 0 {
            return Err(format!(
                "key `{key}`: {} parts, but `{table}`'s shard key has {}",
                types.len() + reader.remaining(),
                types.len()
            ));
        }
        let values: Vec<PartValue<'_>> = parts.iter().map(Part::value).collect();
        let shard_values = match values.as_slice() {
            [a] => ShardValues::new([*a]),
            [a, b] => ShardValues::new([*a, *b]),
            [a, b, c] => ShardValues::new([*a, *b, *c]),
            [a, b, c, d] => ShardValues::new([*a, *b, *c, *d]),
            _ => return Err(format!("key `{key}`: no shard-key part")),
        };
        let shard = strategy
            .shard_for(&shard_values)
            .map_err(|e| format!("key `{key}`: {e}"))?;
        let name = names
            .get(shard.index())
            .map(|s| (*s).to_owned())
            .unwrap_or_else(|| format!("#{}", shard.index()));
        out.push(Routed {
            key,
            shard: name,
            index: u32::try_from(shard.index()).unwrap_or(u32::MAX),
        });
    }
    if json {
        output::json(&out)?;
    } else {
        for r in &out {
            println!("{table} {} -> {} (#{})", r.key, r.shard, r.index);
        }
    }
    Ok(true)
}
