//! `protocol::decode` of `application/x-amz-cbor-1.1` bodies (ciborium, tags, blobs as byte
//! strings, millisecond timestamps, Coral validation, error rendering).
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    common::run(kinesd::protocol::Encoding::Cbor, data);
});
