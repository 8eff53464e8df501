// A tuple whose values have the wrong types is not a key.
use grant::prelude::*;

grant::table! {
    region_data (country_code, region_id) {
        country_code -> Text,
        region_id -> Integer,
        population -> BigInt,
    }
}

fn main() {
    let _q = region_data::table.find_key((11, String::from("FR")));
}
