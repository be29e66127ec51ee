//! The limits of `--enforce-limits` that span more than a second or more than a shard, on the
//! manual clock: a 10 MiB GetRecords answer throttles the shard's reads for 5 s, UpdateShardCount
//! scales a stream at most 10 times per rolling 24 h, an ON_DEMAND stream takes 4,000 records/s
//! across its shards, and a subscription pushes at most 2 MiB/s.

mod common;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{
    PutRecordsRequestEntry, ScalingType, StreamMode, StreamModeDetails, SubscribeToShardEvent,
    SubscribeToShardEventStream,
};
use aws_sdk_kinesis::Client;
use common::{create, failure};
use kinesd::{Config, ManualClock, Server};
use std::time::Duration;

const MIB: usize = 1024 * 1024;

async fn limited() -> (Server, ManualClock, Client) {
    common::setup(Config {
        enforce_limits: true,
        ..Config::default()
    })
    .await
}

/// Puts `count` records whose data plus partition key ("p") is exactly 1 MiB, one a simulated
/// second (a full write bucket each time).
async fn put_mib_records(client: &Client, clock: &ManualClock, count: usize) {
    for i in 0..count {
        client
            .put_record()
            .stream_name("s")
            .partition_key("p")
            .data(Blob::new(vec![i as u8; MIB - 1]))
            .send()
            .await
            .unwrap();
        clock.advance_ms(1_000);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_10_mib_answer_reads_are_throttled_for_5_seconds() {
    let (_server, clock, client) = limited().await;
    create(&client, "s", 1).await;
    put_mib_records(&client, &clock, 10).await;
    let iterator = common::trim_horizon_iterator(&client, "s", "shardId-000000000000")
        .await
        .unwrap();
    let get = |it: String| {
        let client = client.clone();
        async move { client.get_records().shard_iterator(it).send().await }
    };
    let out = get(iterator).await.unwrap();
    assert_eq!(out.records().len(), 10, "the whole 10 MiB in one answer");
    let next = out.next_shard_iterator().unwrap().to_string();
    clock.advance_ms(4_999);
    let (code, _) = failure(get(next.clone()).await);
    assert_eq!(code, "ProvisionedThroughputExceededException");
    clock.advance_ms(1);
    assert!(get(next).await.unwrap().records().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_shard_count_scales_a_stream_10_times_per_rolling_day() {
    let (_server, clock, client) = limited().await;
    create(&client, "s", 1).await;
    create(&client, "t", 1).await;
    let scale = |name: &'static str, target: i32| {
        client
            .update_shard_count()
            .stream_name(name)
            .target_shard_count(target)
            .scaling_type(ScalingType::UniformScaling)
            .send()
    };
    // Each scaling leaves the stream UPDATING until the clock passes the reshard delay.
    for i in 0..10 {
        scale("s", if i % 2 == 0 { 2 } else { 1 }).await.unwrap();
        clock.advance_ms(60_000);
    }
    let (code, message) = failure(scale("s", 2).await);
    assert_eq!(code, "LimitExceededException");
    assert!(
        message.contains("10 times in the last 24 hours"),
        "{message}"
    );
    // Another stream has its own window.
    scale("t", 2).await.unwrap();
    // The first scaling leaves the window 24 h after it was made.
    clock.advance_ms(24 * 3_600_000 - 10 * 60_000);
    scale("s", 2).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_on_demand_stream_takes_4000_records_a_second_across_its_shards() {
    let (_server, clock, client) = limited().await;
    // Eight shards switched to ON_DEMAND: the shards could take 8,000 records a second, the
    // stream's on-demand capacity is 4,000.
    create(&client, "s", 8).await;
    let summary = client
        .describe_stream_summary()
        .stream_name("s")
        .send()
        .await
        .unwrap();
    client
        .update_stream_mode()
        .stream_arn(summary.stream_description_summary().unwrap().stream_arn())
        .stream_mode_details(
            StreamModeDetails::builder()
                .stream_mode(StreamMode::OnDemand)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    clock.advance_ms(60_000);
    // Shard k of eight even ranges starts at k · 2^125.
    let step = 1u128 << 125;
    let mut failed = 0;
    for request in 0..10 {
        // 500 records per request, spread evenly over the eight shards.
        let entries = (0..500u128)
            .map(|i| {
                PutRecordsRequestEntry::builder()
                    .partition_key("p")
                    .explicit_hash_key((step * (i % 8) + request).to_string())
                    .data(Blob::new("x"))
                    .build()
                    .unwrap()
            })
            .collect();
        let out = client
            .put_records()
            .stream_name("s")
            .set_records(Some(entries))
            .send()
            .await
            .unwrap();
        failed += out.failed_record_count().unwrap();
    }
    assert_eq!(failed, 1000, "5,000 records sent, 4,000 taken");
    clock.advance_ms(250);
    let out = client
        .put_record()
        .stream_name("s")
        .partition_key("p")
        .data(Blob::new("x"))
        .send()
        .await;
    assert!(out.is_ok(), "the stream's bucket refills with the clock");
}

async fn next_event(events: &mut common::Events) -> SubscribeToShardEvent {
    match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
        Ok(Ok(Some(SubscribeToShardEventStream::SubscribeToShardEvent(e)))) => e,
        other => panic!("expected an event within 5 s, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_pushes_at_most_2_mib_a_second() {
    let (_server, clock, client) = limited().await;
    create(&client, "s", 1).await;
    put_mib_records(&client, &clock, 3).await;
    let consumer = common::register_consumer(&client, "s", "c").await;
    let mut events =
        common::subscribe_from_trim_horizon(&client, &consumer, "shardId-000000000000").await;
    // The first event carries the 2 MiB the bucket holds, not the third record.
    let first = next_event(&mut events).await;
    assert_eq!(first.records().len(), 2);
    assert!(first.millis_behind_latest() > 0);
    // Nothing more while the clock stands still...
    assert!(
        tokio::time::timeout(Duration::from_millis(400), events.recv())
            .await
            .is_err(),
        "no event while the subscription's bucket is empty"
    );
    // ...and the third record a simulated second later.
    clock.advance_ms(1_000);
    let second = next_event(&mut events).await;
    assert_eq!(second.records().len(), 1);
    assert_eq!(second.records()[0].data().as_ref()[0], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_encryption_takes_25_new_kms_keys_per_rolling_day() {
    let (_server, clock, client) = limited().await;
    create(&client, "s", 1).await;
    let encrypt = |key: String| {
        client
            .start_stream_encryption()
            .stream_name("s")
            .encryption_type(aws_sdk_kinesis::types::EncryptionType::Kms)
            .key_id(key)
            .send()
    };
    // Each change leaves the stream UPDATING until the clock passes the update delay.
    for i in 0..25 {
        encrypt(format!("alias/key-{i}")).await.unwrap();
        clock.advance_ms(60_000);
    }
    let (code, message) = failure(encrypt("alias/key-25".into()).await);
    assert_eq!(code, "LimitExceededException");
    assert!(message.contains("25 new KMS keys"), "{message}");
    // A key already used is not new.
    encrypt("alias/key-3".into()).await.unwrap();
    clock.advance_ms(24 * 3_600_000);
    encrypt("alias/key-25".into()).await.unwrap();
}
