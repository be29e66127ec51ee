#!/usr/bin/env python3
"""Load and verification for scripts/cluster-failures.sh (failure tests of cluster mode).

Subcommands (each prints what it found; exit status 0 = the check passed, 1 = it failed,
2 = the check could not be run):

  create    create a stream, wait until ACTIVE, put one probe record (which also creates the
            shard's JetStream stream, kinesd makes it on the first write), optionally register
            a consumer and add a tag; prints the JetStream stream name of shard 0
  leader    the server (n1..n3) leading a JetStream stream, from the monitoring endpoints
  load      N writer threads PutRecord unique payloads for D seconds, alternating between
            gateways, retries disabled; optionally one reader thread following the shard;
            writes every acknowledgement and error to a JSON file
  check     judges a load's results file: stall (max gap between acknowledgements), errors
            inside a window after an event (a kill)
  verify    reads the whole stream back (TRIM_HORIZON, GetRecords until empty) and checks every
            acknowledged payload is there once, at its acknowledged sequence number
  probe     PutRecord, ListStreams and GetRecords at once, each timed; all must answer with
            503 ServiceUnavailable or 500 InternalFailure within a bound (NATS down)
  recover   PutRecord until one is acknowledged, within a bound (NATS back)
  meta      the stream, a consumer and a tag are all still there

Clients: boto3, dummy credentials. Writers and probes disable retries: botocore's
`retries={'max_attempts': 1}` means ONE RETRY (max_attempts counts retries, not attempts:
botocore turns it into total_max_attempts=2), which would resend a payload after a 503 or a
read timeout and could store it twice. `total_max_attempts: 1` is the setting that sends each
request exactly once.
"""

import argparse
import json
import sys
import threading
import time
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"
# Exactly one attempt per request (see the module docstring).
NO_RETRIES = {"total_max_attempts": 1}
# For reads that only collect evidence: a transient 503 must not spoil the evidence.
READ_RETRIES = {"total_max_attempts": 6, "mode": "standard"}


def client(endpoint, retries=None, read_timeout=30, connect_timeout=5):
    # One session per client: boto3's default session is not safe to share between threads
    # while clients are created.
    session = boto3.session.Session(
        aws_access_key_id="x", aws_secret_access_key="x", region_name=REGION
    )
    config = Config(
        retries=dict(retries or NO_RETRIES),
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=4,
    )
    return session.client("kinesis", endpoint_url=endpoint, config=config)


def describe_error(e):
    """(http status or None, error code, message) of an exception from a call."""
    if isinstance(e, ClientError):
        meta = e.response.get("ResponseMetadata", {})
        err = e.response.get("Error", {})
        return meta.get("HTTPStatusCode"), err.get("Code", "?"), err.get("Message", "")
    return None, type(e).__name__, str(e)[:200]


def log(msg):
    print(f"  {msg}", flush=True)


def stream_id_of(sequence_number):
    # kinesd's 56-digit sequence numbers: '4' . stream id (14) . shard (8) . position (20)
    # . arrival ms (13) (src/streams/sequence.rs).
    return int(sequence_number[1:15]), int(sequence_number[15:23])


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f)


def read_json(path):
    with open(path) as f:
        return json.load(f)


def fmt_t(t, origin):
    return f"t+{t - origin:.1f}s" if origin else f"{t:.3f}"


# --- create ---------------------------------------------------------------------------------


def cmd_create(a):
    c = client(a.endpoint, READ_RETRIES)
    c.create_stream(StreamName=a.stream, ShardCount=a.shards)
    deadline = time.time() + 30
    while True:
        status = c.describe_stream_summary(StreamName=a.stream)["StreamDescriptionSummary"]
        if status["StreamStatus"] == "ACTIVE":
            break
        if time.time() > deadline:
            log(f"stream {a.stream} not ACTIVE after 30 s ({status['StreamStatus']})")
            return 2
        time.sleep(0.2)
    payload = f"probe-{a.stream}"
    t0 = time.time()
    r = c.put_record(StreamName=a.stream, Data=payload.encode(), PartitionKey=payload)
    ack = {"payload": payload, "seq": r["SequenceNumber"], "shard": r["ShardId"],
           "gw": a.endpoint, "sent": t0, "acked": time.time()}
    write_json(a.acks, {"acks": [ack], "errors": []})
    stream_id, shard = stream_id_of(r["SequenceNumber"])
    arn = status["StreamARN"]
    if a.consumer:
        c.register_stream_consumer(StreamARN=arn, ConsumerName=a.consumer)
    if a.tag:
        key, _, value = a.tag.partition("=")
        c.add_tags_to_stream(StreamName=a.stream, Tags={key: value})
    # stdout: the JetStream stream of the probe's shard, for the caller.
    print(f"{a.namespace}_{stream_id}_{shard}")
    return 0


