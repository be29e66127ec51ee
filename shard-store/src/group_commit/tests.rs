//! Unit tests of `group_commit.rs`: tickets and their outcomes, who runs a cycle (a lone
//! leader, the flusher), failed cycles, relaxed appends and their flush, and shutdown.
use super::*;
use crate::shard_state::ShardState;
use std::sync::atomic::{AtomicU64, Ordering};

const KEY: ShardKey = ShardKey {
    stream: 3,
    shard: 0,
};

fn record(position: u64, partition_key: &str) -> StoredRecord {
    StoredRecord {
        position,
        arrival_ms: 7,
        partition_key: partition_key.to_string(),
        data: b"data".to_vec(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn stored(store: &Store) -> Vec<u64> {
    let records = store.read(KEY, 0, usize::MAX, usize::MAX).unwrap();
    records.iter().map(|r| r.position).collect()
}

#[test]
fn a_ticket_is_done_once_its_records_are_stored_and_visible() {
    let store = Store::open_temporary().unwrap();
    let commit = GroupCommit::start(store.clone(), None).unwrap();
    let shard = Arc::new(ShardState::new(KEY, 0, 1));
    commit.enqueue(&shard, vec![record(1, "a"), record(2, "b")]);
    let ticket = commit.ticket(false);
    // Not visible before the flusher has written them.
    runtime().block_on(ticket.wait()).unwrap();
    assert_eq!(shard.visible(), 2);
    assert_eq!(stored(&store), vec![1, 2]);
}

#[test]
fn concurrent_writers_share_cycles_and_all_get_done() {
    let store = Store::open_temporary().unwrap();
    let commit = GroupCommit::start(store.clone(), None).unwrap();
    let shard = Arc::new(ShardState::new(KEY, 0, 1));
    // Positions are assigned and queued under one lock, as the shard writer does.
    let writer = Arc::new(std::sync::Mutex::new(()));
    let next = Arc::new(AtomicU64::new(1));
    runtime().block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (commit, shard, writer, next) =
                (commit.clone(), shard.clone(), writer.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                let ticket = {
                    let _w = writer.lock().unwrap();
                    let position = next.fetch_add(1, Ordering::SeqCst);
                    commit.enqueue(&shard, vec![record(position, "k")]);
                    commit.ticket(false)
                };
                ticket.wait().await
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
    });
    assert_eq!(shard.visible(), 50);
    assert_eq!(stored(&store), (1..=50).collect::<Vec<u64>>());
}

#[test]
fn a_failed_cycle_fails_its_tickets_with_the_store_error_and_the_next_succeeds() {
    let store = Store::open_temporary().unwrap();
    let commit = GroupCommit::start(store.clone(), None).unwrap();
    let shard = Arc::new(ShardState::new(KEY, 0, 1));
    let rt = runtime();
    // The stored format cannot hold a partition key over 65535 bytes: the append fails.
    let too_long = "k".repeat(70_000);
    commit.enqueue(&shard, vec![record(1, &too_long)]);
    let failed = rt.block_on(commit.ticket(false).wait());
    assert!(
        matches!(failed, Err(StoreError::Corrupt(_))),
        "the store's own error, typed: {failed:?}"
    );
    assert_eq!(
        shard.visible(),
        0,
        "nothing of a failed cycle becomes visible"
    );
    commit.enqueue(&shard, vec![record(2, "fine")]);
    rt.block_on(commit.ticket(false).wait()).unwrap();
    assert_eq!(shard.visible(), 2);
    assert_eq!(stored(&store), vec![2]);
}

/// A store on a directory (so with a journal), its group commit and one shard.
fn journaled() -> (tempfile::TempDir, Store, Arc<GroupCommit>, Arc<ShardState>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let commit = GroupCommit::start(store.clone(), None).unwrap();
    (dir, store, commit, Arc::new(ShardState::new(KEY, 0, 1)))
}

fn flusher_cycles(commit: &GroupCommit) -> u64 {
    commit.core.flusher_cycles.load(Ordering::SeqCst)
}

#[test]
fn a_lone_writer_runs_its_own_cycle_through_the_journal() {
    let (_dir, store, commit, shard) = journaled();
    let rt = runtime();
    for position in 1..=3 {
        commit.enqueue(&shard, vec![record(position, "a")]);
        rt.block_on(commit.ticket(false).wait()).unwrap();
        assert_eq!(shard.visible(), position);
    }
    assert_eq!(
        flusher_cycles(&commit),
        0,
        "no hand-off to the flusher thread"
    );
    assert_eq!(stored(&store), vec![1, 2, 3]);
}

#[test]
fn a_writer_on_the_runtime_s_only_worker_leaves_its_cycle_to_the_flusher() {
    let (_dir, store, commit, shard) = journaled();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for position in 1..=2 {
        commit.enqueue(&shard, vec![record(position, "a")]);
        rt.block_on(commit.ticket(false).wait()).unwrap();
        assert_eq!(shard.visible(), position);
    }
    assert_eq!(
        flusher_cycles(&commit),
        2,
        "the thread never blocked in a sync"
    );
    assert_eq!(stored(&store), vec![1, 2]);
}

#[test]
fn a_commit_the_journal_declines_is_finished_by_the_flusher() {
    let (_dir, store, commit, shard) = journaled();
    // Larger than a journal entry may be: it needs an engine flush.
    let mut big = record(1, "big");
    big.data = vec![9; crate::journal::JOURNAL_ENTRY_MAX + 1];
    commit.enqueue(&shard, vec![big]);
    runtime().block_on(commit.ticket(false).wait()).unwrap();
    assert_eq!(shard.visible(), 1);
    assert_eq!(flusher_cycles(&commit), 1);
    assert_eq!(stored(&store), vec![1]);
}

#[test]
fn writers_found_waiting_together_leave_the_cycles_to_the_flusher() {
    let (_dir, store, commit, shard) = journaled();
    commit.enqueue(&shard, vec![record(1, "a")]);
    let first = commit.ticket(false);
    commit.enqueue(&shard, vec![record(2, "b")]);
    let second = commit.ticket(false);
    let rt = runtime();
    rt.block_on(async { tokio::try_join!(first.wait(), second.wait()) })
        .unwrap();
    assert_eq!(shard.visible(), 2);
    assert_eq!(flusher_cycles(&commit), 1);
    // A writer right after is served too, whichever side runs its cycle.
    commit.enqueue(&shard, vec![record(3, "c")]);
    rt.block_on(commit.ticket(false).wait()).unwrap();
    assert_eq!(stored(&store), vec![1, 2, 3]);
}

#[test]
fn relaxed_appends_are_readable_at_once_and_flushed_within_half_a_second() {
    let (_dir, store, commit, _shard) = journaled();
    let in_engine = |store: &Store| {
        let (records, _) = store.read_engine(KEY, 0, usize::MAX, usize::MAX).unwrap();
        records.len()
    };
    let relaxed = |position: u64| {
        store
            .append_relaxed(vec![(KEY, vec![record(position, "a")])])
            .unwrap()
    };
    let first = relaxed(1);
    assert_eq!(
        first,
        RelaxedAppend {
            drain_due: false,
            first_since_flush: true
        }
    );
    let second = relaxed(2);
    assert!(!second.first_since_flush, "one flush is due for both");
    assert_eq!(stored(&store), vec![1, 2], "readable from memory");
    assert_eq!(in_engine(&store), 0);

    let start = Instant::now();
    commit.relaxed_appended(first);
    commit.relaxed_appended(second);
    while in_engine(&store) < 2 {
        assert!(start.elapsed() < Duration::from_secs(5), "never flushed");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(start.elapsed() >= RELAXED_FLUSH_AFTER / 2, "flushed early");
    assert_eq!(stored(&store), vec![1, 2]);

    // The flush ended the period: the next append starts another, and a flush of the
    // store covers it at once.
    assert!(relaxed(3).first_since_flush);
    store.flush().unwrap();
    assert_eq!(in_engine(&store), 3);
}

#[test]
fn a_writer_past_the_memory_bound_moves_relaxed_appends_into_the_engine_itself() {
    // No group commit here: nobody else drains.
    let store = Store::open_temporary().unwrap();
    let record_bytes = 512 << 10;
    for position in 1..=40 {
        let mut r = record(position, "a");
        r.data = vec![7; record_bytes];
        store.append_relaxed(vec![(KEY, vec![r])]).unwrap();
        let held = store.inner.pending.push(Vec::new());
        assert!(held < crate::records::RELAXED_HELD_MAX, "{held} bytes held");
    }
    let (in_engine, _) = store.read_engine(KEY, 0, usize::MAX, usize::MAX).unwrap();
    assert!(in_engine.len() >= 40 - crate::records::RELAXED_HELD_MAX / record_bytes);
    assert_eq!(stored(&store), (1..=40).collect::<Vec<_>>());
}

#[test]
fn a_whole_store_ticket_also_covers_direct_writes() {
    let store = Store::open_temporary().unwrap();
    let commit = GroupCommit::start(store.clone(), None).unwrap();
    store.put_setting("direct", b"v").unwrap();
    runtime().block_on(commit.durable()).unwrap();
    assert_eq!(
        store.get_setting("direct").unwrap().as_deref(),
        Some(&b"v"[..])
    );
}

#[test]
fn dropping_the_commit_writes_what_was_queued_then_stops_the_flusher() {
    let store = Store::open_temporary().unwrap();
    let commit = GroupCommit::start(store.clone(), None).unwrap();
    let shard = Arc::new(ShardState::new(KEY, 0, 1));
    commit.enqueue(&shard, vec![record(1, "a")]);
    // A ticket nobody waits for: its writer went away.
    drop(commit.ticket(false));
    drop(commit);
    assert_eq!(stored(&store), vec![1]);
}
