//! Every fuzz seed and every input that once crashed a fuzz target (`fuzz/seeds/<target>/`,
//! `fuzz/regressions/<target>/`) replayed through the very checks the targets run, under
//! `cargo test`, so a regression fails CI without cargo-fuzz or a nightly toolchain.

// The fuzz crate builds on its own (libFuzzer); its checks are plain functions, included here
// from their files so the test and the targets can never disagree.
#[path = "../fuzz/fuzz_targets/common.rs"]
mod decode_checks;
#[path = "../fuzz/fuzz_targets/front.rs"]
mod front_checks;
#[path = "../fuzz/fuzz_targets/tokens.rs"]
mod token_checks;

use kinesd::protocol::Encoding;
use std::path::{Path, PathBuf};

/// The files of `fuzz/<kind>/<target>/`, sorted; `README.md` files are notes, not inputs.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("read a fuzz input directory").path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    files
}

/// Runs `check` on every seed and regression of `target`; there must be seeds.
fn replay(target: &str, check: impl Fn(&[u8])) {
    let seeds = inputs("seeds", target);
    assert!(
        !seeds.is_empty(),
        "no seeds in fuzz/seeds/{target}: the replay would test nothing"
    );
    for path in seeds.iter().chain(&inputs("regressions", target)) {
        let data = std::fs::read(path).expect("read a fuzz input");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&data)));
        assert!(
            outcome.is_ok(),
            "{} makes the {target} checks panic",
            path.display()
        );
    }
}

#[test]
fn json_decoder_seeds_and_regressions() {
    replay("decode_json", |data| {
        decode_checks::run(Encoding::Json, data)
    });
}

#[test]
fn cbor_decoder_seeds_and_regressions() {
    replay("decode_cbor", |data| {
        decode_checks::run(Encoding::Cbor, data)
    });
}

#[test]
fn token_seeds_and_regressions() {
    replay("iterator", token_checks::run);
}

#[test]
fn request_front_seeds_and_regressions() {
    replay("request_front", front_checks::run);
}
