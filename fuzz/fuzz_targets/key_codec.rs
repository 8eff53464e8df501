//! Keys printed and parsed (`"123:acme\:x"`): parsing any text never panics, and whatever
//! parses prints back to text that parses to the same key; any key prints and parses back.
#![no_main]

use libfuzzer_sys::fuzz_target;

grant::table! {
    accounts (tenant, id, label) {
        tenant -> Text,
        id -> BigInt,
        label -> Text,
    }
}

fuzz_target!(|input: (&str, (String, i64, String))| {
    let (text, (tenant, id, label)) = input;
    if let Ok(key) = text.parse::<accounts::Key>() {
        let printed = key.to_string();
        assert_eq!(
            printed.parse::<accounts::Key>().as_ref(),
            Ok(&key),
            "{text:?} -> {printed:?}"
        );
    }
    let key = accounts::Key { tenant, id, label };
    let printed = key.to_string();
    assert_eq!(printed.parse::<accounts::Key>(), Ok(key), "{printed:?}");
});
