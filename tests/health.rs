//! `GET /health` and `GET /ready` (no signature, never a Kinesis request, which are all
//! POST), and `kinesd healthcheck`'s exit codes against a running and a missing server.

mod common;

use common::process::{run_bounded, Kinesd};
use common::raw::send_raw;
use kinesd::Config;
use std::process::Command;
use std::time::Duration;

#[tokio::test]
async fn health_and_ready_answer_200_and_other_gets_stay_refused() {
    let server = common::serve(Config::default()).await;
    for path in ["/health", "/ready"] {
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        let resp = send_raw(server.local_addr(), request.as_bytes()).await;
        assert_eq!(resp.status, 200, "{path}");
        assert_eq!(resp.json()["status"], "ok");
    }
    let other = send_raw(
        server.local_addr(),
        b"GET /metrics-nope HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(other.status, 403);
    let foreign = send_raw(
        server.local_addr(),
        b"GET /health HTTP/1.1\r\nHost: evil.example.com\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(foreign.status, 403, "the Host allow-list comes first");
}

fn healthcheck(port: u16) -> bool {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kinesd"));
    command.args(["healthcheck", "--port", &port.to_string()]);
    run_bounded(command, Duration::from_secs(20)).0
}

#[test]
fn the_healthcheck_command_exits_0_for_a_live_server_and_1_otherwise() {
    let server = Kinesd::spawn(&["--in-memory"], None);
    let port: u16 = server.endpoint.rsplit(':').next().unwrap().parse().unwrap();
    assert!(healthcheck(port), "a live server is healthy");
    drop(server);
    assert!(!healthcheck(port), "a stopped server is not");
}

/// `--log-format json`: every line is a JSON object; at debug the access log has one line per
/// request with its operation, status, exception and latency; start-up says what it serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_with_an_access_line_per_request() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    let server = Kinesd::spawn_full(
        &[
            "--in-memory",
            "--no-tls",
            "--log-format",
            "json",
            "--streams",
            "orders:2",
        ],
        &[("KINESD_LOG", "info,kinesd::access=debug")],
        Some(&log),
    );
    let client = common::client(&server.endpoint);
    client.list_streams().send().await.unwrap();
    let _ = client.describe_stream().stream_name("nope").send().await;
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let access: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["target"] == "kinesd::access")
        .map(|l| &l["fields"])
        .collect();
    assert!(
        access
            .iter()
            .any(|f| f["operation"] == "ListStreams" && f["status"] == 200 && f["ms"].is_f64()),
        "{text}"
    );
    assert!(
        access.iter().any(|f| f["operation"] == "DescribeStream"
            && f["status"] == 400
            && f["error"] == "ResourceNotFoundException"),
        "{text}"
    );
    let serving = lines
        .iter()
        .find(|l| l["fields"]["message"] == "serving")
        .expect("a start-up line");
    assert!(serving["fields"]["listen"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    assert!(serving["fields"]["streams"]
        .as_str()
        .unwrap()
        .contains("orders"));
}

/// A port in use or a data directory that cannot be made stops the start with one line and a
/// non-zero exit, before anything is written.
#[test]
fn bad_places_stop_the_start_before_anything_is_written() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut command = Command::new(env!("CARGO_BIN_EXE_kinesd"));
    command.args([
        "--port",
        &port,
        "--no-tls",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let (ok, _, stderr) = run_bounded(command, Duration::from_secs(20));
    assert!(!ok);
    assert!(
        stderr.contains(&format!(
            "kinesd: cannot start: cannot listen on 127.0.0.1:{port}: "
        )),
        "{stderr}"
    );
    assert!(
        !data.exists(),
        "the data directory was created before the port failed"
    );

    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"").unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_kinesd"));
    command.args(["--port", "0", "--no-tls", "--data-dir"]);
    command.arg(file.join("data"));
    let (ok, _, stderr) = run_bounded(command, Duration::from_secs(20));
    assert!(!ok);
    assert!(
        stderr.contains("kinesd: cannot start:") && stderr.contains("Not a directory"),
        "{stderr}"
    );
    assert_eq!(
        stderr
            .trim()
            .lines()
            .filter(|l| l.starts_with("kinesd:"))
            .count(),
        1
    );
}
