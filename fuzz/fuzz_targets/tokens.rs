//! Shared by the `iterator` target and the replay test (`tests/fuzz_replay.rs`): opaque tokens
//! and identifiers a client hands back — shard iterators and sealed tokens (`Signer::open`),
//! sequence numbers and shard ids.
//!
//! Arbitrary text almost never passes the HMAC, so the input is also sealed with the fixed
//! key before decoding: that drives `ShardIterator::decode`'s payload parser with any bytes.

use kinesd::streams::iterator::{amz_time, ShardIterator, Signer};
use kinesd::streams::sequence::{parse_shard_id, shard_id, SequenceNumber};

const KEY: [u8; 32] = [0x5a; 32];

pub fn run(data: &[u8]) {
    let signer = Signer::new(KEY);
    let text = String::from_utf8_lossy(data);

    // As a client would send them: arbitrary text.
    if let Some(it) = ShardIterator::decode(&text, &signer) {
        assert_eq!(
            ShardIterator::decode(&it.encode(&signer), &signer),
            Some(it)
        );
    }
    let _ = signer.open(&text);
    if let Ok(n) = text.parse::<SequenceNumber>() {
        // A number we accept is one we could have written: it prints back to the same text.
        assert_eq!(n.to_string(), text);
    }
    if let Some(i) = parse_shard_id(&text) {
        assert_eq!(parse_shard_id(&shard_id(i)), Some(i));
    }

    // Past the HMAC: arbitrary bytes as a sealed payload.
    let sealed = signer.seal(data.to_vec());
    assert_eq!(signer.open(&sealed).as_deref(), Some(data));
    let quoted = format!("\"{sealed}\"");
    let it = ShardIterator::decode(&sealed, &signer);
    assert_eq!(ShardIterator::decode(&quoted, &signer), it);
    if let Some(it) = it {
        // Decoding is exact: re-encoding gives a token (with a fresh nonce, so a different
        // string) that decodes to the very same iterator.
        assert_eq!(
            ShardIterator::decode(&it.encode(&signer), &signer),
            Some(it.clone())
        );
        let _ = amz_time(it.issued_ms);
    }
    // Another key never opens it.
    assert_eq!(Signer::new([0xa5; 32]).open(&sealed), None);
}
