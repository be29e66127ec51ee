//! The consumer, tagging-by-ARN, resource-policy, encryption, monitoring, capacity-mode,
//! record-size, warm-throughput and account-settings operations through `aws-sdk-kinesis`:
//! happy paths, each documented error (type and text), lifecycles driven by the manual clock,
//! and persistence across a restart.

use aws_sdk_kinesis::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{
    ConsumerStatus, EncryptionType, MetricsName, MinimumThroughputBillingCommitmentInput,
    MinimumThroughputBillingCommitmentInputStatus as CommitIn,
    MinimumThroughputBillingCommitmentOutputStatus as CommitOut, ShardIteratorType,
    StreamModeDetails, StreamStatus,
};
use aws_sdk_kinesis::types::{StreamMode as Mode, StreamModeDetails as ModeDetails};
use aws_sdk_kinesis::Client;
mod common;

use kinesd::{Config, ManualClock, Server};

const ACCOUNT: &str = "000000000000";
const DAY_MS: i64 = 86_400_000;

struct Env {
    server: Server,
    clock: ManualClock,
    client: Client,
}

async fn start_with(config: Config, clock: ManualClock) -> Env {
    let server = common::start_with_clock(config, &clock).await;
    let client = common::client(&server.endpoint());
    Env {
        server,
        clock,
        client,
    }
}

async fn start(config: Config) -> Env {
    start_with(config, common::whole_second_clock()).await
}

/// The exception name and message of a failed call.
fn err<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    r: Result<T, SdkError<E, R>>,
) -> (String, String) {
    let e = r.expect_err("the call should fail");
    (
        e.code().unwrap_or_default().to_string(),
        e.message().unwrap_or_default().to_string(),
    )
}

/// One JSON request over raw HTTP/1.1, for inputs the SDK refuses to send (it checks some
/// required members and ARNs itself). Returns the `__type` and `message` of the answer.
async fn raw_error(endpoint: &str, op: &str, body: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = endpoint.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: Kinesis_20131202.{op}\r\n\
         Content-Type: application/x-amz-json-1.1\r\nX-Amz-Date: 20240101T000000Z\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=a/20240101/us-east-1/kinesis/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature=00\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    conn.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8(response).unwrap();
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    (
        json["__type"].as_str().unwrap_or_default().to_string(),
        json["message"].as_str().unwrap_or_default().to_string(),
    )
}

fn stream_arn(name: &str) -> String {
    format!("arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{name}")
}

fn on_demand() -> StreamModeDetails {
    ModeDetails::builder()
        .stream_mode(Mode::OnDemand)
        .build()
        .unwrap()
}

fn provisioned() -> StreamModeDetails {
    ModeDetails::builder()
        .stream_mode(Mode::Provisioned)
        .build()
        .unwrap()
}

async fn create(env: &Env, name: &str, shards: i32) -> String {
    env.client
        .create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .unwrap();
    stream_arn(name)
}

async fn status(env: &Env, name: &str) -> StreamStatus {
    env.client
        .describe_stream_summary()
        .stream_name(name)
        .send()
        .await
        .unwrap()
        .stream_description_summary
        .unwrap()
        .stream_status
}

async fn register(env: &Env, stream: &str, name: &str) -> aws_sdk_kinesis::types::Consumer {
    env.client
        .register_stream_consumer()
        .stream_arn(stream)
        .consumer_name(name)
        .send()
        .await
        .unwrap()
        .consumer
        .unwrap()
}

async fn enable_commitment(
    env: &Env,
    enable: bool,
) -> aws_sdk_kinesis::types::MinimumThroughputBillingCommitmentOutput {
    let status = if enable {
        CommitIn::Enabled
    } else {
        CommitIn::Disabled
    };
    env.client
        .update_account_settings()
        .minimum_throughput_billing_commitment(
            MinimumThroughputBillingCommitmentInput::builder()
                .status(status)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .minimum_throughput_billing_commitment
        .unwrap()
}

fn not_active(name: &str, state: &str) -> (String, String) {
    (
        "ResourceInUseException".into(),
        format!("Stream {name} under account {ACCOUNT} not ACTIVE, instead in state {state}"),
    )
}

// ---------------------------------------------------------------- consumers

both_backends! {
    #[tokio::test]
    async fn consumer_lifecycle_follows_the_clock() {
        let env = start(Config {
            consumer_delay_ms: 1_000,
            ..Config::default()
        })
        .await;
        let arn = create(&env, "s", 1).await;
        let now_secs = env.clock.now_secs();
        let c = env
            .client
            .register_stream_consumer()
            .stream_arn(&arn)
            .consumer_name("c1")
            .tags("team", "data")
            .send()
            .await
            .unwrap()
            .consumer
            .unwrap();
        assert_eq!(c.consumer_name, "c1");
        assert_eq!(c.consumer_status, ConsumerStatus::Creating);
        assert_eq!(c.consumer_arn, format!("{arn}/consumer/c1:{now_secs}"));
        assert_eq!(c.consumer_creation_timestamp.secs(), now_secs);

        // Not yet usable by SubscribeToShard.
        let e = env
            .server
            .registry()
            .active_consumer(&c.consumer_arn)
            .err()
            .expect("a CREATING consumer is not active");
        assert_eq!(e.type_name(), "ResourceInUseException");
        assert_eq!(
            e.message().unwrap(),
            format!(
                "Consumer c1 with creation timestamp {now_secs} under stream s and account {ACCOUNT} is not in ACTIVE status."
            )
        );

        // Both ways of naming it describe the same consumer.
        let by_arn = env
            .client
            .describe_stream_consumer()
            .consumer_arn(&c.consumer_arn)
            .send()
            .await
            .unwrap()
            .consumer_description
            .unwrap();
        assert_eq!(by_arn.consumer_status, ConsumerStatus::Creating);
        assert_eq!(by_arn.stream_arn, arn);
        let by_name = env
            .client
            .describe_stream_consumer()
            .stream_arn(&arn)
            .consumer_name("c1")
            .send()
            .await
            .unwrap()
            .consumer_description
            .unwrap();
        assert_eq!(by_name.consumer_arn, c.consumer_arn);
        // All three, agreeing, are fine too.
        env.client
            .describe_stream_consumer()
            .stream_arn(&arn)
            .consumer_name("c1")
            .consumer_arn(&c.consumer_arn)
            .send()
            .await
            .unwrap();

        env.clock.advance_ms(1_000);
        let d = env
            .client
            .describe_stream_consumer()
            .consumer_arn(&c.consumer_arn)
            .send()
            .await
            .unwrap()
            .consumer_description
            .unwrap();
        assert_eq!(d.consumer_status, ConsumerStatus::Active);
        let (stream, consumer) = env
            .server
            .registry()
            .active_consumer(&c.consumer_arn)
            .unwrap();
        assert_eq!((stream.name.as_str(), consumer.name.as_str()), ("s", "c1"));

        let summary = env
            .client
            .describe_stream_summary()
            .stream_arn(&arn)
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.consumer_count, Some(1));

        // A second consumer of the same name is refused.
        assert_eq!(
            err(env
                .client
                .register_stream_consumer()
                .stream_arn(&arn)
                .consumer_name("c1")
                .send()
                .await),
            (
                "ResourceInUseException".into(),
                format!("Consumer c1 under stream s and account {ACCOUNT} already exists.")
            )
        );

        // Deregister by ARN: DELETING for the delay, then gone.
        env.client
            .deregister_stream_consumer()
            .consumer_arn(&c.consumer_arn)
            .send()
            .await
            .unwrap();
        let d = env
            .client
            .describe_stream_consumer()
            .consumer_arn(&c.consumer_arn)
            .send()
            .await
            .unwrap()
            .consumer_description
            .unwrap();
        assert_eq!(d.consumer_status, ConsumerStatus::Deleting);
        // The name stays taken while DELETING; deregistering again changes nothing.
        assert_eq!(
            err(env
                .client
                .register_stream_consumer()
                .stream_arn(&arn)
                .consumer_name("c1")
                .send()
                .await)
            .0,
            "ResourceInUseException"
        );
        env.client
            .deregister_stream_consumer()
            .stream_arn(&arn)
            .consumer_name("c1")
            .send()
            .await
            .unwrap();
        env.clock.advance_ms(1_000);
        assert_eq!(
            err(env
                .client
                .describe_stream_consumer()
                .consumer_arn(&c.consumer_arn)
                .send()
                .await),
            (
                "ResourceNotFoundException".into(),
                format!(
                    "Consumer c1 with creation timestamp {now_secs} under stream s and account {ACCOUNT} not found."
                )
            )
        );
        let listed = env
            .client
            .list_stream_consumers()
            .stream_arn(&arn)
            .send()
            .await
            .unwrap();
        assert!(listed.consumers().is_empty());
        let summary = env
            .client
            .describe_stream_summary()
            .stream_name("s")
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.consumer_count, Some(0));

        // Registered again a second later, it gets a new ARN; the old one stays dead.
        env.clock.advance_ms(1_000);
        let again = register(&env, &arn, "c1").await;
        assert_ne!(again.consumer_arn, c.consumer_arn);
        assert_eq!(
            err(env
                .client
                .describe_stream_consumer()
                .consumer_arn(&c.consumer_arn)
                .send()
                .await)
            .0,
            "ResourceNotFoundException"
        );
    }
}

