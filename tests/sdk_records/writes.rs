//! PutRecord and PutRecords: routing by hash key, the record-size limit, sequence numbers and their
//! ordering, batches of 500.

use super::*;

fn assert_sequence_shape(seq: &str) {
    assert_eq!(seq.len(), 56, "{seq}");
    assert!(seq.bytes().all(|b| b.is_ascii_digit()), "{seq}");
    assert!(!seq.starts_with('0'), "{seq}");
}

/// Each shard of `stream` with its hash key range, from ListShards.
async fn shard_ranges(client: &Client, stream: &str) -> Vec<(String, u128, u128)> {
    let out = client
        .list_shards()
        .stream_name(stream)
        .send()
        .await
        .unwrap();
    out.shards()
        .iter()
        .map(|s| {
            let r = s.hash_key_range().unwrap();
            (
                s.shard_id().to_string(),
                r.starting_hash_key().parse().unwrap(),
                r.ending_hash_key().parse().unwrap(),
            )
        })
        .collect()
}

/// The one shard of `ranges` whose hash key range holds `hash`.
fn owner(ranges: &[(String, u128, u128)], hash: u128) -> String {
    let owners: Vec<&String> = ranges
        .iter()
        .filter(|(_, lo, hi)| *lo <= hash && hash <= *hi)
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(owners.len(), 1, "hash {hash} owned by {owners:?}");
    owners[0].clone()
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn explicit_hash_key_routing() {
        let (server, _clock, client) = setup(config()).await;
        create(&client, "s", 4).await;
        let quarter = 1u128 << 126;
        let cases = [
            ("0".to_string(), 0),
            ((quarter - 1).to_string(), 0),
            (quarter.to_string(), 1),
            ((2 * quarter).to_string(), 2),
            ((3 * quarter - 1).to_string(), 2),
            ((3 * quarter).to_string(), 3),
            (MAX_HASH.to_string(), 3),
        ];
        for (ehk, shard) in &cases {
            // The partition key's own hash would go elsewhere: the explicit key wins.
            let (got, seq) = put(&client, "s", "a", Some(ehk), "x").await;
            assert_eq!(got, shard_id(*shard), "ExplicitHashKey {ehk}");
            assert_sequence_shape(&seq);
        }
        // md5("a") = 0x0cc1..., in the first quarter.
        assert_eq!(put(&client, "s", "a", None, "x").await.0, shard_id(0));

        let (code, msg) = failure(
            client
                .put_record()
                .stream_name("s")
                .partition_key("a")
                .explicit_hash_key("340282366920938463463374607431768211456")
                .data(Blob::new("x"))
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified \
             value was 340282366920938463463374607431768211456"
        );
        let forty = "1".repeat(40);
        for bad in [forty.as_str(), "-1", "01", "abc"] {
            let (code, msg) = failure(
                client
                    .put_record()
                    .stream_name("s")
                    .partition_key("a")
                    .explicit_hash_key(bad)
                    .data(Blob::new("x"))
                    .send()
                    .await,
            );
            assert_eq!(code, "ValidationException", "{bad}");
            assert_eq!(
                msg,
                format!(
                    "1 validation error detected: Value '{bad}' at 'explicitHashKey' failed to \
                     satisfy constraint: Member must satisfy regular expression pattern: \
                     0|([1-9]\\d{{0,38}})"
                )
            );
        }
        // PutRecords honours ExplicitHashKey per entry.
        let entry = |ehk: &str| {
            PutRecordsRequestEntry::builder()
                .partition_key("a")
                .explicit_hash_key(ehk)
                .data(Blob::new("y"))
                .build()
                .unwrap()
        };
        let out = client
            .put_records()
            .stream_name("s")
            .records(entry(MAX_HASH))
            .records(entry("0"))
            .records(entry(&(2 * quarter).to_string()))
            .send()
            .await
            .unwrap();
        assert_eq!(
            out.records()
                .iter()
                .map(|r| r.shard_id().unwrap())
                .collect::<Vec<_>>(),
            [shard_id(3), shard_id(0), shard_id(2)]
        );
        // Records landed where the answers said.
        let counts: Vec<usize> = {
            let mut v = Vec::new();
            for i in 0..4 {
                v.push(read_shard(&client, "s", &shard_id(i)).await.len());
            }
            v
        };
        assert_eq!(counts, [4, 1, 3, 3]);
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn partition_key_md5_routing() {
        let (server, _clock, client) = setup(config()).await;
        create(&client, "s", 7).await;
        let ranges = shard_ranges(&client, "s").await;
        let keys: Vec<String> = (0..120)
            .map(|i| match i % 3 {
                0 => format!("key-{i}"),
                1 => format!("ключ-é-{i}"),
                _ => format!("{i}"),
            })
            .collect();
        let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for k in &keys {
            let want = owner(&ranges, md5_hash(k));
            let (got, _) = put(&client, "s", k, None, k).await;
            assert_eq!(got, want, "partition key {k}");
            expected.entry(want).or_default().push(k.clone());
        }
        // Every shard got some keys (120 keys over 7 shards), and PutRecords routes the same way.
        assert_eq!(expected.len(), 7);
        let mut batch = client.put_records().stream_name("s");
        for k in &keys {
            batch = batch.records(
                PutRecordsRequestEntry::builder()
                    .partition_key(k)
                    .data(Blob::new(k.as_str()))
                    .build()
                    .unwrap(),
            );
        }
        let out = batch.send().await.unwrap();
        for (k, r) in keys.iter().zip(out.records()) {
            assert_eq!(r.shard_id().unwrap(), owner(&ranges, md5_hash(k)), "{k}");
        }
        for (shard, ks) in &expected {
            let records = read_shard(&client, "s", shard).await;
            let mut want = ks.clone();
            want.extend(ks.iter().cloned());
            assert_eq!(texts(&records), want, "{shard}");
            assert_eq!(
                records
                    .iter()
                    .map(|r| r.partition_key().unwrap().to_string())
                    .collect::<Vec<_>>(),
                want
            );
        }
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn record_size_limit_counts_the_partition_key() {
        let (server, _clock, client) = setup(config()).await;
        create(&client, "s", 1).await;
        let limit = 1024 * 1024;
        let fits: Vec<u8> = (0..limit - 3).map(|i| (i % 251) as u8).collect();
        client
            .put_record()
            .stream_name("s")
            .partition_key("abc")
            .data(Blob::new(fits.clone()))
            .send()
            .await
            .unwrap();
        let (code, msg) = failure(
            client
                .put_record()
                .stream_name("s")
                .partition_key("abcd")
                .data(Blob::new(fits.clone()))
                .send()
                .await,
        );
        assert_eq!(code, "ValidationException");
        assert_eq!(
            msg,
            "1 validation error detected: Value at 'data' failed to satisfy constraint: Member must \
             have length less than or equal to 1048576"
        );
        let entry = |pk: &str, data: Vec<u8>| {
            PutRecordsRequestEntry::builder()
                .partition_key(pk)
                .data(Blob::new(data))
                .build()
                .unwrap()
        };
        let (code, msg) = failure(
            client
                .put_records()
                .stream_name("s")
                .records(entry("small", b"ok".to_vec()))
                .records(entry("abcd", fits.clone()))
                .send()
                .await,
        );
        assert_eq!(code, "ValidationException");
        assert_eq!(
            msg,
            "1 validation error detected: Value at 'records.2.member.data' failed to satisfy \
             constraint: Member must have length less than or equal to 1048576"
        );
        let long_key = "k".repeat(257);
        let (code, msg) = failure(
            client
                .put_record()
                .stream_name("s")
                .partition_key(&long_key)
                .data(Blob::new("x"))
                .send()
                .await,
        );
        assert_eq!(code, "ValidationException");
        assert_eq!(
            msg,
            format!(
                "1 validation error detected: Value '{long_key}' at 'partitionKey' failed to satisfy \
                 constraint: Member must have length less than or equal to 256"
            )
        );
        // Only the record that fit was stored, byte for byte.
        let records = read_shard(&client, "s", &shard_id(0)).await;
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].data().as_ref(), fits.as_slice());
        assert_eq!(records[0].partition_key(), Some("abc"));
        server.shutdown().await;
    }
}

