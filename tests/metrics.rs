//! `GET /metrics`: exact counts after a known sequence of requests, through the SDK, in the
//! Prometheus text format; a deleted stream's series go with it.

mod common;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType};
use common::raw::scrape;
use common::{create, setup};
use kinesd::Config;

/// The value of the sample `series` (name with labels, exactly as printed).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

fn shard(stream: &str, n: u32, metric: &str) -> String {
    format!("kinesd_{metric}{{stream=\"{stream}\",shard=\"shardId-{n:012}\"}}")
}

#[tokio::test]
async fn counts_are_exact_after_known_requests() {
    let (server, clock, client) = setup(Config::default()).await;
    create(&client, "orders", 2).await;
    // Hash key 0 is shard 0's; 2^127 + 1 is shard 1's.
    let high = (1u128 << 127) + 1;
    for data in ["aaaa", "bbbbbb"] {
        client
            .put_record()
            .stream_name("orders")
            .partition_key("p")
            .explicit_hash_key("0")
            .data(Blob::new(data))
            .send()
            .await
            .unwrap();
    }
    let entries = (0..3)
        .map(|i| {
            PutRecordsRequestEntry::builder()
                .partition_key("p")
                .explicit_hash_key(if i == 0 {
                    "0".to_string()
                } else {
                    high.to_string()
                })
                .data(Blob::new(vec![b'x'; 10]))
                .build()
                .unwrap()
        })
        .collect::<Vec<_>>();
    client
        .put_records()
        .stream_name("orders")
        .set_records(Some(entries))
        .send()
        .await
        .unwrap();
    clock.advance_ms(1_000);
    let iterator = client
        .get_shard_iterator()
        .stream_name("orders")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator
        .unwrap();
    let got = client
        .get_records()
        .shard_iterator(iterator)
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(got.records.len(), 2);
    let missing = client.describe_stream().stream_name("nope").send().await;
    assert!(missing.is_err());

    let text = scrape(server.local_addr()).await;
    let op = |name: &str, op: &str| value(&text, &format!("kinesd_{name}{{operation=\"{op}\"}}"));
    assert_eq!(op("requests_total", "PutRecord"), Some(2.0));
    assert_eq!(op("requests_total", "PutRecords"), Some(1.0));
    assert_eq!(op("requests_total", "GetRecords"), Some(1.0));
    assert_eq!(op("requests_total", "CreateStream"), Some(1.0));
    assert_eq!(op("requests_total", "DescribeStream"), Some(1.0));
    assert_eq!(op("requests_total", "MergeShards"), Some(0.0));
    assert_eq!(op("request_duration_seconds_count", "PutRecord"), Some(2.0));
    assert_eq!(
        value(
            &text,
            "kinesd_request_errors_total{operation=\"DescribeStream\",exception=\"ResourceNotFoundException\"}"
        ),
        Some(1.0)
    );
    // Shard 0: "aaaa", "bbbbbb" and one 10-byte record; shard 1: two 10-byte records.
    assert_eq!(
        value(&text, &shard("orders", 0, "incoming_records_total")),
        Some(3.0)
    );
    assert_eq!(
        value(&text, &shard("orders", 0, "incoming_bytes_total")),
        Some(20.0)
    );
    assert_eq!(
        value(&text, &shard("orders", 1, "incoming_records_total")),
        Some(2.0)
    );
    assert_eq!(
        value(&text, &shard("orders", 1, "incoming_bytes_total")),
        Some(20.0)
    );
    assert_eq!(
        value(&text, &shard("orders", 0, "get_records_calls_total")),
        Some(1.0)
    );
    assert_eq!(
        value(&text, &shard("orders", 0, "outgoing_records_total")),
        Some(2.0)
    );
    assert_eq!(
        value(&text, &shard("orders", 0, "outgoing_bytes_total")),
        Some(10.0)
    );
    assert_eq!(
        value(&text, &shard("orders", 1, "get_records_calls_total")),
        Some(0.0)
    );
    assert_eq!(
        value(&text, &shard("orders", 0, "throttled_records_total")),
        Some(0.0)
    );
    // One record left behind the answer: MillisBehindLatest is the age of the last one read.
    assert_eq!(
        value(&text, &shard("orders", 0, "iterator_age_milliseconds")),
        Some(1000.0)
    );
    // Three appends: two PutRecord of one record, and the PutRecords' three (two shards' runs
    // in one append).
    assert_eq!(value(&text, "kinesd_append_records_count"), Some(3.0));
    assert_eq!(value(&text, "kinesd_append_records_sum"), Some(5.0));
    assert_eq!(
        value(&text, "kinesd_append_duration_seconds_count"),
        Some(3.0)
    );
    assert_eq!(value(&text, "kinesd_subscriptions"), Some(0.0));
    assert!(text.contains(
        "# HELP kinesd_incoming_bytes Bytes of data put into the shard (CloudWatch IncomingBytes)"
    ));
    assert!(text.trim_end().ends_with("# EOF"));

    // Retention's trims are counted; a deleted stream's series disappear.
    clock.advance_ms(25 * 3_600_000);
    let report = server.registry().enforce_retention_fully().await.unwrap();
    assert_eq!(report.records_trimmed, 5);
    client
        .delete_stream()
        .stream_name("orders")
        .send()
        .await
        .unwrap();
    server.registry().enforce_retention_fully().await.unwrap();
    let text = scrape(server.local_addr()).await;
    assert_eq!(value(&text, "kinesd_trimmed_records_total"), Some(5.0));
    assert!(!text.contains("stream=\"orders\""), "{text}");
}
