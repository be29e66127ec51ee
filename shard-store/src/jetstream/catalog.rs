//! [`Catalog`] over a JetStream KV bucket shared by every node: documents replaced by
//! compare-and-set on the KV revision, a name claimed by create-or-update on its revision,
//! ids from a counter advanced by compare-and-set, and a watch that tells every node what the
//! others changed.

use super::{is_not_found, unavailable, JetStreamStore};
use crate::log::{
    revision_conflict, Catalog, CatalogChange, Followed, Lease, NameClaim, StoreFuture, StreamDoc,
};
use crate::{Result, StoreError};
use async_nats::jetstream::{self, kv};
use futures_util::StreamExt;
use std::future::Future;
use std::time::Duration;
use tokio::time::timeout;

const STREAM: &str = "stream.";
const NAME: &str = "name.";
const SETTING: &str = "setting.";
const NEXT_ID: &str = "next-stream-id";
const ITERATOR_KEY: &str = "iterator-key";
const LEASE: &str = "lease.";

pub(super) async fn open_bucket(
    js: &jetstream::Context,
    namespace: &str,
    replicas: usize,
) -> Result<kv::Store> {
    let bucket = format!("{namespace}_catalog");
    if let Ok(store) = js.get_key_value(&bucket).await {
        return Ok(store);
    }
    js.create_key_value(kv::Config {
        bucket,
        history: 1,
        num_replicas: replicas,
        storage: jetstream::stream::StorageType::File,
        ..Default::default()
    })
    .await
    .map_err(|e| unavailable(format!("catalogue bucket: {e}")))
}

/// One read of the bucket: succeeds once it has a leader.
pub(super) async fn probe(kv: &kv::Store, wait: Duration) -> Result<()> {
    match timeout(wait, kv.get(NEXT_ID)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(unavailable(format!("catalogue read: {e}"))),
        Err(_) => Err(unavailable("catalogue read: timed out")),
    }
}

/// Setting names become KV keys: anything outside the KV key alphabet is hex-encoded.
fn setting_key(name: &str) -> String {
    if name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        format!("{SETTING}{name}")
    } else {
        let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
        format!("{SETTING}x{hex}")
    }
}

fn name_key(name: &str) -> String {
    // Stream names are [a-zA-Z0-9_.-]: valid KV key characters as they are.
    format!("{NAME}{name}")
}

fn name_key_name(key: &str) -> &str {
    &key[NAME.len()..]
}

/// A name claim's or a lease's value: who holds it and since when, 16 bytes big-endian.
fn holder_value(holder: u64, since_ms: i64) -> Vec<u8> {
    let mut value = holder.to_be_bytes().to_vec();
    value.extend_from_slice(&since_ms.to_be_bytes());
    value
}

/// Reads a [`holder_value`] stored under `key`.
fn read_holder(key: &str, value: &[u8]) -> Result<(u64, i64)> {
    let raw: [u8; 16] = value
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("{key}: {} bytes", value.len())))?;
    Ok((
        u64::from_be_bytes(raw[..8].try_into().expect("8 bytes")),
        i64::from_be_bytes(raw[8..].try_into().expect("8 bytes")),
    ))
}

impl JetStreamStore {
    fn kv(&self) -> &kv::Store {
        &self.inner.kv
    }

    async fn bounded<T, E: std::fmt::Display>(
        &self,
        what: &str,
        call: impl Future<Output = std::result::Result<T, E>>,
    ) -> Result<T> {
        match timeout(self.inner.options.call_timeout, call).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(unavailable(format!("{what}: {e}"))),
            Err(_) => Err(unavailable(format!("{what}: timed out"))),
        }
    }

    async fn entry(&self, key: String) -> Result<Option<kv::Entry>> {
        let entry = self.bounded("catalogue read", self.kv().entry(key)).await?;
        Ok(entry.filter(|e| e.operation == kv::Operation::Put))
    }

    /// Creates `key` (expected `None`) or replaces it at revision `expected`.
    async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<u64>,
        value: Vec<u8>,
    ) -> std::result::Result<u64, Option<StoreError>> {
        let call = async {
            match expected {
                None => self.kv().create(key, value.into()).await.map_err(|e| {
                    (
                        e.kind() == kv::CreateErrorKind::AlreadyExists,
                        e.to_string(),
                    )
                }),
                Some(revision) => {
                    self.kv()
                        .update(key, value.into(), revision)
                        .await
                        .map_err(|e| {
                            (
                                e.kind() == kv::UpdateErrorKind::WrongLastRevision,
                                e.to_string(),
                            )
                        })
                }
            }
        };
        match timeout(self.inner.options.call_timeout, call).await {
            Ok(Ok(revision)) => Ok(revision),
            Ok(Err((true, _))) => Err(None),
            Ok(Err((false, e))) => Err(Some(unavailable(format!("catalogue write: {e}")))),
            Err(_) => Err(Some(unavailable("catalogue write: timed out"))),
        }
    }

    fn doc(entry: kv::Entry) -> Option<StreamDoc> {
        let stream = entry.key.strip_prefix(STREAM)?.parse().ok()?;
        Some(StreamDoc {
            stream,
            revision: entry.revision,
            doc: entry.value.to_vec(),
        })
    }
}

