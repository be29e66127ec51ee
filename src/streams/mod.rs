//! The domain: the stream registry, shards and their writers.
//!
//! Invariants:
//! - A stream's metadata document is written to the store as one value, so every control-plane
//!   change is atomic with respect to crashes; it is flushed before the change is acknowledged.
//! - Each shard has one writer (a mutex) that assigns strictly increasing positions, stamps a
//!   non-decreasing arrival time and queues the records for the group commit (`commit.rs`) while
//!   still holding the lock, so the queue holds each shard's records in position order.
//! - Readers see a record only once it is durable: `visible` is the highest durable position of
//!   the shard, advanced after the group commit that covers the append.
//! - Stream ids are never reused, so sequence numbers and iterators of a deleted stream cannot
//!   address a new stream of the same name.

pub mod arn;
pub mod commit;
pub mod consumers;
pub mod hash;
pub mod iterator;
pub mod meta;
mod reshard;
pub mod sequence;
pub mod settings;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::error::ApiError;
use commit::GroupCommit;
use iterator::Signer;
pub use meta::{ShardClosed, ShardMeta, StreamMeta, StreamMode, StreamStatus, META_VERSION};
use sequence::SequenceNumber;
use shard_store::{NewRecord, ShardKey, Store, StoreError, StoredRecord};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::watch;

pub const ITERATOR_TTL_MS: i64 = 300_000;
/// Positions skipped on start in relaxed durability: more than can be acknowledged between
/// two of the store's periodic flushes.
const RELAXED_RESTART_GAP: u64 = 1 << 24;
pub const MAX_GET_RECORDS_BYTES: usize = 10 * 1024 * 1024;

struct Writer {
    next_position: u64,
    last_arrival_ms: i64,
    /// Set when resharding closes the shard: no record is appended after that.
    closed: bool,
}

/// One shard at run time.
pub struct Shard {
    pub index: u32,
    pub key: ShardKey,
    writer: Mutex<Writer>,
    /// Highest durable position (0 = none); subscribers wait on it.
    visible: watch::Sender<u64>,
}

impl Shard {
    fn new(key: ShardKey, last: u64, closed: bool) -> Shard {
        Shard {
            index: key.shard,
            key,
            writer: Mutex::new(Writer {
                next_position: last + 1,
                last_arrival_ms: i64::MIN,
                closed,
            }),
            visible: watch::channel(last).0,
        }
    }

    pub fn visible(&self) -> u64 {
        *self.visible.borrow()
    }

    /// A receiver that changes whenever new records become visible.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.visible.subscribe()
    }

    fn publish(&self, position: u64) {
        self.visible.send_if_modified(|v| {
            if position > *v {
                *v = position;
                true
            } else {
                false
            }
        });
    }
}

struct Route {
    start: u128,
    end: u128,
    shard: Arc<Shard>,
}

pub struct Stream {
    pub id: u64,
    pub name: String,
    pub arn: String,
    meta: RwLock<StreamMeta>,
    shards: RwLock<Vec<Arc<Shard>>>,
    /// Open shards by hash range, sorted by start; rebuilt when shards open or close.
    routes: RwLock<Arc<Vec<Route>>>,
}

impl Stream {
    pub fn meta(&self) -> StreamMeta {
        self.meta.read().unwrap().clone()
    }

    /// Reads a few fields without cloning the whole document.
    pub fn with_meta<R>(&self, f: impl FnOnce(&StreamMeta) -> R) -> R {
        f(&self.meta.read().unwrap())
    }

    pub fn shard(&self, index: u32) -> Option<Arc<Shard>> {
        self.shards.read().unwrap().get(index as usize).cloned()
    }

    fn rebuild_routes(&self) {
        let meta = self.meta.read().unwrap();
        let shards = self.shards.read().unwrap();
        let mut routes: Vec<Route> = meta
            .shards
            .iter()
            .filter(|s| s.closed.is_none())
            .map(|s| Route {
                start: s.hash_start,
                end: s.hash_end,
                shard: shards[s.index as usize].clone(),
            })
            .collect();
        routes.sort_by_key(|r| r.start);
        *self.routes.write().unwrap() = Arc::new(routes);
    }

