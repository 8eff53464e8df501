// A key column of a type that can't be a key gives one error naming the table, the column
// and the type (not one per generated item).
grant::table! {
    prices (sku, price) {
        sku -> BigInt,
        price -> Double,
        note -> Text,
    }
}

fn main() {
    let _ = prices::table;
}
