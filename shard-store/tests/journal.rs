//! `append_durably`: records acknowledged through the journal are readable at once, survive
//! an abort of the process (which skips every destructor, so neither the engine nor the
//! journal is tidied up), and never resurrect a deleted stream.

use shard_store::{ShardKey, Store, StoredRecord};
use std::path::Path;
use std::process::Command;

const CHILD_ENV: &str = "SHARD_STORE_JOURNAL_CHILD";
const SETTLE_CHILD_ENV: &str = "SHARD_STORE_SETTLE_CHILD";

fn key(stream: u64, shard: u32) -> ShardKey {
    ShardKey { stream, shard }
}

fn rec(position: u64, size: usize) -> StoredRecord {
    StoredRecord {
        position,
        arrival_ms: 1_000 + position as i64,
        partition_key: format!("pk-{position}"),
        data: (0..size).map(|i| (position as usize + i) as u8).collect(),
    }
}

fn all(store: &Store, shard: ShardKey) -> Vec<StoredRecord> {
    store.read(shard, 0, usize::MAX, usize::MAX).unwrap()
}

/// Reference for `Store::read`'s limits over the full list of a shard's records.
fn expected_read(
    records: &[StoredRecord],
    from: u64,
    max_records: usize,
    max_bytes: usize,
) -> Vec<u64> {
    let mut out = Vec::new();
    let mut total = 0usize;
    for r in records.iter().filter(|r| r.position >= from) {
        let size = r.partition_key.len() + r.data.len();
        if out.len() >= max_records
            || (!out.is_empty() && (total >= max_bytes || total + size > max_bytes))
        {
            break;
        }
        total += size;
        out.push(r.position);
    }
    out
}

/// What the child writes: stream 1 across two shards, with one commit large enough to
/// bypass the journal in the middle; stream 2 written and then deleted.
fn child(dir: &Path) -> ! {
    let store = Store::open(dir).unwrap();
    store.put_stream_meta(1, b"one").unwrap();
    store.put_stream_meta(2, b"two").unwrap();
    store.flush().unwrap();
    let mut next = [1u64, 1u64];
    for round in 0..300u64 {
        let size = if round == 150 { 300 << 10 } else { 40 };
        let mut groups = Vec::new();
        for shard in 0..2u32 {
            let n = 1 + (round % 3);
            let records = (0..n)
                .map(|_| {
                    let r = rec(next[shard as usize], size);
                    next[shard as usize] += 1;
                    r
                })
                .collect();
            groups.push((key(1, shard), records));
        }
        groups.push((key(2, 0), vec![rec(round + 1, 10)]));
        store.append_durably(groups).unwrap();
        if round == 200 {
            store.remove_stream_meta(2).unwrap();
            store.flush().unwrap();
            while !store.delete_stream_records(2, 100).unwrap().done {}
            store.flush().unwrap();
        }
    }
    println!("acknowledged {} {}", next[0] - 1, next[1] - 1);
    std::process::abort();
}

