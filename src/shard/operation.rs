//! The four ways to run a statement (`load`, `get_result`, `first`, `execute`), as values, so
//! that one code path runs each on a shard, with its span, timing and error mapping.
//!
//! The bounds are diesel-async's own (`LoadQuery`, `ExecuteDsl`) restated without their
//! statement lifetime: each operation owns its statement inside its future, so statements
//! that borrow (`.values(&records)`) run as well as owned ones.

use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::deserialize::FromSqlRow;
use diesel::expression::QueryMetadata;
use diesel::query_builder::{AsQuery, QueryFragment, QueryId};
use diesel::query_dsl::CompatibleType;
use diesel::query_dsl::methods::LimitDsl;
use diesel_async::{AsyncConnection, RunQueryDsl};
use std::future::Future;
use std::marker::PhantomData;

/// A way to run statement `Q` on connection `C`.
pub trait Operation<C, Q>: Copy + Send + Sync {
    /// What it returns.
    type Output: Send;
    /// Its name, for spans.
    const NAME: &'static str;
    /// Runs `query` on `conn`.
    fn run(self, query: Q, conn: &mut C) -> impl Future<Output = QueryResult<Self::Output>> + Send;
    /// The statement's SQL text, for the checks that read it (raw SQL); `None` when this
    /// operation does not render it.
    fn sql_text(_query: &Q) -> Option<String> {
        None
    }
}

/// A select that connection `C` can load as rows of `U`: diesel-async's `LoadQuery`, for
/// a statement of any lifetime.
pub trait Loadable<C, U>: Send + Sized {
    /// Every row.
    fn load_rows(self, conn: &mut C) -> impl Future<Output = QueryResult<Vec<U>>> + Send;
    /// Exactly one row.
    fn load_one(self, conn: &mut C) -> impl Future<Output = QueryResult<U>> + Send;
}

impl<C, DB, T, U, ST> Loadable<C, U> for T
where
    C: AsyncConnection<Backend = DB>,
    DB: Backend + QueryMetadata<T::SqlType> + 'static,
    T: AsQuery + Send,
    T::Query: QueryFragment<DB> + QueryId + Send,
    T::SqlType: CompatibleType<U, DB, SqlType = ST>,
    U: FromSqlRow<ST, DB> + Send + 'static,
    ST: 'static,
{
    async fn load_rows(self, conn: &mut C) -> QueryResult<Vec<U>> {
        RunQueryDsl::load(self, conn).await
    }

    async fn load_one(self, conn: &mut C) -> QueryResult<U> {
        RunQueryDsl::get_result(self, conn).await
    }
}

/// `load`: every row.
pub struct Load<U>(PhantomData<fn() -> U>);
/// `get_result`: exactly one row (diesel's `NotFound` when none).
pub struct GetResult<U>(PhantomData<fn() -> U>);
/// `first`: the first row (`LIMIT 1`).
pub struct First<U>(PhantomData<fn() -> U>);
/// `execute`: the number of affected rows.
#[derive(Debug, Clone, Copy)]
pub struct Execute;

macro_rules! marker {
    ($($t:ident),*) => {$(
        impl<U> $t<U> {
            pub(crate) fn new() -> Self {
                $t(PhantomData)
            }
        }
        impl<U> Clone for $t<U> {
            fn clone(&self) -> Self {
                *self
            }
        }
        impl<U> Copy for $t<U> {}
    )*};
}
marker!(Load, GetResult, First);

impl<C, Q: Loadable<C, U>, U: Send> Operation<C, Q> for Load<U> {
    type Output = Vec<U>;
    const NAME: &'static str = "load";
    fn run(self, query: Q, conn: &mut C) -> impl Future<Output = QueryResult<Vec<U>>> + Send {
        query.load_rows(conn)
    }
}

impl<C, Q: Loadable<C, U>, U: Send> Operation<C, Q> for GetResult<U> {
    type Output = U;
    const NAME: &'static str = "get_result";
    fn run(self, query: Q, conn: &mut C) -> impl Future<Output = QueryResult<U>> + Send {
        query.load_one(conn)
    }
}

impl<C, Q, U: Send> Operation<C, Q> for First<U>
where
    Q: LimitDsl,
    diesel::dsl::Limit<Q>: Loadable<C, U>,
{
    type Output = U;
    const NAME: &'static str = "first";
    fn run(self, query: Q, conn: &mut C) -> impl Future<Output = QueryResult<U>> + Send {
        query.limit(1).load_one(conn)
    }
}

impl<C, DB, Q> Operation<C, Q> for Execute
where
    C: AsyncConnection<Backend = DB>,
    DB: Backend + Default,
    DB::QueryBuilder: Default,
    Q: QueryFragment<DB> + QueryId + Send,
{
    type Output = usize;
    const NAME: &'static str = "execute";
    async fn run(self, query: Q, conn: &mut C) -> QueryResult<usize> {
        RunQueryDsl::execute(query, conn).await
    }
    fn sql_text(query: &Q) -> Option<String> {
        let mut sql = <DB::QueryBuilder as Default>::default();
        let backend = DB::default();
        query.to_sql(&mut sql, &backend).ok()?;
        Some(diesel::query_builder::QueryBuilder::finish(sql))
    }
}

crate::opaque_debug::opaque_debug!([U] Load<U>, "Load");
crate::opaque_debug::opaque_debug!([U] GetResult<U>, "GetResult");
crate::opaque_debug::opaque_debug!([U] First<U>, "First");
