//! A full disk (`--data-dir` on a small tmpfs): writes fail fast with a retryable error while
//! it is full, reads and control calls keep working, writes succeed again once space returns
//! (no restart), SIGTERM still stops the server in bounded time, and every acknowledged record
//! is there after a restart.
//!
//! Mounting a tmpfs needs root (or CAP_SYS_ADMIN); where `mount` fails the test says so and
//! skips.

mod common;

use aws_sdk_kinesis::error::ProvideErrorMetadata;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use aws_sdk_kinesis::Client;
use common::process::Kinesd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Every call in this test must be answered within this long, full disk or not.
const ANSWER_WITHIN: Duration = Duration::from_secs(20);

/// A tmpfs of `size` mounted on a fresh directory, unmounted when dropped.
struct Tmpfs {
    dir: PathBuf,
    _parent: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Tmpfs, String> {
        let parent = tempfile::tempdir().map_err(|e| e.to_string())?;
        let dir = parent.path().join("mnt");
        std::fs::create_dir(&dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed (needs root or CAP_SYS_ADMIN): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs {
            dir,
            _parent: parent,
        })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

fn spawn(data: &Path) -> Kinesd {
    Kinesd::spawn(
        &[
            "--no-tls",
            "--min-free-disk-mb",
            "12",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        None,
    )
}

/// One call, bounded: panics if it is not answered within [`ANSWER_WITHIN`].
async fn bounded<T>(what: &str, call: impl std::future::Future<Output = T>) -> T {
    let started = Instant::now();
    let out = tokio::time::timeout(ANSWER_WITHIN, call)
        .await
        .unwrap_or_else(|_| panic!("{what} was not answered within {ANSWER_WITHIN:?}"));
    assert!(started.elapsed() < ANSWER_WITHIN);
    out
}

fn batch(tag: u32) -> Vec<PutRecordsRequestEntry> {
    (0..20)
        .map(|i| {
            PutRecordsRequestEntry::builder()
                .partition_key(format!("k{i}"))
                .data(Blob::new(format!("{tag:08}-{i:04}-{}", "x".repeat(50_000))))
                .build()
                .unwrap()
        })
        .collect()
}

/// Every record of the one shard, as their data's first 13 bytes (`tag-index`).
async fn read_all(client: &Client) -> Vec<String> {
    bounded(
        "reading the shard",
        common::read_shard_data(client, "s", "shardId-000000000000", 100),
    )
    .await
    .expect("GetShardIterator and GetRecords work on a full disk")
    .into_iter()
    .map(|d| String::from_utf8_lossy(&d[..d.len().min(13)]).into_owned())
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_writes_fast_and_recovers_without_a_restart() {
    let tmpfs = match Tmpfs::mount("48m") {
        Ok(t) => t,
        Err(reason) => {
            eprintln!("skipping: {reason}");
            return;
        }
    };
    // Ballast to delete later: the space that "returns".
    let ballast = tmpfs.dir.join("ballast");
    std::fs::write(&ballast, vec![0u8; 12 << 20]).unwrap();
    let data = tmpfs.dir.join("data");
    let server = spawn(&data);
    let client = common::client(&server.endpoint);
    common::create_stream(&client, "s", 1).await;

    // Fill the disk: 1 MB per call until a call fails.
    let mut acknowledged = Vec::new();
    let mut failure = None;
    for tag in 0..200u32 {
        let put = bounded(
            "PutRecords on a filling disk",
            client
                .put_records()
                .stream_name("s")
                .set_records(Some(batch(tag)))
                .send(),
        )
        .await;
        match put {
            Ok(out) if out.failed_record_count() == Some(0) => {
                acknowledged.extend((0..20).map(|i| format!("{tag:08}-{i:04}")));
            }
            Ok(out) => {
                // Partial failure: the records that got sequence numbers are acknowledged.
                for (i, r) in out.records().iter().enumerate() {
                    if r.sequence_number().is_some() {
                        acknowledged.push(format!("{tag:08}-{i:04}"));
                    } else {
                        failure.get_or_insert(r.error_code().unwrap_or_default().to_string());
                    }
                }
                break;
            }
            Err(e) => {
                failure = Some(e.code().unwrap_or("no code").to_string());
                break;
            }
        }
    }
    let failure = failure.expect("the disk never filled up");
    assert!(
        ["InternalFailure", "ServiceUnavailable"].contains(&failure.as_str()),
        "a full disk answers a retryable error, not {failure}"
    );

    // While full: small writes fail fast too, reads and control calls work.
    for n in 0..3 {
        let text = format!("small-{n:07}");
        let small = bounded(
            "PutRecord on a full disk",
            client
                .put_record()
                .stream_name("s")
                .partition_key("k")
                .data(Blob::new(text.clone()))
                .send(),
        )
        .await;
        if small.is_ok() {
            acknowledged.push(text);
        }
    }
    bounded("ListStreams", client.list_streams().send())
        .await
        .expect("ListStreams works on a full disk");
    bounded(
        "DescribeStreamSummary",
        client.describe_stream_summary().stream_name("s").send(),
    )
    .await
    .expect("DescribeStreamSummary works on a full disk");
    let seen = read_all(&client).await;
    for want in &acknowledged {
        assert!(
            seen.contains(want),
            "acknowledged record {want} is not readable"
        );
    }

    // Space returns: writes succeed again, without a restart.
    std::fs::remove_file(&ballast).unwrap();
    let recovered_by = Instant::now() + Duration::from_secs(30);
    loop {
        let put = bounded(
            "PutRecords after space returned",
            client
                .put_records()
                .stream_name("s")
                .set_records(Some(batch(9_999)))
                .send(),
        )
        .await;
        if put
            .as_ref()
            .is_ok_and(|o| o.failed_record_count() == Some(0))
        {
            acknowledged.extend((0..20).map(|i| format!("{:08}-{i:04}", 9_999)));
            break;
        }
        assert!(
            Instant::now() < recovered_by,
            "writes still fail 30 s after space returned: {put:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // SIGTERM stops it in bounded time, and a restart has every acknowledged record.
    assert!(
        server.terminate(Duration::from_secs(15)),
        "kinesd did not exit cleanly within 15 s of SIGTERM"
    );
    let server = spawn(&data);
    let client = common::client(&server.endpoint);
    let seen = read_all(&client).await;
    for want in &acknowledged {
        assert!(
            seen.contains(want),
            "acknowledged record {want} is lost after a restart"
        );
    }
}
