#!/usr/bin/env bash
# Failure tests of kinesd's cluster mode: three NATS JetStream servers (n1..n3) and two kinesd
# gateways (kinesd1 on 4567, kinesd2 on 4568), started with scripts/cluster.sh, and five
# scenarios run against them in order:
#
#   1 leader-kill     8 writers (retries off) through both gateways; kill -9 the JetStream
#                     leader of the shard 5 s in; every acknowledged record must read back at
#                     its acknowledged sequence number, none twice; writes stall < 10 s
#   2 gateway-kill    a writer and a reader on kinesd2; kill -9 kinesd1: kinesd2's clients see
#                     no error for 5 s and read every record written
#   3 nats-down       kill all three NATS servers: PutRecord, ListStreams, GetRecords answer
#                     503/500 within 30 s (none hangs); NATS back: PutRecord succeeds within
#                     60 s, kinesd not restarted
#   4 restart-all     stop everything, start again on the same data: every record acknowledged
#                     in 1-3, the streams, a consumer and a tag are all still there
#   5 nats-unreachable-at-start
#                     a kinesd pointed at a port nothing listens on logs the URL, says it
#                     retries, and keeps running
#
# Every scenario prints one `PASS name: figures` or `FAIL name: figures` line; the script exits
# 1 if any failed (2 if the test itself could not run). The cluster is always stopped at the
# end; its directory (logs of every process, the load's JSON results) is kept for inspection
# and wiped at the next run.
#
# Usage: scripts/cluster-failures.sh
# Settings, from the environment (defaults in brackets):
#   FAILURES_DIR   the cluster directory, under /tmp [/tmp/kinesd-cluster-failures]
#   KINESD_BIN     the kinesd binary [target/release/kinesd of this checkout]
# The ports are cluster.sh's defaults (NATS 4222-4224, monitoring 8222-8224, gateways
# 4567/4568) plus 4570 and 4999 for scenario 5; the script stops if one is taken.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLUSTER=$REPO/scripts/cluster.sh
HELPER=$REPO/scripts/cluster_load.py

# Our own cluster directory, never cluster.sh's default one (another cluster may live there).
export KINESD_CLUSTER_DIR=${FAILURES_DIR:-/tmp/kinesd-cluster-failures}
[[ $KINESD_CLUSTER_DIR == /tmp/?* ]] || { echo "FAILURES_DIR must be under /tmp" >&2; exit 2; }
export KINESD_BIN=${KINESD_BIN:-$REPO/target/release/kinesd}
# cluster.sh reads these too: pin them so a caller's environment cannot move the ports.
export NATS_PORTS="4222 4223 4224" NATS_CLUSTER_PORTS="6222 6223 6224"
export NATS_MONITOR_PORTS="8222 8223 8224" KINESD_PORTS="4567 4568"
unset KINESD_STORE_ARGS KINESD_EXTRA_ARGS
export AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_DEFAULT_REGION=us-east-1
export PYTHONUNBUFFERED=1

GW1=http://127.0.0.1:4567
GW2=http://127.0.0.1:4568
MONITOR=8222,8223,8224
LONE_PORT=4570       # scenario 5's kinesd
DEAD_PORT=4999       # scenario 5's NATS URL: nothing may listen there
RES=$KINESD_CLUSTER_DIR/results
MARK=$KINESD_CLUSTER_DIR/.cluster-failures
S1=failover-leader   # scenario 1's stream (scenario 3 writes to it too)
S2=failover-gateway  # scenario 2's stream
CONSUMER=failover-consumer
TAG=suite=cluster-failures

say() { printf '%s\n' "$*"; }
info() { printf '  %s\n' "$*"; }
# The test itself cannot go on (not a finding about kinesd): exit 2.
die() { printf 'cluster-failures: error: %s\n' "$*" >&2; exit 2; }

# Every helper call is bounded: a hung client must not hang the suite.
py() { # seconds subcommand args...
    local limit=$1
    shift
    timeout --kill-after=5 "$limit" python3 "$HELPER" "$@"
}

# The same in the background; BG_PID is timeout's own pid (a plain command run with & is
# exec'd, no wrapper shell), so killing it ends the helper too.
BG_PID=''
py_bg() { # seconds subcommand args...
    local limit=$1
    shift
    timeout --kill-after=5 "$limit" python3 "$HELPER" "$@" &
    BG_PID=$!
    BG_PIDS+=("$BG_PID")
}

# --- always clean up ------------------------------------------------------------------------

