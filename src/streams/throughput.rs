//! AWS's throughput limits (`--enforce-limits`, off by default): per shard 1 MiB/s and 1,000
//! records/s of writes, 5 GetRecords calls/s and 2 MiB/s of reads; per account or stream the
//! control-plane rates of [`control_rate`]; SubscribeToShard 1 call/s per consumer and shard.
//!
//! The model: every limit is a token bucket that refills continuously, per millisecond of the
//! injected clock (`Registry::now()`), at its rate, up to a capacity of one second's worth.
//! AWS publishes the rates but not the exact burst, so "one second's worth" is this server's
//! choice. Tokens are kept in thousandths, so a refill of `rate` per second is exactly `rate`
//! thousandths per millisecond: the same requests at the same simulated times always get
//! the same answers.
//!
//! Invariants:
//! - nothing here reads the system time; a clock that moves back refills nothing;
//! - a refused write takes no tokens and is not written; a taken record took both its bytes
//!   (data plus partition key) and one record from its shard's buckets;
//! - a record larger than a full byte bucket passes when the bucket is full and leaves it in
//!   debt (AWS absorbs large records with a "burst tank");
//! - a read is admitted only while its shard's byte bucket is not in debt and a call token is
//!   left; the answer's bytes are charged after it. An answer larger than one second's worth
//!   is charged with no burst (from an empty bucket), so a 10 MiB answer throttles the shard's
//!   reads for exactly the next 5 s, as AWS documents; smaller answers use the burst;
//! - a throttled GetRecords is refused before it reads: its iterator stays valid;
//! - StartStreamEncryption takes at most 25 KMS keys not used in the last 24 h per account;
//! - SubscribeToShard takes 1 call/s per consumer and shard (LimitExceeded), checked before
//!   the 5-second take-over rule; a subscription pushes at most 2 MiB/s ([`PUSH_BYTES_PER_S`]):
//!   an event carries at most what its bucket holds (at least one record), and the next event
//!   waits while the bucket is in debt;
//! - an ON_DEMAND stream also has a stream-wide write bucket of 4 MiB/s and 4,000 records/s
//!   (AWS's capacity for a new on-demand stream; AWS's scaling to twice the peak of the last
//!   30 days is not modelled); a record is admitted only when its shard and its stream both
//!   have the tokens, and then takes from both;
//! - when limits are off the request path pays one branch on `Config::enforce_limits`.

use super::stream::Stream;
use super::Registry;
use crate::error::ApiError;
use crate::protocol::Operation;
use std::collections::HashMap;
use std::sync::Mutex;

/// One MiB.
const MIB: i64 = 1024 * 1024;

/// Thousandths of a token per token.
const MILLI: i64 = 1000;

/// A token bucket refilling `rate` tokens per second, continuously, up to one second's worth.
#[derive(Debug, Clone)]
pub struct Bucket {
    rate: i64,
    /// Thousandths of a token; below zero after a cost larger than a full bucket.
    level: i64,
    at_ms: i64,
}

impl Bucket {
    /// A full bucket at `now`.
    pub fn new(rate: i64, now: i64) -> Bucket {
        Bucket {
            rate,
            level: rate * MILLI,
            at_ms: now,
        }
    }

    fn refill(&mut self, now: i64) {
        let elapsed = now.saturating_sub(self.at_ms).max(0);
        self.level = self
            .level
            .saturating_add(elapsed.saturating_mul(self.rate))
            .min(self.rate * MILLI);
        self.at_ms = self.at_ms.max(now);
    }

    /// Whether `cost` tokens are there (a cost above capacity needs a full bucket).
    fn has(&mut self, cost: i64, now: i64) -> bool {
        self.refill(now);
        self.level >= cost.min(self.rate) * MILLI
    }

    fn take(&mut self, cost: i64) {
        self.level -= cost * MILLI;
    }

    /// Takes `cost` tokens if they are there.
    pub fn try_take(&mut self, cost: i64, now: i64) -> bool {
        let ok = self.has(cost, now);
        if ok {
            self.take(cost);
        }
        ok
    }

    /// Whole tokens there now (none while in debt).
    pub fn available(&mut self, now: i64) -> i64 {
        self.refill(now);
        (self.level / MILLI).max(0)
    }

