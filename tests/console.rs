//! The web console (`/console`): its files and headers, its traffic document's exact counts on
//! the manual clock, `--no-console`, and the pages driven in headless Chromium
//! (`scripts/console_browser.py`: create, split, live tail with KPL de-aggregation, markup in
//! partition keys shown as text, the put form, phone width), which also writes screenshots of
//! every page to `target/console-screenshots/`.

mod common;

use aws_sdk_kinesis::primitives::Blob;
use common::process::{require_client, run_bounded, runs, script, Kinesd};
use common::raw::{send_raw, Resp};
use common::{create, setup};
use kinesd::Config;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

async fn get(addr: SocketAddr, path: &str, host: &str) -> Resp {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    send_raw(addr, request.as_bytes()).await
}

fn addr_of(endpoint: &str) -> SocketAddr {
    endpoint.trim_start_matches("http://").parse().unwrap()
}

#[tokio::test]
async fn the_console_files_are_served_with_a_strict_policy_and_no_cors() {
    let server = common::serve(Config::default()).await;
    let addr = server.local_addr();
    for path in [
        "/console",
        "/console/",
        "/console/app.js",
        "/console/style.css",
    ] {
        let resp = get(addr, path, "localhost").await;
        assert_eq!(resp.status, 200, "{path}");
        let policy = resp.header("content-security-policy").unwrap();
        assert!(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"));
        assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
        assert!(resp.header("access-control-allow-origin").is_none());
    }
    let page = get(addr, "/console", "localhost").await;
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(page.text().contains("/console/app.js"));
    assert_eq!(get(addr, "/console/nope.js", "localhost").await.status, 404);
    // Only the console's own prefix: `/consoles` is not it.
    assert_eq!(get(addr, "/consoles", "localhost").await.status, 403);
    let foreign = get(addr, "/console", "evil.example.com").await;
    assert_eq!(
        foreign.status, 403,
        "the Host allow-list applies to the console"
    );
}

async fn traffic(addr: SocketAddr, stream: &str) -> Value {
    let resp = get(
        addr,
        &format!("/console/api/traffic?stream={stream}"),
        "localhost",
    )
    .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    resp.json()
}

/// Waits (real time) until the sampler has kept `n` samples of `stream` (the document adds
/// one more: the counters at the request).
async fn samples(addr: SocketAddr, stream: &str, n: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let doc = traffic(addr, stream).await;
        if doc["streams"][stream]["samples"].as_array().unwrap().len() > n {
            return doc;
        }
        assert!(Instant::now() < deadline, "no sample {n} in time: {doc}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_traffic_document_counts_the_last_minute_on_kinesds_clock() {
    let (server, clock, client) = setup(Config::default()).await;
    let addr = server.local_addr();
    create(&client, "clicks", 2).await;
    let put = |key: &'static str, data: &'static [u8]| {
        client
            .put_record()
            .stream_name("clicks")
            .partition_key(key)
            .data(Blob::new(data))
            .send()
    };
    put("a", b"12345").await.unwrap();
    put("b", b"123").await.unwrap();
    put("c", b"1").await.unwrap();
    // Younger than a minute: counted from zero.
    let doc = samples(addr, "clicks", 1).await;
    let minute = &doc["streams"]["clicks"]["last_minute"];
    assert_eq!(
        (minute["records_in"].as_u64(), minute["bytes_in"].as_u64()),
        (Some(3), Some(9))
    );
    // A manual clock that stands still adds no sample however long the sampler runs.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let kept = traffic(addr, "clicks").await["streams"]["clicks"]["samples"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(kept, 2, "one kept sample and the counters now");
    clock.advance_ms(61_000);
    put("d", b"1234567").await.unwrap();
    put("e", b"12").await.unwrap();
    let doc = samples(addr, "clicks", 2).await;
    let stream = &doc["streams"]["clicks"];
    assert_eq!(stream["last_minute"]["records_in"], 2, "{doc}");
    assert_eq!(stream["last_minute"]["bytes_in"], 9);
    let per_shard: u64 = stream["shards"]
        .as_object()
        .unwrap()
        .values()
        .map(|s| s["records_in"].as_u64().unwrap())
        .sum();
    assert_eq!(per_shard, 5, "each shard's records put since start");
    let last = stream["samples"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last[1], 5, "the last entry is the counters now: {last}");
    // A shard's stored records, by scan: all five, keys and data billed.
    let mut stored = (0, 0);
    for shard in ["shardId-000000000000", "shardId-000000000001"] {
        let path = format!("/console/api/shard?stream=clicks&shard={shard}");
        let doc = get(addr, &path, "localhost").await.json();
        stored.0 += doc["records"].as_u64().unwrap();
        stored.1 += doc["bytes"].as_u64().unwrap();
    }
    assert_eq!(
        stored,
        (5, 18 + 5),
        "records, and data + partition-key bytes"
    );
    let unknown = get(
        addr,
        "/console/api/shard?stream=clicks&shard=shardId-000000000009",
        "localhost",
    )
    .await;
    assert_eq!(unknown.status, 404);
    // Without `stream=`, no samples; a deleted stream goes.
    let all = get(addr, "/console/api/traffic", "localhost").await.json();
    assert!(all["streams"]["clicks"].get("samples").is_none());
    client
        .delete_stream()
        .stream_name("clicks")
        .send()
        .await
        .unwrap();
    let all = get(addr, "/console/api/traffic", "localhost").await.json();
    assert!(all["streams"].get("clicks").is_none(), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_console_answers_404_from_the_flag_the_variable_and_the_file() {
    let in_process = common::serve(Config {
        console: false,
        ..Config::default()
    })
    .await;
    let off = get(in_process.local_addr(), "/console", "localhost").await;
    assert_eq!(off.status, 404);
    for (args, env) in [
        (vec!["--in-memory", "--no-tls", "--no-console"], vec![]),
        (
            vec!["--in-memory", "--no-tls"],
            vec![("KINESD_NO_CONSOLE", "true")],
        ),
    ] {
        let server = Kinesd::spawn_with_env(&args, &env);
        let addr = addr_of(&server.endpoint);
        for path in ["/console", "/console/app.js", "/console/api/traffic"] {
            assert_eq!(
                get(addr, path, "localhost").await.status,
                404,
                "{path} {args:?} {env:?}"
            );
        }
        assert_eq!(get(addr, "/health", "localhost").await.status, 200);
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kinesd.toml");
    std::fs::write(&file, "no_console = true\n").unwrap();
    let from_file = Kinesd::spawn(
        &[
            "--in-memory",
            "--no-tls",
            "--config",
            file.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(
        get(addr_of(&from_file.endpoint), "/console", "localhost")
            .await
            .status,
        404
    );
    let on = Kinesd::spawn(&["--in-memory", "--no-tls"], None);
    assert_eq!(
        get(addr_of(&on.endpoint), "/console", "localhost")
            .await
            .status,
        200
    );
}

fn browser_available() -> bool {
    (runs("chromium", &["--version"]) || runs("chromium-browser", &["--version"]))
        && runs("chromedriver", &["--version"])
        && runs("python3", &["-c", "import selenium, boto3"])
}

#[test]
fn the_console_in_headless_chromium() {
    if !require_client(
        browser_available(),
        "chromium, chromedriver or Python's selenium and boto3 are not installed",
    ) {
        return;
    }
    let server = Kinesd::spawn(&["--in-memory", "--no-tls"], None);
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
    let mut command = Command::new("python3");
    command
        .arg(script("console_browser.py"))
        .arg(&server.endpoint)
        .arg(&shots);
    let (ok, stdout, stderr) = run_bounded(command, Duration::from_secs(300));
    println!("{stdout}");
    assert!(ok, "the browser test failed:\n{stdout}\n{stderr}");
    for page in ["streams", "stream", "tail"] {
        for size in ["1280x800", "390x844"] {
            let shot = shots.join(format!("{page}-{size}.png"));
            assert!(shot.metadata().is_ok_and(|m| m.len() > 1_000), "{shot:?}");
        }
    }
}
