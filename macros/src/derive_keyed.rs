//! `#[derive(grant::Keyed)]`: a record's key and its fields as column values.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, Ident, Path};

pub(crate) fn expand(input: DeriveInput) -> syn::Result<TokenStream> {
    let table = table_name(&input)?;
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

fn table_name(input: &DeriveInput) -> syn::Result<Path> {
    let mut table = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("diesel")) {
        attr.parse_nested_meta(|nested| {
            if nested.path.is_ident("table_name") {
                table = Some(nested.value()?.parse::<Path>()?);
            } else {
                skip_value(&nested)?;
            }
            Ok(())
        })?;
    }
    table.ok_or_else(|| {
        syn::Error::new_spanned(
            &input.ident,
            "`#[derive(grant::Keyed)]` needs `#[diesel(table_name = ...)]` naming a \
             `grant::table!` table",
        )
    })
}

#[derive(Default)]
struct FieldOptions {
    column_name: Option<Ident>,
    embed: bool,
}

impl FieldOptions {
    fn read(attrs: &[syn::Attribute]) -> syn::Result<Self> {
        let mut options = FieldOptions::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident("diesel")) {
            attr.parse_nested_meta(|nested| {
                if nested.path.is_ident("column_name") {
                    options.column_name = Some(nested.value()?.parse()?);
                } else if nested.path.is_ident("embed") {
                    options.embed = true;
                } else {
                    skip_value(&nested)?;
                }
                Ok(())
            })?;
        }
        Ok(options)
    }
}

/// Skips whatever follows a diesel option we do not read (`= value` or `(...)`), up to the
/// next top-level comma.
fn skip_value(nested: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    nested.input.step(|cursor| {
        let mut rest = *cursor;
        let mut angle_depth = 0usize;
        while let Some((tt, next)) = rest.token_tree() {
            if let proc_macro2::TokenTree::Punct(p) = &tt {
                match p.as_char() {
                    ',' if angle_depth == 0 => return Ok(((), rest)),
                    '<' => angle_depth += 1,
                    '>' => angle_depth = angle_depth.saturating_sub(1),
                    _ => {}
                }
            }
            rest = next;
        }
        Ok(((), rest))
    })
}