impl Catalog for JetStreamStore {
    fn allocate_stream_id(&self) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            for _ in 0..100 {
                let current = self.entry(NEXT_ID.to_string()).await?;
                let (next, expected) = match &current {
                    Some(e) => {
                        let raw: [u8; 8] = e.value.as_ref().try_into().map_err(|_| {
                            StoreError::Corrupt(format!("{NEXT_ID}: {} bytes", e.value.len()))
                        })?;
                        (u64::from_be_bytes(raw), Some(e.revision))
                    }
                    None => (1, None),
                };
                let advanced = next + 1;
                match self
                    .compare_and_set(NEXT_ID, expected, advanced.to_be_bytes().to_vec())
                    .await
                {
                    Ok(_) => return Ok(next),
                    Err(None) => continue,
                    Err(Some(e)) => return Err(e),
                }
            }
            Err(unavailable("stream id counter: too much contention"))
        })
    }

    fn load_streams(&self) -> StoreFuture<'_, Vec<StreamDoc>> {
        Box::pin(async move {
            let mut keys = self.bounded("catalogue keys", self.kv().keys()).await?;
            let mut names = Vec::new();
            loop {
                match timeout(self.inner.options.call_timeout, keys.next()).await {
                    Ok(Some(Ok(key))) if key.starts_with(STREAM) => names.push(key),
                    Ok(Some(Ok(_))) => {}
                    Ok(Some(Err(e))) if is_not_found(&e) => break,
                    Ok(Some(Err(e))) => return Err(unavailable(format!("catalogue keys: {e}"))),
                    Ok(None) => break,
                    Err(_) => return Err(unavailable("catalogue keys: timed out")),
                }
            }
            let mut docs = Vec::new();
            for key in names {
                if let Some(doc) = self.entry(key).await?.and_then(Self::doc) {
                    docs.push(doc);
                }
            }
            docs.sort_by_key(|d| d.stream);
            Ok(docs)
        })
    }

    fn stream(&self, stream: u64) -> StoreFuture<'_, Option<StreamDoc>> {
        Box::pin(async move {
            Ok(self
                .entry(format!("{STREAM}{stream}"))
                .await?
                .and_then(Self::doc))
        })
    }

    fn put_stream(&self, stream: u64, expected: Option<u64>, doc: Vec<u8>) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            self.compare_and_set(&format!("{STREAM}{stream}"), expected, doc)
                .await
                .map_err(|e| e.unwrap_or_else(|| revision_conflict(stream, expected)))
        })
    }

    fn remove_stream(&self, stream: u64) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.bounded(
                "catalogue remove",
                self.kv().purge(format!("{STREAM}{stream}")),
            )
            .await
        })
    }

    fn name_claim(&self, name: &str) -> StoreFuture<'_, Option<NameClaim>> {
        let key = name_key(name);
        Box::pin(async move {
            let Some(entry) = self.entry(key.clone()).await? else {
                return Ok(None);
            };
            let (stream, claimed_ms) = read_holder(&key, &entry.value)?;
            Ok(Some(NameClaim {
                stream,
                claimed_ms,
                revision: entry.revision,
            }))
        })
    }

    fn claim_name(
        &self,
        name: &str,
        stream: u64,
        claimed_ms: i64,
        expected: Option<u64>,
    ) -> StoreFuture<'_, u64> {
        let key = name_key(name);
        let value = holder_value(stream, claimed_ms);
        Box::pin(async move {
            self.compare_and_set(&key, expected, value)
                .await
                .map_err(|e| {
                    e.unwrap_or_else(|| {
                        StoreError::Conflict(format!("{key} is held by another stream"))
                    })
                })
        })
    }

    fn lease(&self, key: &str) -> StoreFuture<'_, Option<Lease>> {
        let key = format!("{LEASE}{key}");
        Box::pin(async move {
            let Some(entry) = self.entry(key.clone()).await? else {
                return Ok(None);
            };
            let (holder, started_ms) = read_holder(&key, &entry.value)?;
            Ok(Some(Lease {
                holder,
                started_ms,
                revision: entry.revision,
            }))
        })
    }

    fn leases(&self) -> StoreFuture<'_, Vec<(String, Lease)>> {
        Box::pin(async move {
            let mut all = Vec::new();
            for key in self.inner.catalogue_keys(LEASE).await? {
                let name = key[LEASE.len()..].to_string();
                if let Some(lease) = self.lease(&name).await? {
                    all.push((name, lease));
                }
            }
            Ok(all)
        })
    }

    fn remove_lease(&self, key: &str, revision: u64) -> StoreFuture<'_, bool> {
        let key = format!("{LEASE}{key}");
        Box::pin(async move { self.inner.erase(&key, Some(revision)).await })
    }

    fn put_lease(
        &self,
        key: &str,
        holder: u64,
        started_ms: i64,
        expected: Option<u64>,
    ) -> StoreFuture<'_, u64> {
        let key = format!("{LEASE}{key}");
        let value = holder_value(holder, started_ms);
        Box::pin(async move {
            self.compare_and_set(&key, expected, value)
                .await
                .map_err(|e| e.unwrap_or_else(|| StoreError::Conflict(format!("{key} changed"))))
        })
    }

    fn release_name(&self, name: &str, stream: u64) -> StoreFuture<'_, ()> {
        let key = name_key(name);
        Box::pin(async move {
            match self.name_claim(name_key_name(&key)).await? {
                Some(claim) if claim.stream == stream => {
                    // Lost to a newer claim meanwhile: then there is nothing to release.
                    let _ = self
                        .bounded(
                            "catalogue release",
                            self.kv().delete_expect_revision(&key, Some(claim.revision)),
                        )
                        .await;
                    Ok(())
                }
                _ => Ok(()),
            }
        })
    }

    fn setting(&self, name: &str) -> StoreFuture<'_, Option<Vec<u8>>> {
        let key = setting_key(name);
        Box::pin(async move { Ok(self.entry(key).await?.map(|e| e.value.to_vec())) })
    }

    fn put_setting(&self, name: &str, value: Vec<u8>) -> StoreFuture<'_, ()> {
        let key = setting_key(name);
        Box::pin(async move {
            self.bounded("catalogue write", self.kv().put(key, value.into()))
                .await
                .map(drop)
        })
    }

    fn iterator_key(&self) -> StoreFuture<'_, [u8; 32]> {
        Box::pin(async move {
            let key = setting_key(ITERATOR_KEY);
            for _ in 0..10 {
                if let Some(e) = self.entry(key.clone()).await? {
                    return e.value.as_ref().try_into().map_err(|_| {
                        StoreError::Corrupt(format!("{key}: {} bytes", e.value.len()))
                    });
                }
                let fresh: [u8; 32] = rand::random();
                match self.compare_and_set(&key, None, fresh.to_vec()).await {
                    Ok(_) => return Ok(fresh),
                    // Another node created it first: read theirs.
                    Err(None) => tokio::time::sleep(Duration::from_millis(20)).await,
                    Err(Some(e)) => return Err(e),
                }
            }
            Err(unavailable("iterator key: not readable after creation"))
        })
    }

    fn sync_point(&self) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let stream = self
                .inner
                .js
                .get_stream_no_info(&self.kv().stream_name)
                .await
                .map_err(|e| unavailable(format!("catalogue stream: {e}")))?;
            let info = self.bounded("catalogue info", stream.get_info()).await?;
            Ok(info.state.last_sequence)
        })
    }

    fn follow(&self) -> StoreFuture<'_, Option<Followed>> {
        Box::pin(async move {
            let mut watch = self
                .bounded("catalogue watch", self.kv().watch_all())
                .await?;
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            tokio::spawn(async move {
                while let Some(entry) = watch.next().await {
                    let Ok(entry) = entry else {
                        // The client re-creates the watch's consumer on reconnect; a failed
                        // item is skipped and the documents' revisions sort out the rest.
                        continue;
                    };
                    let revision = entry.revision;
                    let change = if let Some(id) = entry.key.strip_prefix(STREAM) {
                        match (id.parse(), entry.operation) {
                            (Ok(_), kv::Operation::Put) => {
                                JetStreamStore::doc(entry).map(CatalogChange::Stream)
                            }
                            (Ok(id), _) => Some(CatalogChange::Removed(id)),
                            (Err(_), _) => None,
                        }
                    } else if let Some(key) = entry.key.strip_prefix(LEASE) {
                        let holder = (entry.operation == kv::Operation::Put)
                            .then(|| {
                                entry
                                    .value
                                    .get(..8)?
                                    .try_into()
                                    .ok()
                                    .map(u64::from_be_bytes)
                            })
                            .flatten();
                        Some(CatalogChange::Lease {
                            key: key.to_string(),
                            holder,
                        })
                    } else {
                        entry
                            .key
                            .strip_prefix(SETTING)
                            .map(|name| CatalogChange::Setting(name.to_string()))
                    };
                    if tx.send((revision, change)).is_err() {
                        return;
                    }
                }
            });
            Ok(Some(rx))
        })
    }
}
