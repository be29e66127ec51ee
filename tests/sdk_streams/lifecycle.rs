//! CREATING and DELETING follow the manual clock; DeleteStream removes the stream and its records.

use super::*;

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
