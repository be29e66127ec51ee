//! Streams declared at start (`--streams`, `KINESD_STREAMS`): created ACTIVE before the
//! server listens, left alone (with a warning) when they exist with other settings, and a bad
//! declaration stops the start with a one-line message.

mod common;

use common::process::{run_bounded, Kinesd};
use std::process::Command;
use std::time::Duration;

async fn summary(client: &aws_sdk_kinesis::Client, name: &str) -> (String, i32, i32) {
    let d = client
        .describe_stream_summary()
        .stream_name(name)
        .send()
        .await
        .unwrap()
        .stream_description_summary
        .unwrap();
    (
        d.stream_status.as_str().to_string(),
        d.open_shard_count,
        d.retention_period_hours,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_streams_exist_active_and_survive_restarts_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let dir = dir.to_str().unwrap();
    // A creation delay applies to clients' streams, not to declared ones.
    let server = Kinesd::spawn_with_env(
        &["--no-tls", "--data-dir", dir, "--create-stream-ms", "60000"],
        &[("KINESD_STREAMS", "orders:4,clicks:2:48h,events:on-demand")],
    );
    let client = common::client(&server.endpoint);
    assert_eq!(summary(&client, "orders").await, ("ACTIVE".into(), 4, 24));
    assert_eq!(summary(&client, "clicks").await, ("ACTIVE".into(), 2, 48));
    assert_eq!(summary(&client, "events").await.0, "ACTIVE");
    client
        .put_record()
        .stream_name("orders")
        .partition_key("k")
        .data(aws_sdk_kinesis::primitives::Blob::new("x"))
        .send()
        .await
        .unwrap();
    drop(server);

    // Declared again with other settings, by flag this time: left as they are, with a warning.
    let log = tmp.path().join("log");
    let server = Kinesd::spawn(
        &[
            "--no-tls",
            "--data-dir",
            dir,
            "--streams",
            "orders:8:72h,clicks:2:48h",
        ],
        Some(&log),
    );
    let client = common::client(&server.endpoint);
    assert_eq!(summary(&client, "orders").await, ("ACTIVE".into(), 4, 24));
    assert_eq!(summary(&client, "clicks").await, ("ACTIVE".into(), 2, 48));
    let names = client.list_streams().send().await.unwrap().stream_names;
    assert_eq!(names, ["clicks", "events", "orders"]);
    drop(server);
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("declared stream exists and is left as it is: 4 open shards, declared 8; retention 24h, declared 72h"),
        "{log}"
    );
}

#[test]
fn a_bad_declaration_stops_the_start() {
    for (value, says) in [
        ("bad name", "a stream name is"),
        ("s:0", "outside 1..10000"),
        ("s:1:2h", "outside 24h..8760h"),
    ] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kinesd"));
        command.args(["--port", "0", "--in-memory", "--streams", value]);
        let (ok, stdout, stderr) = run_bounded(command, Duration::from_secs(20));
        assert!(!ok && !stdout.contains("listening"), "{value}: {stdout}");
        assert!(stderr.contains(says), "{value}: {stderr}");
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_kinesd"));
    command.args([
        "--port",
        "0",
        "--in-memory",
        "--shard-limit",
        "3",
        "--streams",
        "big:4",
    ]);
    let (ok, _, stderr) = run_bounded(command, Duration::from_secs(20));
    assert!(!ok);
    assert!(
        stderr.contains("declared stream 'big'") && stderr.contains("shard limit"),
        "{stderr}"
    );
}