# --- leader ---------------------------------------------------------------------------------


def jsz_streams(port):
    """Stream details a server reports: on 2.15 `/jsz?streams=true&accounts=true` lists them
    under account_details[].stream_detail[], each with cluster.leader once it has one."""
    url = f"http://127.0.0.1:{port}/jsz?accounts=true&streams=true"
    with urllib.request.urlopen(url, timeout=3) as r:
        doc = json.load(r)
    for account in doc.get("account_details") or []:
        for s in account.get("stream_detail") or []:
            yield s


def cmd_leader(a):
    """The stream's leader, as the monitoring endpoints say; several servers must agree (one
    that just lost the leader can still name it for a moment)."""
    deadline = time.time() + a.timeout
    last = None
    while time.time() < deadline:
        seen = {}
        for port in a.monitor.split(","):
            try:
                for s in jsz_streams(port):
                    if s.get("name") == a.name:
                        seen[port] = (s.get("cluster") or {}).get("leader")
            except OSError:
                continue  # this server is down
        leaders = {v for v in seen.values() if v}
        if len(leaders) == 1 and len(seen) >= 1:
            leader = leaders.pop()
            print(leader)
            print(f"  leader of {a.name}: {leader} (as reported by monitor ports "
                  f"{','.join(sorted(seen))})", file=sys.stderr)
            return 0
        last = seen
        time.sleep(0.3)
    print(f"  no single leader for {a.name} within {a.timeout} s (last seen: {last})",
          file=sys.stderr)
    return 2


# --- load -----------------------------------------------------------------------------------


def cmd_load(a):
    endpoints = a.endpoints.split(",")
    acks, errors, reads = [], [], {"seen": {}, "errors": [], "calls": 0}
    lock = threading.Lock()
    start = time.time()
    stop = start + a.duration

    def writer(i):
        clients = [client(e) for e in endpoints]
        n = 0
        while time.time() < stop:
            payload = f"{a.prefix}-w{i}-{n:06d}"
            gw = (i + n) % len(clients)  # alternate gateways, request by request
            n += 1
            t0 = time.time()
            try:
                r = clients[gw].put_record(
                    StreamName=a.stream, Data=payload.encode(), PartitionKey=payload
                )
                with lock:
                    acks.append({"payload": payload, "seq": r["SequenceNumber"],
                                 "shard": r["ShardId"], "gw": endpoints[gw],
                                 "sent": t0, "acked": time.time()})
            except Exception as e:  # noqa: BLE001 - every failure is evidence
                status, code, msg = describe_error(e)
                with lock:
                    errors.append({"payload": payload, "gw": endpoints[gw], "status": status,
                                   "code": code, "msg": msg, "sent": t0, "at": time.time()})
                # Not the same payload again (the next one is new); a short pause keeps a
                # refused connection from spinning.
                time.sleep(0.1)
            if a.interval:
                time.sleep(a.interval)

    def reader():
        # Follows shard 0 from TRIM_HORIZON through its own gateway, the way a consumer
        # would, retries disabled: an error is reported, not hidden.
        c = client(a.reader)
        it = None
        catch_up_until = None
        while True:
            now = time.time()
            if now >= stop:
                # After the writers stop, read on until a read comes back empty (bounded).
                catch_up_until = catch_up_until or now + 15
                if now > catch_up_until:
                    break
            t0 = time.time()
            try:
                if it is None:
                    shard = c.list_shards(StreamName=a.stream)["Shards"][0]["ShardId"]
                    it = c.get_shard_iterator(StreamName=a.stream, ShardId=shard,
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
                r = c.get_records(ShardIterator=it, Limit=1000)
                with lock:
                    reads["calls"] += 1
                    for rec in r["Records"]:
                        reads["seen"][rec["Data"].decode()] = rec["SequenceNumber"]
                it = r.get("NextShardIterator") or it
                if catch_up_until and not r["Records"] and r.get("MillisBehindLatest", 0) == 0:
                    break
            except Exception as e:  # noqa: BLE001
                status, code, msg = describe_error(e)
                with lock:
                    reads["errors"].append({"status": status, "code": code, "msg": msg,
                                            "sent": t0, "at": time.time()})
                time.sleep(0.1)
            time.sleep(0.2)

    threads = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(a.threads)]
    if a.reader:
        threads.append(threading.Thread(target=reader, daemon=True))
    for t in threads:
        t.start()
    # Bounded: a request stops at its 30 s read timeout (plus 5 s to connect), the reader
    # catches up for at most 15 s; a thread still busy after that is reported as hung.
    join_deadline = stop + 45
    for t in threads:
        t.join(timeout=max(0.0, join_deadline - time.time()))
    hung = sum(t.is_alive() for t in threads)
    end = time.time()
    write_json(a.out, {"start": start, "stop": stop, "end": end, "endpoints": endpoints,
                       "acks": acks, "errors": errors, "reads": reads, "hung_threads": hung})
    log(f"load {a.prefix}: {len(acks)} acknowledged, {len(errors)} errors, "
        f"{a.threads} writers over {end - start:.1f} s"
        + (f", reader: {reads['calls']} GetRecords, {len(reads['seen'])} records seen, "
           f"{len(reads['errors'])} errors" if a.reader else "")
        + (f", {hung} threads still hung" if hung else ""))
    return 0


