//! `#[derive(grant::Keyed)]`: a record's key and its fields as column values.

use crate::diesel_attrs::{FieldOptions, table_name};
use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields};

pub(crate) fn expand(input: DeriveInput) -> syn::Result<TokenStream> {
    let table = table_name(&input, "grant::Keyed")?;
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "`#[derive(grant::Keyed)]` works on structs with named fields",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "`#[derive(grant::Keyed)]` works on structs with named fields",
        ));
    };
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();

    let mut column_impls = Vec::new();
    for field in &fields.named {
        let options = FieldOptions::read(&field.attrs)?;
        if options.embed {
            continue;
        }
        let Some(ident) = &field.ident else { continue };
        let column = options.column_name.unwrap_or_else(|| ident.clone());
        let ty = &field.ty;
        column_impls.push(quote! {
            impl #impl_generics ::grant::__private::RecordColumn<#table::columns::#column>
                for #name #ty_generics #where_clause
            {
                type Value = #ty;
                #[inline]
                fn column_value(&self) -> &#ty {
                    &self.#ident
                }
            }
        });
    }

    Ok(quote! {
        impl #impl_generics ::grant::Keyed for #name #ty_generics #where_clause {
            type Table = #table::table;
            #[inline]
            fn key(&self) -> <#table::table as ::grant::key::KeyedTable>::Key {
                #table::Key::of(self)
            }
        }
        #(#column_impls)*
    })
}
