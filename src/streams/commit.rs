//! Group commit: a record is acknowledged only once the store has flushed it, and every writer
//! waiting at the same moment shares one flush.
//!
//! Invariant: a writer appends, *then* takes a ticket; the flusher reads the ticket counter
//! *before* flushing. So when the flushed counter reaches a ticket, that writer's append was
//! already in the store when the flush began.

use shard_store::Store;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use tokio::sync::watch;

pub struct GroupCommit {
    tickets: AtomicU64,
    wake: Arc<(Mutex<bool>, Condvar)>,
    flushed: watch::Receiver<Result<u64, String>>,
    durable: bool,
    /// Joined on drop, so the store is closed (and its lock released) when the registry goes.
    flusher: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        {
            let (lock, cvar) = &*self.wake;
            *lock.lock().unwrap() = true;
            cvar.notify_one();
        }
        if let Some(handle) = self.flusher.lock().unwrap().take() {
            // The flusher itself may hold the last reference for a moment; it then just exits.
            if handle.thread().id() != std::thread::current().id() {
                let _ = handle.join();
            }
        }
    }
}

impl GroupCommit {
    /// Starts the flusher thread. With `durable == false` (relaxed mode) nobody waits for it,
    /// and sled's own periodic flush is relied upon.
    pub fn start(store: Store, durable: bool) -> Arc<GroupCommit> {
        let (tx, rx) = watch::channel(Ok(0u64));
        let wake = Arc::new((Mutex::new(false), Condvar::new()));
        let gc = Arc::new(GroupCommit {
            tickets: AtomicU64::new(0),
            wake: wake.clone(),
            flushed: rx,
            durable,
            flusher: Mutex::new(None),
        });
        let weak = Arc::downgrade(&gc);
        let handle = std::thread::Builder::new()
            .name("kinesd-flush".into())
            .spawn(move || loop {
                {
                    let (lock, cvar) = &*wake;
                    let mut pending = lock.lock().unwrap();
                    while !*pending {
                        let (guard, timeout) = cvar
                            .wait_timeout(pending, std::time::Duration::from_millis(500))
                            .unwrap();
                        pending = guard;
                        if timeout.timed_out() && weak.strong_count() == 0 {
                            return;
                        }
                    }
                    *pending = false;
                }
                let Some(gc) = weak.upgrade() else { return };
                let target = gc.tickets.load(Ordering::SeqCst);
                drop(gc);
                let outcome = store.flush().map(|_| target).map_err(|e| e.to_string());
                if tx.send(outcome).is_err() {
                    return;
                }
            })
            .expect("spawn flusher thread");
        *gc.flusher.lock().unwrap() = Some(handle);
        gc
    }

    /// Waits until everything appended before this call is durable.
    pub async fn durable(&self) -> Result<(), String> {
        if !self.durable {
            return Ok(());
        }
        let ticket = self.tickets.fetch_add(1, Ordering::SeqCst) + 1;
        {
            let (lock, cvar) = &*self.wake;
            *lock.lock().unwrap() = true;
            cvar.notify_one();
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
