//! Group commit: a record is acknowledged only once the store has made it durable, and every
//! writer waiting at the same moment shares one append per shard and one trip to the disk.
//!
//! Writers hand their records to the queue (under their shard's writer lock, so the queue holds
//! each shard's records in position order) and then wait for a ticket. A *cycle* takes the whole
//! queue and the ticket counter in one step, hands each shard's records to the store in one
//! call, publishes the new durable positions to readers and only then reports its tickets as
//! done. So:
//! - when the flushed counter reaches a ticket, everything queued before the ticket was taken
//!   is durable, and so is everything written to the store directly if the ticket came from
//!   [`GroupCommit::durable`];
//! - a reader never sees a position before the write that made it durable;
//! - a failed cycle fails every ticket it covered, with the store's error;
//! - cycles never overlap (`Queue::cycle_running`), so each shard's positions are published in
//!   order and the flushed counter only grows.
//!
//! Who runs a cycle. A writer alone runs its own (the *leader*): when no cycle is running and
//! only its records are queued, it writes them through the journal, one write and one
//! `fdatasync` on its own thread, then answers. This keeps the disk's round trip the only wait
//! on the acknowledgement path: handing each commit to another thread and back cost two thread
//! wake-ups, each as long as a third of the `fdatasync` on the machines we measured. Writers
//! on a runtime's only worker thread never lead ([`other_workers_serve`]). Writers
//! found waiting together leave the cycles to the flusher thread until it has been idle for
//! [`LEAD_LINGER`]: under concurrent load a runtime thread blocked in `fdatasync` would hold up
//! the answers of the connections it serves. The flusher thread also does everything that
//! may block for longer or has nobody to lead it: a cycle the journal declined (too large, or
//! the journal is full: it needs an engine flush), flushes of the whole store
//! ([`GroupCommit::durable`]), moving records held in memory into the engine (a *drain*), the
//! flush due half a second after relaxed appends ([`GroupCommit::relaxed_appended`]),
//! settling the journal after a second of quiet, records whose writers stopped waiting, and
//! the last cycle at shutdown. A leader blocks one runtime thread for one
//! journal write; only one leads at a time, so the other runtime threads keep serving.
//!
//! Batching comes for free: while one cycle is running, every new put queues behind it, and the
//! next cycle writes them all at once. The store's cost is per call (tree walk, node copy,
//! log reservation), not per byte, so this is what keeps it off the profile.

use crate::shard_state::ShardState;
use crate::{Journaled, RelaxedAppend, Result, ShardKey, Store, StoreError, StoredRecord};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// One shard's run of records, in position order. The records are owned because the request
/// that carried them may be gone before the cycle runs.
struct Batch {
    shard: Arc<ShardState>,
    records: Vec<StoredRecord>,
}

/// A cycle's records grouped per shard, with the positions to publish once they are durable.
struct Cycle {
    groups: Vec<(ShardKey, Vec<StoredRecord>)>,
    positions: Vec<(Arc<ShardState>, u64)>,
    /// The last ticket the cycle covers.
    target: u64,
}

struct Queue {
    batches: Vec<Batch>,
    /// Tickets handed out so far.
    tickets: u64,
    /// Some ticket waits for a cycle.
    wanted: bool,
    /// Someone waits for a flush of the whole store, not only of the queued records: a cycle
    /// for the flusher.
    wanted_store: bool,
    /// A cycle (a leader's or the flusher's) or a settle is running.
    cycle_running: bool,
    /// A cycle a leader took but the journal declined; the flusher finishes it. Set only
    /// while `cycle_running`, which stays set for the flusher.
    handed_over: Option<Cycle>,
    /// The flusher runs the cycles for now: writers were found waiting together, and a
    /// runtime thread blocked in a leader's `fdatasync` would hold up their answers. Cleared
    /// once the flusher has found nothing to do for [`LEAD_LINGER`].
    flusher_leads: bool,
    /// A ticket was dropped before its cycle: its records may have nobody to lead them.
    orphaned: bool,
    /// The records in memory have grown enough to move into the engine.
    drain_due: bool,
    /// When the flusher must flush the store for relaxed appends kept in memory.
    flush_due: Option<Instant>,
    /// Records were written since the journal was last settled.
    written_since_settle: bool,
    last_cycle: Instant,
    /// Batches the flusher's last cycle took.
    last_batches: usize,
    /// The flusher sleeps on the condvar. Waking it is a syscall; a flusher that is busy
    /// will find the new work when it looks at the queue again.
    flusher_asleep: bool,
    stop: bool,
}

