//! Shard iterators and paging tokens: opaque to clients, tamper-evident to us.
//!
//! An iterator is base64 of an 8-byte header `00…01` (so it begins `AAAAAAAAAA` followed by one
//! of E–H, as AWS's do), a fixed payload, the stream name, a nonce, and a 16-byte HMAC-SHA256
//! tag under a key kept in the store — so iterators survive a restart, and any edit is detected.
//!
//! The nonce makes every issued iterator a new string, as AWS's are: two GetRecords answers at
//! the same position in the same millisecond (an idle shard polled quickly) would otherwise
//! hand back the same NextShardIterator. It is a counter per process starting at a random
//! value, so it never repeats within a process and (with overwhelming odds) does not collide
//! with another node's in cluster mode. Iterators without one (issued before it existed) still
//! decode.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;

const HEADER: [u8; 8] = [0, 0, 0, 0, 0, 0, 0, 1];
const TAG_LEN: usize = 16;
/// Fixed fields after the header: stream id, shard index, position, issue time, name length.
const FIXED_LEN: usize = 29;
const NONCE_LEN: usize = 8;

/// The next iterator nonce.
static NONCE: LazyLock<AtomicU64> = LazyLock::new(|| AtomicU64::new(rand::random()));

fn next_nonce() -> u64 {
    NONCE.fetch_add(1, Ordering::Relaxed)
}

/// Signs and verifies opaque tokens.
#[derive(Clone)]
pub struct Signer {
    /// The MAC with the key already absorbed, cloned per token: keying a fresh one costs two
    /// extra SHA-256 blocks, and every GetRecords opens one token and seals another.
    keyed: Hmac<Sha256>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer(..)")
    }
}

impl Signer {
    pub fn new(key: [u8; 32]) -> Self {
        Signer {
            keyed: Hmac::<Sha256>::new_from_slice(&key).expect("any key length works"),
        }
    }

    fn tag(&self, data: &[u8]) -> [u8; TAG_LEN] {
        let mut mac = self.keyed.clone();
        mac.update(data);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(&full[..TAG_LEN]);
        out
    }

    /// base64(data ‖ tag)
    pub fn seal(&self, mut data: Vec<u8>) -> String {
        let tag = self.tag(&data);
        data.extend_from_slice(&tag);
        aws_smithy_types::base64::encode(&data)
    }

    /// The data of a token sealed by `seal`, or `None` when it was not ours or was altered.
    pub fn open(&self, token: &str) -> Option<Vec<u8>> {
        let mut bytes = aws_smithy_types::base64::decode(token).ok()?;
        if bytes.len() < TAG_LEN {
            return None;
        }
        let tag_at = bytes.len() - TAG_LEN;
        let expected = self.tag(&bytes[..tag_at]);
        // Constant-time comparison is not needed for an emulator, but costs nothing.
        let diff = expected
            .iter()
            .zip(&bytes[tag_at..])
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff != 0 {
            return None;
        }
        bytes.truncate(tag_at);
        Some(bytes)
    }
}

/// Where a reader stands in a shard. Its text (`encode`) differs on every call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardIterator {
    pub stream_name: String,
    pub stream_id: u64,
    pub shard_index: u32,
    /// Position of the next record to return.
    pub position: u64,
    pub issued_ms: i64,
}

impl ShardIterator {
    pub fn encode(&self, signer: &Signer) -> String {
        let mut data =
            Vec::with_capacity(HEADER.len() + FIXED_LEN + self.stream_name.len() + NONCE_LEN);
        data.extend_from_slice(&HEADER);
        data.extend_from_slice(&self.stream_id.to_be_bytes());
        data.extend_from_slice(&self.shard_index.to_be_bytes());
        data.extend_from_slice(&self.position.to_be_bytes());
        data.extend_from_slice(&self.issued_ms.to_be_bytes());
        data.push(self.stream_name.len() as u8);
        data.extend_from_slice(self.stream_name.as_bytes());
        data.extend_from_slice(&next_nonce().to_be_bytes());
        signer.seal(data)
    }

