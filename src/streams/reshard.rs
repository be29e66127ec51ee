//! Resharding: SplitShard, MergeShards and UpdateShardCount.
//!
//! A reshard is applied at once (the stream then reports UPDATING for the configured delay):
//! the parents are closed in the shard log, so a parent's last position — its
//! EndingSequenceNumber — is exact and nothing is appended after it; the new metadata is durable
//! in the catalogue before any child can take a record, so a durable child record implies
//! durable metadata. UpdateShardCount is expressed as splits then merges, with short-lived
//! intermediate shards where the uniform target does not line up with the current shards, as
//! AWS does.
//!
//! # A node that dies mid-reshard (shared catalogue)
//! Closing the parents (shard log) and storing the document (catalogue) are two writes. A node
//! that dies between them leaves parents closed that the document — the authority — shows
//! open, and every put routed to them would fail for ever. The repair is on the write path
//! ([`Registry::heal_orphaned_close`]): a put that meets a closed shard and no new routes
//! catches up with the catalogue; if the document still shows the shard open and the close
//! (the shard log keeps its time, by the closer's injected clock) is older than
//! `Config::reshard_heal_grace_ms` (30 s, far beyond a reshard's close-to-store window of a
//! few round trips), the put's node
//! 1. *fences*: stores the document again, unchanged, by compare-and-set on the revision that
//!    shows the shard open. A reshard that closed the shard planned on that revision or an
//!    earlier one, so if it is merely slow, its own compare-and-set now fails: it re-plans
//!    and closes again (a fresh close, with its own ending position), never stores an ending
//!    position taken before the heal;
//! 2. reopens the shard only if it is still closed by *that* close (same time), so two nodes
//!    healing at once reopen it once and a newer close is left alone; logs it at warn;
//! 3. sends the put again.
//!
//! One race is left between step 2's check and its rebinding: a new reshard closing the
//! shard in those few milliseconds. So a reshard, once its document is stored, checks that
//! its parents are still closed and, if one was reopened, closes it again and stores the
//! corrected ending position.
//!
//! Why not an intent record (the plan stored in the catalogue before closing, completed or
//! rolled back by whoever finds it stale)? It adds a catalogue write to every reshard, and
//! its rollback needs the same fence and the same conditional reopen, since a KV key cannot be
//! changed atomically with a JetStream stream's configuration; the close's own time already
//! says all the heal needs, so the repair costs nothing until a node dies.

use super::registry::MAX_CONFLICTS;
use super::sequence::{parse_shard_id, shard_id};
use super::{Registry, ShardClosed, ShardMeta, Stream, StreamMeta, StreamMode};
use crate::error::ApiError;
use shard_store::{ShardKey, StoreError};
use std::sync::Arc;

const DAY_MS: i64 = 24 * 3_600_000;
pub const MAX_SCALINGS_PER_DAY: usize = 10;
pub const MAX_SHARDS_PER_STREAM: i64 = 10_000;

/// A reshard under construction, on a copy of the metadata.
struct Edit {
    meta: StreamMeta,
    now: i64,
    /// Shards that existed before and are closed by this edit (their writers must stop).
    closing: Vec<u32>,
    existing: usize,
}

impl Edit {
    fn add(&mut self, start: u128, end: u128, parent: u32, adjacent: Option<u32>) -> u32 {
        let index = self.meta.shards.len() as u32;
        self.meta.shards.push(ShardMeta {
            index,
            parent: Some(parent),
            adjacent_parent: adjacent,
            hash_start: start,
            hash_end: end,
            created_ms: self.now,
            closed: None,
        });
        index
    }

    fn close(&mut self, index: u32) {
        if (index as usize) < self.existing {
            self.closing.push(index);
        }
        // Intermediate shards never had a writer: they end before their first position.
        self.meta.shards[index as usize].closed = Some(ShardClosed {
            at_ms: self.now,
            ending_position: 0,
        });
    }

    fn split(&mut self, index: u32, at: u128) -> (u32, u32) {
        let (start, end) = {
            let s = &self.meta.shards[index as usize];
            (s.hash_start, s.hash_end)
        };
        self.close(index);
        let low = self.add(start, at - 1, index, None);
        let high = self.add(at, end, index, None);
        (low, high)
    }

    /// `left`'s range ends right before `right`'s begins.
    fn merge(&mut self, parent: u32, adjacent: u32) -> u32 {
        let (a, b) = (
            &self.meta.shards[parent as usize],
            &self.meta.shards[adjacent as usize],
        );
        let (start, end) = (a.hash_start.min(b.hash_start), a.hash_end.max(b.hash_end));
        self.close(parent);
        self.close(adjacent);
        self.add(start, end, parent, Some(adjacent))
    }

