//! A durable server restarted keeps its streams, tags, retention, records and sequence numbers.

use super::*;

/// Every record of every shard of `stream`: (shard, sequence number, key, data, arrival ms).
async fn snapshot(client: &Client, stream: &str) -> Vec<(String, String, String, Vec<u8>, i64)> {
    let shards = client
        .list_shards()
        .stream_name(stream)
        .send()
        .await
        .unwrap();
    let mut all = Vec::new();
    for s in shards.shards() {
        for r in read_shard(client, stream, s.shard_id()).await {
            all.push((
                s.shard_id().to_string(),
                r.sequence_number().to_string(),
                r.partition_key().unwrap().to_string(),
                r.data().as_ref().to_vec(),
                r.approximate_arrival_timestamp()
                    .unwrap()
                    .to_millis()
                    .unwrap(),
            ));
        }
    }
    all
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn restart_keeps_streams_tags_retention_and_records() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: Some(dir.path().to_path_buf()),
            ..config()
        };
        let clock = common::whole_second_clock();
        let server = common::start_with_clock(config.clone(), &clock).await;
        let client = common::client(&server.endpoint());
        client
            .create_stream()
            .stream_name("s")
            .shard_count(3)
            .tags("team", "data")
            .send()
            .await
            .unwrap();
        client
            .create_stream()
            .stream_name("od")
            .send()
            .await
            .unwrap();
        set_retention(&client, "s", 96, true).await;
        client
            .add_tags_to_stream()
            .stream_name("s")
            .tags("env", "prod")
            .send()
            .await
            .unwrap();
        let mut batch = client.put_records().stream_name("s");
        for i in 0..30 {
            batch = batch.records(
                PutRecordsRequestEntry::builder()
                    .partition_key(format!("pk{i}"))
                    .data(Blob::new(vec![i as u8; i + 1]))
                    .build()
                    .unwrap(),
            );
            if i % 10 == 9 {
                batch.send().await.unwrap();
                clock.advance_ms(1_000);
                batch = client.put_records().stream_name("s");
            }
        }
        for i in 0..4 {
            put(&client, "od", &format!("k{i}"), None, &format!("od{i}")).await;
        }
        let iterator_before = iterator(
            &client,
            "s",
            &shard_id(0),
            ShardIteratorType::TrimHorizon,
            None,
        )
        .await;
        let before_s = snapshot(&client, "s").await;
        let before_od = snapshot(&client, "od").await;
        assert_eq!(before_s.len(), 30);
        assert_eq!(before_od.len(), 4);
        server.shutdown().await;

        clock.advance_ms(60_000);
        let server = common::start_with_clock(config.clone(), &clock).await;
        let client = common::client(&server.endpoint());
        let list = client.list_streams().send().await.unwrap();
        assert_eq!(list.stream_names(), ["od", "s"]);
        let sum = client
            .describe_stream_summary()
            .stream_name("s")
            .send()
            .await
            .unwrap();
        let sum = sum.stream_description_summary().unwrap();
        assert_eq!(sum.retention_period_hours(), 96);
        assert_eq!(sum.open_shard_count(), 3);
        let sum = client
            .describe_stream_summary()
            .stream_name("od")
            .send()
            .await
            .unwrap();
        assert_eq!(
            sum.stream_description_summary()
                .unwrap()
                .stream_mode_details()
                .unwrap()
                .stream_mode()
                .as_str(),
            "ON_DEMAND"
        );
        let tags = client
            .list_tags_for_stream()
            .stream_name("s")
            .send()
            .await
            .unwrap();
        assert_eq!(
            tags.tags()
                .iter()
                .map(|t| (t.key(), t.value().unwrap()))
                .collect::<Vec<_>>(),
            [("env", "prod"), ("team", "data")]
        );
        assert_eq!(snapshot(&client, "s").await, before_s);
        assert_eq!(snapshot(&client, "od").await, before_od);
        // An iterator issued before the restart is still accepted (within its 300 s).
        let (records, _) = drain(&client, iterator_before).await;
        assert_eq!(
            seqs(&records),
            before_s
                .iter()
                .filter(|r| r.0 == shard_id(0))
                .map(|r| r.1.clone())
                .collect::<Vec<_>>()
        );

        // New records get larger sequence numbers than any before the restart, on every shard.
        for i in 0..3 {
            let sid = shard_id(i);
            let ehk = match i {
                0 => "0".to_string(),
                1 => (u128::MAX / 3 + 1).to_string(),
                _ => MAX_HASH.to_string(),
            };
            let (got, seq) = put(&client, "s", "k", Some(&ehk), "new").await;
            assert_eq!(got, sid);
            let last_before = &before_s
                .iter()
                .rfind(|r| r.0 == sid)
                .expect("every shard had records")
                .1;
            assert!(seq_lt(last_before, &seq), "{sid}: {last_before} then {seq}");
        }
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn restart_after_everything_was_trimmed_keeps_sequence_numbers_increasing() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: Some(dir.path().to_path_buf()),
            ..config()
        };
        let clock = common::whole_second_clock();
        let server = common::start_with_clock(config.clone(), &clock).await;
        let client = common::client(&server.endpoint());
        create(&client, "s", 1).await;
        let mut last = String::new();
        for i in 0..5 {
            last = put(&client, "s", "k", None, &format!("r{i}")).await.1;
        }
        clock.advance_ms(25 * HOUR_MS);
        let report = server.registry().enforce_retention_fully().await.unwrap();
        assert_eq!(report.records_trimmed, 5);
        let key = server.registry().lookup("s").unwrap().shard(0).unwrap().key;
        assert_eq!(
            server.registry().shard_stats(key).await.unwrap(),
            Default::default()
        );
        server.shutdown().await;

        let server = common::start_with_clock(config.clone(), &clock).await;
        let client = common::client(&server.endpoint());
        assert!(read_shard(&client, "s", &shard_id(0)).await.is_empty());
        let (_, seq) = put(&client, "s", "k", None, "after").await;
        assert!(seq_lt(&last, &seq), "{last} then {seq}");
        assert_eq!(
            texts(&read_shard(&client, "s", &shard_id(0)).await),
            ["after"]
        );
        server.shutdown().await;
    }
}
