//! Keys as text (`"123:456"`, for URLs and logs) and as canonical bytes (for stable hashing).
//!
//! Text form: the parts in key order, separated by `:`; inside a part, `\` is written `\\`
//! and `:` is written `\:`. So `("a:b", 3)` prints as `a\:b:3` and parses back.

use super::{CompositeKey, KeyPart, KeyedTable};
use std::fmt;

/// A key given as text did not parse: the table, the input and why.
///
/// ```
/// # use grant::key::KeyParseError;
/// let err = KeyParseError::new("order_items", "1", "expected 2 parts (order_id:product_id), found 1");
/// assert_eq!(
///     err.to_string(),
///     "cannot parse \"1\" as a key of `order_items`: expected 2 parts (order_id:product_id), found 1"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot parse {input:?} as a key of `{table}`: {reason}")]
pub struct KeyParseError {
    /// The table whose key was expected.
    pub table: &'static str,
    /// The text that was given.
    pub input: String,
    /// What was wrong, naming the column where one part was bad.
    pub reason: String,
}

impl KeyParseError {
    /// Builds the error; `reason` says what was wrong.
    pub fn new(table: &'static str, input: impl Into<String>, reason: impl Into<String>) -> Self {
        KeyParseError {
            table,
            input: input.into(),
            reason: reason.into(),
        }
    }
}

/// Writes the parts of a key as text; used by the `Display` impl that `grant::table!`
/// generates.
///
/// ```
/// # use grant::key::KeyWriter;
/// let mut out = String::new();
/// let mut w = KeyWriter::new(&mut out);
/// w.part(&String::from("a:b"));
/// w.part(&3i32);
/// assert_eq!(out, "a\\:b:3");
/// ```
pub struct KeyWriter<'a> {
    out: &'a mut String,
    first: bool,
    scratch: String,
}

impl<'a> KeyWriter<'a> {
    /// A writer appending to `out`.
    pub fn new(out: &'a mut String) -> Self {
        KeyWriter {
            out,
            first: true,
            scratch: String::new(),
        }
    }

    /// Appends one part, escaped, after a `:` unless it is the first.
    pub fn part<P: KeyPart>(&mut self, part: &P) {
        if !self.first {
            self.out.push(':');
        }
        self.first = false;
        self.scratch.clear();
        part.write_text(&mut self.scratch);
        for c in self.scratch.chars() {
            if c == ':' || c == '\\' {
                self.out.push('\\');
            }
            self.out.push(c);
        }
    }
}

/// Reads the parts of a key from text; used by the `FromStr` impl that `grant::table!`
/// generates.
///
/// ```
/// # use grant::key::KeyReader;
/// let mut r = KeyReader::new("t", "a\\:b:3").expect("well escaped");
/// assert_eq!(r.part::<String>("name"), Ok("a:b".to_string()));
/// assert_eq!(r.part::<i32>("n"), Ok(3));
/// ```
pub struct KeyReader<'a> {
    table: &'static str,
    input: &'a str,
    parts: std::vec::IntoIter<String>,
}

impl<'a> KeyReader<'a> {
    /// Splits `input` at unescaped `:` and unescapes each part.
    pub fn new(table: &'static str, input: &'a str) -> Result<Self, KeyParseError> {
        let mut parts = Vec::new();
        let mut current = String::new();
        let mut chars = input.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(escaped @ (':' | '\\')) => current.push(escaped),
                    Some(other) => {
                        return Err(KeyParseError::new(
                            table,
                            input,
                            format!("unknown escape `\\{other}` (only `\\:` and `\\\\` exist)"),
                        ));
                    }
                    None => {
                        return Err(KeyParseError::new(table, input, "dangling `\\` at the end"));
                    }
                },
                ':' => parts.push(std::mem::take(&mut current)),
                c => current.push(c),
            }
        }
        parts.push(current);
        Ok(KeyReader {
            table,
            input,
            parts: parts.into_iter(),
        })
    }

    /// How many parts are left to read.
    pub fn remaining(&self) -> usize {
        self.parts.len()
    }

    /// Reads the next part as the value of `column`.
    pub fn part<P: KeyPart>(&mut self, column: &str) -> Result<P, KeyParseError> {
        let text = self.parts.next().ok_or_else(|| {
            KeyParseError::new(
                self.table,
                self.input,
                format!("no value for column `{column}`"),
            )
        })?;
        P::parse_text(&text).map_err(|reason| {
            KeyParseError::new(
                self.table,
                self.input,
                format!("column `{column}`: {reason}"),
            )
        })
    }
}

