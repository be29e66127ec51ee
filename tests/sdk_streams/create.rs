//! CreateStream: what DescribeStream shows of a new stream, on-demand defaults, duplicates, the
//! shard limit with DescribeLimits, and validation errors.

use super::*;

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
