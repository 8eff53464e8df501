//! `#[derive(grant::Changeset)]`: the columns a `#[derive(AsChangeset)]` struct assigns,
//! checked when compiling against the table's shard key, so that `Sharded` may run updates
//! with it. It reads the struct as diesel's derive does: primary-key fields and
//! `#[diesel(skip_update)]` fields are not assigned.

use crate::diesel_attrs::{FieldOptions, primary_key, table_name};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields};

pub(crate) fn expand(input: DeriveInput) -> syn::Result<TokenStream> {
    let table = table_name(&input, "grant::Changeset")?;
    let named = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => Some(fields),
            _ => None,
        },
        _ => None,
    };
    let Some(fields) = named else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "`#[derive(grant::Changeset)]` works on structs with named fields",
        ));
    };
    let key = primary_key(&input)?;
    let mut checks = Vec::new();
    for field in &fields.named {
        let options = FieldOptions::read(&field.attrs)?;
        let Some(ident) = &field.ident else { continue };
        let column = options.column_name.unwrap_or_else(|| ident.clone());
        if options.skip_update || key.contains(&column) {
            continue;
        }
        if options.embed {
            let ty = &field.ty;
            checks.push(quote_spanned! {field.ty.span()=>
                embedded::<#ty>();
            });
            continue;
        }
        checks.push(quote_spanned! {field.span()=>
            assigned::<#table::columns::#column>();
        });
    }
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut ref_generics = input.generics.clone();
    ref_generics
        .params
        .insert(0, syn::parse_quote!('__grant_update));
    let (ref_impl_generics, _, _) = ref_generics.split_for_impl();
    Ok(quote! {
        const _: () = {
            #[allow(dead_code, clippy::extra_unused_type_parameters)]
            fn columns_assigned() {
                fn assigned<C: ::grant::shard::UpdatableColumn<::grant::__private::Assigned>>() {}
                fn embedded<V: ::grant::shard::ShardSafeChangeset<#table::table, ::grant::__private::ByDerive>>() {}
                #(#checks)*
            }
        };

        impl #impl_generics ::grant::shard::ShardSafeChangeset<#table::table, ::grant::__private::ByDerive>
            for #name #ty_generics #where_clause {}

        impl #ref_impl_generics ::grant::shard::ShardSafeChangeset<#table::table, ::grant::__private::ByDerive>
            for &'__grant_update #name #ty_generics #where_clause {}
    })
}
