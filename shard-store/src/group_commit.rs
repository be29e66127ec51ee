//! Group commit: a record is acknowledged only once the store has made it durable, and every
//! writer waiting at the same moment shares one append per shard and one trip to the disk.
//!
//! Writers hand their records to the queue (under their shard's writer lock, so the queue holds
//! each shard's records in position order) and then wait for a ticket. The flusher thread takes
//! the whole queue and the ticket counter in one step, hands each shard's records to the store
//! in one `append_durably` call (the journal: one write + `fdatasync` for small commits),
//! flushes the whole store too if any ticket of the cycle asked for it (catalogue writes go to
//! the engine directly, outside the journal), publishes the new durable positions to readers
//! and only then reports the ticket as done. So:
//! - when the flushed counter reaches a ticket, everything queued before the ticket was taken
//!   is durable, and so is everything written to the store directly if the ticket came from
//!   [`GroupCommit::durable`];
//! - a reader never sees a position before the write that made it durable;
//! - a failed cycle fails every ticket it covered, with the store's error.
//!
//! Batching comes for free: while one flush is running, every new put queues behind it, and the
//! next cycle writes them all at once. The store's cost is per call (tree walk, node copy,
//! log reservation), not per byte, so this is what keeps it off the profile.

use crate::shard_state::ShardState;
use crate::{Result, ShardKey, Store, StoreError, StoredRecord};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use tokio::sync::watch;

/// One shard's run of records, in position order. The records are owned because the request
/// that carried them may be gone before the flusher runs.
struct Batch {
    shard: Arc<ShardState>,
    records: Vec<StoredRecord>,
}

#[derive(Default)]
struct Queue {
    batches: Vec<Batch>,
    /// Tickets handed out so far.
    tickets: u64,
    /// Someone waits for a flush.
    wanted: bool,
    /// Someone waits for a flush of the whole store, not only of the queued records.
    wanted_store: bool,
    /// The flusher sleeps on the condvar. Waking it is a syscall; a flusher that is busy
    /// writing will find the new work when it looks at the queue again.
    flusher_asleep: bool,
    stop: bool,
}

struct Shared {
    /// Everything the writers and the flusher exchange; held only to push or take, never
    /// across a store call.
    queue: Mutex<Queue>,
    wake: Condvar,
}

impl Shared {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        // The queue is only pushed to and taken from whole: a panic cannot leave it half
        // changed, so poison is ignored.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What the flusher publishes after each cycle: the highest ticket its cycles have covered, and
/// the recent cycles that failed, each as the tickets it covered and its error. A waiter learns
/// its own cycle's outcome even when later cycles ran before it looked, and a failure never
/// reaches a ticket taken after the failed cycle (it waits for the next one).
#[derive(Clone, Default)]
struct Flushed {
    through: u64,
    /// Oldest first; at most [`FAILURES_KEPT`].
    failures: Vec<Failure>,
}

#[derive(Clone)]
struct Failure {
    /// Tickets in `(after, through]` were covered by the failed cycle.
    after: u64,
    through: u64,
    error: StoreError,
}

/// Failed cycles remembered for waiters that look late; a waiter older than all of them has
/// long been answered, or its request has gone.
const FAILURES_KEPT: usize = 64;

impl Flushed {
    /// `None` while the ticket's cycle has not run; then its outcome.
    fn outcome(&self, ticket: u64) -> Option<Result<()>> {
        if ticket > self.through {
            return None;
        }
        let failed = self
            .failures
            .iter()
            .find(|f| f.after < ticket && ticket <= f.through);
        Some(failed.map_or(Ok(()), |f| Err(f.error.clone())))
    }
}

pub(crate) struct GroupCommit {
    shared: Arc<Shared>,
    flushed: watch::Receiver<Flushed>,
    /// Joined on drop, so the store is closed (and its lock released) when the owner goes.
    flusher: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        self.shared.queue().stop = true;
        self.shared.wake.notify_one();
        let handle = self
            .flusher
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}

impl GroupCommit {
    /// Starts the flusher thread. `on_idle` runs on it after a second without work that
    /// followed some writes (the binary hands back freed memory there).
    pub(crate) fn start(store: Store, on_idle: Option<fn()>) -> Result<Arc<GroupCommit>> {
        let (tx, rx) = watch::channel(Flushed::default());
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
        });
        let for_thread = shared.clone();
        let handle = std::thread::Builder::new()
            .name("kinesd-flush".into())
            .spawn(move || flusher(&store, &for_thread, &tx, on_idle))
            .map_err(|e| StoreError::Io(format!("starting the flusher thread: {e}")))?;
        Ok(Arc::new(GroupCommit {
            shared,
            flushed: rx,
            flusher: Mutex::new(Some(handle)),
        }))
    }

    /// Queues records for `shard`. The caller holds the shard's writer lock, which keeps each
    /// shard's records in position order across concurrent writers.
    pub(crate) fn enqueue(&self, shard: &Arc<ShardState>, records: Vec<StoredRecord>) {
        self.shared.queue().batches.push(Batch {
            shard: shard.clone(),
            records,
        });
    }

    /// Waits until everything queued or written to the store before this call is durable.
    pub(crate) async fn durable(&self) -> Result<()> {
        self.ticket(true).wait().await
    }

    /// Takes a ticket now: it is done once everything queued before this call is durable
    /// (with `whole_store`, also everything written to the store directly). Taken at once
    /// rather than when first awaited, so queued records never wait for someone else's ticket.
    pub(crate) fn ticket(&self, whole_store: bool) -> Ticket {
        let (number, asleep) = {
            let mut q = self.shared.queue();
            q.tickets += 1;
            q.wanted = true;
            q.wanted_store |= whole_store;
            (q.tickets, q.flusher_asleep)
        };
        if asleep {
            self.shared.wake.notify_one();
        }
        Ticket {
            number,
            flushed: self.flushed.clone(),
        }
    }
}

