//! Which columns an `UPDATE` through `Sharded` may assign: every column but the shard key's.
//! A shard-key column's impl demands a trait nobody implements, named and worded for that
//! table and column, so that the compile error says which column of which table was assigned.

use super::Ctx;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub(super) fn items(ctx: &Ctx<'_>) -> TokenStream {
    let args = ctx.args;
    let table_str = &ctx.table_str;
    let shard_key: &[syn::Ident] = if args.reference {
        &[] // copied to every shard: no column places a row
    } else if args.shard_key.is_empty() {
        &args.key
    } else {
        &args.shard_key
    };
    let impls = args.column_idents.iter().map(|column| {
        if !shard_key.contains(column) {
            return quote! {
                impl<__Why> ::grant::shard::UpdatableColumn<__Why> for columns::#column {}
            };
        }
        let check = format_ident!("shard_key_column_{}_is_immutable", column);
        let message = format!(
            "`{table_str}.{column}` is a shard-key column: an UPDATE through `Sharded` cannot assign it"
        );
        let label = format!("assigns `{column}`, part of the shard key of `{table_str}`");
        quote! {
            #[doc(hidden)]
            #[diagnostic::on_unimplemented(
                message = #message,
                label = #label,
                note = "the shard key places the row on its shard: a new value would leave the row on a shard its key no longer routes to",
                note = "to change it, delete the row and insert it with the new key"
            )]
            #[allow(non_camel_case_types)]
            pub trait #check {}
            impl<__Why: #check> ::grant::shard::UpdatableColumn<__Why> for columns::#column {}
        }
    });
    quote! { #(#impls)* }
}
