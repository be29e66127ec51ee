//! SubscribeToShard's leases: at most one live subscription per (consumer, shard).
//!
//! Rules (AWS's): a new subscription for a (consumer, shard) whose current one started less
//! than [`TAKEOVER_MS`] ago is refused with ResourceInUseException; a later one takes over, and
//! the one it replaces ends with a ResourceInUseException frame. A subscription lasts at most
//! [`SUBSCRIPTION_MS`] by the injected clock.
//!
//! On shutdown every subscription is ended ([`Subscriptions::end_all`]): the event stream
//! finishes cleanly, as it does after five minutes, and the client subscribes again elsewhere.
//!
//! Invariant: a lease is removed only by the subscription that holds it (matched by id), so a
//! subscription ending after it was taken over never removes its successor's lease.

use crate::error::ApiError;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{watch, Notify};

/// How long a subscription lasts.
pub const SUBSCRIPTION_MS: i64 = 300_000;
/// A newer subscription within this window of the current one is refused.
pub const TAKEOVER_MS: i64 = 5_000;

/// One live subscription: when it started, and how to end it when another takes over.
struct Lease {
    id: u64,
    started_ms: i64,
    cancel: Arc<Notify>,
}

/// What a subscription holds while it runs.
pub struct Claim {
    pub id: u64,
    pub started_ms: i64,
    /// Notified when a newer subscription takes over.
    pub cancel: Arc<Notify>,
    /// Becomes true when the server stops.
    pub ending: watch::Receiver<bool>,
}

pub struct Subscriptions {
    /// Live leases by (consumer ARN, shard index); held only to look up, insert or remove.
    leases: Mutex<HashMap<(String, u32), Lease>>,
    next_id: AtomicU64,
    /// Set once, by [`Subscriptions::end_all`]; a watch so a subscription started later
    /// still sees it.
    ending: watch::Sender<bool>,
}

impl Default for Subscriptions {
    fn default() -> Self {
        Subscriptions {
            leases: Mutex::default(),
            next_id: AtomicU64::new(0),
            ending: watch::Sender::new(false),
        }
    }
}

impl Subscriptions {
    fn leases_locked(&self) -> MutexGuard<'_, HashMap<(String, u32), Lease>> {
        // Entries are inserted and removed whole: poison cannot leave the map half changed.
        self.leases.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Subscriptions {
    /// Claims the (consumer, shard) slot for a new subscription at `now`, taking it over from
    /// an older one or refusing if the current one is too recent.
    pub fn claim(&self, now: i64, consumer_arn: &str, shard: u32) -> Result<Claim, ApiError> {
        let subs = self;
        let mut leases = subs.leases_locked();
        let key = (consumer_arn.to_string(), shard);
        if let Some(old) = leases.get(&key) {
            if now - old.started_ms < TAKEOVER_MS {
                return Err(ApiError::ResourceInUse(format!(
                    "Another active subscription exists for this consumer: {consumer_arn}"
                )));
            }
            old.cancel.notify_one();
        }
        let claim = Claim {
            id: subs.next_id.fetch_add(1, Ordering::Relaxed) + 1,
            started_ms: now,
            cancel: Arc::new(Notify::new()),
            ending: subs.ending.subscribe(),
        };
        leases.insert(
            key,
            Lease {
                id: claim.id,
                started_ms: now,
                cancel: claim.cancel.clone(),
            },
        );
        Ok(claim)
    }

    /// Ends every subscription, now and from now on (the server is stopping).
    pub fn end_all(&self) {
        self.ending.send_replace(true);
    }

    /// Gives the slot back when a subscription ends, unless a newer one has taken it.
    pub fn release(&self, consumer_arn: &str, shard: u32, claim: &Claim) {
        let mut leases = self.leases_locked();
        let key = (consumer_arn.to_string(), shard);
        if leases.get(&key).is_some_and(|l| l.id == claim.id) {
            leases.remove(&key);
        }
    }
}
