//! Runs `scripts/smoke.sh` (AWS CLI) against a freshly spawned kinesd binary.

mod common;

use common::process::{require_client, run_bounded, runs, script, tail, Kinesd};
use std::process::Command;
use std::time::{Duration, Instant};

/// How long the smoke script may run before it is killed and the test fails.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

#[test]
fn aws_cli_smoke_script() {
    if !require_client(runs("aws", &["--version"]), "the aws CLI is not installed") {
        return;
    }
    let server = Kinesd::spawn(&["--in-memory", "--shard-limit", "2000"], None);
    run_smoke(&server.endpoint);
    drop(server);
}

/// The same script against two kinesd processes over NATS, every AWS CLI call (one process,
/// one connection) going to the other node.
#[test]
fn aws_cli_smoke_script_on_a_cluster() {
    if !require_client(runs("aws", &["--version"]), "the aws CLI is not installed") {
        return;
    }
    let Some(cluster) = common::cluster::spawn_processes(&["--in-memory", "--shard-limit", "2000"])
    else {
        return;
    };
    run_smoke(&cluster.endpoint);
}

fn run_smoke(endpoint: &str) {
    let started = Instant::now();
    let mut command = Command::new("bash");
    command.arg(script("smoke.sh")).arg(endpoint);
    let (ok, stdout, stderr) = run_bounded(command, SCRIPT_TIMEOUT);
    assert!(
        ok,
        "smoke.sh failed:\n--- stdout (tail) ---\n{}\n--- stderr ---\n{}",
        tail(&stdout, 4000),
        tail(&stderr, 4000)
    );
    let summary = stdout
        .lines()
        .rfind(|l| l.starts_with("smoke: OK"))
        .unwrap_or_else(|| panic!("no summary line in:\n{}", tail(&stdout, 4000)));
    eprintln!("{summary} [{endpoint}, took {:?}]", started.elapsed());
}