# --- check ----------------------------------------------------------------------------------


def summarize_errors(errors):
    counts = {}
    for e in errors:
        key = f"{e['status'] or '-'} {e['code']}"
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{n}x {k}" for k, n in sorted(counts.items())) or "none"


def cmd_check(a):
    res = read_json(a.results)
    acks, errors = res["acks"], res["errors"]
    origin = a.event_at or res["start"]
    ok = True
    figures = []
    if res.get("hung_threads"):
        log(f"FAIL: {res['hung_threads']} client threads were still waiting at the end")
        ok = False
    if a.max_gap is not None:
        # Gaps between consecutive acknowledgements across all writers, the load's start and
        # stop counted as acknowledgements: writes that never resumed show as a stall too.
        times = sorted([res["start"], res["stop"]] + [x["acked"] for x in acks])
        gap, at = max((b - t, t) for t, b in zip(times, times[1:]))
        figures.append(f"stall {gap:.1f}s")
        log(f"longest gap between acknowledgements: {gap:.2f} s, from {fmt_t(at, origin)} "
            f"to {fmt_t(at + gap, origin)} (times relative to the kill)")
        # The same per gateway: tells a stall of one gateway (its NATS connection was to the
        # killed server) from one of the shard (the leader election).
        for gw in res["endpoints"]:
            t = sorted([res["start"], res["stop"]] + [x["acked"] for x in acks if x["gw"] == gw])
            g, at_gw = max((b - u, u) for u, b in zip(t, t[1:]))
            log(f"  through {gw}: longest gap {g:.2f} s, from {fmt_t(at_gw, origin)}")
        if gap >= a.max_gap:
            log(f"FAIL: writes stalled {gap:.1f} s (limit {a.max_gap} s)")
            ok = False
        # The slowest acknowledged call: a call can hold while the cluster fails over.
        if acks:
            slow = max(acks, key=lambda x: x["acked"] - x["sent"])
            log(f"slowest acknowledged PutRecord: {slow['acked'] - slow['sent']:.2f} s "
                f"({slow['payload']} via {slow['gw']}, sent {fmt_t(slow['sent'], origin)})")
    log(f"writer errors: {len(errors)} ({summarize_errors(errors)})")
    for e in errors[: a.show]:
        log(f"  error {e['payload']} via {e['gw']}: {e['status']} {e['code']} after "
            f"{e['at'] - e['sent']:.1f} s (sent {fmt_t(e['sent'], origin)}) {e['msg'][:120]}")
    figures.append(f"{len(acks)} acks, {len(errors)} errors")
    if a.quiet_window is not None:
        w0, w1 = a.event_at, a.event_at + a.quiet_window
        # A request in flight at any moment of the window counts.
        bad = [e for e in errors if e["at"] >= w0 and e["sent"] <= w1]
        rbad = [e for e in res["reads"]["errors"] if e["at"] >= w0 and e["sent"] <= w1]
        in_window = [x for x in acks if w0 <= x["acked"] <= w1]
        log(f"in the {a.quiet_window:.0f} s after the kill: {len(in_window)} writes "
            f"acknowledged, {len(bad)} writer errors, {len(rbad)} reader errors")
        figures.append(f"{len(in_window)} acks/{len(bad) + len(rbad)} errors in the "
                       f"{a.quiet_window:.0f}s after the kill")
        for e in (bad + rbad)[: a.show]:
            log(f"  error: {e['status']} {e['code']} at {fmt_t(e['at'], origin)}: "
                f"{e['msg'][:120]}")
        if bad or rbad:
            log("FAIL: the surviving gateway's clients saw errors after the other was killed")
            ok = False
        if not in_window:
            log("FAIL: no write was acknowledged in the window (the writer made no progress)")
            ok = False
        if res["reads"]["errors"] and not rbad:
            log(f"reader errors outside the window: {len(res['reads']['errors'])}")
    if a.reader_sees_all:
        seen = res["reads"]["seen"]
        missing = [x for x in acks if seen.get(x["payload"]) != x["seq"]]
        log(f"reader followed the shard: {len(seen)} records seen, "
            f"{len(acks) - len(missing)}/{len(acks)} acknowledged writes seen at their "
            f"sequence number")
        figures.append(f"reader saw {len(acks) - len(missing)}/{len(acks)}")
        for x in missing[: a.show]:
            log(f"  not seen: {x['payload']} {x['seq']} (reader had {seen.get(x['payload'])})")
        if missing:
            log("FAIL: acknowledged records the reader never saw")
            ok = False
    if a.min_acks and len(acks) < a.min_acks:
        log(f"FAIL: only {len(acks)} writes acknowledged (expected at least {a.min_acks})")
        ok = False
    if a.summary:
        with open(a.summary, "a") as f:
            f.write("; ".join(figures) + "\n")
    return 0 if ok else 1


