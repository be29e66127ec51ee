//! GetShardIterator and GetRecords: every iterator type, limits and next iterators,
//! MillisBehindLatest and arrival timestamps, expired and tampered iterators.

use super::*;

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shard_iterator_types() {
        let (server, _clock, client) = setup(config()).await;
        create(&client, "s", 2).await;
        let mut s0 = Vec::new();
        for i in 0..5 {
            s0.push(put(&client, "s", "k", Some("0"), &format!("r{i}")).await.1);
        }
        let (_, other) = put(&client, "s", "k", Some(MAX_HASH), "other").await;
        let sh0 = shard_id(0);
        let read = |it: String| {
            let client = client.clone();
            async move { texts(&drain(&client, it).await.0) }
        };

        let it = iterator(&client, "s", &sh0, ShardIteratorType::TrimHorizon, None).await;
        assert_eq!(read(it).await, ["r0", "r1", "r2", "r3", "r4"]);
        let it = iterator(
            &client,
            "s",
            &sh0,
            ShardIteratorType::AtSequenceNumber,
            Some(&s0[2]),
        )
        .await;
        assert_eq!(read(it).await, ["r2", "r3", "r4"]);
        let it = iterator(
            &client,
            "s",
            &sh0,
            ShardIteratorType::AfterSequenceNumber,
            Some(&s0[2]),
        )
        .await;
        assert_eq!(read(it).await, ["r3", "r4"]);
        let it = iterator(
            &client,
            "s",
            &sh0,
            ShardIteratorType::AfterSequenceNumber,
            Some(&s0[4]),
        )
        .await;
        assert!(read(it).await.is_empty());
        // The shard's StartingSequenceNumber addresses the start of the shard.
        let shards = client.list_shards().stream_name("s").send().await.unwrap();
        let start = shards.shards()[0]
            .sequence_number_range()
            .unwrap()
            .starting_sequence_number()
            .to_string();
        assert!(seq_lt(&start, &s0[0]));
        let it = iterator(
            &client,
            "s",
            &sh0,
            ShardIteratorType::AtSequenceNumber,
            Some(&start),
        )
        .await;
        assert_eq!(read(it).await.len(), 5);

        // LATEST sees only what is put afterwards.
        let latest = iterator(&client, "s", &sh0, ShardIteratorType::Latest, None).await;
        let out = client
            .get_records()
            .shard_iterator(&latest)
            .send()
            .await
            .unwrap();
        assert!(out.records().is_empty());
        let latest = out.next_shard_iterator().unwrap().to_string();
        put(&client, "s", "k", Some("0"), "r5").await;
        put(&client, "s", "k", Some("0"), "r6").await;
        assert_eq!(read(latest).await, ["r5", "r6"]);

        // A sequence number of another shard.
        let (code, msg) = failure(
            client
                .get_shard_iterator()
                .stream_name("s")
                .shard_id(&sh0)
                .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
                .starting_sequence_number(&other)
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "Invalid StartingSequenceNumber. It encodes shardId-000000000001, while it was used in a \
             call to a shard with shardId-000000000000"
        );
        // Unknown shard and stream.
        let err = client
            .get_shard_iterator()
            .stream_name("s")
            .shard_id("shardId-000000000009")
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect_err("no such shard")
            .into_service_error();
        assert!(err.is_resource_not_found_exception(), "{err:?}");
        assert_eq!(
            err.message(),
            Some("Shard shardId-000000000009 in stream s under account 000000000000 does not exist")
        );
        let (code, msg) = failure(
            client
                .get_shard_iterator()
                .stream_name("nope")
                .shard_id(&sh0)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
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
        // Missing or superfluous StartingSequenceNumber, a malformed one, a missing Timestamp.
        let (code, msg) = failure(
            client
                .get_shard_iterator()
                .stream_name("s")
                .shard_id(&sh0)
                .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and \
             StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. \
             Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber."
        );
        let (code, msg) = failure(
            client
                .get_shard_iterator()
                .stream_name("s")
                .shard_id(&sh0)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .starting_sequence_number(&s0[0])
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and \
             StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. \
             Request specified TRIM_HORIZON and also a StartingSequenceNumber."
        );
        let (code, msg) = failure(
            client
                .get_shard_iterator()
                .stream_name("s")
                .shard_id(&sh0)
                .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
                .starting_sequence_number("123")
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "StartingSequenceNumber 123 used in GetShardIterator on shard shardId-000000000000 in \
             stream s under account 000000000000 is invalid."
        );
        let (code, msg) = failure(
            client
                .get_shard_iterator()
                .stream_name("s")
                .shard_id(&sh0)
                .shard_iterator_type(ShardIteratorType::AtTimestamp)
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current \
             request has no timestamp parameter."
        );
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_timestamp_iterators() {
        let (server, clock, client) = setup(config()).await;
        create(&client, "s", 1).await;
        let t0 = clock.now_ms();
        for i in 0..3 {
            put(&client, "s", "k", None, &format!("r{i}")).await;
            clock.advance_ms(1000);
        }
        let now = clock.now_ms();
        assert_eq!(now, t0 + 3000);
        let sh0 = shard_id(0);
        let at = |ms: i64| {
            let client = client.clone();
            let sh0 = sh0.clone();
            async move {
                let it = client
                    .get_shard_iterator()
                    .stream_name("s")
                    .shard_id(sh0)
                    .shard_iterator_type(ShardIteratorType::AtTimestamp)
                    .timestamp(DateTime::from_millis(ms))
                    .send()
                    .await
                    .unwrap()
                    .shard_iterator()
                    .unwrap()
                    .to_string();
                drain(&client, it).await
            }
        };
        let (records, _) = at(t0).await;
        assert_eq!(texts(&records), ["r0", "r1", "r2"]);
        let arrivals: Vec<i64> = records
            .iter()
            .map(|r| {
                r.approximate_arrival_timestamp()
                    .unwrap()
                    .to_millis()
                    .unwrap()
            })
            .collect();
        assert_eq!(arrivals, [t0, t0 + 1000, t0 + 2000]);
        assert_eq!(texts(&at(t0 + 1).await.0), ["r1", "r2"]);
        assert_eq!(texts(&at(t0 + 1000).await.0), ["r1", "r2"]);
        assert_eq!(texts(&at(t0 + 1999).await.0), ["r2"]);
        // Older than anything stored: from the trim horizon.
        assert_eq!(
            texts(&at(t0 - 10 * 24 * HOUR_MS).await.0),
            ["r0", "r1", "r2"]
        );
        // After the last record but not in the future: waits for new records.
        let (records, it) = at(now).await;
        assert!(records.is_empty());
        put(&client, "s", "k", None, "r3").await;
        assert_eq!(texts(&drain(&client, it).await.0), ["r3"]);

        let (code, msg) = failure(
            client
                .get_shard_iterator()
                .stream_name("s")
                .shard_id(&sh0)
                .shard_iterator_type(ShardIteratorType::AtTimestamp)
                .timestamp(DateTime::from_millis(now + 1))
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            format!(
                "The timestampInMillis parameter cannot be greater than the \
                 currentTimestampInMillis. timestampInMillis: {}, currentTimestampInMillis: {now}",
                now + 1
            )
        );
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn get_records_limit_and_next_iterators() {
        let (server, clock, client) = setup(config()).await;
        create(&client, "s", 1).await;
        let binary: Vec<u8> = (0..=255u8).collect();
        client
            .put_record()
            .stream_name("s")
            .partition_key("bin")
            .data(Blob::new(binary.clone()))
            .send()
            .await
            .unwrap();
        for i in 1..10 {
            put(&client, "s", &format!("k{i}"), None, &format!("r{i}")).await;
        }
        let mut it = iterator(
            &client,
            "s",
            &shard_id(0),
            ShardIteratorType::TrimHorizon,
            None,
        )
        .await;
        let mut sizes = Vec::new();
        let mut all = Vec::new();
        for _ in 0..5 {
            let out = client
                .get_records()
                .shard_iterator(&it)
                .limit(3)
                .send()
                .await
                .unwrap();
            sizes.push(out.records().len());
            all.extend(out.records().iter().cloned());
            let next = out.next_shard_iterator().expect("always a next iterator");
            assert!(!next.is_empty());
            it = next.to_string();
        }
        assert_eq!(sizes, [3, 3, 3, 1, 0]);
        assert_eq!(all[0].data().as_ref(), binary.as_slice());
        assert_eq!(all[0].partition_key(), Some("bin"));
        assert_eq!(
            texts(&all[1..]),
            (1..10).map(|i| format!("r{i}")).collect::<Vec<_>>()
        );

        // Polling an empty shard: every answer carries a fresh iterator, so a reader that keeps
        // following NextShardIterator never expires.
        for _ in 0..6 {
            clock.advance_ms(200_000);
            let out = client
                .get_records()
                .shard_iterator(&it)
                .send()
                .await
                .unwrap();
            assert!(out.records().is_empty());
            assert_eq!(out.millis_behind_latest(), Some(0));
            let next = out.next_shard_iterator().unwrap().to_string();
            assert_ne!(next, it);
            it = next;
        }
        put(&client, "s", "k", None, "late").await;
        let out = client
            .get_records()
            .shard_iterator(&it)
            .send()
            .await
            .unwrap();
        assert_eq!(texts(out.records()), ["late"]);

        let (code, msg) = failure(
            client
                .get_records()
                .shard_iterator(&it)
                .limit(10_001)
                .send()
                .await,
        );
        assert_eq!(code, "ValidationException");
        assert_eq!(
            msg,
            "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: \
             Member must have value less than or equal to 10000"
        );
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn millis_behind_latest_and_arrival_timestamps() {
        let (server, clock, client) = setup(config()).await;
        create(&client, "s", 1).await;
        let t0 = clock.now_ms();
        put(&client, "s", "k", None, "r0").await;
        clock.advance_ms(5_000);
        put(&client, "s", "k", None, "r1").await;
        clock.advance_ms(2_000);

        let it = iterator(
            &client,
            "s",
            &shard_id(0),
            ShardIteratorType::TrimHorizon,
            None,
        )
        .await;
        let out = client
            .get_records()
            .shard_iterator(&it)
            .limit(1)
            .send()
            .await
            .unwrap();
        assert_eq!(texts(out.records()), ["r0"]);
        assert_eq!(
            out.records()[0]
                .approximate_arrival_timestamp()
                .unwrap()
                .to_millis()
                .unwrap(),
            t0
        );
        // Behind the tip: the age of the last record returned (now − its arrival).
        assert_eq!(out.millis_behind_latest(), Some(7_000));
        let out = client
            .get_records()
            .shard_iterator(out.next_shard_iterator().unwrap())
            .limit(1)
            .send()
            .await
            .unwrap();
        assert_eq!(texts(out.records()), ["r1"]);
        assert_eq!(
            out.records()[0]
                .approximate_arrival_timestamp()
                .unwrap()
                .to_millis()
                .unwrap(),
            t0 + 5_000
        );
        // Caught up.
        assert_eq!(out.millis_behind_latest(), Some(0));
        let out = client
            .get_records()
            .shard_iterator(out.next_shard_iterator().unwrap())
            .send()
            .await
            .unwrap();
        assert!(out.records().is_empty());
        assert_eq!(out.millis_behind_latest(), Some(0));
        // Reading everything at once is also at the tip.
        let out = client
            .get_records()
            .shard_iterator(&it)
            .send()
            .await
            .unwrap();
        assert_eq!(out.records().len(), 2);
        assert_eq!(out.millis_behind_latest(), Some(0));
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn iterator_expiry_and_tampering() {
        let (server, clock, client) = setup(config()).await;
        create(&client, "s", 1).await;
        put(&client, "s", "k", None, "r0").await;
        let issued = clock.now_ms();
        let it = iterator(
            &client,
            "s",
            &shard_id(0),
            ShardIteratorType::TrimHorizon,
            None,
        )
        .await;
        assert!(it.starts_with("AAAAAAAAAA"), "{it}");
        assert!(it.len() <= 512);

        // Valid for exactly 300 s.
        clock.advance_ms(300_000);
        let out = client
            .get_records()
            .shard_iterator(&it)
            .send()
            .await
            .unwrap();
        assert_eq!(texts(out.records()), ["r0"]);
        let fresh = out.next_shard_iterator().unwrap().to_string();
        clock.advance_ms(1);
        let err = client
            .get_records()
            .shard_iterator(&it)
            .send()
            .await
            .expect_err("expired")
            .into_service_error();
        assert!(err.is_expired_iterator_exception(), "{err:?}");
        assert_eq!(
            err.message().unwrap(),
            format!(
                "Iterator expired. The iterator was created at time {} while right now it is {} \
                 which is further in the future than the tolerated delay of 300000 milliseconds.",
                kinesd::streams::iterator::amz_time(issued),
                kinesd::streams::iterator::amz_time(issued + 300_001)
            )
        );
        // The iterator handed out by the last read is still good.
        let out = client
            .get_records()
            .shard_iterator(&fresh)
            .send()
            .await
            .unwrap();
        assert!(out.records().is_empty());
        let fresh = out.next_shard_iterator().unwrap().to_string();

        // AWS accepts an iterator wrapped in double quotes.
        let out = client
            .get_records()
            .shard_iterator(format!("\"{fresh}\""))
            .send()
            .await
            .unwrap();
        assert!(out.next_shard_iterator().is_some());

        // Any edit is detected.
        let mut bytes = fresh.clone().into_bytes();
        let mid = bytes.len() / 2;
        bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        for bad in [
            tampered.as_str(),
            "AAAAAAAAAAEAAAAAAAAAAQ==",
            "not-an-iterator",
        ] {
            let err = client
                .get_records()
                .shard_iterator(bad)
                .send()
                .await
                .expect_err("tampered")
                .into_service_error();
            assert!(err.is_invalid_argument_exception(), "{bad}: {err:?}");
            assert_eq!(err.message(), Some("Invalid ShardIterator."));
        }
        server.shutdown().await;
    }
}

both_backends! {
    /// Every GetRecords answer carries a NextShardIterator never seen before, even on an idle
    /// shard read many times in the same millisecond (AWS-validated LocalStack test
    /// `test_get_records_next_shard_iterator`); every one of them stays usable, on either node.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn next_shard_iterators_are_all_different_even_when_empty() {
        let (server, _clock, client) = setup(config()).await;
        create(&client, "s", 1).await;
        let first = iterator(&client, "s", &shard_id(0), ShardIteratorType::Latest, None).await;
        let mut seen = vec![first.clone()];
        let mut it = first.clone();
        for _ in 0..8 {
            // Each iterator is passed twice, then the last answer's is followed. The manual
            // clock stands still: every answer is at the same position in the same millisecond.
            for _ in 0..2 {
                let out = client.get_records().shard_iterator(&it).send().await.unwrap();
                assert!(out.records().is_empty());
                seen.push(out.next_shard_iterator().expect("open shard").to_string());
            }
            it = seen.last().unwrap().clone();
        }
        let distinct: std::collections::HashSet<&String> = seen.iter().collect();
        assert_eq!(distinct.len(), seen.len(), "{seen:#?}");
        put(&client, "s", "k", None, "after").await;
        for it in &seen {
            let out = client.get_records().shard_iterator(it).send().await.unwrap();
            assert_eq!(texts(out.records()), ["after"]);
            assert!(!seen.contains(&out.next_shard_iterator().unwrap().to_string()));
        }
        server.shutdown().await;
    }
}