trait NowSecs {
    fn now_secs(&self) -> i64;
}

impl NowSecs for ManualClock {
    fn now_secs(&self) -> i64 {
        use kinesd::Clock;
        self.now_ms().div_euclid(1000)
    }
}

both_backends! {
    #[tokio::test]
    async fn consumer_errors_and_validation() {
        let env = start(Config::default()).await;
        let arn = create(&env, "s", 1).await;
        let need = (
            "InvalidArgumentException".to_string(),
            "Both streamARN and consumer name must be provided if consumerARN is not provied."
                .to_string(),
        );
        assert_eq!(
            err(env.client.deregister_stream_consumer().send().await),
            need
        );
        assert_eq!(
            err(env
                .client
                .deregister_stream_consumer()
                .stream_arn(&arn)
                .send()
                .await),
            need
        );
        assert_eq!(
            err(env
                .client
                .describe_stream_consumer()
                .consumer_name("c")
                .send()
                .await),
            need
        );
        assert_eq!(
            err(env
                .client
                .describe_stream_consumer()
                .stream_arn(&arn)
                .consumer_name("nope")
                .send()
                .await),
            (
                "ResourceNotFoundException".into(),
                format!("Consumer nope under stream s and account {ACCOUNT} not found.")
            )
        );
        assert_eq!(
            err(env
                .client
                .deregister_stream_consumer()
                .consumer_arn(format!("{arn}/consumer/nope:1700000000"))
                .send()
                .await),
            (
                "ResourceNotFoundException".into(),
                format!(
                    "Consumer nope with creation timestamp 1700000000 under stream s and account {ACCOUNT} not found."
                )
            )
        );
        let c = register(&env, &arn, "c").await;
        assert_eq!(
            err(env
                .client
                .describe_stream_consumer()
                .consumer_arn(&c.consumer_arn)
                .consumer_name("other")
                .send()
                .await)
            .0,
            "InvalidArgumentException"
        );
        // Unknown stream.
        assert_eq!(
            err(env
                .client
                .register_stream_consumer()
                .stream_arn(stream_arn("missing"))
                .consumer_name("c")
                .send()
                .await),
            (
                "ResourceNotFoundException".into(),
                format!("Stream missing under account {ACCOUNT} not found.")
            )
        );
        // Coral validation.
        assert_eq!(
            err(env
                .client
                .register_stream_consumer()
                .stream_arn(&arn)
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value null at 'consumerName' failed to satisfy constraint: Member must not be null".into()
            )
        );
        assert_eq!(
            err(env
                .client
                .register_stream_consumer()
                .stream_arn(&arn)
                .consumer_name("a b")
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value 'a b' at 'consumerName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+".into()
            )
        );
        assert_eq!(
            raw_error(
                &env.server.endpoint(),
                "DescribeStreamConsumer",
                &format!(r#"{{"ConsumerARN":"{arn}"}}"#)
            )
            .await,
            (
                "ValidationException".into(),
                format!("1 validation error detected: Value '{arn}' at 'consumerARN' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(arn):aws.*:kinesis:.*:\\d{{12}}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+")
            )
        );
        assert_eq!(
            raw_error(
                &env.server.endpoint(),
                "ListTagsForResource",
                r#"{"ResourceARN":"arn:aws:sqs:us-east-1:000000000000:stream/s"}"#
            )
            .await,
            (
                "ValidationException".into(),
                "1 validation error detected: Value 'arn:aws:sqs:us-east-1:000000000000:stream/s' at 'resourceARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+".into()
            )
        );
        // Tags on registration follow the tag rules.
        assert_eq!(
            err(env
                .client
                .register_stream_consumer()
                .stream_arn(&arn)
                .consumer_name("t")
                .tags("aws:x", "y")
                .send()
                .await),
            (
                "InvalidArgumentException".into(),
                format!("Failed to add tags to consumer t under account {ACCOUNT} because the tag key prefix 'aws:' is reserved for AWS use.")
            )
        );
        // A stream still CREATING takes no consumer.
        let env2 = start(Config {
            create_delay_ms: 1_000,
            ..Config::default()
        })
        .await;
        let arn2 = create(&env2, "young", 1).await;
        assert_eq!(
            err(env2
                .client
                .register_stream_consumer()
                .stream_arn(&arn2)
                .consumer_name("c")
                .send()
                .await),
            not_active("young", "CREATING")
        );
    }
}

both_backends! {
    #[tokio::test]
    async fn consumer_limits() {
        let env = start(Config {
            consumer_delay_ms: 10_000,
            ..Config::default()
        })
        .await;
        let a = create(&env, "a", 1).await;
        let b = create(&env, "b", 1).await;
        // Five CREATING at once across the account; the sixth waits.
        for i in 0..3 {
            register(&env, &a, &format!("a{i}")).await;
        }
        for i in 0..2 {
            register(&env, &b, &format!("b{i}")).await;
        }
        assert_eq!(
            err(env
                .client
                .register_stream_consumer()
                .stream_arn(&a)
                .consumer_name("sixth")
                .send()
                .await),
            (
                "LimitExceededException".into(),
                format!("This request would exceed the limit of 5 consumers in CREATING state for the account {ACCOUNT}.")
            )
        );
        env.clock.advance_ms(10_000);
        // Twenty per stream.
        let mut n = 3;
        while n < 20 {
            for _ in 0..5 {
                if n < 20 {
                    register(&env, &a, &format!("a{n}")).await;
                    n += 1;
                }
            }
            env.clock.advance_ms(10_000);
        }
        assert_eq!(
            err(env
                .client
                .register_stream_consumer()
                .stream_arn(&a)
                .consumer_name("twenty-first")
                .send()
                .await),
            (
                "LimitExceededException".into(),
                format!("This request would exceed the limit of 20 consumers for stream a under account {ACCOUNT}.")
            )
        );
        let summary = env
            .client
            .describe_stream_summary()
            .stream_name("a")
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.consumer_count, Some(20));
    }
}

