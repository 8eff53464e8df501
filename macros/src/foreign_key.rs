//! `grant::foreign_key!`: a composite foreign key from a child table to a parent's key.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Path, Token};

struct Side {
    table: Path,
    columns: Vec<Ident>,
}

impl Parse for Side {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let table: Path = input.parse()?;
        let content;
        syn::parenthesized!(content in input);
        let columns = content.parse_terminated(Ident::parse, Token![,])?;
        Ok(Side {
            table,
            columns: columns.into_iter().collect(),
        })
    }
}

struct Decl {
    child: Side,
    parent: Side,
    constraint: Option<LitStr>,
}

impl Parse for Decl {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let child: Side = input.parse()?;
        input.parse::<Token![->]>()?;
        let parent: Side = input.parse()?;
        let mut constraint = None;
        if input.parse::<Option<Token![,]>>()?.is_some() && !input.is_empty() {
            let name: Ident = input.parse()?;
            if name != "constraint" {
                return Err(syn::Error::new(
                    name.span(),
                    "expected `constraint = \"name\"`",
                ));
            }
            input.parse::<Token![=]>()?;
            constraint = Some(input.parse()?);
            input.parse::<Option<Token![,]>>()?;
        }
        Ok(Decl {
            child,
            parent,
            constraint,
        })
    }
}

