//! The one place that reads `diesel_table_macro_syntax`, diesel's own parser of `table!`
//! (an internal diesel crate, pinned to an exact version in `Cargo.toml`). Everything else
//! in grant-macros reads [`TableShape`], so a change of diesel's parser touches this file
//! only.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

/// What grant needs of a `table!` declaration.
pub(crate) struct TableShape {
    /// The table's Rust name (`order_items`).
    pub(crate) name: Ident,
    /// The SQL name, schema-qualified where a schema is declared (`shop.order_items`).
    pub(crate) sql_name: String,
    /// The declared primary key columns, if any were declared.
    pub(crate) primary_key: Option<Vec<Ident>>,
    /// Every column, in declaration order.
    pub(crate) columns: Vec<ColumnShape>,
}

/// One column of a [`TableShape`].
pub(crate) struct ColumnShape {
    /// The column's Rust name.
    pub(crate) name: Ident,
    /// Its SQL name (`#[sql_name = ".."]`, or the Rust name).
    pub(crate) sql_name: String,
    /// Its SQL type as written (`Nullable<Text>`), for spans and messages.
    pub(crate) sql_type: TokenStream,
    /// Whether its outermost type is `Nullable`.
    pub(crate) nullable: bool,
}

/// Parses diesel's `table!` syntax.
pub(crate) fn parse_table(tokens: TokenStream) -> syn::Result<TableShape> {
    let decl: diesel_table_macro_syntax::TableDecl = syn::parse2(tokens)?;
    let sql_name = match &decl.schema {
        Some(schema) => format!("{schema}.{}", decl.sql_name),
        None => decl.sql_name.clone(),
    };
    let columns = decl
        .column_defs
        .iter()
        .map(|c| {
            let tpe = &c.tpe;
            ColumnShape {
                name: c.column_name.clone(),
                sql_name: c.sql_name.clone(),
                sql_type: quote!(#tpe),
                nullable: c
                    .tpe
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "Nullable"),
            }
        })
        .collect();
    Ok(TableShape {
        name: decl.table_name.clone(),
        sql_name,
        primary_key: decl
            .primary_keys
            .as_ref()
            .map(|pk| pk.keys.iter().cloned().collect()),
        columns,
    })
}
