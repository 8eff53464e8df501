//! [`PortableUuid`]: a UUID that binds to grant's portable [`crate::sql_types::PortableUuid`] on every backend.

use crate::key::KeyPart;
use std::fmt;
use std::str::FromStr;

/// A [`uuid::Uuid`] stored in a [`crate::sql_types::PortableUuid`] column: native `uuid` on
/// PostgreSQL, 16 bytes on MySQL and SQLite. It converts to and from `uuid::Uuid` for free,
/// dereferences to it, prints and parses the same way, and is a key part.
///
/// ```
/// let id = grant::PortableUuid::from(uuid::Uuid::nil());
/// assert_eq!(id.to_string(), "00000000-0000-0000-0000-000000000000");
/// assert_eq!(id.as_bytes(), &[0u8; 16]);
/// let back: uuid::Uuid = id.into();
/// assert!(back.is_nil());
/// ```
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = crate::sql_types::PortableUuid)]
pub struct PortableUuid(pub uuid::Uuid);

impl PortableUuid {
    /// A random (version 4) UUID.
    pub fn new_v4() -> Self {
        PortableUuid(uuid::Uuid::new_v4())
    }

    /// The all-zero UUID.
    pub const fn nil() -> Self {
        PortableUuid(uuid::Uuid::nil())
    }

    /// The all-ones UUID.
    pub const fn max() -> Self {
        PortableUuid(uuid::Uuid::max())
    }

    /// A UUID from its 128 bits.
    pub const fn from_u128(v: u128) -> Self {
        PortableUuid(uuid::Uuid::from_u128(v))
    }
}

impl From<uuid::Uuid> for PortableUuid {
    fn from(u: uuid::Uuid) -> Self {
        PortableUuid(u)
    }
}

impl From<PortableUuid> for uuid::Uuid {
    fn from(u: PortableUuid) -> Self {
        u.0
    }
}

impl std::ops::Deref for PortableUuid {
    type Target = uuid::Uuid;
    fn deref(&self) -> &uuid::Uuid {
        &self.0
    }
}

impl fmt::Display for PortableUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for PortableUuid {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s).map(PortableUuid)
    }
}

/// Same text and canonical bytes as [`uuid::Uuid`].
impl KeyPart for PortableUuid {
    fn write_text(&self, out: &mut String) {
        self.0.write_text(out);
    }
    fn parse_text(text: &str) -> Result<Self, String> {
        uuid::Uuid::parse_text(text).map(PortableUuid)
    }
    fn part_value(&self) -> crate::key::PartValue<'_> {
        self.0.part_value()
    }
}
