//! # grant: composite keys and sharding for Diesel
//!
//! grant gives Diesel backends two things Diesel lacks:
//!
//! * **Composite keys checked at compile time.** Declare a table with [`table!`] (diesel's
//!   `table!` syntax) and get a named key struct, a typed key builder, full-key `find`,
//!   `exists`, `update`, `delete` and batch `find_many`, on diesel-async and plain diesel
//!   connections. A partial key is a compile error that names the table and the missing
//!   column.
//! * **Application-level sharding** (see the README for what has landed).
//!
//! ```
//! use grant::prelude::*;
//!
//! grant::table! {
//!     order_items (order_id, product_id) {
//!         order_id -> BigInt,
//!         product_id -> BigInt,
//!         quantity -> Integer,
//!     }
//! }
//!
//! #[derive(Debug, Queryable, Selectable, Insertable, grant::Keyed)]
//! #[diesel(table_name = order_items)]
//! struct OrderItem {
//!     order_id: i64,
//!     product_id: i64,
//!     quantity: i32,
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), grant::Error> {
//! # let mut conn = grant::__doc_schema::sqlite_with_order_items().await;
//! // `conn` is any diesel-async connection: PostgreSQL, MySQL, or SQLite behind
//! // `SyncConnectionWrapper`, pooled or not.
//! OrderItem { order_id: 123, product_id: 456, quantity: 2 }.insert(&mut conn).await?;
//! let key = order_items::Key::builder().product_id(456).order_id(123);
//! let item = OrderItem::find_or_error(&mut conn, key).await?;
//! assert_eq!(item.key().to_string(), "123:456");
//! # Ok(())
//! # }
//! ```
//!
//! The same key operations exist as statement builders ([`KeyQueryDsl`]) that return plain
//! Diesel statements, for when you want to refine them further.

#![warn(missing_debug_implementations)]

extern crate self as grant;

#[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
compile_error!(
    "grant needs at least one backend: enable the feature `postgres`, `mysql` or `sqlite` \
     (for example `grant = { version = \"0.1\", default-features = false, features = [\"postgres\"] }`)"
);

pub mod assoc;
pub mod cluster;
mod condition;
pub mod config;
pub mod error;
mod failpoint;
pub mod id;
pub mod key;
pub mod live;
pub mod migrate;
mod opaque_debug;
mod portable_uuid;
mod redact;
pub mod reshard;
pub mod scatter;
pub mod shard;
pub mod sql_types;
#[cfg(feature = "sqlite")]
pub mod sqlite;

pub use cluster::{PoolConfig, ShardConnection};
pub use config::Topology;
pub use error::OptionalExt;
pub use error::{Error, Result};
pub use key::{KeyFuture, KeyParseError, KeyQueryDsl, Keyed, KeyedAsync};
pub use portable_uuid::PortableUuid;
pub use shard::{ShardId, Sharded, ShardedBuilder};

/// Derives [`Keyed`] for a record; see the trait for what it needs.
pub use grant_macros::Keyed;

/// Derives [`shard::ShardSafeChangeset`] for a `#[derive(AsChangeset)]` struct, so that
/// [`Sharded`] can run updates with it: the columns it assigns (every field but the
/// primary-key and `#[diesel(skip_update)]` ones, as diesel's derive reads them) are
/// checked when compiling, and a shard-key column among them is a compile error that
/// names the table and the column.
///
/// ```
/// # use grant::__doc_schema::{order_items, two_sqlite_shards, OrderItem};
/// use grant::prelude::*;
/// #[derive(AsChangeset, grant::Changeset)]
/// #[diesel(table_name = order_items)]
/// struct Restock {
///     quantity: i32,
/// }
/// # #[tokio::main]
/// # async fn main() -> grant::Result<()> {
/// # let (shards, _dir) = two_sqlite_shards().await;
/// shards.insert(&OrderItem { order_id: 1, product_id: 2, quantity: 3 }).await?;
/// shards.run(order_items::table.update_key((1, 2)).set(&Restock { quantity: 9 })).execute().await?;
/// # Ok(())
/// # }
/// ```
///
/// A field of a shard-key column does not compile (`order_items` shards by `order_id`):
///
/// ```compile_fail
/// # use grant::__doc_schema::order_items;
/// use grant::prelude::*;
/// #[derive(AsChangeset, grant::Changeset)]
/// #[diesel(table_name = order_items)]
/// struct Move {
///     order_id: i64,
///     quantity: i32,
/// }
/// ```
pub use grant_macros::Changeset;

/// Diesel's `table!`, plus the table's composite key.
///
/// Takes exactly diesel's `table!` syntax (it forwards the declaration to diesel unchanged)
/// and adds, inside the generated module:
///
/// * `Key`: one public field per primary-key column, in key order, typed from the column's
///   SQL type ([`key::KeySql`]); it prints as `a:b` and parses back.
/// * `KeyBuilder`: `Key::builder().b(..).a(..)` takes the columns in any order; only a
///   complete builder is a key.
/// * impls of [`key::KeyedTable`], [`key::KeyColumn`] and [`key::IntoKey`], which give the
///   table [`KeyQueryDsl`] and its records [`KeyedAsync`] / [`sync::KeyedSync`].
///
/// The key is the table's primary key as declared (`order_items (order_id, product_id)`),
/// or `id` when none is declared, as in diesel. A key column can't be `Nullable`.
/// Options go in a `#[grant(..)]` attribute: `#[grant(shard_key(column, ..))]` names the key
/// columns that decide a row's shard.
///
/// ```
/// grant::table! {
///     /// Regional figures, keyed by country and region.
///     region_data (country_code, region_id) {
///         country_code -> Text,
///         region_id -> Integer,
///         population -> BigInt,
///     }
/// }
///
/// let key = region_data::Key { country_code: "FR".into(), region_id: 11 };
/// assert_eq!(key.to_string(), "FR:11");
/// let parsed: region_data::Key = "FR:11".parse()?;
/// assert_eq!(parsed, key);
/// # Ok::<(), grant::KeyParseError>(())
/// ```
///
/// A partial key does not compile; the error names the table and the column:
///
/// ```compile_fail
/// # grant::table! { order_items (order_id, product_id) { order_id -> BigInt, product_id -> BigInt, } }
/// use grant::prelude::*;
/// let q = order_items::table.find_key(order_items::Key::builder().order_id(1));
/// // error: incomplete key: key column `order_items::columns::product_id` is not given
/// ```
pub use grant_macros::table;

/// A composite foreign key: child columns that reference a parent table's key.
///
/// ```
/// grant::table! {
///     order_items (order_id, product_id) { order_id -> BigInt, product_id -> BigInt, quantity -> Integer, }
/// }
/// grant::table! {
///     shipments (order_id, product_id, shipment_id) {
///         order_id -> BigInt, product_id -> BigInt, shipment_id -> BigInt, carrier -> Text,
///     }
/// }
/// diesel::allow_tables_to_appear_in_same_query!(order_items, shipments);
/// grant::foreign_key!(shipments (order_id, product_id) -> order_items (order_id, product_id),
///                     constraint = "fk_shipments_order_items");
/// ```
///
/// It checks at compile time that the child columns match the parent's key in number, order
/// and SQL type (a nullable child column may reference a non-null key column), naming both
/// tables when they do not; implements [`assoc::ForeignKey`] (for `belonging_to`,
/// `parent_key`, `grouped_by`) and Diesel's `JoinTo` both ways, so that
/// `child.inner_join(parent)` and `parent.left_join(child)` join on every key column.
///
/// A mismatch does not compile:
///
/// ```compile_fail
/// # grant::table! { order_items (order_id, product_id) { order_id -> BigInt, product_id -> BigInt, } }
/// # grant::table! { shipments (shipment_id) { shipment_id -> BigInt, order_id -> BigInt, product_id -> Text, } }
/// grant::foreign_key!(shipments (order_id, product_id) -> order_items (order_id, product_id));
/// // error: foreign key shipments (order_id, product_id) -> order_items (order_id, product_id):
/// //        column `shipments.product_id` has SQL type `Text`, but `order_items.product_id` has `BigInt`
/// ```
pub use grant_macros::foreign_key;

/// Blocking (plain diesel) versions of the key operations.
pub mod sync {
    pub use crate::key::run_sync::KeyedSync;

    /// The prelude for blocking code: [`grant::prelude`](crate::prelude) with
    /// [`KeyedSync`] in place of [`KeyedAsync`](crate::KeyedAsync).
    ///
    /// The two key traits name their operations alike (`OrderItem::find(conn, key)`), so a
    /// module that brings both into scope gets E0034 ("multiple applicable items"). Import
    /// `grant::sync::prelude::*` in blocking code and `grant::prelude::*` in async code; where
    /// one module needs both, call through the trait: `KeyedSync::find(..)`.
    ///
    /// ```
    /// # use grant::__doc_schema::{order_items, OrderItem};
    /// use grant::sync::prelude::*;
    /// # fn main() -> grant::Result<()> {
    /// let mut conn = SqliteConnection::establish(":memory:").unwrap();
    /// # diesel::sql_query("CREATE TABLE order_items (order_id BIGINT, product_id BIGINT, quantity INTEGER NOT NULL, PRIMARY KEY (order_id, product_id))").execute(&mut conn).unwrap();
    /// OrderItem { order_id: 1, product_id: 2, quantity: 3 }.insert(&mut conn)?;
    /// assert!(OrderItem::find(&mut conn, (1, 2))?.is_some());
    /// # Ok(())
    /// # }
    /// ```
    pub mod prelude {
        pub use super::KeyedSync;
        pub use crate::OptionalExt;
        pub use crate::assoc::{BelongingToDsl, BelongsTo, GroupedBy};
        pub use crate::key::{IntoKey, KeyQueryDsl, Keyed, KeyedTable};
        pub use crate::shard::RouteDsl;
        pub use diesel::prelude::*;
    }
}

/// The traits and derives a user of grant needs in scope, plus diesel's prelude. For
/// blocking code, [`grant::sync::prelude`](crate::sync::prelude) has the same with
/// [`KeyedSync`](crate::sync::KeyedSync) in place of [`KeyedAsync`].
///
/// ```
/// use grant::prelude::*;
/// ```
pub mod prelude {
    pub use crate::OptionalExt;
    pub use crate::assoc::{BelongingToDsl, BelongsTo, GroupedBy};
    pub use crate::key::{IntoKey, KeyQueryDsl, Keyed, KeyedAsync, KeyedTable};
    pub use crate::shard::RouteDsl;
    pub use diesel::prelude::*;
}

/// What the expansions of `grant::table!`, `grant::foreign_key!` and `#[derive(Keyed)]`
/// name. Not an API: anything here may change in any release.
#[doc(hidden)]
pub mod __private {
    /// The hash of a shard (its name and database) in grant's two-phase transaction ids
    /// (tests build in-doubt branches with it).
    pub fn two_phase_name_hash(shard: &str, database: &str) -> String {
        crate::shard::two_phase_name_hash(shard, database)
    }
    pub use crate::assoc::foreign_key::same_names;
    pub use crate::key::codec::{KeyReader, KeyWriter, fmt_key, parse_key};
    pub use crate::key::table::KeyBinds;
    pub use crate::key::value::RecordColumn;
    pub use crate::shard::changeset::{Assigned, ByDerive};
    pub use crate::shard::colocation::NoTable;
    pub use diesel;
    pub use grant_macros::extend_table;
    pub use typenum;
    pub use uuid;
}

/// A tiny schema for the documentation examples; not part of the API.
#[doc(hidden)]
pub mod __doc_schema {
    use diesel::prelude::*;

    crate::table! {
        #[grant(shard_key(order_id))]
        order_items (order_id, product_id) {
            order_id -> BigInt,
            product_id -> BigInt,
            quantity -> Integer,
        }
    }

    crate::table! {
        #[grant(shard_key(order_id), colocated_with(order_items))]
        shipments (order_id, product_id, shipment_id) {
            order_id -> BigInt,
            product_id -> BigInt,
            shipment_id -> BigInt,
            carrier -> Text,
        }
    }

    crate::table! {
        /// A reference table: copied to every shard.
        #[grant(reference)]
        currencies (code) {
            code -> Text,
            name -> Text,
        }
    }

    diesel::allow_tables_to_appear_in_same_query!(order_items, shipments, currencies);
    crate::foreign_key!(shipments (order_id, product_id) -> order_items (order_id, product_id));

    /// A row of `shipments`.
    #[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, crate::Keyed)]
    #[diesel(table_name = shipments)]
    pub struct Shipment {
        /// Foreign key part 1.
        pub order_id: i64,
        /// Foreign key part 2.
        pub product_id: i64,
        /// Key part 3.
        pub shipment_id: i64,
        /// Not a key part.
        pub carrier: String,
    }

    /// A row of `order_items`.
    #[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, crate::Keyed)]
    #[diesel(table_name = order_items)]
    pub struct OrderItem {
        /// Key part 1.
        pub order_id: i64,
        /// Key part 2.
        pub product_id: i64,
        /// Not a key part.
        pub quantity: i32,
    }

    /// Creates `order_items` in the SQLite database at `url`.
    #[cfg(feature = "sqlite")]
    pub async fn create_order_items(url: &str) {
        let mut conn = crate::sqlite::establish(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
        diesel_async::RunQueryDsl::execute(
            diesel::sql_query(
                "CREATE TABLE order_items (order_id BIGINT NOT NULL, product_id BIGINT NOT NULL, \
                 quantity INTEGER NOT NULL, PRIMARY KEY (order_id, product_id))",
            ),
            &mut conn,
        )
        .await
        .unwrap_or_else(|e| panic!("create order_items: {e}"));
    }

    /// Creates `currencies` in the SQLite database at `url`.
    #[cfg(feature = "sqlite")]
    pub async fn create_currencies(url: &str) {
        let mut conn = crate::sqlite::establish(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
        diesel_async::RunQueryDsl::execute(
            diesel::sql_query(
                "CREATE TABLE currencies (code TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)",
            ),
            &mut conn,
        )
        .await
        .unwrap_or_else(|e| panic!("create currencies: {e}"));
    }

    /// Two SQLite file shards (hash strategy) holding empty `order_items` tables; the
    /// directory goes when the returned guard is dropped.
    #[cfg(feature = "sqlite")]
    pub async fn two_sqlite_shards()
    -> (crate::Sharded<crate::sqlite::AsyncSqliteConnection>, DocDir) {
        let dir = DocDir::new();
        let mut builder = crate::Sharded::builder();
        for i in 0..2 {
            let url = dir.0.join(format!("s{i}.db")).display().to_string();
            create_order_items(&url).await;
            create_currencies(&url).await;
            builder = builder.shard(format!("s{i}"), url);
        }
        let strategy = crate::shard::HashStrategy::new(2).unwrap_or_else(|e| panic!("{e}"));
        let shards = builder
            .strategy(strategy)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        (shards, dir)
    }

    /// A directory of its own under the system's temp dir, removed on drop.
    #[derive(Debug)]
    pub struct DocDir(pub std::path::PathBuf);

    impl DocDir {
        /// A new, empty directory.
        pub fn new() -> Self {
            let path =
                std::env::temp_dir().join(format!("grant-doc-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&path)
                .unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
            DocDir(path)
        }
    }

    impl Default for DocDir {
        fn default() -> Self {
            DocDir::new()
        }
    }

    impl Drop for DocDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// An in-memory SQLite connection (diesel-async) holding an empty `order_items`.
    #[cfg(feature = "sqlite")]
    pub async fn sqlite_with_order_items()
    -> diesel_async::sync_connection_wrapper::SyncConnectionWrapper<diesel::SqliteConnection> {
        use diesel_async::AsyncConnection;
        let mut conn = diesel_async::sync_connection_wrapper::SyncConnectionWrapper::<
            diesel::SqliteConnection,
        >::establish(":memory:")
        .await
        .unwrap_or_else(|e| panic!("in-memory SQLite: {e}"));
        diesel_async::RunQueryDsl::execute(
            diesel::sql_query(
                "CREATE TABLE order_items (order_id BIGINT NOT NULL, product_id BIGINT NOT NULL, \
                 quantity INTEGER NOT NULL, PRIMARY KEY (order_id, product_id))",
            ),
            &mut conn,
        )
        .await
        .unwrap_or_else(|e| panic!("create order_items: {e}"));
        conn
    }
}
