//! [`ShardLog`] over JetStream: appends go through the shard's writer (`writer.rs`); reads ask
//! the stream leader for the stream's bounds, then fetch messages, several at a time, from
//! any replica (falling back to the leader for one a replica does not have yet).

use super::codec::{self, MAX_RECORDS_PER_MESSAGE};
use super::{is_not_found, locked, unavailable, Inner, JetStreamStore};
use crate::log::{Chunk, Position, RunOutcome, ShardLog, ShardStats, StoreFuture};
use crate::{Result, Run, ShardKey, StoreError, StoredRecord, TrimReport};
use async_nats::jetstream::stream::DirectGetErrorKind;
use bytes::Bytes;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::timeout;

/// The catalogue keys of a stream's trim notes begin with this.
pub(super) fn trimmed_prefix(stream: u64) -> String {
    format!("trimmed.{stream}.")
}

/// Messages fetched at once by a read.
const READ_WINDOW: u64 = 16;
/// How long one stream-info request may take before it is sent again.
const INFO_ATTEMPT: Duration = Duration::from_millis(250);
/// How often a watched shard's tip is re-read, in case an announcement was lost.
const TIP_POLL: Duration = Duration::from_secs(2);

impl Inner {
    /// The shard's first and last message sequences, from the stream leader; `None` if the
    /// shard's stream does not exist (nothing was ever written).
    pub(super) async fn bounds(&self, key: ShardKey) -> Result<Option<(u64, u64)>> {
        let stream = self.shard_stream(key).await?;
        // A stream-info request that meets the stream's creation (its first write, through
        // any node) may go unanswered: ask again soon rather than wait out the call timeout.
        let deadline = tokio::time::Instant::now() + self.options.call_timeout;
        loop {
            match timeout(INFO_ATTEMPT, stream.get_info()).await {
                Ok(Ok(info)) => {
                    return Ok(Some((info.state.first_sequence, info.state.last_sequence)))
                }
                Ok(Err(e)) if is_not_found(&e) => return Ok(None),
                Ok(Err(e)) if tokio::time::Instant::now() >= deadline => {
                    return Err(unavailable(e))
                }
                Err(_) if tokio::time::Instant::now() >= deadline => {
                    return Err(unavailable("stream info timed out"))
                }
                _ => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    /// Message `sequence` of the shard, or `None` if it is gone (trimmed).
    pub(super) async fn message(&self, key: ShardKey, sequence: u64) -> Result<Option<Bytes>> {
        let stream = self.shard_stream(key).await?;
        let direct = timeout(self.options.call_timeout, stream.direct_get(sequence)).await;
        match direct {
            Ok(Ok(m)) => return Ok(Some(m.payload)),
            // A replica may lag behind the leader: only the leader can say it is gone.
            Ok(Err(e)) if e.kind() == DirectGetErrorKind::NotFound => {}
            _ => {}
        }
        match timeout(self.options.call_timeout, stream.get_raw_message(sequence)).await {
            Ok(Ok(m)) => Ok(Some(m.payload)),
            Ok(Err(e)) if is_not_found(&e) => Ok(None),
            Ok(Err(e)) => Err(unavailable(e)),
            Err(_) => Err(unavailable("message get timed out")),
        }
    }

    /// Messages `from..=to`, fetched concurrently, in order.
    async fn messages(
        &self,
        key: ShardKey,
        from: u64,
        to: u64,
    ) -> Result<Vec<(u64, Option<Bytes>)>> {
        let gets = (from..=to).map(|s| async move { (s, self.message(key, s).await) });
        let fetched: Vec<(u64, Result<Option<Bytes>>)> = futures_util::future::join_all(gets).await;
        fetched
            .into_iter()
            .map(|(s, m)| m.map(|m| (s, m)))
            .collect()
    }

    async fn last_position(&self, key: ShardKey) -> Result<Position> {
        let Some((_, last)) = self.bounds(key).await? else {
            return Ok(0);
        };
        if last == 0 {
            return Ok(0);
        }
        Ok(match self.message(key, last).await? {
            Some(m) => codec::position(last, codec::header(last, &m)?.1.saturating_sub(1)),
            // Trimmed away: the trim noted its last position first.
            None => match self.trimmed_tip(key).await? {
                Some(tip) => tip,
                None => codec::position(last, MAX_RECORDS_PER_MESSAGE),
            },
        })
    }

    /// The catalogue key where a trim that empties a shard notes the shard's last position.
    pub(super) fn trimmed_key(&self, key: ShardKey) -> String {
        format!("{}{}", trimmed_prefix(key.stream), key.shard)
    }

    async fn trimmed_tip(&self, key: ShardKey) -> Result<Option<Position>> {
        match timeout(
            self.options.call_timeout,
            self.kv.get(self.trimmed_key(key)),
        )
        .await
        {
            Ok(Ok(Some(v))) => Ok(<[u8; 8]>::try_from(v.as_ref()).ok().map(u64::from_be_bytes)),
            Ok(Ok(None)) => Ok(None),
            Ok(Err(e)) => Err(unavailable(e)),
            Err(_) => Err(unavailable("catalogue read timed out")),
        }
    }

    async fn read(
        &self,
        key: ShardKey,
        from: Position,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Chunk> {
        let empty = Chunk {
            records: Vec::new(),
            next: from,
            tip: 0,
        };
        let Some((first, last)) = self.bounds(key).await? else {
            return Ok(empty);
        };
        if last == 0 {
            return Ok(empty);
        }
        if first > last {
            // Trimmed empty: a reader below the tip moves to just past it.
            let tip = self.last_position(key).await?;
            return Ok(Chunk {
                records: Vec::new(),
                next: from.max(tip + 1),
                tip,
            });
        }
        let (mut sequence, mut index) = codec::split(from);
        let mut next = from;
        if sequence < first {
            (sequence, index) = (first, 0);
            next = next.max(codec::position(first, 0));
        }
        // Exact when the read reaches the last message, else a lower bound above every
        // position returned (all MillisBehindLatest needs).
        let mut tip = codec::position(last, 0);
        let mut records: Vec<StoredRecord> = Vec::new();
        let mut bytes = 0;
        'fetch: while sequence <= last {
            let to = last.min(sequence + READ_WINDOW - 1);
            for (s, message) in self.messages(key, sequence, to).await? {
                let from_index = if s == sequence { index } else { 0 };
                index = 0;
                let Some(message) = message else {
                    next = codec::position(s + 1, 0);
                    continue;
                };
                let (_, count) = codec::header(s, &message)?;
                if s == last {
                    tip = codec::position(last, count.saturating_sub(1));
                }
                for record in codec::decode(s, &message, from_index)? {
                    let size = record.partition_key.len() + record.data.len();
                    if records.len() >= max_records
                        || (!records.is_empty() && bytes + size > max_bytes)
                    {
                        break 'fetch;
                    }
                    bytes += size;
                    next = record.position + 1;
                    records.push(record);
                }
                // Past this message's records, and a later one exists: on to it. (Past the
                // last message's, the reader stays where it is.)
                if from_index >= count && s < last {
                    next = next.max(codec::position(s + 1, 0));
                }
            }
            sequence = to + 1;
        }
        Ok(Chunk { records, next, tip })
    }

    async fn position_at_time(&self, key: ShardKey, ts_ms: i64) -> Result<Option<Position>> {
        let Some((first, last)) = self.bounds(key).await? else {
            return Ok(None);
        };
        if last == 0 || first > last {
            return Ok(None);
        }
        // Arrival times never decrease along a shard: binary search the first message at or
        // after `ts_ms` (a message trimmed meanwhile counts as earlier).
        let (mut lo, mut hi) = (first, last + 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let arrival = match self.message(key, mid).await? {
                Some(m) => codec::header(mid, &m)?.0,
                None => i64::MIN,
            };
            if arrival >= ts_ms {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Ok((lo <= last).then(|| codec::position(lo, 0)))
    }

    async fn close(&self, key: ShardKey, now_ms: i64) -> Result<Position> {
        self.set_closed(key, Some(now_ms)).await?;
        self.last_position(key).await
    }

    /// When the shard was closed (its mark), or `None` if it is open or was never written.
    pub(super) async fn closed_at(&self, key: ShardKey) -> Result<Option<i64>> {
        let stream = self.shard_stream(key).await?;
        match timeout(self.options.call_timeout, stream.get_info()).await {
            Ok(Ok(info)) => Ok(super::closed_at(&info.config.metadata)),
            Ok(Err(e)) if is_not_found(&e) => Ok(None),
            Ok(Err(e)) => Err(unavailable(e)),
            Err(_) => Err(unavailable("stream info timed out")),
        }
    }

    /// Reopens the shard only if it is still closed by the close of `closed_ms`: a heal that
    /// two nodes attempt at once, or that meets a newer close, changes nothing.
    async fn reopen_closed_at(&self, key: ShardKey, closed_ms: i64) -> Result<bool> {
        if self.closed_at(key).await? != Some(closed_ms) {
            return Ok(false);
        }
        self.set_closed(key, None).await?;
        Ok(true)
    }

    /// Binds the shard's stream to its closed subject (with the time of the close) or to its
    /// open one, creating the stream if no record was ever written to it.
    pub(super) async fn set_closed(&self, key: ShardKey, closed_ms: Option<i64>) -> Result<()> {
        let config = self.shard_config(key, closed_ms);
        // A writer may create the stream between a failed update and our create: try again.
        for _ in 0..5 {
            let updated = timeout(
                self.options.call_timeout,
                self.js.update_stream(config.clone()),
            )
            .await;
            match updated {
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(e)) if is_not_found(&e) => {}
                Ok(Err(e)) => return Err(unavailable(e)),
                Err(_) => return Err(unavailable("stream update timed out")),
            }
            let created = timeout(
                self.options.call_timeout,
                self.js.create_stream(config.clone()),
            )
            .await;
            match created {
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(e)) if e.to_string().contains("already in use") => {}
                Ok(Err(e)) => return Err(unavailable(e)),
                Err(_) => return Err(unavailable("stream create timed out")),
            }
        }
        Err(unavailable(
            "the shard's stream kept changing while it was closed",
        ))
    }

    async fn stats(&self, key: ShardKey) -> Result<ShardStats> {
        let mut stats = ShardStats::default();
        let Some((first, last)) = self.bounds(key).await? else {
            return Ok(stats);
        };
        let mut sequence = first.max(1);
        while sequence <= last {
            let to = last.min(sequence + READ_WINDOW - 1);
            for (s, message) in self.messages(key, sequence, to).await? {
                if let Some(m) = message {
                    for r in codec::decode(s, &m, 0)? {
                        stats.records += 1;
                        stats.bytes += (r.partition_key.len() + r.data.len()) as u64;
                    }
                }
            }
            sequence = to + 1;
        }
        Ok(stats)
    }

    /// Keeps a watched shard's tip: announcements from every node, and a periodic re-read.
    async fn follow_tip(self: Arc<Self>, key: ShardKey, tx: tokio::sync::watch::Sender<Position>) {
        let raise = |tip: Position| {
            tx.send_if_modified(|t| std::mem::replace(t, (*t).max(tip)) < tip);
        };
        let mut announcements = self.client.subscribe(self.tip_subject(key)).await.ok();
        let mut poll = tokio::time::interval(TIP_POLL);
        loop {
            if tx.receiver_count() == 0 {
                let mut tips = locked(&self.tips);
                if tx.receiver_count() == 0 {
                    tips.remove(&key);
                    return;
                }
            }
            tokio::select! {
                _ = poll.tick() => {
                    if let Ok(tip) = self.last_position(key).await {
                        raise(tip);
                    }
                }
                Some(message) = async {
                    match announcements.as_mut() {
                        Some(s) => s.next().await,
                        None => std::future::pending().await,
                    }
                } => {
                    if let Ok(bytes) = <[u8; 8]>::try_from(message.payload.as_ref()) {
                        raise(u64::from_be_bytes(bytes));
                    }
                }
            }
        }
    }
}

impl ShardLog for JetStreamStore {
    fn append(&self, runs: Vec<Run>, now_ms: i64) -> StoreFuture<'static, Vec<RunOutcome>> {
        let replies: Vec<_> = runs
            .into_iter()
            .map(|run| self.inner.enqueue(run, now_ms))
            .collect();
        Box::pin(async move {
            let mut outcomes = Vec::with_capacity(replies.len());
            for reply in replies {
                let outcome = reply
                    .await
                    .map_err(|_| StoreError::Io("the shard writer stopped".into()))??;
                outcomes.push(outcome);
            }
            Ok(outcomes)
        })
    }

    fn read(
        &self,
        shard: ShardKey,
        from: Position,
        max_records: usize,
        max_bytes: usize,
    ) -> StoreFuture<'_, Chunk> {
        Box::pin(self.inner.read(shard, from, max_records, max_bytes))
    }

    fn last_position(&self, shard: ShardKey) -> StoreFuture<'_, Position> {
        Box::pin(self.inner.last_position(shard))
    }

