//! The console's throughput history: every stream's traffic counters (`metrics::ShardTraffic`,
//! summed over its shards) sampled about once a second into a ring per stream, so the console
//! can show records and bytes of the last minute and rates over the last few minutes, which the
//! Kinesis API has no operation for; the same document lists each stream's recent
//! SubscribeToShard leases (`streams::subscriptions`), which no operation lists either.
//!
//! Invariants:
//! - memory is bounded: at most [`SAMPLES`] samples per live stream; a deleted stream's ring
//!   goes at the next sample, and a stream re-created under the same name starts a new ring
//!   (its counters start again at zero);
//! - sample times come from the injected clock: a sample is kept only once that clock has moved
//!   at least [`INTERVAL_MS`] since the last one (a manual clock that stands still adds none);
//! - the counters are this process's (in cluster mode each node sees its own share), counted
//!   since it started, as in `GET /metrics`.

use crate::streams::{Registry, Stream};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// Milliseconds between samples.
pub const INTERVAL_MS: i64 = 1_000;
/// Samples kept per stream: five minutes at one a second.
pub const SAMPLES: usize = 300;
/// The window of "the last minute".
const MINUTE_MS: i64 = 60_000;

/// A stream's counters at one instant; `records_out` and `bytes_out` add GetRecords answers and
/// SubscribeToShard pushes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sample {
    pub at_ms: i64,
    pub records_in: u64,
    pub bytes_in: u64,
    pub records_out: u64,
    pub bytes_out: u64,
}

impl Sample {
    /// The counts from `earlier` to `self`.
    fn since(&self, earlier: &Sample) -> Sample {
        Sample {
            at_ms: self.at_ms,
            records_in: self.records_in.saturating_sub(earlier.records_in),
            bytes_in: self.bytes_in.saturating_sub(earlier.bytes_in),
            records_out: self.records_out.saturating_sub(earlier.records_out),
            bytes_out: self.bytes_out.saturating_sub(earlier.bytes_out),
        }
    }

    fn to_json(self) -> Value {
        json!([
            self.at_ms,
            self.records_in,
            self.bytes_in,
            self.records_out,
            self.bytes_out
        ])
    }
}

/// One stream's samples, oldest first.
#[derive(Debug, Default)]
pub struct Ring {
    stream_id: u64,
    samples: VecDeque<Sample>,
}

impl Ring {
    /// Keeps `sample` if the clock moved at least [`INTERVAL_MS`] since the last one, dropping
    /// the oldest beyond [`SAMPLES`].
    pub fn push(&mut self, sample: Sample) {
        if let Some(last) = self.samples.back() {
            if sample.at_ms - last.at_ms < INTERVAL_MS {
                return;
            }
        }
        if self.samples.len() == SAMPLES {
            self.samples.pop_front();
        }
        self.samples.push_back(sample);
    }

