//! CBOR (`application/x-amz-cbor-1.1`, what the Java SDK sends) over raw HTTP/1.1.
//!
//! The same scenario runs twice, once in JSON against one server and once in CBOR against a
//! twin (same clock, same names), and every answer is compared field by field after mapping
//! both onto one form: blobs as base64, timestamps as integer epoch milliseconds, and opaque
//! tokens (shard iterators, next tokens), which are sealed with a per-server key, blanked.

mod common;

use aws_smithy_types::base64;
use ciborium::Value as Cbor;
use common::raw::{post, Resp, AUTH, CBOR_CT};
use kinesd::{Config, ManualClock, Server};
use serde_json::{json, Value as Json};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const JSON_TYPE: &str = "application/x-amz-json-1.1";

fn is_timestamp_member(key: &str) -> bool {
    key.ends_with("Timestamp") || matches!(key, "StartedAt" | "EndedAt" | "EarliestAllowedEndAt")
}

fn is_opaque_member(key: &str) -> bool {
    matches!(key, "ShardIterator" | "NextShardIterator" | "NextToken")
}

/// A JSON request as the Java SDK would write it in CBOR: blobs as byte strings, timestamps
/// as epoch milliseconds in tag 1, and indefinite-length maps as Jackson writes them.
fn json_to_cbor(value: &Json, key: &str) -> Cbor {
    match value {
        Json::Null => Cbor::Null,
        Json::Bool(b) => Cbor::Bool(*b),
        Json::Number(n) if is_timestamp_member(key) => {
            let ms = (n.as_f64().unwrap() * 1000.0).round() as i64;
            Cbor::Tag(1, Box::new(Cbor::Integer(ms.into())))
        }
        Json::Number(n) => match n.as_i64() {
            Some(i) => Cbor::Integer(i.into()),
            None => Cbor::Float(n.as_f64().unwrap()),
        },
        Json::String(s) if key == "Data" => Cbor::Bytes(base64::decode(s).unwrap()),
        Json::String(s) => Cbor::Text(s.clone()),
        Json::Array(items) => Cbor::Array(items.iter().map(|v| json_to_cbor(v, "")).collect()),
        Json::Object(members) => Cbor::Map(
            members
                .iter()
                .map(|(k, v)| (Cbor::Text(k.clone()), json_to_cbor(v, k)))
                .collect(),
        ),
    }
}

/// Writes CBOR with indefinite-length maps (0xbf … 0xff), as Jackson's CBOR generator does.
fn write_cbor_indefinite(value: &Cbor, out: &mut Vec<u8>) {
    match value {
        Cbor::Map(members) => {
            out.push(0xbf);
            for (k, v) in members {
                write_cbor_indefinite(k, out);
                write_cbor_indefinite(v, out);
            }
            out.push(0xff);
        }
        Cbor::Array(items) => {
            out.push(0x9f);
            for v in items {
                write_cbor_indefinite(v, out);
            }
            out.push(0xff);
        }
        other => ciborium::ser::into_writer(other, &mut *out).unwrap(),
    }
}

/// An answer in JSON's shape with timestamps as integer milliseconds; checks CBOR's types
/// (timestamps must be tag 1 around integer milliseconds, as the Java SDK reads them).
fn cbor_to_json(value: &Cbor, key: &str) -> Json {
    match value {
        Cbor::Null => Json::Null,
        Cbor::Bool(b) => json!(b),
        Cbor::Tag(1, ms) if is_timestamp_member(key) => match **ms {
            Cbor::Integer(i) => {
                let i: i128 = i.into();
                json!(i64::try_from(i).unwrap())
            }
            ref other => panic!("{key} must be tag 1 around integer milliseconds, got {other:?}"),
        },
        Cbor::Integer(i) => {
            assert!(
                !is_timestamp_member(key),
                "{key} must be in tag 1 in CBOR, got the bare integer {i:?}"
            );
            let i: i128 = (*i).into();
            json!(i64::try_from(i).unwrap())
        }
        Cbor::Float(f) => {
            assert!(
                !is_timestamp_member(key),
                "{key} must be tag 1 around integer milliseconds in CBOR, got {f}"
            );
            json!(f)
        }
        Cbor::Bytes(b) => {
            assert_eq!(key, "Data", "only Data is a blob");
            json!(base64::encode(b))
        }
        Cbor::Text(s) => {
            assert_ne!(key, "Data", "Data must be a byte string in CBOR");
            json!(s)
        }
        Cbor::Array(items) => Json::Array(items.iter().map(|v| cbor_to_json(v, "")).collect()),
        Cbor::Map(members) => Json::Object(
            members
                .iter()
                .map(|(k, v)| {
                    let k = k.as_text().expect("text keys").to_string();
                    let v = cbor_to_json(v, &k);
                    (k, v)
                })
                .collect(),
        ),
        Cbor::Tag(tag, _) => panic!("unexpected tag {tag} at {key}"),
        other => panic!("unexpected CBOR item {other:?} at {key}"),
    }
}