    fn watch(&self, shard: ShardKey) -> Result<tokio::sync::watch::Receiver<Position>> {
        let mut tips = locked(&self.inner.tips);
        if let Some(tx) = tips.get(&shard) {
            return Ok(tx.subscribe());
        }
        let (tx, rx) = tokio::sync::watch::channel(0);
        tips.insert(shard, tx.clone());
        tokio::spawn(self.inner.clone().follow_tip(shard, tx));
        Ok(rx)
    }

    fn position_at_time(&self, shard: ShardKey, ts_ms: i64) -> StoreFuture<'_, Option<Position>> {
        Box::pin(self.inner.position_at_time(shard, ts_ms))
    }

    fn close(&self, shard: ShardKey, now_ms: i64) -> StoreFuture<'_, Position> {
        Box::pin(self.inner.close(shard, now_ms))
    }

    fn closed_at(&self, shard: ShardKey) -> StoreFuture<'_, Option<i64>> {
        Box::pin(self.inner.closed_at(shard))
    }

    fn reopen(&self, shard: ShardKey) -> StoreFuture<'_, ()> {
        Box::pin(self.inner.set_closed(shard, None))
    }

    fn reopen_closed_at(&self, shard: ShardKey, closed_ms: i64) -> StoreFuture<'_, bool> {
        Box::pin(self.inner.reopen_closed_at(shard, closed_ms))
    }

    fn trim(&self, shard: ShardKey, cutoff_ms: i64, max: usize) -> StoreFuture<'_, TrimReport> {
        Box::pin(self.inner.trim(shard, cutoff_ms, max))
    }

    fn delete_stream(&self, stream: u64, _max: usize, now_ms: i64) -> StoreFuture<'_, TrimReport> {
        Box::pin(self.inner.delete_stream(stream, now_ms))
    }

    fn sweep(&self, now_ms: i64) -> StoreFuture<'_, usize> {
        Box::pin(self.inner.sweep(now_ms))
    }

    fn stats(&self, shard: ShardKey) -> StoreFuture<'_, ShardStats> {
        Box::pin(self.inner.stats(shard))
    }

    fn sync(&self) -> StoreFuture<'_, ()> {
        // Every acknowledged message is already on a quorum of the servers' disks.
        Box::pin(async { Ok(()) })
    }
}
