//! The encoding of a block: one stored value holding a run of consecutive records of
//! one shard (see the crate docs for the key and where blocks fit in).
//!
//! ```text
//! value  = [version u8 = 1] header record{count}
//! header = [count u32][last position u64][first arrival_ms i64][last arrival_ms i64]
//! record = [position u64][arrival_ms i64][pk_len u16][data_len u32][pk][data]
//! ```
//!
//! All integers are big-endian. The block's first position is not repeated in the header:
//! it is the last part of the key, and decoding checks the first record against it.
//! The header answers "which positions and which times does this block cover, and how many
//! records" without walking the records, which is all trimming, `last_position` and the
//! time search need for whole blocks.

use crate::encoding::FORMAT_VERSION;
use crate::{Result, StoreError};

/// version + count + last position + first arrival + last arrival.
pub(crate) const HEADER_LEN: usize = 1 + 4 + 8 + 8 + 8;
/// position + arrival_ms + pk_len + data_len, before the variable parts.
pub(crate) const RECORD_OVERHEAD: usize = 8 + 8 + 2 + 4;

/// Encoded size of one record inside a block.
pub(crate) fn record_len(pk_len: usize, data_len: usize) -> usize {
    RECORD_OVERHEAD + pk_len + data_len
}

/// What a block's header says, plus its first position (from the key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub count: u32,
    pub first: u64,
    pub last: u64,
    pub first_ms: i64,
    pub last_ms: i64,
}

fn be_u64(b: &[u8]) -> u64 {
    u64::from_be_bytes(b.try_into().expect("caller passes 8 bytes"))
}

fn be_i64(b: &[u8]) -> i64 {
    i64::from_be_bytes(b.try_into().expect("caller passes 8 bytes"))
}

fn corrupt(msg: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("block: {msg}"))
}

impl Header {
    /// Checks the version byte and the header's own consistency; does not look at the
    /// records (use [`Block::decode`] for that).
    pub fn parse(first: u64, value: &[u8]) -> Result<Header> {
        match value.first() {
            None => return Err(corrupt("empty value")),
            Some(&FORMAT_VERSION) => {}
            Some(v) => return Err(corrupt(format_args!("unknown format version {v}"))),
        }
        if value.len() < HEADER_LEN {
            return Err(corrupt(format_args!(
                "{} bytes is shorter than the header",
                value.len()
            )));
        }
        let count = u32::from_be_bytes(value[1..5].try_into().expect("4 bytes"));
        let header = Header {
            count,
            first,
            last: be_u64(&value[5..13]),
            first_ms: be_i64(&value[13..21]),
            last_ms: be_i64(&value[21..29]),
        };
        let body_len = (value.len() - HEADER_LEN) as u64;
        // Positions strictly increase, so `count` records span at least count - 1 values.
        let consistent = count >= 1
            && header.last >= first
            && header.last - first >= u64::from(count - 1)
            && (count > 1 || (header.last == first && header.first_ms == header.last_ms))
            && body_len >= u64::from(count) * RECORD_OVERHEAD as u64;
        if !consistent {
            return Err(corrupt(format_args!("inconsistent header {header:?}")));
        }
        Ok(header)
    }
}

/// One record inside a decoded block, borrowing from the stored value.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BlockRecord<'v> {
    pub position: u64,
    pub arrival_ms: i64,
    pub pk: &'v [u8],
    pub data: &'v [u8],
    /// Where the record starts in the value, so a suffix can be copied as is.
    offset: usize,
}

impl BlockRecord<'_> {
    /// The size that counts against read limits: data plus partition key bytes.
    pub fn billed_len(&self) -> usize {
        self.pk.len() + self.data.len()
    }
}

/// A block whose header and every record length have been checked against each other.
pub(crate) struct Block<'v> {
    pub header: Header,
    pub records: Vec<BlockRecord<'v>>,
    value: &'v [u8],
}

