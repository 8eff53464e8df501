// A reference table is copied to every shard: it has no shard key.
grant::table! {
    #[grant(reference, shard_key(product_id))]
    products (product_id) {
        product_id -> BigInt,
        name -> Text,
    }
}

fn main() {}
