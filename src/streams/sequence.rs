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

/// Writes `value`'s last `out.len()` decimal digits, zero-padded, into `out`.
fn put_digits(out: &mut [u8], mut value: u64) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

impl SequenceNumber {
    /// The 56 ASCII digits. Hand-rolled because every record of every put and read is
    /// rendered, and `format!` with four padded fields showed up in the profile.
    pub fn to_digits(&self) -> [u8; LENGTH] {
        let mut out = [b'0'; LENGTH];
        out[0] = b'4';
        let (stream, rest) = out[1..].split_at_mut(STREAM_DIGITS);
        let (shard, rest) = rest.split_at_mut(SHARD_DIGITS);
        let (position, time) = rest.split_at_mut(POSITION_DIGITS);
        put_digits(stream, self.stream_id);
        put_digits(shard, u64::from(self.shard_index));
        put_digits(position, self.position);
        put_digits(time, self.arrival_ms.clamp(0, 9_999_999_999_999) as u64);
        out
    }
}

impl fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.to_digits();
        f.write_str(std::str::from_utf8(&digits).expect("ASCII digits"))
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

/// `shardId-` and twelve digits; hand-rolled like `to_digits`, it is in every put's answer.
pub fn shard_id(index: u32) -> String {
    let mut out = *b"shardId-000000000000";
    put_digits(&mut out[8..], u64::from(index));
    String::from_utf8(out.to_vec()).expect("ASCII digits")
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
        let big = SequenceNumber {
            stream_id: 123_456_789_012_345,
            shard_index: 4_000_000_001,
            position: u64::MAX,
            arrival_ms: -5,
        };
        // Fields keep their width: ids beyond it keep their low digits, times are clamped.
        assert_eq!(
            big.to_string(),
            [
                "4",
                "23456789012345",
                "00000001",
                "18446744073709551615",
                "0000000000000"
            ]
            .concat()
        );
        assert!("49590338271490256608559692538361571095921575989136588898"
            .parse::<SequenceNumber>()
            .is_err());
    }

    #[test]
    fn shard_ids() {
        assert_eq!(shard_id(7), "shardId-000000000007");
        assert_eq!(shard_id(u32::MAX), "shardId-004294967295");
        assert_eq!(parse_shard_id("shardId-000000000007"), Some(7));
        assert_eq!(parse_shard_id("7"), Some(7));
        assert_eq!(parse_shard_id("shardId-x"), None);
    }
}
