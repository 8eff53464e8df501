//! `KeyedTable` for the table: its key type, key columns, arity, key filter and column list.

use super::Ctx;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub(super) fn items(ctx: &Ctx<'_>) -> TokenStream {
    let Ctx {
        cols,
        col_strs,
        key_struct,
        rust,
        ..
    } = ctx;
    let sql_name = &ctx.args.sql_name;
    let column_count = ctx.args.column_names.len();
    let column_names = &ctx.args.column_names;
    let column_types = &ctx.args.column_types;
    let arity = format_ident!("U{}", cols.len());
    let eq_type = |i: usize| {
        let c = &cols[i];
        let r = &rust[i];
        quote!(::grant::__private::diesel::dsl::Eq<columns::#c, #r>)
    };
    let mut filter_type = eq_type(0);
    for i in 1..cols.len() {
        let next = eq_type(i);
        filter_type = quote!(::grant::__private::diesel::dsl::And<#filter_type, #next>);
    }
    let first = &cols[0];
    let rest_cols = &cols[1..];
    let filter_expr = quote! {
        columns::#first.eq(key.#first) #( .and(columns::#rest_cols.eq(key.#rest_cols)) )*
    };
    quote! {
        impl ::grant::key::KeyedTable for table {
            type Key = #key_struct;
            type KeyColumns = (#(columns::#cols,)*);
            type Arity = ::grant::__private::typenum::#arity;
            type KeyFilter = #filter_type;
            const NAME: &'static str = #sql_name;
            const KEY_COLUMNS: &'static [&'static str] = &[#(#col_strs),*];
            const COLUMN_COUNT: usize = #column_count;
            const COLUMNS: &'static [(&'static str, &'static str)] = &[#((#column_names, #column_types)),*];
            #[inline]
            fn key_columns() -> Self::KeyColumns {
                (#(columns::#cols,)*)
            }
            #[inline]
            fn key_filter(key: #key_struct) -> Self::KeyFilter {
                #[allow(unused_imports)]
                use ::grant::__private::diesel::{BoolExpressionMethods, ExpressionMethods};
                #filter_expr
            }
        }
    }
}
