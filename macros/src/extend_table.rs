//! The key items that `grant::table!` adds inside diesel's table module: the `Key` struct, its
//! typed builder, the `KeyColumn`/`KeyedTable`/`IntoKey` impls and, when declared, the shard key.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};

struct Args {
    table: Ident,
    sql_name: LitStr,
    key: Vec<Ident>,
    key_sql_names: Vec<LitStr>,
    key_types: Vec<LitStr>,
    column_names: Vec<LitStr>,
    column_types: Vec<LitStr>,
    shard_key: Vec<Ident>,
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
            shard_key,
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

fn key_items(args: &Args) -> TokenStream {
    let table_ident = &args.table;
    let table_str = args.sql_name.value();
    let sql_name = &args.sql_name;
    let cols = &args.key;
    let n = cols.len();
    let col_strs: Vec<String> = cols.iter().map(ToString::to_string).collect();
    let key_sql_names = &args.key_sql_names;
    let column_count = args.column_names.len();
    let column_names = &args.column_names;
    let column_types = &args.column_types;
    let camel = camel_case(&table_ident.to_string());
    let key_struct = format_ident!("{}Key", camel);
    let builder_struct = format_ident!("{}KeyBuilder", camel);
    let key_struct_str = key_struct.to_string();
    let rust: Vec<TokenStream> = cols
        .iter()
        .map(|c| quote!(<columns::#c as ::grant::key::KeyColumn>::Rust))
        .collect();
    let sql: Vec<TokenStream> = cols
        .iter()
        .map(|c| quote!(<columns::#c as ::grant::__private::diesel::Expression>::SqlType))
        .collect();
    let idx: Vec<syn::Index> = (0..n).map(syn::Index::from).collect();
    let arity = format_ident!("U{}", n);
    let generics: Vec<Ident> = (0..n).map(|i| format_ident!("__P{}", i)).collect();
    let given_traits: Vec<Ident> = cols.iter().map(|c| format_ident!("given_{}", c)).collect();
    let value_traits: Vec<Ident> = cols.iter().map(|c| format_ident!("value_{}", c)).collect();
    let key_shape = cols
        .iter()
        .zip(&args.key_types)
        .map(|(c, t)| format!("{c} {}", t.value()))
        .collect::<Vec<_>>()
        .join(", ");

    let key_column_impls = cols
        .iter()
        .zip(&col_strs)
        .zip(key_sql_names)
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

    // One trait per key column and purpose, so that a compile error can say in words which
    // table and which column is wrong (type names alone print as `columns::x`).
    let check_traits = cols.iter().map(|c| {
        let r = quote!(<super::columns::#c as ::grant::key::KeyColumn>::Rust);
        let given = format_ident!("given_{}", c);
        let value = format_ident!("value_{}", c);
        let given_msg = format!("incomplete key of table `{table_str}`: column `{c}` is not given");
        let given_label = format!("`{c}` is missing from this key of `{table_str}`");
        let given_note = format!("give it with `.{c}(value)` on the key builder");
        let value_msg = format!("a field of type `{{Self}}` can't hold key column `{c}` of table `{table_str}`");
        let value_label = format!("not the key type of `{table_str}.{c}`");
        quote! {
            #[diagnostic::on_unimplemented(message = #given_msg, label = #given_label, note = #given_note)]
            #[allow(non_camel_case_types)]
            pub trait #given {
                /// The value of the column.
                fn take(self) -> #r;
            }
            impl #given for ::grant::key::Given<super::columns::#c> {
                #[inline]
                fn take(self) -> #r {
                    self.into_value()
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
        }
    });

    let eq_type = |i: usize| {
        let c = &cols[i];
        let r = &rust[i];
        quote!(::grant::__private::diesel::dsl::Eq<columns::#c, #r>)
    };
    let mut filter_type = eq_type(0);
    for i in 1..n {
        let next = eq_type(i);
        filter_type = quote!(::grant::__private::diesel::dsl::And<#filter_type, #next>);
    }
    let first = &cols[0];
    let rest_cols = &cols[1..];
    let filter_expr = quote! {
        columns::#first.eq(key.#first) #( .and(columns::#rest_cols.eq(key.#rest_cols)) )*
    };

    let field_docs = col_strs.iter().map(|c| format!("Key column `{c}`."));
    let key_doc = format!(
        "The full key of table `{table_str}`: ({key_shape}). Also named `{table_ident}::Key`.\n\n\
         Build one as a struct literal, with [`Key::builder`](Self::builder) (columns in any \
         order; only a complete builder is a key), or from a tuple in key order. It prints as \
         `a:b` ([`Display`](std::fmt::Display)) and parses back ([`FromStr`](std::str::FromStr))."
    );
    let builder_doc = format!(
        "A key of `{table_str}` under construction; each type parameter is \
         `Missing<column>` until that column is given. Only a complete builder is a key."
    );
    let full_key_msg = format!("`{{Self}}` is not a full key of table `{table_str}`");
    let full_key_label = format!("not a full key of `{table_str}`");
    let full_key_note = format!(
        "the key of `{table_str}` is ({key_shape}): give `{table_ident}::Key {{{{ {} }}}}`, a \
         complete `{table_ident}::Key::builder()`, or a tuple of all {n} values in key order",
        col_strs.join(", ")
    );
    let full_key_doc = format!(
        "A full key of `{table_str}`: its [`Key`], `&Key`, a complete [`KeyBuilder`], or a tuple \
         of every key column's value in key order."
    );

    let setters = (0..n).map(|j| {
        let c = &cols[j];
        let r = &rust[j];
        let others: Vec<&Ident> = generics.iter().enumerate().filter(|(i, _)| *i != j).map(|(_, g)| g).collect();
        let before: Vec<TokenStream> = generics
            .iter()
            .enumerate()
            .map(|(i, g)| if i == j { quote!(::grant::key::Missing<columns::#c>) } else { quote!(#g) })
            .collect();
        let after: Vec<TokenStream> = generics
            .iter()
            .enumerate()
            .map(|(i, g)| if i == j { quote!(::grant::key::Given<columns::#c>) } else { quote!(#g) })
            .collect();
        let moves = cols.iter().enumerate().filter(|(i, _)| *i != j).map(|(_, o)| quote!(#o: self.#o));
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

    let shard_items = shard_key_items(args, &key_struct, &camel);

    let single_value_impl = if n == 1 {
        let r = &rust[0];
        quote! {
            impl FullKey for #r {
                #[inline]
                fn into_full_key(self) -> Key {
                    Key { #first: self }
                }
            }
        }
    } else {
        quote!()
    };

    quote! {
        #[doc = #key_doc]
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct #key_struct {
            #( #[doc = #field_docs] pub #cols: #rust, )*
        }

        // By hand rather than derived: `#[inline]`, so that only crates that print a key
        // compile this (every function of a table's items is; see BENCHMARKS.md).
        impl ::core::fmt::Debug for #key_struct {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#key_struct_str) #( .field(#col_strs, &self.#cols) )* .finish()
            }
        }

        /// The full key of this table (see the struct's documentation).
        pub type Key = #key_struct;

        #[doc = #builder_doc]
        #[derive(Debug, Clone)]
        #[must_use = "a key builder does nothing until it is complete and used as a key"]
        pub struct #builder_struct<#(#generics),*> {
            #( #cols: #generics, )*
        }

        /// The key builder of this table (see the struct's documentation).
        pub type KeyBuilder<#(#generics),*> = #builder_struct<#(#generics),*>;

        impl #key_struct {
            /// Starts a key whose columns can be given in any order; see [`KeyBuilder`].
            #[inline]
            pub fn builder() -> #builder_struct<#(::grant::key::Missing<columns::#cols>),*> {
                #builder_struct { #( #cols: ::grant::key::Missing::new(), )* }
            }

            /// Reads the key of a record: the record has a field for every key column (see
            /// `#[derive(grant::Keyed)]`).
            pub fn of<__R>(record: &__R) -> Self
            where
                #( __R: ::grant::key::RecordColumn<columns::#cols>,
                   <__R as ::grant::key::RecordColumn<columns::#cols>>::Value: key_checks::#value_traits, )*
            {
                #key_struct {
                    #( #cols: key_checks::#value_traits::to_key_part(
                        <__R as ::grant::key::RecordColumn<columns::#cols>>::column_value(record)
                    ), )*
                }
            }
        }

        #(#setters)*

        #(#key_column_impls)*

        /// Checks behind the compile errors of this table's keys (one trait per key column).
        #[doc(hidden)]
        pub mod key_checks {
            #(#check_traits)*
        }

        #[doc = #full_key_doc]
        #[diagnostic::on_unimplemented(message = #full_key_msg, label = #full_key_label, note = #full_key_note)]
        pub trait FullKey {
            /// The key.
            fn into_full_key(self) -> Key;
        }

        impl FullKey for Key {
            #[inline]
            fn into_full_key(self) -> Key {
                self
            }
        }

        impl FullKey for &Key {
            #[inline]
            fn into_full_key(self) -> Key {
                ::core::clone::Clone::clone(self)
            }
        }

        impl FullKey for (#(#rust,)*) {
            #[inline]
            fn into_full_key(self) -> Key {
                <Key as ::grant::key::CompositeKey>::from_tuple(self)
            }
        }

        #single_value_impl

        impl<#(#generics),*> FullKey for #builder_struct<#(#generics),*>
        where
            #( #generics: key_checks::#given_traits, )*
        {
            #[inline]
            fn into_full_key(self) -> Key {
                Key { #( #cols: key_checks::#given_traits::take(self.#cols), )* }
            }
        }

        impl<__K: FullKey> ::grant::key::KeyFrom<__K> for table {
            #[inline]
            fn key_from(key: __K) -> Key {
                FullKey::into_full_key(key)
            }
        }

        impl ::grant::key::CompositeKey for #key_struct {
            type Table = table;
            type Tuple = (#(#rust,)*);
            #[inline]
            fn into_tuple(self) -> Self::Tuple {
                (#(self.#cols,)*)
            }
            #[inline]
            fn from_tuple(tuple: Self::Tuple) -> Self {
                #key_struct { #( #cols: tuple.#idx, )* }
            }
            #[inline]
            fn write_parts(&self, out: &mut ::grant::key::KeyWriter<'_>) {
                #( out.part(&self.#cols); )*
            }
            #[inline]
            fn read_parts(input: &mut ::grant::key::KeyReader<'_>) -> ::core::result::Result<Self, ::grant::KeyParseError> {
                ::core::result::Result::Ok(#key_struct { #( #cols: input.part(#col_strs)?, )* })
            }
        }

        impl ::core::fmt::Display for #key_struct {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::grant::key::fmt_key(self, f)
            }
        }

        impl ::core::str::FromStr for #key_struct {
            type Err = ::grant::KeyParseError;
            #[inline]
            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                ::grant::key::parse_key(s)
            }
        }

        impl ::grant::key::KeyedTable for table {
            type Key = #key_struct;
            type KeyColumns = (#(columns::#cols,)*);
            type Arity = ::grant::__private::typenum::#arity;
            type KeyFilter = #filter_type;
            const NAME: &'static str = #sql_name;
            const KEY_COLUMNS: &'static [&'static str] = &[#(#col_strs),*];
            const COLUMN_COUNT: usize = #column_count;
            const COLUMNS: &'static [(&'static str, &'static str)] = &[#((#column_names, #column_types)),*];
            #[inline]
            fn key_columns() -> Self::KeyColumns {
                (#(columns::#cols,)*)
            }
            #[inline]
            fn key_filter(key: #key_struct) -> Self::KeyFilter {
                #[allow(unused_imports)]
                use ::grant::__private::diesel::{BoolExpressionMethods, ExpressionMethods};
                #filter_expr
            }
        }

        #shard_items

        impl<__DB> ::grant::key::KeyBinds<__DB> for #key_struct
        where
            __DB: ::grant::__private::diesel::backend::Backend,
            #( __DB: ::grant::__private::diesel::sql_types::HasSqlType<#sql>,
               #rust: ::grant::__private::diesel::serialize::ToSql<#sql, __DB>,
               columns::#cols: ::grant::__private::diesel::query_builder::QueryFragment<__DB>, )*
        {
            fn walk_columns<'__b>(
                out: &mut ::grant::__private::diesel::query_builder::AstPass<'_, '__b, __DB>,
            ) -> ::grant::__private::diesel::QueryResult<()> {
                let mut first = true;
                #(
                    if !first { out.push_sql(", "); }
                    first = false;
                    ::grant::__private::diesel::query_builder::QueryFragment::<__DB>::walk_ast(
                        &columns::#cols, out.reborrow())?;
                )*
                let _ = first;
                Ok(())
            }
            fn walk_values<'__b>(
                &'__b self,
                out: &mut ::grant::__private::diesel::query_builder::AstPass<'_, '__b, __DB>,
            ) -> ::grant::__private::diesel::QueryResult<()> {
                let mut first = true;
                #(
                    if !first { out.push_sql(", "); }
                    first = false;
                    out.push_bind_param::<#sql, #rust>(&self.#cols)?;
                )*
                let _ = first;
                Ok(())
            }
            fn walk_eq<'__b>(
                &'__b self,
                out: &mut ::grant::__private::diesel::query_builder::AstPass<'_, '__b, __DB>,
            ) -> ::grant::__private::diesel::QueryResult<()> {
                let mut first = true;
                #(
                    if !first { out.push_sql(" AND "); }
                    first = false;
                    ::grant::__private::diesel::query_builder::QueryFragment::<__DB>::walk_ast(
                        &columns::#cols, out.reborrow())?;
                    out.push_sql(" = ");
                    out.push_bind_param::<#sql, #rust>(&self.#cols)?;
                )*
                let _ = first;
                Ok(())
            }
        }
    }
}

/// The shard key: a `ShardKey` struct of the declared shard-key columns, or, when the table
/// shards by its whole key (no `shard_key`, or all key columns), `ShardKey` as another name
/// of `Key` (one key struct to compile, not two alike); and the impls that route a `Key` or a
/// `ShardKey` to its shard.
fn shard_key_items(args: &Args, key_struct: &Ident, camel: &str) -> TokenStream {
    let table_str = args.sql_name.value();
    let sql_name = &args.sql_name;
    let table_ident = &args.table;
    let whole_key = args.shard_key.is_empty() || args.shard_key == args.key;
    let columns = if whole_key {
        &args.key
    } else {
        &args.shard_key
    };
    let names: Vec<String> = columns.iter().map(ToString::to_string).collect();
    let rust: Vec<TokenStream> = columns
        .iter()
        .map(|c| quote!(<columns::#c as ::grant::key::KeyColumn>::Rust))
        .collect();
    let idx: Vec<syn::Index> = (0..columns.len()).map(syn::Index::from).collect();
    let shard_struct = if whole_key {
        key_struct.clone()
    } else {
        format_ident!("{}ShardKey", camel)
    };
    let from_values = if columns.len() == 1 {
        let r = &rust[0];
        let c = &columns[0];
        quote! {
            impl ::core::convert::From<#r> for #shard_struct {
                #[inline]
                fn from(value: #r) -> Self {
                    #shard_struct { #c: value }
                }
            }
        }
    } else {
        quote! {
            impl ::core::convert::From<(#(#rust,)*)> for #shard_struct {
                #[inline]
                fn from(values: (#(#rust,)*)) -> Self {
                    #shard_struct { #( #columns: values.#idx, )* }
                }
            }
        }
    };
    let route_key = |ty: &Ident| {
        quote! {
            impl ::grant::shard::RouteKey for #ty {
                const TABLE: &'static str = #sql_name;
                #[inline]
                fn shard_values(&self) -> ::grant::shard::ShardValues<'_> {
                    ::grant::shard::ShardValues::new([#( ::grant::key::KeyPart::part_value(&self.#columns), )*])
                }
            }
        }
    };
    let key_route = route_key(key_struct);
    let (declaration, shard_key_of) = if whole_key {
        let declaration = quote! {
            /// The shard key of this table: its whole [`Key`] (no narrower `shard_key` is
            /// declared). Route a statement with `.for_shard_key(..)` on it.
            pub type ShardKey = #key_struct;
        };
        (declaration, quote!(::core::clone::Clone::clone(key)))
    } else {
        let doc = format!(
            "The shard key of table `{table_str}`: ({}). Also named `{table_ident}::ShardKey`. \
             Route a statement with `.for_shard_key(..)` on it, or on a full [`Key`].",
            names.join(", ")
        );
        let shard_struct_str = shard_struct.to_string();
        let shard_route = route_key(&shard_struct);
        let declaration = quote! {
            #[doc = #doc]
            #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub struct #shard_struct {
                #( #[doc = "Shard-key column."] pub #columns: #rust, )*
            }

            impl ::core::fmt::Debug for #shard_struct {
                #[inline]
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.debug_struct(#shard_struct_str) #( .field(#names, &self.#columns) )* .finish()
                }
            }

            /// The shard key of this table (see the struct's documentation).
            pub type ShardKey = #shard_struct;

            impl ::core::convert::From<&#key_struct> for #shard_struct {
                #[inline]
                fn from(key: &#key_struct) -> Self {
                    #shard_struct { #( #columns: ::core::clone::Clone::clone(&key.#columns), )* }
                }
            }

            impl ::core::fmt::Display for #shard_struct {
                #[inline]
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    ::core::fmt::Display::fmt(&::grant::shard::RouteKey::shard_values(self), f)
                }
            }

            #shard_route
        };
        (declaration, quote!(::core::convert::From::from(key)))
    };
    quote! {
        #declaration

        #from_values

        #key_route

        /// The bare table selects all of its columns: a read.
        impl ::grant::shard::StatementKind for table {
            type Kind = ::grant::shard::ReadKind;
        }

        impl ::grant::shard::ShardKeyed for table {
            type ShardKey = #shard_struct;
            const SHARD_KEY_COLUMNS: &'static [&'static str] = &[#(#names),*];
            #[inline]
            fn shard_key_of(key: &#key_struct) -> #shard_struct {
                #shard_key_of
            }
        }
    }
}
