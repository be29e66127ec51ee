//! An in-process kinesd and the official SDK client:
//! - [`start`] runs a server on a free port with a fresh [`ManualClock`];
//! - [`start_with_clock`] does the same with a given clock (restarts on a `data_dir`);
//! - [`client`] builds an AWS SDK Kinesis client for an endpoint (no retries, dummy
//!   credentials, us-east-1), [`tls_client`] one that trusts a given CA over HTTPS.
//!
//! Time-based behaviour (iterator expiry, retention) is driven with `clock.advance_ms(..)`,
//! never by sleeping.

use aws_sdk_kinesis::config::retry::RetryConfig;
use aws_sdk_kinesis::config::{Builder, Credentials, Region};
use aws_sdk_kinesis::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::Client;
use kinesd::{Config, ManualClock, Server};
use std::fmt::Debug;
use std::sync::Arc;

/// The account every stream lives in with the default [`Config`].
pub const ACCOUNT: &str = "000000000000";
/// The region of the default [`Config`].
pub const REGION: &str = "us-east-1";

/// Starts a server with `config` and a manual clock starting at the real current time,
/// rounded down to a whole second: JSON carries timestamps as epoch seconds and the SDK
/// reads them through an `f64`, so a start like `…855.05` would come back as `…855.049`.
/// With a whole-second start, times a multiple of 1/8 s apart survive exactly.
pub async fn start(config: Config) -> (Server, ManualClock) {
    let clock = whole_second_clock();
    let server = start_with_clock(config, &clock).await;
    (server, clock)
}

/// A server with `config` whose clock the test does not need to move.
pub async fn serve(config: Config) -> Server {
    start(config).await.0
}

/// A manual clock at the current time rounded down to a whole second (see [`start`]).
pub fn whole_second_clock() -> ManualClock {
    let now = kinesd::Clock::now_ms(&ManualClock::starting_now());
    ManualClock::new(now - now.rem_euclid(1000))
}

/// Starts a server on `127.0.0.1:0` driven by `clock` (clones share the time).
///
/// Reopening a `data_dir` right after [`Server::shutdown`] may briefly find the store still
/// locked by the previous instance's background threads, so opening is retried for up to
/// ten seconds before giving up.
pub async fn start_with_clock(config: Config, clock: &ManualClock) -> Server {
    let mut attempts = 0;
    loop {
        let started = if super::cluster::active() {
            super::cluster::start_pair(config.clone(), clock).await
        } else {
            Server::start(
                config.clone(),
                Arc::new(clock.clone()),
                "127.0.0.1:0".parse().unwrap(),
            )
            .await
        };
        match started {
            Ok(server) => {
                if !super::cluster::active() {
                    super::cluster::forget_peer(&server.endpoint());
                }
                return server;
            }
            Err(e) if attempts < 100 && config.data_dir.is_some() => {
                attempts += 1;
                let _ = e;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("server failed to start: {e}"),
        }
    }
}

/// An SDK client for `endpoint` (e.g. [`Server::endpoint`]). Retries are disabled so that
/// throttling-class errors (LimitExceededException) come back at once.
///
/// For the first node of a cluster pair, every other request goes to the second node.
pub fn client(endpoint: &str) -> Client {
    let mut conf = Builder::new()
        .behavior_version_latest()
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .endpoint_url(endpoint);
    if let Some(peer) = super::cluster::peer_of(endpoint) {
        conf = conf.interceptor(super::cluster::Alternate::new(endpoint.to_string(), peer));
    }
    Client::from_conf(conf.build())
}

/// An SDK client for an `https://` endpoint that trusts only `ca_pem` (the CA kinesd generated).
pub fn tls_client(endpoint: &str, ca_pem: &str) -> Client {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(
            TlsContext::builder()
                .with_trust_store(
                    TrustStore::empty()
                        .with_native_roots(false)
                        .with_pem_certificate(ca_pem.as_bytes()),
                )
                .build()
                .expect("a TLS context trusting the CA"),
        )
        .build_https();
    let conf = Builder::new()
        .behavior_version_latest()
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .http_client(http_client)
        .endpoint_url(endpoint)
        .build();
    Client::from_conf(conf)
}

/// A server with `config` and an SDK client for it.
pub async fn setup(config: Config) -> (Server, ManualClock, Client) {
    let (server, clock) = start(config).await;
    let client = client(&server.endpoint());
    (server, clock, client)
}

/// Creates a provisioned stream, panicking with the SDK error if it fails.
pub async fn create(client: &Client, name: &str, shards: i32) {
    client
        .create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
}

/// The service error's code and message of a call that must fail.
pub fn failure<T: Debug, E, R>(result: Result<T, SdkError<E, R>>) -> (String, String)
where
    E: ProvideErrorMetadata + Debug,
    R: Debug,
{
    let err = result.expect_err("the call should have failed");
    let err = err
        .as_service_error()
        .unwrap_or_else(|| panic!("not a service error: {err:?}"));
    (
        err.code().unwrap_or_default().to_string(),
        err.message().unwrap_or_default().to_string(),
    )
}

/// Creates `name` with `shards` shards (ACTIVE at once with the default config).
pub async fn create_stream(client: &Client, name: &str, shards: i32) {
    client
        .create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateStream {name}: {e:?}"));
}

/// Registers consumer `name` on `stream` (found by name) and returns its ARN.
pub async fn register_consumer(client: &Client, stream: &str, name: &str) -> String {
    let stream_arn = client
        .describe_stream_summary()
        .stream_name(stream)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeStreamSummary {stream}: {e:?}"))
        .stream_description_summary
        .expect("a summary")
        .stream_arn;
    client
        .register_stream_consumer()
        .stream_arn(stream_arn)
        .consumer_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("RegisterStreamConsumer {name}: {e:?}"))
        .consumer
        .expect("a consumer")
        .consumer_arn
}

