//! Group commit: a record is acknowledged only once the store has made it durable, and every
//! writer waiting at the same moment shares one append per shard and one trip to the disk.
//!
//! Writers hand their records to the queue (under their shard's writer lock, so the queue holds
//! each shard's records in position order) and then wait for a ticket. The flusher thread takes
//! the whole queue and the ticket counter in one step, hands each shard's records to the store
//! in one `append_durably` call (the store's journal: one write + `fdatasync` for small
//! commits), flushes the whole store too if any ticket of the cycle asked for it (metadata is
//! written to the store directly, outside the journal), publishes the new durable positions to
//! readers and only then reports the ticket as done. So:
//! - when the flushed counter reaches a ticket, everything queued before the ticket was taken
//!   is durable, and so is everything written to the store directly if the ticket came from
//!   [`GroupCommit::durable`];
//! - a reader never sees a position before the write that made it durable.
//!
//! Batching comes for free: while one flush is running, every new put queues behind it, and the
//! next cycle writes them all at once. The store's cost is per call (tree walk, node copy,
//! log reservation), not per byte, so this is what keeps it off the profile.

use super::Shard;
use shard_store::{ShardKey, Store, StoredRecord};
use std::sync::{Arc, Condvar, Mutex};
use tokio::sync::watch;

/// One shard's run of records, in position order. The records are owned copies (the store's
/// owned record type) because the request that carried them may be gone before the flusher runs.
struct Batch {
    shard: Arc<Shard>,
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
    queue: Mutex<Queue>,
    wake: Condvar,
}

pub struct GroupCommit {
    shared: Arc<Shared>,
    flushed: watch::Receiver<Result<u64, String>>,
    /// Joined on drop, so the store is closed (and its lock released) when the registry goes.
    flusher: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        self.shared.queue.lock().unwrap().stop = true;
        self.shared.wake.notify_one();
        if let Some(handle) = self.flusher.lock().unwrap().take() {
            let _ = handle.join();
        }
    }
}

impl GroupCommit {
    /// Starts the flusher thread.
    pub fn start(store: Store) -> Arc<GroupCommit> {
        let (tx, rx) = watch::channel(Ok(0u64));
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
        });
        let for_thread = shared.clone();
        let handle = std::thread::Builder::new()
            .name("kinesd-flush".into())
            .spawn(move || flusher(&store, &for_thread, &tx))
            .expect("spawn flusher thread");
        Arc::new(GroupCommit {
            shared,
            flushed: rx,
            flusher: Mutex::new(Some(handle)),
        })
    }

    /// Queues records for `shard`. The caller holds the shard's writer lock, which keeps each
    /// shard's records in position order across concurrent writers.
    pub fn enqueue(&self, shard: &Arc<Shard>, records: Vec<StoredRecord>) {
        let mut q = self.shared.queue.lock().unwrap();
        q.batches.push(Batch {
            shard: shard.clone(),
            records,
        });
    }

    /// Waits until everything queued or written to the store before this call is durable.
    pub async fn durable(&self) -> Result<(), String> {
        self.wait(true).await
    }

    /// Waits until everything queued before this call is durable: what puts wait for.
    pub async fn records_durable(&self) -> Result<(), String> {
        self.wait(false).await
    }

    async fn wait(&self, whole_store: bool) -> Result<(), String> {
        let (ticket, asleep) = {
            let mut q = self.shared.queue.lock().unwrap();
            q.tickets += 1;
            q.wanted = true;
            q.wanted_store |= whole_store;
            (q.tickets, q.flusher_asleep)
        };
        if asleep {
            self.shared.wake.notify_one();
        }
        let mut rx = self.flushed.clone();
        loop {
            match &*rx.borrow_and_update() {
                Ok(done) if *done >= ticket => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e.clone()),
            }
            if rx.changed().await.is_err() {
                return Err("flusher stopped".into());
            }
        }
    }
}

/// How long the flusher must be idle before it hands freed memory back to the OS.
const IDLE_TRIM_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// After a burst of writes, the allocator keeps the freed request and block buffers, so RSS
/// stays at the burst's peak although the data lives on disk. The server binary allocates with
/// mimalloc; glibc's malloc serves everything else (tests, C code).
fn release_freed_memory() {
    // SAFETY: mi_collect only frees and purges pages mimalloc no longer uses (on this thread's
    // heap and abandoned ones); when mimalloc is not the global allocator it has nothing to
    // collect.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the kernel; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn flusher(store: &Store, shared: &Shared, tx: &watch::Sender<Result<u64, String>>) {
    let mut written_since_trim = false;
    loop {
        let (batches, target, whole_store, stopping) = {
            let mut q = shared.queue.lock().unwrap();
            while !q.wanted && !q.stop {
                q.flusher_asleep = true;
                let (guard, idle) = shared.wake.wait_timeout(q, IDLE_TRIM_AFTER).unwrap();
                q = guard;
                q.flusher_asleep = false;
                if idle.timed_out() && std::mem::take(&mut written_since_trim) {
                    // Idle: the journaled records go to the store's own files, so a restart
                    // has nothing to replay, and the memory they used goes back to the OS.
                    if let Err(e) = store.settle() {
                        tracing::warn!(error = %e, "moving journaled records into the store failed");
                    }
                    release_freed_memory();
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
        // On shutdown, records of a put whose request was dropped before it waited are still
        // written: they may have been seen by nobody, but losing them is never right.
        written_since_trim |= !batches.is_empty();
        let outcome = match write_durably(store, batches, whole_store) {
            Ok(positions) => {
                for (shard, last) in positions {
                    shard.publish(last);
                }
                Ok(target)
            }
            Err(e) => Err(e.to_string()),
        };
        if tx.send(outcome).is_err() || stopping {
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
) -> shard_store::Result<Vec<(Arc<Shard>, u64)>> {
    // Stable: each shard's batches keep their queue (= position) order.
    batches.sort_by_key(|b| b.shard.key);
    let mut groups: Vec<(ShardKey, Vec<StoredRecord>)> = Vec::new();
    let mut positions: Vec<(Arc<Shard>, u64)> = Vec::new();
    for b in batches {
        let Some(last) = b.records.last().map(|r| r.subseq) else {
            continue;
        };
        match (groups.last_mut(), positions.last_mut()) {
            (Some((key, group)), Some((_, position))) if *key == b.shard.key => {
                group.extend(b.records);
                *position = last;
            }
            _ => {
                groups.push((b.shard.key, b.records));
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
