//! Shard keys are immutable, checked at run time for raw SQL (typed updates are checked when
//! compiling, see [`super::changeset`]): finding a shard-key column among the assignments of
//! a raw `UPDATE <table> SET ..` routed by a key of that table.

use super::operation::Operation;
use super::{Route, StatementKind};
use crate::Error;

/// Refuses raw SQL (`sql_query`) routed by a key of table `t` that is an `UPDATE t SET ..`
/// assigning a shard-key column of `t`: [`Error::ShardKeyImmutable`], before it runs. Raw
/// SQL on a named shard or on every shard names no table, so it is not checked.
pub(crate) fn check_raw<Q, O, C>(query: &Q, route: &impl Route<Q>) -> Result<(), Error>
where
    Q: StatementKind,
    O: Operation<C, Q>,
{
    if !Q::RAW {
        return Ok(());
    }
    let (Some(table), columns) = (route.table(), route.shard_key_columns()) else {
        return Ok(());
    };
    let Some(sql) = O::sql_text(query) else {
        return Ok(());
    };
    match updated_table(&sql) {
        Some(updated) if updated == table => {}
        _ => return Ok(()),
    }
    match set_shard_key_column(&sql, columns) {
        Some(column) => Err(Error::ShardKeyImmutable { table, column }),
        None => Ok(()),
    }
}

/// The table of an `UPDATE <table> SET` (quoted or not, any case), if the SQL is one.
fn updated_table(sql: &str) -> Option<&str> {
    let sql = sql.trim_start();
    let head = sql.get(..7)?;
    if !head.eq_ignore_ascii_case("update ") {
        return None;
    }
    let rest = sql[7..].trim_start();
    let end = rest.find(|c: char| c.is_whitespace())?;
    Some(rest[..end].trim_matches(|c| c == '"' || c == '`'))
}

/// The first of `columns` that the rendered `UPDATE` statement assigns, if any. Diesel
/// renders each assignment target as a bare quoted column name (`"col" = ` or `` `col` = ``)
/// between `SET` and `WHERE`; values are skipped with their parentheses and string literals.
fn set_shard_key_column(sql: &str, columns: &[&'static str]) -> Option<&'static str> {
    let upper = sql.to_ascii_uppercase();
    let set = upper.find(" SET ")? + " SET ".len();
    let mut rest = sql[set..].trim_start();
    loop {
        let target = name(rest)?;
        if let Some(column) = columns.iter().find(|c| **c == target) {
            return Some(column);
        }
        rest = next_assignment(rest)?;
    }
}

/// The identifier at the start of `s`, quoted (`"col"`, `` `col` ``) or bare (`col`).
fn name(s: &str) -> Option<&str> {
    match s.chars().next()? {
        quote @ ('"' | '`') => {
            let body = &s[1..];
            body.find(quote).map(|end| &body[..end])
        }
        _ => {
            let end = s
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(s.len());
            (end > 0).then(|| &s[..end])
        }
    }
}

/// The text after the next top-level `, ` (the next assignment), or `None` at `WHERE`/end.
fn next_assignment(s: &str) -> Option<&str> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'\'' | b'"' | b'`' => quote = Some(b),
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                b',' if depth == 0 => return Some(s[i + 1..].trim_start()),
                b' ' if depth == 0
                    && s.get(i..i + 7)
                        .is_some_and(|w| w.eq_ignore_ascii_case(" WHERE ")) =>
                {
                    return None;
                }
                _ => {}
            },
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_shard_key_assignments() {
        use super::set_shard_key_column;
        let sql = r#"UPDATE "t" SET "quantity" = ("t"."quantity" + $1), "order_id" = $2 WHERE ("t"."order_id" = $3)"#;
        assert_eq!(set_shard_key_column(sql, &["order_id"]), Some("order_id"));
        assert_eq!(set_shard_key_column(sql, &["product_id"]), None);
    }

    use super::set_shard_key_column;

    #[test]
    fn finds_assignments_not_references() {
        let sql = "UPDATE `t` SET `quantity` = (`t`.`order_id` + ?) WHERE (`t`.`order_id` = ?)";
        assert_eq!(set_shard_key_column(sql, &["order_id"]), None);
        let sql = "UPDATE `t` SET `note` = 'a, `order_id` = 1', `order_id` = ? WHERE 1";
        assert_eq!(set_shard_key_column(sql, &["order_id"]), Some("order_id"));
        assert_eq!(set_shard_key_column("SELECT 1", &["order_id"]), None);
    }

    #[test]
    fn reads_hand_written_sql() {
        let sql = "update order_items set quantity = 1, order_id = 9 where order_id = 1";
        assert_eq!(super::updated_table(sql), Some("order_items"));
        assert_eq!(set_shard_key_column(sql, &["order_id"]), Some("order_id"));
        let sql = "UPDATE order_items SET quantity = 1 WHERE order_id = 1";
        assert_eq!(set_shard_key_column(sql, &["order_id"]), None);
        assert_eq!(super::updated_table("SELECT 1"), None);
    }
}