both_backends! {
    /// "On-demand Advantage" streams take 50 consumers; kinesd reads that as on-demand streams in
    /// an account with the billing commitment in effect.
    #[tokio::test]
    async fn on_demand_streams_with_the_commitment_take_fifty_consumers() {
        let env = start(Config::default()).await;
        enable_commitment(&env, true).await;
        env.client
            .create_stream()
            .stream_name("od")
            .stream_mode_details(on_demand())
            .send()
            .await
            .unwrap();
        let arn = stream_arn("od");
        for i in 0..50 {
            register(&env, &arn, &format!("c{i}")).await;
        }
        assert_eq!(
            err(env
                .client
                .register_stream_consumer()
                .stream_arn(&arn)
                .consumer_name("c50")
                .send()
                .await),
            (
                "LimitExceededException".into(),
                format!("This request would exceed the limit of 50 consumers for stream od under account {ACCOUNT}.")
            )
        );
    }
}

both_backends! {
    #[tokio::test]
    async fn list_stream_consumers_pages_and_tokens_expire() {
        let env = start(Config::default()).await;
        let arn = create(&env, "s", 1).await;
        for i in 0..5 {
            register(&env, &arn, &format!("c{i}")).await;
            env.clock.advance_ms(1);
        }
        let first = env
            .client
            .list_stream_consumers()
            .stream_arn(&arn)
            .max_results(2)
            .send()
            .await
            .unwrap();
        assert_eq!(first.consumers().len(), 2);
        let mut names: Vec<String> = first
            .consumers()
            .iter()
            .map(|c| c.consumer_name.clone())
            .collect();
        let mut token = first.next_token().map(str::to_string);
        while let Some(t) = token {
            let page = env
                .client
                .list_stream_consumers()
                .stream_arn(&arn)
                .max_results(2)
                .next_token(&t)
                .send()
                .await
                .unwrap();
            names.extend(page.consumers().iter().map(|c| c.consumer_name.clone()));
            token = page.next_token().map(str::to_string);
        }
        assert_eq!(names, ["c0", "c1", "c2", "c3", "c4"]);
        // Default page: everything, no token.
        let all = env
            .client
            .list_stream_consumers()
            .stream_arn(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(all.consumers().len(), 5);
        assert!(all.next_token().is_none());
        assert!(all
            .consumers()
            .iter()
            .all(|c| c.consumer_status == ConsumerStatus::Active));

        // Tokens last 300 s.
        let t = first.next_token().unwrap().to_string();
        env.clock.advance_ms(300_001);
        let (code, message) = err(env
            .client
            .list_stream_consumers()
            .stream_arn(&arn)
            .next_token(&t)
            .send()
            .await);
        assert_eq!(code, "ExpiredNextTokenException");
        assert_eq!(
            message,
            format!("The NextToken has expired. NextToken: {t}")
        );
        assert_eq!(
            err(env
                .client
                .list_stream_consumers()
                .stream_arn(&arn)
                .next_token("garbage")
                .send()
                .await),
            (
                "InvalidArgumentException".into(),
                "Invalid NextToken: garbage".into()
            )
        );
        assert_eq!(
            err(env
                .client
                .list_stream_consumers()
                .stream_arn(&arn)
                .max_results(0)
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1".into()
            )
        );
        assert_eq!(
            raw_error(&env.server.endpoint(), "ListStreamConsumers", "{}").await,
            (
                "ValidationException".into(),
                "1 validation error detected: Value null at 'streamARN' failed to satisfy constraint: Member must not be null".into()
            )
        );
    }
}

both_backends! {
    #[tokio::test]
    async fn delete_stream_needs_enforce_consumer_deletion() {
        let env = start(Config::default()).await;
        let arn = create(&env, "s", 1).await;
        let c = register(&env, &arn, "c").await;
        assert_eq!(
            err(env.client.delete_stream().stream_name("s").send().await),
            (
                "ResourceInUseException".into(),
                format!("DeleteStream can't delete {ACCOUNT}:s because there are consumers associated with this data stream. To delete s anyway, set the EnforceConsumerDeletion parameter to true to force the deletion of all the consumers that are associated with it.")
            )
        );
        assert_eq!(
            err(env
                .client
                .delete_stream()
                .stream_name("s")
                .enforce_consumer_deletion(false)
                .send()
                .await)
            .0,
            "ResourceInUseException"
        );
        env.client
            .delete_stream()
            .stream_name("s")
            .enforce_consumer_deletion(true)
            .send()
            .await
            .unwrap();
        assert_eq!(
            err(env
                .client
                .describe_stream_consumer()
                .consumer_arn(&c.consumer_arn)
                .send()
                .await)
            .0,
            "ResourceNotFoundException"
        );
        // Without consumers, no flag is needed.
        create(&env, "t", 1).await;
        env.client
            .delete_stream()
            .stream_name("t")
            .send()
            .await
            .unwrap();
    }
}

// ---------------------------------------------------------------- tagging by ARN

both_backends! {
    #[tokio::test]
    async fn tags_by_arn_share_the_stream_tag_store() {
        let env = start(Config::default()).await;
        env.client
            .create_stream()
            .stream_name("s")
            .shard_count(1)
            .tags("created", "yes")
            .send()
            .await
            .unwrap();
        let arn = stream_arn("s");
        env.client
            .tag_resource()
            .resource_arn(&arn)
            .tags("env", "test")
            .tags("owner", "me")
            .send()
            .await
            .unwrap();
        env.client
            .add_tags_to_stream()
            .stream_name("s")
            .tags("via", "stream-api")
            .send()
            .await
            .unwrap();
        let tags = env
            .client
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap();
        let pairs: Vec<(String, String)> = tags
            .tags()
            .iter()
            .map(|t| (t.key.clone(), t.value.clone().unwrap_or_default()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("created".to_string(), "yes".to_string()),
                ("env".into(), "test".into()),
                ("owner".into(), "me".into()),
                ("via".into(), "stream-api".into()),
            ]
        );
        let by_stream = env
            .client
            .list_tags_for_stream()
            .stream_name("s")
            .send()
            .await
            .unwrap();
        assert_eq!(by_stream.tags().len(), 4);
        env.client
            .untag_resource()
            .resource_arn(&arn)
            .tag_keys("env")
            .tag_keys("via")
            .send()
            .await
            .unwrap();
        let keys: Vec<String> = env
            .client
            .list_tags_for_stream()
            .stream_name("s")
            .send()
            .await
            .unwrap()
            .tags()
            .iter()
            .map(|t| t.key.clone())
            .collect();
        assert_eq!(keys, ["created", "owner"]);

        // Consumers have their own tags.
        let c = env
            .client
            .register_stream_consumer()
            .stream_arn(&arn)
            .consumer_name("c")
            .tags("a", "1")
            .send()
            .await
            .unwrap()
            .consumer
            .unwrap();
        env.client
            .tag_resource()
            .resource_arn(&c.consumer_arn)
            .tags("b", "2")
            .send()
            .await
            .unwrap();
        let ctags = env
            .client
            .list_tags_for_resource()
            .resource_arn(&c.consumer_arn)
            .send()
            .await
            .unwrap();
        let ckeys: Vec<&str> = ctags.tags().iter().map(|t| t.key.as_str()).collect();
        assert_eq!(ckeys, ["a", "b"]);
        env.client
            .untag_resource()
            .resource_arn(&c.consumer_arn)
            .tag_keys("a")
            .send()
            .await
            .unwrap();
        let ctags = env
            .client
            .list_tags_for_resource()
            .resource_arn(&c.consumer_arn)
            .send()
            .await
            .unwrap();
        assert_eq!(ctags.tags().len(), 1);
        // The stream's tags are untouched by the consumer's.
        assert_eq!(
            env.client
                .list_tags_for_resource()
                .resource_arn(&arn)
                .send()
                .await
                .unwrap()
                .tags()
                .len(),
            2
        );
    }
}

both_backends! {
    #[tokio::test]
    async fn tag_rules_and_errors() {
        let env = start(Config::default()).await;
        let arn = create(&env, "s", 1).await;
        // At most 50 tags per resource, counting the ones already there.
        let mut req = env.client.tag_resource().resource_arn(&arn);
        for i in 0..49 {
            req = req.tags(format!("k{i}"), "v");
        }
        req.send().await.unwrap();
        env.client
            .tag_resource()
            .resource_arn(&arn)
            .tags("k0", "overwrite")
            .send()
            .await
            .unwrap();
        env.client
            .tag_resource()
            .resource_arn(&arn)
            .tags("k49", "v")
            .send()
            .await
            .unwrap();
        assert_eq!(
            err(env
                .client
                .tag_resource()
                .resource_arn(&arn)
                .tags("k50", "v")
                .send()
                .await),
            (
                "InvalidArgumentException".into(),
                format!("Failed to add tags to stream s under account {ACCOUNT} because a given stream cannot have more than 50 tags associated with it.")
            )
        );
        assert_eq!(
            err(env
                .client
                .tag_resource()
                .resource_arn(&arn)
                .tags("aws:reserved", "v")
                .send()
                .await),
            (
                "InvalidArgumentException".into(),
                format!("Failed to add tags to stream s under account {ACCOUNT} because the tag key prefix 'aws:' is reserved for AWS use.")
            )
        );
        assert_eq!(
            err(env
                .client
                .tag_resource()
                .resource_arn(&arn)
                .tags("bad#", "v")
                .send()
                .await)
            .0,
            "InvalidArgumentException"
        );
        let long_key = "k".repeat(129);
        assert_eq!(
            err(env
                .client
                .tag_resource()
                .resource_arn(&arn)
                .tags(&long_key, "v")
                .send()
                .await),
            (
                "ValidationException".into(),
                format!("1 validation error detected: Value '{long_key}' at 'tags.{long_key}.member.key' failed to satisfy constraint: Member must have length less than or equal to 128")
            )
        );
        let long_value = "v".repeat(257);
        assert_eq!(
            err(env
                .client
                .tag_resource()
                .resource_arn(&arn)
                .tags("k", &long_value)
                .send()
                .await),
            (
                "ValidationException".into(),
                format!("1 validation error detected: Value '{long_value}' at 'tags.k.member.value' failed to satisfy constraint: Member must have length less than or equal to 256")
            )
        );
        assert_eq!(
            err(env
                .client
                .list_tags_for_resource()
                .resource_arn(stream_arn("missing"))
                .send()
                .await),
            (
                "ResourceNotFoundException".into(),
                format!("Stream missing under account {ACCOUNT} not found.")
            )
        );
        assert_eq!(
            err(env
                .client
                .tag_resource()
                .resource_arn(format!("{arn}/consumer/ghost:1"))
                .tags("k", "v")
                .send()
                .await),
            (
                "ResourceNotFoundException".into(),
                format!("Consumer ghost with creation timestamp 1 under stream s and account {ACCOUNT} not found.")
            )
        );
        assert_eq!(
            err(env
                .client
                .untag_resource()
                .resource_arn(&arn)
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null".into()
            )
        );
    }
}

// ---------------------------------------------------------------- resource policies

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kinesis:GetRecords","Resource":"*"}]}"#;

both_backends! {
    #[tokio::test]
    async fn resource_policies_on_streams_and_consumers() {
        let env = start(Config {
            consumer_delay_ms: 500,
            ..Config::default()
        })
        .await;
        let arn = create(&env, "s", 1).await;
        let got = env
            .client
            .get_resource_policy()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(got.policy, "{}");
        env.client
            .put_resource_policy()
            .resource_arn(&arn)
            .policy(POLICY)
            .send()
            .await
            .unwrap();
        assert_eq!(
            env.client
                .get_resource_policy()
                .resource_arn(&arn)
                .send()
                .await
                .unwrap()
                .policy,
            POLICY
        );
        for bad in ["not json", "[1,2]", "\"text\""] {
            assert_eq!(
                err(env
                    .client
                    .put_resource_policy()
                    .resource_arn(&arn)
                    .policy(bad)
                    .send()
                    .await),
                (
                    "InvalidArgumentException".into(),
                    "Invalid resource policy: the policy document must be a JSON object.".into()
                )
            );
        }
        env.client
            .delete_resource_policy()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(
            env.client
                .get_resource_policy()
                .resource_arn(&arn)
                .send()
                .await
                .unwrap()
                .policy,
            "{}"
        );
        assert_eq!(
            err(env
                .client
                .delete_resource_policy()
                .resource_arn(&arn)
                .send()
                .await),
            (
                "ResourceNotFoundException".into(),
                format!("No resource policy found for resource ARN {arn}.")
            )
        );

        // A consumer takes a policy once ACTIVE.
        let c = register(&env, &arn, "c").await;
        let secs = c.consumer_creation_timestamp.secs();
        assert_eq!(
            err(env
                .client
                .put_resource_policy()
                .resource_arn(&c.consumer_arn)
                .policy(POLICY)
                .send()
                .await),
            (
                "ResourceInUseException".into(),
                format!("Consumer c with creation timestamp {secs} under stream s and account {ACCOUNT} is not in ACTIVE status.")
            )
        );
        env.clock.advance_ms(500);
        env.client
            .put_resource_policy()
            .resource_arn(&c.consumer_arn)
            .policy(POLICY)
            .send()
            .await
            .unwrap();
        assert_eq!(
            env.client
                .get_resource_policy()
                .resource_arn(&c.consumer_arn)
                .send()
                .await
                .unwrap()
                .policy,
            POLICY
        );
        // The stream's own policy is separate.
        assert_eq!(
            env.client
                .get_resource_policy()
                .resource_arn(&arn)
                .send()
                .await
                .unwrap()
                .policy,
            "{}"
        );
        env.client
            .delete_resource_policy()
            .resource_arn(&c.consumer_arn)
            .send()
            .await
            .unwrap();
        assert_eq!(
            err(env
                .client
                .delete_resource_policy()
                .resource_arn(&c.consumer_arn)
                .send()
                .await)
            .0,
            "ResourceNotFoundException"
        );
        assert_eq!(
            err(env
                .client
                .get_resource_policy()
                .resource_arn(stream_arn("missing"))
                .send()
                .await)
            .0,
            "ResourceNotFoundException"
        );
        assert_eq!(
            err(env
                .client
                .put_resource_policy()
                .resource_arn(&arn)
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value null at 'policy' failed to satisfy constraint: Member must not be null".into()
            )
        );
    }
}

// ---------------------------------------------------------------- encryption

both_backends! {
    #[tokio::test]
    async fn stream_encryption_start_and_stop() {
        let env = start(Config {
            update_delay_ms: 1_000,
            ..Config::default()
        })
        .await;
        create(&env, "s", 1).await;
        env.client
            .start_stream_encryption()
            .stream_name("s")
            .encryption_type(EncryptionType::Kms)
            .key_id("alias/aws/kinesis")
            .send()
            .await
            .unwrap();
        let d = env
            .client
            .describe_stream()
            .stream_name("s")
            .send()
            .await
            .unwrap()
            .stream_description
            .unwrap();
        assert_eq!(d.stream_status, StreamStatus::Updating);
        assert_eq!(d.encryption_type, Some(EncryptionType::Kms));
        assert_eq!(d.key_id.as_deref(), Some("alias/aws/kinesis"));
        assert_eq!(
            err(env
                .client
                .start_stream_encryption()
                .stream_name("s")
                .encryption_type(EncryptionType::Kms)
                .key_id("k2")
                .send()
                .await),
            not_active("s", "UPDATING")
        );
        env.clock.advance_ms(1_000);
        assert_eq!(status(&env, "s").await, StreamStatus::Active);

        // Records written and read now carry EncryptionType KMS.
        let put = env
            .client
            .put_record()
            .stream_name("s")
            .partition_key("k")
            .data(Blob::new("secret"))
            .send()
            .await
            .unwrap();
        assert_eq!(put.encryption_type, Some(EncryptionType::Kms));
        let it = env
            .client
            .get_shard_iterator()
            .stream_name("s")
            .shard_id("shardId-000000000000")
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator
            .unwrap();
        let recs = env
            .client
            .get_records()
            .shard_iterator(&it)
            .send()
            .await
            .unwrap();
        assert_eq!(recs.records().len(), 1);
        assert_eq!(recs.records()[0].encryption_type, Some(EncryptionType::Kms));

        env.client
            .stop_stream_encryption()
            .stream_arn(stream_arn("s"))
            .encryption_type(EncryptionType::Kms)
            .key_id("alias/aws/kinesis")
            .send()
            .await
            .unwrap();
        assert_eq!(status(&env, "s").await, StreamStatus::Updating);
        env.clock.advance_ms(1_000);
        let summary = env
            .client
            .describe_stream_summary()
            .stream_name("s")
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.stream_status, StreamStatus::Active);
        assert_eq!(summary.encryption_type, Some(EncryptionType::None));
        assert!(summary.key_id.is_none());
        let put = env
            .client
            .put_record()
            .stream_name("s")
            .partition_key("k")
            .data(Blob::new("plain"))
            .send()
            .await
            .unwrap();
        assert!(put.encryption_type.is_none());

        // Errors.
        assert_eq!(
            err(env
                .client
                .start_stream_encryption()
                .stream_name("s")
                .encryption_type(EncryptionType::None)
                .key_id("k")
                .send()
                .await),
            (
                "InvalidArgumentException".into(),
                "Encryption type NONE is not supported by this operation; the only supported encryption type is KMS.".into()
            )
        );
        assert_eq!(
            err(env
                .client
                .start_stream_encryption()
                .stream_name("s")
                .encryption_type(EncryptionType::Kms)
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null".into()
            )
        );
        assert_eq!(
            err(env
                .client
                .stop_stream_encryption()
                .stream_name("missing")
                .encryption_type(EncryptionType::Kms)
                .key_id("k")
                .send()
                .await),
            (
                "ResourceNotFoundException".into(),
                format!("Stream missing under account {ACCOUNT} not found.")
            )
        );
    }
}

