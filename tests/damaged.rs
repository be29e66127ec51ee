//! A damaged data directory never starts as if nothing happened: each kind of damage either
//! refuses the start with "data directory corrupt: <file>: <what>" and a non-zero exit (no
//! panic), or — where nothing acknowledged was touched — starts with every record. A torn last
//! journal write is repaired and logged; `--accept-data-loss` starts anyway and says so.

mod common;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::Client;
use common::process::{run_bounded, Kinesd};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const RECORDS: usize = 30;

fn spawn(dir: &Path, extra: &[&str]) -> Kinesd {
    let mut args = vec!["--no-tls", "--data-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    Kinesd::spawn(&args, None)
}

/// Writes [`RECORDS`] acknowledged records, one PutRecord each (one journal entry each).
async fn write(server: &Kinesd) -> Vec<String> {
    let client = common::client(&server.endpoint);
    common::create_stream(&client, "s", 1).await;
    let mut written = Vec::new();
    for i in 0..RECORDS {
        written.push(put(&client, format!("record-{i:04}-{}", "y".repeat(i * 40))).await);
    }
    written
}

/// One acknowledged PutRecord to stream "s"; returns its data.
async fn put(client: &Client, data: String) -> String {
    client
        .put_record()
        .stream_name("s")
        .partition_key("k")
        .data(Blob::new(data.clone()))
        .send()
        .await
        .unwrap();
    data
}

async fn read_all(client: &Client) -> Vec<String> {
    common::read_shard_data(client, "s", "shardId-000000000000", 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|d| String::from_utf8_lossy(&d).into_owned())
        .collect()
}

/// A data directory holding acknowledged records: stopped cleanly (everything in sled, the
/// journal empty), or killed at once (the records still in the journal).
async fn prepared(clean: bool) -> (tempfile::TempDir, Vec<String>) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let server = spawn(&dir, &[]);
    let written = write(&server).await;
    if clean {
        drop(server);
    } else {
        server.kill9();
    }
    (tmp, written)
}

