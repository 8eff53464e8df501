//! Mapping server errors to grant's typed errors: a unique violation becomes
//! [`Error::DuplicateKey`], naming the key.

use crate::Error;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Maps the error of a write on `table`. `key` gives the key that was written when there is
/// exactly one; for batches the key comes from the server's message where it says one.
pub fn map_write_error(table: &'static str, key: Option<String>, err: DieselError) -> Error {
    match err {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            let key = key
                .or_else(|| key_from_message(info.details(), info.message()))
                .unwrap_or_else(|| String::from("?"));
            Error::DuplicateKey {
                table,
                key,
                constraint: info.constraint_name().map(str::to_owned),
            }
        }
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
            Error::ForeignKeyViolation {
                table,
                key: key.unwrap_or_else(|| String::from("?")),
                constraint: info
                    .constraint_name()
                    .map(str::to_owned)
                    .or_else(|| mysql_constraint(info.message())),
                references: info.details().and_then(referenced_key),
            }
        }
        source => Error::Query { table, source },
    }
}

/// MySQL names the constraint in its message: ``.. CONSTRAINT `fk_name` FOREIGN KEY ..``.
fn mysql_constraint(message: &str) -> Option<String> {
    let rest = message.split_once("CONSTRAINT `")?.1;
    Some(rest.split_once('`')?.0.to_owned())
}

/// PostgreSQL's detail `Key (a, b)=(1, 2) is not present in table "t".` gives `1:2`.
fn referenced_key(details: &str) -> Option<String> {
    let values = details.split_once(")=(")?.1;
    let values = values.split_once(") is not present")?.0;
    Some(values.split(", ").collect::<Vec<_>>().join(":"))
}

/// Maps the error of a read on `table`.
pub fn map_read_error(table: &'static str, source: DieselError) -> Error {
    Error::Query { table, source }
}

/// The duplicated key as the server printed it: PostgreSQL's detail
/// `Key (a, b)=(1, 2) already exists.` gives `1:2`; MySQL's `Duplicate entry '1-2' for key ..`
/// gives `1-2`. SQLite does not print the values.
fn key_from_message(details: Option<&str>, message: &str) -> Option<String> {
    if let Some(details) = details {
        let values = details.split_once(")=(")?.1;
        let values = values.rsplit_once(") already exists")?.0;
        return Some(values.split(", ").collect::<Vec<_>>().join(":"));
    }
    let rest = message.strip_prefix("Duplicate entry '")?;
    Some(rest.rsplit_once("' for key")?.0.to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn unique_violation_is_duplicate_key() {
        use diesel::result::{DatabaseErrorKind, Error as DieselError};
        let err = DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new(String::from(
                "UNIQUE constraint failed: order_items.order_id",
            )),
        );
        match super::map_write_error("order_items", Some("1:2".into()), err) {
            crate::Error::DuplicateKey { table, key, .. } => {
                assert_eq!((table, key.as_str()), ("order_items", "1:2"))
            }
            other => panic!("{other}"),
        }
    }

    use super::key_from_message;

    #[test]
    fn reads_postgres_and_mysql_messages() {
        assert_eq!(
            key_from_message(
                Some("Key (order_id, product_id)=(1, 2) already exists."),
                "dup"
            ),
            Some("1:2".into())
        );
        assert_eq!(
            key_from_message(None, "Duplicate entry '1-2' for key 'PRIMARY'"),
            Some("1-2".into())
        );
        assert_eq!(
            key_from_message(None, "UNIQUE constraint failed: t.a"),
            None
        );
    }
}
