//! `KeyColumn` for each key column, and the check traits behind the compile errors: one
//! trait per key column and purpose, so that an error can say in words which table and which
//! column is wrong (type names alone print as `columns::x`).

use super::Ctx;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

pub(super) fn items(ctx: &Ctx<'_>) -> TokenStream {
    let Ctx {
        table_str,
        cols,
        col_strs,
        ..
    } = ctx;
    let sql_name = &ctx.args.sql_name;
    let key_column_impls =
        cols.iter()
            .zip(col_strs)
            .zip(&ctx.args.key_sql_names)
            .map(|((c, s), sql_s)| {
                // Spanned at the column so that a column type that can't be a key is reported there.
                let sql_ty = quote_spanned!(c.span()=>
                    <<columns::#c as ::grant::__private::diesel::Expression>::SqlType
                        as ::grant::key::KeySql<columns::#c>>::Rust
                );
                quote! {
                    impl ::grant::key::KeyColumn for columns::#c {
                        type Rust = #sql_ty;
                        const NAME: &'static str = #s;
                        const SQL_NAME: &'static str = #sql_s;
                        const TABLE: &'static str = #sql_name;
                    }
                }
            });
    let check_traits = cols.iter().zip(&ctx.args.key_types).map(|(c, sql_type)| {
        let r = quote!(<super::columns::#c as ::grant::key::KeyColumn>::Rust);
        let given = format_ident!("given_{}", c);
        let value = format_ident!("value_{}", c);
        let part = format_ident!("part_{}", c);
        let part_msg = format!(
            "a `{{Self}}` can't be the value of key column `{c}` of table `{table_str}`"
        );
        let part_label = format!("not a value of `{table_str}.{c}`");
        // A portable UUID column also takes `uuid::Uuid`, owned or borrowed.
        let portable_uuid = if sql_type.value().ends_with("PortableUuid") {
            quote! {
                impl #part for ::grant::__private::uuid::Uuid {
                    #[inline]
                    fn into_key_part(self) -> #r {
                        ::core::convert::From::from(self)
                    }
                }
                impl<'a> #part for &'a ::grant::__private::uuid::Uuid {
                    #[inline]
                    fn into_key_part(self) -> #r {
                        ::core::convert::From::from(*self)
                    }
                }
            }
        } else {
            quote!()
        };
        let given_msg = format!("incomplete key of table `{table_str}`: column `{c}` is not given");
        let given_label = format!("`{c}` is missing from this key of `{table_str}`");
        let given_note = format!("give it with `.{c}(value)` on the key builder");
        let value_msg = format!(
            "a field of type `{{Self}}` can't hold key column `{c}` of table `{table_str}`"
        );
        let value_label = format!("not the key type of `{table_str}.{c}`");
        quote! {
            #[diagnostic::on_unimplemented(message = #given_msg, label = #given_label, note = #given_note)]
            #[allow(non_camel_case_types)]
            pub trait #given {
                /// The value of the column.
                fn take(self) -> #r;
                /// The value of the column, borrowed.
                fn get(&self) -> &#r;
            }
            impl #given for ::grant::key::Given<super::columns::#c> {
                #[inline]
                fn take(self) -> #r {
                    self.into_value()
                }
                #[inline]
                fn get(&self) -> &#r {
                    self.value()
                }
            }
            #[diagnostic::on_unimplemented(
                message = #value_msg,
                label = #value_label,
                note = "a key part is never NULL, so an `Option<..>` field can't hold one: use the column's own type"
            )]
            #[allow(non_camel_case_types)]
            pub trait #value {
                /// The key part, copied out of the field.
                fn to_key_part(&self) -> #r;
            }
            impl #value for #r {
                #[inline]
                fn to_key_part(&self) -> #r {
                    ::core::clone::Clone::clone(self)
                }
            }
            #[diagnostic::on_unimplemented(
                message = #part_msg,
                label = #part_label,
                note = "a key part is the column's own type, a reference to it, or a borrowed form of it (`&str` for text, `&[u8]` for binary, `uuid::Uuid` for a portable UUID)"
            )]
            #[allow(non_camel_case_types)]
            pub trait #part {
                /// The key part.
                fn into_key_part(self) -> #r;
            }
            impl #part for #r {
                #[inline]
                fn into_key_part(self) -> #r {
                    self
                }
            }
            impl<'a> #part for &'a #r {
                #[inline]
                fn into_key_part(self) -> #r {
                    ::core::clone::Clone::clone(self)
                }
            }
            // The borrowed forms: each bound names the impl's lifetime, so it is not a
            // trivially false bound on columns of other types (it just does not hold).
            impl<'a> #part for &'a str where #r: ::core::convert::From<&'a str> {
                #[inline]
                fn into_key_part(self) -> #r {
                    ::core::convert::From::from(self)
                }
            }
            impl<'a> #part for &'a [u8] where #r: ::core::convert::From<&'a [u8]> {
                #[inline]
                fn into_key_part(self) -> #r {
                    ::core::convert::From::from(self)
                }
            }
            #portable_uuid
        }
    });
    quote! {
        #(#key_column_impls)*

        /// Checks behind the compile errors of this table's keys (one trait per key column).
        #[doc(hidden)]
        pub mod key_checks {
            #(#check_traits)*
        }
    }
}
