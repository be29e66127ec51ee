#!/usr/bin/env bash
# Regenerates scripts/layout/kinesd.order: the functions a release kinesd runs while it starts,
# idles and serves the common calls, which the linker places side by side (see build.rs).
#
# Why: the kernel maps a binary's code in 64 KiB windows around each page touched. Spread over
# 13 MB of code, start-up alone made 5.7 MB of it resident; packed together it is about 2 MB.
# Nothing breaks when the list is stale: functions it no longer names are placed as usual, so
# only the idle RSS creeps back up. Regenerate after large changes (needs valgrind, ~2 min).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p kinesd -p kinesd-bench
work=$(mktemp -d)
trap 'pkill -f "kinesd --port 14590" || true; rm -rf "$work"' EXIT
bench=target/release/kinesd-bench
valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/cg.out" \
  target/release/kinesd --port 14590 --data-dir "$work/data" >/dev/null 2>&1 &
"$bench" --endpoint 127.0.0.1:14590 wait-ready --timeout 120 >/dev/null
sleep 3 # idle: the background TLS set-up and the first idle settle
"$bench" --endpoint 127.0.0.1:14590 put-record --duration 20 --warmup 0 --max-ops 2000 >/dev/null
"$bench" --endpoint 127.0.0.1:14590 put-records --duration 3 --warmup 0 >/dev/null
"$bench" --endpoint 127.0.0.1:14590 get-records --records 5000 >/dev/null
"$bench" --endpoint 127.0.0.1:14590 latency --samples 50 >/dev/null
"$bench" --endpoint 127.0.0.1:14590 subscribe-latency >/dev/null
sleep 2
pkill -TERM -f "kinesd --port 14590"
while pgrep -f "kinesd --port 14590" >/dev/null; do sleep 0.5; done
# Every function callgrind saw run that is a symbol of the binary, in name order (the order
# within the packed run does not matter for residency).
grep -oE '^c?fn=\([0-9]+\) .*' "$work/cg.out" | sed -E 's/^c?fn=\([0-9]+\) //' | sort -u >"$work/ran"
nm --defined-only target/release/kinesd | awk '$2 ~ /^[tTwW]$/ {print $3}' | sort -u >"$work/symbols"
comm -12 "$work/ran" "$work/symbols" >scripts/layout/kinesd.order
echo "scripts/layout/kinesd.order: $(wc -l <scripts/layout/kinesd.order) functions"
