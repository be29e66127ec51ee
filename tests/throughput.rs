//! AWS's throughput limits (`Config::enforce_limits`), on the manual clock: a shard takes 1 MiB/s
//! and 1,000 records/s of writes and 5 GetRecords calls/s, as buckets of one second's worth
//! that refill per millisecond; control-plane operations have their per-second rates. Every
//! outcome is exact because nothing but the test moves the clock.

mod common;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType, StartingPosition};
use aws_sdk_kinesis::Client;
use common::raw::send_raw;
use common::{create, failure};
use kinesd::{Config, ManualClock, Server};

const RATE_EXCEEDED: &str =
    "Rate exceeded for shard shardId-000000000000 in stream s under account 000000000000.";

async fn limited(enforce: bool) -> (Server, ManualClock, Client) {
    common::setup(Config {
        enforce_limits: enforce,
        ..Config::default()
    })
    .await
}

fn entries(n: usize, size: usize) -> Vec<PutRecordsRequestEntry> {
    (0..n)
        .map(|i| {
            PutRecordsRequestEntry::builder()
                .partition_key("p")
                .data(Blob::new(vec![i as u8; size]))
                .build()
                .unwrap()
        })
        .collect()
}

async fn put_records(client: &Client, n: usize, size: usize) -> (i32, Vec<Option<String>>) {
    let out = client
        .put_records()
        .stream_name("s")
        .set_records(Some(entries(n, size)))
        .send()
        .await
        .unwrap();
    for r in out.records() {
        match r.error_code() {
            Some(code) => {
                assert_eq!(code, "ProvisionedThroughputExceededException");
                assert_eq!(r.error_message(), Some(RATE_EXCEEDED));
                assert!(r.sequence_number().is_none());
            }
            None => assert!(r.sequence_number().is_some()),
        }
    }
    let codes = out
        .records()
        .iter()
        .map(|r| r.error_code().map(str::to_string))
        .collect();
    (out.failed_record_count().unwrap(), codes)
}

async fn put_one(client: &Client, size: usize) -> Result<(), (String, String)> {
    let result = client
        .put_record()
        .stream_name("s")
        .partition_key("p")
        .data(Blob::new(vec![b'x'; size]))
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) => Err(failure::<(), _, _>(Err(e))),
    }
}