impl Queue {
    /// Starts a cycle: takes the queued batches and the tickets they cover.
    fn take_cycle(&mut self) -> (Vec<Batch>, u64) {
        self.cycle_running = true;
        self.wanted = false;
        self.orphaned = false;
        self.written_since_settle = true;
        (std::mem::take(&mut self.batches), self.tickets)
    }

    /// Whether the flusher thread has something to do now.
    fn flusher_work(&self) -> bool {
        self.handed_over.is_some()
            || self.drain_due
            || (!self.cycle_running
                && (self.stop
                    || (self.wanted && (self.wanted_store || self.orphaned || self.flusher_leads))))
    }
}

struct Core {
    /// Everything the writers and the flusher exchange; held only to push or take, never
    /// across a store call.
    queue: Mutex<Queue>,
    wake: Condvar,
    store: Store,
    flushed: watch::Sender<Flushed>,
    /// Cycles the flusher thread ran, for tests of who runs what.
    #[cfg(test)]
    flusher_cycles: std::sync::atomic::AtomicU64,
}

impl Core {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        // The queue is only pushed to and taken from whole: a panic cannot leave it half
        // changed, so poison is ignored.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wake_flusher_if_needed(&self, q: &Queue) {
        if q.flusher_asleep && q.flusher_work() {
            self.wake.notify_one();
        }
    }

    /// Reports a cycle's outcome and ends it. The outcome is sent before the queue is
    /// released, so cycles report in order.
    fn finish(&self, written: &Result<()>, target: u64, drain_due: bool) {
        let mut q = self.queue();
        self.flushed.send_modify(|flushed| {
            if let Err(error) = written {
                if flushed.failures.len() == FAILURES_KEPT {
                    flushed.failures.remove(0);
                }
                flushed.failures.push(Failure {
                    after: flushed.through,
                    through: target,
                    error: error.clone(),
                });
            }
            flushed.through = flushed.through.max(target);
        });
        q.cycle_running = false;
        q.last_cycle = Instant::now();
        q.drain_due |= drain_due;
        self.wake_flusher_if_needed(&q);
    }

    /// Takes the queue for a cycle if nobody runs one and the queued work is a leader's to
    /// do: one writer's records, alone, on a thread that may block (see
    /// [`other_workers_serve`]).
    /// Returns the cycle with `cycle_running` set.
    fn take_for_leader(&self, may_block: bool) -> Option<(Vec<Batch>, u64)> {
        let mut q = self.queue();
        if q.cycle_running || !q.wanted || q.wanted_store || q.stop || q.flusher_leads {
            return None;
        }
        if q.batches.len() > 1 || !may_block {
            // Writers are waiting together, or this one would stop the runtime's only
            // worker: the flusher takes over (see `flusher_leads`).
            q.flusher_leads = true;
            self.wake_flusher_if_needed(&q);
            return None;
        }
        Some(q.take_cycle())
    }

    /// Runs one cycle on the calling thread if one is due and nobody runs it; whether it did.
    fn lead(&self, may_block: bool) -> bool {
        let Some((batches, target)) = self.take_for_leader(may_block) else {
            return false;
        };
        let guard = Unfinished { core: self, target };
        let cycle = group(batches, target);
        let positions = cycle.positions;
        let written = if cycle.groups.is_empty() {
            Ok(Journaled::Durable { drain_due: false })
        } else {
            self.store.append_journaled(cycle.groups)
        };
        match written {
            Ok(Journaled::Durable { drain_due }) => {
                publish(&positions);
                guard.finish(&Ok(()), drain_due);
            }
            Ok(Journaled::Declined(groups)) => {
                // The cycle goes on, on the flusher thread, which finishes it.
                std::mem::forget(guard);
                let mut q = self.queue();
                q.handed_over = Some(Cycle {
                    groups,
                    positions,
                    target,
                });
                self.wake_flusher_if_needed(&q);
            }
            Err(e) => guard.finish(&Err(e), false),
        }
        true
    }
}

/// Ends a cycle whose runner panicked (a bug) as failed, so its writers get an error and
/// later writers a new cycle, instead of everyone waiting for a cycle that never ends.
struct Unfinished<'a> {
    core: &'a Core,
    target: u64,
}

impl Unfinished<'_> {
    /// Ends the cycle with its outcome.
    fn finish(self, written: &Result<()>, drain_due: bool) {
        let (core, target) = (self.core, self.target);
        std::mem::forget(self);
        core.finish(written, target, drain_due);
    }
}

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        let error = StoreError::Io("a group commit failed unexpectedly".into());
        self.core.finish(&Err(error), self.target, false);
    }
}

