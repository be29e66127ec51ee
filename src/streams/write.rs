//! The write path: PutRecord and PutRecords route each record to the open shard that holds its
//! hash key and hand each shard's run to the shard log, which assigns positions and answers
//! once the records are durable.
//!
//! Invariants:
//! - Records of one request keep their order within each shard (one run per shard, in entry
//!   order), and results come back in entry order.
//! - A run that meets a shard closed by a concurrent reshard is written nowhere; its records
//!   are routed again once the new routes are published, so a record is never lost to a
//!   reshard and never written to a closed shard. If no routes come and the catalogue still
//!   shows the shard open, the close may be the leftover of a node that died mid-reshard:
//!   past a grace it is undone and the run sent again (`Registry::heal_orphaned_close`).
//! - With `--enforce-limits`, each shard's run is checked against the shard's write buckets
//!   after routing and before the append (`throughput.rs`); a refused record is written
//!   nowhere and only its own result is an error.

use super::sequence::SequenceNumber;
use super::stream::{route, Shard, Stream};
use super::Registry;
use crate::error::ApiError;
use shard_store::{RecordIn, Run, RunOutcome};

/// How long a write waits for the routes of a reshard that closed its shard.
const REROUTE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
/// While it waits, how often it checks whether the close was orphaned (`reshard.rs`).
const HEAL_CHECK: std::time::Duration = std::time::Duration::from_millis(500);

/// A record to put, owned so that the shard log takes its bytes without copying them.
pub struct PutEntry {
    pub hash: u128,
    pub partition_key: String,
    pub data: Vec<u8>,
}

