//! Removing what is no longer needed from JetStream and the catalogue: retention trims of a
//! shard's stream, a deleted stream's shard streams and notes, and the periodic sweep of
//! catalogue keys that can no longer matter (tombstones past their grace, old leases).
//! Everything here is idempotent and may run from any node at once.

use super::codec;
use super::log::trimmed_prefix;
use super::{is_not_found, locked, tombstone, unavailable, Inner, TOMBSTONE_GRACE_MS};
use crate::{Result, ShardKey, TrimReport};
use futures_util::StreamExt;
use tokio::time::timeout;

impl Inner {
    pub(super) async fn trim(
        &self,
        key: ShardKey,
        cutoff_ms: i64,
        max: usize,
    ) -> Result<TrimReport> {
        let done = TrimReport {
            removed: 0,
            done: true,
        };
        let Some((first, last)) = self.bounds(key).await? else {
            return Ok(done);
        };
        if last == 0 || first > last {
            return Ok(done);
        }
        let mut cut = first;
        let mut removed = 0;
        let mut finished = true;
        let mut last_count = None;
        while cut <= last {
            let Some(message) = self.message(key, cut).await? else {
                cut += 1;
                continue;
            };
            let (arrival, count) = codec::header(cut, &message)?;
            if arrival >= cutoff_ms {
                break;
            }
            if removed > 0 && removed + count > max {
                finished = false;
                break;
            }
            removed += count;
            if cut == last {
                last_count = Some(count);
            }
            cut += 1;
        }
        if let Some(count) = last_count {
            // The shard's last message goes: keep its last position for `last_position`.
            let tip = codec::position(last, count.saturating_sub(1));
            let noted = timeout(
                self.options.call_timeout,
                self.kv
                    .put(self.trimmed_key(key), tip.to_be_bytes().to_vec().into()),
            )
            .await;
            match noted {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(unavailable(e)),
                Err(_) => return Err(unavailable("catalogue write timed out")),
            }
        }
        if cut > first {
            let stream = self.shard_stream(key).await?;
            match timeout(self.options.call_timeout, stream.purge().sequence(cut)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(unavailable(e)),
                Err(_) => return Err(unavailable("purge timed out")),
            }
        }
        Ok(TrimReport {
            removed,
            done: finished,
        })
    }

    pub(super) async fn delete_stream(&self, stream: u64, now_ms: i64) -> Result<TrimReport> {
        // The tombstone first, so no writer re-creates a shard stream once it is deleted
        // (kept as it is when a deletion resumes, so its grace runs from the first attempt)...
        let marked = timeout(
            self.options.call_timeout,
            self.kv
                .create(tombstone(stream), now_ms.to_be_bytes().to_vec().into()),
        )
        .await;
        match marked {
            Ok(Ok(_)) => {}
            Ok(Err(e)) if e.kind() == async_nats::jetstream::kv::CreateErrorKind::AlreadyExists => {
            }
            Ok(Err(e)) => return Err(unavailable(e)),
            Err(_) => return Err(unavailable("tombstone write timed out")),
        }
        // ...and a second pass for one created between its check and the tombstone.
        for _ in 0..2 {
            self.delete_shard_streams(stream).await?;
        }
        // The shards' trim notes mean nothing without their shards.
        for key in self.catalogue_keys(&trimmed_prefix(stream)).await? {
            self.erase(&key, None).await?;
        }
        locked(&self.writers).retain(|k, _| k.stream != stream);
        locked(&self.tips).retain(|k, _| k.stream != stream);
        Ok(TrimReport {
            removed: 0,
            done: true,
        })
    }

    /// Removes the tombstones whose grace is over and whose stream has no shard stream left
    /// (deleting any that is, for the next sweep), with what is left of their trim notes.
    /// Returns how many tombstones went.
    pub(super) async fn sweep(&self, now_ms: i64) -> Result<usize> {
        let tombstones = self.catalogue_keys("deleted.").await?;
        if tombstones.is_empty() {
            return Ok(0);
        }
        let shard_streams = self.stream_names(&format!("{}_", self.ns())).await?;
        let mut swept = 0;
        for key in tombstones {
            let Some(stream) = key
                .strip_prefix("deleted.")
                .and_then(|id| id.parse::<u64>().ok())
            else {
                continue;
            };
            let deleted_ms = match timeout(self.options.call_timeout, self.kv.get(&key)).await {
                Ok(Ok(Some(v))) => <[u8; 8]>::try_from(v.as_ref()).ok().map(i64::from_be_bytes),
                Ok(Ok(None)) => continue,
                Ok(Err(e)) => return Err(unavailable(e)),
                Err(_) => return Err(unavailable("catalogue read timed out")),
            };
            let Some(deleted_ms) = deleted_ms else {
                // Written by an older version, without a time: its grace starts now.
                let dated = self.kv.put(&key, now_ms.to_be_bytes().to_vec().into());
                match timeout(self.options.call_timeout, dated).await {
                    Ok(Ok(_)) => continue,
                    Ok(Err(e)) => return Err(unavailable(e)),
                    Err(_) => return Err(unavailable("catalogue write timed out")),
                }
            };
            if now_ms - deleted_ms < TOMBSTONE_GRACE_MS {
                continue;
            }
            let prefix = format!("{}_{}_", self.ns(), stream);
            if shard_streams.iter().any(|n| n.starts_with(&prefix)) {
                // Not finished (or a shard stream was re-created): finish it first.
                self.delete_shard_streams(stream).await?;
                continue;
            }
            for trimmed in self.catalogue_keys(&trimmed_prefix(stream)).await? {
                self.erase(&trimmed, None).await?;
            }
            self.erase(&key, None).await?;
            swept += 1;
        }
        Ok(swept)
    }

