//! The key items that `grant::table!` adds inside diesel's table module: the `Key` struct, its
//! typed builder, the `KeyColumn`/`KeyedTable`/`IntoKey` impls and, when declared, the shard key.

mod assignable;
mod binds;
mod builder;
mod checks;
mod full_key;
mod key;
mod keyed_table;
mod reference;
mod shard_key;

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};

pub(crate) struct Args {
    table: Ident,
    sql_name: LitStr,
    key: Vec<Ident>,
    key_sql_names: Vec<LitStr>,
    key_types: Vec<LitStr>,
    column_names: Vec<LitStr>,
    column_types: Vec<LitStr>,
    /// Every column, as diesel names it in the module.
    column_idents: Vec<Ident>,
    shard_key: Vec<Ident>,
    /// Tables sharded by the same key and strategy (`colocated_with(..)`).
    colocated_with: Vec<syn::Path>,
    /// A reference table: copied to every shard, no shard key.
    reference: bool,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut table = None;
        let mut sql_name = None;
        let mut key = Vec::new();
        let mut key_sql_names = Vec::new();
        let mut key_types = Vec::new();
        let mut column_names = Vec::new();
        let mut column_types = Vec::new();
        let mut shard_key = Vec::new();
        let mut column_idents = Vec::new();
        let mut colocated_with = Vec::new();
        let mut reference = false;
        while !input.is_empty() {
            let name: Ident = input.parse()?;
            match name.to_string().as_str() {
                "table" => {
                    input.parse::<Token![=]>()?;
                    table = Some(input.parse()?);
                }
                "sql_name" => {
                    input.parse::<Token![=]>()?;
                    sql_name = Some(input.parse()?);
                }
                "column_names" | "column_types" => {
                    let content;
                    syn::parenthesized!(content in input);
                    let names = content.parse_terminated(<LitStr as Parse>::parse, Token![,])?;
                    let target = if name == "column_names" {
                        &mut column_names
                    } else {
                        &mut column_types
                    };
                    *target = names.into_iter().collect();
                }
                "colocated_with" => {
                    let content;
                    syn::parenthesized!(content in input);
                    let paths = content.parse_terminated(syn::Path::parse, Token![,])?;
                    colocated_with = paths.into_iter().collect();
                }
                "reference" => {
                    input.parse::<Token![=]>()?;
                    reference = input.parse::<syn::LitBool>()?.value;
                }
                "column_idents" => {
                    let content;
                    syn::parenthesized!(content in input);
                    let idents = content.parse_terminated(Ident::parse, Token![,])?;
                    column_idents = idents.into_iter().collect();
                }
                "key" | "shard_key" => {
                    let content;
                    syn::parenthesized!(content in input);
                    let idents = content.parse_terminated(Ident::parse, Token![,])?;
                    let target = if name == "key" {
                        &mut key
                    } else {
                        &mut shard_key
                    };
                    *target = idents.into_iter().collect();
                }
                "key_sql_names" | "key_types" => {
                    let content;
                    syn::parenthesized!(content in input);
                    let names = content.parse_terminated(<LitStr as Parse>::parse, Token![,])?;
                    let target = if name == "key_types" {
                        &mut key_types
                    } else {
                        &mut key_sql_names
                    };
                    *target = names.into_iter().collect();
                }
                _ => {
                    return Err(syn::Error::new(
                        name.span(),
                        "unknown extend_table argument",
                    ));
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        let table = table.ok_or_else(|| input.error("missing `table`"))?;
        let sql_name = sql_name.ok_or_else(|| input.error("missing `sql_name`"))?;
        Ok(Args {
            table,
            sql_name,
            key,
            key_sql_names,
            key_types,
            column_names,
            column_types,
            column_idents,
            shard_key,
            colocated_with,
            reference,
        })
    }
}

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args: Args = syn::parse2(args)?;
    let extra = key_items(&args);
    // The module is `#[..]* pub mod name { .. }`: put the items at the end of its body.
    let mut tokens: Vec<TokenTree> = item.into_iter().collect();
    let body = tokens
        .iter()
        .rposition(|t| matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace));
    let Some(body) = body else {
        return Err(syn::Error::new(
            Span::call_site(),
            "expected diesel's table module",
        ));
    };
    if let TokenTree::Group(g) = &tokens[body] {
        let mut inner = g.stream();
        inner.extend(extra);
        let mut group = Group::new(Delimiter::Brace, inner);
        group.set_span(g.span());
        tokens[body] = TokenTree::Group(group);
    }
    Ok(tokens.into_iter().collect())
}

/// `order_items` -> `OrderItems`.
fn camel_case(snake: &str) -> String {
    snake
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// What every generator of the key items reads: the arguments, and the names and types
/// derived from them once.
pub(crate) struct Ctx<'a> {
    args: &'a Args,
    /// The SQL name, as text for messages.
    table_str: String,
    /// The key columns.
    cols: &'a [Ident],
    /// The key columns' names.
    col_strs: Vec<String>,
    /// `OrderItemsKey`.
    key_struct: Ident,
    /// `OrderItemsKeyBuilder`.
    builder_struct: Ident,
    /// `OrderItems`.
    camel: String,
    /// Each key column's Rust type, through `KeyColumn`.
    rust: Vec<TokenStream>,
    /// One type parameter per key column (`__P0`, ..), for the builder.
    generics: Vec<Ident>,
    /// `order_id BigInt, product_id BigInt`, for messages.
    key_shape: String,
}

impl<'a> Ctx<'a> {
    fn new(args: &'a Args) -> Self {
        let cols = &args.key[..];
        let camel = camel_case(&args.table.to_string());
        Ctx {
            args,
            table_str: args.sql_name.value(),
            cols,
            col_strs: cols.iter().map(ToString::to_string).collect(),
            key_struct: format_ident!("{}Key", camel),
            builder_struct: format_ident!("{}KeyBuilder", camel),
            rust: cols
                .iter()
                .map(|c| quote!(<columns::#c as ::grant::key::KeyColumn>::Rust))
                .collect(),
            generics: (0..cols.len()).map(|i| format_ident!("__P{}", i)).collect(),
            key_shape: cols
                .iter()
                .zip(&args.key_types)
                .map(|(c, t)| format!("{c} {}", t.value()))
                .collect::<Vec<_>>()
                .join(", "),
            camel,
        }
    }
}

/// `tokens` with every span set to `span`. The key-check traits and their impls carry the
/// table name's span, so that an error about a key quotes one line of the user's
/// `grant::table!` (the table's name) instead of the whole invocation.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tree = TokenTree::Group(inner);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

/// Every item `grant::table!` adds to the table's module, one generator per item family.
fn key_items(args: &Args) -> TokenStream {
    let ctx = Ctx::new(args);
    let items = [
        key::items(&ctx),
        builder::items(&ctx),
        respan(checks::items(&ctx), args.table.span()),
        respan(full_key::items(&ctx), args.table.span()),
        keyed_table::items(&ctx),
        if args.reference {
            respan(reference::items(&ctx), args.table.span())
        } else {
            respan(shard_key::items(&ctx), args.table.span())
        },
        binds::items(&ctx),
        respan(assignable::items(&ctx), args.table.span()),
    ];
    items.into_iter().collect()
}
