#!/usr/bin/env python3
"""Smoke test of a running kinesd with boto3 (HTTP/1.1, JSON protocol, event stream).

    python3 scripts/boto3_smoke.py http://127.0.0.1:4567
    AWS_CA_BUNDLE=/path/to/kinesd-ca.pem python3 scripts/boto3_smoke.py https://127.0.0.1:4567

Exits non-zero with a message on the first mismatch; prints `boto3 smoke: OK ...` at the end.
The server must answer with its default CREATING/UPDATING delays (0) or small ones: every wait
below polls once a second for at most 30 s.
"""

import datetime
import os
import sys
import time

try:
    import boto3
    import botocore
    from botocore.config import Config
except ImportError as e:  # pragma: no cover - the Rust test checks this first
    print(f"boto3 smoke: FAIL: boto3 not importable: {e}", file=sys.stderr)
    sys.exit(2)

ACCOUNT = "000000000000"
MAX_HASH = 2**128 - 1
CHECKS = 0
STARTED = time.monotonic()


def fail(msg):
    print(f"boto3 smoke: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def _excepthook(kind, value, tb):
    """Any unexpected exception: the traceback, then one clear FAIL line (exit status 1)."""
    import traceback

    traceback.print_exception(kind, value, tb)
    detail = getattr(value, "response", None)
    print(f"boto3 smoke: FAIL: unexpected {kind.__name__}: {value}"
          + (f"\n  response: {detail}" if detail else ""), file=sys.stderr)
    sys.exit(1)


sys.excepthook = _excepthook


def check(cond, msg):
    global CHECKS
    CHECKS += 1
    if not cond:
        fail(msg)


def check_eq(what, expected, actual):
    check(expected == actual, f"{what}: expected {expected!r}, got {actual!r}")


def step(msg):
    print(f"[{time.monotonic() - STARTED:6.2f}s] {msg}", flush=True)


def expect_error(name, fn, message=None, **kwargs):
    """Calls fn(**kwargs) and asserts it raises the modeled exception `name`."""
    exc_class = getattr(client.exceptions, name)
    try:
        resp = fn(**kwargs)
    except exc_class as e:
        err = e.response.get("Error", {})
        check_eq(f"{fn.__name__} error code", name, err.get("Code"))
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        check_eq(f"{fn.__name__} HTTP status", 400, status)
        if message is not None:
            check_eq(f"{fn.__name__} error message", message, err.get("Message"))
        else:
            check(err.get("Message"), f"{fn.__name__} {name} has no message: {e.response}")
        return err.get("Message")
    except botocore.exceptions.ClientError as e:
        fail(f"{fn.__name__}({kwargs}): expected {name}, got {e.response.get('Error')}")
    fail(f"{fn.__name__}({kwargs}): expected {name}, got success {resp}")


def wait_stream_active(name):
    client.get_waiter("stream_exists").wait(
        StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )


def shards_of(name, **kwargs):
    shards, token = [], None
    while True:
        if token:
            resp = client.list_shards(NextToken=token)
        else:
            resp = client.list_shards(StreamName=name, **kwargs)
        shards += resp["Shards"]
        token = resp.get("NextToken")
        if not token:
            return shards


def read_shard(name, shard_id):
    """All records of a shard from TRIM_HORIZON, and the last GetRecords response."""
    it = client.get_shard_iterator(
        StreamName=name, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    check(isinstance(it, str) and it, f"GetShardIterator {shard_id}: empty iterator")
    records, last = [], None
    for _ in range(20):
        last = client.get_records(ShardIterator=it)
        records += last["Records"]
        it = last.get("NextShardIterator")
        if not it or not last["Records"]:
            break
    return records, last


if len(sys.argv) != 2:
    print("usage: boto3_smoke.py ENDPOINT", file=sys.stderr)
    sys.exit(2)
ENDPOINT = sys.argv[1]

for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
    os.environ.pop(var, None)
session = boto3.session.Session(
    aws_access_key_id="smoke-akid",
    aws_secret_access_key="smoke-secret",
    region_name="us-east-1",
)
client = session.client(
    "kinesis",
    endpoint_url=ENDPOINT,
    config=Config(
        connect_timeout=5,
        read_timeout=30,
        retries={"max_attempts": 1, "mode": "standard"},
    ),
)

RUN = f"boto3-{os.getpid()}"
STREAM = f"{RUN}-main"
ARN = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{STREAM}"
now = datetime.datetime.now(datetime.timezone.utc)

# --- create --------------------------------------------------------------------------------
step(f"create_stream {STREAM} (boto3 {boto3.__version__}, botocore {botocore.__version__})")
client.create_stream(StreamName=STREAM, ShardCount=2)
wait_stream_active(STREAM)
summary = client.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]
check_eq("summary StreamStatus", "ACTIVE", summary["StreamStatus"])
check_eq("summary StreamARN", ARN, summary["StreamARN"])
check_eq("summary OpenShardCount", 2, summary["OpenShardCount"])
check_eq("summary RetentionPeriodHours", 24, summary["RetentionPeriodHours"])
check(
    isinstance(summary["StreamCreationTimestamp"], datetime.datetime)
    and abs((summary["StreamCreationTimestamp"] - now).total_seconds()) < 120,
    f"summary StreamCreationTimestamp {summary['StreamCreationTimestamp']!r} not about now",
)

# --- writes --------------------------------------------------------------------------------
step("put_record / put_records")
expected = {}  # data -> partition key
put = client.put_record(StreamName=STREAM, PartitionKey="pk-0", Data=b"boto3-record-0")
check(put["ShardId"].startswith("shardId-"), f"put_record ShardId {put['ShardId']!r}")
check(put["SequenceNumber"].isdigit(), f"put_record SequenceNumber {put['SequenceNumber']!r}")
expected[b"boto3-record-0"] = "pk-0"
entries = [{"Data": f"boto3-record-{i}".encode(), "PartitionKey": f"pk-{i}"} for i in range(1, 9)]
entries.append({"Data": bytes([0, 255, 10, 13, 128]), "PartitionKey": "binary"})
resp = client.put_records(StreamName=STREAM, Records=entries)
check_eq("put_records FailedRecordCount", 0, resp.get("FailedRecordCount"))
check_eq("put_records result count", len(entries), len(resp["Records"]))
for r in resp["Records"]:
    check("SequenceNumber" in r and "ErrorCode" not in r, f"put_records entry {r}")
for e in entries:
    expected[e["Data"]] = e["PartitionKey"]

# --- shards and reads ----------------------------------------------------------------------
step("list_shards / get_shard_iterator / get_records")
shards = shards_of(STREAM)
check_eq("list_shards ids", ["shardId-000000000000", "shardId-000000000001"],
         [s["ShardId"] for s in shards])
half = 2**128 // 2
check_eq("shard 0 range", {"StartingHashKey": "0", "EndingHashKey": str(half - 1)},
         shards[0]["HashKeyRange"])
check_eq("shard 1 range", {"StartingHashKey": str(half), "EndingHashKey": str(MAX_HASH)},
         shards[1]["HashKeyRange"])
got = {}
for s in shards:
    records, last = read_shard(STREAM, s["ShardId"])
    check("MillisBehindLatest" in last, f"get_records without MillisBehindLatest: {last}")
    check(last.get("NextShardIterator"), f"open shard get_records without NextShardIterator: {last}")
    seqs = [r["SequenceNumber"] for r in records]
    check(seqs == sorted(seqs, key=int), f"sequence numbers not increasing in {s['ShardId']}")
    for r in records:
        ts = r["ApproximateArrivalTimestamp"]
        check(isinstance(ts, datetime.datetime) and abs((ts - now).total_seconds()) < 120,
              f"ApproximateArrivalTimestamp {ts!r} not about now")
        got[r["Data"]] = r["PartitionKey"]
check_eq("records read back (data -> partition key)", expected, got)
it = client.get_shard_iterator(
    StreamName=STREAM, ShardId=put["ShardId"], ShardIteratorType="AT_SEQUENCE_NUMBER",
    StartingSequenceNumber=put["SequenceNumber"],
)["ShardIterator"]
first = client.get_records(ShardIterator=it, Limit=1)["Records"]
check_eq("AT_SEQUENCE_NUMBER first record", b"boto3-record-0", first[0]["Data"] if first else None)
# AT_TIMESTAMP: boto3 sends the datetime as epoch seconds (a JSON number).
it = client.get_shard_iterator(
    StreamName=STREAM, ShardId=put["ShardId"], ShardIteratorType="AT_TIMESTAMP",
    Timestamp=now - datetime.timedelta(seconds=5),
)["ShardIterator"]
first = client.get_records(ShardIterator=it, Limit=1)["Records"]
check_eq("AT_TIMESTAMP (before the first put) first record", b"boto3-record-0",
         first[0]["Data"] if first else None)
# botocore sends whole seconds by default: ask for the next whole second once it has passed.
after = datetime.datetime.fromtimestamp(int(time.time()) + 1, datetime.timezone.utc)
time.sleep(max(0.0, after.timestamp() - time.time()) + 0.05)
it = client.get_shard_iterator(
    StreamName=STREAM, ShardId=put["ShardId"], ShardIteratorType="AT_TIMESTAMP", Timestamp=after,
)["ShardIterator"]
check_eq("AT_TIMESTAMP (after the puts) records", [],
         client.get_records(ShardIterator=it)["Records"])
expect_error("InvalidArgumentException", client.get_shard_iterator, StreamName=STREAM,
             ShardId=put["ShardId"], ShardIteratorType="AT_TIMESTAMP",
             Timestamp=after + datetime.timedelta(hours=1))

step("describe_stream / list_streams / retention / describe_limits")
desc = client.describe_stream(StreamName=STREAM)["StreamDescription"]
check_eq("describe_stream shards", 2, len(desc["Shards"]))
check_eq("describe_stream HasMoreShards", False, desc["HasMoreShards"])
check_eq("describe_stream EnhancedMonitoring", [{"ShardLevelMetrics": []}], desc["EnhancedMonitoring"])
listed = client.list_streams()
check(STREAM in listed["StreamNames"], f"list_streams lacks {STREAM}: {listed}")
check(any(s["StreamName"] == STREAM and s["StreamARN"] == ARN
          for s in listed.get("StreamSummaries", [])), f"list_streams StreamSummaries: {listed}")
client.increase_stream_retention_period(StreamName=STREAM, RetentionPeriodHours=48)
check_eq("retention after increase", 48, client.describe_stream_summary(
    StreamName=STREAM)["StreamDescriptionSummary"]["RetentionPeriodHours"])
client.decrease_stream_retention_period(StreamName=STREAM, RetentionPeriodHours=24)
limits = client.describe_limits()
check(limits.get("ShardLimit", 0) > 0 and "OpenShardCount" in limits, f"describe_limits {limits}")

# --- resharding ----------------------------------------------------------------------------
step("split_shard / merge_shards / update_shard_count")
quarter = 2**128 // 4
client.split_shard(StreamName=STREAM, ShardToSplit="shardId-000000000000",
                   NewStartingHashKey=str(quarter))
wait_stream_active(STREAM)
shards = {s["ShardId"]: s for s in shards_of(STREAM)}
check_eq("shards after split", ["shardId-000000000000", "shardId-000000000001",
                                "shardId-000000000002", "shardId-000000000003"], sorted(shards))
check("EndingSequenceNumber" in shards["shardId-000000000000"]["SequenceNumberRange"],
      f"split parent not closed: {shards['shardId-000000000000']}")
check_eq("split child ParentShardId", "shardId-000000000000",
         shards["shardId-000000000003"].get("ParentShardId"))
check_eq("split child 3 range", {"StartingHashKey": str(quarter), "EndingHashKey": str(half - 1)},
         shards["shardId-000000000003"]["HashKeyRange"])
# The closed parent still reads to its end, then reports its children.
records, last = read_shard(STREAM, "shardId-000000000000")
check(not last.get("NextShardIterator"), f"closed shard still has NextShardIterator: {last}")
children = sorted(c["ShardId"] for c in last.get("ChildShards", []))
check_eq("closed shard ChildShards", ["shardId-000000000002", "shardId-000000000003"], children)

client.merge_shards(StreamName=STREAM, ShardToMerge="shardId-000000000003",
                    AdjacentShardToMerge="shardId-000000000001")
wait_stream_active(STREAM)
open_shards = shards_of(STREAM, ShardFilter={"Type": "AT_LATEST"})
check_eq("open shards after merge", ["shardId-000000000002", "shardId-000000000004"],
         [s["ShardId"] for s in open_shards])
merged = open_shards[1]
check_eq("merged ParentShardId", "shardId-000000000003", merged.get("ParentShardId"))
check_eq("merged AdjacentParentShardId", "shardId-000000000001",
         merged.get("AdjacentParentShardId"))
check_eq("merged range", {"StartingHashKey": str(quarter), "EndingHashKey": str(MAX_HASH)},
         merged["HashKeyRange"])

resp = client.update_shard_count(StreamName=STREAM, TargetShardCount=4,
                                 ScalingType="UNIFORM_SCALING")
check_eq("update_shard_count CurrentShardCount", 2, resp.get("CurrentShardCount"))
check_eq("update_shard_count TargetShardCount", 4, resp.get("TargetShardCount"))
wait_stream_active(STREAM)
open_shards = shards_of(STREAM, ShardFilter={"Type": "AT_LATEST"})
check_eq("open shards after update_shard_count", 4, len(open_shards))
ranges = sorted((int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
                for s in open_shards)
check(ranges[0][0] == 0 and ranges[-1][1] == MAX_HASH
      and all(a[1] + 1 == b[0] for a, b in zip(ranges, ranges[1:])),
      f"open shards do not tile the hash space: {ranges}")
summary = client.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]
check_eq("summary OpenShardCount after scaling", 4, summary["OpenShardCount"])

# --- enhanced fan-out ----------------------------------------------------------------------
step("register_stream_consumer / describe_stream_consumer")
target = open_shards[0]
target_id = target["ShardId"]
target_hash = target["HashKeyRange"]["StartingHashKey"]
efo_before = [f"efo-before-{i}".encode() for i in range(3)]
for d in efo_before:
    client.put_record(StreamName=STREAM, PartitionKey="efo", ExplicitHashKey=target_hash, Data=d)

consumer = client.register_stream_consumer(StreamARN=ARN, ConsumerName=f"{RUN}-consumer")["Consumer"]
consumer_arn = consumer["ConsumerARN"]
check(consumer_arn.startswith(f"{ARN}/consumer/{RUN}-consumer:"), f"ConsumerARN {consumer_arn!r}")
check(consumer["ConsumerStatus"] in ("CREATING", "ACTIVE"), f"consumer status {consumer}")
for _ in range(30):
    desc = client.describe_stream_consumer(ConsumerARN=consumer_arn)["ConsumerDescription"]
    if desc["ConsumerStatus"] == "ACTIVE":
        break
    time.sleep(1)
check_eq("consumer status", "ACTIVE", desc["ConsumerStatus"])
check_eq("consumer StreamARN", ARN, desc["StreamARN"])
by_name = client.describe_stream_consumer(StreamARN=ARN, ConsumerName=f"{RUN}-consumer")
check_eq("describe by name ConsumerARN", consumer_arn, by_name["ConsumerDescription"]["ConsumerARN"])

step(f"subscribe_to_shard {target_id} (HTTP/1.1 event stream)")
resp = client.subscribe_to_shard(ConsumerARN=consumer_arn, ShardId=target_id,
                                 StartingPosition={"Type": "TRIM_HORIZON"})
check_eq("subscribe_to_shard HTTP status", 200, resp["ResponseMetadata"]["HTTPStatusCode"])
content_type = resp["ResponseMetadata"]["HTTPHeaders"].get("content-type")
check_eq("subscribe_to_shard content-type", "application/vnd.amazon.eventstream", content_type)
stream = resp["EventStream"]
seen, events, live_put, continuation = [], 0, None, None
deadline = time.monotonic() + 40
try:
    for event in stream:
        events += 1
        check("SubscribeToShardEvent" in event, f"unexpected event {event}")
        ev = event["SubscribeToShardEvent"]
        check("ContinuationSequenceNumber" in ev and "MillisBehindLatest" in ev,
              f"event missing fields: {ev}")
        continuation = ev["ContinuationSequenceNumber"]
        for r in ev["Records"]:
            check(isinstance(r["ApproximateArrivalTimestamp"], datetime.datetime),
                  f"event record timestamp {r}")
            seen.append(r["Data"])
        if live_put is None and all(d in seen for d in efo_before):
            # Everything from before arrived: put one while subscribed.
            live_put = client.put_record(StreamName=STREAM, PartitionKey="efo",
                                         ExplicitHashKey=target_hash, Data=b"efo-live")
            check_eq("live put shard", target_id, live_put["ShardId"])
        if b"efo-live" in seen:
            break
        if time.monotonic() > deadline or events > 20:
            break
finally:
    stream.close()
check_eq("records before subscription, in order", efo_before,
         [d for d in seen if d.startswith(b"efo-before")])
check(b"efo-live" in seen, f"record put during the subscription never arrived "
      f"({events} events, seen {seen})")
check(continuation and continuation.isdigit(), f"ContinuationSequenceNumber {continuation!r}")
step(f"  {events} events, {len(seen)} records")

# A second subscription of the same consumer and shard within 5 s is refused.
expect_error("ResourceInUseException", client.subscribe_to_shard, ConsumerARN=consumer_arn,
             ShardId=target_id, StartingPosition={"Type": "LATEST"})

# A second consumer resumes after the continuation number: only newer records arrive.
step("subscribe_to_shard AFTER_SEQUENCE_NUMBER (second consumer)")
consumer2_arn = client.register_stream_consumer(
    StreamARN=ARN, ConsumerName=f"{RUN}-consumer2")["Consumer"]["ConsumerARN"]
for _ in range(30):
    if client.describe_stream_consumer(ConsumerARN=consumer2_arn)[
            "ConsumerDescription"]["ConsumerStatus"] == "ACTIVE":
        break
    time.sleep(1)
client.put_record(StreamName=STREAM, PartitionKey="efo", ExplicitHashKey=target_hash,
                  Data=b"efo-after")
resp = client.subscribe_to_shard(
    ConsumerARN=consumer2_arn, ShardId=target_id,
    StartingPosition={"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": continuation})
seen2, events2 = [], 0
try:
    for event in resp["EventStream"]:
        events2 += 1
        seen2 += [r["Data"] for r in event["SubscribeToShardEvent"]["Records"]]
        if seen2 or events2 >= 3:
            break
finally:
    resp["EventStream"].close()
check_eq("records after the continuation number", [b"efo-after"], seen2)

# The closed parent shard: its records, then ChildShards, then the server ends the stream.
step("subscribe_to_shard on a closed shard")
resp = client.subscribe_to_shard(ConsumerARN=consumer2_arn, ShardId="shardId-000000000000",
                                 StartingPosition={"Type": "TRIM_HORIZON"})
closed_seen, child_shards, events3 = [], None, 0
try:
    for event in resp["EventStream"]:
        events3 += 1
        ev = event["SubscribeToShardEvent"]
        closed_seen += [r["Data"] for r in ev["Records"]]
        if ev.get("ChildShards"):
            child_shards = sorted(c["ShardId"] for c in ev["ChildShards"])
        if events3 > 10:
            break
finally:
    resp["EventStream"].close()
check_eq("closed shard records via subscription",
         sorted(r["Data"] for r in read_shard(STREAM, "shardId-000000000000")[0]),
         sorted(closed_seen))
check_eq("closed shard ChildShards via subscription",
         ["shardId-000000000002", "shardId-000000000003"], child_shards)
check(events3 <= 10, "the subscription to a closed shard did not end after ChildShards")

step("list_stream_consumers / tag_resource / list_tags_for_resource")
listed = client.list_stream_consumers(StreamARN=ARN)["Consumers"]
check_eq("list_stream_consumers", sorted([consumer_arn, consumer2_arn]),
         sorted(c["ConsumerARN"] for c in listed))
client.tag_resource(ResourceARN=ARN, Tags={"team": "smoke", "env": "test"})
tags = client.list_tags_for_resource(ResourceARN=ARN)["Tags"]
check_eq("list_tags_for_resource", {"env": "test", "team": "smoke"},
         {t["Key"]: t["Value"] for t in tags})
client.untag_resource(ResourceARN=ARN, TagKeys=["env"])
tags = client.list_tags_for_stream(StreamName=STREAM)
check_eq("list_tags_for_stream after untag", [{"Key": "team", "Value": "smoke"}], tags["Tags"])
client.tag_resource(ResourceARN=consumer_arn, Tags={"role": "efo"})
tags = client.list_tags_for_resource(ResourceARN=consumer_arn)["Tags"]
check_eq("consumer tags", [{"Key": "role", "Value": "efo"}], tags)

step("deregister_stream_consumer")
client.deregister_stream_consumer(ConsumerARN=consumer_arn)
client.deregister_stream_consumer(StreamARN=ARN, ConsumerName=f"{RUN}-consumer2")
for _ in range(30):
    if not client.list_stream_consumers(StreamARN=ARN)["Consumers"]:
        break
    time.sleep(1)
check_eq("consumers after deregister", [], client.list_stream_consumers(StreamARN=ARN)["Consumers"])

# --- errors --------------------------------------------------------------------------------
step("error cases")
missing = f"{RUN}-missing"
expect_error("ResourceNotFoundException", client.describe_stream_summary,
             f"Stream {missing} under account {ACCOUNT} not found.", StreamName=missing)
expect_error("ResourceNotFoundException", client.put_record, StreamName=missing,
             PartitionKey="k", Data=b"x")
expect_error("ResourceInUseException", client.create_stream,
             f"Stream {STREAM} under account {ACCOUNT} already exists.",
             StreamName=STREAM, ShardCount=1)
expect_error("InvalidArgumentException", client.get_records, "Invalid ShardIterator.",
             ShardIterator="AAAAAAAAAAFnotarealiterator")
expect_error("InvalidArgumentException", client.put_record, StreamName=STREAM,
             PartitionKey="k", Data=b"x", ExplicitHashKey=str(2**128))
expect_error("ResourceNotFoundException", client.describe_stream_consumer,
             ConsumerARN=f"{ARN}/consumer/nope:1700000000")
try:
    client.describe_stream_summary(StreamName=missing)
except client.exceptions.ResourceNotFoundException as e:
    check(missing in str(e), f"exception text lacks the stream name: {e}")

# --- delete --------------------------------------------------------------------------------
step("delete_stream")
client.delete_stream(StreamName=STREAM, EnforceConsumerDeletion=True)
client.get_waiter("stream_not_exists").wait(
    StreamName=STREAM, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
)
names = client.list_streams()["StreamNames"]
check(STREAM not in names, f"deleted stream still listed: {names}")

print(f"boto3 smoke: OK ({CHECKS} checks, boto3 {boto3.__version__}, "
      f"{time.monotonic() - STARTED:.1f}s)")
