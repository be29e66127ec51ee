//! The registry: every live stream by name, the storage engine, and the control-plane changes
//! (create, delete, metadata updates).
//!
//! Invariants:
//! - Control-plane changes are serialized by `control`, and each is durable in the catalogue
//!   (compare-and-set on the revision the stream was read at) before memory shows it.
//! - Stream ids are never reused, so sequence numbers and iterators of a deleted stream cannot
//!   address a new stream of the same name.
//! - A stream whose DELETING period is over leaves the map and its id joins `purging` until
//!   retention has removed its records and its document (`retention.rs`).

use super::account::AccountSettings;
use super::hash;
use super::iterator::Signer;
use super::meta::{ShardMeta, StreamMeta, StreamMode, StreamStatus, META_VERSION};
use super::stream::Stream;
use super::subscriptions::Subscriptions;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::error::ApiError;
use crate::protocol::arn;
use shard_store::{Catalog, ShardKey, ShardLog, ShardStats, StoreError, StreamDoc};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

/// The storage engine the registry runs on: one shard log and one catalogue.
#[derive(Clone)]
pub struct Storage {
    pub log: Arc<dyn ShardLog>,
    pub catalog: Arc<dyn Catalog>,
    /// DynamoDB's tables (`None`: the engine keeps none; see `dynamodb`).
    pub tables: Option<Arc<dyn shard_store::TableStore>>,
}

pub struct Registry {
    pub(super) config: Config,
    pub(super) clock: SharedClock,
    pub(super) log: Arc<dyn ShardLog>,
    pub(super) catalog: Arc<dyn Catalog>,
    pub(super) signer: Signer,
    pub(super) streams: RwLock<BTreeMap<String, Arc<Stream>>>,
    /// Deleted streams whose records are still being removed.
    pub(super) purging: Mutex<Vec<u64>>,
    /// Serializes control-plane changes (create, delete, updates, shard-limit accounting).
    pub(super) control: tokio::sync::Mutex<()>,
    /// Wakes the retention worker (e.g. a deleted stream's records await removal).
    pub(super) background: tokio::sync::Notify,
    /// The account settings document, as last stored (changed under `control`).
    pub(super) settings: RwLock<AccountSettings>,
    pub(super) subscriptions: Subscriptions,
    /// The highest catalogue revision this node has applied (`follow.rs`).
    pub(super) applied: tokio::sync::watch::Sender<u64>,
    /// What `GET /metrics` reports (`metrics.rs`).
    pub metrics: crate::metrics::Metrics,
    /// Fault rules of the control API (`control/faults.rs`).
    pub faults: crate::control::faults::Faults,
    /// Control-plane rate buckets (`throughput.rs`; only with `--enforce-limits`).
    pub(super) control_limits: super::throughput::ControlLimits,
    /// The DynamoDB subset served on the same port (`dynamodb`).
    pub dynamodb: crate::dynamodb::Service,
}

/// Compare-and-set conflicts one metadata change retries before it gives up (each means
/// another node's change went through).
pub(super) const MAX_CONFLICTS: u32 = 20;

/// A claim on a name whose stream document is not there yet is honoured this long: the
/// claimer may be about to write it; after that the claimer is taken for dead.
const CLAIM_GRACE_MS: i64 = 30_000;

/// A stored stream document, decoded.
pub(super) fn parse_meta(doc: &StreamDoc) -> Result<StreamMeta, StoreError> {
    let id = doc.stream;
    let meta: StreamMeta = serde_json::from_slice(&doc.doc)
        .map_err(|e| StoreError::Corrupt(format!("stream {id}: {e}")))?;
    if meta.version != META_VERSION {
        return Err(StoreError::Corrupt(format!(
            "stream {id}: unknown metadata version {}",
            meta.version
        )));
    }
    Ok(meta)
}

