//! Data-plane operations through the AWS SDK for Rust: PutRecord(s), GetShardIterator,
//! GetRecords, retention trimming and restart persistence.

mod common;

use aws_sdk_kinesis::error::ProvideErrorMetadata;
use common::{create, failure, setup};

use aws_sdk_kinesis::primitives::{Blob, DateTime};
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, Record, ShardIteratorType};
use aws_sdk_kinesis::Client;
use kinesd::{Clock, Config};
use std::collections::BTreeMap;

const MAX_HASH: &str = "340282366920938463463374607431768211455";
const HOUR_MS: i64 = 3_600_000;

/// A config whose background retention worker stays out of the way of explicit passes.
fn config() -> Config {
    Config {
        retention_check_ms: 3_600_000,
        ..Config::default()
    }
}

fn shard_id(i: usize) -> String {
    format!("shardId-{i:012}")
}

fn md5_hash(key: &str) -> u128 {
    u128::from_be_bytes(md5::compute(key.as_bytes()).0)
}

/// Puts one record; `ehk` routes it explicitly.
async fn put(
    client: &Client,
    stream: &str,
    pk: &str,
    ehk: Option<&str>,
    data: &str,
) -> (String, String) {
    let out = client
        .put_record()
        .stream_name(stream)
        .partition_key(pk)
        .set_explicit_hash_key(ehk.map(str::to_string))
        .data(Blob::new(data))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put to {stream}: {e:?}"));
    (
        out.shard_id().to_string(),
        out.sequence_number().to_string(),
    )
}

async fn iterator(
    client: &Client,
    stream: &str,
    shard: &str,
    kind: ShardIteratorType,
    seq: Option<&str>,
) -> String {
    client
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard)
        .shard_iterator_type(kind)
        .set_starting_sequence_number(seq.map(str::to_string))
        .send()
        .await
        .unwrap_or_else(|e| panic!("iterator on {stream}/{shard}: {e:?}"))
        .shard_iterator()
        .unwrap()
        .to_string()
}

/// Reads from `it` until a call returns no records; returns the records and the last
/// NextShardIterator.
async fn drain(client: &Client, mut it: String) -> (Vec<Record>, String) {
    let mut all = Vec::new();
    loop {
        let out = client
            .get_records()
            .shard_iterator(&it)
            .send()
            .await
            .unwrap_or_else(|e| panic!("get_records: {e:?}"));
        it = out.next_shard_iterator().expect("open shard").to_string();
        if out.records().is_empty() {
            assert_eq!(out.millis_behind_latest(), Some(0));
            return (all, it);
        }
        all.extend(out.records().iter().cloned());
    }
}

async fn read_shard(client: &Client, stream: &str, shard: &str) -> Vec<Record> {
    let it = iterator(client, stream, shard, ShardIteratorType::TrimHorizon, None).await;
    drain(client, it).await.0
}

fn texts(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| String::from_utf8(r.data().as_ref().to_vec()).unwrap())
        .collect()
}

fn seqs(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| r.sequence_number().to_string())
        .collect()
}

/// Numeric comparison of decimal sequence numbers.
fn seq_lt(a: &str, b: &str) -> bool {
    (a.len(), a) < (b.len(), b)
}

fn assert_sequence_shape(seq: &str) {
    assert_eq!(seq.len(), 56, "{seq}");
    assert!(seq.bytes().all(|b| b.is_ascii_digit()), "{seq}");
    assert!(!seq.starts_with('0'), "{seq}");
}

/// The shard of `stream` whose hash range holds `hash`, from ListShards.
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

