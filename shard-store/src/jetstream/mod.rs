//! The replicated engine: every shard a JetStream stream, the catalogue a JetStream KV bucket,
//! on a NATS cluster that several kinesd nodes share (cluster mode, `--store nats://…`).
//!
//! # Layout (namespace `ns`, default `kinesd`)
//! - Shard `s` of stream `id`: JetStream stream `ns_<id>_<s>` (file storage, `replicas`
//!   copies), subject `ns.rec.<id>.<s>` while open. One message per group commit, holding a
//!   run of records (`codec.rs`); a record's position is its message's sequence and its index.
//!   A closed shard's stream is bound to `ns.closed.<id>.<s>` instead and carries the
//!   metadata `kinesd-closed`, so a late publish from any node finds no stream and learns it
//!   is closed.
//! - `ns.tip.<id>.<s>` (core NATS, not stored): the writer announces each new tip there after
//!   the acknowledgement, waking SubscribeToShard on every node.
//! - KV bucket `ns_catalog`: `stream.<id>` (documents, revision = KV revision), `name.<name>`
//!   (which stream holds a name), `setting.<name>`, `next-stream-id`, `deleted.<id>` (a
//!   deleted stream's tombstone: writers never re-create its shards; its value is when the
//!   deletion began), `trimmed.<id>.<s>` (the last position of a shard trimmed empty),
//!   `lease.<md5 of consumer ARN>.<s>` (SubscribeToShard leases).
//!
//! # Cleaning up the catalogue
//! Nothing above may pile up for ever. A deleted stream's `trimmed.*` keys go with its shard
//! streams (`delete_stream`); its tombstone goes once those are all gone and
//! [`TOMBSTONE_GRACE_MS`] has passed ([`ShardLog::sweep`](crate::ShardLog::sweep), from the
//! retention worker of any node; idempotent). Leases are removed by the domain once they can
//! no longer refuse or end a subscription (`Catalog::remove_lease`). Keys are erased, not just
//! deleted: the KV purge marker is purged from the bucket's stream too, so nothing of the key
//! stays behind.
//!
//! # Durability and visibility
//! An append resolves once JetStream has acknowledged the message, that is once a quorum of
//! the stream's replicas stored it. A publish that times out is retried with the same
//! `Nats-Msg-Id` (deduplicated by JetStream within `DUPLICATE_WINDOW`) until `write_deadline`,
//! then fails with [`StoreError::Unavailable`]; it is never acknowledged early. Reads ask the
//! stream leader for its last sequence first, so a record acknowledged through any node is
//! visible to a read that starts after the acknowledgement.

mod catalog;
mod cleanup;
pub mod codec;
mod log;
mod writer;

use crate::log::Position;
use crate::{Result, ShardKey, StoreError};
use async_nats::jetstream;
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How long JetStream remembers a message id: longer than any retry of one publish.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// Where and how to reach the cluster.
#[derive(Clone, Debug)]
pub struct JetStreamOptions {
    /// `nats://host:port` of one or more servers of the cluster.
    pub urls: Vec<String>,
    /// Copies of every shard and of the catalogue; `None`: 3 when the cluster has three or
    /// more servers, else 1.
    pub replicas: Option<usize>,
    /// Prefix of every stream, subject and bucket, so several kinesd clusters can share one
    /// NATS cluster. Letters, digits, `-` and `_`.
    pub namespace: String,
    /// How long one JetStream call may take before it is retried or reported.
    pub call_timeout: Duration,
    /// How long a write keeps retrying (a leader election takes 5–8 s) before it is answered
    /// with [`StoreError::Unavailable`].
    pub write_deadline: Duration,
}

impl Default for JetStreamOptions {
    fn default() -> Self {
        JetStreamOptions {
            urls: vec!["nats://127.0.0.1:4222".into()],
            replicas: None,
            namespace: "kinesd".into(),
            call_timeout: Duration::from_secs(3),
            write_deadline: Duration::from_secs(20),
        }
    }
}

/// The engine; cheap to clone.
#[derive(Clone)]
pub struct JetStreamStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: async_nats::Client,
    js: jetstream::Context,
    kv: jetstream::kv::Store,
    options: JetStreamOptions,
    replicas: usize,
    /// Largest message the servers accept.
    max_payload: usize,
    /// This process's prefix of message ids (random per start).
    node: String,
    next_message: AtomicU64,
    /// One writer task per shard written through this node.
    writers: Mutex<HashMap<ShardKey, writer::Handle>>,
    /// Tips of the shards watched on this node (SubscribeToShard).
    tips: Mutex<HashMap<ShardKey, tokio::sync::watch::Sender<Position>>>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every map here is changed by single inserts and removes: poison cannot leave it torn.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn unavailable(what: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("NATS JetStream: {what}"))
}

/// JetStream names a missing stream or message in its error text (codes 10059, 10037);
/// the client's error kinds do not tell them apart from transport failures everywhere.
fn is_not_found(e: &impl std::fmt::Display) -> bool {
    let text = e.to_string().to_ascii_lowercase();
    text.contains("not found") || text.contains("no message found")
}

