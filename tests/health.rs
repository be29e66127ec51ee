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
