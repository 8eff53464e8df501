//! grant's own statements (lease and topology tables) on one shard's primary, as text, with
//! the few SQL spellings that differ between backends.

use super::ShardConnection;
use crate::shard::{ShardRef, Sharded};

/// The SQL spellings grant's own tables need, per backend.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dialect {
    pub(crate) backend: &'static str,
}

impl Dialect {
    /// The server's clock in milliseconds since the Unix epoch.
    pub(crate) fn now_ms(self) -> &'static str {
        match self.backend {
            "postgres" => "(extract(epoch from clock_timestamp()) * 1000)::bigint",
            "mysql" => "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)",
            _ => "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
        }
    }

    /// `expr` as text.
    pub(crate) fn text(self, expr: &str) -> String {
        match self.backend {
            "postgres" => format!("({expr})::text"),
            "mysql" => format!("CAST({expr} AS CHAR)"),
            _ => format!("CAST({expr} AS TEXT)"),
        }
    }

    /// A column type for long text (MySQL's `TEXT` stops at 64 KiB).
    pub(crate) fn long_text(self) -> &'static str {
        match self.backend {
            "mysql" => "LONGTEXT",
            _ => "TEXT",
        }
    }

    /// `value` as a string literal, or `None` when it holds a NUL character (no backend
    /// stores one in text). Quotes are doubled; on MySQL backslashes are doubled too, as its
    /// default SQL mode reads them as escapes (a server in `NO_BACKSLASH_ESCAPES` mode
    /// would store them doubled: grant's connections do not set that mode).
    pub(crate) fn literal(self, value: &str) -> Option<String> {
        if value.contains('\0') {
            return None;
        }
        let mut out = String::with_capacity(value.len() + 2);
        out.push('\'');
        for c in value.chars() {
            match c {
                '\'' => out.push_str("''"),
                '\\' if self.backend == "mysql" => out.push_str("\\\\"),
                c => out.push(c),
            }
        }
        out.push('\'');
        Some(out)
    }
}

/// Runs grant's own statements on one shard's primary.
pub(crate) struct PrimarySql<C: ShardConnection> {
    pub(crate) sharded: Sharded<C>,
    pub(crate) shard: ShardRef,
    pub(crate) sql: Dialect,
}

impl<C: ShardConnection> PrimarySql<C> {
    pub(crate) fn new(sharded: Sharded<C>, shard: ShardRef) -> Self {
        PrimarySql {
            sharded,
            shard,
            sql: Dialect {
                backend: C::BACKEND,
            },
        }
    }

    pub(crate) fn shard_name(&self) -> String {
        self.shard.to_string()
    }

    /// A connection to the shard's primary.
    async fn checkout(&self) -> Result<super::NodeConn<'_, C>, String> {
        let cluster = self
            .sharded
            .cluster(self.shard.clone())
            .map_err(|e| e.to_string())?;
        cluster
            .primary_node()
            .checkout()
            .await
            .map_err(|e| e.to_string())
    }

    /// The `item` column of every row `sql` returns.
    pub(crate) async fn texts(&self, sql: String) -> Result<Vec<String>, String> {
        let mut conn = self.checkout().await?;
        let rows = C::texts(conn.conn(), sql)
            .await
            .map_err(|e| e.to_string())?;
        conn.finished();
        Ok(rows)
    }

    /// Runs `sql` (one or more statements).
    pub(crate) async fn execute(&self, sql: String) -> Result<(), String> {
        self.execute_or(sql, |_| false).await
    }

    /// Runs `sql`; an error for which `benign` holds counts as success.
    pub(crate) async fn execute_or(
        &self,
        sql: String,
        benign: fn(&diesel::result::Error) -> bool,
    ) -> Result<(), String> {
        let mut conn = self.checkout().await?;
        match diesel_async::SimpleAsyncConnection::batch_execute(conn.conn(), &sql).await {
            Ok(()) => {}
            Err(e) if benign(&e) => {}
            Err(e) => return Err(e.to_string()),
        }
        conn.finished();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Dialect;

    #[test]
    fn literals_double_quotes_and_mysql_backslashes() {
        let pg = Dialect {
            backend: "postgres",
        };
        let my = Dialect { backend: "mysql" };
        assert_eq!(pg.literal("a'b\\c").as_deref(), Some("'a''b\\c'"));
        assert_eq!(my.literal("a'b\\c").as_deref(), Some("'a''b\\\\c'"));
        assert_eq!(pg.literal("nul\0"), None);
    }
}