fn last_name(path: &Path) -> String {
    path.segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let decl: Decl = syn::parse2(input)?;
    let child = &decl.child.table;
    let parent = &decl.parent.table;
    let child_name = last_name(child);
    let parent_name = last_name(parent);
    let child_cols = &decl.child.columns;
    let parent_cols = &decl.parent.columns;
    let shown = format!(
        "{child_name} ({}) -> {parent_name} ({})",
        child_cols
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        parent_cols
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    if child_cols.is_empty() || child_cols.len() != parent_cols.len() {
        return Err(syn::Error::new_spanned(
            &decl.parent.table,
            format!(
                "foreign key {shown}: {} column(s) of `{child_name}` cannot reference {} column(s) of `{parent_name}`",
                child_cols.len(),
                parent_cols.len()
            ),
        ));
    }
    // Columns pair by position; a child column named like a parent key column must pair
    // with that column (a swapped pair of same-typed columns would otherwise compile).
    for (i, c) in child_cols.iter().enumerate() {
        if let Some(j) = parent_cols.iter().position(|p| p == c)
            && j != i
        {
            return Err(syn::Error::new_spanned(
                c,
                format!(
                    "foreign key {shown}: `{child_name}.{c}` is paired with \
                     `{parent_name}.{}` by position, but `{parent_name}` has a key column \
                     named `{c}`: list the child columns in the order of the parent's key \
                     (a column named like a parent key column references that column)",
                    parent_cols[i]
                ),
            ));
        }
    }
    let constraint = decl
        .constraint
        .as_ref()
        .map(LitStr::value)
        .unwrap_or_else(|| shown.clone());
    let parent_col_strs: Vec<String> = parent_cols.iter().map(ToString::to_string).collect();
    let child_col_strs: Vec<String> = child_cols.iter().map(ToString::to_string).collect();
    let not_key = format!(
        "foreign key {shown}: ({}) is not the key of `{parent_name}` (a foreign key references the parent's whole key, in key order)",
        parent_col_strs.join(", ")
    );

    let checks = child_cols.iter().zip(parent_cols).enumerate().map(|(i, (c, p))| {
        let trait_name = format_ident!("SameSqlType{}", i);
        let message = format!(
            "foreign key {shown}: column `{child_name}.{c}` has SQL type `{{Self}}`, but `{parent_name}.{p}` has `{{P}}`"
        );
        let check_name = format_ident!("ColumnTypesMatch{}", i);
        quote! {
            #[diagnostic::on_unimplemented(message = #message, label = "the column types of a foreign key and its parent key must match")]
            trait #trait_name<P> {}
            impl<T> #trait_name<T> for T {}
            impl<T> #trait_name<T> for ::grant::__private::diesel::sql_types::Nullable<T> {}
            // Checked with the items (before the impls below), so this error comes first.
            #[allow(dead_code)]
            struct #check_name
            where
                <#child::columns::#c as ::grant::__private::diesel::Expression>::SqlType:
                    #trait_name<<#parent::columns::#p as ::grant::__private::diesel::Expression>::SqlType>;
        }
    });

    let rust: Vec<TokenStream> = parent_cols
        .iter()
        .map(|p| quote!(<#parent::columns::#p as ::grant::key::KeyColumn>::Rust))
        .collect();
    let eq_type = |i: usize| {
        let c = &child_cols[i];
        let r = &rust[i];
        quote!(::grant::__private::diesel::dsl::Eq<#child::columns::#c, #r>)
    };
    let mut filter_type = eq_type(0);
    for i in 1..child_cols.len() {
        let next = eq_type(i);
        filter_type = quote!(::grant::__private::diesel::dsl::And<#filter_type, #next>);
    }
    let on_eq = |i: usize| {
        let c = &child_cols[i];
        let p = &parent_cols[i];
        quote!(::grant::__private::diesel::dsl::Eq<
            ::grant::__private::diesel::dsl::Nullable<#child::columns::#c>,
            ::grant::__private::diesel::dsl::Nullable<#parent::columns::#p>,
        >)
    };
    let mut on_type = on_eq(0);
    for i in 1..child_cols.len() {
        let next = on_eq(i);
        on_type = quote!(::grant::__private::diesel::dsl::And<#on_type, #next>);
    }
    let (c0, p0) = (&child_cols[0], &parent_cols[0]);
    let (c_rest, p_rest) = (&child_cols[1..], &parent_cols[1..]);
    let on_expr = quote! {
        #child::columns::#c0.nullable().eq(#parent::columns::#p0.nullable())
            #( .and(#child::columns::#c_rest.nullable().eq(#parent::columns::#p_rest.nullable())) )*
    };

    Ok(quote! {
        const _: () = {
            assert!(
                ::grant::__private::same_names(
                    <#parent::table as ::grant::key::KeyedTable>::KEY_COLUMNS,
                    &[#(#parent_col_strs),*],
                ),
                #not_key
            );
            #( #checks )*
        };

        impl ::grant::assoc::ForeignKey<#parent::table> for #child::table {
            type Columns = (#(#child::columns::#child_cols,)*);
            type Filter = #filter_type;
            const CONSTRAINT: &'static str = #constraint;
            const COLUMNS: &'static [&'static str] = &[#(#child_col_strs),*];
            #[inline]
            fn columns() -> Self::Columns {
                (#(#child::columns::#child_cols,)*)
            }
            #[inline]
            fn filter(key: <#parent::table as ::grant::key::KeyedTable>::Key) -> Self::Filter {
                #[allow(unused_imports)]
                use ::grant::__private::diesel::{BoolExpressionMethods, ExpressionMethods};
                #child::columns::#c0.eq(key.#p0) #( .and(#child::columns::#c_rest.eq(key.#p_rest)) )*
            }
        }

        impl ::grant::__private::diesel::JoinTo<#parent::table> for #child::table {
            type FromClause = #parent::table;
            type OnClause = #on_type;
            #[inline]
            fn join_target(rhs: #parent::table) -> (Self::FromClause, Self::OnClause) {
                #[allow(unused_imports)]
                use ::grant::__private::diesel::{BoolExpressionMethods, ExpressionMethods, NullableExpressionMethods};
                (rhs, #on_expr)
            }
        }

        impl ::grant::__private::diesel::JoinTo<#child::table> for #parent::table {
            type FromClause = #child::table;
            type OnClause = #on_type;
            #[inline]
            fn join_target(rhs: #child::table) -> (Self::FromClause, Self::OnClause) {
                #[allow(unused_imports)]
                use ::grant::__private::diesel::{BoolExpressionMethods, ExpressionMethods, NullableExpressionMethods};
                (rhs, #on_expr)
            }
        }
    })
}