// ---------------------------------------------------------------- enhanced monitoring

fn names(metrics: &[MetricsName]) -> Vec<&str> {
    metrics.iter().map(|m| m.as_str()).collect()
}

const SEVEN: [&str; 7] = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
];

both_backends! {
    #[tokio::test]
    async fn enhanced_monitoring_enable_and_disable() {
        let env = start(Config::default()).await;
        let arn = create(&env, "s", 1).await;
        let out = env
            .client
            .enable_enhanced_monitoring()
            .stream_name("s")
            .shard_level_metrics(MetricsName::OutgoingBytes)
            .shard_level_metrics(MetricsName::IncomingBytes)
            .send()
            .await
            .unwrap();
        assert_eq!(out.stream_name(), Some("s"));
        assert_eq!(out.stream_arn(), Some(arn.as_str()));
        assert!(out.current_shard_level_metrics().is_empty());
        assert_eq!(
            names(out.desired_shard_level_metrics()),
            ["IncomingBytes", "OutgoingBytes"]
        );
        let d = env
            .client
            .describe_stream()
            .stream_name("s")
            .send()
            .await
            .unwrap()
            .stream_description
            .unwrap();
        assert_eq!(d.enhanced_monitoring.len(), 1);
        assert_eq!(
            names(d.enhanced_monitoring[0].shard_level_metrics()),
            ["IncomingBytes", "OutgoingBytes"]
        );

        let out = env
            .client
            .enable_enhanced_monitoring()
            .stream_arn(&arn)
            .shard_level_metrics(MetricsName::All)
            .send()
            .await
            .unwrap();
        assert_eq!(
            names(out.current_shard_level_metrics()),
            ["IncomingBytes", "OutgoingBytes"]
        );
        assert_eq!(names(out.desired_shard_level_metrics()), SEVEN);

        let out = env
            .client
            .disable_enhanced_monitoring()
            .stream_name("s")
            .shard_level_metrics(MetricsName::IteratorAgeMilliseconds)
            .send()
            .await
            .unwrap();
        assert_eq!(names(out.current_shard_level_metrics()), SEVEN);
        assert_eq!(names(out.desired_shard_level_metrics()), &SEVEN[..6]);
        let summary = env
            .client
            .describe_stream_summary()
            .stream_name("s")
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(
            names(summary.enhanced_monitoring()[0].shard_level_metrics()),
            &SEVEN[..6]
        );
        let out = env
            .client
            .disable_enhanced_monitoring()
            .stream_name("s")
            .shard_level_metrics(MetricsName::All)
            .send()
            .await
            .unwrap();
        assert!(out.desired_shard_level_metrics().is_empty());
        let d = env
            .client
            .describe_stream()
            .stream_name("s")
            .send()
            .await
            .unwrap()
            .stream_description
            .unwrap();
        assert!(d.enhanced_monitoring[0].shard_level_metrics().is_empty());

        // Validation.
        assert_eq!(
            err(env
                .client
                .enable_enhanced_monitoring()
                .stream_name("s")
                .shard_level_metrics(MetricsName::from("Nope"))
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value '[Nope]' at 'shardLevelMetrics' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds, ALL]]".into()
            )
        );
        assert_eq!(
            err(env
                .client
                .enable_enhanced_monitoring()
                .stream_name("s")
                .set_shard_level_metrics(Some(vec![]))
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value '[]' at 'shardLevelMetrics' failed to satisfy constraint: Member must have length greater than or equal to 1".into()
            )
        );
        assert_eq!(
            err(env
                .client
                .disable_enhanced_monitoring()
                .stream_name("s")
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value null at 'shardLevelMetrics' failed to satisfy constraint: Member must not be null".into()
            )
        );
        assert_eq!(
            err(env
                .client
                .enable_enhanced_monitoring()
                .stream_name("missing")
                .shard_level_metrics(MetricsName::All)
                .send()
                .await)
            .0,
            "ResourceNotFoundException"
        );
    }
}