    /// `None` for anything we did not issue. AWS also accepts an iterator wrapped in quotes.
    pub fn decode(text: &str, signer: &Signer) -> Option<ShardIterator> {
        let text = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(text);
        let data = signer.open(text)?;
        let rest = data.strip_prefix(&HEADER[..])?;
        if rest.len() < FIXED_LEN {
            return None;
        }
        let u64_at = |i: usize| u64::from_be_bytes(rest[i..i + 8].try_into().unwrap());
        let stream_id = u64_at(0);
        let shard_index = u32::from_be_bytes(rest[8..12].try_into().unwrap());
        let position = u64_at(12);
        let issued_ms = u64_at(20) as i64;
        let name_len = rest[28] as usize;
        let name_end = FIXED_LEN + name_len;
        let name = rest.get(FIXED_LEN..name_end)?;
        // The nonce only makes the text unique; an iterator from before it existed has none.
        if rest.len() != name_end && rest.len() != name_end + NONCE_LEN {
            return None;
        }
        Some(ShardIterator {
            stream_name: String::from_utf8(name.to_vec()).ok()?,
            stream_id,
            shard_index,
            position,
            issued_ms,
        })
    }
}

/// AWS's rendering of a time in ExpiredIteratorException: `Thu Jul 02 12:57:57 UTC 2015`.
pub fn amz_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%a %b %d %H:%M:%S UTC %Y").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn it() -> ShardIterator {
        ShardIterator {
            stream_name: "a".repeat(128),
            stream_id: 9,
            shard_index: 3,
            position: 77,
            issued_ms: 1_700_000_000_000,
        }
    }

    #[test]
    fn round_trip_shape_and_tamper() {
        let signer = Signer::new([7; 32]);
        let text = it().encode(&signer);
        assert!(text.len() <= 512);
        assert!(text.starts_with("AAAAAAAAAA"));
        assert!(matches!(text.as_bytes()[10], b'E'..=b'H'));
        assert_eq!(ShardIterator::decode(&text, &signer), Some(it()));
        assert_eq!(
            ShardIterator::decode(&format!("\"{text}\""), &signer),
            Some(it())
        );
        let mut bytes = text.clone().into_bytes();
        bytes[20] = if bytes[20] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            ShardIterator::decode(&String::from_utf8(bytes).unwrap(), &signer),
            None
        );
        assert_eq!(ShardIterator::decode(&text, &Signer::new([8; 32])), None);
        assert_eq!(ShardIterator::decode("garbage", &signer), None);
    }

    #[test]
    fn every_encoding_is_a_new_string() {
        let signer = Signer::new([7; 32]);
        let texts: std::collections::HashSet<String> =
            (0..1000).map(|_| it().encode(&signer)).collect();
        assert_eq!(texts.len(), 1000);
        for text in &texts {
            assert_eq!(ShardIterator::decode(text, &signer), Some(it()));
        }
    }

    #[test]
    fn iterators_without_a_nonce_still_decode() {
        // The layout before the nonce: header, fixed fields, name, then the tag.
        let signer = Signer::new([7; 32]);
        let it = it();
        let mut data = HEADER.to_vec();
        data.extend_from_slice(&it.stream_id.to_be_bytes());
        data.extend_from_slice(&it.shard_index.to_be_bytes());
        data.extend_from_slice(&it.position.to_be_bytes());
        data.extend_from_slice(&it.issued_ms.to_be_bytes());
        data.push(it.stream_name.len() as u8);
        data.extend_from_slice(it.stream_name.as_bytes());
        let text = signer.seal(data.clone());
        assert_eq!(ShardIterator::decode(&text, &signer), Some(it.clone()));
        // Any other trailing length is refused.
        data.extend_from_slice(&[0; 3]);
        assert_eq!(ShardIterator::decode(&signer.seal(data), &signer), None);
    }

    #[test]
    fn amz_time_format() {
        assert_eq!(amz_time(1435841877000), "Thu Jul 02 12:57:57 UTC 2015");
    }
}