    /// The catalogue's keys that begin with `prefix`.
    pub(super) async fn catalogue_keys(&self, prefix: &str) -> Result<Vec<String>> {
        let mut keys = match timeout(self.options.call_timeout, self.kv.keys()).await {
            Ok(Ok(keys)) => keys,
            Ok(Err(e)) => return Err(unavailable(format!("catalogue keys: {e}"))),
            Err(_) => return Err(unavailable("catalogue keys: timed out")),
        };
        let mut found = Vec::new();
        loop {
            match timeout(self.options.call_timeout, keys.next()).await {
                Ok(Some(Ok(key))) if key.starts_with(prefix) => found.push(key),
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(e))) if is_not_found(&e) => break,
                Ok(Some(Err(e))) => return Err(unavailable(format!("catalogue keys: {e}"))),
                Ok(None) => break,
                Err(_) => return Err(unavailable("catalogue keys: timed out")),
            }
        }
        Ok(found)
    }

    /// Removes `key` from the catalogue for good, if it is still at `revision` (any revision
    /// if `None`): a KV purge, then the purge marker itself from the bucket's stream (with
    /// anything older on the key, never a later write). False if the key changed meanwhile.
    pub(super) async fn erase(&self, key: &str, revision: Option<u64>) -> Result<bool> {
        let purged = match revision {
            Some(r) => {
                timeout(
                    self.options.call_timeout,
                    self.kv.purge_expect_revision(key, Some(r)),
                )
                .await
            }
            None => timeout(self.options.call_timeout, self.kv.purge(key)).await,
        };
        match purged {
            Ok(Ok(())) => {}
            Ok(Err(e))
                if e.kind() == async_nats::jetstream::kv::UpdateErrorKind::WrongLastRevision =>
            {
                return Ok(false)
            }
            Ok(Err(e)) => return Err(unavailable(format!("catalogue purge: {e}"))),
            Err(_) => return Err(unavailable("catalogue purge: timed out")),
        }
        let marker = match timeout(self.options.call_timeout, self.kv.entry(key)).await {
            Ok(Ok(Some(entry))) if entry.operation != async_nats::jetstream::kv::Operation::Put => {
                entry.revision
            }
            // Written again since (or already gone): leave it.
            Ok(Ok(_)) => return Ok(true),
            Ok(Err(e)) => return Err(unavailable(format!("catalogue read: {e}"))),
            Err(_) => return Err(unavailable("catalogue read: timed out")),
        };
        let subject = format!("{}{key}", self.kv.prefix);
        let dropped = timeout(
            self.options.call_timeout,
            self.kv.stream.purge().filter(subject).sequence(marker + 1),
        )
        .await;
        match dropped {
            Ok(Ok(_)) => Ok(true),
            Ok(Err(e)) => Err(unavailable(format!("catalogue purge: {e}"))),
            Err(_) => Err(unavailable("catalogue purge: timed out")),
        }
    }

    /// The names of the JetStream streams beginning with `prefix`.
    pub(super) async fn stream_names(&self, prefix: &str) -> Result<Vec<String>> {
        let mut names = self.js.stream_names();
        let mut found = Vec::new();
        loop {
            match timeout(self.options.call_timeout, names.next()).await {
                Ok(Some(Ok(name))) if name.starts_with(prefix) => found.push(name),
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(e))) => return Err(unavailable(e)),
                Ok(None) => break,
                Err(_) => return Err(unavailable("listing streams timed out")),
            }
        }
        Ok(found)
    }

    pub(super) async fn delete_shard_streams(&self, stream: u64) -> Result<()> {
        let doomed = self
            .stream_names(&format!("{}_{}_", self.ns(), stream))
            .await?;
        for name in doomed {
            let gone = timeout(self.options.call_timeout, self.js.delete_stream(&name)).await;
            match gone {
                Ok(Ok(_)) => {}
                Ok(Err(e)) if is_not_found(&e) => {}
                Ok(Err(e)) => return Err(unavailable(e)),
                Err(_) => return Err(unavailable("stream delete timed out")),
            }
        }
        Ok(())
    }
}