// ---------------------------------------------------------------- capacity mode

both_backends! {
    #[tokio::test]
    async fn update_stream_mode_both_ways() {
        let env = start(Config {
            update_delay_ms: 1_000,
            ..Config::default()
        })
        .await;
        let arn = create(&env, "s", 2).await;
        let limits = env.client.describe_limits().send().await.unwrap();
        assert_eq!(limits.on_demand_stream_count, 0);
        env.client
            .update_stream_mode()
            .stream_arn(&arn)
            .stream_mode_details(on_demand())
            .send()
            .await
            .unwrap();
        let summary = env
            .client
            .describe_stream_summary()
            .stream_arn(&arn)
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.stream_status, StreamStatus::Updating);
        assert_eq!(
            summary.stream_mode_details.as_ref().unwrap().stream_mode,
            Mode::OnDemand
        );
        assert_eq!(summary.open_shard_count, 2);
        assert_eq!(
            err(env
                .client
                .update_stream_mode()
                .stream_arn(&arn)
                .stream_mode_details(provisioned())
                .send()
                .await),
            not_active("s", "UPDATING")
        );
        env.clock.advance_ms(1_000);
        let limits = env.client.describe_limits().send().await.unwrap();
        assert_eq!(limits.on_demand_stream_count, 1);
        assert_eq!(
            err(env
                .client
                .update_stream_mode()
                .stream_arn(&arn)
                .stream_mode_details(on_demand())
                .send()
                .await),
            (
                "InvalidArgumentException".into(),
                format!("Stream s under account {ACCOUNT} is already in ON_DEMAND mode.")
            )
        );
        env.client
            .update_stream_mode()
            .stream_arn(&arn)
            .stream_mode_details(provisioned())
            .send()
            .await
            .unwrap();
        env.clock.advance_ms(1_000);
        assert_eq!(
            env.client
                .describe_limits()
                .send()
                .await
                .unwrap()
                .on_demand_stream_count,
            0
        );
        // Two switches per rolling 24 hours.
        assert_eq!(
            err(env
                .client
                .update_stream_mode()
                .stream_arn(&arn)
                .stream_mode_details(on_demand())
                .send()
                .await),
            (
                "LimitExceededException".into(),
                format!("Stream s under account {ACCOUNT} has already switched capacity mode 2 times in the last 24 hours.")
            )
        );
        env.clock.advance_ms(DAY_MS);
        env.client
            .update_stream_mode()
            .stream_arn(&arn)
            .stream_mode_details(on_demand())
            .send()
            .await
            .unwrap();

        // Validation.
        assert_eq!(
            err(env.client.update_stream_mode().stream_arn(&arn).send().await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value null at 'streamModeDetails' failed to satisfy constraint: Member must not be null".into()
            )
        );
        assert_eq!(
            raw_error(
                &env.server.endpoint(),
                "UpdateStreamMode",
                r#"{"StreamModeDetails":{"StreamMode":"ON_DEMAND"}}"#
            )
            .await,
            (
                "ValidationException".into(),
                "1 validation error detected: Value null at 'streamARN' failed to satisfy constraint: Member must not be null".into()
            )
        );
        assert_eq!(
            err(env
                .client
                .update_stream_mode()
                .stream_arn(stream_arn("missing"))
                .stream_mode_details(on_demand())
                .send()
                .await)
            .0,
            "ResourceNotFoundException"
        );
    }
}

