//! A server's place in its replication stream: where a write left the primary, and how far
//! a replica has replayed. Read-your-writes compares the two (see [`crate::shard::CausalToken`]).

use std::fmt;

/// A position in a shard's replication stream.
///
/// * PostgreSQL: a WAL location (LSN), written as PostgreSQL does (`16/B374D848`).
/// * MariaDB: a GTID position, one `domain-server-sequence` per replication domain
///   (`0-1-42`, or `0-1-42,1-2-7`).
///
/// A replica **has reached** a position when it has replayed everything up to it: a
/// larger LSN, or in every domain of the position a sequence number at least as large.
///
/// ```
/// use grant::cluster::Position;
/// let write: Position = "0/3000148".parse()?;
/// let replica: Position = "0/3000200".parse()?;
/// assert!(replica.has_reached(&write));
/// assert!(!write.has_reached(&replica));
/// let gtid: Position = "0-1-42".parse()?;
/// assert!("0-1-43".parse::<Position>()?.has_reached(&gtid));
/// assert_eq!(gtid.to_string(), "0-1-42");
/// # Ok::<(), grant::cluster::PositionParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Position {
    /// A PostgreSQL WAL location, in bytes.
    Lsn(u64),
    /// A MariaDB GTID position: per domain, the last transaction (sorted by domain, one
    /// entry per domain).
    Gtid(Vec<Gtid>),
}

/// One MariaDB global transaction ID: `domain-server-sequence`.
///
/// ```
/// let g = grant::cluster::Gtid { domain: 0, server: 1, sequence: 42 };
/// assert_eq!(grant::cluster::Position::Gtid(vec![g]).to_string(), "0-1-42");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Gtid {
    /// The replication domain.
    pub domain: u32,
    /// The server that wrote the transaction.
    pub server: u32,
    /// The transaction's sequence number in its domain.
    pub sequence: u64,
}

/// A position that does not parse: what was wrong, and where.
///
/// ```
/// let err = "0-1".parse::<grant::cluster::Position>().unwrap_err();
/// assert_eq!(err.to_string(), "position `0-1`: a GTID is domain-server-sequence, got `0-1`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("position `{text}`: {reason}")]
pub struct PositionParseError {
    /// The text (a position holds no secret).
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Position {
    /// Whether a server at `self` has replayed everything up to `target`.
    ///
    /// ```
    /// use grant::cluster::Position;
    /// assert!(Position::Lsn(10).has_reached(&Position::Lsn(10)));
    /// assert!(!Position::Lsn(9).has_reached(&Position::Lsn(10)));
    /// ```
    pub fn has_reached(&self, target: &Position) -> bool {
        match (self, target) {
            (Position::Lsn(at), Position::Lsn(want)) => at >= want,
            (Position::Gtid(at), Position::Gtid(want)) => want.iter().all(|w| {
                at.iter()
                    .any(|a| a.domain == w.domain && a.sequence >= w.sequence)
            }),
            // Positions of two kinds come from a misconfigured shard: nothing is proven.
            _ => false,
        }
    }

    /// The later of two positions, domain by domain (what a token keeps after two writes).
    ///
    /// ```
    /// use grant::cluster::Position;
    /// let a: Position = "0-1-5,1-1-9".parse()?;
    /// let b: Position = "0-2-7".parse()?;
    /// assert_eq!(a.merge(&b).to_string(), "0-2-7,1-1-9");
    /// assert_eq!(Position::Lsn(3).merge(&Position::Lsn(2)), Position::Lsn(3));
    /// # Ok::<(), grant::cluster::PositionParseError>(())
    /// ```
    #[must_use]
    pub fn merge(&self, other: &Position) -> Position {
        match (self, other) {
            (Position::Lsn(a), Position::Lsn(b)) => Position::Lsn(*a.max(b)),
            (Position::Gtid(a), Position::Gtid(b)) => {
                let mut out = a.clone();
                for g in b {
                    match out.iter_mut().find(|o| o.domain == g.domain) {
                        Some(o) if o.sequence < g.sequence => *o = *g,
                        Some(_) => {}
                        None => out.push(*g),
                    }
                }
                Position::Gtid(sorted(out))
            }
            // A shard's backend does not change; the newer kind wins.
            (_, newer) => newer.clone(),
        }
    }

    /// A GTID list as MariaDB prints it (`@@gtid_slave_pos`, `@@last_gtid`); `None` when
    /// empty (the server has no GTID yet).
    #[cfg(feature = "mysql")]
    pub(crate) fn from_gtid_list(text: &str) -> Option<Result<Position, PositionParseError>> {
        let text = text.trim();
        (!text.is_empty()).then(|| text.parse())
    }
}

fn sorted(mut gtids: Vec<Gtid>) -> Vec<Gtid> {
    gtids.sort_by_key(|g| g.domain);
    gtids
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Lsn(lsn) => write!(f, "{:X}/{:X}", lsn >> 32, lsn & 0xFFFF_FFFF),
            Position::Gtid(gtids) => {
                for (i, g) in gtids.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{}-{}-{}", g.domain, g.server, g.sequence)?;
                }
                Ok(())
            }
        }
    }
}