/// Our sequence numbers are `4` · stream (14) · shard (8) · position (20) · arrival ms (13)
/// (src/streams/sequence.rs); this moves the position field forward.
fn bump_position(seq: &str, by: u64) -> String {
    let position: u64 = seq[23..43].parse().unwrap();
    format!("{}{:020}{}", &seq[..23], position + by, &seq[43..])
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sequence_number_for_ordering_is_honoured() {
        let (server, _clock, client) = setup(config()).await;
        create(&client, "s", 1).await;
        let (_, s1) = put(&client, "s", "k", None, "r1").await;
        let put_after = |floor: String, data: &'static str| {
            let client = client.clone();
            async move {
                client
                    .put_record()
                    .stream_name("s")
                    .partition_key("k")
                    .sequence_number_for_ordering(floor)
                    .data(Blob::new(data))
                    .send()
                    .await
                    .unwrap()
                    .sequence_number()
                    .to_string()
            }
        };
        let s2 = put_after(s1.clone(), "r2").await;
        assert!(seq_lt(&s1, &s2), "{s1} < {s2}");
        // A floor ahead of the shard: the new number still exceeds it.
        let floor = bump_position(&s2, 1000);
        assert!(seq_lt(&s2, &floor));
        let s3 = put_after(floor.clone(), "r3").await;
        assert!(seq_lt(&floor, &s3), "{floor} < {s3}");
        let (_, s4) = put(&client, "s", "k", None, "r4").await;
        assert!(seq_lt(&s3, &s4), "{s3} < {s4}");
        let records = read_shard(&client, "s", &shard_id(0)).await;
        assert_eq!(texts(&records), ["r1", "r2", "r3", "r4"]);
        assert_eq!(seqs(&records), [s1, s2, s3, s4]);

        let (code, msg) = failure(
            client
                .put_record()
                .stream_name("s")
                .partition_key("k")
                .sequence_number_for_ordering("123")
                .data(Blob::new("x"))
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "ExclusiveMinimumSequenceNumber 123 used in PutRecord on stream s under account \
             000000000000 is invalid."
        );
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sequence_numbers_strictly_increase_per_shard() {
        let (server, clock, client) = setup(config()).await;
        create(&client, "s", 3).await;
        let mut by_shard: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for i in 0..45 {
            let (shard, seq) = put(&client, "s", &format!("k{i}"), None, &format!("{i}")).await;
            assert_sequence_shape(&seq);
            by_shard.entry(shard).or_default().push(seq);
            if i % 10 == 0 {
                // A clock step backwards (never before the stream's creation) must not
                // reorder a shard.
                clock.advance_ms(if i % 20 == 0 { 5_000 } else { -3_000 });
            }
        }
        let mut batch = client.put_records().stream_name("s");
        for i in 0..60 {
            batch = batch.records(
                PutRecordsRequestEntry::builder()
                    .partition_key(format!("b{i}"))
                    .data(Blob::new("b"))
                    .build()
                    .unwrap(),
            );
        }
        for r in batch.send().await.unwrap().records() {
            let seq = r.sequence_number().unwrap().to_string();
            assert_sequence_shape(&seq);
            by_shard
                .entry(r.shard_id().unwrap().to_string())
                .or_default()
                .push(seq);
        }
        assert_eq!(by_shard.len(), 3);
        for (shard, list) in &by_shard {
            for w in list.windows(2) {
                assert!(seq_lt(&w[0], &w[1]), "{shard}: {} then {}", w[0], w[1]);
            }
            // What was acknowledged is exactly what is read back, in the same order.
            assert_eq!(&seqs(&read_shard(&client, "s", shard).await), list);
        }
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn put_records_500_in_order_and_501_rejected() {
        let (server, _clock, client) = setup(config()).await;
        create(&client, "s", 4).await;
        let ranges = shard_ranges(&client, "s").await;
        let entries: Vec<PutRecordsRequestEntry> = (0..500)
            .map(|i| {
                PutRecordsRequestEntry::builder()
                    .partition_key(format!("pk-{i}"))
                    .data(Blob::new(format!("data-{i}")))
                    .build()
                    .unwrap()
            })
            .collect();
        let out = client
            .put_records()
            .stream_name("s")
            .set_records(Some(entries.clone()))
            .send()
            .await
            .unwrap();
        assert_eq!(out.failed_record_count(), Some(0));
        assert_eq!(out.records().len(), 500);
        let mut expected: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for (i, r) in out.records().iter().enumerate() {
            let pk = format!("pk-{i}");
            let shard = owner(&ranges, md5_hash(&pk));
            assert_eq!(r.shard_id(), Some(shard.as_str()), "entry {i}");
            assert_eq!(r.error_code(), None);
            assert_eq!(r.error_message(), None);
            let seq = r.sequence_number().unwrap().to_string();
            assert_sequence_shape(&seq);
            expected
                .entry(shard)
                .or_default()
                .push((format!("data-{i}"), seq));
        }
        assert_eq!(expected.len(), 4);
        for (shard, want) in &expected {
            let records = read_shard(&client, "s", shard).await;
            let got: Vec<(String, String)> = texts(&records).into_iter().zip(seqs(&records)).collect();
            assert_eq!(&got, want, "{shard}");
        }

        let mut too_many = entries.clone();
        too_many.push(entries[0].clone());
        let err = client
            .put_records()
            .stream_name("s")
            .set_records(Some(too_many))
            .send()
            .await
            .expect_err("501 entries")
            .into_service_error();
        assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
        let msg = err.message().unwrap();
        assert!(
            msg.starts_with("1 validation error detected: Value '["),
            "{msg}"
        );
        assert!(
            msg.ends_with(
                "]' at 'records' failed to satisfy constraint: Member must have length less than \
                 or equal to 500"
            ),
            "{msg}"
        );
        let (code, msg) = failure(
            client
                .put_records()
                .stream_name("s")
                .set_records(Some(Vec::new()))
                .send()
                .await,
        );
        assert_eq!(code, "ValidationException");
        assert_eq!(
            msg,
            "1 validation error detected: Value '[]' at 'records' failed to satisfy constraint: \
             Member must have length greater than or equal to 1"
        );
        // Nothing of the refused batches was stored.
        let total: usize = {
            let mut n = 0;
            for i in 0..4 {
                n += read_shard(&client, "s", &shard_id(i)).await.len();
            }
            n
        };
        assert_eq!(total, 500);
        server.shutdown().await;
    }
}
