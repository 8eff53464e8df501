//! Cross-shard queries: every shard in parallel, results merged to be exactly what the same
//! query returns on one database.
//!
//! * **Order, limit, offset**: each shard runs `ORDER BY <ordering> LIMIT offset + limit`;
//!   the rows are merged by a heap over the sorted shard results, then `OFFSET` and `LIMIT`
//!   apply once, globally. The ordering is given once (`(desc(a), asc(b))`): grant reads
//!   its values from each row (from the row's own fields when they are selected columns,
//!   the row's layout) and compares them like the backend (`NULL` last in ascending order on
//!   PostgreSQL, first on MySQL and SQLite), or as a term's `nulls_first()` / `nulls_last()`
//!   says (`NULLS FIRST` on PostgreSQL and SQLite, a leading `col IS NULL` term on MySQL).
//! * **Keyset pages** (`after(last_seen)`): each shard returns only rows after the last one
//!   seen (`a >= $1 AND ((a > $1) OR (a = $1 AND b > $2))`, which an index on the ordering
//!   serves), so a deep page costs what the first costs. A nullable term adds its `NULL`s
//!   where the ordering places them (`a > $1 OR a IS NULL` when they come last; after a
//!   `NULL`, `a IS NOT NULL` when they come first), so pages and streams return every row.
//! * **Aggregates**: `COUNT`, `SUM`, `MIN`, `MAX` pushed down and merged; `AVG` pushed down as
//!   `SUM` and `COUNT` and divided once (`avg` as `f64`, `avg_exact` as a decimal).
//!   `GROUP BY` merges per group, then applies `having(..)` to the merged aggregates, then
//!   orders (by several terms) and limits the groups. `COUNT(DISTINCT)` and distinct values
//!   merge each shard's `SELECT DISTINCT`.
//! * **Joins** of co-located tables run on each shard; other joins do not compile.
//! * **`exists`**: true as soon as one shard finds a row.
//! * **Streams**: rows in order, fetched from each shard in keyset batches, so that at most
//!   one batch per shard is held in memory.
//! * **Failures**: fail fast (the error names the shard), or [`Partial`] results listing the
//!   failed shards; an optional per-shard timeout.
//!
//! Text compares by its bytes, as binary and `C` collations do; under a linguistic collation
//! the merged order of text keys can differ from what one database would return.
//!
//! ```
//! # use grant::__doc_schema::{order_items, OrderItem, two_sqlite_shards};
//! use grant::prelude::*;
//! use grant::scatter::{agg, asc, desc};
//! # #[tokio::main]
//! # async fn main() -> grant::Result<()> {
//! # let (shards, _dir) = two_sqlite_shards().await;
//! let items: Vec<OrderItem> = (1..=20).map(|o| OrderItem { order_id: o, product_id: 1, quantity: (o % 7) as i32 }).collect();
//! shards.insert_all(&items).await?;
//! let page: Vec<OrderItem> = shards
//!     .scatter(order_items::table.filter(order_items::quantity.gt(0)))
//!     .select(OrderItem::as_select())
//!     .order_by((desc(order_items::quantity), asc(order_items::order_id)))
//!     .limit(3)
//!     .offset(2)
//!     .load()
//!     .await?;
//! assert_eq!(page.iter().map(|i| i.order_id).collect::<Vec<_>>(), [20, 5, 12]);
//! let (n, total) = shards
//!     .scatter(order_items::table)
//!     .aggregate((agg::count_star(), agg::sum(order_items::quantity)))
//!     .await?;
//! assert_eq!((n, total), (20, Some(63)));
//! # Ok(())
//! # }
//! ```

pub mod agg {
    //! Aggregates for scatter queries: [`count_star`], [`count`], [`sum`], [`min`], [`max`],
    //! [`avg`], [`avg_exact`], alone or in tuples.
    pub use super::aggregate::{
        Avg, AvgExact, Count, CountAll, Max, Min, Sum, avg, avg_exact, count, count_star, max, min,
        sum,
    };
}

mod aggregate;
mod builder;
mod grouped;
mod keyset;
mod layout;
mod merge;
mod order;
mod policy;
mod prune;
mod shard_query;
mod sort_columns;
mod sorted_rows;
mod source;
mod stream;
mod value;

pub use aggregate::{Aggregate, Summable};
pub use builder::{NoSelection, Ordered, Scatter, Unordered};
pub use grouped::GroupedScatter;

pub use order::{Asc, Desc, Nulls, OrderSpec, OrderTerm, Placed, PlacedSql, asc, desc};
pub use policy::{FailFast, FailurePolicy, Partial, PartialResult, ShardFailure};
pub use shard_query::{AggregateQuery, ExistsQuery, GroupedQuery, PageQuery};
pub use sorted_rows::OrderedScatter;
pub use source::{ScatterFrom, ScatterSource};
pub use stream::ScatterStream;
pub use value::{AvgRounding, NullOrdering, SortSql, SortValue};