BG_PIDS=()   # background loads still running
LONE_PID=''  # scenario 5's kinesd
cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    for pid in "${BG_PIDS[@]+"${BG_PIDS[@]}"}"; do kill "$pid" 2>/dev/null || true; done
    if [[ -n $LONE_PID ]]; then kill -KILL "$LONE_PID" 2>/dev/null || true; fi
    if [[ -f $MARK ]]; then
        say "stopping the cluster (logs kept in $KINESD_CLUSTER_DIR)"
        "$CLUSTER" stop 2>&1 | sed 's/^/  /' || true
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- scenario bookkeeping -------------------------------------------------------------------

SUMMARY=()    # one PASS/FAIL line per scenario, repeated at the end
FAILURES=0
SC_NAME='' SC_OK=1 SC_FIG='' SC_T0=0
declare -A LOG_MARK=()

begin() { # name description
    SC_NAME=$1 SC_OK=1 SC_T0=$SECONDS
    SC_FIG=$RES/$1.figures
    : >"$SC_FIG"
    # Where each kinesd log stands, to show only this scenario's lines on failure.
    local n
    for n in kinesd1 kinesd2; do
        LOG_MARK[$n]=$(wc -l <"$KINESD_CLUSTER_DIR/$n/log" 2>/dev/null || echo 0)
    done
    say ""
    say "=== $1: $2"
}

fail() { info "FAIL: $*"; SC_OK=0; }
figure() { printf '%s\n' "$*" >>"$SC_FIG"; }

# Runs one check of the helper; its failure fails the scenario, not the script.
check() { # seconds subcommand args...
    local rc=0
    py "$@" || rc=$?
    case $rc in
        0) ;;
        124 | 137) fail "helper '$2' timed out after $1 s" ;;
        *) SC_OK=0 ;;
    esac
}

# The warnings and errors the gateways logged during the scenario: the evidence of a failure.
show_logs() {
    local n log from
    for n in kinesd1 kinesd2; do
        log=$KINESD_CLUSTER_DIR/$n/log
        [[ -f $log ]] || continue
        from=$((${LOG_MARK[$n]:-0} + 1))
        info "$n log ($log from line $from), WARN/ERROR lines, repeats folded:"
        tail -n "+$from" "$log" | grep -E ' (WARN|ERROR) |cluster.sh: starting' |
            sed -E 's/^[0-9T:.-]+Z //' | uniq -c | head -n 25 | sed 's/^/      /' || true
    done
}

finish() {
    local figures line
    figures=$(paste -sd '|' "$SC_FIG" | sed 's/|/; /g')
    if ((SC_OK)); then
        line="PASS $SC_NAME: ${figures:-ok} ($((SECONDS - SC_T0)) s)"
    else
        line="FAIL $SC_NAME: ${figures:-see above} ($((SECONDS - SC_T0)) s)"
        FAILURES=$((FAILURES + 1))
        show_logs
    fi
    say "$line"
    SUMMARY+=("$line")
}

