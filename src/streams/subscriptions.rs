//! SubscribeToShard's leases: at most one live subscription per (consumer, shard).
//!
//! Rules (AWS's): a new subscription for a (consumer, shard) whose last one started less than
//! [`TAKEOVER_MS`] ago is refused with ResourceInUseException, whether or not that one has
//! ended; a later one takes over, and the one it replaces, if still running, ends with a
//! ResourceInUseException frame. So a lease is never given back: it is replaced. A subscription lasts at most
//! [`SUBSCRIPTION_MS`] by the injected clock.
//!
//! On shutdown every subscription is ended ([`Subscriptions::end_all`]): the event stream
//! finishes cleanly, as it does after five minutes, and the client subscribes again elsewhere.
//!
//! Across nodes sharing a catalogue (cluster mode) the same rules hold through the catalogue's
//! lease of each slot (`Registry::claim_subscription`): a node refuses a subscription while
//! another node's is recent, and a node whose lease another node took ends its subscription
//! (`taken_elsewhere`, from the catalogue's changes).
//!
//! Invariant: a lease is removed only when its claim is withdrawn before the subscription
//! started (matched by id), never by another subscription's end.

use crate::error::ApiError;
use shard_store::StoreError;
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
    /// Its key in the catalogue (see [`lease_key`]).
    key: String,
}

/// The catalogue's name for the (consumer, shard) slot: consumer ARNs hold characters a
/// key may not, so the ARN is hashed.
pub fn lease_key(consumer_arn: &str, shard: u32) -> String {
    format!("{:x}.{shard}", md5::compute(consumer_arn))
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
            // Ids name subscriptions in a shared catalogue too: random, so that two nodes'
            // ids never meet.
            next_id: AtomicU64::new(rand::random::<u64>() >> 1),
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
    /// The leases taken in the last [`SUBSCRIPTION_MS`] before `now`, as (consumer ARN, shard
    /// index, start): the subscriptions that may still run on this node (one whose client left
    /// early stays among them until replaced or expired).
    pub fn recent(&self, now: i64) -> Vec<(String, u32, i64)> {
        self.leases_locked()
            .iter()
            .filter(|(_, lease)| now - lease.started_ms < SUBSCRIPTION_MS)
            .map(|((arn, shard), lease)| (arn.clone(), *shard, lease.started_ms))
            .collect()
    }

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
                key: lease_key(consumer_arn, shard),
            },
        );
        Ok(claim)
    }

    /// Another node's subscription took the catalogue's lease `key`: the one here ends.
    pub fn taken_elsewhere(&self, key: &str, holder: u64) {
        let mut leases = self.leases_locked();
        leases.retain(|_, lease| {
            let lost = lease.key == key && lease.id != holder;
            if lost {
                lease.cancel.notify_one();
            }
            !lost
        });
    }

    /// Ends every subscription, now and from now on (the server is stopping).
    pub fn end_all(&self) {
        self.ending.send_replace(true);
    }

    /// Withdraws a claim that was refused elsewhere (the catalogue): it never started, so
    /// it does not count against the next subscription.
    pub fn withdraw(&self, consumer_arn: &str, shard: u32, claim: &Claim) {
        let mut leases = self.leases_locked();
        let key = (consumer_arn.to_string(), shard);
        if leases.get(&key).is_some_and(|l| l.id == claim.id) {
            leases.remove(&key);
        }
    }
}

impl super::Registry {
    /// Claims the (consumer, shard) slot for a new subscription: here (`Subscriptions`) and
    /// in the catalogue, where another node's recent subscription refuses it and an older
    /// one is taken over.
    pub async fn claim_subscription(
        &self,
        consumer_arn: &str,
        shard: u32,
    ) -> Result<Claim, ApiError> {
        let now = self.now();
        let claim = self.subscriptions.claim(now, consumer_arn, shard)?;
        let key = lease_key(consumer_arn, shard);
        let refused = || {
            ApiError::ResourceInUse(format!(
                "Another active subscription exists for this consumer: {consumer_arn}"
            ))
        };
        let taken = async {
            // A conflict means the lease changed between the read and the write (given back,
            // or taken by another node): read it again and decide anew.
            for _ in 0..3 {
                let current = self.catalog.lease(&key).await?;
                if let Some(l) = current {
                    if l.holder != claim.id && now - l.started_ms < TAKEOVER_MS {
                        return Err(refused());
                    }
                }
                let put = self
                    .catalog
                    .put_lease(&key, claim.id, now, current.map(|l| l.revision))
                    .await;
                match put {
                    Ok(_) => return Ok(()),
                    Err(StoreError::Conflict(_)) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            Err(refused())
        };
        match taken.await {
            Ok(()) => Ok(claim),
            Err(e) => {
                self.subscriptions.withdraw(consumer_arn, shard, &claim);
                Err(e)
            }
        }
    }
}