impl<'v> Block<'v> {
    /// Decodes a whole block stored under first position `first`. Checks everything but
    /// the partition keys' UTF-8 (checked when a record is copied out).
    pub fn decode(first: u64, value: &'v [u8]) -> Result<Block<'v>> {
        let header = Header::parse(first, value)?;
        let mut records = Vec::with_capacity(header.count as usize);
        let mut pos = HEADER_LEN;
        let mut prev: Option<u64> = None;
        while pos < value.len() {
            if records.len() == header.count as usize {
                return Err(corrupt(format_args!(
                    "{} bytes left after the {} records the header announces",
                    value.len() - pos,
                    header.count
                )));
            }
            let fixed = value
                .get(pos..pos + RECORD_OVERHEAD)
                .ok_or_else(|| corrupt(format_args!("record header cut short at byte {pos}")))?;
            let position = be_u64(&fixed[0..8]);
            let arrival_ms = be_i64(&fixed[8..16]);
            let pk_len = u16::from_be_bytes(fixed[16..18].try_into().expect("2 bytes")) as usize;
            let data_len = u32::from_be_bytes(fixed[18..22].try_into().expect("4 bytes")) as usize;
            let pk_at = pos + RECORD_OVERHEAD;
            let data_at = pk_at + pk_len;
            let end = data_at
                .checked_add(data_len)
                .filter(|&end| end <= value.len())
                .ok_or_else(|| {
                    corrupt(format_args!(
                        "record at byte {pos}: pk {pk_len} + data {data_len} bytes exceed the \
                         {} remaining",
                        value.len() - pk_at
                    ))
                })?;
            let in_order = match prev {
                None => position == first,
                Some(p) => position > p,
            };
            if !in_order {
                return Err(corrupt(format_args!(
                    "record position {position} out of order (block {first}, previous {prev:?})"
                )));
            }
            prev = Some(position);
            records.push(BlockRecord {
                position,
                arrival_ms,
                pk: &value[pk_at..data_at],
                data: &value[data_at..end],
                offset: pos,
            });
            pos = end;
        }
        let (Some(head), Some(tail)) = (records.first(), records.last()) else {
            return Err(corrupt("no records"));
        };
        let matches = records.len() == header.count as usize
            && tail.position == header.last
            && head.arrival_ms == header.first_ms
            && tail.arrival_ms == header.last_ms;
        if !matches {
            return Err(corrupt(format_args!(
                "{} records from {} to {} at {}..={} ms disagree with the header {header:?}",
                records.len(),
                head.position,
                tail.position,
                head.arrival_ms,
                tail.arrival_ms
            )));
        }
        Ok(Block {
            header,
            records,
            value,
        })
    }

    /// The block made of records `from..` of this one (`from` must be a valid index), as
    /// (first position, value). Copies the records' bytes as they are.
    pub fn suffix(&self, from: usize) -> (u64, Vec<u8>) {
        let head = &self.records[from];
        let header = Header {
            count: self.header.count - from as u32,
            first: head.position,
            first_ms: head.arrival_ms,
            ..self.header
        };
        let body = &self.value[head.offset..];
        let mut value = Vec::with_capacity(HEADER_LEN + body.len());
        write_header(&mut value, &header);
        value.extend_from_slice(body);
        (head.position, value)
    }
}

fn write_header(out: &mut Vec<u8>, h: &Header) {
    out.push(FORMAT_VERSION);
    out.extend_from_slice(&h.count.to_be_bytes());
    out.extend_from_slice(&h.last.to_be_bytes());
    out.extend_from_slice(&h.first_ms.to_be_bytes());
    out.extend_from_slice(&h.last_ms.to_be_bytes());
}

/// Accumulates records into one block value. The caller keeps positions strictly
/// increasing and decides when a block is full ([`BlockBuilder::len`]).
pub(crate) struct BlockBuilder {
    buf: Vec<u8>,
    header: Option<Header>,
}

impl BlockBuilder {
    pub fn new() -> Self {
        BlockBuilder {
            buf: vec![0; HEADER_LEN],
            header: None,
        }
    }

    /// Encoded size of the block so far, header included.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.header.is_none()
    }

    /// Adds a record. Fails with `Corrupt` if the partition key exceeds 65535 bytes or
    /// the data 4 GiB, which the format cannot represent.
    pub fn push(&mut self, position: u64, arrival_ms: i64, pk: &[u8], data: &[u8]) -> Result<()> {
        let pk_len = u16::try_from(pk.len()).map_err(|_| {
            StoreError::Corrupt(format!(
                "partition key of {} bytes cannot be encoded (max 65535)",
                pk.len()
            ))
        })?;
        let data_len = u32::try_from(data.len()).map_err(|_| {
            StoreError::Corrupt(format!(
                "record data of {} bytes cannot be encoded (max 4 GiB)",
                data.len()
            ))
        })?;
        self.header = Some(match self.header {
            None => Header {
                count: 1,
                first: position,
                last: position,
                first_ms: arrival_ms,
                last_ms: arrival_ms,
            },
            Some(h) => Header {
                count: h
                    .count
                    .checked_add(1)
                    .ok_or_else(|| corrupt("more than u32::MAX records"))?,
                last: position,
                last_ms: arrival_ms,
                ..h
            },
        });
        self.buf.reserve(record_len(pk.len(), data.len()));
        self.buf.extend_from_slice(&position.to_be_bytes());
        self.buf.extend_from_slice(&arrival_ms.to_be_bytes());
        self.buf.extend_from_slice(&pk_len.to_be_bytes());
        self.buf.extend_from_slice(&data_len.to_be_bytes());
        self.buf.extend_from_slice(pk);
        self.buf.extend_from_slice(data);
        Ok(())
    }

