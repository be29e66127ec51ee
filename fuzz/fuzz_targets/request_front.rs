//! The request front: host policy, content type, target, signature presence and body checks
//! (`protocol::host`, `protocol::request`) with what a client sends. See `front.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod front;

fuzz_target!(|data: &[u8]| {
    front::run(data);
});
