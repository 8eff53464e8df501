//! `KeysIn`: the filter "the row's key is one of these keys", rendered for each backend.

use super::{KeyBinds, KeyedTable};
use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::query_builder::{AstPass, QueryFragment};

/// The filter "key is one of `keys`", for batch lookups in one statement.
///
/// PostgreSQL and MySQL get a row-value list, `(t.a, t.b) IN (($1, $2), ($3, $4))`; SQLite
/// gets an OR of ANDs, `((t.a = ? AND t.b = ?) OR (t.a = ? AND t.b = ?))`, nested as a
/// balanced tree so that 1,000 keys stay far below SQLite's expression depth limit. An empty
/// list is `1 = 0`. Build it with
/// [`crate::KeyQueryDsl::find_keys`]; the runners (`find_many`) split long lists into
/// statements that stay under each backend's bind-parameter limit ([`FindManyByKeys::keys_per_statement`](crate::key::methods::FindManyByKeys::keys_per_statement)).
///
/// ```
/// # use grant::__doc_schema::order_items;
/// use diesel::debug_query;
/// use grant::prelude::*;
/// let q = order_items::table.find_keys([(1, 2), (3, 4)]);
/// # #[cfg(feature = "postgres")] {
/// let sql = debug_query::<diesel::pg::Pg, _>(&q).to_string();
/// assert!(sql.contains(r#"("order_items"."order_id", "order_items"."product_id") IN (($1, $2), ($3, $4))"#), "{sql}");
/// # }
/// ```
pub struct KeysIn<T: KeyedTable> {
    keys: Vec<T::Key>,
}

impl<T: KeyedTable> KeysIn<T> {
    /// The filter for these keys.
    pub fn new(keys: Vec<T::Key>) -> Self {
        KeysIn { keys }
    }

    /// The keys.
    pub fn keys(&self) -> &[T::Key] {
        &self.keys
    }
}

impl<T: KeyedTable> Clone for KeysIn<T> {
    fn clone(&self) -> Self {
        KeysIn {
            keys: self.keys.clone(),
        }
    }
}

impl<T: KeyedTable> std::fmt::Debug for KeysIn<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeysIn")
            .field("table", &T::NAME)
            .field("keys", &self.keys)
            .finish()
    }
}

// The SQL depends on the number of keys.
crate::condition::condition_on_columns!([T: KeyedTable] KeysIn<T>, T::KeyColumns);

/// The most bind parameters one statement may carry on a backend.
pub trait BindLimit: Backend {
    /// The limit.
    const MAX_BIND_PARAMS: usize;
}

/// At most this many keys go into one statement, however high the backend's limit: long
/// IN lists plan slowly, and 1,000 keys already amortise the round trip.
pub const MAX_KEYS_PER_STATEMENT: usize = 1_000;

/// How many keys of `T` one statement may carry on `DB`.
pub fn keys_per_statement<T: KeyedTable, DB: BindLimit>() -> usize {
    let arity = <T::Arity as typenum::Unsigned>::USIZE.max(1);
    (DB::MAX_BIND_PARAMS / arity).clamp(1, MAX_KEYS_PER_STATEMENT)
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
fn walk_row_values<'b, T, DB>(keys: &'b [T::Key], mut out: AstPass<'_, 'b, DB>) -> QueryResult<()>
where
    T: KeyedTable,
    DB: Backend,
    T::Key: KeyBinds<DB>,
{
    if keys.is_empty() {
        out.push_sql("1 = 0");
        return Ok(());
    }
    out.push_sql("(");
    <T::Key as KeyBinds<DB>>::walk_columns(&mut out)?;
    out.push_sql(") IN (");
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            out.push_sql(", ");
        }
        out.push_sql("(");
        key.walk_values(&mut out)?;
        out.push_sql(")");
    }
    out.push_sql(")");
    Ok(())
}

#[cfg(feature = "postgres")]
mod pg {
    use super::*;
    use diesel::pg::Pg;

    impl BindLimit for Pg {
        const MAX_BIND_PARAMS: usize = 65_535;
    }

    impl<T: KeyedTable> QueryFragment<Pg> for KeysIn<T>
    where
        T::Key: KeyBinds<Pg>,
    {
        fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
            walk_row_values::<T, Pg>(&self.keys, out)
        }
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;
    use diesel::mysql::Mysql;

    impl BindLimit for Mysql {
        const MAX_BIND_PARAMS: usize = 65_535;
    }

    impl<T: KeyedTable> QueryFragment<Mysql> for KeysIn<T>
    where
        T::Key: KeyBinds<Mysql>,
    {
        fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Mysql>) -> QueryResult<()> {
            walk_row_values::<T, Mysql>(&self.keys, out)
        }
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use diesel::sqlite::Sqlite;

    impl BindLimit for Sqlite {
        // SQLITE_MAX_VARIABLE_NUMBER since SQLite 3.32 (the bundled library is newer).
        const MAX_BIND_PARAMS: usize = 32_766;
    }

    impl<T: KeyedTable> QueryFragment<Sqlite> for KeysIn<T>
    where
        T::Key: KeyBinds<Sqlite>,
    {
        fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
            if self.keys.is_empty() {
                out.push_sql("1 = 0");
                return Ok(());
            }
            walk_balanced_or::<T>(&self.keys, &mut out)
        }
    }

    /// `(k1 OR k2) OR (k3 OR k4)`: balanced, so that the expression depth grows with log2 of
    /// the number of keys (SQLite refuses expressions deeper than 1,000).
    fn walk_balanced_or<'b, T: KeyedTable>(
        keys: &'b [T::Key],
        out: &mut AstPass<'_, 'b, Sqlite>,
    ) -> QueryResult<()>
    where
        T::Key: KeyBinds<Sqlite>,
    {
        out.push_sql("(");
        match keys {
            [key] => key.walk_eq(out)?,
            _ => {
                let (left, right) = keys.split_at(keys.len() / 2);
                walk_balanced_or::<T>(left, out)?;
                out.push_sql(" OR ");
                walk_balanced_or::<T>(right, out)?;
            }
        }
        out.push_sql(")");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(feature = "postgres")]
    fn postgres_bind_limit() {
        use super::BindLimit;
        assert_eq!(<diesel::pg::Pg as BindLimit>::MAX_BIND_PARAMS, 65_535);
    }
}