/// A TRIM_HORIZON iterator for one shard of `stream`.
pub async fn trim_horizon_iterator(
    client: &Client,
    stream: &str,
    shard: &str,
) -> Result<String, String> {
    Ok(client
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard)
        .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
        .send()
        .await
        .map_err(|e| format!("GetShardIterator: {e:?}"))?
        .shard_iterator
        .expect("an iterator"))
}

/// A SubscribeToShard event stream, as the SDK hands it out.
pub type Events = aws_sdk_kinesis::primitives::event_stream::EventReceiver<
    aws_sdk_kinesis::types::SubscribeToShardEventStream,
    aws_sdk_kinesis::types::error::SubscribeToShardEventStreamError,
>;

/// Subscribes `consumer` to `shard` from TRIM_HORIZON and returns the event stream.
pub async fn subscribe_from_trim_horizon(client: &Client, consumer: &str, shard: &str) -> Events {
    use aws_sdk_kinesis::types::{ShardIteratorType, StartingPosition};
    client
        .subscribe_to_shard()
        .consumer_arn(consumer)
        .shard_id(shard)
        .starting_position(
            StartingPosition::builder()
                .r#type(ShardIteratorType::TrimHorizon)
                .build()
                .expect("a starting position"),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("SubscribeToShard {consumer} {shard}: {e:?}"))
        .event_stream
}

/// Every record's data in one shard of `stream`, read from TRIM_HORIZON to the tip, pages of
/// at most `limit`.
pub async fn read_shard_data(
    client: &Client,
    stream: &str,
    shard: &str,
    limit: i32,
) -> Result<Vec<Vec<u8>>, String> {
    let mut it = trim_horizon_iterator(client, stream, shard).await?;
    let mut seen = Vec::new();
    loop {
        let out = client
            .get_records()
            .shard_iterator(&it)
            .limit(limit)
            .send()
            .await
            .map_err(|e| format!("GetRecords: {e:?}"))?;
        if out.records().is_empty() {
            return Ok(seen);
        }
        seen.extend(out.records().iter().map(|r| r.data().as_ref().to_vec()));
        it = out.next_shard_iterator.expect("an open shard");
    }
}
