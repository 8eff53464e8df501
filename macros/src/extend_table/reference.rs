//! A reference table (`#[grant(reference)]`): copied to every shard, so it has no shard key.
//! Any shard may read it, alone or joined with any sharded table (a join stays on the shard
//! at hand); its writes go to every shard in one transaction (`Sharded::write_reference`).
//! Its `Key` is not a route key, with an error that says why.

use super::Ctx;
use proc_macro2::TokenStream;
use quote::quote;

pub(super) fn items(ctx: &Ctx<'_>) -> TokenStream {
    let sql_name = &ctx.args.sql_name;
    let table = &ctx.table_str;
    let key_struct = &ctx.key_struct;
    let message = format!(
        "`{table}` is a reference table (copied to every shard): it has no shard key to route by"
    );
    let label = format!("a key of reference table `{table}`");
    let read = format!(
        "read `{table}` on any shard (`.on_any_shard()`), or join it with a sharded table \
         routed by that table's key"
    );
    let write =
        format!("write `{table}` on every shard at once: `shards.write_reference(statement)`");
    quote! {
        /// A reference table: copied to every shard.
        impl ::grant::shard::ReferenceTable for table {
            const NAME: &'static str = #sql_name;
        }

        /// Every shard holds the whole table, so a read of it (alone or joined) runs on
        /// whichever shard a key names.
        impl<__T> ::grant::shard::RoutableBy<__T> for table {}

        /// Any one shard answers a read of the table alone.
        impl ::grant::shard::ReferenceSource for table {}
        impl ::grant::shard::ReferenceRead for table {}

        /// The bare table selects all of its columns: a read.
        impl ::grant::shard::StatementKind for table {
            type Kind = ::grant::shard::ReadKind;
        }

        #[doc(hidden)]
        #[diagnostic::on_unimplemented(message = #message, label = #label, note = #read, note = #write)]
        #[allow(non_camel_case_types)]
        pub trait reference_table_has_no_shard_key {
            /// Never called: the trait has no impls.
            fn values(key: &#key_struct) -> ::grant::shard::ShardValues<'_>;
        }

        // This impl only exists to say, naming the table, that a reference table's key
        // routes nowhere (`shards.find(key)`, `.for_shard_key(key)`).
        impl<'a> ::grant::shard::RouteKey for #key_struct
        where
            &'a ::grant::__private::Assigned: reference_table_has_no_shard_key,
        {
            type Table = table;
            const TABLE: &'static str = #sql_name;
            const SHARD_KEY_COLUMNS: &'static [&'static str] = &[];
            #[inline]
            fn shard_values(&self) -> ::grant::shard::ShardValues<'_> {
                <&'a ::grant::__private::Assigned as reference_table_has_no_shard_key>::values(self)
            }
        }
    }
}