/// JSON timestamps (epoch seconds with a fraction) as integer milliseconds.
fn json_timestamps_to_ms(value: &mut Json, key: &str) {
    match value {
        Json::Number(n) if is_timestamp_member(key) => {
            let ms = (n.as_f64().unwrap() * 1000.0).round() as i64;
            *value = json!(ms);
        }
        Json::Array(items) => items.iter_mut().for_each(|v| json_timestamps_to_ms(v, "")),
        Json::Object(members) => members
            .iter_mut()
            .for_each(|(k, v)| json_timestamps_to_ms(v, k)),
        _ => {}
    }
}

fn blank_opaque(value: &Json, key: &str) -> Json {
    match value {
        Json::String(s) if is_opaque_member(key) => {
            assert!(!s.is_empty());
            json!("<opaque>")
        }
        Json::Array(items) => Json::Array(items.iter().map(|v| blank_opaque(v, "")).collect()),
        Json::Object(members) => Json::Object(
            members
                .iter()
                .map(|(k, v)| (k.clone(), blank_opaque(v, k)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Enc {
    Json,
    Cbor,
}

/// One side of the matrix: a server, its clock, the encoding, and the log of answers.
struct Side {
    server: Server,
    clock: ManualClock,
    enc: Enc,
    log: Vec<(String, u16, Json)>,
}

impl Side {
    async fn start(enc: Enc, start_ms: i64) -> Side {
        let clock = ManualClock::new(start_ms);
        let server = common::start_with_clock(Config::default(), &clock).await;
        Side {
            server,
            clock,
            enc,
            log: Vec::new(),
        }
    }

    /// Sends `input` (written as JSON) in this side's encoding; answers in JSON's shape with
    /// timestamps as integer milliseconds, and logs the answer with opaque tokens blanked.
    async fn call_as(&mut self, label: &str, op: &str, input: Json, signed: bool) -> (u16, Json) {
        let (content_type, body) = match self.enc {
            Enc::Json => (JSON_TYPE, serde_json::to_vec(&input).unwrap()),
            Enc::Cbor => {
                let mut body = Vec::new();
                write_cbor_indefinite(&json_to_cbor(&input, ""), &mut body);
                (CBOR_CT, body)
            }
        };
        if matches!(op, "PutRecord" | "PutRecords" | "GetRecords") {
            // A data-plane request is served from its node's view of the catalogue, which
            // follows a change made through the other node a moment later.
            common::cluster::settle(self.server.local_addr()).await;
        }
        let target = format!("Kinesis_20131202.{op}");
        let reply = post(
            self.server.local_addr(),
            &target,
            content_type,
            &body,
            signed,
        )
        .await;
        assert_eq!(
            reply.header("content-type"),
            Some(content_type),
            "{label}: answered in the request's encoding"
        );
        assert!(reply.header("x-amzn-RequestId").is_some(), "{label}");
        let answer = if reply.body.is_empty() {
            Json::Null
        } else {
            match self.enc {
                Enc::Json => {
                    let mut v: Json = serde_json::from_slice(&reply.body).unwrap();
                    json_timestamps_to_ms(&mut v, "");
                    v
                }
                Enc::Cbor => {
                    let v: Cbor = ciborium::de::from_reader(&reply.body[..])
                        .unwrap_or_else(|e| panic!("{label}: bad CBOR answer: {e:?}"));
                    cbor_to_json(&v, "")
                }
            }
        };
        self.log
            .push((label.to_string(), reply.status, blank_opaque(&answer, "")));
        (reply.status, answer)
    }

    async fn call(&mut self, label: &str, op: &str, input: Json) -> (u16, Json) {
        self.call_as(label, op, input, true).await
    }

    async fn ok(&mut self, label: &str, op: &str, input: Json) -> Json {
        let (status, answer) = self.call(label, op, input).await;
        assert_eq!(status, 200, "{label}: {answer}");
        answer
    }

    async fn iterator(&mut self, label: &str, input: Json) -> String {
        let answer = self.ok(label, "GetShardIterator", input).await;
        answer["ShardIterator"].as_str().unwrap().to_string()
    }
}

/// Every implemented operation, successes and errors; the same calls in either encoding.
async fn scenario(s: &mut Side) {
    let t0 = s.clock_now();
    s.ok("limits", "DescribeLimits", json!({})).await;
    s.ok(
        "create",
        "CreateStream",
        json!({"StreamName": "s1", "ShardCount": 2}),
    )
    .await;
    s.ok(
        "create on-demand",
        "CreateStream",
        json!({"StreamName": "s2", "StreamModeDetails": {"StreamMode": "ON_DEMAND"}}),
    )
    .await;
    s.call(
        "create again",
        "CreateStream",
        json!({"StreamName": "s1", "ShardCount": 1}),
    )
    .await;
    s.call(
        "create invalid",
        "CreateStream",
        json!({"StreamName": "bad name!", "ShardCount": 0}),
    )
    .await;
    s.call(
        "create wrong type",
        "CreateStream",
        json!({"StreamName": 5}),
    )
    .await;
    s.call(
        "create wrong number type",
        "CreateStream",
        json!({"StreamName": "s3", "ShardCount": "two"}),
    )
    .await;
    s.ok("describe", "DescribeStream", json!({"StreamName": "s1"}))
        .await;
    s.ok(
        "describe paged",
        "DescribeStream",
        json!({"StreamName": "s1", "Limit": 1}),
    )
    .await;
    s.ok(
        "summary",
        "DescribeStreamSummary",
        json!({"StreamName": "s1"}),
    )
    .await;
    s.ok("list streams", "ListStreams", json!({})).await;
    let page = s
        .ok("list streams paged", "ListStreams", json!({"Limit": 1}))
        .await;
    if let Some(token) = page["NextToken"].as_str() {
        s.ok(
            "list streams page 2",
            "ListStreams",
            json!({"NextToken": token}),
        )
        .await;
    }
    s.ok("list shards", "ListShards", json!({"StreamName": "s1"}))
        .await;
    let page = s
        .ok(
            "list shards paged",
            "ListShards",
            json!({"StreamName": "s1", "MaxResults": 1}),
        )
        .await;
    let token = page["NextToken"].as_str().unwrap().to_string();
    s.ok(
        "list shards page 2",
        "ListShards",
        json!({"NextToken": token}),
    )
    .await;
    s.ok(
        "list shards at timestamp",
        "ListShards",
        json!({"StreamName": "s1", "ShardFilter": {"Type": "AT_TIMESTAMP", "Timestamp": t0 as f64 / 1000.0}}),
    )
    .await;

    // Writes: text, binary, empty and explicitly routed records, at two moments.
    let first = s
        .ok(
            "put",
            "PutRecord",
            json!({"StreamName": "s1", "Data": "aGk=", "PartitionKey": "a"}),
        )
        .await;
    let first_seq = first["SequenceNumber"].as_str().unwrap().to_string();
    s.ok(
        "put empty",
        "PutRecord",
        json!({"StreamName": "s1", "Data": "", "PartitionKey": "a"}),
    )
    .await;
    s.ok(
        "put routed",
        "PutRecord",
        json!({"StreamName": "s1", "Data": "AP/+", "PartitionKey": "a", "ExplicitHashKey": "0"}),
    )
    .await;
    s.call(
        "put without data",
        "PutRecord",
        json!({"StreamName": "s1", "PartitionKey": "a"}),
    )
    .await;
    s.call(
        "put to nowhere",
        "PutRecord",
        json!({"StreamName": "nope", "Data": "aGk=", "PartitionKey": "a"}),
    )
    .await;
    s.clock.advance_ms(1500);
    let t1 = s.clock_now();
    s.ok(
        "put records",
        "PutRecords",
        json!({"StreamName": "s1", "Records": [
            {"Data": "AAECAwQFBgcICQ==", "PartitionKey": "a"},
            {"Data": "//79/A==", "PartitionKey": "b", "ExplicitHashKey": "0"},
            {"Data": "", "PartitionKey": "c"},
        ]}),
    )
    .await;
    s.call(
        "put records none",
        "PutRecords",
        json!({"StreamName": "s1", "Records": []}),
    )
    .await;
    s.clock.advance_ms(500);

    // Reads from every kind of iterator.
    for shard in ["shardId-000000000000", "shardId-000000000001"] {
        let it = s
            .iterator(
                &format!("iterator trim horizon {shard}"),
                json!({"StreamName": "s1", "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}),
            )
            .await;
        s.ok(
            &format!("get trim horizon {shard}"),
            "GetRecords",
            json!({"ShardIterator": it}),
        )
        .await;
        let it = s
            .iterator(
                &format!("iterator at timestamp {shard}"),
                json!({"StreamName": "s1", "ShardId": shard, "ShardIteratorType": "AT_TIMESTAMP",
                       "Timestamp": (t1 - 1) as f64 / 1000.0}),
            )
            .await;
        let page = s
            .ok(
                &format!("get at timestamp {shard}"),
                "GetRecords",
                json!({"ShardIterator": it}),
            )
            .await;
        // AT_TIMESTAMP between the two batches skips the first one.
        for record in page["Records"].as_array().unwrap() {
            assert!(record["ApproximateArrivalTimestamp"].as_i64().unwrap() >= t1);
        }
    }
    let shard0 = "shardId-000000000000";
    let it = s
        .iterator(
            "iterator at sequence",
            json!({"StreamName": "s1", "ShardId": shard0, "ShardIteratorType": "AT_SEQUENCE_NUMBER", "StartingSequenceNumber": first_seq}),
        )
        .await;
    let page = s
        .ok(
            "get at sequence, limit 2",
            "GetRecords",
            json!({"ShardIterator": it, "Limit": 2}),
        )
        .await;
    let next = page["NextShardIterator"].as_str().unwrap().to_string();
    s.ok(
        "get next page",
        "GetRecords",
        json!({"ShardIterator": next}),
    )
    .await;
    let it = s
        .iterator(
            "iterator after sequence",
            json!({"StreamName": "s1", "ShardId": shard0, "ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": first_seq}),
        )
        .await;
    s.ok(
        "get after sequence",
        "GetRecords",
        json!({"ShardIterator": it}),
    )
    .await;
    let it = s
        .iterator(
            "iterator latest",
            json!({"StreamName": "s1", "ShardId": shard0, "ShardIteratorType": "LATEST"}),
        )
        .await;
    s.ok("get latest", "GetRecords", json!({"ShardIterator": it}))
        .await;
    s.call(
        "iterator in the future",
        "GetShardIterator",
        json!({"StreamName": "s1", "ShardId": shard0, "ShardIteratorType": "AT_TIMESTAMP",
               "Timestamp": (s.clock_now() + 60_000) as f64 / 1000.0}),
    )
    .await;
    s.call(
        "iterator without timestamp",
        "GetShardIterator",
        json!({"StreamName": "s1", "ShardId": shard0, "ShardIteratorType": "AT_TIMESTAMP"}),
    )
    .await;
    s.call(
        "iterator bad type",
        "GetShardIterator",
        json!({"StreamName": "s1", "ShardId": shard0, "ShardIteratorType": "SOMEWHERE"}),
    )
    .await;
    s.call(
        "get with a bad iterator",
        "GetRecords",
        json!({"ShardIterator": "AAAAAAAAAAGbogus"}),
    )
    .await;

    // Tags.
    s.ok(
        "add tags",
        "AddTagsToStream",
        json!({"StreamName": "s1", "Tags": {"team": "data", "env": "test", "empty": ""}}),
    )
    .await;
    s.ok(
        "list tags",
        "ListTagsForStream",
        json!({"StreamName": "s1"}),
    )
    .await;
    s.ok(
        "list tags paged",
        "ListTagsForStream",
        json!({"StreamName": "s1", "Limit": 1, "ExclusiveStartTagKey": "empty"}),
    )
    .await;
    s.ok(
        "remove tags",
        "RemoveTagsFromStream",
        json!({"StreamName": "s1", "TagKeys": ["env"]}),
    )
    .await;
    s.ok(
        "list tags after",
        "ListTagsForStream",
        json!({"StreamName": "s1"}),
    )
    .await;
    s.call(
        "add no tags",
        "AddTagsToStream",
        json!({"StreamName": "s1", "Tags": {}}),
    )
    .await;

    // Retention.
    s.ok(
        "increase retention",
        "IncreaseStreamRetentionPeriod",
        json!({"StreamName": "s1", "RetentionPeriodHours": 48}),
    )
    .await;
    s.ok(
        "summary after increase",
        "DescribeStreamSummary",
        json!({"StreamName": "s1"}),
    )
    .await;
    s.ok(
        "decrease retention",
        "DecreaseStreamRetentionPeriod",
        json!({"StreamName": "s1", "RetentionPeriodHours": 24}),
    )
    .await;
    s.call(
        "decrease too far",
        "DecreaseStreamRetentionPeriod",
        json!({"StreamName": "s1", "RetentionPeriodHours": 12}),
    )
    .await;
    s.call(
        "increase too little",
        "IncreaseStreamRetentionPeriod",
        json!({"StreamName": "s1", "RetentionPeriodHours": 10}),
    )
    .await;

    // Protocol-level errors.
    s.call(
        "describe missing",
        "DescribeStream",
        json!({"StreamName": "missing"}),
    )
    .await;
    s.call("unknown operation", "NoSuchOperation", json!({}))
        .await;
    s.call_as("unsigned", "ListStreams", json!({}), false).await;
    s.call("wrong shape", "ListStreams", json!({"Limit": [1]}))
        .await;
    s.call(
        "wrong member type",
        "ListStreams",
        json!({"Limit": {"a": 1}}),
    )
    .await;

    newer_operations(s).await;

    // And away.
    s.ok("delete", "DeleteStream", json!({"StreamName": "s1"}))
        .await;
    s.call(
        "describe deleted",
        "DescribeStream",
        json!({"StreamName": "s1"}),
    )
    .await;
    s.ok("list after delete", "ListStreams", json!({})).await;
}

/// Consumers, ARN tagging, resource policies, encryption, monitoring, modes, record size,
/// account settings and resharding (with ChildShards at the end of a closed shard).
async fn newer_operations(s: &mut Side) {
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s1";
    s.ok(
        "register consumer",
        "RegisterStreamConsumer",
        json!({"StreamARN": arn, "ConsumerName": "c1"}),
    )
    .await;
    s.clock.advance_ms(1000);
    s.ok(
        "describe consumer",
        "DescribeStreamConsumer",
        json!({"StreamARN": arn, "ConsumerName": "c1"}),
    )
    .await;
    s.ok(
        "list consumers",
        "ListStreamConsumers",
        json!({"StreamARN": arn}),
    )
    .await;
    s.call(
        "describe consumer missing",
        "DescribeStreamConsumer",
        json!({"StreamARN": arn, "ConsumerName": "nobody"}),
    )
    .await;
    s.ok(
        "deregister consumer",
        "DeregisterStreamConsumer",
        json!({"StreamARN": arn, "ConsumerName": "c1"}),
    )
    .await;
    s.clock.advance_ms(1000);
    s.ok(
        "tag resource",
        "TagResource",
        json!({"ResourceARN": arn, "Tags": {"owner": "me"}}),
    )
    .await;
    s.ok(
        "list tags for resource",
        "ListTagsForResource",
        json!({"ResourceARN": arn}),
    )
    .await;
    s.ok(
        "untag resource",
        "UntagResource",
        json!({"ResourceARN": arn, "TagKeys": ["owner"]}),
    )
    .await;
    let policy = r#"{"Version":"2012-10-17","Statement":[]}"#;
    s.ok(
        "put policy",
        "PutResourcePolicy",
        json!({"ResourceARN": arn, "Policy": policy}),
    )
    .await;
    s.ok(
        "get policy",
        "GetResourcePolicy",
        json!({"ResourceARN": arn}),
    )
    .await;
    s.ok(
        "delete policy",
        "DeleteResourcePolicy",
        json!({"ResourceARN": arn}),
    )
    .await;
    s.ok(
        "start encryption",
        "StartStreamEncryption",
        json!({"StreamName": "s1", "EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}),
    )
    .await;
    s.clock.advance_ms(1000);
    s.ok(
        "put encrypted",
        "PutRecord",
        json!({"StreamName": "s1", "Data": "c2VjcmV0", "PartitionKey": "a"}),
    )
    .await;
    s.ok(
        "stop encryption",
        "StopStreamEncryption",
        json!({"StreamName": "s1", "EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}),
    )
    .await;
    s.clock.advance_ms(1000);
    s.ok(
        "enable monitoring",
        "EnableEnhancedMonitoring",
        json!({"StreamName": "s1", "ShardLevelMetrics": ["IncomingBytes", "OutgoingRecords"]}),
    )
    .await;
    s.ok(
        "disable monitoring",
        "DisableEnhancedMonitoring",
        json!({"StreamName": "s1", "ShardLevelMetrics": ["IncomingBytes"]}),
    )
    .await;
    s.ok(
        "max record size",
        "UpdateMaxRecordSize",
        json!({"StreamARN": arn, "MaxRecordSizeInKiB": 2048}),
    )
    .await;
    s.clock.advance_ms(1000);
    s.call(
        "max record size out of range",
        "UpdateMaxRecordSize",
        json!({"StreamARN": arn, "MaxRecordSizeInKiB": 99}),
    )
    .await;
    s.ok("account settings", "DescribeAccountSettings", json!({}))
        .await;
    s.ok(
        "commit",
        "UpdateAccountSettings",
        json!({"MinimumThroughputBillingCommitment": {"Status": "ENABLED"}}),
    )
    .await;
    s.ok(
        "account settings after",
        "DescribeAccountSettings",
        json!({}),
    )
    .await;
    s.ok(
        "warm throughput",
        "UpdateStreamWarmThroughput",
        json!({"StreamName": "s2", "WarmThroughputMiBps": 100}),
    )
    .await;
    s.clock.advance_ms(1000);
    s.call(
        "warm throughput on provisioned",
        "UpdateStreamWarmThroughput",
        json!({"StreamName": "s1", "WarmThroughputMiBps": 100}),
    )
    .await;
    s.ok(
        "stream mode",
        "UpdateStreamMode",
        json!({"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/s2",
               "StreamModeDetails": {"StreamMode": "PROVISIONED"}}),
    )
    .await;
    s.clock.advance_ms(1000);
    s.ok(
        "summary s2",
        "DescribeStreamSummary",
        json!({"StreamName": "s2"}),
    )
    .await;

    // Resharding, then read a closed parent to its end.
    s.ok(
        "split",
        "SplitShard",
        json!({"StreamName": "s1", "ShardToSplit": "shardId-000000000000",
               "NewStartingHashKey": "85070591730234615865843651857942052864"}),
    )
    .await;
    s.clock.advance_ms(1000);
    s.ok(
        "merge",
        "MergeShards",
        json!({"StreamName": "s1", "ShardToMerge": "shardId-000000000002",
               "AdjacentShardToMerge": "shardId-000000000003"}),
    )
    .await;
    s.clock.advance_ms(1000);
    s.call(
        "merge closed",
        "MergeShards",
        json!({"StreamName": "s1", "ShardToMerge": "shardId-000000000002",
               "AdjacentShardToMerge": "shardId-000000000003"}),
    )
    .await;
    s.ok(
        "update shard count",
        "UpdateShardCount",
        json!({"StreamName": "s1", "TargetShardCount": 4, "ScalingType": "UNIFORM_SCALING"}),
    )
    .await;
    s.clock.advance_ms(1000);
    s.ok(
        "list shards resharded",
        "ListShards",
        json!({"StreamName": "s1"}),
    )
    .await;
    let it = s
        .iterator(
            "iterator closed parent",
            json!({"StreamName": "s1", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"}),
        )
        .await;
    let mut it = Some(it);
    let mut pages = 0;
    let mut children = false;
    while let Some(iterator) = it.take() {
        pages += 1;
        assert!(pages < 10, "a closed shard ends");
        let page = s
            .ok(
                &format!("get closed parent page {pages}"),
                "GetRecords",
                json!({"ShardIterator": iterator}),
            )
            .await;
        if page["ChildShards"].is_array() {
            children = true;
            break;
        }
        it = page["NextShardIterator"].as_str().map(str::to_string);
    }
    assert!(children, "ChildShards at the end of the closed parent");
}

impl Side {
    fn clock_now(&self) -> i64 {
        use kinesd::Clock;
        self.clock.now_ms()
    }
}

both_backends! {
    #[tokio::test]
    async fn every_operation_answers_the_same_in_cbor_and_json() {
        // Whole milliseconds in seconds-with-fraction JSON round-trip exactly.
        let start = ManualClock::starting_now();
        let start_ms = {
            use kinesd::Clock;
            start.now_ms()
        };
        let mut json_side = Side::start(Enc::Json, start_ms).await;
        let mut cbor_side = Side::start(Enc::Cbor, start_ms).await;
        scenario(&mut json_side).await;
        scenario(&mut cbor_side).await;
        assert_eq!(json_side.log.len(), cbor_side.log.len());
        let mut errors = 0;
        for ((label, json_status, json_answer), (_, cbor_status, cbor_answer)) in
            json_side.log.iter().zip(cbor_side.log.iter())
        {
            assert_eq!(json_status, cbor_status, "{label}: status");
            assert_eq!(
                json_answer, cbor_answer,
                "{label}: the CBOR answer differs from the JSON one"
            );
            if *json_status != 200 {
                errors += 1;
                assert!(
                    json_answer["__type"].is_string(),
                    "{label}: error without __type: {json_answer}"
                );
            }
        }
        assert!(errors >= 15, "the matrix covers errors too ({errors})");
        assert!(json_side.log.len() >= 60, "{}", json_side.log.len());
        json_side.server.shutdown().await;
        cbor_side.server.shutdown().await;
    }
}

async fn cbor_call(addr: SocketAddr, op: &str, body: &[u8]) -> (u16, Option<Cbor>, Resp) {
    let reply = post(addr, &format!("Kinesis_20131202.{op}"), CBOR_CT, body, true).await;
    let value = (!reply.body.is_empty())
        .then(|| ciborium::de::from_reader::<Cbor, _>(&reply.body[..]).unwrap());
    (reply.status, value, reply)
}

fn member<'a>(value: &'a Cbor, key: &str) -> &'a Cbor {
    value
        .as_map()
        .unwrap()
        .iter()
        .find(|(k, _)| k.as_text() == Some(key))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {key} in {value:?}"))
}

fn encode(value: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).unwrap();
    out
}

fn map(members: Vec<(&str, Cbor)>) -> Cbor {
    Cbor::Map(
        members
            .into_iter()
            .map(|(k, v)| (Cbor::Text(k.into()), v))
            .collect(),
    )
}

fn text(s: &str) -> Cbor {
    Cbor::Text(s.into())
}

/// A timestamp as the Java SDK writes and reads it: tag 1 around integer epoch milliseconds.
fn ms_timestamp(ms: i64) -> Cbor {
    Cbor::Tag(1, Box::new(Cbor::Integer(ms.into())))
}

both_backends! {
    #[tokio::test]
    async fn java_sdk_style_bytes_and_every_timestamp_form() {
        let clock = ManualClock::new(1_700_000_000_000);
        let server = common::start_with_clock(Config::default(), &clock).await;
        let addr = server.local_addr();

        let (status, body, reply) = cbor_call(
            addr,
            "CreateStream",
            &encode(&map(vec![
                ("StreamName", text("s")),
                ("ShardCount", Cbor::Integer(1.into())),
            ])),
        )
        .await;
        assert_eq!((status, body.is_none()), (200, true));
        assert_eq!(reply.header("content-length"), Some("0"));

        // The PutRecord of the unit test's golden bytes, as is.
        let golden = "a36a53747265616d4e616d6561736444617461426869\
                      6c506172746974696f6e4b6579616b";
        let golden: Vec<u8> = (0..golden.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&golden[i..i + 2], 16).unwrap())
            .collect();
        let (status, body, _) = cbor_call(addr, "PutRecord", &golden).await;
        assert_eq!(status, 200);
        let body = body.unwrap();
        assert_eq!(member(&body, "ShardId"), &text("shardId-000000000000"));
        assert!(member(&body, "SequenceNumber").is_text());

        // A second record 10 s later.
        clock.advance_ms(10_000);
        let (status, _, _) = cbor_call(
            addr,
            "PutRecord",
            &encode(&map(vec![
                ("StreamName", text("s")),
                ("Data", Cbor::Bytes(vec![0, 0xff, 0x80])),
                ("PartitionKey", text("k")),
            ])),
        )
        .await;
        assert_eq!(status, 200);
        clock.advance_ms(1_000);

        // AT_TIMESTAMP at 1_700_000_005_000 in every form finds only the second record.
        let at_ms = 1_700_000_005_000_i64;
        let forms = [
            ("untagged ms", Cbor::Integer(at_ms.into())),
            (
                "tag 1 ms",
                Cbor::Tag(1, Box::new(Cbor::Integer(at_ms.into()))),
            ),
            ("float seconds", Cbor::Float(at_ms as f64 / 1000.0)),
            (
                "tag 1 float seconds",
                Cbor::Tag(1, Box::new(Cbor::Float(at_ms as f64 / 1000.0))),
            ),
            ("float ms", Cbor::Float(at_ms as f64)),
        ];
        for (form, timestamp) in forms {
            let (status, body, _) = cbor_call(
                addr,
                "GetShardIterator",
                &encode(&map(vec![
                    ("StreamName", text("s")),
                    ("ShardId", text("shardId-000000000000")),
                    ("ShardIteratorType", text("AT_TIMESTAMP")),
                    ("Timestamp", timestamp),
                ])),
            )
            .await;
            assert_eq!(status, 200, "{form}: {body:?}");
            let iterator = member(body.as_ref().unwrap(), "ShardIterator").clone();
            let (status, body, _) = cbor_call(
                addr,
                "GetRecords",
                &encode(&map(vec![("ShardIterator", iterator)])),
            )
            .await;
            assert_eq!(status, 200, "{form}");
            let body = body.unwrap();
            let records = member(&body, "Records").as_array().unwrap();
            assert_eq!(records.len(), 1, "{form}");
            assert_eq!(
                member(&records[0], "Data"),
                &Cbor::Bytes(vec![0, 0xff, 0x80]),
                "{form}"
            );
            assert_eq!(
                member(&records[0], "ApproximateArrivalTimestamp"),
                &ms_timestamp(1_700_000_010_000),
                "{form}: tag 1 around integer milliseconds"
            );
            assert_eq!(
                member(&body, "MillisBehindLatest"),
                &Cbor::Integer(0.into())
            );
        }

        // StreamCreationTimestamp is tag 1 around integer milliseconds too; in bytes:
        // c1 (tag 1) 1b (64-bit unsigned) 0000018bcfe56800 (1_700_000_000_000).
        let (_, body, reply) = cbor_call(
            addr,
            "DescribeStreamSummary",
            &encode(&map(vec![("StreamName", text("s"))])),
        )
        .await;
        let summary = member(body.as_ref().unwrap(), "StreamDescriptionSummary");
        assert_eq!(
            member(summary, "StreamCreationTimestamp"),
            &ms_timestamp(1_700_000_000_000)
        );
        let mut golden = b"\x77StreamCreationTimestamp".to_vec();
        golden.extend([0xc1, 0x1b, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00]);
        assert!(
            reply.body.windows(golden.len()).any(|w| w == golden),
            "{:02x?}",
            reply.body
        );
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test]
    async fn malformed_cbor_is_a_serialization_exception_in_cbor() {
        let (server, _clock) = common::start(Config::default()).await;
        let addr = server.local_addr();
        let bodies: [&[u8]; 6] = [
            b"{\"StreamName\":\"s\"}", // JSON sent as CBOR
            &[0xa1, 0x6a],             // truncated
            &[0x81, 0xa0],             // an array, not a map
            &[0xa0, 0x00],             // trailing bytes
            &[
                0xa1, 0x6a, b'S', b't', b'r', b'e', b'a', b'm', b'N', b'a', b'm', b'e', 0xf5,
            ],
            &[0xff],
        ];
        for body in bodies {
            let (status, answer, reply) = cbor_call(addr, "DescribeStream", body).await;
            assert_eq!(status, 400, "{body:02x?}");
            assert_eq!(reply.header("content-type"), Some(CBOR_CT));
            let answer = answer.unwrap();
            assert_eq!(
                member(&answer, "__type"),
                &text("SerializationException"),
                "{body:02x?}"
            );
        }
        // The server is still serving.
        let (status, _, _) = cbor_call(addr, "ListStreams", &[0xa0]).await;
        assert_eq!(status, 200);
        server.shutdown().await;
    }
}

/// Reads an HTTP/1.1 chunked answer incrementally and splits it into event-stream messages
/// (headers, payload) until `done` says enough.
async fn read_events(
    stream: &mut TcpStream,
    mut done: impl FnMut(&[(String, String)], &[u8]) -> bool,
) -> Vec<(Vec<(String, String)>, Vec<u8>)> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let mut head_end = None;
    let mut events = Vec::new();
    loop {
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("an event in time")
            .unwrap();
        assert!(n > 0, "the stream ended early");
        raw.extend_from_slice(&buf[..n]);
        if head_end.is_none() {
            head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
            let Some(end) = head_end else { continue };
            let head = String::from_utf8_lossy(&raw[..end]).to_lowercase();
            assert!(head.starts_with("http/1.1 200"), "{head}");
            assert!(
                head.contains("application/vnd.amazon.eventstream"),
                "{head}"
            );
            assert!(head.contains("transfer-encoding: chunked"), "{head}");
        }
        // Dechunk what has arrived (complete chunks only), then cut messages.
        let mut body = Vec::new();
        let mut rest = &raw[head_end.unwrap()..];
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap(), 16).unwrap();
            if rest.len() < eol + 2 + size + 2 {
                break;
            }
            body.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
            rest = &rest[eol + 2 + size + 2..];
        }
        events.clear();
        let mut at = 0;
        while body.len() >= at + 12 {
            let total = u32::from_be_bytes(body[at..at + 4].try_into().unwrap()) as usize;
            let headers_len = u32::from_be_bytes(body[at + 4..at + 8].try_into().unwrap()) as usize;
            if body.len() < at + total {
                break;
            }
            let mut headers = Vec::new();
            let mut h = at + 12;
            while h < at + 12 + headers_len {
                let name_len = body[h] as usize;
                let name = String::from_utf8(body[h + 1..h + 1 + name_len].to_vec()).unwrap();
                h += 1 + name_len;
                assert_eq!(body[h], 7, "string headers only");
                let len = u16::from_be_bytes([body[h + 1], body[h + 2]]) as usize;
                let value = String::from_utf8(body[h + 3..h + 3 + len].to_vec()).unwrap();
                h += 3 + len;
                headers.push((name, value));
            }
            let payload = body[at + 12 + headers_len..at + total - 4].to_vec();
            at += total;
            events.push((headers, payload));
        }
        if events.iter().any(|(h, p)| done(h, p)) {
            return events;
        }
    }
}

both_backends! {
    #[tokio::test]
    async fn subscribe_to_shard_events_are_cbor_when_asked_in_cbor() {
        let clock = ManualClock::new(1_700_000_000_000);
        let server = common::start_with_clock(Config::default(), &clock).await;
        let addr = server.local_addr();
        let (status, _, _) = cbor_call(
            addr,
            "CreateStream",
            &encode(&map(vec![
                ("StreamName", text("s")),
                ("ShardCount", Cbor::Integer(1.into())),
            ])),
        )
        .await;
        assert_eq!(status, 200);
        let (status, _, _) = cbor_call(
            addr,
            "PutRecord",
            &encode(&map(vec![
                ("StreamName", text("s")),
                ("Data", Cbor::Bytes(vec![1, 2, 3, 0xff])),
                ("PartitionKey", text("k")),
            ])),
        )
        .await;
        assert_eq!(status, 200);
        let (status, body, _) = cbor_call(
            addr,
            "RegisterStreamConsumer",
            &encode(&map(vec![
                (
                    "StreamARN",
                    text("arn:aws:kinesis:us-east-1:000000000000:stream/s"),
                ),
                ("ConsumerName", text("c")),
            ])),
        )
        .await;
        assert_eq!(status, 200, "{body:?}");
        let consumer = member(body.as_ref().unwrap(), "Consumer");
        let consumer_arn = member(consumer, "ConsumerARN").clone();
        assert_eq!(
            member(consumer, "ConsumerCreationTimestamp"),
            &ms_timestamp(1_700_000_000_000)
        );
        clock.advance_ms(1_000);

        let request = encode(&map(vec![
            ("ConsumerARN", consumer_arn),
            ("ShardId", text("shardId-000000000000")),
            (
                "StartingPosition",
                map(vec![("Type", text("TRIM_HORIZON"))]),
            ),
        ]));
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: Kinesis_20131202.SubscribeToShard\r\nContent-Type: {CBOR_CT}\r\nX-Amz-Date: 20260101T000000Z\r\nAuthorization: {AUTH}\r\nContent-Length: {}\r\n\r\n",
            request.len()
        );
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&request).await.unwrap();
        let is_event = |headers: &[(String, String)]| {
            headers
                .iter()
                .any(|(n, v)| n == ":event-type" && v == "SubscribeToShardEvent")
        };
        let events = read_events(&mut stream, |h, _| is_event(h)).await;
        let (headers, payload) = events.iter().find(|(h, _)| is_event(h)).unwrap();
        assert!(
            headers
                .iter()
                .any(|(n, v)| n == ":content-type" && v == CBOR_CT),
            "{headers:?}"
        );
        let event: Cbor = ciborium::de::from_reader(&payload[..]).unwrap();
        let records = member(&event, "Records").as_array().unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(
            member(&records[0], "Data"),
            &Cbor::Bytes(vec![1, 2, 3, 0xff])
        );
        assert_eq!(
            member(&records[0], "ApproximateArrivalTimestamp"),
            &ms_timestamp(1_700_000_000_000)
        );
        assert!(member(&event, "ContinuationSequenceNumber").is_text());
        assert!(member(&event, "MillisBehindLatest").is_integer());
        drop(stream);
        server.shutdown().await;
    }
}