    fn route(routes: &[Route], hash: u128) -> Option<&Arc<Shard>> {
        let i = routes.partition_point(|r| r.start <= hash);
        routes
            .get(i.checked_sub(1)?)
            .filter(|r| hash <= r.end)
            .map(|r| &r.shard)
    }
}

/// One record to write: where it hashes, and what it carries.
/// A record to put, owned so that the group commit takes its bytes without copying them.
pub struct PutEntry {
    pub hash: u128,
    pub partition_key: String,
    pub data: Vec<u8>,
}

/// What a GetRecords call found.
pub struct ReadOutcome {
    pub records: Vec<StoredRecord>,
    /// Position to continue from, or `None` at the end of a closed shard.
    pub next_position: Option<u64>,
    pub millis_behind_latest: i64,
    /// Present when the end of a closed shard was reached.
    pub child_shards: Option<Vec<ShardMeta>>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RetentionReport {
    pub shards_visited: usize,
    pub records_trimmed: usize,
    pub streams_purged: usize,
    /// Some shard still has expired records beyond this batch.
    pub more: bool,
}

pub struct Registry {
    pub config: Config,
    pub clock: SharedClock,
    pub store: Store,
    pub signer: Signer,
    commit: Arc<GroupCommit>,
    streams: RwLock<BTreeMap<String, Arc<Stream>>>,
    /// Deleted streams whose records are still being removed.
    purging: Mutex<Vec<u64>>,
    /// Serializes control-plane changes (create, delete, shard-limit accounting).
    control: tokio::sync::Mutex<()>,
    /// Wakes the background worker (e.g. a deleted stream's records await removal).
    pub background: tokio::sync::Notify,
    /// Live SubscribeToShard streams by (consumer ARN, shard index).
    pub subscriptions: Mutex<std::collections::HashMap<(String, u32), SubscriptionLease>>,
}

/// One live subscription: when it started, and how to end it when another takes over.
pub struct SubscriptionLease {
    pub id: u64,
    pub started_ms: i64,
    pub cancel: Arc<tokio::sync::Notify>,
}

fn store_err(e: StoreError) -> ApiError {
    ApiError::internal(e)
}

impl Registry {
    pub fn open(
        store: Store,
        config: Config,
        clock: SharedClock,
    ) -> Result<Arc<Registry>, StoreError> {
        let key = match store.get_setting("iterator-key")? {
            Some(k) if k.len() == 32 => k,
            _ => {
                let k: [u8; 32] = rand::random();
                store.put_setting("iterator-key", &k)?;
                store.flush()?;
                k.to_vec()
            }
        };
        let signer = Signer::new(key.try_into().expect("32 bytes"));
        let commit = GroupCommit::start(store.clone());
        let registry = Registry {
            config,
            clock,
            store: store.clone(),
            signer,
            commit,
            streams: RwLock::new(BTreeMap::new()),
            purging: Mutex::new(Vec::new()),
            control: tokio::sync::Mutex::new(()),
            background: tokio::sync::Notify::new(),
            subscriptions: Mutex::new(std::collections::HashMap::new()),
        };
        for (id, doc) in store.load_stream_metas()? {
            let meta: StreamMeta = serde_json::from_slice(&doc)
                .map_err(|e| StoreError::Corrupt(format!("stream {id}: {e}")))?;
            if meta.version != META_VERSION {
                return Err(StoreError::Corrupt(format!(
                    "stream {id}: unknown metadata version {}",
                    meta.version
                )));
            }
            if meta.delete_at_ms.is_some_and(|t| t <= registry.now()) {
                // Deleted before the restart: finish removing its records.
                registry.purging.lock().unwrap().push(id);
                continue;
            }
            let stream = registry.build_stream(meta)?;
            registry
                .streams
                .write()
                .unwrap()
                .insert(stream.name.clone(), stream);
        }
        Ok(Arc::new(registry))
    }

