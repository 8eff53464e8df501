//! What a handle or a session remembers of its writes to one shard, and where that lets a
//! later read go (see [`ReadYourWrites`]).

use super::position::Position;
use super::settings::{ReadYourWrites, UNKNOWN_POSITION_WINDOW};
use std::time::Instant;

/// The writes to one shard, as far as read-your-writes needs them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Written {
    /// The latest position a write left in the replication stream.
    pub(crate) position: Option<Position>,
    /// When the last write without a known position happened (under
    /// [`ReadYourWrites::Window`], every write).
    pub(crate) unplaced: Option<Instant>,
}

/// Where a read may go after the writes it must see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReadFloor {
    /// Any usable replica.
    Any,
    /// Only the primary.
    Primary,
    /// A replica that has replayed this position, else the primary.
    Reached(Position),
}

impl Written {
    /// Notes a write that left `position` (`None`: unknown), at `now`.
    pub(crate) fn note(&mut self, position: Option<Position>, now: Instant) {
        match position {
            Some(p) => {
                self.position = Some(match &self.position {
                    Some(before) => before.merge(&p),
                    None => p,
                });
            }
            None => self.unplaced = Some(now),
        }
    }

    /// Where a read may go at `now`, under `mode`.
    pub(crate) fn floor(&self, mode: ReadYourWrites, now: Instant) -> ReadFloor {
        let within = |window| {
            self.unplaced
                .is_some_and(|at| now.saturating_duration_since(at) < window)
        };
        match mode {
            ReadYourWrites::Off => ReadFloor::Any,
            ReadYourWrites::Window(window) if within(window) => ReadFloor::Primary,
            ReadYourWrites::Window(_) => ReadFloor::Any,
            ReadYourWrites::Causal { .. } if within(UNKNOWN_POSITION_WINDOW) => ReadFloor::Primary,
            ReadYourWrites::Causal { .. } => self
                .position
                .clone()
                .map_or(ReadFloor::Any, ReadFloor::Reached),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ReadFloor, Written};
    use crate::cluster::{Position, ReadYourWrites};
    use std::time::{Duration, Instant};

    #[test]
    fn floors_follow_the_mode() {
        let t0 = Instant::now();
        let causal = ReadYourWrites::Causal {
            wait: Duration::ZERO,
        };
        let window = ReadYourWrites::Window(Duration::from_secs(2));
        let mut w = Written::default();
        assert_eq!(w.floor(causal, t0), ReadFloor::Any);
        w.note(Some(Position::Lsn(10)), t0);
        w.note(Some(Position::Lsn(5)), t0);
        assert_eq!(w.floor(causal, t0), ReadFloor::Reached(Position::Lsn(10)));
        assert_eq!(w.floor(ReadYourWrites::Off, t0), ReadFloor::Any);
        w.note(None, t0);
        assert_eq!(w.floor(causal, t0), ReadFloor::Primary, "position unknown");
        assert_eq!(
            w.floor(window, t0 + Duration::from_secs(1)),
            ReadFloor::Primary
        );
        let later = t0 + Duration::from_secs(3);
        assert_eq!(w.floor(window, later), ReadFloor::Any);
        assert_eq!(
            w.floor(causal, later),
            ReadFloor::Reached(Position::Lsn(10))
        );
    }
}
