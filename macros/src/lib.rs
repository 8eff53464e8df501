//! Procedural macros of [grant](https://docs.rs/grant). Use them through the `grant` crate:
//! `grant::table!` and `#[derive(grant::Keyed)]`; the paths here are not a public API.

use proc_macro::TokenStream;

mod derive_changeset;
mod derive_keyed;
mod diesel_attrs;
mod diesel_syntax;
mod extend_table;
mod foreign_key;
mod table;

/// Diesel's `table!` plus a typed composite key. See `grant::table!` for the documentation.
#[proc_macro]
pub fn table(input: TokenStream) -> TokenStream {
    table::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// A composite foreign key. See `grant::foreign_key!` for the documentation.
#[proc_macro]
pub fn foreign_key(input: TokenStream) -> TokenStream {
    foreign_key::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Appends grant's key items to the module that diesel's `table!` generated. Emitted by
/// `grant::table!`; not meant to be written by hand.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn extend_table(args: TokenStream, item: TokenStream) -> TokenStream {
    extend_table::expand(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives `grant::Keyed` (and column access) for a record of a `grant::table!` table.
/// See `grant::Keyed` for the documentation.
#[proc_macro_derive(Keyed, attributes(diesel, grant))]
pub fn derive_keyed(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    derive_keyed::expand(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives `grant::shard::ShardSafeChangeset` for a `#[derive(AsChangeset)]` struct: the
/// struct's columns are checked when compiling (none may be a shard-key column), so that
/// `Sharded` can run updates with it. See `grant::Changeset` for the documentation.
#[proc_macro_derive(Changeset, attributes(diesel))]
pub fn derive_changeset(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    derive_changeset::expand(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