both_backends! {
    #[tokio::test]
    async fn update_stream_mode_respects_the_on_demand_limit() {
        let env = start(Config {
            on_demand_stream_limit: 1,
            ..Config::default()
        })
        .await;
        env.client
            .create_stream()
            .stream_name("od")
            .stream_mode_details(on_demand())
            .send()
            .await
            .unwrap();
        let arn = create(&env, "p", 1).await;
        assert_eq!(
            err(env
                .client
                .update_stream_mode()
                .stream_arn(&arn)
                .stream_mode_details(on_demand())
                .send()
                .await),
            (
                "LimitExceededException".into(),
                format!("This request would exceed the on-demand stream limit for the account {ACCOUNT} in us-east-1. Current limit of on-demand streams per account is 1.")
            )
        );
    }
}

// ---------------------------------------------------------------- record size

both_backends! {
    #[tokio::test]
    async fn update_max_record_size_changes_the_write_limit() {
        let env = start(Config {
            update_delay_ms: 1_000,
            ..Config::default()
        })
        .await;
        let arn = create(&env, "s", 1).await;
        let big = vec![7u8; 1536 * 1024];
        assert_eq!(
            err(env
                .client
                .put_record()
                .stream_name("s")
                .partition_key("k")
                .data(Blob::new(big.clone()))
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576".into()
            )
        );
        env.client
            .update_max_record_size()
            .stream_arn(&arn)
            .max_record_size_in_kib(2048)
            .send()
            .await
            .unwrap();
        let summary = env
            .client
            .describe_stream_summary()
            .stream_name("s")
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.max_record_size_in_kib, Some(2048));
        assert_eq!(summary.stream_status, StreamStatus::Active);
        env.client
            .put_record()
            .stream_name("s")
            .partition_key("k")
            .data(Blob::new(big.clone()))
            .send()
            .await
            .unwrap();
        let (code, message) = err(env
            .client
            .put_records()
            .stream_name("s")
            .records(
                aws_sdk_kinesis::types::PutRecordsRequestEntry::builder()
                    .partition_key("k")
                    .data(Blob::new(vec![1u8; 2048 * 1024]))
                    .build()
                    .unwrap(),
            )
            .send()
            .await);
        assert_eq!(code, "ValidationException");
        assert_eq!(message, "1 validation error detected: Value at 'records.1.member.data' failed to satisfy constraint: Member must have length less than or equal to 2097152");

        for (kib, what) in [
            (1023, "have value greater than or equal to 1024"),
            (10241, "have value less than or equal to 10240"),
        ] {
            assert_eq!(
                err(env
                    .client
                    .update_max_record_size()
                    .stream_arn(&arn)
                    .max_record_size_in_kib(kib)
                    .send()
                    .await),
                (
                    "ValidationException".into(),
                    format!("1 validation error detected: Value '{kib}' at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must {what}")
                )
            );
        }
        // Only while ACTIVE.
        env.client
            .start_stream_encryption()
            .stream_name("s")
            .encryption_type(EncryptionType::Kms)
            .key_id("k")
            .send()
            .await
            .unwrap();
        assert_eq!(
            err(env
                .client
                .update_max_record_size()
                .stream_arn(&arn)
                .max_record_size_in_kib(1024)
                .send()
                .await),
            not_active("s", "UPDATING")
        );
        env.clock.advance_ms(1_000);
        env.client
            .update_max_record_size()
            .stream_arn(&arn)
            .max_record_size_in_kib(1024)
            .send()
            .await
            .unwrap();
        assert_eq!(
            err(env
                .client
                .put_record()
                .stream_name("s")
                .partition_key("k")
                .data(Blob::new(big))
                .send()
                .await)
            .0,
            "ValidationException"
        );
    }
}

// ---------------------------------------------------------------- account settings, warm throughput

