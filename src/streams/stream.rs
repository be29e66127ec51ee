//! A stream at run time: its metadata document (with the catalogue revision it was read at),
//! its shards, and the routes from hash keys to open shards.
//!
//! Invariants:
//! - `meta` changes only under the registry's control lock, after the catalogue holds the new
//!   document durably (`Registry::update_meta`), so what readers see is never ahead of disk.
//! - The routes cover exactly the open shards of `meta`; they are republished whenever shards
//!   open or close, and a writer that met a closed shard waits for that republication.

use super::meta::StreamMeta;
use super::throughput::{OnDemandLimits, ShardLimits};
use crate::metrics::ShardTraffic;
use shard_store::ShardKey;
use std::sync::{Arc, RwLock};
use tokio::sync::watch;

/// One shard of a stream, as the domain addresses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub key: ShardKey,
}

/// An open shard's hash-key range.
pub(super) struct Route {
    start: u128,
    end: u128,
    shard: Shard,
}

/// The document and the catalogue revision it was stored at.
pub(super) struct Versioned {
    pub(super) meta: StreamMeta,
    pub(super) revision: u64,
}

pub struct Stream {
    pub id: u64,
    pub name: String,
    pub arn: String,
    /// Written only under the registry's control lock (see the module doc).
    doc: RwLock<Versioned>,
    /// Open shards by hash range, sorted by start.
    routes: watch::Sender<Arc<Vec<Route>>>,
    /// Each shard's traffic through this process, by shard index (grown as shards appear).
    traffic: RwLock<Vec<Arc<ShardTraffic>>>,
    /// Each shard's throughput buckets, by shard index (used only with `--enforce-limits`).
    limits: RwLock<Vec<Arc<ShardLimits>>>,
    /// The stream-wide write buckets while it is ON_DEMAND (used only with `--enforce-limits`).
    on_demand_limits: OnDemandLimits,
}

/// Slot `index` of a per-shard vector, grown with defaults as shards appear.
fn per_shard<T: Default>(slots: &RwLock<Vec<Arc<T>>>, index: u32) -> Arc<T> {
    let index = index as usize;
    if let Some(t) = slots.read().unwrap_or_else(|p| p.into_inner()).get(index) {
        return t.clone();
    }
    let mut slots = slots.write().unwrap_or_else(|p| p.into_inner());
    while slots.len() <= index {
        slots.push(Arc::default());
    }
    slots[index].clone()
}

impl Stream {
    pub(super) fn new(meta: StreamMeta, revision: u64, arn: String) -> Stream {
        let stream = Stream {
            id: meta.id,
            name: meta.name.clone(),
            arn,
            routes: watch::channel(Arc::new(Vec::new())).0,
            doc: RwLock::new(Versioned { meta, revision }),
            traffic: RwLock::default(),
            limits: RwLock::default(),
            on_demand_limits: OnDemandLimits::default(),
        };
        stream.rebuild_routes();
        stream
    }

    fn doc(&self) -> std::sync::RwLockReadGuard<'_, Versioned> {
        // Replaced whole under the write lock: a panic cannot leave it half written.
        self.doc.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn meta(&self) -> StreamMeta {
        self.doc().meta.clone()
    }

    /// Reads a few fields without cloning the whole document.
    pub fn with_meta<R>(&self, f: impl FnOnce(&StreamMeta) -> R) -> R {
        f(&self.doc().meta)
    }

    /// Runs `f` on shard `index`'s traffic counters.
    pub fn traffic<R>(&self, index: u32, f: impl FnOnce(&ShardTraffic) -> R) -> R {
        f(&per_shard(&self.traffic, index))
    }

    /// Shard `index`'s throughput buckets (`throughput.rs`).
    pub fn limits(&self, index: u32) -> Arc<ShardLimits> {
        per_shard(&self.limits, index)
    }

    /// The stream-wide write buckets that apply now: `Some` while the stream is ON_DEMAND.
    pub fn on_demand_limits(&self) -> Option<&OnDemandLimits> {
        let on_demand = self.with_meta(|m| m.mode == super::meta::StreamMode::OnDemand);
        on_demand.then_some(&self.on_demand_limits)
    }

    /// Every shard's counters with its shard id, for a scrape.
    pub fn traffic_by_shard(&self) -> Vec<(String, Arc<ShardTraffic>)> {
        let shards = self.with_meta(|m| m.shards.len());
        let mut traffic = self.traffic.write().unwrap_or_else(|p| p.into_inner());
        while traffic.len() < shards {
            traffic.push(Arc::default());
        }
        traffic[..shards]
            .iter()
            .enumerate()
            .map(|(i, t)| (super::sequence::shard_id(i as u32), t.clone()))
            .collect()
    }

    pub(super) fn revision(&self) -> u64 {
        self.doc().revision
    }

    /// Installs a document the catalogue now holds at `revision`, and its routes.
    pub(super) fn replace(&self, meta: StreamMeta, revision: u64) {
        *self.doc.write().unwrap_or_else(|p| p.into_inner()) = Versioned { meta, revision };
        self.rebuild_routes();
    }

    /// Shard `index` of the stream, open or closed.
    pub fn shard(&self, index: u32) -> Option<Shard> {
        let known = self.with_meta(|m| (index as usize) < m.shards.len());
        known.then_some(Shard {
            index,
            key: ShardKey {
                stream: self.id,
                shard: index,
            },
        })
    }

    fn rebuild_routes(&self) {
        let mut routes: Vec<Route> = self.with_meta(|meta| {
            meta.shards
                .iter()
                .filter(|s| s.closed.is_none())
                .map(|s| Route {
                    start: s.hash_start,
                    end: s.hash_end,
                    shard: Shard {
                        index: s.index,
                        key: ShardKey {
                            stream: meta.id,
                            shard: s.index,
                        },
                    },
                })
                .collect()
        });
        routes.sort_by_key(|r| r.start);
        self.routes.send_replace(Arc::new(routes));
    }

    /// The current routes, and a receiver that changes when they are republished.
    pub(super) fn routes(&self) -> (Arc<Vec<Route>>, watch::Receiver<Arc<Vec<Route>>>) {
        let mut rx = self.routes.subscribe();
        let routes = rx.borrow_and_update().clone();
        (routes, rx)
    }
}

/// The open shard whose range holds `hash`.
pub(super) fn route(routes: &[Route], hash: u128) -> Option<Shard> {
    let i = routes.partition_point(|r| r.start <= hash);
    routes
        .get(i.checked_sub(1)?)
        .filter(|r| hash <= r.end)
        .map(|r| r.shard)
}
