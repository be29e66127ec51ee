//! The scenario the JSON/CBOR matrix runs on both sides: every operation, in an order that
//! exercises its answers and its errors.

use super::*;

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
