//! `grant::table!`: diesel's `table!` syntax, forwarded to diesel unchanged, plus an attribute
//! that lets `extend_table` add the key items inside the module diesel generates.

use crate::diesel_syntax::{TableShape, parse_table};
use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::quote;
use syn::Ident;

/// What `#[grant(...)]` on a table says.
#[derive(Default)]
struct GrantOptions {
    shard_key: Vec<Ident>,
    colocated_with: Vec<syn::Path>,
    /// `reference`: copied to every shard, no shard key.
    reference: Option<Span>,
}

pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let tokens: Vec<TokenTree> = input.clone().into_iter().collect();
    let (uses, after_uses) = split_use_statements(&tokens);
    let mut diesel_attrs: Vec<TokenTree> = Vec::new();
    let mut options = GrantOptions::default();
    let mut i = after_uses;
    while let (Some(TokenTree::Punct(p)), Some(TokenTree::Group(g))) =
        (tokens.get(i), tokens.get(i + 1))
    {
        if p.as_char() != '#' || g.delimiter() != Delimiter::Bracket {
            break;
        }
        if starts_with_ident(g.stream(), "grant") {
            parse_grant_attribute(g.stream(), &mut options)?;
        } else {
            diesel_attrs.push(tokens[i].clone());
            diesel_attrs.push(tokens[i + 1].clone());
        }
        i += 2;
    }
    let rest: TokenStream = tokens[i..].iter().cloned().collect();
    let uses: TokenStream = uses.iter().cloned().collect();
    let diesel_attrs: TokenStream = diesel_attrs.into_iter().collect();

    let for_diesel = quote! { #uses #diesel_attrs #rest };
    let decl: TableShape = parse_table(for_diesel.clone()).map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("invalid `grant::table!` syntax (it takes diesel's `table!` syntax): {e}"),
        )
    })?;

    let column_names: Vec<&Ident> = decl.columns.iter().map(|c| &c.name).collect();
    let key: Vec<Ident> = match &decl.primary_key {
        Some(pk) => pk.clone(),
        None => vec![Ident::new("id", decl.name.span())],
    };
    if key.is_empty() {
        return Err(syn::Error::new(
            decl.name.span(),
            format!("table `{}` declares an empty primary key", decl.name),
        ));
    }
    for k in &key {
        if !column_names.contains(&k) {
            // diesel reports this one itself, with its own wording; stay out of its way.
            return Ok(quote! { ::grant::__private::diesel::table! { #for_diesel } });
        }
    }
    let mut key_types = Vec::new();
    for k in &key {
        let Some(column) = decl.columns.iter().find(|c| &c.name == k) else {
            continue;
        };
        let tpe = &column.sql_type;
        let type_text = compact_type(&tpe.to_string());
        if column.nullable {
            return Err(syn::Error::new_spanned(
                tpe,
                format!(
                    "column `{k}` of table `{}` is `{type_text}`, but it is part of the key: a key \
                     part is never NULL, so declare the column NOT NULL (drop `Nullable`) or leave \
                     it out of the primary key",
                    decl.name
                ),
            ));
        }
        if let Some(kind) = not_a_key_type(&type_text) {
            // One error, and diesel's table as declared: without grant's key items, nothing
            // else fails because of this column.
            let message = format!(
                "column `{k}` of table `{}` is `{type_text}`, which cannot be part of a key: {kind}; \
                 key columns are integers, text, bool, bytes, dates, timestamps or UUIDs \
                 (or a custom SQL type that implements `grant::key::KeySql`)",
                decl.name
            );
            let error = syn::Error::new_spanned(tpe, message).into_compile_error();
            return Ok(quote! {
                #error
                ::grant::__private::diesel::table! { #for_diesel }
            });
        }
        key_types.push(type_text);
    }
    if let Some(span) = options.reference
        && (!options.shard_key.is_empty() || !options.colocated_with.is_empty())
    {
        return Err(syn::Error::new(
            span,
            format!(
                "table `{}` is declared `reference` (copied to every shard), so it has no shard \
                 key and is co-located with every table: drop `shard_key(..)` and \
                 `colocated_with(..)`",
                decl.name
            ),
        ));
    }
    if options.shard_key.len() > 4 {
        return Err(syn::Error::new(
            options.shard_key[4].span(),
            "a shard key has at most 4 columns",
        ));
    }
    for s in &options.shard_key {
        if !key.iter().any(|k| k == s) {
            return Err(syn::Error::new(
                s.span(),
                format!(
                    "shard key column `{s}` is not part of the key of table `{}` ({}): grant routes \
                     a key to its shard, so the shard key must be made of key columns",
                    decl.name,
                    key.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    let key_sql_names: Vec<String> = key
        .iter()
        .map(|k| {
            decl.columns
                .iter()
                .find(|c| &c.name == k)
                .map(|c| c.sql_name.clone())
                .unwrap_or_else(|| k.to_string())
        })
        .collect();
    let sql_name = &decl.sql_name;
    let table_name = &decl.name;
    let shard_key = &options.shard_key;
    let colocated_with = &options.colocated_with;
    let reference = options.reference.is_some();
    let all_names: Vec<String> = decl.columns.iter().map(|c| c.sql_name.clone()).collect();
    let all_types: Vec<String> = decl
        .columns
        .iter()
        .map(|c| compact_type(&c.sql_type.to_string()))
        .collect();
    let attr = quote! {
        #[::grant::__private::extend_table(
            table = #table_name,
            sql_name = #sql_name,
            key(#(#key),*),
            key_sql_names(#(#key_sql_names),*),
            key_types(#(#key_types),*),
            column_names(#(#all_names),*),
            column_idents(#(#column_names),*),
            column_types(#(#all_types),*),
            shard_key(#(#shard_key),*),
            colocated_with(#(#colocated_with),*),
            reference = #reference
        )]
    };
    Ok(quote! {
        ::grant::__private::diesel::table! { #uses #attr #diesel_attrs #rest }
    })
}

/// Why a diesel SQL type (by its last path segment) can't be a key type, for the types diesel
/// ships that grant has no key representation for; `None` for the others (key types, and
/// custom types, which `KeySql` checks).
fn not_a_key_type(type_text: &str) -> Option<&'static str> {
    let head = type_text.split('<').next().unwrap_or(type_text);
    let name = head.rsplit("::").next().unwrap_or(head).trim();
    match name {
        "Double" | "Float" | "Float4" | "Float8" | "Real" => {
            Some("floating-point values do not compare exactly")
        }
        "Numeric" | "Decimal" => Some("grant has no exact key form for decimals"),
        "Json" | "Jsonb" | "Array" | "Range" | "Multirange" | "Record" => {
            Some("a composite value is not a key part")
        }
        "Interval" | "Time" | "Timetz" | "Money" | "Inet" | "Cidr" | "MacAddr" | "MacAddr8" => {
            Some("grant has no key form for this type")
        }
        _ => None,
    }
}

/// `Nullable < BigInt >` (a token stream's text) as `Nullable<BigInt>`.
fn compact_type(text: &str) -> String {
    text.replace(" < ", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" :: ", "::")
        .replace(" ,", ",")
}

fn split_use_statements(tokens: &[TokenTree]) -> (Vec<TokenTree>, usize) {
    let mut i = 0;
    while matches!(tokens.get(i), Some(TokenTree::Ident(id)) if id == "use") {
        match tokens[i..]
            .iter()
            .position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ';'))
        {
            Some(end) => i += end + 1,
            None => break,
        }
    }
    (tokens[..i].to_vec(), i)
}

fn starts_with_ident(stream: TokenStream, name: &str) -> bool {
    matches!(stream.into_iter().next(), Some(TokenTree::Ident(id)) if id == name)
}

fn parse_grant_attribute(stream: TokenStream, options: &mut GrantOptions) -> syn::Result<()> {
    let meta: syn::Meta = syn::parse2(stream)?;
    let list = meta.require_list()?;
    list.parse_nested_meta(|nested| {
        if nested.path.is_ident("shard_key") {
            let content;
            syn::parenthesized!(content in nested.input);
            let columns = content.parse_terminated(Ident::parse_any_ident, syn::Token![,])?;
            if columns.is_empty() {
                return Err(nested.error("`shard_key(...)` names at least one column"));
            }
            options.shard_key = columns.into_iter().collect();
            Ok(())
        } else if nested.path.is_ident("colocated_with") {
            let content;
            syn::parenthesized!(content in nested.input);
            let tables = content
                .parse_terminated(<syn::Path as syn::parse::Parse>::parse, syn::Token![,])?;
            options.colocated_with = tables.into_iter().collect();
            Ok(())
        } else if nested.path.is_ident("reference") {
            options.reference = Some(nested.path.require_ident()?.span());
            Ok(())
        } else {
            Err(nested.error(
                "unknown grant option; grant::table! knows `shard_key(column, ...)`, \
                 `colocated_with(table, ...)` and `reference`",
            ))
        }
    })
}

trait ParseAnyIdent {
    fn parse_any_ident(input: syn::parse::ParseStream<'_>) -> syn::Result<Ident>;
}

impl ParseAnyIdent for Ident {
    fn parse_any_ident(input: syn::parse::ParseStream<'_>) -> syn::Result<Ident> {
        use syn::ext::IdentExt;
        Ident::parse_any(input)
    }
}
