//! `protocol::decode` of `application/x-amz-json-1.1` bodies (serde_json, our Blob/Timestamp
//! visitors, Coral validation, error rendering).
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    common::run(kinesd::protocol::Encoding::Json, data);
});