/// What the cycles publish: the highest ticket they have covered, and the recent cycles that
/// failed, each as the tickets it covered and its error. A waiter learns its own cycle's
/// outcome even when later cycles ran before it looked, and a failure never reaches a ticket
/// taken after the failed cycle (it waits for the next one).
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
    core: Arc<Core>,
    flushed: watch::Receiver<Flushed>,
    /// Joined on drop, so the store is closed (and its lock released) when the owner goes.
    flusher: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        {
            let mut q = self.core.queue();
            q.stop = true;
            self.core.wake_flusher_if_needed(&q);
        }
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
        let core = Arc::new(Core {
            queue: Mutex::new(Queue {
                batches: Vec::new(),
                tickets: 0,
                wanted: false,
                wanted_store: false,
                cycle_running: false,
                handed_over: None,
                flusher_leads: false,
                orphaned: false,
                drain_due: false,
                flush_due: None,
                written_since_settle: false,
                last_cycle: Instant::now(),
                last_batches: 0,
                flusher_asleep: false,
                stop: false,
            }),
            wake: Condvar::new(),
            store,
            flushed: tx,
            #[cfg(test)]
            flusher_cycles: Default::default(),
        });
        let for_thread = core.clone();
        let handle = std::thread::Builder::new()
            .name("kinesd-flush".into())
            .spawn(move || flusher(&for_thread, on_idle))
            .map_err(|e| StoreError::Io(format!("starting the flusher thread: {e}")))?;
        Ok(Arc::new(GroupCommit {
            core,
            flushed: rx,
            flusher: Mutex::new(Some(handle)),
        }))
    }

    /// Queues records for `shard`. The caller holds the shard's writer lock, which keeps each
    /// shard's records in position order across concurrent writers.
    pub(crate) fn enqueue(&self, shard: &Arc<ShardState>, records: Vec<StoredRecord>) {
        self.core.queue().batches.push(Batch {
            shard: shard.clone(),
            records,
        });
    }

    /// Schedules what a relaxed append (`Store::append_relaxed`) leaves to do: a drain once
    /// memory has filled, and a flush within [`RELAXED_FLUSH_AFTER`] of the first relaxed
    /// append since the last flush.
    pub(crate) fn relaxed_appended(&self, appended: RelaxedAppend) {
        if !appended.drain_due && !appended.first_since_flush {
            return;
        }
        let mut q = self.core.queue();
        q.drain_due |= appended.drain_due;
        if appended.first_since_flush && q.flush_due.is_none() {
            q.flush_due = Some(Instant::now() + RELAXED_FLUSH_AFTER);
            q.written_since_settle = true;
        }
        // Woken even for a flush that is not due yet: its sleep may be longer than that.
        if q.flusher_asleep {
            self.core.wake.notify_one();
        }
    }

    /// Waits until everything queued or written to the store before this call is durable.
    pub(crate) async fn durable(&self) -> Result<()> {
        self.ticket(true).wait().await
    }

    /// Takes a ticket now: it is done once everything queued before this call is durable
    /// (with `whole_store`, also everything written to the store directly). Taken at once
    /// rather than when first awaited, so queued records never wait for someone else's ticket.
    pub(crate) fn ticket(&self, whole_store: bool) -> Ticket {
        let number = {
            let mut q = self.core.queue();
            q.tickets += 1;
            q.wanted = true;
            q.wanted_store |= whole_store;
            self.core.wake_flusher_if_needed(&q);
            q.tickets
        };
        Ticket {
            number,
            flushed: self.flushed.clone(),
            core: Arc::downgrade(&self.core),
            done: false,
        }
    }
}

/// A place in the cycles' order; see [`GroupCommit::ticket`].
pub(crate) struct Ticket {
    number: u64,
    flushed: watch::Receiver<Flushed>,
    /// Weak: a ticket outliving its store must not keep the store open.
    core: Weak<Core>,
    /// The ticket's outcome has been seen.
    done: bool,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // Nobody may lead the records this ticket was to cover: the flusher will.
        if let Some(core) = self.core.upgrade() {
            let mut q = core.queue();
            if q.wanted {
                q.orphaned = true;
                core.wake_flusher_if_needed(&q);
            }
        }
    }
}

