//! A causal token: the replication positions a client's reads must see, carried across
//! requests and processes as text.

use crate::cluster::Position;
use std::collections::BTreeMap;
use std::fmt;

/// Per shard, the position the client's last write left in the shard's replication stream.
/// A read in a [`super::Session`] holding this token goes to a replica only once that
/// replica has replayed the position (see [`crate::cluster::ReadYourWrites::Causal`]).
///
/// It prints as `shard=position` pairs joined by `;` (`s0=16/B374D848;s1=0-1-42`; shard
/// names other than `[A-Za-z0-9_.-]` percent-encoded), parses back with [`str::parse`], and
/// serializes with serde as that string, so a web application can keep it in a cookie or a
/// header. It holds no secret; a forged token can only send that client's reads to the
/// primary.
///
/// ```
/// use grant::shard::CausalToken;
/// let token: CausalToken = "s0=16/B374D848;s1=0-1-42".parse()?;
/// assert_eq!(token.position("s1").map(|p| p.to_string()).as_deref(), Some("0-1-42"));
/// assert_eq!(token.to_string().parse::<CausalToken>()?, token);
/// assert!(CausalToken::default().to_string().is_empty());
/// # Ok::<(), grant::shard::TokenParseError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CausalToken {
    positions: BTreeMap<String, Position>,
}

/// The most text a token may hold: it comes from clients, so its size is bounded.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// A token that does not parse: what was wrong, and at which byte.
///
/// ```
/// let err = "s0=16/B374D848;s1".parse::<grant::shard::CausalToken>().unwrap_err();
/// assert_eq!(err.to_string(), "causal token, byte 15: `s1` is not `shard=position`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("causal token, byte {at}: {reason}")]
pub struct TokenParseError {
    /// Where the bad part starts.
    pub at: usize,
    /// What is wrong with it.
    pub reason: String,
}

impl CausalToken {
    /// The position kept for `shard`.
    ///
    /// ```
    /// assert!(grant::shard::CausalToken::default().position("s0").is_none());
    /// ```
    pub fn position(&self, shard: &str) -> Option<&Position> {
        self.positions.get(shard)
    }

    /// The shards and their positions, by shard name.
    ///
    /// ```
    /// let t: grant::shard::CausalToken = "a=0/1;b=0/2".parse()?;
    /// assert_eq!(t.iter().map(|(s, _)| s).collect::<Vec<_>>(), ["a", "b"]);
    /// # Ok::<(), grant::shard::TokenParseError>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Position)> {
        self.positions.iter().map(|(s, p)| (s.as_str(), p))
    }

    /// Whether it holds no position.
    ///
    /// ```
    /// assert!(grant::shard::CausalToken::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// Notes that `shard` reached `position` (keeping the later of two).
    ///
    /// ```
    /// use grant::cluster::Position;
    /// let mut t = grant::shard::CausalToken::default();
    /// t.advance("s0", Position::Lsn(7));
    /// t.advance("s0", Position::Lsn(3));
    /// assert_eq!(t.position("s0"), Some(&Position::Lsn(7)));
    /// ```
    pub fn advance(&mut self, shard: &str, position: Position) {
        match self.positions.get_mut(shard) {
            Some(before) => *before = before.merge(&position),
            None => {
                self.positions.insert(shard.to_owned(), position);
            }
        }
    }

    /// Both tokens' positions, the later of two per shard (a client's two tokens, or the
    /// tokens of two requests that both wrote).
    ///
    /// ```
    /// let a: grant::shard::CausalToken = "s0=0/10".parse()?;
    /// let b: grant::shard::CausalToken = "s0=0/5;s1=0/1".parse()?;
    /// assert_eq!(a.merge(&b).to_string(), "s0=0/10;s1=0/1");
    /// # Ok::<(), grant::shard::TokenParseError>(())
    /// ```
    #[must_use]
    pub fn merge(&self, other: &CausalToken) -> CausalToken {
        let mut out = self.clone();
        for (shard, position) in other.iter() {
            out.advance(shard, position.clone());
        }
        out
    }
}

fn plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

impl fmt::Display for CausalToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (shard, position)) in self.positions.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            for &b in shard.as_bytes() {
                if plain(b) {
                    write!(f, "{}", char::from(b))?;
                } else {
                    write!(f, "%{b:02X}")?;
                }
            }
            write!(f, "={position}")?;
        }
        Ok(())
    }
}

/// Undoes the percent-encoding of a shard name.
fn decode(name: &str, at: usize) -> Result<String, TokenParseError> {
    let bad = |reason: String| TokenParseError { at, reason };
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| bad("`%` must be followed by two hexadecimal digits".into()))?;
            out.push(hex);
            i += 3;
        } else if plain(b) {
            out.push(b);
            i += 1;
        } else {
            return Err(bad(format!(
                "a shard name holds `{}`, which must be percent-encoded",
                char::from(b).escape_default()
            )));
        }
    }
    let name = String::from_utf8(out).map_err(|_| bad("a shard name is not UTF-8".into()))?;
    if name.is_empty() {
        return Err(bad("a shard name is empty".into()));
    }
    Ok(name)
}

impl std::str::FromStr for CausalToken {
    type Err = TokenParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() > MAX_TOKEN_LEN {
            return Err(TokenParseError {
                at: MAX_TOKEN_LEN,
                reason: format!(
                    "{} bytes, over the {MAX_TOKEN_LEN} a token may have",
                    text.len()
                ),
            });
        }
        let mut token = CausalToken::default();
        if text.is_empty() {
            return Ok(token);
        }
        let mut at = 0;
        for part in text.split(';') {
            let here = at;
            at += part.len() + 1;
            let shown: String = part.chars().take(60).collect();
            let Some((name, position)) = part.split_once('=') else {
                return Err(TokenParseError {
                    at: here,
                    reason: format!("`{shown}` is not `shard=position`"),
                });
            };
            let name = decode(name, here)?;
            let position: Position =
                position
                    .parse()
                    .map_err(|e: crate::cluster::PositionParseError| TokenParseError {
                        at: here + part.len() - position.len(),
                        reason: e.to_string(),
                    })?;
            if token.positions.contains_key(&name) {
                return Err(TokenParseError {
                    at: here,
                    reason: format!("shard `{}` appears twice", name.escape_default()),
                });
            }
            token.positions.insert(name, position);
        }
        Ok(token)
    }
}

impl serde::Serialize for CausalToken {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for CausalToken {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::CausalToken;
    use crate::cluster::Position;

    #[test]
    fn odd_shard_names_round_trip() {
        let mut t = CausalToken::default();
        t.advance("eu west;=%", Position::Lsn(1));
        t.advance("ünï", "0-1-2".parse().unwrap());
        let text = t.to_string();
        assert_eq!(text, "eu%20west%3B%3D%25=0/1;%C3%BCn%C3%AF=0-1-2");
        assert_eq!(text.parse::<CausalToken>().unwrap(), t);
    }

    #[test]
    fn bad_tokens_say_where() {
        for (bad, at) in [
            ("s0", 0),
            ("s0=0/1;=0/2", 7),
            ("s0=0/1;s1=zz", 10),
            ("s0=0/1;s0=0/2", 7),
            ("s%4=0/1", 0),
            ("s 0=0/1", 0),
            ("s0=0/1;", 7),
        ] {
            let err = bad.parse::<CausalToken>().unwrap_err();
            assert_eq!(err.at, at, "{bad}: {err}");
        }
        let long = "a".repeat(super::MAX_TOKEN_LEN + 1);
        assert!(long.parse::<CausalToken>().is_err());
    }
}
