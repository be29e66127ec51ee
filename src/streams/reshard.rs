//! Resharding: SplitShard, MergeShards and UpdateShardCount.
//!
//! A reshard is applied at once (the stream then reports UPDATING for the configured delay):
//! the parents are closed in the shard log, so a parent's last position — its
//! EndingSequenceNumber — is exact and nothing is appended after it; the new metadata is durable
//! in the catalogue before any child can take a record, so a durable child record implies
//! durable metadata. UpdateShardCount is expressed as splits then merges, with short-lived
//! intermediate shards where the uniform target does not line up with the current shards, as
//! AWS does.

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
                let ending_position = self.log.close(key).await?;
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
