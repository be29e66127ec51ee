//! The consumer, tagging-by-ARN, resource-policy, encryption, monitoring, capacity-mode,
//! record-size, warm-throughput and account-settings operations through `aws-sdk-kinesis`:
//! happy paths, each documented error (type and text), lifecycles driven by the manual clock,
//! and persistence across a restart.
//!
//! The tests live in `tests/sdk_api_full/`, a file per concern; this file holds what they share.

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

/// The policy the resource-policy tests put, and the restart test expects back.
const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kinesis:GetRecords","Resource":"*"}]}"#;

/// The names of a metric set, for comparing with string lists.
fn names(metrics: &[MetricsName]) -> Vec<&str> {
    metrics.iter().map(|m| m.as_str()).collect()
}

/// Whole seconds of the manual clock, as the SDK's timestamps carry them.
trait NowSecs {
    fn now_secs(&self) -> i64;
}

impl NowSecs for ManualClock {
    fn now_secs(&self) -> i64 {
        use kinesd::Clock;
        self.now_ms().div_euclid(1000)
    }
}

#[path = "sdk_api_full/account_settings.rs"]
mod account_settings;
#[path = "sdk_api_full/capacity_mode.rs"]
mod capacity_mode;
#[path = "sdk_api_full/consumers.rs"]
mod consumers;
#[path = "sdk_api_full/encryption.rs"]
mod encryption;
#[path = "sdk_api_full/monitoring.rs"]
mod monitoring;
#[path = "sdk_api_full/record_size.rs"]
mod record_size;
#[path = "sdk_api_full/resource_policies.rs"]
mod resource_policies;
#[path = "sdk_api_full/restart.rs"]
mod restart;
#[path = "sdk_api_full/tags_by_arn.rs"]
mod tags_by_arn;
