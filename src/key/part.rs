//! Values that can be one part of a key: how they print, parse and hash.

use super::PartValue;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use std::fmt::Debug;
use std::hash::Hash;

/// A Rust value that can be one part of a composite key.
///
/// Implemented for the integers, `bool`, `String`, `Vec<u8>`, [`uuid::Uuid`] and chrono's
/// `NaiveDate`, `NaiveDateTime` and `DateTime<Utc>`. Each part has a text form (used in
/// `"123:456"` keys; grant escapes `:` and `\` around it) and **canonical bytes**, which the
/// stable hash strategies read. The canonical bytes of a type never change between versions:
///
/// | type | canonical bytes |
/// |---|---|
/// | `i8`..`i64` | the value widened to `i64`, 8 bytes little-endian |
/// | `u8`..`u64` | the value widened to `u64`, 8 bytes little-endian |
/// | `bool` | one byte, 0 or 1 |
/// | `String` | its UTF-8 bytes |
/// | `Vec<u8>` | the bytes |
/// | `Uuid` | its 16 bytes in RFC 4122 (big-endian) order |
/// | `NaiveDate` | days since 1970-01-01 as `i64`, 8 bytes little-endian |
/// | `NaiveDateTime`, `DateTime<Utc>` | microseconds since 1970-01-01T00:00:00 UTC as `i64`, little-endian |
///
/// ```
/// use grant::key::KeyPart;
/// let mut text = String::new();
/// 42i64.write_text(&mut text);
/// assert_eq!(text, "42");
/// assert_eq!(i64::parse_text("42"), Ok(42));
/// let mut bytes = Vec::new();
/// 42i32.canonical_bytes(&mut bytes);
/// assert_eq!(bytes, 42i64.to_le_bytes());
/// ```
pub trait KeyPart: Clone + Eq + Hash + Ord + Debug + Send + Sync + 'static {
    /// Appends the part's text form (unescaped; the key codec escapes it).
    fn write_text(&self, out: &mut String);
    /// Parses what [`KeyPart::write_text`] wrote; the error says why it is not a value.
    fn parse_text(text: &str) -> Result<Self, String>;
    /// The part as a plain value, for shard strategies.
    fn part_value(&self) -> PartValue<'_>;
    /// Appends the canonical bytes that stable hashing reads (see the table above).
    fn canonical_bytes(&self, out: &mut Vec<u8>) {
        self.part_value().canonical_bytes(out);
    }
}

macro_rules! signed_part {
    ($($t:ty),*) => {$(
        impl KeyPart for $t {
            fn write_text(&self, out: &mut String) {
                out.push_str(&self.to_string());
            }
            fn parse_text(text: &str) -> Result<Self, String> {
                text.parse().map_err(|e| format!("{e} (expected {})", stringify!($t)))
            }
            fn part_value(&self) -> PartValue<'_> {
                PartValue::Int(i64::from(*self))
            }
        }
    )*};
}

macro_rules! unsigned_part {
    ($($t:ty),*) => {$(
        impl KeyPart for $t {
            fn write_text(&self, out: &mut String) {
                out.push_str(&self.to_string());
            }
            fn parse_text(text: &str) -> Result<Self, String> {
                text.parse().map_err(|e| format!("{e} (expected {})", stringify!($t)))
            }
            fn part_value(&self) -> PartValue<'_> {
                PartValue::UInt(u64::from(*self))
            }
        }
    )*};
}

signed_part!(i8, i16, i32, i64);
unsigned_part!(u8, u16, u32, u64);

impl KeyPart for bool {
    fn write_text(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
    fn parse_text(text: &str) -> Result<Self, String> {
        match text {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err("expected `true` or `false`".into()),
        }
    }
    fn part_value(&self) -> PartValue<'_> {
        PartValue::Bool(*self)
    }
}

impl KeyPart for String {
    fn write_text(&self, out: &mut String) {
        out.push_str(self);
    }
    fn parse_text(text: &str) -> Result<Self, String> {
        Ok(text.to_owned())
    }
    fn part_value(&self) -> PartValue<'_> {
        PartValue::Text(self)
    }
}

