//! Opaque tokens and identifiers a client hands back (see `tokens.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

mod tokens;

fuzz_target!(|data: &[u8]| {
    tokens::run(data);
});
