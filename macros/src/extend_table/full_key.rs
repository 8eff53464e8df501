//! `FullKey`: the table's own trait for "a value that is a full key" (its message names the
//! table and its key columns), its impls for the key, `&Key`, tuples, bare values of
//! one-column keys and complete builders, and `KeyFrom` through it.

use super::Ctx;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub(super) fn items(ctx: &Ctx<'_>) -> TokenStream {
    let Ctx {
        table_str,
        cols,
        col_strs,
        builder_struct,
        rust,
        generics,
        key_shape,
        ..
    } = ctx;
    let table_ident = &ctx.args.table;
    let n = cols.len();
    let given_traits: Vec<_> = cols.iter().map(|c| format_ident!("given_{}", c)).collect();
    let part_traits: Vec<_> = cols.iter().map(|c| format_ident!("part_{}", c)).collect();
    let idx: Vec<syn::Index> = (0..n).map(syn::Index::from).collect();
    let full_key_msg = format!("`{{Self}}` is not a full key of table `{table_str}`");
    let full_key_label = format!("not a full key of `{table_str}`");
    let full_key_note = format!(
        "the key of `{table_str}` is ({key_shape}): give `{table_ident}::Key {{{{ {} }}}}`, a \
         complete `{table_ident}::Key::builder()`, or a tuple of all {n} values in key order",
        col_strs.join(", ")
    );
    let full_key_doc = format!(
        "A full key of `{table_str}`: its [`Key`], `&Key`, a complete [`KeyBuilder`], or a tuple \
         of every key column's value in key order."
    );
    let single_value_impl = match (&cols[..], &rust[..]) {
        ([first], [r]) => quote! {
            impl FullKey for #r {
                #[inline]
                fn into_full_key(self) -> Key {
                    Key { #first: self }
                }
            }
        },
        _ => quote!(),
    };
    quote! {
        #[doc = #full_key_doc]
        #[diagnostic::on_unimplemented(message = #full_key_msg, label = #full_key_label, note = #full_key_note)]
        pub trait FullKey {
            /// The key.
            fn into_full_key(self) -> Key;
        }

        impl FullKey for Key {
            #[inline]
            fn into_full_key(self) -> Key {
                self
            }
        }

        impl FullKey for &Key {
            #[inline]
            fn into_full_key(self) -> Key {
                ::core::clone::Clone::clone(self)
            }
        }

        impl<#(#generics),*> FullKey for (#(#generics,)*)
        where
            #( #generics: key_checks::#part_traits, )*
        {
            #[inline]
            fn into_full_key(self) -> Key {
                Key { #( #cols: key_checks::#part_traits::into_key_part(self.#idx), )* }
            }
        }

        #single_value_impl

        impl<#(#generics),*> FullKey for #builder_struct<#(#generics),*>
        where
            #( #generics: key_checks::#given_traits, )*
        {
            #[inline]
            fn into_full_key(self) -> Key {
                Key { #( #cols: key_checks::#given_traits::take(self.#cols), )* }
            }
        }

        impl<__K: FullKey> ::grant::key::KeyFrom<__K> for table {
            #[inline]
            fn key_from(key: __K) -> Key {
                FullKey::into_full_key(key)
            }
        }
    }
}
