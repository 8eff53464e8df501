//! The `#[diesel(..)]` attributes that grant's derives read, as diesel's derives read them.

use syn::parse::Parse;
use syn::{DeriveInput, Ident, Path};

pub(crate) fn table_name(input: &DeriveInput, derive: &str) -> syn::Result<Path> {
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
            format!(
                "`#[derive({derive})]` needs `#[diesel(table_name = ...)]` naming a \
                 `grant::table!` table"
            ),
        )
    })
}

#[derive(Default)]
pub(crate) struct FieldOptions {
    pub(crate) column_name: Option<Ident>,
    pub(crate) embed: bool,
    /// `#[diesel(skip_update)]`: left out of the changeset.
    pub(crate) skip_update: bool,
}

impl FieldOptions {
    pub(crate) fn read(attrs: &[syn::Attribute]) -> syn::Result<Self> {
        let mut options = FieldOptions::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident("diesel")) {
            attr.parse_nested_meta(|nested| {
                if nested.path.is_ident("column_name") {
                    options.column_name = Some(nested.value()?.parse()?);
                } else if nested.path.is_ident("embed") {
                    options.embed = true;
                } else if nested.path.is_ident("skip_update") {
                    options.skip_update = true;
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
pub(crate) fn skip_value(nested: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
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

/// `#[diesel(primary_key(a, b))]` of a struct: the columns diesel's `AsChangeset` leaves
/// out (`id` when not given).
pub(crate) fn primary_key(input: &DeriveInput) -> syn::Result<Vec<Ident>> {
    let mut key = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("diesel")) {
        attr.parse_nested_meta(|nested| {
            if nested.path.is_ident("primary_key") {
                let content;
                syn::parenthesized!(content in nested.input);
                let columns = content.parse_terminated(Ident::parse, syn::Token![,])?;
                key = Some(columns.into_iter().collect());
            } else {
                skip_value(&nested)?;
            }
            Ok(())
        })?;
    }
    Ok(key.unwrap_or_else(|| vec![Ident::new("id", proc_macro2::Span::call_site())]))
}