#[test]
fn journaled_records_survive_an_abort_and_deleted_streams_stay_deleted() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        child(Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "journaled_records_survive_an_abort_and_deleted_streams_stay_deleted",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "the child must abort: {stdout}");
    let line = stdout
        .lines()
        .find_map(|l| l.split("acknowledged ").nth(1))
        .unwrap_or_else(|| {
            panic!(
                "child output: {stdout} {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let acked: Vec<u64> = line.split(' ').map(|n| n.parse().unwrap()).collect();

    let store = Store::open(dir.path()).unwrap();
    // The records after the large commit were only in the journal and in memory.
    assert!(
        store.replayed_from_journal() > 0,
        "nothing came from the journal"
    );
    for shard in 0..2u32 {
        let got = all(&store, key(1, shard));
        let positions: Vec<u64> = got.iter().map(|r| r.position).collect();
        let want: Vec<u64> = (1..=acked[shard as usize]).collect();
        assert_eq!(positions, want, "shard {shard}");
        for r in &got {
            let size = r.data.len();
            assert_eq!(
                r,
                &rec(r.position, size),
                "shard {shard} record {}",
                r.position
            );
        }
        assert_eq!(
            store.last_position(key(1, shard)).unwrap(),
            Some(acked[shard as usize])
        );
    }
    let back: Vec<u64> = all(&store, key(2, 0)).iter().map(|r| r.position).collect();
    assert!(back.is_empty(), "deleted stream came back: {back:?}");
    assert_eq!(store.last_position(key(2, 0)).unwrap(), None);
    drop(store);
    // The open replayed and checkpointed: a second open has nothing left to replay.
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.replayed_from_journal(), 0);
    assert_eq!(all(&store, key(1, 0)).len() as u64, acked[0]);
}

#[test]
fn reads_join_memory_and_engine_within_the_limits() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.put_stream_meta(7, b"m").unwrap();
    let shard = key(7, 3);
    let mut written = Vec::new();
    let mut next = 1u64;
    // Small commits stay in memory; the large one pushes everything before it into the
    // engine; more small commits follow in memory.
    for round in 0..60 {
        let size = if round == 30 {
            300 << 10
        } else {
            (round * 37) % 200
        };
        let records: Vec<StoredRecord> = (0..3)
            .map(|_| {
                next += 1;
                rec(next, size)
            })
            .collect();
        written.extend(records.iter().cloned());
        store.append_durably(vec![(shard, records)]).unwrap();
        let read = all(&store, shard);
        assert_eq!(read, written, "round {round}: readable at once");
    }
    for from in [0, 2, 50, 92, 93, 94, 150, 182, 183] {
        for max_records in [0, 1, 2, 5, 90, 1000] {
            for max_bytes in [0, 1, 100, 1000, 300 << 10, usize::MAX] {
                let got: Vec<u64> = store
                    .read(shard, from, max_records, max_bytes)
                    .unwrap()
                    .iter()
                    .map(|r| r.position)
                    .collect();
                assert_eq!(
                    got,
                    expected_read(&written, from, max_records, max_bytes),
                    "from {from} max_records {max_records} max_bytes {max_bytes}"
                );
            }
        }
    }
    assert_eq!(store.last_position(shard).unwrap(), Some(next));
    assert_eq!(
        store.first_record_position(shard).unwrap(),
        Some((2, 1_002))
    );
    let total: u64 = written
        .iter()
        .map(|r| (r.partition_key.len() + r.data.len()) as u64)
        .sum();
    assert_eq!(
        store.shard_stats(shard).unwrap(),
        (written.len() as u64, total)
    );
    // Trimming reaches records that were still in memory.
    let cutoff = 1_000 + next as i64 - 5;
    while !store.trim_before_time(shard, cutoff, 1000).unwrap().done {}
    let left: Vec<u64> = all(&store, shard).iter().map(|r| r.position).collect();
    assert_eq!(left, ((next - 5)..=next).collect::<Vec<u64>>());
    assert_eq!(
        store
            .first_position_at_or_after_time(shard, cutoff + 2)
            .unwrap(),
        Some(next - 3)
    );
    // Deleting the stream forgets what memory still held.
    store
        .append_durably(vec![(shard, vec![rec(next + 1, 5)])])
        .unwrap();
    while !store.delete_stream_records(7, 1000).unwrap().done {}
    assert!(all(&store, shard).is_empty());
    assert_eq!(store.last_position(shard).unwrap(), None);
}

/// Settling then aborting: the records are in the engine's files, the journal is empty.
fn settle_child(dir: &Path) -> ! {
    let store = Store::open(dir).unwrap();
    store.put_stream_meta(1, b"m").unwrap();
    store.flush().unwrap();
    store
        .append_durably(vec![(key(1, 0), vec![rec(1, 10), rec(2, 10)])])
        .unwrap();
    store.settle().unwrap();
    std::process::abort();
}

#[test]
fn settled_records_need_no_replay() {
    if let Some(dir) = std::env::var_os(SETTLE_CHILD_ENV) {
        settle_child(Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "settled_records_need_no_replay",
            "--test-threads=1",
        ])
        .env(SETTLE_CHILD_ENV, dir.path())
        .output()
        .unwrap()
        .status;
    assert!(!status.success(), "the child must abort");
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.replayed_from_journal(), 0);
    let positions: Vec<u64> = all(&store, key(1, 0)).iter().map(|r| r.position).collect();
    assert_eq!(positions, vec![1, 2]);
}

#[test]
fn appends_after_a_stream_deletion_began_are_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for stream in [1, 2] {
        store.put_stream_meta(stream, b"m").unwrap();
        store
            .append_durably(vec![(key(stream, 0), vec![rec(1, 10)])])
            .unwrap();
    }
    assert!(store.delete_stream_records(1, 1000).unwrap().done);
    store
        .append_durably(vec![
            (key(1, 0), vec![rec(2, 10)]),
            (key(2, 0), vec![rec(2, 10)]),
        ])
        .unwrap();
    store.append(key(1, 1), &[rec(1, 5).as_new()]).unwrap();
    assert!(all(&store, key(1, 0)).is_empty());
    assert!(all(&store, key(1, 1)).is_empty());
    assert_eq!(store.last_position(key(1, 0)).unwrap(), None);
    assert_eq!(
        all(&store, key(2, 0)).len(),
        2,
        "other streams are untouched"
    );
    assert!(store.delete_stream_records(1, 1000).unwrap().done);
}