impl Registry {
    /// Appends records to their shards and returns once they are durable (per the durability
    /// setting). Results are in entry order; with `--enforce-limits` a record over its shard's
    /// write limits is not written and its result is ProvisionedThroughputExceeded.
    pub async fn put(
        &self,
        stream: &Stream,
        entries: Vec<PutEntry>,
        ordering_floor: Option<SequenceNumber>,
    ) -> Result<Vec<Result<SequenceNumber, ApiError>>, ApiError> {
        // Every slot is filled below: by the append, or by the limits with their refusal.
        let mut results: Vec<Option<Result<SequenceNumber, ApiError>>> =
            (0..entries.len()).map(|_| None).collect();
        let hashes: Vec<u128> = entries.iter().map(|e| e.hash).collect();
        let mut pending: Vec<(usize, RecordIn)> = entries
            .into_iter()
            .map(|e| RecordIn {
                partition_key: e.partition_key,
                data: e.data,
            })
            .enumerate()
            .collect();
        while !pending.is_empty() {
            let (routes, mut republished) = stream.routes();
            // One run per shard, entries in order within each.
            let mut groups: Vec<(Shard, Vec<usize>, Run)> = Vec::new();
            for (i, record) in pending.drain(..) {
                let hash = hashes[i];
                let shard = route(&routes, hash).ok_or_else(|| {
                    ApiError::internal(format!("no open shard covers hash {hash}"))
                })?;
                match groups.iter_mut().find(|(s, _, _)| *s == shard) {
                    Some((_, members, run)) => {
                        members.push(i);
                        run.records.push(record);
                    }
                    None => {
                        let after = ordering_floor
                            .filter(|f| f.stream_id == stream.id && f.shard_index == shard.index)
                            .map(|f| f.position);
                        let run = Run {
                            shard: shard.key,
                            records: vec![record],
                            after,
                        };
                        groups.push((shard, vec![i], run));
                    }
                }
            }
            if self.config.enforce_limits {
                groups = self.throttle_writes(stream, groups, &mut results);
            }
            let (shards, runs): (Vec<(Shard, Vec<usize>)>, Vec<Run>) = groups
                .into_iter()
                .map(|(shard, members, run)| ((shard, members), run))
                .unzip();
            let bytes: Vec<u64> = runs
                .iter()
                .map(|r| r.records.iter().map(|r| r.data.len() as u64).sum())
                .collect();
            let handed = std::time::Instant::now();
            let outcomes = self.log.append(runs, self.now()).await?;
            let metrics = &self.metrics;
            metrics
                .append_seconds
                .observe(handed.elapsed().as_secs_f64());
            metrics
                .append_records
                .observe(shards.iter().map(|(_, m)| m.len()).sum::<usize>() as f64);
            let mut closed_shards: Vec<u32> = Vec::new();
            for (((shard, members), outcome), bytes) in shards.into_iter().zip(outcomes).zip(bytes)
            {
                match outcome {
                    RunOutcome::Appended { first, arrival_ms } => {
                        stream.traffic(shard.index, |t| t.wrote(members.len() as u64, bytes));
                        for (position, i) in (first..).zip(members) {
                            results[i] = Some(Ok(SequenceNumber {
                                stream_id: stream.id,
                                shard_index: shard.index,
                                position,
                                arrival_ms,
                            }));
                        }
                    }
                    RunOutcome::Closed { records } => {
                        // Resharding closed the shard; the new routes are published once
                        // the metadata naming the children is durable.
                        pending.extend(members.into_iter().zip(records));
                        closed_shards.push(shard.index);
                    }
                }
            }
            if !pending.is_empty() {
                // Bounded: a reshard whose metadata could not be stored leaves its parents
                // closed with no new routes, and that must end in an error, not a hang.
                let deadline = tokio::time::Instant::now() + REROUTE_WAIT;
                'wait: loop {
                    let slice = HEAL_CHECK
                        .min(deadline.saturating_duration_since(tokio::time::Instant::now()));
                    match tokio::time::timeout(slice, republished.changed()).await {
                        Ok(Ok(())) => break,
                        Ok(Err(_)) => {
                            return Err(ApiError::internal(format!(
                                "stream {}: its routes are gone",
                                stream.name
                            )))
                        }
                        Err(_) => {}
                    }
                    for &index in &closed_shards {
                        if self.heal_orphaned_close(stream, index).await? {
                            break 'wait;
                        }
                    }
                    if tokio::time::Instant::now() >= deadline {
                        return Err(ApiError::internal(format!(
                            "stream {}: a shard was closed but no new routes were published",
                            stream.name
                        )));
                    }
                }
            }
        }
        // A slot left empty would be a bug here; it is reported, not answered as a success.
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(ApiError::internal("record not written"))))
            .collect())
    }

    /// Keeps of each shard's run the records its write buckets admit now (in order); the
    /// others get ProvisionedThroughputExceeded in `results` and are counted as throttled.
    fn throttle_writes(
        &self,
        stream: &Stream,
        groups: Vec<(Shard, Vec<usize>, Run)>,
        results: &mut [Option<Result<SequenceNumber, ApiError>>],
    ) -> Vec<(Shard, Vec<usize>, Run)> {
        let now = self.now();
        let on_demand = stream.on_demand_limits();
        let mut kept = Vec::with_capacity(groups.len());
        for (shard, members, mut run) in groups {
            let sizes = run
                .records
                .iter()
                .map(|r| r.data.len() + r.partition_key.len());
            let admitted = stream
                .limits(shard.index)
                .admit_writes(sizes, on_demand, now);
            let refused = admitted.iter().filter(|ok| !**ok).count();
            if refused == 0 {
                kept.push((shard, members, run));
                continue;
            }
            stream.traffic(shard.index, |t| {
                t.throttled_records
                    .fetch_add(refused as u64, std::sync::atomic::Ordering::Relaxed)
            });
            let mut flags = admitted.iter();
            run.records.retain(|_| *flags.next().unwrap_or(&false));
            let mut members_kept = Vec::with_capacity(members.len() - refused);
            for (i, ok) in members.into_iter().zip(admitted) {
                if ok {
                    members_kept.push(i);
                } else {
                    results[i] = Some(Err(self.shard_rate_exceeded(stream, shard.index)));
                }
            }
            if !members_kept.is_empty() {
                kept.push((shard, members_kept, run));
            }
        }
        kept
    }

    /// AWS's ProvisionedThroughputExceeded for a shard (reference §3.6).
    pub fn shard_rate_exceeded(&self, stream: &Stream, shard_index: u32) -> ApiError {
        ApiError::ProvisionedThroughputExceeded(format!(
            "Rate exceeded for shard {} in stream {} under account {}.",
            super::sequence::shard_id(shard_index),
            stream.name,
            self.config.account_id
        ))
    }
}
