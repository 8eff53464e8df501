//! `grant print-schema`: diesel's generated `schema.rs` (`diesel print-schema`, or the file
//! `diesel migration run` rewrites) turned into `grant::table!` declarations, with each
//! table's shard key and co-location taken from the topology. Everything else (imports,
//! `joinable!`, `allow_tables_to_appear_in_same_query!`, doc comments, `#[sql_name]`) is
//! kept as diesel wrote it: `grant::table!` takes diesel's syntax.

use std::io::Read;
use std::path::Path;

pub fn print_schema(topology: &grant::Topology, from: &Path) -> Result<bool, String> {
    let text = if from == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| e.to_string())?;
        text
    } else {
        std::fs::read_to_string(from).map_err(|e| format!("{}: {e}", from.display()))?
    };
    print!("{}", rewrite(&text, topology)?);
    Ok(true)
}

/// The rewritten text.
fn rewrite(text: &str, topology: &grant::Topology) -> Result<String, String> {
    let mut out = String::with_capacity(text.len() + 256);
    let mut in_table = false;
    let mut seen = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("diesel::table! {") || trimmed.starts_with("table! {") {
            in_table = true;
            let indent = &line[..line.len() - trimmed.len()];
            out.push_str(indent);
            out.push_str("grant::table! {");
            out.push_str(trimmed.split_once('{').map_or("", |(_, rest)| rest));
            out.push('\n');
            continue;
        }
        // The table's name line: `name (key, ..) {`, after any attributes and docs.
        if in_table
            && !trimmed.starts_with('#')
            && !trimmed.starts_with("//")
            && trimmed.contains('(')
        {
            in_table = false;
            let name = trimmed
                .split(|c: char| c == '(' || c.is_whitespace())
                .next()
                .unwrap_or_default();
            // `schema.table` names keep only the table.
            let name = name.rsplit('.').next().unwrap_or(name);
            if let Some(attribute) = attribute(topology, name) {
                let indent = &line[..line.len() - trimmed.len()];
                out.push_str(&format!("{indent}{attribute}\n"));
            }
            seen.push(name.to_owned());
        }
        out.push_str(line);
        out.push('\n');
    }
    if let Some(missing) = topology
        .tables
        .keys()
        .find(|t| !seen.iter().any(|s| s == *t))
    {
        return Err(format!(
            "the topology describes table `{missing}`, which the schema does not declare"
        ));
    }
    Ok(out)
}

/// `#[grant(shard_key(..), colocated_with(..))]` for `table`, when the topology names them.
fn attribute(topology: &grant::Topology, table: &str) -> Option<String> {
    let section = topology.tables.get(table)?;
    let mut parts = Vec::new();
    if !section.shard_key_columns.is_empty() {
        parts.push(format!(
            "shard_key({})",
            section.shard_key_columns.join(", ")
        ));
    }
    if let Some(parent) = &section.colocated_with {
        parts.push(format!("colocated_with({parent})"));
    }
    (!parts.is_empty()).then(|| format!("#[grant({})]", parts.join(", ")))
}
