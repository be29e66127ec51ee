//! StreamARN addressing of the data plane, and writers and readers racing each other and
//! DeleteStream.

use super::*;

both_backends! {
    /// Every data-plane operation that takes a StreamARN works with the ARN alone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stream_arn_addressing_data_plane() {
        let (server, _clock, client) = setup(config()).await;
        create(&client, "s", 2).await;
        let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s";
        let out = client
            .put_record()
            .stream_arn(arn)
            .partition_key("k")
            .explicit_hash_key("0")
            .data(Blob::new("one"))
            .send()
            .await
            .unwrap();
        assert_eq!(out.shard_id(), shard_id(0));
        let out = client
            .put_records()
            .stream_arn(arn)
            .records(
                PutRecordsRequestEntry::builder()
                    .partition_key("k")
                    .explicit_hash_key("0")
                    .data(Blob::new("two"))
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(out.failed_record_count(), Some(0));
        let it = client
            .get_shard_iterator()
            .stream_arn(arn)
            .shard_id(shard_id(0))
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap();
        let out = client
            .get_records()
            .stream_arn(arn)
            .shard_iterator(it.shard_iterator().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(texts(out.records()), ["one", "two"]);
        let (code, msg) = failure(
            client
                .put_record()
                .stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/nope")
                .partition_key("k")
                .data(Blob::new("x"))
                .send()
                .await,
        );
        assert_eq!(
            (code.as_str(), msg.as_str()),
            (
                "ResourceNotFoundException",
                "Stream nope under account 000000000000 not found."
            )
        );
        server.shutdown().await;
    }
}

both_backends! {
    /// Writers in parallel while a reader follows both shards: every acknowledged record is read
    /// exactly once, in strictly increasing sequence order, and each writer's records keep its
    /// call order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_and_a_following_reader() {
        let (server, _clock, client) = setup(config()).await;
        create(&client, "s", 2).await;
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));

        let reader = {
            let client = client.clone();
            let done = done.clone();
            tokio::spawn(async move {
                let mut its = Vec::new();
                for i in 0..2 {
                    its.push(
                        iterator(
                            &client,
                            "s",
                            &shard_id(i),
                            ShardIteratorType::TrimHorizon,
                            None,
                        )
                        .await,
                    );
                }
                let mut seen: Vec<Vec<(String, String)>> = vec![Vec::new(), Vec::new()];
                loop {
                    let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                    let mut empty = true;
                    for i in 0..2 {
                        let out = client
                            .get_records()
                            .shard_iterator(&its[i])
                            .send()
                            .await
                            .unwrap();
                        its[i] = out.next_shard_iterator().unwrap().to_string();
                        empty &= out.records().is_empty();
                        seen[i].extend(out.records().iter().map(|r| {
                            (
                                r.sequence_number().to_string(),
                                String::from_utf8(r.data().as_ref().to_vec()).unwrap(),
                            )
                        }));
                    }
                    if finished && empty {
                        return seen;
                    }
                }
            })
        };

        let mut writers = tokio::task::JoinSet::new();
        for w in 0..8 {
            let client = client.clone();
            writers.spawn(async move {
                let mut acks = Vec::new();
                for n in 0..25 {
                    let data = format!("w{w}-{n}");
                    let ehk = if (w + n) % 2 == 0 { "0" } else { MAX_HASH };
                    let (shard, seq) = put(&client, "s", &data, Some(ehk), &data).await;
                    acks.push((shard, seq, data));
                }
                for b in 0..4 {
                    let mut batch = client.put_records().stream_name("s");
                    for n in 0..10 {
                        batch = batch.records(
                            PutRecordsRequestEntry::builder()
                                .partition_key(format!("w{w}-b{b}-{n}"))
                                .data(Blob::new(format!("w{w}-b{b}-{n}")))
                                .build()
                                .unwrap(),
                        );
                    }
                    let out = batch.send().await.unwrap();
                    assert_eq!(out.failed_record_count(), Some(0));
                    for (n, r) in out.records().iter().enumerate() {
                        acks.push((
                            r.shard_id().unwrap().to_string(),
                            r.sequence_number().unwrap().to_string(),
                            format!("w{w}-b{b}-{n}"),
                        ));
                    }
                }
                acks
            });
        }
        let mut acked: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        while let Some(acks) = writers.join_next().await {
            let acks = acks.unwrap();
            // One writer's records in one shard: increasing in call order.
            let mut last: BTreeMap<&str, &str> = BTreeMap::new();
            for (shard, seq, _) in &acks {
                if let Some(prev) = last.insert(shard, seq) {
                    assert!(seq_lt(prev, seq), "{shard}: {prev} then {seq}");
                }
            }
            for (shard, seq, data) in acks {
                acked.entry(shard).or_default().push((seq, data));
            }
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        let seen = reader.await.unwrap();
        let total: usize = acked.values().map(Vec::len).sum();
        assert_eq!(total, 8 * (25 + 40));
        for (i, seen) in seen.iter().enumerate() {
            for w in seen.windows(2) {
                assert!(seq_lt(&w[0].0, &w[1].0), "{} then {}", w[0].0, w[1].0);
            }
            let mut want = acked.get(&shard_id(i)).cloned().unwrap_or_default();
            want.sort_by(|a, b| (a.0.len(), &a.0).cmp(&(b.0.len(), &b.0)));
            assert_eq!(seen, &want, "{}", shard_id(i));
        }
        server.shutdown().await;
    }
}

both_backends! {
    /// A put that passed its stream lookup just before DeleteStream (default delay 0) still writes
    /// after the purge ran; its records must not be left on disk under the dead stream's id.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_put_racing_delete_stream_leaves_nothing_behind() {
        let (server, _clock, client) = setup(config()).await;
        create(&client, "doomed", 2).await;
        put(&client, "doomed", "k", None, "before").await;
        let registry = server.registry().clone();
        // The racing put's view of the stream, taken before the deletion.
        let stream = registry.lookup("doomed").unwrap();
        let keys: Vec<_> = (0..2).map(|i| stream.shard(i).unwrap().key).collect();
        client
            .delete_stream()
            .stream_name("doomed")
            .send()
            .await
            .unwrap();
        let purge = registry.clone();
        purge.enforce_retention_fully().await.unwrap();
        let entries: Vec<kinesd::streams::PutEntry> = ["a", "b", "c", "d"]
            .iter()
            .map(|pk| kinesd::streams::PutEntry {
                hash: md5_hash(pk),
                partition_key: pk.to_string(),
                data: b"late".to_vec(),
            })
            .collect();
        for r in registry.put(&stream, entries, None).await.unwrap() {
            r.unwrap();
        }
        let purge = registry.clone();
        purge.enforce_retention_fully().await.unwrap();
        for key in keys {
            assert_eq!(
                registry.shard_stats(key).await.unwrap().records,
                0,
                "{key:?}"
            );
        }
    }
}
