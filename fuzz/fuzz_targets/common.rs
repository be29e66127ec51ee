//! Shared by `decode_json`, `decode_cbor` and the replay test (`tests/fuzz_replay.rs`): the first byte picks the request type (its value
//! modulo 6, so the ASCII digits '0'..='5' in the seeds read as 0..=5), the rest is the body.
//!
//! Invariants checked besides "does not panic": a rejected body is a client error
//! (SerializationException or ValidationException, status 400) whose rendered error body is
//! well-formed, and an accepted one can be printed.

use kinesd::protocol::model::{
    CreateStreamInput, GetShardIteratorInput, ListShardsInput, PutRecordInput, PutRecordsInput,
    SubscribeToShardInput,
};
use kinesd::protocol::{decode, render_error, Encoding};

macro_rules! check {
    ($ty:ty, $encoding:expr, $body:expr) => {
        match decode::<$ty>($encoding, $body) {
            Ok(input) => {
                let _ = format!("{input:?}");
            }
            Err(e) => {
                assert!(
                    matches!(
                        e.type_name(),
                        "SerializationException" | "ValidationException"
                    ),
                    "unexpected error for a bad body: {e:?}"
                );
                assert_eq!(e.status(), 400);
                let body = render_error($encoding, &e);
                assert!(!body.is_empty());
                if $encoding == Encoding::Json {
                    let v: serde_json::Value =
                        serde_json::from_slice(&body).expect("error body is JSON");
                    assert_eq!(v["__type"], e.type_name());
                }
            }
        }
    };
}

pub fn run(encoding: Encoding, data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    match selector % 6 {
        0 => check!(PutRecordsInput, encoding, body),
        1 => check!(PutRecordInput, encoding, body),
        2 => check!(GetShardIteratorInput, encoding, body),
        3 => check!(ListShardsInput, encoding, body),
        4 => check!(CreateStreamInput, encoding, body),
        _ => check!(SubscribeToShardInput, encoding, body),
    }
}