    /// Charges `cost` already spent. A cost above one second's worth gets no burst: it is
    /// charged from an empty bucket, so it is paid back in exactly `cost / rate` seconds.
    pub fn charge(&mut self, cost: i64, now: i64) {
        self.refill(now);
        if cost > self.rate {
            self.level = self.level.min(0);
        }
        self.take(cost);
    }

    /// Milliseconds until the bucket is out of debt at the current level (0 when it is not).
    pub fn debt_ms(&mut self, now: i64) -> i64 {
        self.refill(now);
        if self.level >= 0 {
            0
        } else {
            (-self.level + self.rate - 1) / self.rate
        }
    }
}

/// A write rate: bytes (data plus partition key) and records per second.
#[derive(Debug)]
struct WriteBuckets {
    bytes: Bucket,
    records: Bucket,
}

impl WriteBuckets {
    fn new(bytes_per_s: i64, records_per_s: i64, now: i64) -> WriteBuckets {
        WriteBuckets {
            bytes: Bucket::new(bytes_per_s, now),
            records: Bucket::new(records_per_s, now),
        }
    }

    fn has(&mut self, size: i64, now: i64) -> bool {
        self.bytes.has(size, now) && self.records.has(1, now)
    }

    fn take(&mut self, size: i64) {
        self.bytes.take(size);
        self.records.take(1);
    }
}

/// Bytes per second a SubscribeToShard subscription pushes at most (per consumer and shard).
pub const PUSH_BYTES_PER_S: i64 = 2 * MIB;

/// An ON_DEMAND stream's stream-wide write buckets, created full on first use.
#[derive(Debug, Default)]
pub struct OnDemandLimits(Mutex<Option<WriteBuckets>>);

/// A new on-demand stream's write capacity (reference §3.3): 4 MiB/s and 4,000 records/s.
const ON_DEMAND_BYTES_PER_S: i64 = 4 * MIB;
const ON_DEMAND_RECORDS_PER_S: i64 = 4000;

/// A shard's buckets, created full on first use.
#[derive(Debug, Default)]
pub struct ShardLimits(Mutex<Option<Buckets>>);

#[derive(Debug)]
struct Buckets {
    write: WriteBuckets,
    read_calls: Bucket,
    read_bytes: Bucket,
}

impl ShardLimits {
    fn with<R>(&self, now: i64, f: impl FnOnce(&mut Buckets) -> R) -> R {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let buckets = guard.get_or_insert_with(|| Buckets {
            write: WriteBuckets::new(MIB, 1000, now),
            read_calls: Bucket::new(5, now),
            read_bytes: Bucket::new(2 * MIB, now),
        });
        f(buckets)
    }

    /// For each record's size (data plus partition key), in order: whether it may be written
    /// now; the admitted ones have taken their tokens, from `stream`'s buckets too when the
    /// stream is ON_DEMAND (locked before the shard's, always in that order).
    pub fn admit_writes(
        &self,
        sizes: impl Iterator<Item = usize>,
        stream: Option<&OnDemandLimits>,
        now: i64,
    ) -> Vec<bool> {
        let mut stream_guard = stream.map(|s| s.0.lock().unwrap_or_else(|p| p.into_inner()));
        let mut stream_buckets = stream_guard.as_mut().map(|g| {
            g.get_or_insert_with(|| {
                WriteBuckets::new(ON_DEMAND_BYTES_PER_S, ON_DEMAND_RECORDS_PER_S, now)
            })
        });
        self.with(now, |b| {
            sizes
                .map(|size| {
                    let size = size as i64;
                    let ok = b.write.has(size, now)
                        && stream_buckets.as_mut().is_none_or(|s| s.has(size, now));
                    if ok {
                        b.write.take(size);
                        if let Some(s) = stream_buckets.as_mut() {
                            s.take(size);
                        }
                    }
                    ok
                })
                .collect()
        })
    }

    /// Whether a GetRecords call may read now (takes a call token if so).
    pub fn admit_read(&self, now: i64) -> bool {
        self.with(now, |b| {
            b.read_bytes.has(0, now) && b.read_calls.try_take(1, now)
        })
    }