    /// What `now` (the counters read at the request) added over the last minute: from the
    /// newest sample at least a minute old, or from zero when there is none (the stream, or
    /// this process, is younger than a minute, and its counters started at zero).
    pub fn last_minute(&self, now: &Sample) -> Sample {
        let start = self
            .samples
            .iter()
            .rev()
            .find(|s| s.at_ms <= now.at_ms - MINUTE_MS)
            .copied()
            .unwrap_or_default();
        now.since(&start)
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

/// Every live stream's ring.
#[derive(Default)]
pub struct History {
    rings: Mutex<HashMap<String, Ring>>,
}

/// A stream's counters now, summed over its shards.
fn read_counters(stream: &Stream, at_ms: i64) -> Sample {
    let mut sample = Sample {
        at_ms,
        ..Sample::default()
    };
    for (_, t) in stream.traffic_by_shard() {
        sample.records_in += t.incoming_records.load(Relaxed);
        sample.bytes_in += t.incoming_bytes.load(Relaxed);
        sample.records_out += t.outgoing_records.load(Relaxed) + t.pushed_records.load(Relaxed);
        sample.bytes_out += t.outgoing_bytes.load(Relaxed) + t.pushed_bytes.load(Relaxed);
    }
    sample
}

impl History {
    fn rings(&self) -> std::sync::MutexGuard<'_, HashMap<String, Ring>> {
        // Every change below leaves the map whole: a panic elsewhere cannot corrupt it.
        self.rings.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Samples every live stream and forgets the streams that are gone.
    pub fn sample(&self, registry: &Registry) {
        let now = registry.now();
        let streams = registry.list();
        let mut rings = self.rings();
        rings.retain(|name, _| streams.iter().any(|s| &s.name == name));
        for stream in &streams {
            let id = stream.with_meta(|m| m.id);
            let ring = rings.entry(stream.name.clone()).or_default();
            if ring.stream_id != id {
                *ring = Ring {
                    stream_id: id,
                    samples: VecDeque::new(),
                };
            }
            ring.push(read_counters(stream, now));
        }
    }

    /// `{"now_ms", "interval_ms", "streams": {name: {"last_minute", "shards", "subscriptions",
    /// "samples"?}}}` where samples (`[at_ms, records_in, bytes_in, records_out, bytes_out]`, oldest first)
    /// are given only for the stream named `with_samples`, and `shards` holds each shard's
    /// records and bytes put since this process started.
    pub fn report(&self, registry: &Registry, with_samples: Option<&str>) -> Value {
        let now = registry.now();
        let rings = self.rings();
        let subscriptions = registry.subscriptions().recent(now);
        let mut streams = Map::new();
        for stream in registry.list() {
            let id = stream.with_meta(|m| m.id);
            let counters = read_counters(&stream, now);
            let ring = rings.get(&stream.name).filter(|r| r.stream_id == id);
            let last_minute = match ring {
                Some(ring) => ring.last_minute(&counters),
                None => counters,
            };
            let shards: Map<String, Value> = stream
                .traffic_by_shard()
                .into_iter()
                .map(|(shard, t)| {
                    let put = json!({
                        "records_in": t.incoming_records.load(Relaxed),
                        "bytes_in": t.incoming_bytes.load(Relaxed),
                    });
                    (shard, put)
                })
                .collect();
            let mut entry = json!({
                "last_minute": {
                    "records_in": last_minute.records_in,
                    "bytes_in": last_minute.bytes_in,
                    "records_out": last_minute.records_out,
                    "bytes_out": last_minute.bytes_out,
                },
                "shards": shards,
                "subscriptions": subscriptions_of(&stream, &subscriptions),
            });
            if with_samples == Some(stream.name.as_str()) {
                let mut samples: Vec<Value> = ring
                    .map(|r| r.samples.iter().map(|s| s.to_json()).collect())
                    .unwrap_or_default();
                samples.push(counters.to_json());
                entry["samples"] = Value::Array(samples);
            }
            streams.insert(stream.name.clone(), entry);
        }
        json!({ "now_ms": now, "interval_ms": INTERVAL_MS, "streams": streams })
    }
}

/// `stream`'s SubscribeToShard leases of the last five minutes on this node, oldest first:
/// `[{"consumer_arn", "shard", "started_ms"}]`.
fn subscriptions_of(stream: &Stream, leases: &[(String, u32, i64)]) -> Value {
    let prefix = format!("{}/consumer/", stream.arn);
    let mut mine: Vec<_> = leases
        .iter()
        .filter(|(arn, _, _)| arn.starts_with(&prefix))
        .collect();
    mine.sort_by_key(|(_, _, started)| *started);
    let list = mine
        .into_iter()
        .map(|(arn, shard, started)| {
            json!({
                "consumer_arn": arn,
                "shard": crate::streams::sequence::shard_id(*shard),
                "started_ms": started,
            })
        })
        .collect();
    Value::Array(list)
}

/// Samples `history` every [`INTERVAL_MS`] of real time until it or the registry is dropped
/// (the server's front holds both).
pub fn spawn_sampler(history: &Arc<History>, registry: &Arc<Registry>) {
    let history: Weak<History> = Arc::downgrade(history);
    let registry: Weak<Registry> = Arc::downgrade(registry);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(INTERVAL_MS as u64));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let (Some(history), Some(registry)) = (history.upgrade(), registry.upgrade()) else {
                return;
            };
            history.sample(&registry);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(at_ms: i64, records_in: u64) -> Sample {
        Sample {
            at_ms,
            records_in,
            bytes_in: records_in * 10,
            ..Sample::default()
        }
    }

    #[test]
    fn samples_closer_than_the_interval_are_not_kept() {
        let mut ring = Ring::default();
        ring.push(at(0, 0));
        ring.push(at(999, 5));
        ring.push(at(1_000, 5));
        assert_eq!(ring.len(), 2);
    }

    #[test]
    fn the_ring_keeps_five_minutes_at_most() {
        let mut ring = Ring::default();
        for i in 0..1_000 {
            ring.push(at(i * INTERVAL_MS, i as u64));
        }
        assert_eq!(ring.len(), SAMPLES);
        assert_eq!(ring.samples.front().unwrap().at_ms, 700 * INTERVAL_MS);
    }

    #[test]
    fn the_last_minute_counts_from_the_newest_sample_a_minute_old() {
        let mut ring = Ring::default();
        for s in 0..=120 {
            ring.push(at(s * 1_000, s as u64 * 2));
        }
        let now = at(120_500, 300);
        // The newest sample at or before 60.5 s is the one at 60 s (120 records).
        let minute = ring.last_minute(&now);
        assert_eq!(minute.records_in, 180);
        assert_eq!(minute.bytes_in, 1_800);
    }

    #[test]
    fn a_history_younger_than_a_minute_counts_from_zero() {
        let mut ring = Ring::default();
        ring.push(at(0, 0));
        ring.push(at(30_000, 7));
        assert_eq!(ring.last_minute(&at(40_000, 9)).records_in, 9);
    }
}