/// The canonical bytes of a key (or of its shard key), the input of stable hashing.
///
/// Each part is framed as its length (`u32`, little-endian) followed by the part's canonical
/// bytes ([`KeyPart`]), so that `("ab", "c")` and `("a", "bc")` never collide. This layout is
/// pinned by golden tests and never changes.
///
/// ```
/// # use grant::key::KeyBytes;
/// let mut bytes = KeyBytes::new();
/// bytes.push(&7i64);
/// assert_eq!(bytes.as_bytes(), [8, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyBytes {
    buf: Vec<u8>,
}

impl KeyBytes {
    /// Empty.
    pub fn new() -> Self {
        KeyBytes::default()
    }

    /// Appends one framed part.
    pub fn push<P: KeyPart>(&mut self, part: &P) {
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        part.canonical_bytes(&mut self.buf);
        let len = self.buf.len() - start - 4;
        // A key part over 4 GiB cannot be bound as a SQL parameter in the first place.
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        self.buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
    }

    /// The bytes so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Empties it for reuse, keeping the allocation.
    pub fn clear(&mut self) {
        self.buf.clear();
    }
}

/// Formats a key as `a:b` (the `Display` impl generated by `grant::table!` calls this).
pub fn fmt_key<K: CompositeKey>(key: &K, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut out = String::new();
    key.write_parts(&mut KeyWriter::new(&mut out));
    f.write_str(&out)
}

/// Parses a key from `a:b` (the `FromStr` impl generated by `grant::table!` calls this).
pub fn parse_key<K: CompositeKey>(input: &str) -> Result<K, KeyParseError> {
    let table = <K::Table as KeyedTable>::NAME;
    let columns = <K::Table as KeyedTable>::KEY_COLUMNS;
    let mut reader = KeyReader::new(table, input)?;
    if reader.remaining() != columns.len() {
        return Err(KeyParseError::new(
            table,
            input,
            format!(
                "expected {} part{} ({}), found {}",
                columns.len(),
                if columns.len() == 1 { "" } else { "s" },
                columns.join(":"),
                reader.remaining()
            ),
        ));
    }
    K::read_parts(&mut reader)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip() {
        let mut out = String::new();
        let mut w = KeyWriter::new(&mut out);
        w.part(&String::from("x\\:y"));
        w.part(&String::new());
        w.part(&String::from(":"));
        assert_eq!(out, "x\\\\\\:y::\\:");
        let mut r = KeyReader::new("t", &out).expect("parses");
        assert_eq!(r.remaining(), 3);
        assert_eq!(r.part::<String>("a").as_deref(), Ok("x\\:y"));
        assert_eq!(r.part::<String>("b").as_deref(), Ok(""));
        assert_eq!(r.part::<String>("c").as_deref(), Ok(":"));
    }

    #[test]
    fn bad_escapes_are_errors() {
        assert!(KeyReader::new("t", "a\\").is_err());
        assert!(KeyReader::new("t", "a\\n").is_err());
    }

    #[test]
    fn framing_separates_parts() {
        let mut a = KeyBytes::new();
        a.push(&String::from("ab"));
        a.push(&String::from("c"));
        let mut b = KeyBytes::new();
        b.push(&String::from("a"));
        b.push(&String::from("bc"));
        assert_ne!(a, b);
    }
}