    fn build_stream(&self, meta: StreamMeta) -> Result<Arc<Stream>, StoreError> {
        let mut shards = Vec::with_capacity(meta.shards.len());
        for s in &meta.shards {
            let key = ShardKey {
                stream: meta.id,
                shard: s.index,
            };
            let last = self.store.last_subseq(key)?.unwrap_or(0);
            let shard = Shard::new(key, last, s.closed.is_some());
            if self.config.durability == crate::config::Durability::Relaxed {
                // Records acknowledged but not yet flushed may have been lost in a crash; their
                // positions must never name a different record, so writing resumes past them.
                shard.writer.lock().unwrap().next_position += RELAXED_RESTART_GAP;
            }
            shards.push(Arc::new(shard));
        }
        let stream = Arc::new(Stream {
            id: meta.id,
            name: meta.name.clone(),
            arn: arn::stream_arn(&self.config.region, &self.config.account_id, &meta.name),
            meta: RwLock::new(meta),
            shards: RwLock::new(shards),
            routes: RwLock::new(Arc::new(Vec::new())),
        });
        stream.rebuild_routes();
        Ok(stream)
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn not_found(&self, name: &str) -> ApiError {
        ApiError::ResourceNotFound(format!(
            "Stream {name} under account {} not found.",
            self.config.account_id
        ))
    }

    pub fn shard_not_found(&self, stream: &str, shard: &str) -> ApiError {
        ApiError::ResourceNotFound(format!(
            "Shard {shard} in stream {stream} under account {} does not exist",
            self.config.account_id
        ))
    }

    /// A live stream by name: DELETING streams are still found until their deletion completes.
    pub fn lookup(&self, name: &str) -> Result<Arc<Stream>, ApiError> {
        let now = self.now();
        let found = self.streams.read().unwrap().get(name).cloned();
        match found {
            Some(s) if s.with_meta(|m| m.delete_at_ms.is_none_or(|t| now < t)) => Ok(s),
            _ => Err(self.not_found(name)),
        }
    }

    /// Resolves StreamName and/or StreamARN (both may be sent; KPL does).
    pub fn resolve(&self, name: Option<&str>, arn: Option<&str>) -> Result<Arc<Stream>, ApiError> {
        let from_arn = match arn {
            Some(a) => {
                let (region, account, n) = arn::parse_stream_arn(a)
                    .ok_or_else(|| ApiError::InvalidArgument(format!("Invalid StreamARN: {a}")))?;
                if region != self.config.region || account != self.config.account_id {
                    return Err(self.not_found(n));
                }
                Some(n)
            }
            None => None,
        };
        match (name, from_arn) {
            (Some(n), Some(a)) if n != a => Err(ApiError::InvalidArgument(format!(
                "StreamName {n} does not match the stream in StreamARN {}",
                arn.unwrap_or_default()
            ))),
            (Some(n), _) | (None, Some(n)) => self.lookup(n),
            (None, None) => Err(ApiError::InvalidArgument(
                "Either StreamName or StreamARN should be provided.".into(),
            )),
        }
    }

    /// Live streams in name order (DELETING ones included until gone).
    pub fn list(&self) -> Vec<Arc<Stream>> {
        let now = self.now();
        self.streams
            .read()
            .unwrap()
            .values()
            .filter(|s| s.with_meta(|m| m.delete_at_ms.is_none_or(|t| now < t)))
            .cloned()
            .collect()
    }

    /// Open shards across live streams, and the number of on-demand streams.
    pub fn usage(&self) -> (i64, i64) {
        let mut shards = 0;
        let mut on_demand = 0;
        for s in self.list() {
            s.with_meta(|m| {
                shards += m.open_shard_count() as i64;
                on_demand += i64::from(m.mode == StreamMode::OnDemand);
            });
        }
        (shards, on_demand)
    }

    async fn persist_meta(&self, meta: &StreamMeta) -> Result<(), ApiError> {
        let doc = serde_json::to_vec(meta).map_err(ApiError::internal)?;
        self.store
            .put_stream_meta(meta.id, &doc)
            .map_err(store_err)?;
        self.commit.durable().await.map_err(ApiError::internal)
    }

    /// Applies a metadata change and makes it durable before returning.
    pub async fn update_meta<R>(
        &self,
        stream: &Stream,
        change: impl FnOnce(&mut StreamMeta) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let _guard = self.control.lock().await;
        let (out, snapshot) = {
            let mut meta = stream.meta.write().unwrap();
            let mut copy = meta.clone();
            let out = change(&mut copy)?;
            *meta = copy.clone();
            (out, copy)
        };
        self.persist_meta(&snapshot).await?;
        Ok(out)
    }

    pub async fn create_stream(
        &self,
        name: &str,
        shard_count: u32,
        mode: StreamMode,
        tags: BTreeMap<String, String>,
        max_record_size_kib: i64,
    ) -> Result<Arc<Stream>, ApiError> {
        let _guard = self.control.lock().await;
        let now = self.now();
        if let Some(existing) = self.streams.read().unwrap().get(name) {
            if existing.with_meta(|m| m.delete_at_ms.is_none_or(|t| now < t)) {
                return Err(ApiError::ResourceInUse(format!(
                    "Stream {name} under account {} already exists.",
                    self.config.account_id
                )));
            }
        }
        let (open, on_demand) = self.usage();
        if open + i64::from(shard_count) > self.config.shard_limit {
            return Err(ApiError::LimitExceeded(format!(
                "This request would exceed the shard limit for the account {} in {}. Current limit of shards per account is {}. Number of additional shards that would have resulted from this request: {}.",
                self.config.account_id, self.config.region, self.config.shard_limit, shard_count
            )));
        }
        if mode == StreamMode::OnDemand && on_demand >= self.config.on_demand_stream_limit {
            return Err(ApiError::LimitExceeded(format!(
                "This request would exceed the on-demand stream limit for the account {} in {}. Current limit of on-demand streams per account is {}.",
                self.config.account_id, self.config.region, self.config.on_demand_stream_limit
            )));
        }
        let creating = self
            .list()
            .iter()
            .filter(|s| s.with_meta(|m| m.status(now) == StreamStatus::Creating))
            .count();
        if creating >= 5 {
            return Err(ApiError::LimitExceeded(format!(
                "This request would exceed the limit of 5 streams in CREATING state for the account {}.",
                self.config.account_id
            )));
        }
        let id = self.store.allocate_stream_id().map_err(store_err)?;
        let shards = hash::even_ranges(shard_count)
            .into_iter()
            .enumerate()
            .map(|(i, (start, end))| ShardMeta {
                index: i as u32,
                parent: None,
                adjacent_parent: None,
                hash_start: start,
                hash_end: end,
                created_ms: now,
                closed: None,
            })
            .collect();
        let meta = StreamMeta {
            version: META_VERSION,
            id,
            name: name.to_string(),
            created_ms: now,
            active_at_ms: now + self.config.create_delay_ms,
            delete_at_ms: None,
            updating_until_ms: None,
            retention_hours: 24,
            mode,
            max_record_size_kib,
            tags,
            encryption_key: None,
            shards,
            scaling_history: Vec::new(),
            consumers: Vec::new(),
            policy: None,
            shard_level_metrics: Vec::new(),
            warm_throughput: None,
            mode_switches: Vec::new(),
        };
        self.persist_meta(&meta).await?;
        let stream = self.build_stream(meta).map_err(store_err)?;
        let replaced = self
            .streams
            .write()
            .unwrap()
            .insert(name.to_string(), stream.clone());
        if let Some(old) = replaced {
            self.purging.lock().unwrap().push(old.id);
        }
        Ok(stream)
    }

    pub async fn delete_stream(&self, stream: &Arc<Stream>) -> Result<(), ApiError> {
        let delete_at = self.now() + self.config.delete_delay_ms;
        self.update_meta(stream, |m| {
            m.delete_at_ms.get_or_insert(delete_at);
            Ok(())
        })
        .await?;
        if self.config.delete_delay_ms <= 0 {
            self.forget(stream);
        }
        Ok(())
    }

    /// Drops a deleted stream from the registry and queues its records for removal.
    fn forget(&self, stream: &Arc<Stream>) {
        let mut streams = self.streams.write().unwrap();
        if streams.get(&stream.name).is_some_and(|s| s.id == stream.id) {
            streams.remove(&stream.name);
        }
        self.purging.lock().unwrap().push(stream.id);
        self.background.notify_one();
    }

    /// Appends records to their shards and returns once they are durable (per the durability
    /// setting). Results are in entry order.
    pub async fn put(
        &self,
        stream: &Stream,
        mut entries: Vec<PutEntry>,
        ordering_floor: Option<SequenceNumber>,
    ) -> Result<Vec<SequenceNumber>, ApiError> {
        let mut results = vec![
            SequenceNumber {
                stream_id: stream.id,
                shard_index: 0,
                position: 0,
                arrival_ms: 0,
            };
            entries.len()
        ];
        let durable = self.config.durability == crate::config::Durability::Flush;
        let mut pending: Vec<usize> = (0..entries.len()).collect();
        // Resharding may close a shard between routing and writing; its entries are routed
        // again against the new open shards.
        while !pending.is_empty() {
            let routes = stream.routes.read().unwrap().clone();
            // Group entries by shard, keeping their order within each shard.
            let mut groups: Vec<(Arc<Shard>, Vec<usize>)> = Vec::new();
            for &i in &pending {
                let hash = entries[i].hash;
                let shard = Stream::route(&routes, hash).ok_or_else(|| {
                    ApiError::internal(format!("no open shard covers hash {hash}"))
                })?;
                match groups.iter_mut().find(|(s, _)| Arc::ptr_eq(s, shard)) {
                    Some((_, members)) => members.push(i),
                    None => groups.push((shard.clone(), vec![i])),
                }
            }
            pending.clear();
            for (shard, members) in &groups {
                let mut w = shard.writer.lock().unwrap();
                if w.closed {
                    pending.extend_from_slice(members);
                    continue;
                }
                if let Some(floor) = ordering_floor {
                    if floor.stream_id == stream.id && floor.shard_index == shard.index {
                        w.next_position = w.next_position.max(floor.position.saturating_add(1));
                    }
                }
                let arrival = self.now().max(w.last_arrival_ms);
                let first = w.next_position;
                let records: Vec<StoredRecord> = members
                    .iter()
                    .enumerate()
                    .map(|(k, &i)| StoredRecord {
                        subseq: first + k as u64,
                        arrival_ms: arrival,
                        partition_key: std::mem::take(&mut entries[i].partition_key),
                        data: std::mem::take(&mut entries[i].data),
                    })
                    .collect();
                if durable {
                    self.commit.enqueue(shard, records);
                } else {
                    let batch: Vec<NewRecord<'_>> =
                        records.iter().map(StoredRecord::as_new).collect();
                    self.store.append(shard.key, &batch).map_err(store_err)?;
                    shard.publish(first + members.len() as u64 - 1);
                }
                w.next_position = first + members.len() as u64;
                w.last_arrival_ms = arrival;
                for (k, &i) in members.iter().enumerate() {
                    results[i] = SequenceNumber {
                        stream_id: stream.id,
                        shard_index: shard.index,
                        position: first + k as u64,
                        arrival_ms: arrival,
                    };
                }
            }
            if !pending.is_empty() {
                // The resharding that closed the shard publishes new routes momentarily.
                tokio::task::yield_now().await;
            }
        }
        if durable {
            // The flusher publishes the new positions to readers once they are durable.
            self.commit
                .records_durable()
                .await
                .map_err(ApiError::internal)?;
        }
        Ok(results)
    }

    /// Reads from `position` on, never past what is durable nor before the retention horizon.
    pub fn read(
        &self,
        stream: &Stream,
        shard: &Shard,
        position: u64,
        limit: usize,
    ) -> Result<ReadOutcome, ApiError> {
        let now = self.now();
        let (cutoff, closed, children) = stream.with_meta(|m| {
            let me = &m.shards[shard.index as usize];
            let children: Vec<ShardMeta> = m
                .shards
                .iter()
                .filter(|s| s.parent == Some(shard.index) || s.adjacent_parent == Some(shard.index))
                .cloned()
                .collect();
            (now - m.retention_ms(), me.closed, children)
        });
        let visible = shard.visible();
        let mut next = position;
        let mut records = Vec::new();
        if position <= visible {
            let want = limit.min((visible - position + 1) as usize);
            let found = self
                .store
                .read(shard.key, position, want, MAX_GET_RECORDS_BYTES)
                .map_err(store_err)?;
            if found.is_empty() {
                // Nothing is stored up to the durable tip: whatever was there has been trimmed.
                next = visible + 1;
            }
            for r in found {
                if r.subseq > visible {
                    break;
                }
                next = r.subseq + 1;
                // Expired but not yet trimmed: never returned.
                if r.arrival_ms >= cutoff {
                    records.push(r);
                }
            }
        }
        let millis_behind_latest = match records.last() {
            Some(last) if last.subseq < visible => (now - last.arrival_ms).max(0),
            _ => 0,
        };
        if let Some(c) = closed {
            // Positions start at 1, so a reader at 0 of an empty closed shard is at its end too.
            if next.max(1) > c.ending_position {
                return Ok(ReadOutcome {
                    records,
                    next_position: None,
                    millis_behind_latest: 0,
                    child_shards: Some(children),
                });
            }
        }
        Ok(ReadOutcome {
            records,
            next_position: Some(next),
            millis_behind_latest,
            child_shards: None,
        })
    }

    /// One pass of retention: trims expired records in bounded batches per shard and removes
    /// the records of deleted streams. Safe to call repeatedly; resumes where it left off.
    fn enforce_retention(&self, failures: &mut Vec<StoreError>) -> RetentionReport {
        let now = self.now();
        let mut report = RetentionReport::default();
        // Streams whose DELETING period is over leave the registry now.
        let expired: Vec<Arc<Stream>> = self
            .streams
            .read()
            .unwrap()
            .values()
            .filter(|s| s.with_meta(|m| m.delete_at_ms.is_some_and(|t| now >= t)))
            .cloned()
            .collect();
        for s in &expired {
            self.forget(s);
        }
        for stream in self.list() {
            let (cutoff, keys) = stream.with_meta(|m| {
                let keys: Vec<ShardKey> = m
                    .shards
                    .iter()
                    .map(|s| ShardKey {
                        stream: m.id,
                        shard: s.index,
                    })
                    .collect();
                (now - m.retention_ms(), keys)
            });
            for key in keys {
                report.shards_visited += 1;
                match self
                    .store
                    .trim_before_time(key, cutoff, self.config.trim_batch)
                {
                    Ok(t) => {
                        report.records_trimmed += t.removed;
                        report.more |= !t.done;
                    }
                    Err(e) => failures.push(e),
                }
            }
        }
        let purging: Vec<u64> = self.purging.lock().unwrap().clone();
        for id in purging {
            let purged = self
                .store
                .delete_stream_records(id, self.config.trim_batch)
                .and_then(|t| {
                    report.records_trimmed += t.removed;
                    if t.done {
                        self.store.remove_stream_meta(id)?;
                    }
                    Ok(t.done)
                });
            match purged {
                Ok(true) => {
                    self.purging.lock().unwrap().retain(|p| *p != id);
                    report.streams_purged += 1;
                }
                Ok(false) => report.more = true,
                Err(e) => failures.push(e),
            }
        }
        report
    }

    /// Runs retention passes until nothing is left to do (tests, and each worker tick).
    ///
    /// A shard or stream the store fails on (say, a corrupt block) does not hold up the
    /// others: every failure is logged, the rest of the work is done, and then the first
    /// failure is returned.
    pub fn enforce_retention_fully(&self) -> Result<RetentionReport, StoreError> {
        let mut total = RetentionReport::default();
        let mut failures = Vec::new();
        loop {
            let r = self.enforce_retention(&mut failures);
            total.shards_visited += r.shards_visited;
            total.records_trimmed += r.records_trimmed;
            total.streams_purged += r.streams_purged;
            if !r.more {
                break;
            }
        }
        for e in failures.iter().skip(1) {
            tracing::error!(error = %e, "retention failed on a shard or stream");
        }
        match failures.into_iter().next() {
            Some(first) => Err(first),
            None => Ok(total),
        }
    }
}
