//! SubscribeToShard: a live event stream for an enhanced fan-out consumer.
//!
//! Unlike the other operations the answer is a stream, so [`start`] validates the request
//! and returns a channel of already-framed event-stream messages; a task per subscription
//! reads from the store (so a slow subscriber holds no records in memory and misses none) and
//! is woken by the shard writer whenever records become durable.
//!
//! Invariants: the first message is the initial-response, sent at once; an event goes out at
//! least every heartbeat (5 s) while idle; the stream ends after 5 minutes (by the injected
//! clock), at the end of a closed shard (with ChildShards), or when a newer subscription of
//! the same consumer and shard takes over (with a ResourceInUseException frame).

use super::rules::positions::{find_shard, starting_position};
use super::rules::shapes::{child_shard_shapes, record_shapes};
use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{SubscribeToShardEvent, SubscribeToShardInput};
use crate::protocol::{decode, encode, eventstream, render_error, Encoding};
use crate::streams::read::ReadOutcome;
use crate::streams::sequence::SequenceNumber;
use crate::streams::subscriptions::{Claim, SUBSCRIPTION_MS};
use crate::streams::throughput::{Bucket, PUSH_BYTES_PER_S};
use crate::streams::{Shard, Stream};
use bytes::Bytes;
use shard_store::StoredRecord;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Records per event; AWS caps an event's data by the shard's 2 MiB/s read rate.
const EVENT_RECORDS: usize = 10_000;

/// Validates the request, claims the (consumer, shard) slot and starts streaming.
pub async fn start(
    ctx: Arc<Ctx>,
    encoding: Encoding,
    body: &[u8],
) -> Result<mpsc::Receiver<Bytes>, ApiError> {
    let input: SubscribeToShardInput = decode(encoding, body)?;
    let consumer_arn = input.consumer_arn.unwrap_or_default();
    let (stream, _consumer) = ctx.active_consumer(&consumer_arn)?;
    let shard = find_shard(&ctx, &stream, input.shard_id.as_deref().unwrap_or_default())?;
    let start_at = input.starting_position.unwrap_or_default();
    let position = starting_position(
        &ctx,
        &stream,
        &shard,
        start_at.position_type.as_deref().unwrap_or_default(),
        start_at.sequence_number.as_deref(),
        start_at.timestamp,
        "SubscribeToShard",
    )
    .await?;
    let end_early = injected_fault(&ctx, &stream, &shard).await?;
    ctx.limit_subscribe(&consumer_arn, shard.index)?;
    let claim = ctx.claim_subscription(&consumer_arn, shard.index).await?;
    // A small buffer: the task reads ahead at most a couple of events.
    let (tx, rx) = mpsc::channel(2);
    tokio::spawn(async move {
        let sub = Subscription {
            ctx: ctx.clone(),
            stream,
            shard,
            encoding,
            consumer_arn: consumer_arn.clone(),
            tx,
            end_early,
        };
        // The lease stays: the next subscription within five seconds of this one's start is
        // refused even once this one has ended.
        sub.run(position, &claim).await;
    });
    Ok(rx)
}

struct Subscription {
    ctx: Arc<Ctx>,
    stream: Arc<Stream>,
    shard: Shard,
    encoding: Encoding,
    consumer_arn: String,
    tx: mpsc::Sender<Bytes>,
    /// A fault rule's: end with this error after this many events.
    end_early: Option<(u64, ApiError)>,
}

/// A fault rule for this subscription (control API): refuse it, delay it, or have it end
/// early.
async fn injected_fault(
    ctx: &Ctx,
    stream: &Stream,
    shard: &Shard,
) -> Result<Option<(u64, ApiError)>, ApiError> {
    use crate::control::faults::{Fault, Target};
    if !ctx.faults.any() {
        return Ok(None);
    }
    let target = Target {
        stream: Some(stream.name.clone()),
        shard: Some(crate::streams::sequence::shard_id(shard.index)),
    };
    match ctx
        .faults
        .pick(crate::protocol::Operation::SubscribeToShard, &target)
    {
        Some(Fault::Error(e)) => Err(e),
        Some(Fault::Latency(pause)) => {
            tokio::time::sleep(pause).await;
            Ok(None)
        }
        Some(Fault::EndSubscription {
            after_events,
            error,
        }) => Ok(Some((after_events, error))),
        Some(Fault::Close) | None => Ok(None),
    }
}

impl Subscription {
    async fn send(&self, frame: Vec<u8>) -> bool {
        self.tx.send(Bytes::from(frame)).await.is_ok()
    }

