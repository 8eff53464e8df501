//! A routed statement is still a Diesel statement: these impls pass Diesel's traits through
//! to the statement inside and keep the route.

use super::Routed;
use diesel::backend::Backend;
use diesel::expression::Expression;
use diesel::query_builder::{AsQuery, AstPass, QueryFragment, QueryId};
use diesel::query_dsl::methods::{
    BoxedDsl, DistinctDsl, FilterDsl, GroupByDsl, HavingDsl, LimitDsl, LockingDsl, ModifyLockDsl,
    OffsetDsl, OrFilterDsl, OrderDsl, SelectDsl, SelectNullableDsl, SingleValueDsl, ThenOrderDsl,
};
use diesel::{QueryDsl, QueryResult};

impl<Q: QueryId, R> QueryId for Routed<Q, R> {
    type QueryId = Q::QueryId;
    const HAS_STATIC_QUERY_ID: bool = Q::HAS_STATIC_QUERY_ID;
}

impl<Q: QueryFragment<DB>, R, DB: Backend> QueryFragment<DB> for Routed<Q, R> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query().walk_ast(pass)
    }
}

impl<Q: AsQuery, R> AsQuery for Routed<Q, R> {
    type SqlType = Q::SqlType;
    type Query = Q::Query;
    fn as_query(self) -> Self::Query {
        self.into_parts().0.as_query()
    }
}

impl<Q, R> QueryDsl for Routed<Q, R> {}

impl<Q, R, Conn> diesel::RunQueryDsl<Conn> for Routed<Q, R> {}

macro_rules! forward {
    ($trait:ident<$param:ident $(: $bound:path)?>, $method:ident($($arg:ident: $ty:ty),*)) => {
        impl<Q, R, $param $(: $bound)?> $trait<$param> for Routed<Q, R>
        where
            Q: $trait<$param>,
        {
            type Output = Routed<Q::Output, R>;
            fn $method(self, value: $param) -> Self::Output {
                let (query, route) = self.into_parts();
                Routed::new(query.$method(value), route)
            }
        }
    };
}

forward!(FilterDsl<P>, filter());
forward!(OrFilterDsl<P>, or_filter());
forward!(SelectDsl<S: Expression>, select());
forward!(OrderDsl<E: Expression>, order());
forward!(ThenOrderDsl<E>, then_order_by());
forward!(GroupByDsl<E: Expression>, group_by());
forward!(HavingDsl<P>, having());
forward!(LockingDsl<L>, with_lock());
forward!(ModifyLockDsl<M>, modify_lock());

impl<Q: LimitDsl, R> LimitDsl for Routed<Q, R> {
    type Output = Routed<Q::Output, R>;
    fn limit(self, limit: i64) -> Self::Output {
        let (query, route) = self.into_parts();
        Routed::new(query.limit(limit), route)
    }
}

impl<Q: OffsetDsl, R> OffsetDsl for Routed<Q, R> {
    type Output = Routed<Q::Output, R>;
    fn offset(self, offset: i64) -> Self::Output {
        let (query, route) = self.into_parts();
        Routed::new(query.offset(offset), route)
    }
}

impl<Q: DistinctDsl, R> DistinctDsl for Routed<Q, R> {
    type Output = Routed<Q::Output, R>;
    fn distinct(self) -> Self::Output {
        let (query, route) = self.into_parts();
        Routed::new(query.distinct(), route)
    }
}

impl<Q: SingleValueDsl, R> SingleValueDsl for Routed<Q, R> {
    type Output = Routed<Q::Output, R>;
    fn single_value(self) -> Self::Output {
        let (query, route) = self.into_parts();
        Routed::new(query.single_value(), route)
    }
}

impl<Q: SelectNullableDsl, R> SelectNullableDsl for Routed<Q, R> {
    type Output = Routed<Q::Output, R>;
    fn nullable(self) -> Self::Output {
        let (query, route) = self.into_parts();
        Routed::new(query.nullable(), route)
    }
}

impl<'a, Q: BoxedDsl<'a, DB>, R, DB> BoxedDsl<'a, DB> for Routed<Q, R> {
    type Output = Routed<Q::Output, R>;
    fn internal_into_boxed(self) -> Self::Output {
        let (query, route) = self.into_parts();
        Routed::new(query.internal_into_boxed(), route)
    }
}
