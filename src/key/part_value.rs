//! A key part seen as a value: what shard strategies compare, look up and hash.

/// One key part as a plain value, borrowed from the key. Strategies read these: ranges
/// compare them, lookups match them, hashes read their canonical bytes.
///
/// Canonical bytes (never changed; pinned by golden tests): `Int` as `i64` and `UInt` as
/// `u64`, 8 bytes little-endian; `Bool` one byte; `Text` its UTF-8 bytes; `Bytes` as they
/// are; `Uuid` its 16 bytes; `Date` days since 1970-01-01 and `Timestamp` microseconds since
/// 1970-01-01T00:00:00Z, both `i64` little-endian.
///
/// ```
/// use grant::key::PartValue;
/// let mut out = Vec::new();
/// PartValue::Int(1).canonical_bytes(&mut out);
/// assert_eq!(out, [1, 0, 0, 0, 0, 0, 0, 0]);
/// assert_eq!(PartValue::Text("FR").as_text(), Some("FR"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PartValue<'a> {
    /// A signed integer (`i8`..`i64`), widened.
    Int(i64),
    /// An unsigned integer (`u8`..`u64`), widened.
    UInt(u64),
    /// A boolean.
    Bool(bool),
    /// Text.
    Text(&'a str),
    /// Bytes.
    Bytes(&'a [u8]),
    /// A UUID's 16 bytes.
    Uuid([u8; 16]),
    /// A date, as days since 1970-01-01.
    Date(i64),
    /// A timestamp, as microseconds since 1970-01-01T00:00:00 UTC.
    Timestamp(i64),
}

impl PartValue<'_> {
    /// Appends the canonical bytes (see the type's documentation).
    pub fn canonical_bytes(&self, out: &mut Vec<u8>) {
        self.with_canonical(|bytes| out.extend_from_slice(bytes));
    }

    /// Calls `f` with the canonical bytes, without allocating.
    pub fn with_canonical<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            PartValue::Int(v) | PartValue::Date(v) | PartValue::Timestamp(v) => f(&v.to_le_bytes()),
            PartValue::UInt(v) => f(&v.to_le_bytes()),
            PartValue::Bool(b) => f(&[u8::from(*b)]),
            PartValue::Text(s) => f(s.as_bytes()),
            PartValue::Bytes(b) => f(b),
            PartValue::Uuid(u) => f(u),
        }
    }

    /// The value as a signed integer, if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            PartValue::Int(v) => Some(v),
            PartValue::UInt(v) => i64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as text, if it is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            PartValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The kind of value, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            PartValue::Int(_) | PartValue::UInt(_) => "an integer",
            PartValue::Bool(_) => "a boolean",
            PartValue::Text(_) => "text",
            PartValue::Bytes(_) => "bytes",
            PartValue::Uuid(_) => "a UUID",
            PartValue::Date(_) => "a date",
            PartValue::Timestamp(_) => "a timestamp",
        }
    }
}

impl std::fmt::Display for PartValue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PartValue::Int(v) | PartValue::Date(v) | PartValue::Timestamp(v) => write!(f, "{v}"),
            PartValue::UInt(v) => write!(f, "{v}"),
            PartValue::Bool(v) => write!(f, "{v}"),
            PartValue::Text(s) => write!(f, "{s:?}"),
            PartValue::Bytes(b) => write!(f, "{} bytes", b.len()),
            PartValue::Uuid(u) => write!(f, "{}", uuid::Uuid::from_bytes(*u)),
        }
    }
}
