#!/usr/bin/env python3
"""Conformance of kinesd's DynamoDB subset (the part KCL consumers use), through boto3.

    python3 scripts/dynamodb_conformance.py http://127.0.0.1:4567

Every supported operation and condition form, the legacy Expected/AttributeUpdates forms the
KCL sends, and the failures (ConditionalCheckFailed, ValidationException for bad expressions
and missing names or values, ResourceNotFound, ResourceInUse, TransactionCanceled, unknown
operations). Exits non-zero on the first mismatch; prints `dynamodb conformance: OK ...` last.
"""

import sys
import time

try:
    import boto3
    import botocore
    from botocore.config import Config
except ImportError as e:  # pragma: no cover - the Rust test checks this first
    print(f"dynamodb conformance: FAIL: boto3 not importable: {e}", file=sys.stderr)
    sys.exit(2)

CHECKS = 0
STARTED = time.monotonic()


def check(condition, what):
    global CHECKS
    CHECKS += 1
    if not condition:
        print(f"dynamodb conformance: FAIL: {what}", file=sys.stderr)
        sys.exit(1)


def fails(call, code, message=None, **kwargs):
    """Runs call(**kwargs) and checks it fails with `code` (and `message` within its text)."""
    try:
        call(**kwargs)
    except botocore.exceptions.ClientError as e:
        error = e.response["Error"]
        check(error["Code"] == code, f"{call.__name__}: want {code}, got {error}")
        if message is not None:
            check(message in error.get("Message", ""), f"{call.__name__}: want {message!r} in {error}")
        return e.response
    check(False, f"{call.__name__}({kwargs}) succeeded; want {code}")


