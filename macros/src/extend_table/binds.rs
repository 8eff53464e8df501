//! `KeyBinds`: how a key's columns and values render on a backend (batch lookups build on it).

use super::Ctx;
use proc_macro2::TokenStream;
use quote::quote;

pub(super) fn items(ctx: &Ctx<'_>) -> TokenStream {
    let Ctx {
        cols,
        key_struct,
        rust,
        ..
    } = ctx;
    let sql: Vec<TokenStream> = cols
        .iter()
        .map(|c| quote!(<columns::#c as ::grant::__private::diesel::Expression>::SqlType))
        .collect();
    quote! {
        impl<__DB> ::grant::__private::KeyBinds<__DB> for #key_struct
        where
            __DB: ::grant::__private::diesel::backend::Backend,
            #( __DB: ::grant::__private::diesel::sql_types::HasSqlType<#sql>,
               #rust: ::grant::__private::diesel::serialize::ToSql<#sql, __DB>,
               columns::#cols: ::grant::__private::diesel::query_builder::QueryFragment<__DB>, )*
        {
            fn walk_columns<'__b>(
                out: &mut ::grant::__private::diesel::query_builder::AstPass<'_, '__b, __DB>,
            ) -> ::grant::__private::diesel::QueryResult<()> {
                let mut first = true;
                #(
                    if !first { out.push_sql(", "); }
                    first = false;
                    ::grant::__private::diesel::query_builder::QueryFragment::<__DB>::walk_ast(
                        &columns::#cols, out.reborrow())?;
                )*
                let _ = first;
                Ok(())
            }
            fn walk_values<'__b>(
                &'__b self,
                out: &mut ::grant::__private::diesel::query_builder::AstPass<'_, '__b, __DB>,
            ) -> ::grant::__private::diesel::QueryResult<()> {
                let mut first = true;
                #(
                    if !first { out.push_sql(", "); }
                    first = false;
                    out.push_bind_param::<#sql, #rust>(&self.#cols)?;
                )*
                let _ = first;
                Ok(())
            }
            fn walk_eq<'__b>(
                &'__b self,
                out: &mut ::grant::__private::diesel::query_builder::AstPass<'_, '__b, __DB>,
            ) -> ::grant::__private::diesel::QueryResult<()> {
                let mut first = true;
                #(
                    if !first { out.push_sql(" AND "); }
                    first = false;
                    ::grant::__private::diesel::query_builder::QueryFragment::<__DB>::walk_ast(
                        &columns::#cols, out.reborrow())?;
                    out.push_sql(" = ");
                    out.push_bind_param::<#sql, #rust>(&self.#cols)?;
                )*
                let _ = first;
                Ok(())
            }
        }
    }
}
