//! Sequence numbers: 56-digit decimal strings, like AWS's.
//!
//! Layout (fixed-width decimal fields, most significant first, so numeric order is field order):
//! `4` · stream id (14 digits) · shard index (8) · position in shard (20) · arrival ms (13).
//! Within a shard the position strictly increases, so numbers strictly increase; a child shard
//! has a larger index than its parents, so its numbers are larger than theirs. The stream id is
//! never reused, so a number from a deleted stream of the same name is recognised as foreign.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SequenceNumber {
    pub stream_id: u64,
    pub shard_index: u32,
    /// Position of the record in its shard (0 = before the first record).
    pub position: u64,
    pub arrival_ms: i64,
}

const STREAM_DIGITS: usize = 14;
const SHARD_DIGITS: usize = 8;
const POSITION_DIGITS: usize = 20;
const TIME_DIGITS: usize = 13;
pub const LENGTH: usize = 1 + STREAM_DIGITS + SHARD_DIGITS + POSITION_DIGITS + TIME_DIGITS;

impl fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "4{:014}{:08}{:020}{:013}",
            self.stream_id % 10u64.pow(STREAM_DIGITS as u32),
            self.shard_index % 10u32.pow(SHARD_DIGITS as u32),
            self.position,
            self.arrival_ms.clamp(0, 9_999_999_999_999)
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotOurs;

impl FromStr for SequenceNumber {
    type Err = NotOurs;
    fn from_str(s: &str) -> Result<Self, NotOurs> {
        if s.len() != LENGTH || !s.starts_with('4') || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NotOurs);
        }
        let mut at = 1;
        let mut field = |width: usize| {
            let v = &s[at..at + width];
            at += width;
            v
        };
        let stream_id = field(STREAM_DIGITS).parse().map_err(|_| NotOurs)?;
        let shard_index = field(SHARD_DIGITS).parse().map_err(|_| NotOurs)?;
        let position = field(POSITION_DIGITS).parse().map_err(|_| NotOurs)?;
        let arrival_ms = field(TIME_DIGITS).parse().map_err(|_| NotOurs)?;
        Ok(SequenceNumber {
            stream_id,
            shard_index,
            position,
            arrival_ms,
        })
    }
}

pub fn shard_id(index: u32) -> String {
    format!("shardId-{index:012}")
}

/// `shardId-000000000007` → 7. Like AWS, accepts a bare number too.
pub fn parse_shard_id(id: &str) -> Option<u32> {
    let digits = id.strip_prefix("shardId-").unwrap_or(id);
    if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| u32::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_order() {
        let a = SequenceNumber {
            stream_id: 3,
            shard_index: 1,
            position: 41,
            arrival_ms: 1_700_000_000_123,
        };
        let text = a.to_string();
        assert_eq!(text.len(), 56);
        assert_eq!(text.parse::<SequenceNumber>(), Ok(a));
        let b = SequenceNumber {
            position: 42,
            arrival_ms: 1_600_000_000_000,
            ..a
        };
        // Position dominates arrival time: a clock step backwards cannot reorder a shard.
        assert!(b.to_string() > text);
        assert!("49590338271490256608559692538361571095921575989136588898"
            .parse::<SequenceNumber>()
            .is_err());
    }

    #[test]
    fn shard_ids() {
        assert_eq!(shard_id(7), "shardId-000000000007");
        assert_eq!(parse_shard_id("shardId-000000000007"), Some(7));
        assert_eq!(parse_shard_id("7"), Some(7));
        assert_eq!(parse_shard_id("shardId-x"), None);
    }
}