/// Starting on `dir` must fail with `expected` in the message, no panic.
fn refused(dir: &Path, expected: &str) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kinesd"));
    command.args([
        "--port",
        "0",
        "--no-tls",
        "--data-dir",
        dir.to_str().unwrap(),
    ]);
    let (ok, stdout, stderr) = run_bounded(command, Duration::from_secs(20));
    assert!(!ok, "started on a damaged directory:\n{stdout}\n{stderr}");
    assert!(
        !stdout.contains("listening"),
        "it served:\n{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("data directory corrupt: ") && stderr.contains(expected),
        "expected \"data directory corrupt: …{expected}…\", got:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Starting on `dir` either refuses (as [`refused`], naming `file`) or serves every record.
async fn refused_or_whole(dir: &Path, file: &str, written: &[String]) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kinesd"));
    command.args([
        "--port",
        "0",
        "--no-tls",
        "--data-dir",
        dir.to_str().unwrap(),
    ]);
    let (_, stdout, stderr) = run_bounded(command, Duration::from_secs(5));
    if stdout.contains("listening") {
        let server = spawn(dir, &[]);
        let seen = read_all(&common::client(&server.endpoint)).await;
        assert!(
            seen == written,
            "started with {} of {} records",
            seen.len(),
            written.len()
        );
    } else {
        assert!(
            stderr.contains("data directory corrupt: ") && stderr.contains(file),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

fn journal_epoch_and_tail(journal: &[u8]) -> (u64, usize) {
    let epoch = u64::from_be_bytes(journal[4..12].try_into().unwrap());
    let mut pos = 4096;
    while pos + 16 <= journal.len() {
        let len = u32::from_be_bytes(journal[pos..pos + 4].try_into().unwrap()) as usize;
        let e = u64::from_be_bytes(journal[pos + 4..pos + 12].try_into().unwrap());
        if e != epoch || len == 0 {
            break;
        }
        pos += 16 + len;
    }
    (epoch, pos)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_or_cut_db_refuses_the_start() {
    let (tmp, _) = prepared(true).await;
    let dir = tmp.path().join("data");
    let db = dir.join("db");
    let whole = std::fs::read(&db).unwrap();
    std::fs::write(&db, &whole[..whole.len() * 9 / 10]).unwrap();
    refused(&dir, "db");
    std::fs::remove_file(&db).unwrap();
    refused(&dir, "db: ");
    // With --accept-data-loss it starts, and says what it could not keep.
    let mut command = Command::new(env!("CARGO_BIN_EXE_kinesd"));
    command.args([
        "--port",
        "0",
        "--no-tls",
        "--accept-data-loss",
        "--data-dir",
    ]);
    command.arg(&dir);
    let (_, stdout, stderr) = run_bounded(command, Duration::from_secs(5));
    assert!(stdout.contains("listening"), "{stdout}\n{stderr}");
    assert!(stderr.contains("starting anyway"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_byte_in_the_db_never_loses_records_silently() {
    let (tmp, written) = prepared(true).await;
    let dir = tmp.path().join("data");
    let db = dir.join("db");
    let mut bytes = std::fs::read(&db).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x5a;
    std::fs::write(&db, &bytes).unwrap();
    refused_or_whole(&dir, "db", &written).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_journal_refuses_the_start_and_a_torn_tail_is_repaired() {
    let (tmp, written) = prepared(false).await;
    let dir = tmp.path().join("data");
    let path = dir.join("kinesd-journal");
    let good = std::fs::read(&path).unwrap();
    let (epoch, tail) = journal_epoch_and_tail(&good);
    assert!(tail > 4096 + 1000, "the kill left entries in the journal");

    // A flipped byte in the first entry, valid entries after it.
    let mut flipped = good.clone();
    flipped[4096 + 30] ^= 0x01;
    std::fs::write(&path, &flipped).unwrap();
    refused(&dir, "kinesd-journal: the entry at byte 4096 is damaged");

    // Cut short.
    std::fs::write(&path, &good[..tail - 10]).unwrap();
    refused(&dir, "kinesd-journal: ");

    // A torn last write after the valid entries: repaired, logged, nothing lost.
    let mut torn = good.clone();
    torn[tail..tail + 4].copy_from_slice(&500u32.to_be_bytes());
    torn[tail + 4..tail + 12].copy_from_slice(&epoch.to_be_bytes());
    torn[tail + 12..tail + 16].copy_from_slice(&[1, 2, 3, 4]);
    torn[tail + 16..tail + 100].fill(0x77);
    std::fs::write(&path, &torn).unwrap();
    let log = tmp.path().join("log");
    let server = Kinesd::spawn(
        &["--no-tls", "--data-dir", dir.to_str().unwrap()],
        Some(&log),
    );
    let seen = read_all(&common::client(&server.endpoint)).await;
    assert_eq!(seen, written);
    drop(server);
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("discarded a torn last entry"), "{log}");
}

/// The blob files of sled's directory, newest (highest log position) first.
fn blob_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("blobs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort_by_key(|p| {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        std::cmp::Reverse(name.parse::<u64>().unwrap_or(0))
    });
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_blob_files_are_put_back_and_logged() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let server = spawn(&dir, &[]);
    let client = common::client(&server.endpoint);
    common::create_stream(&client, "s", 1).await;
    // Records over 8 KiB are blocks of their own, and a leaf of sixteen of them is over the
    // ~128 KiB sled keeps inline: it goes to a file under blobs/.
    let mut written = Vec::new();
    for i in 0..64u8 {
        written.push(put(&client, format!("{i:02}{}", "b".repeat(40 * 1024))).await);
    }
    drop(server);
    // A clean stop and start, with nothing deleted, puts nothing back and says nothing.
    let log = tmp.path().join("log-untouched");
    let server = Kinesd::spawn(
        &["--no-tls", "--data-dir", dir.to_str().unwrap()],
        Some(&log),
    );
    assert_eq!(read_all(&common::client(&server.endpoint)).await, written);
    drop(server);
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(!log.contains("put back"), "{log}");
    for deleted in ["the newest", "every"] {
        let blobs = blob_files(&dir);
        assert!(!blobs.is_empty(), "no blob file to delete");
        let doomed = if deleted == "every" {
            &blobs[..]
        } else {
            &blobs[..1]
        };
        for blob in doomed {
            std::fs::remove_file(blob).unwrap();
        }
        let log = tmp
            .path()
            .join(format!("log-{}", deleted.replace(' ', "-")));
        let server = Kinesd::spawn(
            &["--no-tls", "--data-dir", dir.to_str().unwrap()],
            Some(&log),
        );
        let seen = read_all(&common::client(&server.endpoint)).await;
        assert_eq!(seen, written, "{deleted} blob file deleted");
        drop(server);
        let log = std::fs::read_to_string(&log).unwrap();
        let put_back = log.matches("put back from kinesd-blobs/").count();
        assert_eq!(put_back, doomed.len(), "{deleted}: {log}");
    }
}
