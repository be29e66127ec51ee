//! The control API (`--control-api`, `/_kinesd/…`): the manual clock moves everything that
//! depends on time without sleeping, fault rules hit exactly the calls they name, reset
//! empties the server, and without the flag nothing under the prefix has an effect.

mod common;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::ShardIteratorType;
use aws_sdk_kinesis::Client;
use common::process::Kinesd;
use kinesd::clock::ManualClock;
use kinesd::control::client::Control;
use kinesd::Config;
use serde_json::json;
use std::time::{Duration, Instant};

const HOUR_MS: i64 = 3_600_000;

/// An in-process server with the control API on a manual clock.
async fn controlled(config: Config) -> (kinesd::Server, Control, Client) {
    let clock = common::whole_second_clock();
    let config = Config {
        control_api: true,
        manual_clock: Some(clock.clone()),
        ..config
    };
    let server = common::start_with_clock(config, &clock).await;
    let control = Control::new(server.local_addr());
    let client = common::client(&server.endpoint());
    (server, control, client)
}

async fn put(client: &Client, stream: &str, data: &str) -> (String, i64) {
    let out = client
        .put_record()
        .stream_name(stream)
        .partition_key("p")
        .data(Blob::new(data))
        .send()
        .await
        .unwrap();
    let records = read_all(client, stream).await;
    let arrival = records
        .iter()
        .find(|r| r.sequence_number == out.sequence_number)
        .map(|r| {
            r.approximate_arrival_timestamp
                .unwrap()
                .to_millis()
                .unwrap()
        })
        .unwrap();
    (out.sequence_number, arrival)
}

async fn iterator(client: &Client, stream: &str) -> String {
    client
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id("shardId-000000000000")
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator
        .unwrap()
}

async fn read_all(client: &Client, stream: &str) -> Vec<aws_sdk_kinesis::types::Record> {
    let it = iterator(client, stream).await;
    client
        .get_records()
        .shard_iterator(it)
        .send()
        .await
        .unwrap()
        .records
}

