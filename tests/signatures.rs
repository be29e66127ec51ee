//! `--verify-signatures`: requests are checked against the configured keys, with AWS's
//! errors, through real clients — the Rust SDK over HTTP/1.1 and HTTP/2 (in process), boto3
//! and the AWS CLI (against the binary, keys from `KINESD_CREDENTIALS`). Without the flag any
//! well-formed signature is taken, as before.

mod common;

use aws_sdk_kinesis::config::{Builder, Credentials as SdkCredentials, Region};
use aws_sdk_kinesis::error::ProvideErrorMetadata;
use aws_sdk_kinesis::Client;
use common::process::{require_client, run_bounded, runs, Kinesd};
use kinesd::{Config, Credentials};
use std::process::Command;
use std::time::Duration;

fn verifying() -> Config {
    Config {
        credentials: Some(Credentials::parse("AKIDKINESD:s3cr3t/key+1").unwrap()),
        ..Config::default()
    }
}

fn client_with(endpoint: &str, key: &str, secret: &str, region: &str) -> Client {
    let conf = Builder::new()
        .behavior_version_latest()
        .region(Region::new(region.to_string()))
        .credentials_provider(SdkCredentials::new(key, secret, None, None, "test"))
        .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled())
        .endpoint_url(endpoint)
        .build();
    Client::from_conf(conf)
}

async fn error_of(client: &Client) -> (String, String) {
    let e = client.list_streams().send().await.unwrap_err();
    (
        e.code().unwrap_or_default().to_string(),
        e.message().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn the_sdk_with_the_right_key_passes_and_wrong_parts_are_named() {
    let server = common::serve(verifying()).await;
    let endpoint = server.endpoint();
    let good = client_with(&endpoint, "AKIDKINESD", "s3cr3t/key+1", "us-east-1");
    good.list_streams().send().await.unwrap();
    good.create_stream()
        .stream_name("signed")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    good.put_record()
        .stream_name("signed")
        .partition_key("k")
        .data(aws_sdk_kinesis::primitives::Blob::new(vec![1u8; 5000]))
        .send()
        .await
        .unwrap();

    let (code, message) =
        error_of(&client_with(&endpoint, "AKIDKINESD", "wrong", "us-east-1")).await;
    assert_eq!(code, "InvalidSignatureException");
    assert!(
        message.starts_with("The request signature we calculated does not match"),
        "{message}"
    );
    let (code, message) = error_of(&client_with(
        &endpoint,
        "NOBODY",
        "s3cr3t/key+1",
        "us-east-1",
    ))
    .await;
    assert_eq!(code, "UnrecognizedClientException");
    assert_eq!(
        message,
        "The security token included in the request is invalid."
    );
    let (code, message) = error_of(&client_with(
        &endpoint,
        "AKIDKINESD",
        "s3cr3t/key+1",
        "eu-west-1",
    ))
    .await;
    assert_eq!(code, "InvalidSignatureException");
    assert_eq!(message, "Credential should be scoped to a valid region. ");

    // Without --verify-signatures, any key is taken.
    let open = common::serve(Config::default()).await;
    client_with(&open.endpoint(), "ANY", "thing", "us-east-1")
        .list_streams()
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn the_sdk_over_tls_and_http2_is_verified_too() {
    let server = common::serve(verifying()).await;
    let https = server.https_endpoint().expect("TLS on by default");
    let ca = server.tls_ca_pem().unwrap().to_string();
    let good = common::tls_client(&https, &ca);
    // tls_client signs with AKID/SECRET: unknown here.
    let (code, _) = error_of(&good).await;
    assert_eq!(code, "UnrecognizedClientException");
    let conf = good
        .config()
        .to_builder()
        .credentials_provider(SdkCredentials::new(
            "AKIDKINESD",
            "s3cr3t/key+1",
            None,
            None,
            "test",
        ))
        .build();
    Client::from_conf(conf).list_streams().send().await.unwrap();
}

#[test]
fn the_aws_cli_and_boto3_with_right_and_wrong_keys() {
    let cli = runs("aws", &["--version"]);
    let boto3 = runs("python3", &["-c", "import boto3"]);
    if !require_client(cli && boto3, "the aws CLI or boto3 is not installed") {
        return;
    }
    let server = Kinesd::spawn_with_env(
        &["--in-memory", "--no-tls", "--verify-signatures"],
        &[("KINESD_CREDENTIALS", "AKIDKINESD:s3cr3t/key+1")],
    );
    let aws = |key: &str, secret: &str| {
        let mut command = Command::new("aws");
        command
            .args(["--endpoint-url", &server.endpoint, "--region", "us-east-1"])
            .args(["kinesis", "list-streams"])
            .env("AWS_ACCESS_KEY_ID", key)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env_remove("AWS_PROFILE");
        run_bounded(command, Duration::from_secs(60))
    };
    let (ok, _, stderr) = aws("AKIDKINESD", "s3cr3t/key+1");
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = aws("AKIDKINESD", "wrong");
    assert!(!ok);
    assert!(stderr.contains("InvalidSignatureException"), "{stderr}");
    let (ok, _, stderr) = aws("NOBODY", "s3cr3t/key+1");
    assert!(!ok);
    assert!(stderr.contains("UnrecognizedClientException"), "{stderr}");

    let boto = |secret: &str| {
        let mut command = Command::new("python3");
        command.args([
            "-c",
            "import boto3,sys\n\
             c=boto3.client('kinesis',endpoint_url=sys.argv[1],region_name='us-east-1',\
             aws_access_key_id='AKIDKINESD',aws_secret_access_key=sys.argv[2])\n\
             try:\n    c.list_streams(); print('OK')\n\
             except Exception as e:\n    print(e.response['Error']['Code'])",
            &server.endpoint,
            secret,
        ]);
        run_bounded(command, Duration::from_secs(60)).1
    };
    assert_eq!(boto("s3cr3t/key+1").trim(), "OK");
    assert_eq!(boto("wrong").trim(), "InvalidSignatureException");
}
