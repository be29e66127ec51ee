//! Control-plane operations through the AWS SDK for Rust: CreateStream, DeleteStream,
//! DescribeStream(Summary), ListStreams, ListShards, retention, tags, DescribeLimits and
//! StreamARN addressing.

mod common;

use aws_sdk_kinesis::error::ProvideErrorMetadata;
use common::{create, failure, setup};

use aws_sdk_kinesis::primitives::{Blob, DateTime};
use aws_sdk_kinesis::types::{
    ShardFilter, ShardFilterType, ShardIteratorType, StreamMode, StreamModeDetails, StreamStatus,
};
use aws_sdk_kinesis::Client;
use kinesd::{Clock, Config};

const MAX_HASH: &str = "340282366920938463463374607431768211455";

fn big_config() -> Config {
    Config {
        shard_limit: 10_000,
        ..Config::default()
    }
}

fn not_found(name: &str) -> (String, String) {
    (
        "ResourceNotFoundException".into(),
        format!("Stream {name} under account 000000000000 not found."),
    )
}

fn arn(name: &str) -> String {
    format!("arn:aws:kinesis:us-east-1:000000000000:stream/{name}")
}

fn shard_id(i: usize) -> String {
    format!("shardId-{i:012}")
}

/// floor(2^128 / n) · i, as CreateStream splits the hash space.
fn even_start(n: u128, i: u128) -> u128 {
    // 2^128 / n == (u128::MAX / n) unless n divides 2^128 exactly (powers of two).
    let step = if n.is_power_of_two() {
        if n == 1 {
            0
        } else {
            1u128 << (128 - n.trailing_zeros())
        }
    } else {
        u128::MAX / n
    };
    step * i
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn create_provisioned_stream_describes_exactly() {
        let (server, clock, client) = setup(Config::default()).await;
        let created_ms = clock.now_ms();
        create(&client, "s", 3).await;

        let d = client
            .describe_stream()
            .stream_name("s")
            .send()
            .await
            .unwrap();
        let d = d.stream_description().unwrap();
        assert_eq!(d.stream_name(), "s");
        assert_eq!(d.stream_arn(), arn("s"));
        assert_eq!(d.stream_status(), &StreamStatus::Active);
        assert_eq!(
            d.stream_mode_details().unwrap().stream_mode(),
            &StreamMode::Provisioned
        );
        assert_eq!(d.retention_period_hours(), 24);
        assert!(!d.has_more_shards());
        assert_eq!(
            d.stream_creation_timestamp().to_millis().unwrap(),
            created_ms
        );
        assert_eq!(d.enhanced_monitoring().len(), 1);
        assert!(d.enhanced_monitoring()[0].shard_level_metrics().is_empty());
        assert_eq!(d.encryption_type().unwrap().as_str(), "NONE");
        assert_eq!(d.key_id(), None);

        let ids: Vec<&str> = d.shards().iter().map(|s| s.shard_id()).collect();
        assert_eq!(
            ids,
            [
                "shardId-000000000000",
                "shardId-000000000001",
                "shardId-000000000002"
            ]
        );
        let ranges: Vec<(&str, &str)> = d
            .shards()
            .iter()
            .map(|s| {
                let r = s.hash_key_range().unwrap();
                (r.starting_hash_key(), r.ending_hash_key())
            })
            .collect();
        assert_eq!(
            ranges,
            [
                ("0", "113427455640312821154458202477256070484"),
                (
                    "113427455640312821154458202477256070485",
                    "226854911280625642308916404954512140969"
                ),
                ("226854911280625642308916404954512140970", MAX_HASH),
            ]
        );
        for s in d.shards() {
            assert_eq!(s.parent_shard_id(), None);
            assert_eq!(s.adjacent_parent_shard_id(), None);
            let r = s.sequence_number_range().unwrap();
            assert_eq!(r.starting_sequence_number().len(), 56);
            assert!(r
                .starting_sequence_number()
                .bytes()
                .all(|b| b.is_ascii_digit()));
            assert_eq!(r.ending_sequence_number(), None);
        }

        let sum = client
            .describe_stream_summary()
            .stream_name("s")
            .send()
            .await
            .unwrap();
        let sum = sum.stream_description_summary().unwrap();
        assert_eq!(sum.stream_name(), "s");
        assert_eq!(sum.stream_arn(), arn("s"));
        assert_eq!(sum.stream_status(), &StreamStatus::Active);
        assert_eq!(
            sum.stream_mode_details().unwrap().stream_mode(),
            &StreamMode::Provisioned
        );
        assert_eq!(sum.open_shard_count(), 3);
        assert_eq!(sum.consumer_count(), Some(0));
        assert_eq!(sum.retention_period_hours(), 24);
        assert_eq!(sum.max_record_size_in_kib(), Some(1024));
        assert_eq!(sum.encryption_type().unwrap().as_str(), "NONE");
        assert_eq!(sum.enhanced_monitoring().len(), 1);
        assert_eq!(
            sum.stream_creation_timestamp().to_millis().unwrap(),
            created_ms
        );
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn create_without_shard_count_is_on_demand_with_four_shards() {
        let (server, _clock, client) = setup(Config::default()).await;
        client
            .create_stream()
            .stream_name("od")
            .send()
            .await
            .unwrap();
        client
            .create_stream()
            .stream_name("od2")
            .stream_mode_details(
                StreamModeDetails::builder()
                    .stream_mode(StreamMode::OnDemand)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        for name in ["od", "od2"] {
            let sum = client
                .describe_stream_summary()
                .stream_name(name)
                .send()
                .await
                .unwrap();
            let sum = sum.stream_description_summary().unwrap();
            assert_eq!(
                sum.stream_mode_details().unwrap().stream_mode(),
                &StreamMode::OnDemand
            );
            assert_eq!(sum.open_shard_count(), 4);
            let shards = client.list_shards().stream_name(name).send().await.unwrap();
            let starts: Vec<String> = shards
                .shards()
                .iter()
                .map(|s| s.hash_key_range().unwrap().starting_hash_key().to_string())
                .collect();
            assert_eq!(
                starts,
                [
                    "0".to_string(),
                    (1u128 << 126).to_string(),
                    (2u128 << 126).to_string(),
                    (3u128 << 126).to_string()
                ]
            );
        }
        let limits = client.describe_limits().send().await.unwrap();
        assert_eq!(limits.on_demand_stream_count(), 2);
        assert_eq!(limits.on_demand_stream_count_limit(), 50);
        assert_eq!(limits.open_shard_count(), 8);
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn create_duplicate_name_is_resource_in_use() {
        let (server, _clock, client) = setup(Config::default()).await;
        create(&client, "s", 1).await;
        let err = client
            .create_stream()
            .stream_name("s")
            .shard_count(2)
            .send()
            .await
            .expect_err("duplicate")
            .into_service_error();
        assert!(err.is_resource_in_use_exception(), "{err:?}");
        assert_eq!(
            err.message(),
            Some("Stream s under account 000000000000 already exists.")
        );
        // The original stream is untouched.
        let sum = client
            .describe_stream_summary()
            .stream_name("s")
            .send()
            .await
            .unwrap();
        assert_eq!(
            sum.stream_description_summary().unwrap().open_shard_count(),
            1
        );
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shard_limit_and_describe_limits() {
        let config = Config {
            shard_limit: 5,
            ..Config::default()
        };
        let (server, _clock, client) = setup(config).await;
        let limits = client.describe_limits().send().await.unwrap();
        assert_eq!(limits.shard_limit(), 5);
        assert_eq!(limits.open_shard_count(), 0);
        assert_eq!(limits.on_demand_stream_count(), 0);

        create(&client, "a", 3).await;
        let err = client
            .create_stream()
            .stream_name("b")
            .shard_count(3)
            .send()
            .await
            .expect_err("over the limit")
            .into_service_error();
        assert!(err.is_limit_exceeded_exception(), "{err:?}");
        assert_eq!(
            err.message(),
            Some(
                "This request would exceed the shard limit for the account 000000000000 in us-east-1. \
                 Current limit of shards per account is 5. Number of additional shards that would \
                 have resulted from this request: 3."
            )
        );
        // On-demand streams count their four shards too.
        let (code, _) = failure(client.create_stream().stream_name("od").send().await);
        assert_eq!(code, "LimitExceededException");
        // Exactly up to the limit is fine.
        create(&client, "b", 2).await;
        let limits = client.describe_limits().send().await.unwrap();
        assert_eq!(limits.shard_limit(), 5);
        assert_eq!(limits.open_shard_count(), 5);
        // Deleting frees the shards.
        client
            .delete_stream()
            .stream_name("a")
            .send()
            .await
            .unwrap();
        let limits = client.describe_limits().send().await.unwrap();
        assert_eq!(limits.open_shard_count(), 2);
        create(&client, "c", 3).await;
        assert_eq!(
            client
                .describe_limits()
                .send()
                .await
                .unwrap()
                .open_shard_count(),
            5
        );
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn create_stream_validation_errors() {
        let (server, _clock, client) = setup(Config::default()).await;
        let err = client
            .create_stream()
            .stream_name("bad name!")
            .shard_count(1)
            .send()
            .await
            .expect_err("bad name")
            .into_service_error();
        assert!(err.is_validation_exception(), "{err:?}");
        assert_eq!(
            err.message(),
            Some(
                "1 validation error detected: Value 'bad name!' at 'streamName' failed to satisfy \
                 constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
            )
        );

        let long = "a".repeat(129);
        let (code, msg) = failure(
            client
                .create_stream()
                .stream_name(&long)
                .shard_count(1)
                .send()
                .await,
        );
        assert_eq!(code, "ValidationException");
        assert_eq!(
            msg,
            format!(
                "1 validation error detected: Value '{long}' at 'streamName' failed to satisfy \
                 constraint: Member must have length less than or equal to 128"
            )
        );
        // 128 characters is fine.
        create(&client, &"a".repeat(128), 1).await;

        let (code, msg) = failure(
            client
                .create_stream()
                .stream_name("x")
                .shard_count(0)
                .send()
                .await,
        );
        assert_eq!(code, "ValidationException");
        assert_eq!(
            msg,
            "1 validation error detected: Value '0' at 'shardCount' failed to satisfy constraint: \
             Member must have value greater than or equal to 1"
        );

        let (code, msg) = failure(
            client
                .create_stream()
                .stream_name("a b")
                .shard_count(-1)
                .send()
                .await,
        );
        assert_eq!(code, "ValidationException");
        assert_eq!(
            msg,
            "2 validation errors detected: Value 'a b' at 'streamName' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value '-1' at \
             'shardCount' failed to satisfy constraint: Member must have value greater than or \
             equal to 1"
        );

        // Nothing was created by the failed calls.
        let list = client.list_streams().send().await.unwrap();
        assert_eq!(list.stream_names(), ["a".repeat(128)]);
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn delete_stream_removes_stream_and_records() {
        let (server, _clock, client) = setup(Config::default()).await;
        create(&client, "s", 2).await;
        create(&client, "keep", 1).await;
        let mut first_seq = String::new();
        for i in 0..10 {
            let out = client
                .put_record()
                .stream_name("s")
                .partition_key(format!("k{i}"))
                .explicit_hash_key(if i % 2 == 0 { "0" } else { MAX_HASH })
                .data(Blob::new(format!("record {i}")))
                .send()
                .await
                .unwrap();
            if i == 0 {
                first_seq = out.sequence_number().to_string();
            }
        }
        client
            .put_record()
            .stream_name("keep")
            .partition_key("k")
            .data(Blob::new("kept"))
            .send()
            .await
            .unwrap();
        let old_iterator = client
            .get_shard_iterator()
            .stream_name("s")
            .shard_id(shard_id(0))
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator()
            .unwrap()
            .to_string();

        let stream = server.registry().lookup("s").unwrap();
        let keys = [stream.shard(0).unwrap().key, stream.shard(1).unwrap().key];
        let keep_key = server
            .registry()
            .lookup("keep")
            .unwrap()
            .shard(0)
            .unwrap()
            .key;
        drop(stream);
        let registry = server.registry();
        assert_eq!(registry.shard_stats(keys[0]).await.unwrap().records, 5);
        assert_eq!(registry.shard_stats(keys[1]).await.unwrap().records, 5);

        client
            .delete_stream()
            .stream_name("s")
            .send()
            .await
            .unwrap();

        assert_eq!(
            failure(client.describe_stream().stream_name("s").send().await),
            not_found("s")
        );
        assert_eq!(
            failure(
                client
                    .describe_stream_summary()
                    .stream_name("s")
                    .send()
                    .await
            ),
            not_found("s")
        );
        assert_eq!(
            failure(client.delete_stream().stream_name("s").send().await),
            not_found("s")
        );
        assert_eq!(
            failure(
                client
                    .put_record()
                    .stream_name("s")
                    .partition_key("k")
                    .data(Blob::new("x"))
                    .send()
                    .await
            ),
            not_found("s")
        );
        let list = client.list_streams().send().await.unwrap();
        assert_eq!(list.stream_names(), ["keep"]);

        // A retention pass removes the deleted stream's records, and only those. (DeleteStream
        // also wakes the background worker, which may get there first, so only the outcome is
        // checked, not which pass did it.)
        server.registry().enforce_retention_fully().await.unwrap();
        assert_eq!(
            registry.shard_stats(keys[0]).await.unwrap(),
            Default::default()
        );
        assert_eq!(
            registry.shard_stats(keys[1]).await.unwrap(),
            Default::default()
        );
        assert_eq!(registry.shard_stats(keep_key).await.unwrap().records, 1);
        let again = server.registry().enforce_retention_fully().await.unwrap();
        assert_eq!((again.streams_purged, again.records_trimmed), (0, 0));

        // A new stream with the same name starts empty, and the old stream's iterator and
        // sequence numbers do not address it.
        create(&client, "s", 2).await;
        let it = client
            .get_shard_iterator()
            .stream_name("s")
            .shard_id(shard_id(0))
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap();
        let recs = client
            .get_records()
            .shard_iterator(it.shard_iterator().unwrap())
            .send()
            .await
            .unwrap();
        assert!(recs.records().is_empty());
        let (code, msg) = failure(
            client
                .get_records()
                .shard_iterator(&old_iterator)
                .send()
                .await,
        );
        assert_eq!(code, "ResourceNotFoundException");
        assert_eq!(
            msg,
            "Shard shardId-000000000000 in stream s under account 000000000000 does not exist"
        );
        let (code, msg) = failure(
            client
                .get_shard_iterator()
                .stream_name("s")
                .shard_id(shard_id(0))
                .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
                .starting_sequence_number(&first_seq)
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            format!(
                "StartingSequenceNumber {first_seq} used in GetShardIterator on shard \
                 shardId-000000000000 in stream s under account 000000000000 is invalid because it \
                 did not come from this stream."
            )
        );
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn describe_stream_pages_shards() {
        let (server, _clock, client) = setup(big_config()).await;
        create(&client, "seven", 7).await;
        let mut seen = Vec::new();
        let mut start: Option<String> = None;
        let mut pages = Vec::new();
        loop {
            let out = client
                .describe_stream()
                .stream_name("seven")
                .limit(3)
                .set_exclusive_start_shard_id(start.clone())
                .send()
                .await
                .unwrap();
            let d = out.stream_description().unwrap();
            pages.push((d.shards().len(), d.has_more_shards()));
            seen.extend(d.shards().iter().map(|s| s.shard_id().to_string()));
            if !d.has_more_shards() {
                break;
            }
            start = Some(d.shards().last().unwrap().shard_id().to_string());
        }
        assert_eq!(pages, [(3, true), (3, true), (1, false)]);
        assert_eq!(seen, (0..7).map(shard_id).collect::<Vec<_>>());

        // Limit equal to the remaining count: no more shards.
        let out = client
            .describe_stream()
            .stream_name("seven")
            .limit(7)
            .send()
            .await
            .unwrap();
        assert_eq!(out.stream_description().unwrap().shards().len(), 7);
        assert!(!out.stream_description().unwrap().has_more_shards());
        // Starting after the last shard: an empty page.
        let out = client
            .describe_stream()
            .stream_name("seven")
            .exclusive_start_shard_id(shard_id(6))
            .send()
            .await
            .unwrap();
        assert!(out.stream_description().unwrap().shards().is_empty());
        assert!(!out.stream_description().unwrap().has_more_shards());

        // The default (and maximum) page is 100 shards.
        create(&client, "big", 150).await;
        let out = client
            .describe_stream()
            .stream_name("big")
            .send()
            .await
            .unwrap();
        let d = out.stream_description().unwrap();
        assert_eq!(d.shards().len(), 100);
        assert!(d.has_more_shards());
        assert_eq!(d.shards()[99].shard_id(), shard_id(99));
        let out = client
            .describe_stream()
            .stream_name("big")
            .limit(1000)
            .exclusive_start_shard_id(shard_id(99))
            .send()
            .await
            .unwrap();
        let d = out.stream_description().unwrap();
        assert_eq!(d.shards().len(), 50);
        assert!(!d.has_more_shards());
        assert_eq!(d.shards()[0].shard_id(), shard_id(100));
        server.shutdown().await;
    }
}

async fn create_many(client: &Client, names: &[String]) {
    let mut set = tokio::task::JoinSet::new();
    for chunk in names.chunks(names.len().div_ceil(16)) {
        let client = client.clone();
        let chunk = chunk.to_vec();
        set.spawn(async move {
            for name in chunk {
                create(&client, &name, 1).await;
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn list_streams_pages_250_streams() {
        let config = Config {
            durability: kinesd::Durability::Relaxed,
            ..big_config()
        };
        let (server, _clock, client) = setup(config).await;
        let names: Vec<String> = (0..250).map(|i| format!("stream-{i:03}")).collect();
        create_many(&client, &names).await;

        // The SDK paginator follows NextToken to the end: 100 + 100 + 50.
        let pages = client
            .list_streams()
            .into_paginator()
            .send()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(
            pages
                .iter()
                .map(|p| (p.stream_names().len(), p.has_more_streams()))
                .collect::<Vec<_>>(),
            [(100, true), (100, true), (50, false)]
        );
        assert!(pages[2].next_token().is_none());
        let all: Vec<String> = pages
            .iter()
            .flat_map(|p| p.stream_names().iter().cloned())
            .collect();
        assert_eq!(all, names);
        let summaries: Vec<_> = pages.iter().flat_map(|p| p.stream_summaries()).collect();
        assert_eq!(summaries.len(), 250);
        for (s, name) in summaries.iter().zip(&names) {
            assert_eq!(s.stream_name(), name);
            assert_eq!(s.stream_arn(), arn(name));
            assert_eq!(s.stream_status(), &StreamStatus::Active);
            assert_eq!(
                s.stream_mode_details().unwrap().stream_mode(),
                &StreamMode::Provisioned
            );
            assert!(s.stream_creation_timestamp().is_some());
        }

        // Manually with NextToken and a small Limit.
        let mut token: Option<String> = None;
        let mut manual = Vec::new();
        let mut calls = 0;
        loop {
            let out = client
                .list_streams()
                .limit(30)
                .set_next_token(token.clone())
                .send()
                .await
                .unwrap();
            calls += 1;
            manual.extend(out.stream_names().iter().cloned());
            assert_eq!(out.has_more_streams(), out.next_token().is_some());
            match out.next_token() {
                Some(t) => {
                    assert_eq!(out.stream_names().len(), 30);
                    token = Some(t.to_string());
                }
                None => break,
            }
        }
        assert_eq!(calls, 9);
        assert_eq!(manual, names);

        // Manually with ExclusiveStartStreamName (the older style).
        let mut start: Option<String> = None;
        let mut manual = Vec::new();
        loop {
            let out = client
                .list_streams()
                .limit(70)
                .set_exclusive_start_stream_name(start.clone())
                .send()
                .await
                .unwrap();
            manual.extend(out.stream_names().iter().cloned());
            if !out.has_more_streams() {
                break;
            }
            start = manual.last().cloned();
        }
        assert_eq!(manual, names);

        // A start name between existing names, and a Limit above the 100 maximum.
        let out = client
            .list_streams()
            .exclusive_start_stream_name("stream-1")
            .limit(1000)
            .send()
            .await
            .unwrap();
        assert_eq!(out.stream_names().len(), 100);
        assert_eq!(out.stream_names()[0], "stream-100");
        assert!(out.has_more_streams());

        let (code, msg) = failure(
            client
                .list_streams()
                .next_token(token_of(&pages[0]))
                .exclusive_start_stream_name("stream-000")
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "NextToken and ExclusiveStartStreamName cannot be provided together."
        );
        server.shutdown().await;
    }
}

fn token_of(out: &aws_sdk_kinesis::operation::list_streams::ListStreamsOutput) -> String {
    out.next_token().unwrap().to_string()
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn list_shards_pages_600_shards() {
        let (server, _clock, client) = setup(big_config()).await;
        create(&client, "six", 600).await;

        let mut all = Vec::new();
        let mut sizes = Vec::new();
        let out = client
            .list_shards()
            .stream_name("six")
            .max_results(250)
            .send()
            .await
            .unwrap();
        sizes.push(out.shards().len());
        all.extend(out.shards().iter().cloned());
        let mut token = out.next_token().map(str::to_string);
        while let Some(t) = token {
            let out = client
                .list_shards()
                .next_token(t)
                .max_results(250)
                .send()
                .await
                .unwrap();
            sizes.push(out.shards().len());
            all.extend(out.shards().iter().cloned());
            token = out.next_token().map(str::to_string);
        }
        assert_eq!(sizes, [250, 250, 100]);
        assert_eq!(
            all.iter()
                .map(|s| s.shard_id().to_string())
                .collect::<Vec<_>>(),
            (0..600).map(shard_id).collect::<Vec<_>>()
        );
        // The ranges tile the hash space exactly, each starting at floor(2^128/600)·i.
        let mut expected_start = 0u128;
        for (i, s) in all.iter().enumerate() {
            let r = s.hash_key_range().unwrap();
            let start: u128 = r.starting_hash_key().parse().unwrap();
            let end: u128 = r.ending_hash_key().parse().unwrap();
            assert_eq!(start, expected_start, "shard {i}");
            assert_eq!(start, even_start(600, i as u128), "shard {i}");
            assert!(end >= start);
            expected_start = end.wrapping_add(1);
        }
        assert_eq!(
            all.last()
                .unwrap()
                .hash_key_range()
                .unwrap()
                .ending_hash_key(),
            MAX_HASH
        );

        // The default page holds up to 1000 shards, so 600 come in one page.
        let out = client
            .list_shards()
            .stream_name("six")
            .send()
            .await
            .unwrap();
        assert_eq!(out.shards().len(), 600);
        assert_eq!(out.next_token(), None);
        // MaxResults above 1000 still answers at most 1000.
        create(&client, "twelve", 1200).await;
        let out = client
            .list_shards()
            .stream_name("twelve")
            .max_results(5000)
            .send()
            .await
            .unwrap();
        assert_eq!(out.shards().len(), 1000);
        let out = client
            .list_shards()
            .next_token(out.next_token().expect("a second page"))
            .send()
            .await
            .unwrap();
        assert_eq!(out.shards().len(), 200);
        assert_eq!(out.shards()[0].shard_id(), shard_id(1000));
        assert_eq!(out.next_token(), None);

        // ExclusiveStartShardId pages too.
        let out = client
            .list_shards()
            .stream_name("six")
            .exclusive_start_shard_id(shard_id(597))
            .send()
            .await
            .unwrap();
        assert_eq!(
            out.shards()
                .iter()
                .map(|s| s.shard_id().to_string())
                .collect::<Vec<_>>(),
            [shard_id(598), shard_id(599)]
        );
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn list_shards_argument_errors_and_token_expiry() {
        let (server, clock, client) = setup(Config::default()).await;
        create(&client, "s", 5).await;
        let out = client
            .list_shards()
            .stream_name("s")
            .max_results(2)
            .send()
            .await
            .unwrap();
        let token = out.next_token().unwrap().to_string();

        let (code, msg) = failure(
            client
                .list_shards()
                .next_token(&token)
                .stream_name("s")
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(msg, "NextToken and StreamName cannot be provided together.");

        let (code, msg) = failure(
            client
                .list_shards()
                .next_token(&token)
                .shard_filter(
                    ShardFilter::builder()
                        .r#type(ShardFilterType::AtLatest)
                        .build()
                        .unwrap(),
                )
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "NextToken and ShardFilter cannot be provided together."
        );

        let (code, _) = failure(
            client
                .list_shards()
                .next_token("bm90IGEgdG9rZW4=")
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            failure(client.list_shards().stream_name("nope").send().await),
            not_found("nope")
        );

        // The token lives 300 s: still valid at exactly 300 s, expired after.
        clock.advance_ms(300_000);
        let out = client
            .list_shards()
            .next_token(&token)
            .max_results(2)
            .send()
            .await
            .unwrap();
        assert_eq!(
            out.shards()
                .iter()
                .map(|s| s.shard_id().to_string())
                .collect::<Vec<_>>(),
            [shard_id(2), shard_id(3)]
        );
        let fresh = out.next_token().unwrap().to_string();
        clock.advance_ms(1);
        let err = client
            .list_shards()
            .next_token(&token)
            .send()
            .await
            .expect_err("expired")
            .into_service_error();
        assert!(err.is_expired_next_token_exception(), "{err:?}");
        assert_eq!(
            err.message(),
            Some(format!("The NextToken has expired. NextToken: {token}").as_str())
        );
        // The token from the later page is still good.
        let out = client
            .list_shards()
            .next_token(&fresh)
            .send()
            .await
            .unwrap();
        assert_eq!(out.shards().len(), 1);
        assert_eq!(out.shards()[0].shard_id(), shard_id(4));
        assert_eq!(out.next_token(), None);
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn list_shards_filters_on_a_stream_without_resharding() {
        let (server, clock, client) = setup(Config::default()).await;
        let created = clock.now_ms();
        create(&client, "s", 4).await;
        clock.advance_ms(60_000);
        let all: Vec<String> = (0..4).map(shard_id).collect();

        let ids = |out: aws_sdk_kinesis::operation::list_shards::ListShardsOutput| -> Vec<String> {
            out.shards()
                .iter()
                .map(|s| s.shard_id().to_string())
                .collect()
        };
        let filter = |t: ShardFilterType| ShardFilter::builder().r#type(t);
        for t in [
            ShardFilterType::AtLatest,
            ShardFilterType::AtTrimHorizon,
            ShardFilterType::FromTrimHorizon,
        ] {
            let out = client
                .list_shards()
                .stream_name("s")
                .shard_filter(filter(t.clone()).build().unwrap())
                .send()
                .await
                .unwrap();
            assert_eq!(ids(out), all, "{t:?}");
        }
        let out = client
            .list_shards()
            .stream_name("s")
            .shard_filter(
                filter(ShardFilterType::AfterShardId)
                    .shard_id(shard_id(1))
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(ids(out), [shard_id(2), shard_id(3)]);
        for ts in [created, created + 30_000] {
            for t in [ShardFilterType::AtTimestamp, ShardFilterType::FromTimestamp] {
                let out = client
                    .list_shards()
                    .stream_name("s")
                    .shard_filter(
                        filter(t.clone())
                            .timestamp(DateTime::from_millis(ts))
                            .build()
                            .unwrap(),
                    )
                    .send()
                    .await
                    .unwrap();
                assert_eq!(ids(out), all, "{t:?} at {ts}");
            }
        }
        // With a filter, MaxResults still pages and the token carries the filter.
        let out = client
            .list_shards()
            .stream_name("s")
            .max_results(3)
            .shard_filter(filter(ShardFilterType::AtLatest).build().unwrap())
            .send()
            .await
            .unwrap();
        let token = out.next_token().unwrap().to_string();
        assert_eq!(ids(out), all[..3]);
        let out = client.list_shards().next_token(token).send().await.unwrap();
        assert_eq!(ids(out), all[3..]);
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn retention_period_bounds_and_direction() {
        let (server, _clock, client) = setup(Config::default()).await;
        create(&client, "s", 1).await;
        let hours = |c: Client| async move {
            c.describe_stream_summary()
                .stream_name("s")
                .send()
                .await
                .unwrap()
                .stream_description_summary()
                .unwrap()
                .retention_period_hours()
        };
        assert_eq!(hours(client.clone()).await, 24);

        client
            .increase_stream_retention_period()
            .stream_name("s")
            .retention_period_hours(48)
            .send()
            .await
            .unwrap();
        assert_eq!(hours(client.clone()).await, 48);

        let (code, msg) = failure(
            client
                .increase_stream_retention_period()
                .stream_name("s")
                .retention_period_hours(30)
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "Requested retention period (30 hours) for stream s can not be shorter than existing \
             retention period (48 hours). Use DecreaseRetentionPeriod API."
        );
        let (code, msg) = failure(
            client
                .decrease_stream_retention_period()
                .stream_name("s")
                .retention_period_hours(72)
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "Requested retention period (72 hours) for stream s can not be longer than existing \
             retention period (48 hours). Use IncreaseRetentionPeriod API."
        );
        let (code, msg) = failure(
            client
                .increase_stream_retention_period()
                .stream_name("s")
                .retention_period_hours(8761)
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) \
             is too long."
        );
        let (code, msg) = failure(
            client
                .decrease_stream_retention_period()
                .stream_name("s")
                .retention_period_hours(23)
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is \
             too short."
        );
        assert_eq!(hours(client.clone()).await, 48);

        client
            .increase_stream_retention_period()
            .stream_name("s")
            .retention_period_hours(8760)
            .send()
            .await
            .unwrap();
        assert_eq!(hours(client.clone()).await, 8760);
        client
            .decrease_stream_retention_period()
            .stream_name("s")
            .retention_period_hours(24)
            .send()
            .await
            .unwrap();
        assert_eq!(hours(client.clone()).await, 24);
        assert_eq!(
            failure(
                client
                    .increase_stream_retention_period()
                    .stream_name("nope")
                    .retention_period_hours(48)
                    .send()
                    .await
            ),
            not_found("nope")
        );
        server.shutdown().await;
    }
}

async fn tag_list(client: &Client, name: &str) -> Vec<(String, String)> {
    let out = client
        .list_tags_for_stream()
        .stream_name(name)
        .send()
        .await
        .unwrap();
    assert!(!out.has_more_tags());
    out.tags()
        .iter()
        .map(|t| {
            (
                t.key().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tags_add_list_remove_and_limits() {
        let (server, _clock, client) = setup(Config::default()).await;
        client
            .create_stream()
            .stream_name("s")
            .shard_count(1)
            .tags("env", "test")
            .send()
            .await
            .unwrap();
        assert_eq!(tag_list(&client, "s").await, pairs(&[("env", "test")]));

        client
            .add_tags_to_stream()
            .stream_name("s")
            .tags("b", "2")
            .tags("a", "1")
            .tags("c", "")
            .send()
            .await
            .unwrap();
        assert_eq!(
            tag_list(&client, "s").await,
            pairs(&[("a", "1"), ("b", "2"), ("c", ""), ("env", "test")])
        );
        // Overwriting a value.
        client
            .add_tags_to_stream()
            .stream_name("s")
            .tags("a", "one")
            .send()
            .await
            .unwrap();

        // Limit / HasMoreTags / ExclusiveStartTagKey.
        let out = client
            .list_tags_for_stream()
            .stream_name("s")
            .limit(2)
            .send()
            .await
            .unwrap();
        assert!(out.has_more_tags());
        assert_eq!(
            out.tags().iter().map(|t| t.key()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(out.tags()[0].value(), Some("one"));
        let out = client
            .list_tags_for_stream()
            .stream_name("s")
            .limit(2)
            .exclusive_start_tag_key("b")
            .send()
            .await
            .unwrap();
        assert!(!out.has_more_tags());
        assert_eq!(
            out.tags().iter().map(|t| t.key()).collect::<Vec<_>>(),
            ["c", "env"]
        );

        client
            .remove_tags_from_stream()
            .stream_name("s")
            .tag_keys("b")
            .tag_keys("env")
            .tag_keys("absent")
            .send()
            .await
            .unwrap();
        assert_eq!(
            tag_list(&client, "s").await,
            pairs(&[("a", "one"), ("c", "")])
        );

        // Up to 50 tags in total; more is refused and changes nothing.
        let mut add = client.add_tags_to_stream().stream_name("s");
        for i in 0..48 {
            add = add.tags(format!("k{i:02}"), "v");
        }
        add.send().await.unwrap();
        assert_eq!(tag_list(&client, "s").await.len(), 50);
        let (code, msg) = failure(
            client
                .add_tags_to_stream()
                .stream_name("s")
                .tags("one-too-many", "v")
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "Failed to add tags to stream s under account 000000000000 because a given stream \
             cannot have more than 50 tags associated with it."
        );
        assert_eq!(tag_list(&client, "s").await.len(), 50);
        // Replacing an existing key at 50 tags is fine.
        client
            .add_tags_to_stream()
            .stream_name("s")
            .tags("k00", "w")
            .send()
            .await
            .unwrap();

        let mut create = client.create_stream().stream_name("many").shard_count(1);
        for i in 0..51 {
            create = create.tags(format!("k{i:02}"), "v");
        }
        let (code, msg) = failure(create.send().await);
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "Failed to add tags to stream many under account 000000000000 because a given stream \
             cannot have more than 50 tags associated with it."
        );

        let (code, msg) = failure(
            client
                .add_tags_to_stream()
                .stream_name("s")
                .tags("aws:reserved", "v")
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "Failed to add tags to stream s under account 000000000000 because the tag key prefix \
             'aws:' is reserved for AWS use."
        );
        let (code, msg) = failure(
            client
                .list_tags_for_stream()
                .stream_name("s")
                .limit(51)
                .send()
                .await,
        );
        assert_eq!(code, "ValidationException");
        assert_eq!(
            msg,
            "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: \
             Member must have value less than or equal to 50"
        );
        assert_eq!(
            failure(
                client
                    .list_tags_for_stream()
                    .stream_name("nope")
                    .send()
                    .await
            ),
            not_found("nope")
        );
        server.shutdown().await;
    }
}

both_backends! {
    /// Every control-plane operation that takes a StreamARN works with the ARN alone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stream_arn_addressing_control_plane() {
        let (server, _clock, client) = setup(Config::default()).await;
        create(&client, "s", 3).await;
        let a = arn("s");

        let d = client
            .describe_stream()
            .stream_arn(&a)
            .send()
            .await
            .unwrap();
        assert_eq!(d.stream_description().unwrap().stream_name(), "s");
        assert_eq!(d.stream_description().unwrap().shards().len(), 3);
        let sum = client
            .describe_stream_summary()
            .stream_arn(&a)
            .send()
            .await
            .unwrap();
        assert_eq!(sum.stream_description_summary().unwrap().stream_arn(), a);
        let shards = client.list_shards().stream_arn(&a).send().await.unwrap();
        assert_eq!(shards.shards().len(), 3);
        // StreamName and StreamARN together (as KPL sends them).
        let shards = client
            .list_shards()
            .stream_name("s")
            .stream_arn(&a)
            .send()
            .await
            .unwrap();
        assert_eq!(shards.shards().len(), 3);

        client
            .increase_stream_retention_period()
            .stream_arn(&a)
            .retention_period_hours(100)
            .send()
            .await
            .unwrap();
        client
            .decrease_stream_retention_period()
            .stream_arn(&a)
            .retention_period_hours(50)
            .send()
            .await
            .unwrap();
        let sum = client
            .describe_stream_summary()
            .stream_name("s")
            .send()
            .await
            .unwrap();
        assert_eq!(
            sum.stream_description_summary()
                .unwrap()
                .retention_period_hours(),
            50
        );

        client
            .add_tags_to_stream()
            .stream_arn(&a)
            .tags("x", "1")
            .tags("y", "2")
            .send()
            .await
            .unwrap();
        client
            .remove_tags_from_stream()
            .stream_arn(&a)
            .tag_keys("x")
            .send()
            .await
            .unwrap();
        let tags = client
            .list_tags_for_stream()
            .stream_arn(&a)
            .send()
            .await
            .unwrap();
        assert_eq!(
            tags.tags()
                .iter()
                .map(|t| (t.key(), t.value()))
                .collect::<Vec<_>>(),
            [("y", Some("2"))]
        );

        // An ARN naming a missing stream, or another account, is ResourceNotFound.
        assert_eq!(
            failure(
                client
                    .describe_stream_summary()
                    .stream_arn(arn("nope"))
                    .send()
                    .await
            ),
            not_found("nope")
        );
        let (code, _) = failure(
            client
                .describe_stream()
                .stream_arn("arn:aws:kinesis:us-east-1:111111111111:stream/s")
                .send()
                .await,
        );
        assert_eq!(code, "ResourceNotFoundException");

        client.delete_stream().stream_arn(&a).send().await.unwrap();
        assert_eq!(
            failure(client.describe_stream().stream_arn(&a).send().await),
            not_found("s")
        );
        server.shutdown().await;
    }
}

both_backends! {
    /// With lifecycle delays: CREATING and DELETING are visible, and time (not sleeping) ends them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn creating_and_deleting_states_follow_the_clock() {
        let config = Config {
            create_delay_ms: 1_000,
            delete_delay_ms: 1_000,
            ..Config::default()
        };
        let (server, clock, client) = setup(config).await;
        for i in 0..5 {
            create(&client, &format!("c{i}"), 1).await;
        }
        let status = |name: &'static str| {
            let client = client.clone();
            async move {
                client
                    .describe_stream_summary()
                    .stream_name(name)
                    .send()
                    .await
                    .map(|o| {
                        o.stream_description_summary()
                            .unwrap()
                            .stream_status()
                            .clone()
                    })
            }
        };
        assert_eq!(status("c0").await.unwrap(), StreamStatus::Creating);
        // At most five streams may be CREATING at once.
        let (code, _) = failure(
            client
                .create_stream()
                .stream_name("c5")
                .shard_count(1)
                .send()
                .await,
        );
        assert_eq!(code, "LimitExceededException");
        // A CREATING stream does not take writes yet.
        assert_eq!(
            failure(
                client
                    .put_record()
                    .stream_name("c0")
                    .partition_key("k")
                    .data(Blob::new("x"))
                    .send()
                    .await
            ),
            not_found("c0")
        );
        clock.advance_ms(999);
        assert_eq!(status("c0").await.unwrap(), StreamStatus::Creating);
        clock.advance_ms(1);
        assert_eq!(status("c0").await.unwrap(), StreamStatus::Active);
        create(&client, "c5", 1).await;
        clock.advance_ms(1_000);
        client
            .put_record()
            .stream_name("c0")
            .partition_key("k")
            .data(Blob::new("x"))
            .send()
            .await
            .unwrap();

        client
            .delete_stream()
            .stream_name("c0")
            .send()
            .await
            .unwrap();
        assert_eq!(status("c0").await.unwrap(), StreamStatus::Deleting);
        let list = client.list_streams().send().await.unwrap();
        assert_eq!(list.stream_names()[0], "c0");
        assert_eq!(
            list.stream_summaries()[0].stream_status(),
            &StreamStatus::Deleting
        );
        // The name is still taken while DELETING.
        let (code, _) = failure(
            client
                .create_stream()
                .stream_name("c0")
                .shard_count(1)
                .send()
                .await,
        );
        assert_eq!(code, "ResourceInUseException");
        clock.advance_ms(1_000);
        let err = status("c0").await.expect_err("deleted");
        assert_eq!(
            err.into_service_error().message(),
            Some("Stream c0 under account 000000000000 not found.")
        );
        let list = client.list_streams().send().await.unwrap();
        assert!(!list.stream_names().contains(&"c0".to_string()));
        create(&client, "c0", 1).await;
        server.shutdown().await;
    }
}
