//! The shard key: a `ShardKey` struct of the declared shard-key columns (or `Key` again when
//! the table shards by its whole key), and the impls that route a `Key` or a `ShardKey`.

use super::Ctx;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::Ident;

/// The shard key: a `ShardKey` struct of the declared shard-key columns, or, when the table
/// shards by its whole key (no `shard_key`, or all key columns), `ShardKey` as another name
/// of `Key` (one key struct to compile, not two alike); and the impls that route a `Key` or a
/// `ShardKey` to its shard.
pub(super) fn items(ctx: &Ctx<'_>) -> TokenStream {
    let args = ctx.args;
    let key_struct = &ctx.key_struct;
    let camel = &ctx.camel;
    let table_str = args.sql_name.value();
    let sql_name = &args.sql_name;
    let table_ident = &args.table;
    let whole_key = args.shard_key.is_empty() || args.shard_key == args.key;
    let columns = if whole_key {
        &args.key
    } else {
        &args.shard_key
    };
    let names: Vec<String> = columns.iter().map(ToString::to_string).collect();
    let rust: Vec<TokenStream> = columns
        .iter()
        .map(|c| quote!(<columns::#c as ::grant::key::KeyColumn>::Rust))
        .collect();
    let idx: Vec<syn::Index> = (0..columns.len()).map(syn::Index::from).collect();
    let shard_struct = if whole_key {
        key_struct.clone()
    } else {
        format_ident!("{}ShardKey", camel)
    };
    let from_values = if columns.len() == 1 {
        let r = &rust[0];
        let c = &columns[0];
        quote! {
            impl ::core::convert::From<#r> for #shard_struct {
                #[inline]
                fn from(value: #r) -> Self {
                    #shard_struct { #c: value }
                }
            }
        }
    } else {
        quote! {
            impl ::core::convert::From<(#(#rust,)*)> for #shard_struct {
                #[inline]
                fn from(values: (#(#rust,)*)) -> Self {
                    #shard_struct { #( #columns: values.#idx, )* }
                }
            }
        }
    };
    // `impl RouteKey for <ty>`: `header` is `impl<..> .. for <ty> where ..`, `parts` each
    // shard-key column's value.
    let route_impl = |header: TokenStream, parts: Vec<TokenStream>| {
        quote! {
            #header {
                type Table = table;
                const TABLE: &'static str = #sql_name;
                const SHARD_KEY_COLUMNS: &'static [&'static str] = &[#(#names),*];
                const STRATEGY_TABLE: &'static str = <table as ::grant::shard::ShardKeyed>::STRATEGY_TABLE;
                #[inline]
                fn shard_values(&self) -> ::grant::shard::ShardValues<'_> {
                    ::grant::shard::ShardValues::new([#( #parts, )*])
                }
            }
        }
    };
    let field_parts: Vec<TokenStream> = columns
        .iter()
        .map(|c| quote!(::grant::key::KeyPart::part_value(&self.#c)))
        .collect();
    let route_key = |ty: &Ident| {
        route_impl(
            quote!(impl ::grant::shard::RouteKey for #ty),
            field_parts.clone(),
        )
    };
    let key_route = route_key(key_struct);
    // A key builder routes once its shard-key columns are given (the others may be missing):
    // `shards.transaction(&order_items::Key::builder().order_id(5), ..)`.
    let builder_struct = &ctx.builder_struct;
    let generics = &ctx.generics;
    // Every shard-key column is a key column (checked by `grant::table!`).
    let given_bounds = columns.iter().map(|c| {
        let i = ctx.cols.iter().position(|k| k == c).unwrap_or(0);
        let g = &generics[i];
        let given = format_ident!("given_{}", c);
        quote!(#g: key_checks::#given)
    });
    let given_parts = columns
        .iter()
        .map(|c| {
            let given = format_ident!("given_{}", c);
            quote!(::grant::key::KeyPart::part_value(key_checks::#given::get(&self.#c)))
        })
        .collect();
    let builder_route = route_impl(
        quote! {
            impl<#(#generics),*> ::grant::shard::RouteKey for #builder_struct<#(#generics),*>
            where
                #( #generics: ::core::marker::Send + ::core::marker::Sync, )*
                #( #given_bounds, )*
        },
        given_parts,
    );
    let (declaration, shard_key_of) = if whole_key {
        let declaration = quote! {
            /// The shard key of this table: its whole [`Key`] (no narrower `shard_key` is
            /// declared). Route a statement with `.for_shard_key(..)` on it.
            pub type ShardKey = #key_struct;
        };
        (declaration, quote!(::core::clone::Clone::clone(key)))
    } else {
        let doc = format!(
            "The shard key of table `{table_str}`: ({}). Also named `{table_ident}::ShardKey`. \
             Route a statement with `.for_shard_key(..)` on it, or on a full [`Key`].",
            names.join(", ")
        );
        let shard_struct_str = shard_struct.to_string();
        let not_record_doc = format!(
            "Names the mistake of passing `{table_ident}::ShardKey` where a record of `{table_str}` is expected."
        );
        let not_record_msg = format!(
            "`{table_ident}::ShardKey` is the shard key of table `{table_str}`, not a record"
        );
        let not_record_label = format!("a shard key of `{table_str}`, not a record");
        let not_record_note = format!(
            "pass a record of `{table_str}` (a struct deriving `grant::Keyed`) or its full `{table_ident}::Key`; a shard key ({}) does not name one row",
            names.join(", ")
        );
        let shard_route = route_key(&shard_struct);
        let declaration = quote! {
            #[doc = #doc]
            #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub struct #shard_struct {
                #( #[doc = "Shard-key column."] pub #columns: #rust, )*
            }

            impl ::core::fmt::Debug for #shard_struct {
                #[inline]
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.debug_struct(#shard_struct_str) #( .field(#names, &self.#columns) )* .finish()
                }
            }

            /// The shard key of this table (see the struct's documentation).
            pub type ShardKey = #shard_struct;

            #[doc = #not_record_doc]
            #[diagnostic::on_unimplemented(message = #not_record_msg, label = #not_record_label, note = #not_record_note)]
            #[allow(non_camel_case_types)]
            pub trait shard_key_is_not_a_record {
                /// Never called: the trait has no impls.
                fn key_of(key: &#shard_struct) -> #key_struct;
            }

            // A shard key is not a record; this impl only exists to say so, naming the table,
            // where a record is expected (`belonging_to(&shard_key)`, `shards.insert(&shard_key)`).
            impl<'a> ::grant::Keyed for #shard_struct
            where
                &'a ::grant::__private::Assigned: shard_key_is_not_a_record,
            {
                type Table = table;
                #[inline]
                fn key(&self) -> #key_struct {
                    <&'a ::grant::__private::Assigned as shard_key_is_not_a_record>::key_of(self)
                }
            }

            impl ::core::convert::From<&#key_struct> for #shard_struct {
                #[inline]
                fn from(key: &#key_struct) -> Self {
                    #shard_struct { #( #columns: ::core::clone::Clone::clone(&key.#columns), )* }
                }
            }

            impl ::core::fmt::Display for #shard_struct {
                #[inline]
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    ::core::fmt::Display::fmt(&::grant::shard::RouteKey::shard_values(self), f)
                }
            }

            #shard_route
        };
        (declaration, quote!(::core::convert::From::from(key)))
    };
    let colocated_paths: Vec<TokenStream> =
        args.colocated_with
            .iter()
            .map(|other| {
                if other.leading_colon.is_some()
                    || other.segments.first().is_some_and(|s| {
                        s.ident == "crate" || s.ident == "super" || s.ident == "self"
                    })
                {
                    quote!(#other)
                } else {
                    quote!(super::#other)
                }
            })
            .collect();
    // The first table named in `colocated_with(..)` lends its strategy (followed to the end
    // of a chain, at compile time).
    let strategy_table = match colocated_paths.first() {
        Some(path) => quote! {
            const STRATEGY_TABLE: &'static str = <#path::table as ::grant::shard::ShardKeyed>::STRATEGY_TABLE;
        },
        None => quote!(),
    };
    let colocated = colocated_paths.iter().map(|path| {
        quote! {
            impl ::grant::shard::RoutableBy<#path::table> for table {}
            impl ::grant::shard::RoutableBy<table> for #path::table {}
        }
    });
    let colocated = quote!(#(#colocated)*);
    quote! {
        #declaration

        #from_values

        #key_route

        #builder_route

        /// A scatter may start from the bare table.
        impl ::grant::scatter::ScatterSource for table {}

        /// A scatter may select from the table, or join co-located tables to it.
        impl ::grant::scatter::ScatterFrom for table {
            type Anchor = table;
        }

        /// Its rows are spread over the shards: a key routes a write to one.
        impl ::grant::shard::ShardedTable for table {}

        /// A shard key of this table routes statements on it.
        impl ::grant::shard::RoutableBy<table> for table {}
        // A second impl, so that rustc reports a key of another table with grant's message
        // rather than by inferring the table from the only impl.
        impl ::grant::shard::RoutableBy<::grant::__private::NoTable> for table {}

        #colocated

        /// The bare table selects all of its columns: a read.
        impl ::grant::shard::StatementKind for table {
            type Kind = ::grant::shard::ReadKind;
        }

        impl ::grant::shard::ShardKeyed for table {
            type ShardKey = #shard_struct;
            const SHARD_KEY_COLUMNS: &'static [&'static str] = &[#(#names),*];
            #strategy_table
            #[inline]
            fn shard_key_of(key: &#key_struct) -> #shard_struct {
                #shard_key_of
            }
        }
    }
}
