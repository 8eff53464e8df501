//! Shard keys are immutable: finding a shard-key column among the assignments of an
//! `UPDATE .. SET ..` as diesel renders it.

/// The first of `columns` that the rendered `UPDATE` statement assigns, if any. Diesel
/// renders each assignment target as a bare quoted column name (`"col" = ` or `` `col` = ``)
/// between `SET` and `WHERE`; values are skipped with their parentheses and string literals.
pub fn set_shard_key_column(sql: &str, columns: &[&'static str]) -> Option<&'static str> {
    let set = sql.find(" SET ")? + " SET ".len();
    let mut rest = &sql[set..];
    loop {
        let target = quoted_name(rest)?;
        if let Some(column) = columns.iter().find(|c| **c == target) {
            return Some(column);
        }
        rest = next_assignment(rest)?;
    }
}

/// The quoted identifier at the start of `s`.
fn quoted_name(s: &str) -> Option<&str> {
    let quote = s.chars().next().filter(|c| *c == '"' || *c == '`')?;
    let body = &s[1..];
    body.find(quote).map(|end| &body[..end])
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
                b' ' if depth == 0 && s[i..].starts_with(" WHERE ") => return None,
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
}