impl Registry {
    /// Loads every stream from the catalogue; streams deleted before a restart resume their
    /// purge.
    pub async fn open(
        storage: Storage,
        config: Config,
        clock: SharedClock,
    ) -> Result<Arc<Registry>, StoreError> {
        // Following starts before anything is read, so no change falls between the reads and
        // the first change reported; what the reads see is at least the catalogue's revision
        // taken now.
        let changes = storage.catalog.follow().await?;
        let revision_read = storage.catalog.sync_point().await?;
        let signer = Signer::new(storage.catalog.iterator_key().await?);
        let settings = AccountSettings::load(storage.catalog.as_ref()).await?;
        let registry = Registry {
            config,
            clock,
            log: storage.log,
            catalog: storage.catalog,
            signer,
            streams: RwLock::new(BTreeMap::new()),
            purging: Mutex::new(Vec::new()),
            control: tokio::sync::Mutex::new(()),
            background: tokio::sync::Notify::new(),
            settings: RwLock::new(settings),
            subscriptions: Subscriptions::default(),
            applied: tokio::sync::watch::Sender::new(revision_read),
            metrics: crate::metrics::Metrics::default(),
            faults: crate::control::faults::Faults::default(),
            control_limits: Default::default(),
            dynamodb: crate::dynamodb::Service::new(storage.tables),
        };
        for doc in registry.catalog.load_streams().await? {
            let id = doc.stream;
            let meta = parse_meta(&doc)?;
            if meta.delete_at_ms.is_some_and(|t| t <= registry.now()) {
                // Deleted before the restart: finish removing its records.
                registry.purging().push(id);
                continue;
            }
            let stream = registry.build_stream(meta, doc.revision);
            registry.streams_mut().insert(stream.name.clone(), stream);
        }
        let registry = Arc::new(registry);
        if let Some(changes) = changes {
            tokio::spawn(super::follow::follow(Arc::downgrade(&registry), changes));
        }
        Ok(registry)
    }

    pub(super) fn build_stream(&self, meta: StreamMeta, revision: u64) -> Arc<Stream> {
        let arn = arn::stream_arn(&self.config.region, &self.config.account_id, &meta.name);
        Arc::new(Stream::new(meta, revision, arn))
    }

