#!/usr/bin/env bash
# Coverage-guided fuzzing of the request decoders and opaque tokens (cargo-fuzz / libFuzzer).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Runs each target (default: all of `decode_json decode_cbor iterator request_front`) for SECONDS (default 60),
# one at a time on one core, with overflow checks and (by default) AddressSanitizer. Before
# fuzzing, each target replays its saved crashes in fuzz/regressions/TARGET/. The corpus grows in
# fuzz/corpus/TARGET (ignored by git) from the seeds in fuzz/seeds/TARGET; a crash is written to
# fuzz/artifacts/TARGET/ and stops the script.
#
# Works on a stable toolchain: cargo-fuzz needs nightly flags, which RUSTC_BOOTSTRAP=1 unlocks.
# FUZZ_SANITIZER=none skips AddressSanitizer (faster; safe Rust gains little from it).
# Not part of `cargo test` or CI.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH="${1:-60}"
shift || true
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=(decode_json decode_cbor iterator request_front)
SANITIZER="${FUZZ_SANITIZER:-address}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi
if ! rustc --version | grep -q nightly; then
    export RUSTC_BOOTSTRAP=1
fi

for target in "${TARGETS[@]}"; do
    mkdir -p "fuzz/corpus/$target"
    if [[ -d "fuzz/seeds/$target" ]]; then
        cp -n "fuzz/seeds/$target"/* "fuzz/corpus/$target/" 2>/dev/null || true
    fi
    shopt -s nullglob
    regressions=("fuzz/regressions/$target"/*)
    shopt -u nullglob
    if [[ ${#regressions[@]} -gt 0 ]]; then
        echo "fuzz: $target: replaying ${#regressions[@]} regression input(s)" >&2
        cargo fuzz run --sanitizer "$SANITIZER" --debug-assertions "$target" "${regressions[@]}"
    fi
    echo "fuzz: $target: ${SECONDS_EACH}s" >&2
    # libFuzzer's default is one process fuzzing on one core; `-jobs=1 -workers=1` would only
    # fork that same single run into a child that logs to ./fuzz-0.log.
    nice cargo fuzz run --sanitizer "$SANITIZER" --debug-assertions "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
done