now() { date +%s.%N; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# cluster.sh start without its closing banner (errors and log tails kept); fails as it does.
start_cluster() {
    "$CLUSTER" start 2>&1 | sed -e '/^kinesd cluster running/,$d' -e '/^$/d' -e 's/^/  /'
}

# --- set-up ---------------------------------------------------------------------------------

setup() {
    [[ -x $KINESD_BIN ]] ||
        die "no kinesd binary at $KINESD_BIN (cargo build --release, or set KINESD_BIN)"
    command -v nats-server >/dev/null || die "nats-server is not on PATH"
    python3 -c 'import boto3' 2>/dev/null || die "python3 cannot import boto3"
    # A previous run's cluster (interrupted, or kept for its logs): stop it, wipe its data.
    if [[ -d $KINESD_CLUSTER_DIR ]]; then
        [[ -f $MARK ]] || die "$KINESD_CLUSTER_DIR exists and is not this script's: not touching it"
        "$CLUSTER" stop >/dev/null 2>&1 || true
        rm -rf "$KINESD_CLUSTER_DIR"
    fi
    local p
    for p in 4222 4223 4224 6222 6223 6224 8222 8223 8224 4567 4568 $LONE_PORT $DEAD_PORT; do
        port_free "$p" || die "port $p on 127.0.0.1 is in use (another cluster running?)"
    done
    mkdir -p "$RES"
    touch "$MARK"
    say "starting the cluster in $KINESD_CLUSTER_DIR ($KINESD_BIN)"
    # cluster.sh waits (bounded by its READY_TIMEOUT) for every server and gateway.
    start_cluster || die "cluster.sh start failed"
    "$CLUSTER" status >/dev/null || die "not every process is running after start"
}

# --- 1: leader-kill -------------------------------------------------------------------------

LOAD_SECONDS=20
KILL_AFTER=5
MAX_STALL=10

scenario_leader_kill() {
    begin leader-kill "kill -9 the JetStream leader of a shard under load"
    local js leader kill_at load_pid rc=0
    # The probe record creates the shard's JetStream stream (kinesd creates it on the first
    # write), so it has a leader to find before the load begins.
    js=$(py 60 create --endpoint "$GW1" --stream "$S1" --acks "$RES/s1-probe.json" \
        --consumer "$CONSUMER" --tag "$TAG") || die "could not create stream $S1"
    info "stream $S1: shard 0 is JetStream stream $js; consumer and tag added"
    # Bounded: LOAD_SECONDS of writes, then each call stops at its 30 s read timeout.
    py_bg $((LOAD_SECONDS + 70)) load --endpoints "$GW1,$GW2" --stream "$S1" --threads 8 \
        --duration "$LOAD_SECONDS" --prefix lk --out "$RES/s1-load.json"
    load_pid=$BG_PID
    sleep "$KILL_AFTER"
    # Looked up at kill time: the leader may have moved since the stream was created.
    if leader=$(py 20 leader --name "$js" --monitor "$MONITOR"); then
        kill_at=$(now)
        "$CLUSTER" kill "$leader" | sed 's/^/  /'
    else
        fail "no leader found for $js: nothing killed"
        kill_at=$(now)
    fi
    wait "$load_pid" || rc=$?
    BG_PIDS=()
    ((rc == 0)) || fail "the load exited with status $rc"
    if [[ -n ${leader:-} ]]; then
        "$CLUSTER" restart "$leader" | sed 's/^/  /' || die "could not restart $leader"
    fi
    check 30 check --results "$RES/s1-load.json" --event-at "$kill_at" \
        --max-gap "$MAX_STALL" --summary "$SC_FIG"
    # Through the other gateway: what kinesd1 acknowledged, kinesd2 must read.
    check 90 verify --endpoint "$GW2" --stream "$S1" --acks "$RES/s1-probe.json" \
        --acks "$RES/s1-load.json" --summary "$SC_FIG"
    finish
}

# --- 2: gateway-kill ------------------------------------------------------------------------

scenario_gateway_kill() {
    begin gateway-kill "kill -9 kinesd1 while a writer and a reader use kinesd2"
    local kill_at load_pid rc=0
    py 60 create --endpoint "$GW2" --stream "$S2" --acks "$RES/s2-probe.json" >/dev/null ||
        die "could not create stream $S2"
    # 12 s of load, the kill 4 s in: the 5 s window after it lies well inside the load.
    py_bg 75 load --endpoints "$GW2" --stream "$S2" --threads 2 --duration 12 --interval 0.05 \
        --prefix gk --reader "$GW2" --out "$RES/s2-load.json"
    load_pid=$BG_PID
    sleep 4
    kill_at=$(now)
    "$CLUSTER" kill kinesd1 | sed 's/^/  /'
    wait "$load_pid" || rc=$?
    BG_PIDS=()
    ((rc == 0)) || fail "the load exited with status $rc"
    check 30 check --results "$RES/s2-load.json" --event-at "$kill_at" --quiet-window 5 \
        --reader-sees-all --summary "$SC_FIG"
    check 90 verify --endpoint "$GW2" --stream "$S2" --acks "$RES/s2-probe.json" \
        --acks "$RES/s2-load.json" --summary "$SC_FIG"
    "$CLUSTER" restart kinesd1 | sed 's/^/  /' || die "could not restart kinesd1"
    finish
}

# --- 3: nats-down ---------------------------------------------------------------------------

scenario_nats_down() {
    begin nats-down "all three NATS servers killed, then back"
    local iterator n
    # Taken while the cluster is up: GetRecords is then the call under test, not the iterator.
    iterator=$(py 60 iterator --endpoint "$GW1" --stream "$S1") ||
        die "could not get a shard iterator of $S1"
    for n in n1 n2 n3; do "$CLUSTER" kill "$n" | sed 's/^/  /'; done
    # All six calls at once (three operations x two gateways), each with the writers' client
    # settings: no retry, 30 s read timeout. A hang shows as a ReadTimeoutError.
    check 60 probe --endpoints "$GW1,$GW2" --stream "$S1" --iterator "$iterator" \
        --read-timeout 30 --limit 30 --summary "$SC_FIG"
    for n in n1 n2 n3; do
        "$CLUSTER" restart "$n" | sed 's/^/  /' || die "could not restart $n"
    done
    # The gateways are not restarted: they must reconnect on their own. The helper stops
    # sending at 60 s; one call may then still take its 30 s read timeout.
    check 100 recover --endpoint "$GW1" --stream "$S1" --within 60 \
        --acks "$RES/s3-recover.json" --summary "$SC_FIG"
    [[ -f $RES/s3-recover.json ]] || printf '{"acks": [], "errors": []}' >"$RES/s3-recover.json"
    finish
}

# --- 4: restart-all -------------------------------------------------------------------------

scenario_restart_all() {
    begin restart-all "stop everything, start again on the same data"
    "$CLUSTER" stop | sed 's/^/  /'
    if ! start_cluster || ! "$CLUSTER" status >/dev/null; then
        fail "the cluster did not start again on its data"
        figure "cluster did not restart"
        finish
        return
    fi
    # Informational: how long a just-started gateway takes over its first control-plane call.
    check 60 first-call --endpoints "$GW1,$GW2" --summary "$SC_FIG"
    check 90 verify --endpoint "$GW1" --stream "$S1" --acks "$RES/s1-probe.json" \
        --acks "$RES/s1-load.json" --acks "$RES/s3-recover.json" --summary "$SC_FIG"
    check 90 verify --endpoint "$GW2" --stream "$S2" --acks "$RES/s2-probe.json" \
        --acks "$RES/s2-load.json" --summary "$SC_FIG"
    check 60 meta --endpoint "$GW2" --stream "$S1" --streams "$S1" "$S2" \
        --consumer "$CONSUMER" --tag "$TAG" --summary "$SC_FIG"
    finish
}

# --- 5: nats-unreachable-at-start -----------------------------------------------------------

scenario_unreachable() {
    begin nats-unreachable-at-start "a kinesd whose NATS URL has nothing listening"
    local dir=$KINESD_CLUSTER_DIR/lone url=nats://127.0.0.1:$DEAD_PORT deadline named=0 tries
    mkdir -p "$dir"
    port_free "$DEAD_PORT" || die "port $DEAD_PORT is in use: the test needs nothing there"
    # In its own directory: kinesd keeps its generated TLS material in ./kinesd-data.
    (cd "$dir" && NO_COLOR=1 exec "$KINESD_BIN" --host 127.0.0.1 --port "$LONE_PORT" \
        --store "$url" </dev/null >"$dir/stdout" 2>"$dir/stderr") &
    LONE_PID=$!
    deadline=$((SECONDS + 10))
    while ((SECONDS < deadline)); do
        if grep -qF "$url" "$dir/stderr" && grep -qi 'retry' "$dir/stderr"; then
            named=1
            break
        fi
        kill -0 "$LONE_PID" 2>/dev/null || break
        sleep 0.25
    done
    # Give it a couple of its 2 s retry rounds before asking whether it is still up.
    sleep 4
    tries=$(grep -cF "$url" "$dir/stderr" || true)
    if ((named)); then
        info "stderr names $url and says it retries: $(grep -F "$url" "$dir/stderr" | head -n 1)"
    else
        fail "within 10 s stderr did not name $url and say it retries; stderr was:"
        sed 's/^/      /' "$dir/stderr" | head -n 10
    fi
    if kill -0 "$LONE_PID" 2>/dev/null; then
        info "still running after $((SECONDS - SC_T0)) s ($tries log lines naming the URL)"
        figure "URL named: $([[ $named == 1 ]] && echo yes || echo no); running after" \
            "$((SECONDS - SC_T0)) s; $tries attempts logged"
        kill -TERM "$LONE_PID"
        deadline=$((SECONDS + 10))
        while kill -0 "$LONE_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
        kill -KILL "$LONE_PID" 2>/dev/null || true
    else
        local rc=0
        wait "$LONE_PID" || rc=$?
        fail "kinesd exited (status $rc) instead of retrying"
        figure "exited with status $rc"
    fi
    wait "$LONE_PID" 2>/dev/null || true
    LONE_PID=''
    finish
}

# --- main -----------------------------------------------------------------------------------

T0=$SECONDS
setup
scenario_leader_kill
scenario_gateway_kill
scenario_nats_down
scenario_restart_all
scenario_unreachable

say ""
say "=== summary ($((SECONDS - T0)) s; logs and results in $KINESD_CLUSTER_DIR)"
for line in "${SUMMARY[@]}"; do say "$line"; done
if ((FAILURES)); then
    say "$FAILURES of ${#SUMMARY[@]} scenarios FAILED"
    exit 1
fi
say "all ${#SUMMARY[@]} scenarios passed"