impl Ticket {
    /// Resolves once the cycle covering this ticket is done, with its error if any, or after
    /// [`TICKET_DEADLINE`]: a disk that stops answering must not hold writers for ever (their
    /// records may still become durable; the caller only stops waiting). Leads a cycle when
    /// one is due and nobody runs it.
    pub(crate) async fn wait(mut self) -> Result<()> {
        // Asked once per wait, not per wake-up: the runtime does not change under a ticket.
        let may_block = other_workers_serve();
        let outcome = async {
            loop {
                if let Some(outcome) = self.flushed.borrow_and_update().outcome(self.number) {
                    self.done = true;
                    return outcome;
                }
                let Some(core) = self.core.upgrade() else {
                    return Err(StoreError::Io("the group commit has stopped".into()));
                };
                if core.lead(may_block) {
                    continue;
                }
                drop(core);
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

/// Whether a writer may lead a cycle, blocking its thread in the journal's `fdatasync`: only
/// when the runtime has other workers to serve the other connections meanwhile. On a single
/// worker (a container limited to one CPU, a current-thread runtime) each leader stopped every
/// connection for its sync, so no two puts ever met in a cycle (measured with one worker:
/// 4,000 PutRecord/s at 16 connections, against 20,000 with two).
fn other_workers_serve() -> bool {
    tokio::runtime::Handle::try_current().map_or(true, |rt| rt.metrics().num_workers() > 1)
}

/// How long a writer waits for its group commit before it is answered with an error.
const TICKET_DEADLINE: Duration = Duration::from_secs(30);

/// How long the cycles must be idle before the flusher settles the journal and runs `on_idle`.
const IDLE_AFTER: Duration = Duration::from_secs(1);

/// How soon the records of a relaxed append are flushed: `--durability relaxed` may lose
/// the last half second, not more.
const RELAXED_FLUSH_AFTER: Duration = Duration::from_millis(500);

/// How long the flusher keeps running the cycles after the queue went empty. Under steady
/// concurrent load the queue empties between cycles all the time; giving the cycles back to
/// the writers at each of those moments would block a runtime thread in the next `fdatasync`
/// and then need the flusher again (measured: 10% fewer PutRecords at 16 connections).
const LEAD_LINGER: Duration = Duration::from_millis(2);

/// Under heavy concurrent load (the flusher's last cycle took at least [`GATHER_AFTER`]
/// writers' batches), the flusher lets up to [`GATHER`] pass, yielding its core to the runtime
/// threads, until [`GATHER_BATCHES`] batches are queued. Each cycle's `fdatasync` costs about
/// 25 µs of CPU in the kernel; sharing it among more writers left more CPU for requests
/// (measured alternating: +10% PutRecords at 16 and 64 connections, the same at 4 within the
/// spread, where the rule rarely applies).
const GATHER: Duration = Duration::from_micros(30);
const GATHER_AFTER: usize = 4;
const GATHER_BATCHES: usize = 8;

/// What the flusher thread takes on.
enum Job {
    /// A cycle a leader handed over; `cycle_running` is already set.
    HandedOver(Cycle),
    /// A cycle of its own (whole-store flushes, orphaned records, shutdown).
    Cycle {
        batches: Vec<Batch>,
        target: u64,
        whole_store: bool,
    },
    Drain,
    /// A flush of the whole store for relaxed appends kept in memory.
    Flush,
    Settle,
}

fn flusher(core: &Core, on_idle: Option<fn()>) {
    loop {
        let Some(job) = next_job(core) else {
            return;
        };
        #[cfg(test)]
        if matches!(job, Job::HandedOver(_) | Job::Cycle { .. }) {
            core.flusher_cycles
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        match job {
            Job::HandedOver(cycle) => run_cycle(core, cycle, false),
            // On shutdown, records of an append whose caller stopped waiting are still
            // written: they may have been seen by nobody, but losing them is never right.
            Job::Cycle {
                batches,
                target,
                whole_store,
            } => run_cycle(core, group(batches, target), whole_store),
            Job::Drain => match core.store.drain_pending() {
                // Logged by the disk check; the journal keeps the records meanwhile.
                Ok(()) | Err(StoreError::DiskFull(_)) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "moving journaled records into the store failed")
                }
            },
            Job::Flush => {
                let flushed = core.store.flush();
                let mut q = core.queue();
                q.last_cycle = Instant::now();
                if let Err(e) = flushed {
                    // The records stay in memory; try again later (a full disk may clear).
                    if !matches!(e, StoreError::DiskFull(_)) {
                        tracing::warn!(error = %e, "flushing relaxed appends failed");
                    }
                    q.flush_due
                        .get_or_insert(Instant::now() + RELAXED_FLUSH_AFTER);
                }
            }
            Job::Settle => {
                // Idle: the journaled records go to the store's own files, so a restart has
                // nothing to replay, and the owner may hand memory back to the OS.
                match core.store.settle() {
                    Ok(()) | Err(StoreError::DiskFull(_)) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "moving journaled records into the store failed")
                    }
                }
                if let Some(hook) = on_idle {
                    hook();
                }
                // Waiters that came meanwhile found a cycle running: let them look again.
                let mut q = core.queue();
                q.cycle_running = false;
                core.flushed.send_modify(|_| {});
                core.wake_flusher_if_needed(&q);
            }
        }
    }
}

/// Runs a cycle on the flusher thread (see [`write_durably`]) and ends it.
fn run_cycle(core: &Core, cycle: Cycle, whole_store: bool) {
    let guard = Unfinished {
        core,
        target: cycle.target,
    };
    let written = write_durably(&core.store, cycle, whole_store);
    guard.finish(&written, false);
}

/// Sleeps until the flusher has work; `None` once stopped with nothing left to write.
fn next_job(core: &Core) -> Option<Job> {
    let mut q = core.queue();
    let mut lingered = false;
    let mut gathered = false;
    loop {
        if let Some(cycle) = q.handed_over.take() {
            return Some(Job::HandedOver(cycle));
        }
        if std::mem::take(&mut q.drain_due) {
            return Some(Job::Drain);
        }
        if q.flush_due.is_some_and(|due| due <= Instant::now()) {
            q.flush_due = None;
            return Some(Job::Flush);
        }
        if !q.cycle_running {
            if !q.wanted && lingered {
                // Quiet for a while: writers lead their own cycles again.
                q.flusher_leads = false;
            }
            if q.wanted && (q.wanted_store || q.orphaned || q.flusher_leads || q.stop) {
                if q.flusher_leads
                    && !gathered
                    && q.last_batches >= GATHER_AFTER
                    && q.batches.len() < GATHER_BATCHES
                {
                    gathered = true;
                    drop(q);
                    gather(core);
                    q = core.queue();
                    continue;
                }
                q.last_batches = q.batches.len();
                let (batches, target) = q.take_cycle();
                return Some(Job::Cycle {
                    batches,
                    target,
                    whole_store: std::mem::take(&mut q.wanted_store),
                });
            }
            if q.stop {
                return None;
            }
            if q.written_since_settle && q.last_cycle.elapsed() >= IDLE_AFTER {
                q.written_since_settle = false;
                q.cycle_running = true;
                return Some(Job::Settle);
            }
        }
        let sleep = if q.flusher_leads {
            lingered = true;
            LEAD_LINGER
        } else if q.written_since_settle {
            IDLE_AFTER.saturating_sub(q.last_cycle.elapsed()) + Duration::from_millis(1)
        } else {
            // Nothing to settle: sleep until woken (the bound only guards against a lost
            // wake-up).
            IDLE_AFTER * 10
        };
        let sleep = match q.flush_due {
            Some(due) => sleep.min(due.saturating_duration_since(Instant::now())),
            None => sleep,
        };
        q.flusher_asleep = true;
        q = core
            .wake
            .wait_timeout(q, sleep)
            .unwrap_or_else(|p| p.into_inner())
            .0;
        q.flusher_asleep = false;
    }
}

/// Waits for more writers to queue; see [`GATHER`].
fn gather(core: &Core) {
    let start = Instant::now();
    while start.elapsed() < GATHER {
        std::thread::yield_now();
        if core.queue().batches.len() >= GATHER_BATCHES {
            return;
        }
    }
}

/// Groups a cycle's batches per shard (each shard's batches merged, in queue order).
fn group(mut batches: Vec<Batch>, target: u64) -> Cycle {
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
    Cycle {
        groups,
        positions,
        target,
    }
}

fn publish(positions: &[(Arc<ShardState>, u64)]) {
    for (shard, last) in positions {
        shard.publish(*last);
    }
}

/// One store call for all shards; then, if asked, a flush of the whole store; then the new
/// positions are published.
fn write_durably(store: &Store, cycle: Cycle, whole_store: bool) -> Result<()> {
    if !cycle.groups.is_empty() {
        store.append_durably(cycle.groups)?;
    }
    if whole_store {
        store.flush()?;
    }
    publish(&cycle.positions);
    Ok(())
}

#[cfg(test)]
mod tests;