both_backends! {
    #[tokio::test]
    async fn account_settings_commitment_window() {
        let env = start(Config::default()).await;
        let d = env
            .client
            .describe_account_settings()
            .send()
            .await
            .unwrap()
            .minimum_throughput_billing_commitment
            .unwrap();
        assert_eq!(d.status, CommitOut::Disabled);
        assert!(d.started_at.is_none() && d.ended_at.is_none() && d.earliest_allowed_end_at.is_none());

        let start_secs = env.clock.now_secs();
        let c = enable_commitment(&env, true).await;
        assert_eq!(c.status, CommitOut::Enabled);
        assert_eq!(c.started_at.unwrap().secs(), start_secs);
        assert_eq!(
            c.earliest_allowed_end_at.unwrap().secs(),
            start_secs + 365 * 86_400
        );
        assert!(c.ended_at.is_none());

        // Disabling inside the window winds down until its end.
        env.clock.advance_ms(DAY_MS);
        let c = enable_commitment(&env, false).await;
        assert_eq!(c.status, CommitOut::EnabledUntilEarliestAllowedEnd);
        assert_eq!(c.ended_at.unwrap().secs(), start_secs + 365 * 86_400);
        let d = env
            .client
            .describe_account_settings()
            .send()
            .await
            .unwrap()
            .minimum_throughput_billing_commitment
            .unwrap();
        assert_eq!(d.status, CommitOut::EnabledUntilEarliestAllowedEnd);
        // Enabling again resumes the same commitment.
        let c = enable_commitment(&env, true).await;
        assert_eq!(c.status, CommitOut::Enabled);
        assert_eq!(c.started_at.unwrap().secs(), start_secs);
        let c = enable_commitment(&env, false).await;
        assert_eq!(c.status, CommitOut::EnabledUntilEarliestAllowedEnd);
        env.clock.advance_ms(364 * DAY_MS);
        let d = env
            .client
            .describe_account_settings()
            .send()
            .await
            .unwrap()
            .minimum_throughput_billing_commitment
            .unwrap();
        assert_eq!(d.status, CommitOut::Disabled);
        assert_eq!(d.ended_at.unwrap().secs(), start_secs + 365 * 86_400);

        // After the window, disabling ends the commitment at once.
        let c = enable_commitment(&env, true).await;
        let started = c.started_at.unwrap().secs();
        assert_eq!(started, env.clock.now_secs());
        env.clock.advance_ms(366 * DAY_MS);
        let c = enable_commitment(&env, false).await;
        assert_eq!(c.status, CommitOut::Disabled);
        assert_eq!(c.ended_at.unwrap().secs(), env.clock.now_secs());

        assert_eq!(
            err(env.client.update_account_settings().send().await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value null at 'minimumThroughputBillingCommitment' failed to satisfy constraint: Member must not be null".into()
            )
        );
    }
}

both_backends! {
    #[tokio::test]
    async fn warm_throughput_needs_on_demand_and_the_commitment() {
        let env = start(Config {
            update_delay_ms: 1_000,
            ..Config::default()
        })
        .await;
        env.client
            .create_stream()
            .stream_name("od")
            .stream_mode_details(on_demand())
            .send()
            .await
            .unwrap();
        let od = stream_arn("od");
        create(&env, "p", 1).await;
        assert_eq!(
            err(env
                .client
                .update_stream_warm_throughput()
                .stream_arn(&od)
                .warm_throughput_mibps(100)
                .send()
                .await),
            (
                "InvalidArgumentException".into(),
                format!("Warm throughput requires the MinimumThroughputBillingCommitment of account {ACCOUNT} to be ENABLED.")
            )
        );
        assert_eq!(
            err(env
                .client
                .create_stream()
                .stream_name("warm")
                .stream_mode_details(on_demand())
                .warm_throughput_mibps(10)
                .send()
                .await)
            .0,
            "InvalidArgumentException"
        );
        enable_commitment(&env, true).await;
        let provisioned_error = (
            "ValidationException".to_string(),
            format!("Request is invalid. Stream p under account {ACCOUNT} is in Provisioned mode. Warm throughput is only supported for streams in On-Demand mode."),
        );
        assert_eq!(
            err(env
                .client
                .update_stream_warm_throughput()
                .stream_name("p")
                .warm_throughput_mibps(100)
                .send()
                .await),
            provisioned_error
        );
        assert_eq!(
            err(env
                .client
                .update_stream_warm_throughput()
                .stream_arn(&od)
                .warm_throughput_mibps(10_241)
                .send()
                .await),
            (
                "InvalidArgumentException".into(),
                format!("Requested warm throughput of 10241 MiBps for stream od under account {ACCOUNT} exceeds the maximum of 10240 MiBps.")
            )
        );
        assert_eq!(
            err(env
                .client
                .update_stream_warm_throughput()
                .stream_arn(&od)
                .warm_throughput_mibps(-1)
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value '-1' at 'warmThroughputMiBps' failed to satisfy constraint: Member must have value greater than or equal to 0".into()
            )
        );

        let out = env
            .client
            .update_stream_warm_throughput()
            .stream_arn(&od)
            .warm_throughput_mibps(100)
            .send()
            .await
            .unwrap();
        assert_eq!(out.stream_name(), Some("od"));
        assert_eq!(out.stream_arn(), Some(od.as_str()));
        let w = out.warm_throughput().unwrap();
        assert_eq!((w.target_mibps(), w.current_mibps()), (Some(100), Some(0)));
        let summary = env
            .client
            .describe_stream_summary()
            .stream_arn(&od)
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.stream_status, StreamStatus::Updating);
        let w = summary.warm_throughput.unwrap();
        assert_eq!((w.target_mibps(), w.current_mibps()), (Some(100), Some(0)));
        assert_eq!(
            err(env
                .client
                .update_stream_warm_throughput()
                .stream_arn(&od)
                .warm_throughput_mibps(200)
                .send()
                .await),
            not_active("od", "UPDATING")
        );
        env.clock.advance_ms(1_000);
        let summary = env
            .client
            .describe_stream_summary()
            .stream_arn(&od)
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.stream_status, StreamStatus::Active);
        let w = summary.warm_throughput.unwrap();
        assert_eq!(
            (w.target_mibps(), w.current_mibps()),
            (Some(100), Some(100))
        );
        // A provisioned stream reports none.
        let p = env
            .client
            .describe_stream_summary()
            .stream_name("p")
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert!(p.warm_throughput.is_none());

        // CreateStream with WarmThroughputMiBps.
        env.client
            .create_stream()
            .stream_name("warm")
            .stream_mode_details(on_demand())
            .warm_throughput_mibps(50)
            .send()
            .await
            .unwrap();
        let w = env
            .client
            .describe_stream_summary()
            .stream_name("warm")
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap()
            .warm_throughput
            .unwrap();
        assert_eq!((w.target_mibps(), w.current_mibps()), (Some(50), Some(50)));
        assert_eq!(
            err(env
                .client
                .create_stream()
                .stream_name("cold")
                .shard_count(1)
                .warm_throughput_mibps(50)
                .send()
                .await),
            (
                "ValidationException".into(),
                format!("Request is invalid. Stream cold under account {ACCOUNT} is in Provisioned mode. Warm throughput is only supported for streams in On-Demand mode.")
            )
        );

        // UpdateStreamMode with WarmThroughputMiBps: only towards ON_DEMAND.
        assert_eq!(
            err(env
                .client
                .update_stream_mode()
                .stream_arn(&od)
                .stream_mode_details(provisioned())
                .warm_throughput_mibps(10)
                .send()
                .await)
            .0,
            "ValidationException"
        );
        env.client
            .update_stream_mode()
            .stream_arn(stream_arn("p"))
            .stream_mode_details(on_demand())
            .warm_throughput_mibps(300)
            .send()
            .await
            .unwrap();
        env.clock.advance_ms(1_000);
        let w = env
            .client
            .describe_stream_summary()
            .stream_name("p")
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap()
            .warm_throughput
            .unwrap();
        assert_eq!(
            (w.target_mibps(), w.current_mibps()),
            (Some(300), Some(300))
        );
        // Back to PROVISIONED drops it.
        env.client
            .update_stream_mode()
            .stream_arn(stream_arn("p"))
            .stream_mode_details(provisioned())
            .send()
            .await
            .unwrap();
        env.clock.advance_ms(1_000);
        let p = env
            .client
            .describe_stream_summary()
            .stream_name("p")
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert!(p.warm_throughput.is_none());
        assert_eq!(
            env.client
                .describe_limits()
                .send()
                .await
                .unwrap()
                .on_demand_stream_count,
            2
        );
    }
}

