//! The consumer tests' harness: worker processes, what they wrote, records put, bounded waits.

use super::common;
use super::common::process::{stop, tail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const STREAM: &str = "orders";
pub const BATCH: usize = 20;

/// How a second worker comes to hold leases.
#[derive(Clone, Copy, PartialEq)]
pub enum Handover {
    /// It takes some while the first keeps running.
    Joins,
    /// It takes the shards of a first worker that died (the library never rebalances).
    AfterKill,
}

pub struct Consumer {
    pub name: &'static str,
    /// Builds the worker's command line: (endpoint, application, worker id, output file).
    pub command: fn(&str, &str, &str, &Path) -> Command,
    pub handover: Handover,
    /// Upper bound of each phase (a start, a restart, a hand-over).
    pub phase: Duration,
    /// kinesd options beyond the in-memory store and the stream.
    pub server_args: &'static [&'static str],
    /// Whether the library publishes CloudWatch metrics (through kinesd, then on `/metrics`).
    pub publishes_metrics: bool,
}

/// One consumer process; its stdout and stderr go to `<dir>/<worker>-<n>.log`.
pub struct Worker {
    pub child: Option<Child>,
    pub log: PathBuf,
}

impl Worker {
    pub fn start(consumer: &Consumer, endpoint: &str, dir: &Path, worker: &str, n: u32) -> Worker {
        let log = dir.join(format!("{worker}-{n}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let mut command = (consumer.command)(endpoint, "kclapp", worker, &dir.join("out.jsonl"));
        let child = command
            .env("AWS_ACCESS_KEY_ID", "x")
            .env("AWS_SECRET_ACCESS_KEY", "x")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", consumer.name));
        Worker {
            child: Some(child),
            log,
        }
    }

    /// SIGTERM and a clean exit within 60 s.
    pub fn stop(mut self) {
        let mut child = self.child.take().unwrap();
        let clean = stop(&mut child, "-TERM", Duration::from_secs(60));
        assert!(clean, "worker did not stop cleanly:\n{}", self.log_tail());
    }

    pub fn kill9(mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        format!("--- {} ---\n{}", self.log.display(), tail(&text, 3000))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What the workers wrote to `out.jsonl`.
#[derive(Default)]
pub struct Output {
    /// data → the workers that read it, in order.
    pub reads: BTreeMap<String, Vec<String>>,
    /// (worker, shard) of every lease event.
    pub leases: Vec<(String, String)>,
}

pub fn output(dir: &Path) -> Output {
    let text = std::fs::read_to_string(dir.join("out.jsonl")).unwrap_or_default();
    let mut out = Output::default();
    // The last line may be half written.
    for entry in text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
    {
        let worker = entry["worker"].as_str().unwrap_or_default().to_string();
        if let Some(data) = entry["data"].as_str() {
            out.reads.entry(data.to_string()).or_default().push(worker);
        } else if entry["event"] == "lease" {
            let shard = entry["shard"].as_str().unwrap_or_default().to_string();
            out.leases.push((worker, shard));
        }
    }
    out
}

pub fn batch(name: &str) -> Vec<String> {
    (0..BATCH).map(|i| format!("{name}-{i}")).collect()
}

pub fn put(endpoint: &str, name: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = common::client(endpoint);
        for (i, data) in batch(name).into_iter().enumerate() {
            client
                .put_record()
                .stream_name(STREAM)
                // Spread over both shards.
                .partition_key(format!("{name}-key-{i}"))
                .data(aws_sdk_kinesis::primitives::Blob::new(data))
                .send()
                .await
                .expect("put a record");
        }
    });
}

/// kinesd's `/metrics` text.
pub fn scrape(endpoint: &str) -> String {
    let addr = endpoint.trim_start_matches("http://").parse().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(common::raw::scrape(addr))
}

/// Polls `done` every 250 ms until it holds or `within` passes; panics with `context()`.
pub fn wait_for(
    within: Duration,
    what: &str,
    mut done: impl FnMut() -> bool,
    context: impl Fn() -> String,
) {
    let deadline = Instant::now() + within;
    while !done() {
        if Instant::now() >= deadline {
            panic!("{what}: not within {within:?}\n{}", context());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

pub fn all_read(dir: &Path, names: &[&str]) -> bool {
    let out = output(dir);
    names
        .iter()
        .flat_map(|n| batch(n))
        .all(|data| out.reads.contains_key(&data))
}

/// Every record of `names` read exactly once, and nothing else read.
pub fn assert_exactly_once(dir: &Path, names: &[&str], context: impl Fn() -> String) {
    let out = output(dir);
    let expected: Vec<String> = names.iter().flat_map(|n| batch(n)).collect();
    let twice: Vec<_> = out.reads.iter().filter(|(_, w)| w.len() > 1).collect();
    assert!(
        twice.is_empty(),
        "read more than once: {twice:?}\n{}",
        context()
    );
    let missing: Vec<_> = expected
        .iter()
        .filter(|d| !out.reads.contains_key(*d))
        .collect();
    assert!(missing.is_empty(), "never read: {missing:?}\n{}", context());
    let unknown: Vec<_> = out.reads.keys().filter(|d| !expected.contains(d)).collect();
    assert!(unknown.is_empty(), "read but never put: {unknown:?}");
}
