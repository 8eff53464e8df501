//! The typed key builder (`OrderItemsKeyBuilder`, aliased `KeyBuilder`): one type parameter
//! per key column, `Missing<column>` until the setter of that column is called.

use super::Ctx;
use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

pub(super) fn items(ctx: &Ctx<'_>) -> TokenStream {
    let Ctx {
        table_str,
        cols,
        builder_struct,
        rust,
        generics,
        ..
    } = ctx;
    let builder_doc = format!(
        "A key of `{table_str}` under construction; each type parameter is \
         `Missing<column>` until that column is given. Only a complete builder is a key."
    );
    let setters = (0..cols.len()).map(|j| {
        let c = &cols[j];
        let r = &rust[j];
        let others: Vec<&Ident> = generics
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != j)
            .map(|(_, g)| g)
            .collect();
        let marked = |marker: TokenStream| -> Vec<TokenStream> {
            generics
                .iter()
                .enumerate()
                .map(|(i, g)| if i == j { marker.clone() } else { quote!(#g) })
                .collect()
        };
        let before = marked(quote!(::grant::key::Missing<columns::#c>));
        let after = marked(quote!(::grant::key::Given<columns::#c>));
        let moves = cols
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != j)
            .map(|(_, o)| quote!(#o: self.#o));
        let doc = format!("Gives key column `{c}` of `{table_str}`.");
        quote! {
            impl<#(#others),*> #builder_struct<#(#before),*> {
                #[doc = #doc]
                #[inline]
                pub fn #c(self, value: impl ::core::convert::Into<#r>) -> #builder_struct<#(#after),*> {
                    #builder_struct {
                        #c: ::grant::key::Given::new(value.into()),
                        #(#moves,)*
                    }
                }
            }
        }
    });
    quote! {
        #[doc = #builder_doc]
        #[derive(Debug, Clone)]
        #[must_use = "a key builder does nothing until it is complete and used as a key"]
        pub struct #builder_struct<#(#generics),*> {
            #( #cols: #generics, )*
        }

        /// The key builder of this table (see the struct's documentation).
        pub type KeyBuilder<#(#generics),*> = #builder_struct<#(#generics),*>;

        #(#setters)*
    }
}