// ---------------------------------------------------------------- restart

both_backends! {
    #[tokio::test]
    async fn everything_persists_across_restart() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: Some(dir.path().to_path_buf()),
            consumer_delay_ms: 5_000,
            update_delay_ms: 5_000,
            ..Config::default()
        };
        let clock = ManualClock::starting_now();
        let env = start_with(config.clone(), clock.clone()).await;
        enable_commitment(&env, true).await;
        env.client
            .create_stream()
            .stream_name("s")
            .stream_mode_details(on_demand())
            .tags("a", "1")
            .send()
            .await
            .unwrap();
        let arn = stream_arn("s");
        let active = env
            .client
            .register_stream_consumer()
            .stream_arn(&arn)
            .consumer_name("active")
            .tags("ct", "v")
            .send()
            .await
            .unwrap()
            .consumer
            .unwrap();
        clock.advance_ms(5_000);
        let creating = register(&env, &arn, "creating").await;
        env.client
            .tag_resource()
            .resource_arn(&arn)
            .tags("b", "2")
            .send()
            .await
            .unwrap();
        env.client
            .put_resource_policy()
            .resource_arn(&arn)
            .policy(POLICY)
            .send()
            .await
            .unwrap();
        env.client
            .put_resource_policy()
            .resource_arn(&active.consumer_arn)
            .policy(r#"{"consumer":true}"#)
            .send()
            .await
            .unwrap();
        env.client
            .enable_enhanced_monitoring()
            .stream_name("s")
            .shard_level_metrics(MetricsName::IncomingBytes)
            .send()
            .await
            .unwrap();
        env.client
            .update_max_record_size()
            .stream_arn(&arn)
            .max_record_size_in_kib(4096)
            .send()
            .await
            .unwrap();
        env.client
            .update_stream_warm_throughput()
            .stream_arn(&arn)
            .warm_throughput_mibps(64)
            .send()
            .await
            .unwrap();
        clock.advance_ms(5_000);
        // Encryption is left in flight: UPDATING across the restart.
        env.client
            .start_stream_encryption()
            .stream_name("s")
            .encryption_type(EncryptionType::Kms)
            .key_id("my-key")
            .send()
            .await
            .unwrap();
        let Env { server, .. } = env;
        server.shutdown().await;

        let env = start_with(config, clock.clone()).await;
        let summary = env
            .client
            .describe_stream_summary()
            .stream_arn(&arn)
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.stream_status, StreamStatus::Updating);
        assert_eq!(summary.encryption_type, Some(EncryptionType::Kms));
        assert_eq!(summary.key_id.as_deref(), Some("my-key"));
        assert_eq!(
            summary.stream_mode_details.as_ref().unwrap().stream_mode,
            Mode::OnDemand
        );
        assert_eq!(summary.max_record_size_in_kib, Some(4096));
        assert_eq!(summary.consumer_count, Some(2));
        assert_eq!(
            names(summary.enhanced_monitoring()[0].shard_level_metrics()),
            ["IncomingBytes"]
        );
        let w = summary.warm_throughput.unwrap();
        assert_eq!((w.target_mibps(), w.current_mibps()), (Some(64), Some(64)));
        clock.advance_ms(5_000);
        assert_eq!(status(&env, "s").await, StreamStatus::Active);

        let tags: Vec<String> = env
            .client
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap()
            .tags()
            .iter()
            .map(|t| t.key.clone())
            .collect();
        assert_eq!(tags, ["a", "b"]);
        assert_eq!(
            env.client
                .get_resource_policy()
                .resource_arn(&arn)
                .send()
                .await
                .unwrap()
                .policy,
            POLICY
        );
        assert_eq!(
            env.client
                .get_resource_policy()
                .resource_arn(&active.consumer_arn)
                .send()
                .await
                .unwrap()
                .policy,
            r#"{"consumer":true}"#
        );
        let ctags = env
            .client
            .list_tags_for_resource()
            .resource_arn(&active.consumer_arn)
            .send()
            .await
            .unwrap();
        assert_eq!(ctags.tags().len(), 1);
        let listed = env
            .client
            .list_stream_consumers()
            .stream_arn(&arn)
            .send()
            .await
            .unwrap();
        let statuses: Vec<(&str, &ConsumerStatus)> = listed
            .consumers()
            .iter()
            .map(|c| (c.consumer_name.as_str(), &c.consumer_status))
            .collect();
        assert_eq!(
            statuses,
            [
                ("active", &ConsumerStatus::Active),
                // Its CREATING period (5 s from registration) has passed in the meantime.
                ("creating", &ConsumerStatus::Active),
            ]
        );
        assert_eq!(listed.consumers()[1].consumer_arn, creating.consumer_arn);
        env.server
            .registry()
            .active_consumer(&active.consumer_arn)
            .unwrap();
        let settings = env
            .client
            .describe_account_settings()
            .send()
            .await
            .unwrap()
            .minimum_throughput_billing_commitment
            .unwrap();
        assert_eq!(settings.status, CommitOut::Enabled);
        let Env { server, .. } = env;
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test]
    async fn a_creating_consumer_stays_creating_across_restart() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: Some(dir.path().to_path_buf()),
            consumer_delay_ms: 5_000,
            ..Config::default()
        };
        let clock = ManualClock::starting_now();
        let env = start_with(config.clone(), clock.clone()).await;
        let arn = create(&env, "s", 1).await;
        let c = register(&env, &arn, "c").await;
        let Env { server, .. } = env;
        server.shutdown().await;
        let env = start_with(config, clock.clone()).await;
        let d = env
            .client
            .describe_stream_consumer()
            .consumer_arn(&c.consumer_arn)
            .send()
            .await
            .unwrap()
            .consumer_description
            .unwrap();
        assert_eq!(d.consumer_status, ConsumerStatus::Creating);
        clock.advance_ms(5_000);
        let d = env
            .client
            .describe_stream_consumer()
            .consumer_arn(&c.consumer_arn)
            .send()
            .await
            .unwrap()
            .consumer_description
            .unwrap();
        assert_eq!(d.consumer_status, ConsumerStatus::Active);
        let Env { server, .. } = env;
        server.shutdown().await;
    }
}