def main(endpoint):
    ddb = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}),
    )
    suffix = str(int(time.time() * 1000))
    leases = "leases-" + suffix
    state = "state-" + suffix

    # Tables: the KCL's lease table (hash only) and lifion's state table (hash + range).
    created = ddb.create_table(
        TableName=leases,
        AttributeDefinitions=[{"AttributeName": "leaseKey", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "leaseKey", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        DeletionProtectionEnabled=False,
        Tags=[{"Key": "app", "Value": "kcl"}],
    )["TableDescription"]
    check(created["TableName"] == leases, f"create: {created}")
    ddb.get_waiter("table_exists").wait(TableName=leases, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    ddb.create_table(
        TableName=state,
        AttributeDefinitions=[
            {"AttributeName": "group", "AttributeType": "S"},
            {"AttributeName": "n", "AttributeType": "N"},
        ],
        KeySchema=[
            {"AttributeName": "group", "KeyType": "HASH"},
            {"AttributeName": "n", "KeyType": "RANGE"},
        ],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    fails(ddb.create_table, "ResourceInUseException", "Table already exists",
          TableName=leases,
          AttributeDefinitions=[{"AttributeName": "leaseKey", "AttributeType": "S"}],
          KeySchema=[{"AttributeName": "leaseKey", "KeyType": "HASH"}],
          BillingMode="PAY_PER_REQUEST")
    fails(ddb.create_table, "ValidationException", "not defined in AttributeDefinitions",
          TableName="bad-" + suffix,
          AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"}],
          KeySchema=[{"AttributeName": "b", "KeyType": "HASH"}],
          BillingMode="PAY_PER_REQUEST")
    fails(ddb.create_table, "ValidationException", "ReadCapacityUnits and WriteCapacityUnits",
          TableName="bad-" + suffix,
          AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"}],
          KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}])
    fails(ddb.describe_table, "ResourceNotFoundException", "not found", TableName="missing-" + suffix)
    fails(ddb.get_item, "ResourceNotFoundException", TableName="missing-" + suffix, Key={"k": {"S": "x"}})

    described = ddb.describe_table(TableName=leases)["Table"]
    check(described["TableStatus"] == "ACTIVE", f"status: {described}")
    check(described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST", f"billing: {described}")
    check(described["TableArn"].endswith(":table/" + leases), f"arn: {described}")
    check(described["KeySchema"] == [{"AttributeName": "leaseKey", "KeyType": "HASH"}], f"schema: {described}")
    names = ddb.list_tables()["TableNames"]
    check(leases in names and state in names, f"list: {names}")
    first = ddb.list_tables(Limit=1)
    check(len(first["TableNames"]) == 1 and "LastEvaluatedTableName" in first, f"list page: {first}")
    rest = ddb.list_tables(ExclusiveStartTableName=first["LastEvaluatedTableName"])["TableNames"]
    check(first["TableNames"][0] not in rest, f"list rest: {rest}")

    # Legacy forms, as the KCL sends them.
    key = {"leaseKey": {"S": "shardId-000000000000"}}
    ddb.put_item(TableName=leases, Item={**key, "leaseCounter": {"N": "0"}, "checkpoint": {"S": "TRIM_HORIZON"}},
                 Expected={"leaseKey": {"Exists": False}})
    fails(ddb.put_item, "ConditionalCheckFailedException", "The conditional request failed",
          TableName=leases, Item=key, Expected={"leaseKey": {"Exists": False}})
    taken = ddb.update_item(
        TableName=leases, Key=key,
        AttributeUpdates={"leaseOwner": {"Value": {"S": "w1"}, "Action": "PUT"},
                          "leaseCounter": {"Value": {"N": "1"}, "Action": "PUT"},
                          "ownerSwitchesSinceCheckpoint": {"Value": {"N": "1"}, "Action": "ADD"},
                          "checkpointOwner": {"Action": "DELETE"}},
        Expected={"leaseCounter": {"Value": {"N": "0"}}}, ReturnValues="ALL_NEW")["Attributes"]
    check(taken["leaseOwner"] == {"S": "w1"} and taken["ownerSwitchesSinceCheckpoint"] == {"N": "1"}, f"take: {taken}")
    failed = fails(ddb.update_item, "ConditionalCheckFailedException",
                   TableName=leases, Key=key,
                   AttributeUpdates={"leaseCounter": {"Value": {"N": "2"}, "Action": "PUT"}},
                   Expected={"leaseCounter": {"Value": {"N": "0"}}, "checkpointOwner": {"Exists": False}},
                   ReturnValuesOnConditionCheckFailure="ALL_OLD")
    check(failed.get("Item", {}).get("leaseCounter") == {"N": "1"}, f"ALL_OLD on failure: {failed}")
    ddb.update_item(TableName=leases, Key=key,
                    AttributeUpdates={"leaseCounter": {"Value": {"N": "2"}, "Action": "PUT"}},
                    Expected={"leaseOwner": {"Value": {"S": "w1"}}, "checkpointOwner": {"Exists": False},
                              "leaseKey": {"Value": key["leaseKey"], "Exists": True}})
    ddb.update_item(TableName=leases, Key=key, Expected={"leaseCounter": {"ComparisonOperator": "NOT_NULL"},
                                                         "nothing": {"ComparisonOperator": "NULL"},
                                                         "leaseOwner": {"ComparisonOperator": "NE",
                                                                        "AttributeValueList": [{"S": "w9"}]}},
                    AttributeUpdates={"throughputKBps": {"Value": {"N": "0.007085"}, "Action": "PUT"}})
    fails(ddb.update_item, "ValidationException", "Exists is set to TRUE",
          TableName=leases, Key=key, Expected={"leaseOwner": {"Exists": True}},
          AttributeUpdates={"x": {"Value": {"S": "y"}}})
    fails(ddb.update_item, "ValidationException", "part of the key",
          TableName=leases, Key=key, AttributeUpdates={"leaseKey": {"Value": {"S": "y"}}})
    got = ddb.get_item(TableName=leases, Key=key, ConsistentRead=True)["Item"]
    check(got["leaseCounter"] == {"N": "2"} and got["throughputKBps"] == {"N": "0.007085"}, f"get: {got}")
    check("checkpointOwner" not in got, f"DELETE action: {got}")

    # Expressions, as async-kinesis and lifion send them.
    k2 = {"leaseKey": {"S": "shard-2"}}
    ddb.put_item(TableName=leases, Item={**k2, "ref": {"S": "a/w1"}, "ts": {"N": "10"}, "sequence": {"NULL": True},
                                         "consumers": {"M": {}}, "tags": {"SS": ["a", "b"]}, "hist": {"L": []}},
                 ConditionExpression="attribute_not_exists(leaseKey)")
    fails(ddb.put_item, "ConditionalCheckFailedException", TableName=leases, Item=k2,
          ConditionExpression="attribute_not_exists(leaseKey)")
    new = ddb.update_item(
        TableName=leases, Key=k2,
        UpdateExpression="SET #ref = :ref, #ts = :ts ADD #n :one",
        ConditionExpression="#ts = :old_ts OR attribute_not_exists(#ts)",
        ExpressionAttributeNames={"#ref": "ref", "#ts": "ts", "#n": "count"},
        ExpressionAttributeValues={":ref": {"S": "a/w2"}, ":ts": {"N": "11"}, ":old_ts": {"N": "10.0"}, ":one": {"N": "1"}},
        ReturnValues="ALL_NEW")["Attributes"]
    check(new["ref"] == {"S": "a/w2"} and new["count"] == {"N": "1"}, f"numeric equality, ADD: {new}")
    # Overlapping paths are refused.
    fails(ddb.update_item, "ValidationException", "Two document paths",
          TableName=leases, Key=k2, UpdateExpression="SET #a.#b = :x, #a.#b.#c = :y",
          ExpressionAttributeNames={"#a": "consumers", "#b": "c1", "#c": "heartbeat"},
          ExpressionAttributeValues={":x": {"M": {}}, ":y": {"S": "now"}})
    ddb.update_item(TableName=leases, Key=k2, UpdateExpression="SET #a.#b = :x",
                    ConditionExpression="attribute_not_exists(#a.#b)",
                    ExpressionAttributeNames={"#a": "consumers", "#b": "c1"},
                    ExpressionAttributeValues={":x": {"M": {"isActive": {"BOOL": True}, "pid": {"N": "7"}}}})
    nested = ddb.update_item(
        TableName=leases, Key=k2,
        UpdateExpression="SET #a.#b.#c = :y, ts = ts + :one, hist = list_append(hist, :l), fresh = if_not_exists(fresh, :zero) REMOVE #s DELETE tags :b",
        ConditionExpression="#a.#b.pid = :pid AND size(tags) = :two AND begins_with(#ref, :prefix) AND contains(tags, :a)",
        ExpressionAttributeNames={"#a": "consumers", "#b": "c1", "#c": "heartbeat", "#s": "sequence", "#ref": "ref"},
        ExpressionAttributeValues={":y": {"S": "now"}, ":one": {"N": "1"}, ":l": {"L": [{"N": "1"}]}, ":zero": {"N": "0"},
                                   ":b": {"SS": ["b"]}, ":pid": {"N": "7"}, ":two": {"N": "2"}, ":prefix": {"S": "a/"},
                                   ":a": {"S": "a"}},
        ReturnValues="UPDATED_NEW")["Attributes"]
    check(nested["consumers"]["M"]["c1"]["M"] == {"heartbeat": {"S": "now"}}, f"UPDATED_NEW nested: {nested}")
    check(nested["ts"] == {"N": "12"} and nested["hist"] == {"L": [{"N": "1"}]} and nested["fresh"] == {"N": "0"}, f"arithmetic: {nested}")
    item = ddb.get_item(TableName=leases, Key=k2)["Item"]
    check("sequence" not in item and item["tags"] == {"SS": ["a"]}, f"REMOVE, DELETE: {item}")
    old = ddb.update_item(TableName=leases, Key=k2, UpdateExpression="SET ts = :t",
                          ExpressionAttributeValues={":t": {"N": "1e2"}}, ReturnValues="UPDATED_OLD")["Attributes"]
    check(old == {"ts": {"N": "12"}}, f"UPDATED_OLD: {old}")
    check(ddb.get_item(TableName=leases, Key=k2)["Item"]["ts"] == {"N": "100"}, "numbers are canonical")
    conds = [
        ("ts BETWEEN :lo AND :hi", {":lo": {"N": "99"}, ":hi": {"N": "101"}}),
        ("ts IN (:a, :b)", {":a": {"N": "1"}, ":b": {"N": "100"}}),
        ("NOT (ts < :a) AND (ts <= :b OR ts > :c)", {":a": {"N": "5"}, ":b": {"N": "100"}, ":c": {"N": "1000"}}),
        ("attribute_type(ts, :t) AND ts <> :x AND ts >= :y", {":t": {"S": "N"}, ":x": {"S": "100"}, ":y": {"N": "99.5"}}),
        ("attribute_exists (consumers.c1.pid)", None),
    ]
    for expression, values in conds:
        ddb.update_item(TableName=leases, Key=k2, UpdateExpression="SET seen = :seen", ConditionExpression=expression,
                        ExpressionAttributeValues={**(values or {}), ":seen": {"BOOL": True}})
    fails(ddb.update_item, "ConditionalCheckFailedException", TableName=leases, Key=k2,
          UpdateExpression="SET seen = :s", ConditionExpression="ts > :big",
          ExpressionAttributeValues={":s": {"BOOL": True}, ":big": {"N": "1000"}})

    # Expression errors.
    bad = [
        ({"ConditionExpression": "ts = :missing", "UpdateExpression": "SET a = :a", "ExpressionAttributeValues": {":a": {"S": "x"}}},
         "An expression attribute value used in expression is not defined; attribute value: :missing"),
        ({"UpdateExpression": "SET #nope = :a", "ExpressionAttributeValues": {":a": {"S": "x"}}},
         "An expression attribute name used in the document path is not defined; attribute name: #nope"),
        ({"UpdateExpression": "SET a = :a", "ExpressionAttributeValues": {":a": {"S": "x"}, ":b": {"S": "y"}}},
         "Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}"),
        ({"UpdateExpression": "SET a = :a", "ExpressionAttributeValues": {":a": {"S": "x"}}, "ExpressionAttributeNames": {"#z": "z"}},
         "Value provided in ExpressionAttributeNames unused in expressions: keys: {#z}"),
        ({"UpdateExpression": "SET a = :a", "ConditionExpression": "ts = = :a", "ExpressionAttributeValues": {":a": {"S": "x"}}},
         "Invalid ConditionExpression: Syntax error; token:"),
        ({"UpdateExpression": "SET a = :a", "ConditionExpression": "nope(ts)", "ExpressionAttributeValues": {":a": {"S": "x"}}},
         "Invalid function name; function: nope"),
        ({"UpdateExpression": "SET a = :a", "Expected": {"ts": {"Exists": False}}, "ExpressionAttributeValues": {":a": {"S": "x"}}},
         "Can not use both expression and non-expression parameters"),
        ({"UpdateExpression": "SET a = a + :a", "ExpressionAttributeValues": {":a": {"N": "1"}}},
         "The provided expression refers to an attribute that does not exist in the item"),
        ({"UpdateExpression": "SET ref = ref + :a", "ExpressionAttributeValues": {":a": {"N": "1"}}},
         "An operand in the update expression has an incorrect data type"),
        ({"UpdateExpression": "SET a = :a", "ExpressionAttributeValues": {":a": {"N": "1e126"}}},
         "Number overflow"),
        ({"UpdateExpression": "SET a = :a", "ExpressionAttributeValues": {":a": {"N": "1234567890123456789012345678901234567890"}}},
         "38 significant digits"),
        ({"UpdateExpression": "SET a = :a", "ExpressionAttributeValues": {":a": {"SS": ["x", "x"]}}},
         "duplicates"),
    ]
    for params, message in bad:
        fails(ddb.update_item, "ValidationException", message, TableName=leases, Key=k2, **params)
    fails(ddb.get_item, "ValidationException", "The provided key element does not match the schema",
          TableName=leases, Key={"other": {"S": "x"}})
    fails(ddb.put_item, "ValidationException", "Missing the key leaseKey", TableName=leases, Item={"x": {"S": "y"}})
    fails(ddb.put_item, "ValidationException", "Item size has exceeded the maximum allowed size",
          TableName=leases, Item={**key, "big": {"S": "x" * (400 * 1024 + 1)}})
    projected = ddb.get_item(TableName=leases, Key=k2, ProjectionExpression="#r, consumers.c1.pid",
                             ExpressionAttributeNames={"#r": "ref"})["Item"]
    check(projected == {"ref": {"S": "a/w2"}, "consumers": {"M": {"c1": {"M": {"pid": {"N": "7"}}}}}}, f"projection: {projected}")

    # Scan: paging, segments, filters.
    for i in range(10):
        ddb.put_item(TableName=leases, Item={"leaseKey": {"S": f"s{i:02}"}, "stream": {"S": "a" if i % 2 else "b"},
                                             "leaseOwner": {"S": f"w{i % 3}"}})
    seen, start, pages = [], None, 0
    while True:
        kwargs = {"ExclusiveStartKey": start} if start else {}
        page = ddb.scan(TableName=leases, Limit=4, **kwargs)
        pages += 1
        seen += [i["leaseKey"]["S"] for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    check(len(seen) == 12 and len(set(seen)) == 12 and pages >= 3, f"scan paging: {pages} pages, {seen}")
    by_segment = []
    for segment in range(3):
        by_segment += [i["leaseKey"]["S"] for i in ddb.scan(TableName=leases, Segment=segment, TotalSegments=3)["Items"]]
    check(sorted(by_segment) == sorted(seen), f"segments: {by_segment}")
    filtered = ddb.scan(TableName=leases, FilterExpression="#s = :s", ExpressionAttributeNames={"#s": "stream"},
                        ExpressionAttributeValues={":s": {"S": "a"}}, ProjectionExpression="leaseKey")
    check(filtered["Count"] == 5 and filtered["ScannedCount"] == 12 and all(list(i) == ["leaseKey"] for i in filtered["Items"]),
          f"scan filter: {filtered}")
    fails(ddb.scan, "ValidationException", "Segment", TableName=leases, Segment=3, TotalSegments=3)
    # A page stops after 1 MB of items, with a LastEvaluatedKey.
    for i in range(5):
        ddb.put_item(TableName=state, Item={"group": {"S": "big"}, "n": {"N": str(i)}, "blob": {"S": "x" * 300_000}})
    first = ddb.scan(TableName=state)
    check("LastEvaluatedKey" in first and 1 <= first["Count"] < 5, f"1 MB page: {first['Count']} items")
    rest = ddb.scan(TableName=state, ExclusiveStartKey=first["LastEvaluatedKey"])
    check(first["Count"] + rest["Count"] == 5 and "LastEvaluatedKey" not in rest, f"after the 1 MB page: {rest['Count']}")
    big = ddb.query(TableName=state, KeyConditionExpression="#g = :g", ExpressionAttributeNames={"#g": "group"},
                    ExpressionAttributeValues={":g": {"S": "big"}}, Select="COUNT")
    check("LastEvaluatedKey" in big and "Items" not in big and big["Count"] < 5, f"query 1 MB page: {big}")
    for i in range(5):
        ddb.delete_item(TableName=state, Key={"group": {"S": "big"}, "n": {"N": str(i)}})

    # Query: table with a range key, GSI added by UpdateTable.
    for n in ["5", "-1", "10", "2.5"]:
        ddb.put_item(TableName=state, Item={"group": {"S": "g"}, "n": {"N": n}, "v": {"S": "x" + n}})
    ddb.put_item(TableName=state, Item={"group": {"S": "other"}, "n": {"N": "1"}})
    q = ddb.query(TableName=state, KeyConditionExpression="#g = :g AND n > :lo",
                  ExpressionAttributeNames={"#g": "group"}, ExpressionAttributeValues={":g": {"S": "g"}, ":lo": {"N": "0"}})
    check([i["n"]["N"] for i in q["Items"]] == ["2.5", "5", "10"], f"query order: {q['Items']}")
    q = ddb.query(TableName=state, KeyConditionExpression="#g = :g", ScanIndexForward=False, Limit=2,
                  ExpressionAttributeNames={"#g": "group"}, ExpressionAttributeValues={":g": {"S": "g"}})
    check([i["n"]["N"] for i in q["Items"]] == ["10", "5"] and "LastEvaluatedKey" in q, f"query reverse: {q}")
    q2 = ddb.query(TableName=state, KeyConditionExpression="#g = :g", ScanIndexForward=False,
                   ExclusiveStartKey=q["LastEvaluatedKey"],
                   ExpressionAttributeNames={"#g": "group"}, ExpressionAttributeValues={":g": {"S": "g"}})
    check([i["n"]["N"] for i in q2["Items"]] == ["2.5", "-1"], f"query page 2: {q2['Items']}")
    q = ddb.query(TableName=state, KeyConditionExpression="#g = :g AND n BETWEEN :a AND :b",
                  ExpressionAttributeNames={"#g": "group"},
                  ExpressionAttributeValues={":g": {"S": "g"}, ":a": {"N": "-1"}, ":b": {"N": "5"}})
    check(q["Count"] == 3, f"between: {q}")
    fails(ddb.query, "ValidationException", "Query condition missed key schema element",
          TableName=state, KeyConditionExpression="n = :n", ExpressionAttributeValues={":n": {"N": "1"}})
    fails(ddb.query, "ValidationException", "BETWEEN", TableName=state,
          KeyConditionExpression="#g = :g AND n BETWEEN :b AND :a", ExpressionAttributeNames={"#g": "group"},
          ExpressionAttributeValues={":g": {"S": "g"}, ":a": {"N": "-1"}, ":b": {"N": "5"}})
    updated = ddb.update_table(
        TableName=leases,
        AttributeDefinitions=[{"AttributeName": "leaseOwner", "AttributeType": "S"},
                              {"AttributeName": "leaseKey", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "LeaseOwnerToLeaseKeyIndex",
            "KeySchema": [{"AttributeName": "leaseOwner", "KeyType": "HASH"},
                          {"AttributeName": "leaseKey", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}}])["TableDescription"]
    check(updated["GlobalSecondaryIndexes"][0]["IndexName"] == "LeaseOwnerToLeaseKeyIndex", f"gsi: {updated}")
    for _ in range(30):
        index = ddb.describe_table(TableName=leases)["Table"]["GlobalSecondaryIndexes"][0]
        if index["IndexStatus"] == "ACTIVE":
            break
        time.sleep(1)
    check(index["IndexStatus"] == "ACTIVE", f"gsi status: {index}")
    owned, start = [], None
    while True:
        kwargs = {"ExclusiveStartKey": start} if start else {}
        page = ddb.query(TableName=leases, IndexName="LeaseOwnerToLeaseKeyIndex", Limit=2,
                         KeyConditionExpression="leaseOwner = :o", ExpressionAttributeValues={":o": {"S": "w1"}}, **kwargs)
        owned += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    check([i["leaseKey"]["S"] for i in owned] == ["s01", "s04", "s07", "shardId-000000000000"], f"gsi query: {owned}")
    check(all(set(i) == {"leaseKey", "leaseOwner"} for i in owned), f"KEYS_ONLY: {owned}")
    fails(ddb.query, "ValidationException", "Consistent reads are not supported on global secondary indexes",
          TableName=leases, IndexName="LeaseOwnerToLeaseKeyIndex", ConsistentRead=True,
          KeyConditionExpression="leaseOwner = :o", ExpressionAttributeValues={":o": {"S": "w1"}})
    fails(ddb.put_item, "ValidationException", "Type mismatch for Index Key leaseOwner",
          TableName=leases, Item={"leaseKey": {"S": "typed"}, "leaseOwner": {"N": "1"}})
    fails(ddb.query, "ValidationException", "Filter Expression can only contain non-primary key attributes",
          TableName=state, KeyConditionExpression="#g = :g", FilterExpression="n > :n",
          ExpressionAttributeNames={"#g": "group"}, ExpressionAttributeValues={":g": {"S": "g"}, ":n": {"N": "1"}})

    # Continuous backups and time to live: stored and described.
    ddb.update_continuous_backups(TableName=leases, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    pitr = ddb.describe_continuous_backups(TableName=leases)["ContinuousBackupsDescription"]
    check(pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED", f"pitr: {pitr}")
    fails(ddb.describe_continuous_backups, "TableNotFoundException", TableName="missing-" + suffix)
    ddb.update_time_to_live(TableName=leases, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
    ttl = ddb.describe_time_to_live(TableName=leases)["TimeToLiveDescription"]
    check(ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}, f"ttl: {ttl}")

    # Tags, on the table's ARN.
    arn = described["TableArn"]
    check(ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "app", "Value": "kcl"}], "tags from CreateTable")
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "x"}, {"Key": "app", "Value": "kcl2"}])
    ddb.untag_resource(ResourceArn=arn, TagKeys=["team"])
    check(ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "app", "Value": "kcl2"}], "tag, untag")
    fails(ddb.list_tags_of_resource, "ResourceNotFoundException", ResourceArn=arn + "-missing")
    fails(ddb.update_item, "ValidationException", "ExpressionAttributeValues must not be empty",
          TableName=leases, Key=k2, UpdateExpression="REMOVE nothing", ExpressionAttributeValues={})

    # Transactions: all or nothing.
    ddb.transact_write_items(TransactItems=[
        {"ConditionCheck": {"TableName": leases, "Key": k2, "ConditionExpression": "#r = :r",
                            "ExpressionAttributeNames": {"#r": "ref"}, "ExpressionAttributeValues": {":r": {"S": "a/w2"}}}},
        {"Put": {"TableName": state, "Item": {"group": {"S": "t"}, "n": {"N": "1"}},
                 "ConditionExpression": "attribute_not_exists(#g)", "ExpressionAttributeNames": {"#g": "group"}}},
        {"Delete": {"TableName": leases, "Key": {"leaseKey": {"S": "s00"}}}},
        {"Update": {"TableName": leases, "Key": {"leaseKey": {"S": "s01"}}, "UpdateExpression": "SET migrated = :t",
                    "ExpressionAttributeValues": {":t": {"BOOL": True}}}},
    ])
    check("Item" not in ddb.get_item(TableName=leases, Key={"leaseKey": {"S": "s00"}}), "transaction delete")
    check(ddb.get_item(TableName=leases, Key={"leaseKey": {"S": "s01"}})["Item"]["migrated"] == {"BOOL": True}, "transaction update")
    canceled = fails(ddb.transact_write_items, "TransactionCanceledException", TransactItems=[
        {"Put": {"TableName": state, "Item": {"group": {"S": "t"}, "n": {"N": "2"}}}},
        {"Put": {"TableName": state, "Item": {"group": {"S": "t"}, "n": {"N": "1"}},
                 "ConditionExpression": "attribute_not_exists(#g)", "ExpressionAttributeNames": {"#g": "group"},
                 "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
    ])
    reasons = canceled.get("CancellationReasons", [])
    check([r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed"] and "Item" in reasons[1], f"reasons: {reasons}")
    check("Item" not in ddb.get_item(TableName=state, Key={"group": {"S": "t"}, "n": {"N": "2"}}), "nothing of a canceled transaction")
    fails(ddb.transact_write_items, "ValidationException", "multiple operations on one item", TransactItems=[
        {"Delete": {"TableName": leases, "Key": k2}}, {"Delete": {"TableName": leases, "Key": k2}}])

    # Deletion: protection, then gone with its items.
    ddb.update_table(TableName=state, DeletionProtectionEnabled=True)
    fails(ddb.delete_table, "ValidationException", "protected against deletion", TableName=state)
    ddb.update_table(TableName=state, DeletionProtectionEnabled=False)
    deleted = ddb.delete_table(TableName=state)["TableDescription"]
    check(deleted["TableStatus"] == "DELETING", f"delete: {deleted}")
    fails(ddb.describe_table, "ResourceNotFoundException", TableName=state)
    fails(ddb.put_item, "ResourceNotFoundException", TableName=state, Item={"group": {"S": "g"}, "n": {"N": "1"}})
    fails(ddb.list_backups, "UnknownOperationException")

    print(f"dynamodb conformance: OK ({CHECKS} checks in {time.monotonic() - STARTED:.1f}s)")


if __name__ == "__main__":
    main(sys.argv[1])
