//! Records the journal has made durable but the engine does not hold yet, and records of
//! relaxed appends, which only the next flush makes durable (`Store::append_relaxed`).
//!
//! A group commit of a few small records would cost the engine a tree insert per shard;
//! holding them here until a few hundred KiB have gathered lets the engine receive full
//! blocks instead, off the acknowledgement path.
//!
//! Invariants:
//! * per shard, the records here are in position order and above every record of the shard
//!   in the engine, except while a drain runs, when a prefix of them is in both;
//! * a record leaves only after the engine holds it (a drain), and `moved` changes under
//!   the same lock, so a reader that read the engine and then finds `moved` unchanged
//!   knows it missed nothing.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::{ShardKey, StoredRecord};

/// One group commit's records of one shard, shared between the queue and a drain so that a
/// drain writes them without copying them.
pub(crate) type Chunk = Arc<Vec<StoredRecord>>;

#[derive(Default)]
pub(crate) struct Pending {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Per shard, non-empty chunks in position order.
    shards: HashMap<ShardKey, VecDeque<Chunk>>,
    bytes: usize,
    moved: u64,
}

fn billed(r: &StoredRecord) -> usize {
    r.partition_key.len() + r.data.len()
}

fn chunk_bytes(chunk: &[StoredRecord]) -> usize {
    chunk.iter().map(billed).sum()
}

fn last_of(chunk: &Chunk) -> u64 {
    chunk.last().map_or(0, |r| r.position)
}

/// The limits of [`crate::Store::read`]: whether one more record of `size` bytes may join
/// `count` records of `total` bytes.
pub(crate) fn fits(
    count: usize,
    total: usize,
    size: usize,
    max_records: usize,
    max_bytes: usize,
) -> bool {
    count < max_records
        && (count == 0 || (total < max_bytes && total.saturating_add(size) <= max_bytes))
}

impl Pending {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update below completes under the lock without panicking paths in between.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds records; returns the bytes now held.
    pub(crate) fn push(&self, groups: Vec<(ShardKey, Vec<StoredRecord>)>) -> usize {
        let mut s = self.lock();
        for (shard, records) in groups {
            if records.is_empty() {
                continue;
            }
            s.bytes += chunk_bytes(&records);
            s.shards
                .entry(shard)
                .or_default()
                .push_back(Arc::new(records));
        }
        s.bytes
    }

    pub(crate) fn moved(&self) -> u64 {
        self.lock().moved
    }

    pub(crate) fn last(&self, shard: ShardKey) -> Option<u64> {
        self.lock()
            .shards
            .get(&shard)
            .and_then(|q| q.back())
            .map(last_of)
    }

    pub(crate) fn holds(&self, shard: ShardKey) -> bool {
        self.lock().shards.contains_key(&shard)
    }

    /// Continues a read that found `out` in the engine: appends the shard's records
    /// above `out`'s last (or from `from`), within the read's limits. Returns false,
    /// appending nothing, if records moved to the engine since `moved` was taken.
    pub(crate) fn extend_read(
        &self,
        shard: ShardKey,
        moved: u64,
        out: &mut Vec<StoredRecord>,
        from: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> bool {
        let s = self.lock();
        if s.moved != moved {
            return false;
        }
        let Some(queue) = s.shards.get(&shard) else {
            return true;
        };
        let cursor = match out.last() {
            Some(r) => match r.position.checked_add(1) {
                Some(c) => c,
                None => return true,
            },
            None => from,
        };
        let mut total: usize = out.iter().map(billed).sum();
        let first_chunk = queue.partition_point(|c| last_of(c) < cursor);
        for chunk in queue.range(first_chunk..) {
            let start = chunk.partition_point(|r| r.position < cursor);
            for r in &chunk[start..] {
                let size = billed(r);
                if !fits(out.len(), total, size, max_records, max_bytes) {
                    return true;
                }
                total = total.saturating_add(size);
                out.push(r.clone());
            }
        }
        true
    }

    /// The chunks of the shards `which` selects, for a drain.
    pub(crate) fn snapshot(
        &self,
        which: impl Fn(&ShardKey) -> bool,
    ) -> Vec<(ShardKey, Vec<Chunk>)> {
        let s = self.lock();
        s.shards
            .iter()
            .filter(|(k, _)| which(k))
            .map(|(k, q)| (*k, q.iter().cloned().collect()))
            .collect()
    }

    /// Forgets the shard's records up to `last` (the engine now holds them). Drains take
    /// whole chunks, so whole chunks go.
    pub(crate) fn remove_through(&self, shard: ShardKey, last: u64) {
        let mut s = self.lock();
        let s = &mut *s;
        if let Some(queue) = s.shards.get_mut(&shard) {
            while queue.front().is_some_and(|c| last_of(c) <= last) {
                let chunk = queue.pop_front().expect("front exists");
                s.bytes -= chunk_bytes(&chunk);
            }
            if queue.is_empty() {
                s.shards.remove(&shard);
            }
        }
        s.moved += 1;
    }
}