    /// The finished block as (first position, value), or None if nothing was pushed. The
    /// builder is left empty, ready for the next block.
    pub fn take(&mut self) -> Option<(u64, Vec<u8>)> {
        let header = self.header.take()?;
        let mut value = std::mem::replace(&mut self.buf, vec![0; HEADER_LEN]);
        let mut head = Vec::with_capacity(HEADER_LEN);
        write_header(&mut head, &header);
        value[..HEADER_LEN].copy_from_slice(&head);
        Some((header.first, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(records: &[(u64, i64, &str, &[u8])]) -> (u64, Vec<u8>) {
        let mut b = BlockBuilder::new();
        for &(s, ms, pk, data) in records {
            b.push(s, ms, pk.as_bytes(), data).unwrap();
        }
        b.take().unwrap()
    }

    #[test]
    fn round_trip_and_suffix() {
        let (first, value) = build(&[(5, -3, "a", b"xy"), (9, 4, "", b""), (10, 4, "clé", b"z")]);
        assert_eq!(first, 5);
        assert_eq!(value[0], FORMAT_VERSION);
        let block = Block::decode(first, &value).unwrap();
        assert_eq!(
            block.header,
            Header {
                count: 3,
                first: 5,
                last: 10,
                first_ms: -3,
                last_ms: 4
            }
        );
        let got: Vec<_> = block
            .records
            .iter()
            .map(|r| (r.position, r.arrival_ms, r.pk, r.data))
            .collect();
        assert_eq!(
            got,
            vec![
                (5, -3, &b"a"[..], &b"xy"[..]),
                (9, 4, &b""[..], &b""[..]),
                (10, 4, "clé".as_bytes(), &b"z"[..]),
            ]
        );
        let (first, tail) = block.suffix(1);
        assert_eq!(first, 9);
        assert_eq!(tail, build(&[(9, 4, "", b""), (10, 4, "clé", b"z")]).1);
        let tail = Block::decode(9, &tail).unwrap();
        assert_eq!(tail.header.count, 2);
        assert_eq!(tail.header.first_ms, 4);
    }

    #[test]
    fn builder_is_reusable_and_sized() {
        let mut b = BlockBuilder::new();
        assert!(b.is_empty());
        assert_eq!(b.len(), HEADER_LEN);
        assert!(b.take().is_none());
        b.push(1, 1, b"pk", b"data").unwrap();
        assert_eq!(b.len(), HEADER_LEN + record_len(2, 4));
        assert_eq!(b.take().unwrap().0, 1);
        assert!(b.is_empty());
        b.push(2, 1, b"", b"").unwrap();
        let (first, value) = b.take().unwrap();
        assert_eq!(Block::decode(first, &value).unwrap().header.count, 1);
    }

    #[test]
    fn every_inconsistency_is_corrupt() {
        let (first, good) = build(&[(5, 1, "a", b"xy"), (7, 2, "b", b"z")]);
        let patched = |at: usize, bytes: &[u8]| {
            let mut v = good.clone();
            v[at..at + bytes.len()].copy_from_slice(bytes);
            v
        };
        let second = HEADER_LEN + record_len(1, 2);
        let mut trailing = good.clone();
        trailing.push(0);
        let cases: Vec<(&str, u64, Vec<u8>)> = vec![
            ("empty", first, vec![]),
            ("version", first, patched(0, &[2])),
            ("short header", first, good[..HEADER_LEN - 1].to_vec()),
            ("zero count", first, patched(1, &0u32.to_be_bytes())),
            ("count too high", first, patched(1, &3u32.to_be_bytes())),
            ("count too low", first, patched(1, &1u32.to_be_bytes())),
            ("last below first", first, patched(5, &4u64.to_be_bytes())),
            ("last mismatch", first, patched(5, &8u64.to_be_bytes())),
            ("first ms mismatch", first, patched(13, &0i64.to_be_bytes())),
            ("last ms mismatch", first, patched(21, &9i64.to_be_bytes())),
            ("key mismatch", 4, good.clone()),
            (
                "not increasing",
                first,
                patched(second, &5u64.to_be_bytes()),
            ),
            (
                "pk too long",
                first,
                patched(second + 16, &200u16.to_be_bytes()),
            ),
            (
                "data too long",
                first,
                patched(second + 18, &200u32.to_be_bytes()),
            ),
            (
                "huge data",
                first,
                patched(second + 18, &u32::MAX.to_be_bytes()),
            ),
            ("cut short", first, good[..good.len() - 1].to_vec()),
            ("cut in a record header", first, good[..second + 3].to_vec()),
            ("trailing bytes", first, trailing),
        ];
        for (what, first, value) in cases {
            match Block::decode(first, &value) {
                Err(StoreError::Corrupt(_)) => {}
                Err(e) => panic!("{what}: {e}"),
                Ok(_) => panic!("{what}: decoded"),
            }
        }
    }

    #[test]
    fn oversized_partition_key_is_rejected() {
        let mut b = BlockBuilder::new();
        let pk = vec![b'x'; 70_000];
        assert!(matches!(
            b.push(1, 1, &pk, b""),
            Err(StoreError::Corrupt(_))
        ));
        assert!(b.is_empty());
    }
}
