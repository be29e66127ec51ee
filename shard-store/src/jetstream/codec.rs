//! What a shard's JetStream message holds, and how a record's position names its message.
//!
//! A message carries one group commit's records for one shard, all with one arrival time:
//!
//! ```text
//! [1][arrival_ms i64][count u32] then `count` times: [pk_len u16][data_len u32][pk][data]
//! ```
//!
//! (integers big-endian). A record's position is `message sequence << INDEX_BITS | index in
//! the message`: positions strictly increase in a shard because JetStream's sequences do, the
//! records of one message are consecutive, and a position says which message to fetch. Gaps
//! between messages are never filled, as the `ShardLog` contract allows.

use crate::{Result, StoreError, StoredRecord};

/// Bits of a position that index a record inside its message.
pub const INDEX_BITS: u32 = 20;
/// Most records one message may carry.
pub const MAX_RECORDS_PER_MESSAGE: usize = (1 << INDEX_BITS) - 1;
/// Bytes a message spends besides the records' own bytes.
pub const HEADER_BYTES: usize = 1 + 8 + 4;
/// Bytes each record adds to a message besides its partition key and data.
pub const RECORD_OVERHEAD: usize = 2 + 4;

pub fn position(sequence: u64, index: usize) -> u64 {
    (sequence << INDEX_BITS) | index as u64
}

/// The message sequence and record index a position names.
pub fn split(position: u64) -> (u64, usize) {
    (
        position >> INDEX_BITS,
        (position & ((1 << INDEX_BITS) - 1)) as usize,
    )
}

/// What one record costs in a message.
pub fn record_bytes(partition_key: &str, data: &[u8]) -> usize {
    RECORD_OVERHEAD + partition_key.len() + data.len()
}

/// Builds a message from records given as (partition key, data).
pub fn encode<'a>(
    arrival_ms: i64,
    records: impl ExactSizeIterator<Item = (&'a str, &'a [u8])> + Clone,
) -> Vec<u8> {
    let size = HEADER_BYTES
        + records
            .clone()
            .map(|(pk, data)| record_bytes(pk, data))
            .sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.push(1);
    out.extend_from_slice(&arrival_ms.to_be_bytes());
    out.extend_from_slice(&(records.len() as u32).to_be_bytes());
    for (pk, data) in records {
        // Partition keys are at most 256 characters (validated by the API).
        out.extend_from_slice(&(pk.len() as u16).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(pk.as_bytes());
        out.extend_from_slice(data);
    }
    out
}

fn corrupt(sequence: u64, what: &str) -> StoreError {
    StoreError::Corrupt(format!("JetStream message {sequence}: {what}"))
}

/// A message's arrival time and record count, without decoding its records.
pub fn header(sequence: u64, message: &[u8]) -> Result<(i64, usize)> {
    if message.len() < HEADER_BYTES {
        return Err(corrupt(sequence, "shorter than its header"));
    }
    if message[0] != 1 {
        return Err(corrupt(sequence, &format!("format version {}", message[0])));
    }
    let arrival = i64::from_be_bytes(message[1..9].try_into().expect("8 bytes"));
    let count = u32::from_be_bytes(message[9..13].try_into().expect("4 bytes")) as usize;
    Ok((arrival, count))
}

/// The records of message `sequence` from index `from` on.
pub fn decode(sequence: u64, message: &[u8], from: usize) -> Result<Vec<StoredRecord>> {
    let (arrival_ms, count) = header(sequence, message)?;
    let mut out = Vec::with_capacity(count.saturating_sub(from));
    let mut at = HEADER_BYTES;
    for index in 0..count {
        let lengths = message
            .get(at..at + RECORD_OVERHEAD)
            .ok_or_else(|| corrupt(sequence, "cut inside a record header"))?;
        let pk_len = u16::from_be_bytes([lengths[0], lengths[1]]) as usize;
        let data_len = u32::from_be_bytes(lengths[2..6].try_into().expect("4 bytes")) as usize;
        at += RECORD_OVERHEAD;
        let body = message
            .get(at..at + pk_len + data_len)
            .ok_or_else(|| corrupt(sequence, "cut inside a record"))?;
        at += pk_len + data_len;
        if index < from {
            continue;
        }
        let partition_key = std::str::from_utf8(&body[..pk_len])
            .map_err(|_| corrupt(sequence, "partition key not UTF-8"))?
            .to_string();
        out.push(StoredRecord {
            position: position(sequence, index),
            arrival_ms,
            partition_key,
            data: body[pk_len..].to_vec(),
        });
    }
    if at != message.len() {
        return Err(corrupt(sequence, "bytes after its last record"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_positions() {
        let records = [("a", &b"one"[..]), ("bb", &b""[..]), ("c", &[0u8; 300][..])];
        let message = encode(1_700_000_000_000, records.iter().copied());
        assert_eq!(header(7, &message).unwrap(), (1_700_000_000_000, 3));
        let all = decode(7, &message, 0).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[1].partition_key, "bb");
        assert_eq!(all[2].data.len(), 300);
        assert_eq!(split(all[2].position), (7, 2));
        assert_eq!(decode(7, &message, 2).unwrap(), all[2..].to_vec());
        assert!(decode(7, &message, 3).unwrap().is_empty());
        assert!(position(8, 0) > position(7, MAX_RECORDS_PER_MESSAGE));
    }

    #[test]
    fn damage_is_reported() {
        let message = encode(5, [("k", &b"data"[..])].into_iter());
        for cut in 0..message.len() {
            assert!(decode(1, &message[..cut], 0).is_err(), "cut at {cut}");
        }
        let mut longer = message.clone();
        longer.push(0);
        assert!(decode(1, &longer, 0).is_err());
        let mut version = message;
        version[0] = 2;
        assert!(matches!(
            decode(1, &version, 0),
            Err(StoreError::Corrupt(_))
        ));
    }
}