    /// Charges an answer's bytes to the shard's read bucket.
    pub fn charge_read(&self, bytes: u64, now: i64) {
        self.with(now, |b| b.read_bytes.charge(bytes as i64, now))
    }
}

/// What a control-plane limit is counted per.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Account,
    Stream,
}

/// The control-plane limits (reference §3.9, from AWS's API reference): calls per second and
/// what they are counted per. Operations not listed are not limited.
pub fn control_rate(op: Operation) -> Option<(i64, Scope)> {
    use Operation::*;
    use Scope::*;
    Some(match op {
        CreateStream
        | DeleteStream
        | ListStreams
        | AddTagsToStream
        | RemoveTagsFromStream
        | ListTagsForStream
        | SplitShard
        | MergeShards
        | RegisterStreamConsumer => (5, Account),
        DescribeStream => (10, Account),
        DescribeStreamSummary => (20, Account),
        UpdateShardCount => (10, Account),
        DescribeLimits => (1, Account),
        DescribeAccountSettings | UpdateAccountSettings | UpdateStreamWarmThroughput => {
            (5, Account)
        }
        DescribeStreamConsumer => (20, Stream),
        ListStreamConsumers | DeregisterStreamConsumer => (5, Stream),
        ListShards => (1000, Stream),
        _ => return None,
    })
}

/// The control-plane buckets, by operation and what the rate is counted per: "" for the
/// account, the stream's id, or a consumer ARN and shard (SubscribeToShard); and the KMS keys
/// StartStreamEncryption took first in the last 24 h, with when.
#[derive(Debug, Default)]
pub struct ControlLimits {
    buckets: Mutex<HashMap<(Operation, String), Bucket>>,
    kms_keys: Mutex<Vec<(i64, String)>>,
}

/// New KMS keys StartStreamEncryption takes per account per rolling 24 h.
const NEW_KMS_KEYS_PER_DAY: usize = 25;
const DAY_MS: i64 = 24 * 3_600_000;

/// SubscribeToShard calls per second per consumer and shard.
const SUBSCRIBE_RATE: i64 = 1;

impl Registry {
    /// Takes a call of `op` from its control-plane bucket: the account's when `stream` is
    /// `None` and `op` is counted per account, the stream's when `op` is counted per stream
    /// (each operation is checked in one of the two places only). Nothing without
    /// `--enforce-limits`.
    pub fn limit_control(&self, op: Operation, stream: Option<&Stream>) -> Result<(), ApiError> {
        if !self.config.enforce_limits {
            return Ok(());
        }
        let Some((rate, scope)) = control_rate(op) else {
            return Ok(());
        };
        let account = &self.config.account_id;
        match (scope, stream) {
            // No exact AWS text is known for an account-wide rate; this follows the stream's.
            (Scope::Account, None) => self.take_call(op, String::new(), rate, || {
                format!("Rate exceeded for account {account}.")
            }),
            // AWS's text for a stream's control-plane throttling.
            (Scope::Stream, Some(s)) => self.take_call(op, s.id.to_string(), rate, || {
                format!(
                    "Rate exceeded for stream {} under account {account}.",
                    s.name
                )
            }),
            _ => Ok(()),
        }
    }

    /// SubscribeToShard: one call per second per consumer and shard (before the 5-second
    /// take-over rule, which answers ResourceInUse). Nothing without `--enforce-limits`.
    pub fn limit_subscribe(&self, consumer_arn: &str, shard_index: u32) -> Result<(), ApiError> {
        if !self.config.enforce_limits {
            return Ok(());
        }
        let shard = super::sequence::shard_id(shard_index);
        let key = format!("{consumer_arn} {shard}");
        // No exact AWS text is known for this rate.
        self.take_call(Operation::SubscribeToShard, key, SUBSCRIBE_RATE, || {
            format!("Rate exceeded for consumer {consumer_arn} and shard {shard}.")
        })
    }