async fn status(client: &Client, stream: &str) -> String {
    client
        .describe_stream_summary()
        .stream_name(stream)
        .send()
        .await
        .unwrap()
        .stream_description_summary
        .unwrap()
        .stream_status
        .as_str()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manual_clock_moves_everything_that_depends_on_time() {
    let (server, control, client) = controlled(Config {
        create_delay_ms: 60_000,
        ..Config::default()
    })
    .await;
    let start = control.now_ms().await.unwrap();
    client
        .create_stream()
        .stream_name("s")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    assert_eq!(status(&client, "s").await, "CREATING");
    assert_eq!(control.advance_clock(60_000).await.unwrap(), start + 60_000);
    assert_eq!(status(&client, "s").await, "ACTIVE");

    // An iterator expires 300 s after it was issued.
    let (first_seq, first_arrival) = put(&client, "s", "old").await;
    let it = iterator(&client, "s").await;
    control.advance_clock(301_000).await.unwrap();
    let expired = client.get_records().shard_iterator(it).send().await;
    let (kind, _) = common::failure(expired);
    assert_eq!(kind, "ExpiredIteratorException");

    // MillisBehindLatest follows the clock.
    let it = iterator(&client, "s").await;
    let (new_seq, new_arrival) = put(&client, "s", "new").await;
    control.advance_clock(7_000).await.unwrap();
    let got = client
        .get_records()
        .shard_iterator(it)
        .limit(1)
        .send()
        .await
        .unwrap();
    assert_eq!(got.millis_behind_latest, Some(301_000 + 7_000));

    // Set back five minutes (to the stream's first put): sequence numbers still increase and
    // arrival times do not go back.
    control.set_clock(first_arrival).await.unwrap();
    let (back_seq, back_arrival) = put(&client, "s", "back").await;
    // Equal-length digit strings: text order is number order.
    assert!(back_seq.len() == new_seq.len() && back_seq > new_seq);
    assert!(new_seq > first_seq);
    assert_eq!(back_arrival, new_arrival);

    // Retention: past 24 h the records are neither returned nor kept (the move wakes the
    // retention worker; the pass is also forced here so the test does not wait on it).
    control
        .set_clock(start + 25 * HOUR_MS + 400_000)
        .await
        .unwrap();
    assert!(read_all(&client, "s").await.is_empty());
    let report = server.registry().enforce_retention_fully().await.unwrap();
    assert!(report.records_trimmed <= 3);
    let key = server.registry().lookup("s").unwrap().shard(0).unwrap().key;
    assert_eq!(server.registry().shard_stats(key).await.unwrap().records, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_rules_hit_exactly_what_they_name() {
    let (server, control, client) = controlled(Config::default()).await;
    common::create(&client, "a", 2).await;
    common::create(&client, "b", 1).await;

    // The next two PutRecords to stream a are throttled; the SDK's standard retry gets
    // through on its third attempt.
    let rule = control
        .add_fault(&json!({"operation": "PutRecord", "stream": "a",
            "error": "ProvisionedThroughputExceededException", "count": 2}))
        .await
        .unwrap();
    let retrying = {
        let conf = client
            .config()
            .to_builder()
            .retry_config(
                aws_sdk_kinesis::config::retry::RetryConfig::standard().with_max_attempts(3),
            )
            .build();
        Client::from_conf(conf)
    };
    let b = put(&client, "b", "untouched").await;
    assert!(!b.0.is_empty());
    retrying
        .put_record()
        .stream_name("a")
        .partition_key("p")
        .data(Blob::new("x"))
        .send()
        .await
        .unwrap();
    assert!(
        control.faults().await.unwrap().is_empty(),
        "spent after two"
    );
    let _ = rule;

    // A fault on one shard of one operation only.
    let rule = control
        .add_fault(&json!({"operation": "GetRecords", "stream": "a",
            "shard": "shardId-000000000001", "error": "KMSThrottlingException",
            "message": "slow down"}))
        .await
        .unwrap();
    let it = |shard: &'static str| {
        let client = client.clone();
        async move {
            let it = client
                .get_shard_iterator()
                .stream_name("a")
                .shard_id(shard)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .unwrap()
                .shard_iterator
                .unwrap();
            client.get_records().shard_iterator(it).send().await
        }
    };
    assert!(it("shardId-000000000000").await.is_ok());
    let (kind, message) = common::failure(it("shardId-000000000001").await);
    assert_eq!(
        (kind.as_str(), message.as_str()),
        ("KMSThrottlingException", "slow down")
    );
    let listed = control.faults().await.unwrap();
    assert_eq!(listed[0]["injected"], 1);
    control.remove_fault(rule).await.unwrap();
    assert!(it("shardId-000000000001").await.is_ok());

    // Latency, and a connection closed without an answer.
    control
        .add_fault(&json!({"operation": "ListStreams", "latency_ms": 300, "count": 1}))
        .await
        .unwrap();
    let started = Instant::now();
    client.list_streams().send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    control
        .add_fault(&json!({"operation": "ListShards", "close": true, "count": 1}))
        .await
        .unwrap();
    let cut = client.list_shards().stream_name("a").send().await;
    let err = cut.unwrap_err();
    assert!(
        matches!(
            err,
            aws_sdk_kinesis::error::SdkError::DispatchFailure(_)
                | aws_sdk_kinesis::error::SdkError::ResponseError(_)
        ),
        "{err:?}"
    );
    client.list_shards().stream_name("a").send().await.unwrap();

    // A rule the server could not apply is refused with the reason.
    let bad = control
        .add_fault(&json!({"operation": "PutRecord", "error": "Oops"}))
        .await
        .unwrap_err();
    assert!(
        bad.starts_with("400") && bad.contains("unknown error 'Oops'"),
        "{bad}"
    );

    // Reset: every stream and rule gone.
    control
        .add_fault(&json!({"operation": "PutRecord", "close": true}))
        .await
        .unwrap();
    control.reset().await.unwrap();
    assert!(control.faults().await.unwrap().is_empty());
    let names = client.list_streams().send().await.unwrap().stream_names;
    assert!(names.is_empty(), "{names:?}");
    common::create(&client, "a", 1).await;
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_ends_early_with_the_chosen_error() {
    let (_server, control, client) = controlled(Config::default()).await;
    common::create(&client, "s", 1).await;
    let arn = client
        .describe_stream_summary()
        .stream_name("s")
        .send()
        .await
        .unwrap()
        .stream_description_summary
        .unwrap()
        .stream_arn;
    let consumer = client
        .register_stream_consumer()
        .stream_arn(&arn)
        .consumer_name("c")
        .send()
        .await
        .unwrap()
        .consumer
        .unwrap()
        .consumer_arn;
    control
        .add_fault(
            &json!({"operation": "SubscribeToShard", "error": "InternalFailure",
            "after_events": 1, "count": 1}),
        )
        .await
        .unwrap();
    let mut events =
        common::subscribe_from_trim_horizon(&client, &consumer, "shardId-000000000000").await;
    let first = tokio::time::timeout(Duration::from_secs(10), events.recv()).await;
    assert!(matches!(first, Ok(Ok(Some(_)))), "{first:?}");
    let second = tokio::time::timeout(Duration::from_secs(10), events.recv()).await;
    let err = format!("{:?}", second.expect("ended in time"));
    assert!(err.contains("InternalFailure"), "{err}");
}

#[test]
fn without_the_flag_the_prefix_is_404_and_changes_nothing() {
    let server = Kinesd::spawn(&["--in-memory", "--no-tls"], None);
    let addr = server
        .endpoint
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = common::client(&server.endpoint);
        common::create(&client, "kept", 1).await;
        let control = Control::new(addr);
        for attempt in [
            control.advance_clock(HOUR_MS).await.map(drop),
            control.reset().await,
            control
                .add_fault(&json!({"operation": "PutRecord", "close": true}))
                .await
                .map(drop),
        ] {
            let err = attempt.unwrap_err();
            assert!(
                err.starts_with("404") && err.contains("--control-api"),
                "{err}"
            );
        }
        let names = client.list_streams().send().await.unwrap().stream_names;
        assert_eq!(names, ["kept"]);
        put(&client, "kept", "x").await;
    });
    // --clock manual without the API to move it is refused.
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kinesd"));
    command.args(["--in-memory", "--port", "0", "--clock", "manual"]);
    let (ok, _, stderr) = common::process::run_bounded(command, Duration::from_secs(20));
    assert!(
        !ok && stderr.contains("--clock manual needs --control-api"),
        "{stderr}"
    );
}

#[tokio::test]
async fn other_addresses_are_refused_unless_allowed() {
    let clock = ManualClock::new(0);
    for (remote, want) in [(false, 403), (true, 200)] {
        let config = Config {
            control_api: true,
            control_api_remote: remote,
            manual_clock: Some(clock.clone()),
            ..Config::default()
        };
        let server = common::start_with_clock(config, &clock).await;
        let (status, _) = kinesd::control::handle(
            server.registry(),
            Some("192.0.2.7:5000".parse().unwrap()),
            &hyper::Method::GET,
            "/_kinesd/clock",
            b"",
        )
        .await;
        assert_eq!(status, want, "remote allowed: {remote}");
    }
}