async fn set_retention(client: &Client, stream: &str, hours: i32, increase: bool) {
    if increase {
        client
            .increase_stream_retention_period()
            .stream_name(stream)
            .retention_period_hours(hours)
            .send()
            .await
            .unwrap();
    } else {
        client
            .decrease_stream_retention_period()
            .stream_name(stream)
            .retention_period_hours(hours)
            .send()
            .await
            .unwrap();
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn retention_trims_records_and_moves_the_trim_horizon() {
        let (server, clock, client) = setup(config()).await;
        create(&client, "short", 1).await;
        create(&client, "long", 1).await;
        set_retention(&client, "long", 48, true).await;
        let sh0 = shard_id(0);
        let key = |name: &str| {
            server
                .registry()
                .lookup(name)
                .unwrap()
                .shard(0)
                .unwrap()
                .key
        };
        let (short_key, long_key) = (key("short"), key("long"));
        let registry = server.registry();

        let t0 = clock.now_ms();
        let mut short_seqs = Vec::new();
        for i in 0..3 {
            short_seqs.push(put(&client, "short", "k", None, &format!("old{i}")).await.1);
            put(&client, "long", "k", None, &format!("old{i}")).await;
        }
        clock.advance_ms(12 * HOUR_MS);
        for i in 0..2 {
            short_seqs.push(put(&client, "short", "k", None, &format!("new{i}")).await.1);
            put(&client, "long", "k", None, &format!("new{i}")).await;
        }
        clock.advance_ms(13 * HOUR_MS); // t0 + 25 h

        // Expired records are never returned, even before a retention pass removes them.
        assert_eq!(
            texts(&read_shard(&client, "short", &sh0).await),
            ["new0", "new1"]
        );
        assert_eq!(registry.shard_stats(short_key).await.unwrap().records, 5);
        let report = server.registry().enforce_retention_fully().await.unwrap();
        assert_eq!(report.records_trimmed, 3);
        assert_eq!(registry.shard_stats(short_key).await.unwrap().records, 2);
        assert_eq!(registry.shard_stats(long_key).await.unwrap().records, 5);

        // TRIM_HORIZON and an old AT_TIMESTAMP now start at the first surviving record.
        let records = read_shard(&client, "short", &sh0).await;
        assert_eq!(seqs(&records), short_seqs[3..]);
        let it = client
            .get_shard_iterator()
            .stream_name("short")
            .shard_id(&sh0)
            .shard_iterator_type(ShardIteratorType::AtTimestamp)
            .timestamp(DateTime::from_millis(t0))
            .send()
            .await
            .unwrap();
        let (records, _) = drain(&client, it.shard_iterator().unwrap().to_string()).await;
        assert_eq!(texts(&records), ["new0", "new1"]);

        // The longer retention keeps everything for 48 h.
        assert_eq!(
            texts(&read_shard(&client, "long", &sh0).await),
            ["old0", "old1", "old2", "new0", "new1"]
        );
        clock.advance_ms(24 * HOUR_MS); // t0 + 49 h
        let report = server.registry().enforce_retention_fully().await.unwrap();
        assert_eq!(report.records_trimmed, 5); // 3 from long, 2 from short
        assert_eq!(
            texts(&read_shard(&client, "long", &sh0).await),
            ["new0", "new1"]
        );
        assert_eq!(
            registry.shard_stats(short_key).await.unwrap(),
            Default::default()
        );
        assert!(read_shard(&client, "short", &sh0).await.is_empty());
        clock.advance_ms(12 * HOUR_MS); // t0 + 61 h
        server.registry().enforce_retention_fully().await.unwrap();
        assert_eq!(
            registry.shard_stats(long_key).await.unwrap(),
            Default::default()
        );

        // An emptied shard keeps counting upwards.
        let (_, seq) = put(&client, "short", "k", None, "after").await;
        assert!(seq_lt(short_seqs.last().unwrap(), &seq));
        assert_eq!(texts(&read_shard(&client, "short", &sh0).await), ["after"]);
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn decreasing_retention_drops_older_records() {
        let (server, clock, client) = setup(config()).await;
        create(&client, "s", 1).await;
        set_retention(&client, "s", 72, true).await;
        let sh0 = shard_id(0);
        put(&client, "s", "k", None, "a").await;
        put(&client, "s", "k", None, "b").await;
        clock.advance_ms(30 * HOUR_MS);
        put(&client, "s", "k", None, "c").await;
        assert_eq!(
            texts(&read_shard(&client, "s", &sh0).await),
            ["a", "b", "c"]
        );
        set_retention(&client, "s", 24, false).await;
        assert_eq!(texts(&read_shard(&client, "s", &sh0).await), ["c"]);
        let report = server.registry().enforce_retention_fully().await.unwrap();
        assert_eq!(report.records_trimmed, 2);
        // Increasing again does not bring them back.
        set_retention(&client, "s", 72, true).await;
        assert_eq!(texts(&read_shard(&client, "s", &sh0).await), ["c"]);
        server.shutdown().await;
    }
}

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
