//! One writer task per shard written through this node: it group-commits whatever runs are
//! queued into one JetStream message, publishes it with a message id that every retry reuses,
//! and answers the runs once JetStream has acknowledged it.
//!
//! Invariants:
//! - Runs are queued synchronously by `append`, so one node's appends to a shard reach
//!   JetStream in call order; one message is in flight per shard, so a retry never overtakes
//!   a later message of the same node.
//! - A run is answered `Appended` only after the acknowledgement, `Closed` only once the
//!   shard's stream is known to be closed (nothing of the run was stored), and with an error
//!   otherwise (nothing acknowledged; the client retries).
//! - Arrival times never decrease among this node's messages to a shard.

use super::codec::{self, HEADER_BYTES, MAX_RECORDS_PER_MESSAGE};
use super::{is_not_found, tombstone, unavailable, Inner, CLOSED_MARK};
use crate::log::{Position, RunOutcome};
use crate::{Result, Run, ShardKey, StoreError};
use async_nats::jetstream::context::PublishErrorKind;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{timeout, Instant};

pub(super) type Reply = oneshot::Receiver<Result<RunOutcome>>;

pub(super) struct Handle {
    tx: mpsc::UnboundedSender<Job>,
}

struct Job {
    run: Run,
    now_ms: i64,
    bytes: usize,
    reply: oneshot::Sender<Result<RunOutcome>>,
}

/// What became of one publish.
enum Published {
    At(u64),
    Closed,
    /// The stream was deleted: nothing is stored, as the `ShardLog` contract has it for
    /// appends that race a deletion.
    Dropped,
}

/// What the cluster says of a shard's stream.
enum ShardState {
    Missing,
    Open,
    Closed,
}

impl Inner {
    /// Queues a run on its shard's writer (starting one if needed).
    pub(super) fn enqueue(self: &Arc<Self>, run: Run, now_ms: i64) -> Reply {
        let (reply, answer) = oneshot::channel();
        let bytes = run
            .records
            .iter()
            .map(|r| codec::record_bytes(&r.partition_key, &r.data))
            .sum();
        let key = run.shard;
        let mut job = Job {
            run,
            now_ms,
            bytes,
            reply,
        };
        let mut writers = super::locked(&self.writers);
        loop {
            let handle = writers.entry(key).or_insert_with(|| {
                let (tx, rx) = mpsc::unbounded_channel();
                tokio::spawn(run_writer(self.clone(), key, rx));
                Handle { tx }
            });
            match handle.tx.send(job) {
                Ok(()) => return answer,
                // The task ended (its runtime stopped): start another.
                Err(mpsc::error::SendError(back)) => {
                    job = back;
                    writers.remove(&key);
                }
            }
        }
    }

    /// Raises the tip this node's watchers of the shard see.
    pub(super) fn raise_local_tip(&self, key: ShardKey, tip: Position) {
        if let Some(tx) = super::locked(&self.tips).get(&key) {
            tx.send_if_modified(|t| std::mem::replace(t, (*t).max(tip)) < tip);
        }
    }

    /// Announces a shard's new tip to the other nodes' watchers.
    pub(super) async fn announce_tip(&self, key: ShardKey, tip: Position) {
        // Best effort: a lost announcement delays a remote subscriber until its next poll.
        let _ = self
            .client
            .publish(self.tip_subject(key), tip.to_be_bytes().to_vec().into())
            .await;
    }

    /// Whether the stream's deletion has begun (its tombstone is in the catalogue).
    pub(super) async fn stream_deleted(&self, stream: u64) -> Result<bool> {
        match timeout(self.options.call_timeout, self.kv.get(tombstone(stream))).await {
            Ok(Ok(found)) => Ok(found.is_some()),
            Ok(Err(e)) => Err(unavailable(e)),
            Err(_) => Err(unavailable("catalogue read timed out")),
        }
    }

    async fn shard_state(&self, key: ShardKey) -> Result<ShardState> {
        let stream = self.shard_stream(key).await?;
        match timeout(self.options.call_timeout, stream.get_info()).await {
            Ok(Ok(info)) if info.config.metadata.contains_key(CLOSED_MARK) => {
                Ok(ShardState::Closed)
            }
            Ok(Ok(_)) => Ok(ShardState::Open),
            Ok(Err(e)) if is_not_found(&e) => Ok(ShardState::Missing),
            Ok(Err(e)) => Err(unavailable(e)),
            Err(_) => Err(unavailable("stream info timed out")),
        }
    }

