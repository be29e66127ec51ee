//! Real AWS clients against a freshly spawned kinesd binary:
//! - `scripts/boto3_smoke.py` (boto3: HTTP/1.1, SubscribeToShard over a chunked body);
//! - `scripts/js_smoke.mjs` (AWS SDK for JavaScript v3: h2c prior knowledge for every call,
//!   GOAWAY right after the response headers, SubscribeToShard over h2c).
//!
//! Each script runs against the same server on `http://` and on `https://` (the same port; the
//! client trusts the CA the in-memory server writes to the temp dir), then against two nodes
//! over NATS behind a proxy that alternates connections between them. Each test
//! skips, with a printed reason, when its client is not installed, and fails instead under
//! `KINESD_REQUIRE_CLIENTS=1`, which CI (`.ci/run`) sets; CI installs them: boto3 with pip, the JS SDK with
//! `npm install --prefix target/js-client @aws-sdk/client-kinesis @smithy/node-http-handler`.

mod common;

use common::process::{require_client, run_bounded, runs, script, tail, Kinesd};

/// How long a client script may run before it is killed and the test fails.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs a client script against a fresh server, on `http://` and then on `https://`; asserts
/// success and a summary line each time. `command(ca)` builds the command (the endpoint is
/// appended); `ca` is the CA file to trust for the `https://` run.
fn run_client(name: &str, command: impl Fn(Option<&Path>) -> Command, summary_prefix: &str) {
    let started = Instant::now();
    let server = Kinesd::spawn(&["--in-memory"], None);
    let mut runs = vec![(server.endpoint.clone(), None)];
    match &server.https {
        Some((endpoint, ca)) => runs.push((endpoint.clone(), Some(ca.clone()))),
        None => eprintln!("note: kinesd announced no TLS endpoint; {name} runs on http:// only"),
    }
    // And against two nodes over NATS, each new connection going to the other node.
    let cluster = common::cluster::spawn_processes(&["--in-memory"]);
    if let Some(cluster) = &cluster {
        runs.push((cluster.endpoint.clone(), None));
    }
    for (endpoint, ca) in runs {
        let mut cmd = command(ca.as_deref());
        cmd.arg(&endpoint);
        let (ok, stdout, stderr) = run_bounded(cmd, SCRIPT_TIMEOUT);
        eprintln!("--- {name} {endpoint} output ---\n{}", tail(&stdout, 6000));
        if !stderr.trim().is_empty() {
            eprintln!("--- {name} {endpoint} stderr ---\n{}", tail(&stderr, 6000));
        }
        assert!(ok, "{name} {endpoint} failed:\n{}", tail(&stderr, 4000));
        let summary = stdout
            .lines()
            .rfind(|l| l.starts_with(summary_prefix))
            .unwrap_or_else(|| panic!("no {summary_prefix:?} line in:\n{}", tail(&stdout, 4000)));
        eprintln!("{summary} [{endpoint}]");
    }
    drop(server);
    eprintln!("{name}: test took {:?}", started.elapsed());
}

#[test]
fn boto3_smoke_script() {
    let available = runs("python3", &["-c", "import boto3"]);
    if !require_client(
        available,
        "python3 with boto3 is not available (python3 -m pip install boto3)",
    ) {
        return;
    }
    let command = |ca: Option<&Path>| {
        let mut command = Command::new("python3");
        command.arg(script("boto3_smoke.py"));
        if let Some(ca) = ca {
            command.env("AWS_CA_BUNDLE", ca);
        }
        command
    };
    run_client("boto3_smoke.py", command, "boto3 smoke: OK");
}

/// Where `.ci/run` installs the JS SDK (override with `KINESD_JS_CLIENT_DIR`).
fn js_client_dir() -> PathBuf {
    match std::env::var_os("KINESD_JS_CLIENT_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target/js-client"),
    }
}

#[test]
fn js_sdk_v3_smoke_script() {
    if !require_client(runs("node", &["--version"]), "node is not installed") {
        return;
    }
    let dir = js_client_dir();
    for package in ["@aws-sdk/client-kinesis", "@smithy/node-http-handler"] {
        let manifest = dir.join("node_modules").join(package).join("package.json");
        let missing = format!(
            "{package} is not installed in {} (npm install --prefix target/js-client \
             @aws-sdk/client-kinesis @smithy/node-http-handler)",
            dir.display()
        );
        if !require_client(manifest.is_file(), &missing) {
            return;
        }
    }
    let command = |ca: Option<&Path>| {
        let mut command = Command::new("node");
        command
            .arg(script("js_smoke.mjs"))
            .env("KINESD_JS_CLIENT_DIR", &dir);
        if let Some(ca) = ca {
            command.env("NODE_EXTRA_CA_CERTS", ca);
        }
        command
    };
    run_client("js_smoke.mjs", command, "js smoke: OK");
}