impl JetStreamStore {
    /// Connects to the cluster and opens (creating if needed) the catalogue bucket. Retries
    /// while no server answers, logging the URLs once per attempt.
    pub async fn connect(options: JetStreamOptions) -> Result<JetStreamStore> {
        if options.namespace.is_empty()
            || !options
                .namespace
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(StoreError::Io(format!(
                "NATS namespace {:?}: letters, digits, '-' and '_' only",
                options.namespace
            )));
        }
        let urls = options.urls.join(",");
        let client = loop {
            let attempt = async_nats::ConnectOptions::new()
                .name("kinesd")
                .connection_timeout(options.call_timeout)
                .max_reconnects(None)
                .connect(options.urls.as_slice())
                .await;
            match attempt {
                Ok(client) => break client,
                Err(e) => {
                    tracing::error!(%urls, error = %e, "cannot reach NATS; retrying in 2 s");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        };
        let info = client.server_info();
        // The server lists every cluster member's client URL, its own included.
        let servers = info.connect_urls.len().max(1);
        let replicas = options.replicas.unwrap_or(if servers >= 3 { 3 } else { 1 });
        let mut js = jetstream::new(client.clone());
        js.set_timeout(options.call_timeout);
        // A cluster just started may have no JetStream leader yet, and a bucket just created
        // answers reads only once its own leader is elected: wait for both.
        let kv = loop {
            match catalog::open_bucket(&js, &options.namespace, replicas).await {
                Ok(kv) => match catalog::probe(&kv, options.call_timeout).await {
                    Ok(()) => break kv,
                    Err(e) => {
                        tracing::warn!(%urls, error = %e, "the catalogue is not readable yet; retrying in 1 s")
                    }
                },
                Err(e) => {
                    tracing::warn!(%urls, error = %e, "JetStream is not ready; retrying in 1 s")
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        };
        let node: String = {
            use rand::Rng;
            let n: u64 = rand::thread_rng().gen();
            format!("{n:016x}")
        };
        tracing::info!(
            %urls,
            server = %info.server_name,
            version = %info.version,
            servers,
            replicas,
            max_payload = info.max_payload,
            "connected to NATS JetStream"
        );
        Ok(JetStreamStore {
            inner: Arc::new(Inner {
                client,
                js,
                kv,
                replicas,
                max_payload: info.max_payload,
                node,
                next_message: AtomicU64::new(0),
                writers: Mutex::default(),
                tips: Mutex::default(),
                options,
            }),
        })
    }

    /// The largest message the servers accept: records larger than this, less the message
    /// header, cannot be stored.
    pub fn max_payload(&self) -> usize {
        self.inner.max_payload
    }

    /// Copies kept of each shard and of the catalogue.
    pub fn replicas(&self) -> usize {
        self.inner.replicas
    }
}

impl Inner {
    fn ns(&self) -> &str {
        &self.options.namespace
    }

    fn stream_name(&self, key: ShardKey) -> String {
        format!("{}_{}_{}", self.ns(), key.stream, key.shard)
    }

    fn subject(&self, key: ShardKey) -> String {
        format!("{}.rec.{}.{}", self.ns(), key.stream, key.shard)
    }

    fn closed_subject(&self, key: ShardKey) -> String {
        format!("{}.closed.{}.{}", self.ns(), key.stream, key.shard)
    }

    fn tip_subject(&self, key: ShardKey) -> String {
        format!("{}.tip.{}.{}", self.ns(), key.stream, key.shard)
    }

    /// The shard stream's configuration: open, or closed at `closed_ms` (the closer's clock).
    fn shard_config(&self, key: ShardKey, closed_ms: Option<i64>) -> jetstream::stream::Config {
        let mut metadata = HashMap::new();
        if let Some(at) = closed_ms {
            metadata.insert(CLOSED_MARK.to_string(), at.to_string());
        }
        jetstream::stream::Config {
            name: self.stream_name(key),
            subjects: vec![if closed_ms.is_some() {
                self.closed_subject(key)
            } else {
                self.subject(key)
            }],
            storage: jetstream::stream::StorageType::File,
            num_replicas: self.replicas,
            allow_direct: true,
            duplicate_window: DUPLICATE_WINDOW,
            metadata,
            ..Default::default()
        }
    }

    /// A handle on the shard's stream (no round trip).
    async fn shard_stream(&self, key: ShardKey) -> Result<jetstream::stream::Stream<()>> {
        self.js
            .get_stream_no_info(self.stream_name(key))
            .await
            .map_err(|e| StoreError::Io(format!("shard stream name: {e}")))
    }
}

/// The catalogue key marking a stream whose records are being deleted: a writer never
/// creates a shard stream for it again.
fn tombstone(stream: u64) -> String {
    format!("deleted.{stream}")
}

/// Stream metadata key marking a closed shard; its value is when it was closed (ms since the
/// epoch, by the closing node's clock). Shards closed by older versions carry "1": a very
/// old close.
const CLOSED_MARK: &str = "kinesd-closed";

/// When a shard stream's configuration says it was closed, if it is closed.
fn closed_at(metadata: &HashMap<String, String>) -> Option<i64> {
    metadata
        .get(CLOSED_MARK)
        .map(|v| v.parse().unwrap_or(i64::MIN))
}

/// A tombstone outlives the deletion of its stream's shard streams by this long (by the
/// injected clock) before the sweep removes it: far longer than any write that may have
/// begun before the deletion keeps retrying (`write_deadline`, 20 s by default), so no
/// writer can meet the missing tombstone and re-create a shard stream.
pub const TOMBSTONE_GRACE_MS: i64 = 600_000;
