// A key struct field of the wrong type names the column's type.
grant::table! {
    region_data (country_code, region_id) {
        country_code -> Text,
        region_id -> Integer,
        population -> BigInt,
    }
}

fn main() {
    let _key = region_data::Key { country_code: 33, region_id: 11 };
}