    pub(super) fn streams_mut(
        &self,
    ) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<Stream>>> {
        // Entries are inserted and removed whole: poison cannot leave the map half changed.
        self.streams.write().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn streams(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Stream>>> {
        self.streams.read().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn purging(&self) -> std::sync::MutexGuard<'_, Vec<u64>> {
        self.purging.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// SubscribeToShard's leases.
    pub fn subscriptions(&self) -> &Subscriptions {
        &self.subscriptions
    }

    /// Signs and opens shard iterators and paging tokens.
    pub fn signer(&self) -> &Signer {
        &self.signer
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
        let found = self.streams().get(name).cloned();
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
        self.streams()
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

    /// Stores `meta` durably over the revision `expected`; returns the new revision.
    pub(super) async fn persist_meta(
        &self,
        meta: &StreamMeta,
        expected: Option<u64>,
    ) -> Result<u64, StoreError> {
        let doc = serde_json::to_vec(meta).map_err(|e| StoreError::Io(e.to_string()))?;
        self.catalog.put_stream(meta.id, expected, doc).await
    }

    /// Applies a metadata change, makes it durable, and only then shows it. When another node
    /// changed the document first (the compare-and-set fails), the change is applied again to
    /// the catalogue's current document: `change` must decide from the document it is given.
    pub async fn update_meta<R>(
        &self,
        stream: &Stream,
        mut change: impl FnMut(&mut StreamMeta) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let mut attempts = 0;
        loop {
            let _guard = self.control.lock().await;
            let mut copy = stream.meta();
            let out = change(&mut copy)?;
            match self.persist_meta(&copy, Some(stream.revision())).await {
                Ok(revision) => {
                    stream.replace(copy, revision);
                    return Ok(out);
                }
                Err(StoreError::Conflict(_)) if attempts < MAX_CONFLICTS => {
                    attempts += 1;
                    self.refresh(stream).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Reloads a stream's document from the catalogue after another node changed it.
    pub(super) async fn refresh(&self, stream: &Stream) -> Result<(), ApiError> {
        match self.catalog.stream(stream.id).await? {
            Some(doc) => {
                let meta = parse_meta(&doc)?;
                stream.replace(meta, doc.revision);
                Ok(())
            }
            None => Err(self.not_found(&stream.name)),
        }
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
        if let Some(existing) = self.streams().get(name) {
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
        let claim = self.free_name(name, now).await?;
        let id = self.catalog.allocate_stream_id().await?;
        let in_use = || {
            ApiError::ResourceInUse(format!(
                "Stream {name} under account {} already exists.",
                self.config.account_id
            ))
        };
        match self.catalog.claim_name(name, id, now, claim).await {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => return Err(in_use()),
            Err(e) => return Err(e.into()),
        }
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
        let revision = self.persist_meta(&meta, None).await?;
        let stream = self.build_stream(meta, revision);
        let replaced = self.streams_mut().insert(name.to_string(), stream.clone());
        if let Some(old) = replaced {
            self.purging().push(old.id);
        }
        Ok(stream)
    }

    /// Checks with the catalogue that no live stream holds `name` (another node may have
    /// created it) and returns the revision a claim on it must replace.
    async fn free_name(&self, name: &str, now: i64) -> Result<Option<u64>, ApiError> {
        let Some(claim) = self.catalog.name_claim(name).await? else {
            return Ok(None);
        };
        let held = match self.catalog.stream(claim.stream).await? {
            Some(doc) => {
                let meta = parse_meta(&doc)?;
                meta.delete_at_ms.is_none_or(|t| now < t)
            }
            None => now - claim.claimed_ms < CLAIM_GRACE_MS && now >= claim.claimed_ms,
        };
        if held {
            return Err(ApiError::ResourceInUse(format!(
                "Stream {name} under account {} already exists.",
                self.config.account_id
            )));
        }
        Ok(Some(claim.revision))
    }

    pub async fn delete_stream(&self, stream: &Arc<Stream>) -> Result<(), ApiError> {
        self.delete_stream_after(stream, self.config.delete_delay_ms)
            .await
    }

    /// Deletes a stream without its DELETING period (the control API's reset).
    pub async fn delete_stream_now(&self, stream: &Arc<Stream>) -> Result<(), ApiError> {
        self.delete_stream_after(stream, 0).await
    }

    async fn delete_stream_after(
        &self,
        stream: &Arc<Stream>,
        delay_ms: i64,
    ) -> Result<(), ApiError> {
        let delete_at = self.now() + delay_ms;
        self.update_meta(stream, |m| {
            m.delete_at_ms.get_or_insert(delete_at);
            Ok(())
        })
        .await?;
        if delay_ms <= 0 {
            self.forget(stream);
            self.release_name(stream).await;
        }
        Ok(())
    }

    /// Gives up a deleted stream's claim on its name, so the name can be created again at
    /// once (a claim left behind is taken over after `CLAIM_GRACE_MS` anyway).
    pub(super) async fn release_name(&self, stream: &Stream) {
        if let Err(e) = self.catalog.release_name(&stream.name, stream.id).await {
            tracing::warn!(stream = %stream.name, error = %e, "cannot release a deleted stream's name");
        }
    }

    /// Wakes the retention worker (the clock moved, or there is work).
    pub fn wake_background(&self) {
        self.background.notify_one();
    }

    /// Drops a deleted stream from the registry and queues its records for removal.
    pub(super) fn forget(&self, stream: &Arc<Stream>) {
        {
            let mut streams = self.streams_mut();
            if streams.get(&stream.name).is_some_and(|s| s.id == stream.id) {
                streams.remove(&stream.name);
            }
        }
        self.purging().push(stream.id);
        self.background.notify_one();
    }

    /// Count and bytes of the records stored in a shard, by key (the stream may be gone): a
    /// full scan, for tests and diagnostics.
    pub async fn shard_stats(&self, key: ShardKey) -> Result<ShardStats, StoreError> {
        self.log.stats(key).await
    }

    /// Makes everything written so far durable (shutdown).
    pub async fn sync(&self) -> Result<(), StoreError> {
        self.log.sync().await
    }
}