# --- verify ---------------------------------------------------------------------------------


def read_stream(c, stream):
    """Every record of every shard, in shard order: [(shard, seq, payload)]."""
    shards = c.list_shards(StreamName=stream)["Shards"]
    out = []
    for s in shards:
        it = c.get_shard_iterator(StreamName=stream, ShardId=s["ShardId"],
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        deadline = time.time() + 60
        while it and time.time() < deadline:
            r = c.get_records(ShardIterator=it, Limit=10000)
            for rec in r["Records"]:
                out.append((s["ShardId"], rec["SequenceNumber"], rec["Data"].decode()))
            it = r.get("NextShardIterator")
            if not r["Records"] and r.get("MillisBehindLatest", 0) == 0:
                break
        else:
            if it:
                raise RuntimeError(f"{s['ShardId']}: still reading after 60 s")
    return out


def cmd_verify(a):
    c = client(a.endpoint, READ_RETRIES)
    try:
        records = read_stream(c, a.stream)
    except Exception as e:  # noqa: BLE001
        status, code, msg = describe_error(e)
        log(f"FAIL: reading {a.stream} through {a.endpoint}: {status} {code} {msg}")
        if a.summary:
            with open(a.summary, "a") as f:
                f.write(f"read failed: {status} {code}\n")
        return 1
    acks = []
    for path in a.acks:
        acks.extend(read_json(path)["acks"])
    errored = set()
    for path in a.acks:
        errored.update(e["payload"] for e in read_json(path).get("errors", []))
    ok = True
    by_payload = {}
    for shard, seq, payload in records:
        by_payload.setdefault(payload, []).append((shard, seq))
    dups = {p: v for p, v in by_payload.items() if len(v) > 1}
    missing, wrong = [], []
    for x in acks:
        found = by_payload.get(x["payload"])
        if not found:
            missing.append(x)
        elif (x["shard"], x["seq"]) not in found:
            wrong.append((x, found))
    acked = {x["payload"] for x in acks}
    extra = [p for p in by_payload if p not in acked]
    extra_errored = [p for p in extra if p in errored]
    order_ok = all(
        int(s1) < int(s2)
        for (sh1, s1, _), (sh2, s2, _) in zip(records, records[1:]) if sh1 == sh2
    )
    log(f"read {len(records)} records of {a.stream} through {a.endpoint}; "
        f"{len(acks)} acknowledged writes to find")
    log(f"acknowledged and found at their sequence number: {len(acks) - len(missing) - len(wrong)}"
        f"; missing: {len(missing)}; at another sequence number: {len(wrong)}; "
        f"payloads stored twice or more: {len(dups)}")
    for x in missing[: a.show]:
        log(f"  missing: {x['payload']} acknowledged as {x['seq']} ({x['shard']}) via {x['gw']}")
    for x, found in wrong[: a.show]:
        log(f"  moved: {x['payload']} acknowledged as {x['seq']}, stored as {found}")
    for p, v in list(dups.items())[: a.show]:
        log(f"  duplicate: {p} at {[s for _, s in v]}")
    if extra:
        log(f"stored but never acknowledged: {len(extra)} ({len(extra_errored)} of them answered "
            f"an error: allowed, a write may land and still time out) e.g. {extra[:3]}")
    if not order_ok:
        log("FAIL: sequence numbers do not increase along a shard")
        ok = False
    if missing or wrong or dups:
        log("FAIL: acknowledged records lost, moved or duplicated")
        ok = False
    if a.summary:
        with open(a.summary, "a") as f:
            f.write(f"{len(records)} read back, {len(missing)} missing, {len(wrong)} moved, "
                    f"{len(dups)} duplicated\n")
    return 0 if ok else 1


# --- probe (NATS down) ----------------------------------------------------------------------


def cmd_iterator(a):
    """A shard iterator taken while the cluster is up, for `probe` to read with later."""
    c = client(a.endpoint, READ_RETRIES)
    shard = c.list_shards(StreamName=a.stream)["Shards"][0]["ShardId"]
    print(c.get_shard_iterator(StreamName=a.stream, ShardId=shard,
                               ShardIteratorType="TRIM_HORIZON")["ShardIterator"])
    return 0


def cmd_probe(a):
    results = {}
    calls = {
        "PutRecord": lambda c: c.put_record(StreamName=a.stream, Data=b"probe-nats-down",
                                            PartitionKey="p"),
        "ListStreams": lambda c: c.list_streams(),
        "GetRecords": lambda c: c.get_records(ShardIterator=a.iterator, Limit=10),
    }

    def run(name, endpoint):
        c = client(endpoint, read_timeout=a.read_timeout)
        t0 = time.time()
        try:
            calls[name](c)
            results[(name, endpoint)] = (200, "OK (answered as if the store were up)",
                                         time.time() - t0)
        except Exception as e:  # noqa: BLE001
            status, code, msg = describe_error(e)
            results[(name, endpoint)] = (status, f"{code}: {msg[:80]}", time.time() - t0)

    threads = [threading.Thread(target=run, args=(n, e), daemon=True)
               for e in a.endpoints.split(",") for n in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=a.read_timeout + 15)
    ok = True
    figures = []
    for (name, endpoint), (status, what, took) in sorted(results.items()):
        good = status in (500, 503) and took < a.limit
        verdict = "ok" if good else "FAIL"
        ok = ok and good
        port = endpoint.rsplit(":", 1)[1]
        figures.append(f"{name}@{port} {status} in {took:.1f}s")
        log(f"{verdict}: {name} via {endpoint}: HTTP {status} {what} after {took:.1f} s")
    if len(results) < len(threads):
        log(f"FAIL: {len(threads) - len(results)} requests never returned")
        ok = False
    if a.summary:
        with open(a.summary, "a") as f:
            f.write(", ".join(figures) + "\n")
    return 0 if ok else 1


def cmd_recover(a):
    c = client(a.endpoint, read_timeout=30)
    start = time.time()
    deadline = start + a.within
    attempts = []
    while time.time() < deadline:
        t0 = time.time()
        payload = f"recover-{len(attempts):03d}"
        try:
            r = c.put_record(StreamName=a.stream, Data=payload.encode(), PartitionKey=payload)
            t1 = time.time()
            ok = t1 - start <= a.within
            log(f"{'ok' if ok else 'FAIL'}: PutRecord acknowledged {t1 - start:.1f} s after "
                f"the NATS servers were back (attempt {len(attempts) + 1}, {r['SequenceNumber']})")
            for at, took, what in attempts[-5:]:
                log(f"  earlier attempt at t+{at:.1f}s: {what} after {took:.1f} s")
            write_json(a.acks, {"acks": [{"payload": payload, "seq": r["SequenceNumber"],
                                          "shard": r["ShardId"], "gw": a.endpoint,
                                          "sent": t0, "acked": t1}],
                                "errors": [{"payload": f"recover-{i:03d}"}
                                           for i in range(len(attempts))]})
            if a.summary:
                with open(a.summary, "a") as f:
                    f.write(f"serving again after {t1 - start:.1f}s "
                            f"({len(attempts)} failed attempts)\n")
            return 0 if ok else 1
        except Exception as e:  # noqa: BLE001
            status, code, msg = describe_error(e)
            attempts.append((t0 - start, time.time() - t0, f"{status} {code} {msg[:80]}"))
            time.sleep(0.5)
    log(f"FAIL: no PutRecord acknowledged within {a.within} s of the NATS servers' return "
        f"({len(attempts)} attempts)")
    for at, took, what in attempts[-8:]:
        log(f"  attempt at t+{at:.1f}s: {what} after {took:.1f} s")
    write_json(a.acks, {"acks": [], "errors": []})
    if a.summary:
        with open(a.summary, "a") as f:
            f.write(f"not serving after {a.within}s ({len(attempts)} failed attempts, last: "
                    f"{attempts[-1][2] if attempts else '-'})\n")
    return 1


# --- first-call -----------------------------------------------------------------------------


def cmd_first_call(a):
    """Times one control-plane call (ListStreams) per gateway, all at once. Informational: a
    just-started gateway that waits out its catalogue catch-up shows here as >= 5 s."""
    took = {}

    def run(endpoint):
        c = client(endpoint, read_timeout=30)
        t0 = time.time()
        try:
            c.list_streams()
            took[endpoint] = (time.time() - t0, "200")
        except Exception as e:  # noqa: BLE001
            status, code, _ = describe_error(e)
            took[endpoint] = (time.time() - t0, f"{status} {code}")

    threads = [threading.Thread(target=run, args=(e,), daemon=True)
               for e in a.endpoints.split(",")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=40)
    parts = [f"{e.rsplit(':', 1)[1]} {v[0]:.1f}s ({v[1]})" for e, v in sorted(took.items())]
    log(f"first ListStreams after the start: {', '.join(parts)}")
    slow = [e for e, v in took.items() if v[0] >= a.slow]
    if slow:
        log(f"NOTE: {len(slow)} gateway(s) took >= {a.slow:.0f} s to answer a first "
            f"control-plane call (see the 'serving before the catalogue's latest changes' "
            f"warnings in their logs)")
    if a.summary:
        with open(a.summary, "a") as f:
            f.write(f"first ListStreams {', '.join(parts)}\n")
    return 0


# --- meta -----------------------------------------------------------------------------------


def cmd_meta(a):
    c = client(a.endpoint, READ_RETRIES)
    ok = True
    found = []
    try:
        names = c.list_streams()["StreamNames"]
        for s in a.streams:
            if s in names:
                found.append(f"stream {s}")
            else:
                log(f"FAIL: stream {s} not listed (ListStreams: {names})")
                ok = False
        summary = c.describe_stream_summary(StreamName=a.stream)["StreamDescriptionSummary"]
        consumers = c.list_stream_consumers(StreamARN=summary["StreamARN"])["Consumers"]
        mine = [x for x in consumers if x["ConsumerName"] == a.consumer]
        if mine:
            found.append(f"consumer {a.consumer} ({mine[0]['ConsumerStatus']})")
        else:
            log(f"FAIL: consumer {a.consumer} not listed (ListStreamConsumers: "
                f"{[x['ConsumerName'] for x in consumers]})")
            ok = False
        key, _, value = a.tag.partition("=")
        tags = {t["Key"]: t.get("Value") for t in c.list_tags_for_stream(StreamName=a.stream)["Tags"]}
        if tags.get(key) == value:
            found.append(f"tag {key}={value}")
        else:
            log(f"FAIL: tag {key}={value} missing (ListTagsForStream: {tags})")
            ok = False
    except Exception as e:  # noqa: BLE001
        status, code, msg = describe_error(e)
        log(f"FAIL: {status} {code} {msg}")
        ok = False
    log(f"found: {', '.join(found) or 'nothing'}")
    if a.summary:
        with open(a.summary, "a") as f:
            f.write(f"{len(found)} of {len(a.streams) + 2} stream/consumer/tag found\n")
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("create")
    s.add_argument("--endpoint", required=True)
    s.add_argument("--stream", required=True)
    s.add_argument("--shards", type=int, default=1)
    s.add_argument("--acks", required=True, help="JSON file for the probe record's ack")
    s.add_argument("--consumer")
    s.add_argument("--tag", help="KEY=VALUE")
    s.add_argument("--namespace", default="kinesd")

    s = sub.add_parser("leader")
    s.add_argument("--name", required=True, help="JetStream stream, e.g. kinesd_1_0")
    s.add_argument("--monitor", default="8222,8223,8224")
    s.add_argument("--timeout", type=float, default=15)

    s = sub.add_parser("load")
    s.add_argument("--endpoints", required=True, help="comma-separated; requests alternate")
    s.add_argument("--stream", required=True)
    s.add_argument("--threads", type=int, default=8)
    s.add_argument("--duration", type=float, default=20)
    s.add_argument("--interval", type=float, default=0, help="pause between a writer's puts")
    s.add_argument("--prefix", required=True)
    s.add_argument("--reader", help="endpoint of a reader thread following shard 0")
    s.add_argument("--out", required=True)

    s = sub.add_parser("check")
    s.add_argument("--results", required=True)
    s.add_argument("--event-at", type=float, help="epoch seconds of the kill")
    s.add_argument("--max-gap", type=float)
    s.add_argument("--quiet-window", type=float)
    s.add_argument("--reader-sees-all", action="store_true")
    s.add_argument("--min-acks", type=int, default=1)
    s.add_argument("--show", type=int, default=8)
    s.add_argument("--summary")

    s = sub.add_parser("verify")
    s.add_argument("--endpoint", required=True)
    s.add_argument("--stream", required=True)
    s.add_argument("--acks", action="append", required=True, help="results/acks JSON files")
    s.add_argument("--show", type=int, default=8)
    s.add_argument("--summary")

    s = sub.add_parser("iterator")
    s.add_argument("--endpoint", required=True)
    s.add_argument("--stream", required=True)

    s = sub.add_parser("probe")
    s.add_argument("--endpoints", required=True)
    s.add_argument("--stream", required=True)
    s.add_argument("--iterator", required=True)
    s.add_argument("--read-timeout", type=float, default=30)
    s.add_argument("--limit", type=float, default=30)
    s.add_argument("--summary")

    s = sub.add_parser("recover")
    s.add_argument("--endpoint", required=True)
    s.add_argument("--stream", required=True)
    s.add_argument("--within", type=float, default=60)
    s.add_argument("--acks", required=True)
    s.add_argument("--summary")

    s = sub.add_parser("first-call")
    s.add_argument("--endpoints", required=True)
    s.add_argument("--slow", type=float, default=5)
    s.add_argument("--summary")

    s = sub.add_parser("meta")
    s.add_argument("--endpoint", required=True)
    s.add_argument("--stream", required=True)
    s.add_argument("--streams", nargs="+", required=True)
    s.add_argument("--consumer", required=True)
    s.add_argument("--tag", required=True)
    s.add_argument("--summary")

    a = p.parse_args()
    return globals()[f"cmd_{a.cmd.replace('-', '_')}"](a)


if __name__ == "__main__":
    sys.exit(main())