/// A place in the flusher's order; see [`GroupCommit::ticket`].
pub(crate) struct Ticket {
    number: u64,
    flushed: watch::Receiver<Flushed>,
}

impl Ticket {
    /// Resolves once the flusher's cycle covering this ticket is done, with its error if any,
    /// or after [`TICKET_DEADLINE`]: a disk that stops answering must not hold writers for
    /// ever (their records may still become durable; the caller only stops waiting).
    pub(crate) async fn wait(mut self) -> Result<()> {
        let outcome = async {
            loop {
                if let Some(outcome) = self.flushed.borrow_and_update().outcome(self.number) {
                    return outcome;
                }
                if self.flushed.changed().await.is_err() {
                    return Err(StoreError::Io("the group commit has stopped".into()));
                }
            }
        };
        tokio::time::timeout(TICKET_DEADLINE, outcome)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Io(format!(
                    "the disk did not complete a write within {} s",
                    TICKET_DEADLINE.as_secs()
                )))
            })
    }
}

/// How long a writer waits for its group commit before it is answered with an error.
const TICKET_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// How long the flusher must be idle before it settles the journal and runs `on_idle`.
const IDLE_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

fn flusher(store: &Store, shared: &Shared, tx: &watch::Sender<Flushed>, on_idle: Option<fn()>) {
    let mut written_since_idle = false;
    loop {
        let (batches, target, whole_store, stopping) = {
            let mut q = shared.queue();
            while !q.wanted && !q.stop {
                q.flusher_asleep = true;
                let (guard, idle) = shared
                    .wake
                    .wait_timeout(q, IDLE_AFTER)
                    .unwrap_or_else(|p| p.into_inner());
                q = guard;
                q.flusher_asleep = false;
                if idle.timed_out() && std::mem::take(&mut written_since_idle) {
                    // Idle: the journaled records go to the store's own files, so a restart
                    // has nothing to replay, and the owner may hand memory back to the OS.
                    match store.settle() {
                        // Logged by the disk check; the journal keeps the records meanwhile.
                        Ok(()) | Err(StoreError::DiskFull(_)) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "moving journaled records into the store failed")
                        }
                    }
                    if let Some(hook) = on_idle {
                        hook();
                    }
                }
            }
            q.wanted = false;
            let whole_store = std::mem::take(&mut q.wanted_store);
            (
                std::mem::take(&mut q.batches),
                q.tickets,
                whole_store,
                q.stop,
            )
        };
        // On shutdown, records of an append whose caller stopped waiting are still written:
        // they may have been seen by nobody, but losing them is never right.
        written_since_idle |= !batches.is_empty();
        let written = write_durably(store, batches, whole_store);
        let outcome = |flushed: &mut Flushed| {
            if let Err(error) = &written {
                if flushed.failures.len() == FAILURES_KEPT {
                    flushed.failures.remove(0);
                }
                flushed.failures.push(Failure {
                    after: flushed.through,
                    through: target,
                    error: error.clone(),
                });
            }
            flushed.through = target;
        };
        if let Ok(positions) = &written {
            for (shard, last) in positions {
                shard.publish(*last);
            }
        }
        tx.send_modify(outcome);
        if tx.is_closed() || stopping {
            return;
        }
    }
}

/// One store call for all shards (each shard's batches merged, in queue order); then, if asked,
/// a flush of the whole store. Returns each shard's new durable position, to publish.
fn write_durably(
    store: &Store,
    mut batches: Vec<Batch>,
    whole_store: bool,
) -> Result<Vec<(Arc<ShardState>, u64)>> {
    // Stable: each shard's batches keep their queue (= position) order.
    batches.sort_by_key(|b| b.shard.key());
    let mut groups: Vec<(ShardKey, Vec<StoredRecord>)> = Vec::new();
    let mut positions: Vec<(Arc<ShardState>, u64)> = Vec::new();
    for b in batches {
        let Some(last) = b.records.last().map(|r| r.position) else {
            continue;
        };
        match (groups.last_mut(), positions.last_mut()) {
            (Some((key, group)), Some((_, position))) if *key == b.shard.key() => {
                group.extend(b.records);
                *position = last;
            }
            _ => {
                groups.push((b.shard.key(), b.records));
                positions.push((b.shard, last));
            }
        }
    }
    if !groups.is_empty() {
        store.append_durably(groups)?;
    }
    if whole_store {
        store.flush()?;
    }
    Ok(positions)
}

#[cfg(test)]
mod tests {
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
}