    /// Publishes one message, retrying with the same id until the write deadline.
    async fn publish(&self, key: ShardKey, payload: bytes::Bytes) -> Result<Published> {
        let id = format!(
            "{}-{}",
            self.node,
            self.next_message.fetch_add(1, Ordering::Relaxed)
        );
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, id.as_str());
        let deadline = Instant::now() + self.options.write_deadline;
        let subject = self.subject(key);
        let mut pause = Duration::from_millis(20);
        loop {
            let attempt = timeout(self.options.call_timeout, async {
                self.js
                    .publish_with_headers(subject.clone(), headers.clone(), payload.clone())
                    .await?
                    .await
            })
            .await;
            let failure = match attempt {
                Ok(Ok(ack)) => return Ok(Published::At(ack.sequence)),
                Ok(Err(e)) if e.kind() == PublishErrorKind::MaxPayloadExceeded => {
                    return Err(StoreError::TooLarge(format!(
                        "a message of {} bytes is over the NATS servers' max_payload of {}",
                        payload.len(),
                        self.max_payload
                    )))
                }
                Ok(Err(e)) if e.kind() == PublishErrorKind::StreamNotFound => {
                    match self.shard_state(key).await {
                        Ok(ShardState::Closed) => return Ok(Published::Closed),
                        Ok(ShardState::Missing) if self.stream_deleted(key.stream).await? => {
                            return Ok(Published::Dropped)
                        }
                        Ok(ShardState::Missing) => {
                            // The shard's first write: create its stream (another node may
                            // race us; either creation serves).
                            let made = timeout(
                                self.options.call_timeout,
                                self.js.create_stream(self.shard_config(key, None)),
                            )
                            .await;
                            match made {
                                Ok(Ok(_)) => continue,
                                Ok(Err(e)) => e.to_string(),
                                Err(_) => "creating the shard's stream timed out".into(),
                            }
                        }
                        // A leader election is under way.
                        Ok(ShardState::Open) => "no stream leader".into(),
                        Err(e) => e.to_string(),
                    }
                }
                Ok(Err(e)) => e.to_string(),
                Err(_) => "publish timed out".into(),
            };
            if Instant::now() + pause >= deadline {
                return Err(unavailable(format!(
                    "shard {}/{}: {failure}",
                    key.stream, key.shard
                )));
            }
            tracing::debug!(stream = key.stream, shard = key.shard, %failure, "retrying a publish");
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }
}

async fn run_writer(inner: Arc<Inner>, key: ShardKey, mut rx: mpsc::UnboundedReceiver<Job>) {
    let budget = inner.max_payload.saturating_sub(HEADER_BYTES + 1024);
    let mut carried: Option<Job> = None;
    let mut last_arrival = i64::MIN;
    loop {
        let first = match carried.take() {
            Some(job) => job,
            None => match rx.recv().await {
                Some(job) => job,
                None => return,
            },
        };
        let mut bytes = first.bytes;
        let mut records = first.run.records.len();
        let mut jobs = vec![first];
        while let Ok(job) = rx.try_recv() {
            if bytes + job.bytes > budget
                || records + job.run.records.len() > MAX_RECORDS_PER_MESSAGE
            {
                carried = Some(job);
                break;
            }
            bytes += job.bytes;
            records += job.run.records.len();
            jobs.push(job);
        }
        if bytes > budget {
            // One run alone: PutRecords carries at most 5 MiB, so only servers with a small
            // max_payload get here.
            for job in jobs {
                let _ = job.reply.send(Err(StoreError::TooLarge(format!(
                    "{bytes} bytes of records do not fit in one message of the NATS servers' max_payload ({})",
                    inner.max_payload
                ))));
            }
            continue;
        }
        let arrival = jobs
            .iter()
            .map(|j| j.now_ms)
            .max()
            .unwrap_or_default()
            .max(last_arrival);
        let payload = codec::encode(arrival, RecordsOf(&jobs).iter());
        match inner.publish(key, payload.into()).await {
            Ok(Published::At(sequence)) => {
                last_arrival = arrival;
                let tip = codec::position(sequence, records.saturating_sub(1));
                // Watchers here learn of the records before their writers are answered.
                inner.raise_local_tip(key, tip);
                let mut index = 0;
                for job in jobs {
                    let first = codec::position(sequence, index);
                    index += job.run.records.len();
                    let _ = job.reply.send(Ok(RunOutcome::Appended {
                        first,
                        arrival_ms: arrival,
                    }));
                }
                inner.announce_tip(key, tip).await;
            }
            // Not remembered: a close can be undone (a reshard that was not stored, a heal of
            // an orphaned close), and then the next publish must go through. While the shard
            // is closed, each batch costs one refused publish and one stream-info request.
            Ok(Published::Closed) => answer_closed(jobs),
            Ok(Published::Dropped) => {
                let mut index = 0;
                for job in jobs {
                    let first = codec::position(1, index);
                    index += job.run.records.len();
                    let _ = job.reply.send(Ok(RunOutcome::Appended {
                        first,
                        arrival_ms: arrival,
                    }));
                }
            }
            Err(e) => {
                for job in jobs {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

fn answer_closed(jobs: Vec<Job>) {
    for job in jobs {
        let _ = job.reply.send(Ok(RunOutcome::Closed {
            records: job.run.records,
        }));
    }
}

/// The records of several jobs, in order, as the codec takes them.
struct RecordsOf<'a>(&'a [Job]);

impl<'a> RecordsOf<'a> {
    fn iter(&self) -> impl ExactSizeIterator<Item = (&'a str, &'a [u8])> + Clone {
        let all: Vec<(&'a str, &'a [u8])> = self
            .0
            .iter()
            .flat_map(|j| j.run.records.iter())
            .map(|r| (r.partition_key.as_str(), r.data.as_slice()))
            .collect();
        all.into_iter()
    }
}
