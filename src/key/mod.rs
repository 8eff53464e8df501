//! Composite keys checked at compile time.
//!
//! `grant::table!` (diesel's `table!` syntax) gives each table a named `Key` struct with one
//! field per primary-key column, a typed `KeyBuilder` whose completeness lives in its type,
//! and the impls behind [`KeyQueryDsl`] (`find_key`, `find_keys`, `key_exists`,
//! `update_key`, `delete_key`). `#[derive(grant::Keyed)]` lets a record read its key, and
//! [`crate::KeyedAsync`] / [`crate::sync::KeyedSync`] run the key operations with typed
//! errors.
//!
//! ```
//! grant::table! {
//!     order_items (order_id, product_id) {
//!         order_id -> BigInt,
//!         product_id -> BigInt,
//!         quantity -> Integer,
//!     }
//! }
//!
//! let key = order_items::Key { order_id: 123, product_id: 456 };
//! let same = order_items::Key::builder().product_id(456).order_id(123);
//! assert_eq!(grant::key::IntoKey::<order_items::table>::into_key(same), key);
//! assert_eq!(key.to_string(), "123:456");
//! ```

mod builder;
pub(crate) mod codec;
mod column;
mod db_error;
mod future;
mod insert_many;
mod insert_one;
mod keyed;
mod keys_in;
pub mod methods;
mod part;
mod part_value;
mod query_dsl;
pub(crate) mod run_async;
pub(crate) mod run_sync;
pub(crate) mod table;
mod upsert;
pub(crate) mod value;

pub use builder::{Given, Missing};
pub use codec::KeyParseError;
pub(crate) use codec::{KeyReader, KeyWriter};
pub use column::{KeyColumn, KeySql};
pub(crate) use db_error::{map_read_error, map_write_error};
pub use future::KeyFuture;
pub use insert_many::InsertMany;
pub use insert_one::InsertOne;
pub use keyed::{KeyOf, Keyed};
pub use keys_in::KeysIn;
pub(crate) use keys_in::{BindLimit, keys_per_statement};
pub(crate) use methods::{InsertRecord, InsertRecords};
pub use part::KeyPart;
pub use part_value::PartValue;
pub use query_dsl::{DeleteKey, FindKey, KeyExists, KeyQueryDsl, UpdateKey};
pub use run_async::KeyedAsync;
pub(crate) use table::KeyBinds;
pub use table::{CompositeKey, IntoKey, KeyFrom, KeyedTable};
pub use upsert::{Incoming, Upsert, UpsertOne, UpsertRecord, UpsertStatement, incoming};
pub(crate) use value::RecordColumn;
