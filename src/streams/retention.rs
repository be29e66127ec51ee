//! Retention: expired records are trimmed and deleted streams' records removed, in bounded
//! batches, by a background worker (and by tests, through the clock).
//!
//! Invariants:
//! - Work is done in batches of `Config::trim_batch` records per shard, so trimming never
//!   holds up writers for long; a pass resumes where the previous one stopped.
//! - A stream whose DELETING period is over leaves the registry at the next pass; its
//!   document is removed only after its last record, so a crash mid-purge resumes the purge.
//! - One shard or stream the store fails on does not stop the others: every failure is
//!   logged, the rest of the work is done, and then the first failure is reported.
//! - Bookkeeping that can no longer matter leaves the catalogue, from whichever node runs
//!   the pass, idempotently: the shard log's notes of deleted streams (`ShardLog::sweep`:
//!   tombstones past their grace, trim notes) and subscription leases that can neither
//!   refuse nor end a subscription any more — started [`SUBSCRIPTION_MS`] ago or earlier,
//!   so whatever subscription held them has ended. That covers the leases of deregistered
//!   consumers and deleted streams without knowing which ARN a lease key hashes.

use super::stream::Stream;
use super::subscriptions::SUBSCRIPTION_MS;
use super::Registry;
use shard_store::{ShardKey, StoreError};
use std::sync::Arc;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RetentionReport {
    pub shards_visited: usize,
    pub records_trimmed: usize,
    pub streams_purged: usize,
    /// Some shard still has expired records beyond this batch.
    pub more: bool,
    /// Deleted streams whose last notes left the catalogue.
    pub tombstones_swept: usize,
    /// Subscription leases removed (their subscriptions are over).
    pub leases_swept: usize,
}

impl Registry {
    /// One pass of retention: trims expired records in bounded batches per shard and removes
    /// the records of deleted streams. Safe to call repeatedly; resumes where it left off.
    async fn enforce_retention(&self, failures: &mut Vec<StoreError>) -> RetentionReport {
        let now = self.now();
        let mut report = RetentionReport::default();
        // Streams whose DELETING period is over leave the registry now.
        let expired: Vec<Arc<Stream>> = self
            .streams()
            .values()
            .filter(|s| s.with_meta(|m| m.delete_at_ms.is_some_and(|t| now >= t)))
            .cloned()
            .collect();
        for s in &expired {
            self.forget(s);
            self.release_name(s).await;
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
                match self.log.trim(key, cutoff, self.config.trim_batch).await {
                    Ok(t) => {
                        report.records_trimmed += t.removed;
                        self.metrics.trimmed_records.inc_by(t.removed as u64);
                        report.more |= !t.done;
                    }
                    Err(e) => failures.push(e),
                }
            }
        }
        let purging: Vec<u64> = self.purging().clone();
        for id in purging {
            match self.purge(id, &mut report).await {
                Ok(true) => {
                    self.purging().retain(|p| *p != id);
                    report.streams_purged += 1;
                }
                Ok(false) => report.more = true,
                Err(e) => failures.push(e),
            }
        }
        report
    }

    /// One batch of a deleted stream's removal; true once its records and document are gone.
    async fn purge(&self, id: u64, report: &mut RetentionReport) -> Result<bool, StoreError> {
        let t = self
            .log
            .delete_stream(id, self.config.trim_batch, self.now())
            .await?;
        report.records_trimmed += t.removed;
        if t.done {
            self.catalog.remove_stream(id).await?;
        }
        Ok(t.done)
    }

    /// Removes what can no longer matter from the catalogue (see the module doc).
    async fn sweep_catalogue(&self, report: &mut RetentionReport) -> Result<(), StoreError> {
        let now = self.now();
        report.tombstones_swept += self.log.sweep(now).await?;
        for (key, lease) in self.catalog.leases().await? {
            if now - lease.started_ms >= SUBSCRIPTION_MS
                && self.catalog.remove_lease(&key, lease.revision).await?
            {
                report.leases_swept += 1;
            }
        }
        Ok(())
    }

    /// Runs retention passes until nothing is left to do (tests, and each worker tick).
    pub async fn enforce_retention_fully(&self) -> Result<RetentionReport, StoreError> {
        let mut total = RetentionReport::default();
        let mut failures = Vec::new();
        loop {
            let r = self.enforce_retention(&mut failures).await;
            total.shards_visited += r.shards_visited;
            total.records_trimmed += r.records_trimmed;
            total.streams_purged += r.streams_purged;
            if !r.more {
                break;
            }
        }
        if let Err(e) = self.sweep_catalogue(&mut total).await {
            failures.push(e);
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

/// The background worker: a retention pass every `Config::retention_check_ms` (real time), or
/// sooner when a deletion asks for one. Runs until its task is aborted.
pub async fn retention_worker(registry: Arc<Registry>) {
    let period = std::time::Duration::from_millis(registry.config.retention_check_ms.max(10));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = registry.background.notified() => {}
        }
        match registry.enforce_retention_fully().await {
            Ok(report)
                if report.records_trimmed > 0
                    || report.streams_purged > 0
                    || report.tombstones_swept > 0
                    || report.leases_swept > 0 =>
            {
                tracing::info!(
                    trimmed = report.records_trimmed,
                    purged_streams = report.streams_purged,
                    tombstones_swept = report.tombstones_swept,
                    leases_swept = report.leases_swept,
                    shards = report.shards_visited,
                    "retention pass"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "retention pass failed"),
        }
    }
}