    /// StartStreamEncryption: at most 25 KMS keys not used in the last 24 h, per account.
    /// Checks `key`; the key counts once [`Registry::note_kms_key`] records the change made.
    /// Nothing without `--enforce-limits`.
    pub fn limit_new_kms_key(&self, key: &str) -> Result<(), ApiError> {
        if !self.config.enforce_limits {
            return Ok(());
        }
        let now = self.now();
        let mut keys = self.kms_keys();
        keys.retain(|(at, _)| now - at < DAY_MS);
        if keys.len() >= NEW_KMS_KEYS_PER_DAY && !keys.iter().any(|(_, k)| k == key) {
            // No exact AWS text is known for this quota.
            return Err(ApiError::LimitExceeded(format!(
                "Account {} has started stream encryption with {NEW_KMS_KEYS_PER_DAY} new KMS keys in the last 24 hours, the most allowed.",
                self.config.account_id
            )));
        }
        Ok(())
    }

    /// Records that StartStreamEncryption used `key` (see [`Registry::limit_new_kms_key`]).
    pub fn note_kms_key(&self, key: &str) {
        if self.config.enforce_limits {
            let mut keys = self.kms_keys();
            if !keys.iter().any(|(_, k)| k == key) {
                keys.push((self.now(), key.to_string()));
            }
        }
    }

    fn kms_keys(&self) -> std::sync::MutexGuard<'_, Vec<(i64, String)>> {
        let keys = &self.control_limits.kms_keys;
        keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Refills every control-plane bucket and forgets the KMS keys (the control API's reset).
    pub fn reset_control_limits(&self) {
        let limits = &self.control_limits;
        limits
            .buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.kms_keys().clear();
    }

    fn take_call(
        &self,
        op: Operation,
        key: String,
        rate: i64,
        message: impl FnOnce() -> String,
    ) -> Result<(), ApiError> {
        let now = self.now();
        let admitted = {
            let mut buckets = self
                .control_limits
                .buckets
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            buckets
                .entry((op, key))
                .or_insert_with(|| Bucket::new(rate, now))
                .try_take(1, now)
        };
        if admitted {
            Ok(())
        } else {
            Err(ApiError::LimitExceeded(message()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refills_per_millisecond_up_to_one_second() {
        let mut b = Bucket::new(5, 0);
        assert!((0..5).all(|_| b.try_take(1, 0)));
        assert!(!b.try_take(1, 0));
        assert!(!b.try_take(1, 199));
        assert!(b.try_take(1, 200));
        assert!((0..5).all(|_| b.try_take(1, 10_000)));
        assert!(!b.try_take(1, 10_000));
        // A clock moved back refills nothing.
        assert!(!b.try_take(1, 5_000));
    }

    #[test]
    fn a_large_cost_needs_a_full_bucket_and_leaves_debt() {
        let limits = ShardLimits::default();
        assert!(limits.admit_read(0));
        limits.charge_read(10 * MIB as u64, 0);
        // AWS: "subsequent calls made within the next 5 seconds" are throttled.
        assert!(!limits.admit_read(4_999));
        assert!(limits.admit_read(5_000));
        // An answer within one second's worth uses the burst.
        let limits = ShardLimits::default();
        assert!(limits.admit_read(0));
        limits.charge_read(MIB as u64, 0);
        assert!(limits.admit_read(0));
        let mut b = Bucket::new(MIB, 0);
        assert_eq!(b.available(0), MIB);
        assert!(b.try_take(3 * MIB, 0));
        assert_eq!(b.available(0), 0);
        assert_eq!(b.debt_ms(0), 2_000);
        assert!(!b.try_take(1, 1_999));
        assert!(b.try_take(1, 2_001));
    }

    #[test]
    fn an_on_demand_stream_admits_only_what_both_buckets_hold() {
        let stream = OnDemandLimits::default();
        let shards: Vec<ShardLimits> = (0..5).map(|_| ShardLimits::default()).collect();
        // Five shards take 1,000 records each from full buckets: the stream's 4,000 run out.
        let admitted: usize = shards
            .iter()
            .map(|s| {
                let sizes = std::iter::repeat_n(1, 1000);
                let ok = s.admit_writes(sizes, Some(&stream), 0);
                ok.into_iter().filter(|ok| *ok).count()
            })
            .sum();
        assert_eq!(admitted, 4000);
        // The fifth shard's refused records took none of its tokens.
        let fifth = shards[4].admit_writes(std::iter::repeat_n(1, 1000), None, 0);
        assert!(fifth.iter().all(|ok| *ok));
    }
}