impl KeyPart for Vec<u8> {
    fn write_text(&self, out: &mut String) {
        for b in self {
            out.push_str(&format!("{b:02x}"));
        }
    }
    fn parse_text(text: &str) -> Result<Self, String> {
        if !text.len().is_multiple_of(2) {
            return Err("expected an even number of hex digits".into());
        }
        (0..text.len())
            .step_by(2)
            .map(|i| {
                text.get(i..i + 2)
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                    .ok_or_else(|| format!("invalid hex digits at offset {i}"))
            })
            .collect()
    }
    fn part_value(&self) -> PartValue<'_> {
        PartValue::Bytes(self)
    }
}

impl KeyPart for uuid::Uuid {
    fn write_text(&self, out: &mut String) {
        out.push_str(&self.hyphenated().to_string());
    }
    fn parse_text(text: &str) -> Result<Self, String> {
        uuid::Uuid::parse_str(text).map_err(|e| e.to_string())
    }
    fn part_value(&self) -> PartValue<'_> {
        PartValue::Uuid(*self.as_bytes())
    }
}

/// Days from 0001-01-01 (day 1 of the common era) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;

impl KeyPart for NaiveDate {
    fn write_text(&self, out: &mut String) {
        out.push_str(&self.format("%Y-%m-%d").to_string());
    }
    fn parse_text(text: &str) -> Result<Self, String> {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|e| format!("{e} (expected YYYY-MM-DD)"))
    }
    fn part_value(&self) -> PartValue<'_> {
        PartValue::Date(
            i64::from(chrono::Datelike::num_days_from_ce(self)) - UNIX_EPOCH_DAYS_FROM_CE,
        )
    }
}

impl KeyPart for NaiveDateTime {
    fn write_text(&self, out: &mut String) {
        out.push_str(&self.format("%Y-%m-%dT%H:%M:%S%.f").to_string());
    }
    fn parse_text(text: &str) -> Result<Self, String> {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
            .map_err(|e| format!("{e} (expected YYYY-MM-DDTHH:MM:SS[.fraction])"))
    }
    fn part_value(&self) -> PartValue<'_> {
        PartValue::Timestamp(self.and_utc().timestamp_micros())
    }
}

impl KeyPart for DateTime<Utc> {
    fn write_text(&self, out: &mut String) {
        out.push_str(&self.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
    }
    fn parse_text(text: &str) -> Result<Self, String> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| format!("{e} (expected RFC 3339)"))
    }
    fn part_value(&self) -> PartValue<'_> {
        PartValue::Timestamp(self.timestamp_micros())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<P: KeyPart>(value: P) {
        let mut text = String::new();
        value.write_text(&mut text);
        assert_eq!(P::parse_text(&text), Ok(value), "text {text:?}");
    }

    #[test]
    fn parts_round_trip_through_text() {
        round_trip(-5i64);
        round_trip(7u32);
        round_trip(true);
        round_trip(String::from("a:b\\c"));
        round_trip(vec![0u8, 15, 255]);
        round_trip(uuid::Uuid::from_u128(
            0x1234_5678_9abc_def0_1234_5678_9abc_def0,
        ));
        round_trip(NaiveDate::from_ymd_opt(2024, 2, 29).expect("date"));
        let t = NaiveDate::from_ymd_opt(2024, 2, 29)
            .and_then(|d| d.and_hms_micro_opt(13, 4, 5, 600))
            .expect("datetime");
        round_trip(t);
        round_trip(t.and_utc());
    }

    #[test]
    fn canonical_bytes_are_fixed() {
        let mut out = Vec::new();
        NaiveDate::from_ymd_opt(1970, 1, 2)
            .expect("date")
            .canonical_bytes(&mut out);
        assert_eq!(out, 1i64.to_le_bytes());
        out.clear();
        (-1i16).canonical_bytes(&mut out);
        assert_eq!(out, (-1i64).to_le_bytes());
    }
}