async fn scrape(server: &Server) -> String {
    let resp = send_raw(
        server.local_addr(),
        b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(resp.status, 200);
    resp.text()
}

fn throttled_total(text: &str) -> Option<u64> {
    let series = "kinesd_throttled_records_total{stream=\"s\",shard=\"shardId-000000000000\"} ";
    text.lines()
        .find_map(|l| l.strip_prefix(series))
        .map(|v| v.parse().unwrap())
}

async fn shard_records(client: &Client) -> usize {
    common::read_shard_data(client, "s", "shardId-000000000000", 10_000)
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_records_over_1000_records_a_second_fails_only_the_excess() {
    let (server, clock, client) = limited(true).await;
    create(&client, "s", 1).await;
    // 1,200 records of 10 bytes in three requests within one simulated second (the clock
    // does not move): the bucket holds 1,000, so the last 200 fail, one by one.
    let mut failed = Vec::new();
    for request in 0..3 {
        let (count, codes) = put_records(&client, 400, 10).await;
        let failing: Vec<usize> = codes
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_some())
            .map(|(i, _)| request * 400 + i)
            .collect();
        assert_eq!(count as usize, failing.len());
        failed.extend(failing);
    }
    assert_eq!(failed, (1000..1200).collect::<Vec<_>>(), "the last 200");
    assert_eq!(throttled_total(&scrape(&server).await), Some(200));
    // A second later the bucket is full again: 200 more go through and nothing more fails.
    clock.advance_ms(1_000);
    let (count, _) = put_records(&client, 200, 10).await;
    assert_eq!(count, 0);
    assert_eq!(
        shard_records(&client).await,
        1200,
        "refused ones were not written"
    );
    assert_eq!(throttled_total(&scrape(&server).await), Some(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_are_limited_to_a_mib_a_second_and_put_record_gets_aws_text() {
    let (server, clock, client) = limited(true).await;
    create(&client, "s", 1).await;
    put_one(&client, 600 * 1024).await.unwrap();
    let (code, message) = put_one(&client, 600 * 1024).await.unwrap_err();
    assert_eq!(code, "ProvisionedThroughputExceededException");
    assert_eq!(message, RATE_EXCEEDED);
    // Each costs 614,401 bytes (600 KiB and a 1-byte partition key); 434,175 are left of the
    // MiB, and the bucket refills 1,048.576 bytes a millisecond: 172 ms make up the rest.
    clock.advance_ms(171);
    assert!(put_one(&client, 600 * 1024).await.is_err());
    clock.advance_ms(1);
    put_one(&client, 600 * 1024).await.unwrap();
    assert_eq!(throttled_total(&scrape(&server).await), Some(2));
    assert_eq!(shard_records(&client).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_off_refuse_nothing() {
    let (server, _clock, client) = limited(false).await;
    create(&client, "s", 1).await;
    for _ in 0..3 {
        assert_eq!(put_records(&client, 400, 10).await.0, 0);
    }
    put_one(&client, 600 * 1024).await.unwrap();
    put_one(&client, 600 * 1024).await.unwrap();
    assert_eq!(throttled_total(&scrape(&server).await), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sixth_get_records_in_a_second_is_throttled_and_keeps_its_iterator() {
    let (_server, clock, client) = limited(true).await;
    create(&client, "s", 1).await;
    put_one(&client, 10).await.unwrap();
    let iterator = common::trim_horizon_iterator(&client, "s", "shardId-000000000000")
        .await
        .unwrap();
    let get = |it: String| {
        let client = client.clone();
        async move { client.get_records().shard_iterator(it).send().await }
    };
    for _ in 0..5 {
        assert_eq!(get(iterator.clone()).await.unwrap().records().len(), 1);
    }
    let (code, message) = failure(get(iterator.clone()).await);
    assert_eq!(code, "ProvisionedThroughputExceededException");
    assert_eq!(message, RATE_EXCEEDED);
    clock.advance_ms(199);
    assert!(get(iterator.clone()).await.is_err());
    // One call's worth comes back every 200 ms; the refused iterator still reads from its
    // position.
    clock.advance_ms(1);
    let out = get(iterator.clone()).await.unwrap();
    assert_eq!(out.records()[0].data().as_ref(), b"xxxxxxxxxx");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_plane_rates_give_limit_exceeded_until_the_clock_moves() {
    let (_server, clock, client) = limited(true).await;
    create(&client, "s", 1).await;
    create(&client, "t", 1).await;
    let describe = || client.describe_stream().stream_name("s").send();
    for _ in 0..10 {
        describe().await.unwrap();
    }
    let (code, message) = failure(describe().await);
    assert_eq!(code, "LimitExceededException");
    assert_eq!(message, "Rate exceeded for account 000000000000.");
    clock.advance_ms(99);
    assert!(describe().await.is_err());
    clock.advance_ms(1);
    describe().await.unwrap();

    // DescribeLimits: one a second, per account.
    client.describe_limits().send().await.unwrap();
    let (code, _) = failure(client.describe_limits().send().await);
    assert_eq!(code, "LimitExceededException");

    // ListShards is counted per stream: t's calls leave s's untouched.
    let list = |name: &'static str| client.list_shards().stream_name(name).send();
    for _ in 0..1000 {
        list("t").await.unwrap();
    }
    let (code, message) = failure(list("t").await);
    assert_eq!(code, "LimitExceededException");
    assert_eq!(
        message,
        "Rate exceeded for stream t under account 000000000000."
    );
    list("s").await.unwrap();
    clock.advance_ms(1);
    list("t").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_standard_retry_gets_through_once_the_clock_moves() {
    let (server, clock, client) = limited(true).await;
    create(&client, "s", 1).await;
    assert_eq!(put_records(&client, 500, 10).await.0, 0);
    assert_eq!(put_records(&client, 500, 10).await.0, 0);
    let retrying = Client::from_conf(
        client
            .config()
            .to_builder()
            .retry_config(
                aws_sdk_kinesis::config::retry::RetryConfig::standard().with_max_attempts(3),
            )
            .build(),
    );
    let put = tokio::spawn(async move {
        retrying
            .put_record()
            .stream_name("s")
            .partition_key("p")
            .data(Blob::new("late"))
            .send()
            .await
    });
    // The first attempt finds the shard saturated (counted as throttled); only then does the
    // clock move, so the SDK's retry (after its backoff) is what gets the record in.
    let first_attempt_throttled = async {
        while throttled_total(&scrape(&server).await) != Some(1) {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), first_attempt_throttled)
        .await
        .expect("the first attempt is throttled");
    clock.advance_ms(1_000);
    put.await.unwrap().unwrap();
    assert_eq!(throttled_total(&scrape(&server).await), Some(1));
    assert_eq!(shard_records(&client).await, 1001);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_to_shard_is_once_a_second_per_consumer_and_shard() {
    let (_server, clock, client) = limited(true).await;
    create(&client, "s", 2).await;
    let consumer = common::register_consumer(&client, "s", "c").await;
    let subscribe = |shard: &'static str| {
        client
            .subscribe_to_shard()
            .consumer_arn(&consumer)
            .shard_id(shard)
            .starting_position(
                StartingPosition::builder()
                    .r#type(ShardIteratorType::Latest)
                    .build()
                    .unwrap(),
            )
            .send()
    };
    let first = subscribe("shardId-000000000000").await.unwrap();
    let (code, message) = failure(subscribe("shardId-000000000000").await);
    assert_eq!(code, "LimitExceededException");
    assert_eq!(
        message,
        format!("Rate exceeded for consumer {consumer} and shard shardId-000000000000.")
    );
    // The other shard has its own rate.
    let other = subscribe("shardId-000000000001").await.unwrap();
    // A second later the rate allows a call; within 5 s of the first the take-over rule
    // answers (ResourceInUse), as without limits.
    clock.advance_ms(1_000);
    let (code, _) = failure(subscribe("shardId-000000000000").await);
    assert_eq!(code, "ResourceInUseException");
    drop((first, other));
}
