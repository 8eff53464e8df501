//! The Diesel expression impls that every condition grant builds over some columns shares
//! (`KeysIn`, `ColumnsIn`, the scatter keyset filters): a `Bool` expression that appears on,
//! is selectable from and groups like its columns, and whose SQL is not fixed by its type
//! (the number of keys or whether a keyset is given varies), so it has no static query id.

/// `condition_on_columns!([generics] Type, ColumnsType)`: the impls above for `Type`, whose
/// columns are `ColumnsType`.
macro_rules! condition_on_columns {
    ([$($generics:tt)*] $ty:ty, $columns:ty) => {
        impl<$($generics)*> ::diesel::expression::Expression for $ty {
            type SqlType = ::diesel::sql_types::Bool;
        }

        impl<$($generics)*, __QS> ::diesel::expression::AppearsOnTable<__QS> for $ty where
            $columns: ::diesel::expression::AppearsOnTable<__QS>
        {
        }

        impl<$($generics)*, __QS> ::diesel::expression::SelectableExpression<__QS> for $ty where
            $columns: ::diesel::expression::SelectableExpression<__QS>
        {
        }

        impl<$($generics)*, __GB> ::diesel::expression::ValidGrouping<__GB> for $ty
        where
            $columns: ::diesel::expression::ValidGrouping<__GB>,
        {
            type IsAggregate =
                <$columns as ::diesel::expression::ValidGrouping<__GB>>::IsAggregate;
        }

        impl<$($generics)*> ::diesel::query_builder::QueryId for $ty {
            type QueryId = ();
            const HAS_STATIC_QUERY_ID: bool = false;
        }
    };
}

pub(crate) use condition_on_columns;