    fn open_sorted(&self) -> Vec<(u128, u128, u32)> {
        let mut open: Vec<_> = self
            .meta
            .shards
            .iter()
            .filter(|s| s.closed.is_none())
            .map(|s| (s.hash_start, s.hash_end, s.index))
            .collect();
        open.sort();
        open
    }
}

impl Registry {
    fn only_provisioned(&self, meta: &StreamMeta) -> Result<(), ApiError> {
        if meta.mode == StreamMode::OnDemand {
            return Err(ApiError::Validation(format!(
                "Request is invalid. Stream {} under account {} is in On-Demand mode.",
                meta.name, self.config.account_id
            )));
        }
        Ok(())
    }

    fn shard_for_reshard<'m>(
        &self,
        meta: &'m StreamMeta,
        id: &str,
    ) -> Result<&'m ShardMeta, ApiError> {
        parse_shard_id(id)
            .and_then(|i| meta.shards.get(i as usize))
            .ok_or_else(|| {
                ApiError::ResourceNotFound(format!(
                    "Could not find shard {id} in stream {} under account {}.",
                    meta.name, self.config.account_id
                ))
            })
    }

    fn check_open(&self, meta: &StreamMeta, shard: &ShardMeta) -> Result<(), ApiError> {
        if shard.closed.is_some() {
            return Err(ApiError::InvalidArgument(format!(
                "Shard {} in stream {} under account {} has already been merged or split, and thus is not eligible for merging or splitting.",
                shard_id(shard.index),
                meta.name,
                self.config.account_id
            )));
        }
        Ok(())
    }

    fn check_shard_limit(&self, additional: i64) -> Result<(), ApiError> {
        let (open, _) = self.usage();
        if additional > 0 && open + additional > self.config.shard_limit {
            return Err(ApiError::LimitExceeded(format!(
                "This request would exceed the shard limit for the account {} in {}. Current shard count for the account: {open}. Limit: {}. Number of additional shards that would have resulted from this request: {additional}.",
                self.config.account_id, self.config.region, self.config.shard_limit
            )));
        }
        Ok(())
    }

    /// Runs `plan` on a copy of the metadata, then closes the parents, stores the new metadata
    /// durably and only then opens the new shards. When another node changed the document
    /// first, `plan` runs again on the current one; parents closed for a plan that did not
    /// survive are reopened once the catalogue shows them open.
    async fn reshard<R>(
        &self,
        stream: &Arc<Stream>,
        mut plan: impl FnMut(&Registry, &mut Edit) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let mut closed_here: Vec<u32> = Vec::new();
        let mut attempts = 0;
        loop {
            let guard = self.control.lock().await;
            let now = self.now();
            let meta = stream.meta();
            let existing = meta.shards.len();
            let mut edit = Edit {
                meta,
                now,
                closing: Vec::new(),
                existing,
            };
            let planned = plan(self, &mut edit);
            let out = match planned {
                Ok(out) if edit.meta.shards.len() != existing => out,
                other => {
                    drop(guard);
                    self.reopen_unless_closed(stream, &closed_here).await;
                    return other;
                }
            };
            if self.config.update_delay_ms > 0 {
                edit.meta.updating_until_ms = Some(now + self.config.update_delay_ms);
            }
            for &index in &edit.closing {
                let key = ShardKey {
                    stream: edit.meta.id,
                    shard: index,
                };
                let ending_position = self.log.close(key, now).await?;
                if !closed_here.contains(&index) {
                    closed_here.push(index);
                }
                edit.meta.shards[index as usize].closed = Some(ShardClosed {
                    at_ms: now,
                    ending_position,
                });
            }
            // Children take records only once the metadata naming them is durable: writers
            // that met a closed parent wait for these routes.
            match self.persist_meta(&edit.meta, Some(stream.revision())).await {
                Ok(revision) => {
                    stream.replace(edit.meta, revision);
                    drop(guard);
                    self.keep_closed(stream, &edit.closing).await;
                    return Ok(out);
                }
                Err(StoreError::Conflict(_)) if attempts < MAX_CONFLICTS => {
                    attempts += 1;
                    drop(guard);
                    self.refresh(stream).await?;
                }
                Err(e) => {
                    drop(guard);
                    self.reopen_unless_closed(stream, &closed_here).await;
                    return Err(e.into());
                }
            }
        }
    }

    /// After a reshard is stored: closes again any parent a heal reopened between the close
    /// and the store (see the module doc), and stores its corrected ending position.
    async fn keep_closed(&self, stream: &Stream, parents: &[u32]) {
        for &index in parents {
            let key = ShardKey {
                stream: stream.id,
                shard: index,
            };
            match self.log.closed_at(key).await {
                Ok(None) => {}
                Ok(Some(_)) => continue,
                Err(e) => {
                    tracing::warn!(stream = %stream.name, shard = index, error = %e, "cannot check that a resharded parent stayed closed");
                    continue;
                }
            }
            tracing::warn!(stream = %stream.name, shard = index, "a resharded parent was reopened before its reshard was stored: closing it again");
            let fixed = async {
                let ending = self.log.close(key, self.now()).await?;
                self.update_meta(stream, |m| {
                    if let Some(ShardClosed {
                        ending_position, ..
                    }) = m
                        .shards
                        .get_mut(index as usize)
                        .and_then(|s| s.closed.as_mut())
                    {
                        *ending_position = (*ending_position).max(ending);
                    }
                    Ok(())
                })
                .await
            };
            if let Err(e) = fixed.await {
                tracing::error!(stream = %stream.name, shard = index, error = ?e, "cannot close a resharded parent again");
            }
        }
    }

    /// A put met shard `index` closed and no new routes came: if the catalogue still shows the
    /// shard open and the close is older than the grace, the close was orphaned by a node that
    /// died mid-reshard, and is undone (see the module doc). True when the put should be sent
    /// again at once (the shard is open again, by this node or another); false when it should
    /// keep waiting for routes.
    pub(super) async fn heal_orphaned_close(
        &self,
        stream: &Stream,
        index: u32,
    ) -> Result<bool, ApiError> {
        let key = ShardKey {
            stream: stream.id,
            shard: index,
        };
        let open_in_doc = |m: &StreamMeta| {
            m.shards
                .get(index as usize)
                .is_some_and(|s| s.closed.is_none())
        };
        self.catch_up().await?;
        if !stream.with_meta(open_in_doc) {
            return Ok(false);
        }
        let Some(closed_ms) = self.log.closed_at(key).await? else {
            // Open again already (healed by another node, or a failed reshard reopened it).
            return Ok(true);
        };
        let age = self.now() - closed_ms;
        if age < self.config.reshard_heal_grace_ms {
            return Ok(false);
        }
        // The fence: the document is stored again, unchanged, over the revision that shows
        // the shard open, so a reshard planned on it cannot be stored any more.
        let mut attempts = 0;
        loop {
            let _guard = self.control.lock().await;
            let meta = stream.meta();
            if !open_in_doc(&meta) {
                return Ok(false);
            }
            match self.persist_meta(&meta, Some(stream.revision())).await {
                Ok(revision) => {
                    stream.replace(meta, revision);
                    break;
                }
                Err(StoreError::Conflict(_)) if attempts < MAX_CONFLICTS => {
                    attempts += 1;
                    self.refresh(stream).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let reopened = self.log.reopen_closed_at(key, closed_ms).await?;
        if reopened {
            tracing::warn!(
                stream = %stream.name,
                shard = index,
                closed_ms,
                age_ms = age,
                "reopened a shard closed by a reshard that was never stored (its node died mid-reshard?)"
            );
        }
        Ok(true)
    }

    /// Reopens the shards this node closed for a reshard that was not stored, unless the
    /// catalogue's current document has them closed (another node's reshard did).
    async fn reopen_unless_closed(&self, stream: &Stream, closed_here: &[u32]) {
        if closed_here.is_empty() {
            return;
        }
        if let Err(e) = self.refresh(stream).await {
            tracing::warn!(stream = %stream.name, error = ?e, "cannot tell which shards to reopen after a failed reshard");
            return;
        }
        for &index in closed_here {
            let open = stream.with_meta(|m| {
                m.shards
                    .get(index as usize)
                    .is_some_and(|s| s.closed.is_none())
            });
            if open {
                let key = ShardKey {
                    stream: stream.id,
                    shard: index,
                };
                if let Err(e) = self.log.reopen(key).await {
                    tracing::warn!(stream = %stream.name, shard = index, error = %e, "cannot reopen a shard after a failed reshard");
                }
            }
        }
    }

    pub async fn split_shard(
        &self,
        stream: &Arc<Stream>,
        shard_to_split: &str,
        new_starting_hash_key: &str,
    ) -> Result<(), ApiError> {
        self.reshard(stream, |reg, edit| {
            let now = edit.now;
            let meta = &edit.meta;
            reg.only_provisioned(meta)?;
            let shard = reg.shard_for_reshard(meta, shard_to_split)?;
            reg.check_shard_limit(1)?;
            let at = new_starting_hash_key.parse::<u128>().ok();
            let inside = at.is_some_and(|k| {
                shard.hash_start.checked_add(1).is_some_and(|s1| k > s1) && k < shard.hash_end
            });
            if !inside {
                return Err(ApiError::InvalidArgument(format!(
                    "NewStartingHashKey {new_starting_hash_key} used in SplitShard() on shard {} in stream {} under account {} is not both greater than one plus the shard's StartingHashKey {} and less than the shard's EndingHashKey {}.",
                    shard_id(shard.index), meta.name, reg.config.account_id, shard.hash_start, shard.hash_end
                )));
            }
            meta.require_active(now, &reg.config.account_id)?;
            reg.check_open(meta, shard)?;
            let index = shard.index;
            edit.split(index, at.unwrap_or_default());
            Ok(())
        })
        .await
    }

    pub async fn merge_shards(
        &self,
        stream: &Arc<Stream>,
        shard_to_merge: &str,
        adjacent_shard_to_merge: &str,
    ) -> Result<(), ApiError> {
        self.reshard(stream, |reg, edit| {
            let now = edit.now;
            let meta = &edit.meta;
            reg.only_provisioned(meta)?;
            let a = reg.shard_for_reshard(meta, shard_to_merge)?;
            let b = reg.shard_for_reshard(meta, adjacent_shard_to_merge)?;
            let adjacent = a.index != b.index
                && (a.hash_end.checked_add(1) == Some(b.hash_start)
                    || b.hash_end.checked_add(1) == Some(a.hash_start));
            if !adjacent {
                return Err(ApiError::InvalidArgument(format!(
                    "Shards {} and {} in stream {} under account {} are not an adjacent pair of shards eligible for merging",
                    shard_id(a.index), shard_id(b.index), meta.name, reg.config.account_id
                )));
            }
            meta.require_active(now, &reg.config.account_id)?;
            reg.check_open(meta, a)?;
            reg.check_open(meta, b)?;
            let (a, b) = (a.index, b.index);
            edit.merge(a, b);
            Ok(())
        })
        .await
    }

    /// Returns the open shard count before the change.
    pub async fn update_shard_count(
        &self,
        stream: &Arc<Stream>,
        target: i64,
    ) -> Result<i64, ApiError> {
        self.reshard(stream, |reg, edit| {
            let now = edit.now;
            let meta = &edit.meta;
            meta.require_active(now, &reg.config.account_id)?;
            reg.only_provisioned(meta)?;
            let open = meta.open_shard_count() as i64;
            let ceiling = MAX_SHARDS_PER_STREAM.min(reg.config.shard_limit);
            if target > ceiling || target - open + reg.usage().0 > reg.config.shard_limit {
                return Err(ApiError::LimitExceeded(format!(
                    "Target shard count or number of open shards cannot be greater than {ceiling}. Current open shard count: {open}, Target shard count: {target}"
                )));
            }
            if target > open * 2 {
                return Err(ApiError::LimitExceeded(format!(
                    "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: {open}, Target shard count: {target}"
                )));
            }
            if target * 2 < open {
                return Err(ApiError::LimitExceeded(format!(
                    "UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: {open}, Target shard count: {target}"
                )));
            }
            let recent = meta
                .scaling_history
                .iter()
                .filter(|t| now - **t < DAY_MS)
                .count();
            if recent >= MAX_SCALINGS_PER_DAY {
                return Err(ApiError::LimitExceeded(format!(
                    "Stream {} under account {} has already been scaled {MAX_SCALINGS_PER_DAY} times in the last 24 hours; UpdateShardCount allows at most {MAX_SCALINGS_PER_DAY} scaling operations per rolling 24-hour period.",
                    meta.name, reg.config.account_id
                )));
            }
            if target == open {
                return Ok(open);
            }
            edit.meta.scaling_history.retain(|t| now - *t < DAY_MS);
            edit.meta.scaling_history.push(now);
            let wanted = super::hash::even_ranges(target as u32);
            // Split wherever a target boundary falls inside a current shard...
            for &(boundary, _) in wanted.iter().skip(1) {
                let holder = edit
                    .open_sorted()
                    .into_iter()
                    .find(|&(s, e, _)| s < boundary && boundary <= e);
                if let Some((_, _, index)) = holder {
                    edit.split(index, boundary);
                }
            }
            // ...then merge what each target range holds, left to right.
            for &(start, end) in &wanted {
                let inside: Vec<u32> = edit
                    .open_sorted()
                    .into_iter()
                    .filter(|&(s, e, _)| s >= start && e <= end)
                    .map(|(_, _, i)| i)
                    .collect();
                let mut merged = inside[0];
                for &next in &inside[1..] {
                    merged = edit.merge(merged, next);
                }
            }
            Ok(open)
        })
        .await
    }
}
