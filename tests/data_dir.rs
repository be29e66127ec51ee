//! The data directory's safety (`shard-store/src/data_dir.rs`): after a run everything in it
//! is the owner's alone, and a symbolic link planted inside refuses the start instead of being
//! written through.

mod common;

use aws_sdk_kinesis::primitives::Blob;
use common::process::Kinesd;
use kinesd::{Config, ManualClock, Server};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

fn config(dir: &Path) -> Config {
    Config {
        data_dir: Some(dir.to_path_buf()),
        ..Config::default()
    }
}

/// Every entry under `dir` with its permission bits.
fn modes(dir: &Path) -> Vec<(String, u32, bool)> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let entry = entry.unwrap();
            let meta = std::fs::symlink_metadata(entry.path()).unwrap();
            if meta.is_dir() {
                pending.push(entry.path());
            }
            out.push((
                entry.path().display().to_string(),
                meta.permissions().mode() & 0o777,
                meta.is_dir(),
            ));
        }
    }
    out
}

/// The binary: its umask covers what sled creates while running (blobs for large values).
#[tokio::test]
async fn everything_in_the_data_directory_is_owner_only() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let server = Kinesd::spawn(&["--data-dir", dir.to_str().unwrap()], None);
    let client = common::client(&server.endpoint);
    common::create_stream(&client, "s", 1).await;
    client
        .put_record()
        .stream_name("s")
        .partition_key("k")
        .data(Blob::new(vec![7u8; 200_000]))
        .send()
        .await
        .unwrap();
    drop(server);
    let data_mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(data_mode, 0o700);
    let entries = modes(&dir);
    for expected in [
        "kinesd-journal",
        "db",
        "conf",
        "ca-key.pem",
        "ca.pem",
        "blobs",
    ] {
        assert!(
            entries.iter().any(|(p, _, _)| p.ends_with(expected)),
            "{expected} missing from {entries:?}"
        );
    }
    for (path, mode, is_dir) in &entries {
        let wanted = if *is_dir { 0o700 } else { 0o600 };
        assert_eq!(*mode, wanted, "{path} is {mode:o}");
    }
}

#[tokio::test]
async fn a_symbolic_link_inside_refuses_the_start() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    common::serve(config(&dir)).await.shutdown().await;
    let precious = tmp.path().join("precious");
    std::fs::write(&precious, b"keep me").unwrap();
    std::fs::remove_file(dir.join("kinesd-journal")).unwrap();
    std::os::unix::fs::symlink(&precious, dir.join("kinesd-journal")).unwrap();
    let started = Server::start(
        config(&dir),
        Arc::new(ManualClock::starting_now()),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;
    let err = started.err().expect("the start is refused").to_string();
    assert!(err.contains("is a symbolic link"), "{err}");
    assert!(err.contains("kinesd-journal"), "{err}");
    assert_eq!(std::fs::read(&precious).unwrap(), b"keep me");
}