impl std::str::FromStr for Position {
    type Err = PositionParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |reason: String| PositionParseError {
            text: text.chars().take(200).collect(),
            reason,
        };
        if let Some((hi, lo)) = text.split_once('/') {
            let half = |part: &str| {
                u32::from_str_radix(part, 16)
                    .ok()
                    .filter(|_| !part.is_empty() && part.len() <= 8)
            };
            return match (half(hi), half(lo)) {
                (Some(hi), Some(lo)) => Ok(Position::Lsn((u64::from(hi) << 32) | u64::from(lo))),
                _ => Err(error(
                    "an LSN is two hexadecimal numbers of up to 8 digits, `HI/LO`".into(),
                )),
            };
        }
        let mut gtids: Vec<Gtid> = Vec::new();
        for part in text.split(',') {
            let part = part.trim();
            let fields: Vec<&str> = part.split('-').collect();
            let [domain, server, sequence] = fields.as_slice() else {
                return Err(error(format!(
                    "a GTID is domain-server-sequence, got `{}`",
                    part.chars().take(60).collect::<String>()
                )));
            };
            let number = |what: &str, s: &str| {
                s.parse::<u64>()
                    .map_err(|_| error(format!("the {what} of `{part}` is not a number")))
            };
            let domain = u32::try_from(number("domain", domain)?)
                .map_err(|_| error(format!("the domain of `{part}` is too large")))?;
            let server = u32::try_from(number("server", server)?)
                .map_err(|_| error(format!("the server of `{part}` is too large")))?;
            let sequence = number("sequence", sequence)?;
            if gtids.iter().any(|g| g.domain == domain) {
                return Err(error(format!("domain {domain} appears twice")));
            }
            gtids.push(Gtid {
                domain,
                server,
                sequence,
            });
        }
        Ok(Position::Gtid(sorted(gtids)))
    }
}

#[cfg(test)]
mod tests {
    use super::Position;

    #[test]
    fn lsn_prints_and_parses_as_postgres_does() {
        let p = Position::Lsn(0x16_B374_D848);
        assert_eq!(p.to_string(), "16/B374D848");
        assert_eq!("16/B374D848".parse::<Position>().unwrap(), p);
        assert_eq!("0/0".parse::<Position>().unwrap(), Position::Lsn(0));
        for bad in ["/1", "1/", "G/1", "1/123456789", "1/2/3"] {
            assert!(bad.parse::<Position>().is_err(), "{bad}");
        }
    }

    #[test]
    fn gtids_compare_per_domain() {
        let at: Position = "0-1-10,1-1-3".parse().unwrap();
        assert!(at.has_reached(&"0-9-10".parse().unwrap()));
        assert!(!at.has_reached(&"0-1-11".parse().unwrap()));
        assert!(!at.has_reached(&"2-1-1".parse().unwrap()), "unknown domain");
        assert!(!at.has_reached(&Position::Lsn(0)), "other kind");
        for bad in [
            "",
            "0-1",
            "a-1-2",
            "0-1-2,0-1-3",
            "0-1-2-3",
            "99999999999-1-1",
        ] {
            assert!(bad.parse::<Position>().is_err(), "{bad}");
        }
    }
}