    async fn run(&self, mut position: u64, claim: &Claim) {
        let live = &self.ctx.metrics.subscriptions;
        live.inc();
        // Counted down however the subscription ends.
        let _live = Decrement(live);
        let started_ms = claim.started_ms;
        let mut ending = claim.ending.clone();
        let mut events: u64 = 0;
        if !self
            .send(eventstream::initial_response(self.encoding))
            .await
        {
            return;
        }
        let heartbeat = Duration::from_millis(self.ctx.config().subscribe_heartbeat_ms.max(1));
        // `--enforce-limits`: AWS pushes at most 2 MiB/s per consumer and shard.
        let mut push = self
            .ctx
            .config()
            .enforce_limits
            .then(|| Bucket::new(PUSH_BYTES_PER_S, self.ctx.now()));
        let mut visible = match self.ctx.watch_shard(&self.shard) {
            Ok(rx) => rx,
            Err(e) => {
                self.fail(&e).await;
                return;
            }
        };
        loop {
            if self.ctx.now() - started_ms >= SUBSCRIPTION_MS || *ending.borrow() {
                return;
            }
            if let Some((_, error)) = self.end_early.as_ref().filter(|(n, _)| events >= *n) {
                self.fail(error).await;
                return;
            }
            // A deregistered consumer or deleted stream ends the stream with AWS's error.
            if let Err(e) = self.ctx.active_consumer(&self.consumer_arn) {
                self.fail(&e).await;
                return;
            }
            // Pushed past the rate: wait (by the injected clock, checked at least every 100 ms).
            if let Some(debt_ms) = push.as_mut().map(|b| b.debt_ms(self.ctx.now())) {
                if debt_ms > 0 {
                    let pause = Duration::from_millis(debt_ms.min(100) as u64);
                    if !self.pause(None, pause, &mut ending, claim).await {
                        return;
                    }
                    continue;
                }
            }
            visible.borrow_and_update();
            let mut outcome = match self
                .ctx
                .read(&self.stream, &self.shard, position, EVENT_RECORDS)
                .await
            {
                Ok(o) => o,
                Err(e) => {
                    self.fail(&e).await;
                    return;
                }
            };
            if let Some(bucket) = push.as_mut() {
                let now = self.ctx.now();
                if let Some(missing) = keep_within(&mut outcome, bucket.available(now), now) {
                    let wait_ms = (missing * 1000 / PUSH_BYTES_PER_S + 1).min(100);
                    let pause = Duration::from_millis(wait_ms as u64);
                    if !self.pause(None, pause, &mut ending, claim).await {
                        return;
                    }
                    continue;
                }
            }
            let bytes = data_bytes(&outcome.records);
            if let Some(bucket) = push.as_mut() {
                bucket.charge(bytes as i64, self.ctx.now());
            }
            let count = outcome.records.len() as u64;
            self.stream
                .traffic(self.shard.index, |t| t.pushed(count, bytes));
            let last_arrival = outcome.records.last().map(|r| r.arrival_ms);
            let had_records = !outcome.records.is_empty();
            let next = outcome.next_position.unwrap_or(position);
            let continuation = SequenceNumber {
                stream_id: self.stream.id,
                shard_index: self.shard.index,
                position: next.saturating_sub(1),
                arrival_ms: last_arrival.unwrap_or_else(|| self.ctx.now()),
            };
            let at_end = outcome.next_position.is_none();
            let event = SubscribeToShardEvent {
                records: record_shapes(&self.stream, self.shard.index, outcome.records),
                continuation_sequence_number: continuation.to_string(),
                millis_behind_latest: outcome.millis_behind_latest,
                child_shards: outcome.child_shards.as_deref().map(child_shard_shapes),
            };
            let payload = encode(self.encoding, &event);
            if !self.send(eventstream::event(self.encoding, payload)).await {
                return;
            }
            events += 1;
            if let Some((_, error)) = self.end_early.as_ref().filter(|(n, _)| events >= *n) {
                self.fail(error).await;
                return;
            }
            if at_end {
                return;
            }
            position = next;
            if had_records {
                continue;
            }
            if !self
                .pause(Some(&mut visible), heartbeat, &mut ending, claim)
                .await
            {
                return;
            }
        }
    }

    /// Waits up to `pause`, or until records become visible when `visible` is given. False
    /// when the subscription must end: the server stops, the shard's watch is gone, or a newer
    /// subscription took over (then the ResourceInUseException frame has been sent).
    async fn pause(
        &self,
        visible: Option<&mut tokio::sync::watch::Receiver<shard_store::Position>>,
        pause: Duration,
        ending: &mut tokio::sync::watch::Receiver<bool>,
        claim: &Claim,
    ) -> bool {
        let records = async {
            match visible {
                Some(rx) => rx.changed().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            alive = records => alive,
            _ = tokio::time::sleep(pause) => true,
            _ = ending.changed() => false,
            _ = claim.cancel.notified() => {
                let e = ApiError::ResourceInUse(format!(
                    "Another subscription was started for this consumer and shard: {}",
                    self.consumer_arn
                ));
                self.fail(&e).await;
                false
            }
        }
    }

    async fn fail(&self, error: &ApiError) {
        let payload = render_error(self.encoding, error);
        self.send(eventstream::exception(
            self.encoding,
            error.type_name(),
            payload,
        ))
        .await;
    }
}

fn data_bytes(records: &[StoredRecord]) -> u64 {
    records.iter().map(|r| r.data.len() as u64).sum()
}

/// Cuts a read down to the records whose data fits in `budget` bytes, so an event never pushes
/// past the rate; the rest are read again for the next event. When not even the first record
/// fits, returns how many bytes are missing (the caller waits for them; a record is at most
/// 1 MiB, so it fits a full 2 MiB bucket).
fn keep_within(outcome: &mut ReadOutcome, budget: i64, now: i64) -> Option<i64> {
    let mut total = 0i64;
    let keep = outcome
        .records
        .iter()
        .position(|r| {
            total += r.data.len() as i64;
            total > budget
        })
        .unwrap_or(outcome.records.len());
    if keep == 0 && !outcome.records.is_empty() {
        return Some(total - budget);
    }
    if keep >= outcome.records.len() {
        return None;
    }
    let next = outcome.records[keep].position;
    outcome.records.truncate(keep);
    outcome.next_position = Some(next);
    outcome.child_shards = None;
    // Records remain, so the reader is behind by the last pushed record's age.
    outcome.millis_behind_latest = outcome
        .records
        .last()
        .map_or(0, |r| (now - r.arrival_ms).max(0));
    None
}

/// Counts a live subscription down when it ends.
struct Decrement<'a>(&'a prometheus_client::metrics::gauge::Gauge);

impl Drop for Decrement<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}
