//! The key struct (`OrderItemsKey`, aliased `Key`): its fields, `Debug`, `Display`,
//! `FromStr`, `CompositeKey`, and `Key::of(record)`.

use super::Ctx;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub(super) fn items(ctx: &Ctx<'_>) -> TokenStream {
    let Ctx {
        table_str,
        cols,
        col_strs,
        key_struct,
        builder_struct,
        rust,
        key_shape,
        ..
    } = ctx;
    let table_ident = &ctx.args.table;
    let key_struct_str = key_struct.to_string();
    let idx: Vec<syn::Index> = (0..cols.len()).map(syn::Index::from).collect();
    let value_traits: Vec<_> = cols.iter().map(|c| format_ident!("value_{}", c)).collect();
    let field_docs = col_strs.iter().map(|c| format!("Key column `{c}`."));
    let key_doc = format!(
        "The full key of table `{table_str}`: ({key_shape}). Also named `{table_ident}::Key`.\n\n\
         Build one as a struct literal, with [`Key::builder`](Self::builder) (columns in any \
         order; only a complete builder is a key), or from a tuple in key order. It prints as \
         `a:b` ([`Display`](std::fmt::Display)) and parses back ([`FromStr`](std::str::FromStr))."
    );
    // A reference table's key routes nowhere, so it is no record of a sharded table.
    let keyed_impl = if ctx.args.reference {
        quote!()
    } else {
        quote! {
            /// A key is its own key: `Child::belonging_to(&parent_key)` selects the children of
            /// the row with this key, as `belonging_to(&parent)` does.
            impl ::grant::Keyed for #key_struct {
                type Table = table;
                #[inline]
                fn key(&self) -> #key_struct {
                    ::core::clone::Clone::clone(self)
                }
            }
        }
    };
    quote! {
        #[doc = #key_doc]
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct #key_struct {
            #( #[doc = #field_docs] pub #cols: #rust, )*
        }

        #keyed_impl

        // By hand rather than derived: `#[inline]`, so that only crates that print a key
        // compile this (every function of a table's items is; see BENCHMARKS.md).
        impl ::core::fmt::Debug for #key_struct {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#key_struct_str) #( .field(#col_strs, &self.#cols) )* .finish()
            }
        }

        /// The full key of this table (see the struct's documentation).
        pub type Key = #key_struct;

        impl #key_struct {
            /// Starts a key whose columns can be given in any order; see [`KeyBuilder`].
            #[inline]
            pub fn builder() -> #builder_struct<#(::grant::key::Missing<columns::#cols>),*> {
                #builder_struct { #( #cols: ::grant::key::Missing::new(), )* }
            }

            /// Reads the key of a record: the record has a field for every key column (see
            /// `#[derive(grant::Keyed)]`).
            pub fn of<__R>(record: &__R) -> Self
            where
                #( __R: ::grant::__private::RecordColumn<columns::#cols>,
                   <__R as ::grant::__private::RecordColumn<columns::#cols>>::Value: key_checks::#value_traits, )*
            {
                #key_struct {
                    #( #cols: key_checks::#value_traits::to_key_part(
                        <__R as ::grant::__private::RecordColumn<columns::#cols>>::column_value(record)
                    ), )*
                }
            }
        }

        impl ::grant::key::CompositeKey for #key_struct {
            type Table = table;
            type Tuple = (#(#rust,)*);
            #[inline]
            fn into_tuple(self) -> Self::Tuple {
                (#(self.#cols,)*)
            }
            #[inline]
            fn from_tuple(tuple: Self::Tuple) -> Self {
                #key_struct { #( #cols: tuple.#idx, )* }
            }
            #[inline]
            fn write_parts(&self, out: &mut ::grant::__private::KeyWriter<'_>) {
                #( out.part(&self.#cols); )*
            }
            #[inline]
            fn read_parts(input: &mut ::grant::__private::KeyReader<'_>) -> ::core::result::Result<Self, ::grant::KeyParseError> {
                ::core::result::Result::Ok(#key_struct { #( #cols: input.part(#col_strs)?, )* })
            }
        }

        impl ::core::fmt::Display for #key_struct {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::grant::__private::fmt_key(self, f)
            }
        }

        impl ::core::str::FromStr for #key_struct {
            type Err = ::grant::KeyParseError;
            #[inline]
            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                ::grant::__private::parse_key(s)
            }
        }
    }
}
