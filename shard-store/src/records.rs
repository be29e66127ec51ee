//! Appending and reading a shard's records: blocks in the engine, plus the journaled records
//! still in memory (`pending.rs`); and the position queries (last position, time search).

use crate::block::BlockRecord;
use crate::block::{self, Block, BlockBuilder, Header};
use crate::encoding::decode_u64_value;
use crate::error::{engine_err, with_context};
use crate::keys::{block_key, high_water_key, parse_position_key};
use crate::pending;
use crate::store::Inner;
use crate::{journal, NewRecord, Result, ShardKey, Store, StoreError, StoredRecord};
use std::sync::atomic::Ordering;

/// Upper bound on the encoded size of a block written by `append` (header included),
/// unless one record alone is larger.
///
/// Chosen by measurement (`examples/append_throughput.rs`, 200 MB per run, 40 and 400
/// records per append + flush). sled keeps a leaf node's values inline, and splits a
/// leaf above 16 entries but may hold ~26 (pending fragments) when it rewrites the
/// whole node; any log item larger than a quarter segment (~128 KiB with the default
/// 512 KiB segments) goes to a separate blob file instead, which sled 0.34 never
/// fsyncs. 4 KiB keeps a full node (26 × ~4.1 KiB ≈ 107 KiB) inline. Larger blocks
/// only measured faster when consolidations spilled into blob files (16 KiB and up);
/// with segments raised so nodes stay inline (2 and 8 MiB), 16–64 KiB blocks were no
/// faster than 4 KiB, so neither the cap nor the segment size goes higher.
pub(crate) const BLOCK_BYTES: usize = 4 * 1024;

/// How many journaled record bytes may wait in memory before they go to the engine.
/// Measured with 16 clients of 100 B PutRecords: 128 KiB to 32 MiB were within noise of
/// each other; small enough to bound memory, large enough for full blocks.
pub(crate) const PENDING_BYTES: usize = 2 << 20;

/// How many bytes of relaxed appends memory may hold before the appending writer flushes
/// them into the engine itself. Writers can outpace the engine (PutRecords of 1 KB records
/// came in at 280 MB/s), and neither the drains nor sled hold back for that: retaining 1 GB
/// at full speed took 1.76 GB of RSS with no bound here, and 1.28 GB (1.6 GB at its peak)
/// when every relaxed put went to sled at once. With the bound: 145 MB (187 MB at its peak),
/// filling at 122 MB/s against 96 MB/s durable. 32 MiB measured no faster.
pub(crate) const RELAXED_HELD_MAX: usize = 4 * PENDING_BYTES;

/// What [`Store::append_journaled`] did.
pub enum Journaled {
    /// The records are durable (in the journal) and readable.
    Durable {
        /// Enough records wait in memory that [`Store::drain_pending`] should run.
        drain_due: bool,
    },
    /// Nothing was written: these groups need [`Store::append_durably`].
    Declined(Vec<(ShardKey, Vec<StoredRecord>)>),
}

/// What [`Store::append_relaxed`] leaves for the caller to schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelaxedAppend {
    /// Enough records wait in memory that [`Store::drain_pending`] should run.
    pub drain_due: bool,
    /// No relaxed append was waiting for a flush before this one: one should run soon.
    pub first_since_flush: bool,
}

pub(crate) fn as_new(records: &[StoredRecord]) -> Vec<NewRecord<'_>> {
    records.iter().map(StoredRecord::as_new).collect()
}

pub(crate) fn to_stored(shard: ShardKey, r: &BlockRecord<'_>) -> Result<StoredRecord> {
    let partition_key = std::str::from_utf8(r.pk)
        .map_err(|e| {
            StoreError::Corrupt(format!(
                "{shard:?} position {}: partition key: {e}",
                r.position
            ))
        })?
        .to_owned();
    Ok(StoredRecord {
        position: r.position,
        arrival_ms: r.arrival_ms,
        partition_key,
        data: r.data.to_vec(),
    })
}

impl Inner {
    /// Writes the pending records of one shard (or of all) to the engine, then forgets
    /// them; readers find each record in memory or in the engine throughout.
    pub(crate) fn drain(&self, which: impl Fn(&ShardKey) -> bool) -> Result<()> {
        let _draining = self.draining_lock();
        for (shard, chunks) in self.pending.snapshot(which) {
            let records: Vec<NewRecord<'_>> = chunks
                .iter()
                .flat_map(|c| c.iter().map(StoredRecord::as_new))
                .collect();
            self.append_engine(shard, &records)?;
            if let Some(last) = records.last() {
                self.pending.remove_through(shard, last.position);
            }
        }
        Ok(())
    }

    pub(crate) fn append_engine(&self, shard: ShardKey, records: &[NewRecord<'_>]) -> Result<()> {
        let mut blocks = Vec::new();
        let mut builder = BlockBuilder::new();
        for r in records {
            let len = block::record_len(r.partition_key.len(), r.data.len());
            if !builder.is_empty() && builder.len() + len > BLOCK_BYTES {
                blocks.extend(builder.take());
            }
            builder.push(r.position, r.arrival_ms, r.partition_key.as_bytes(), r.data)?;
        }
        blocks.extend(builder.take());
        for (first, value) in blocks {
            self.records
                .insert(&block_key(shard, first)[..], value)
                .map_err(engine_err)?;
        }
        Ok(())
    }
}

impl Store {
    /// Appends records to one shard in order. Not durable until [`Store::flush`]; a crash
    /// before it keeps a prefix of the records (the engine's log is ordered), never a gap.
    /// Plain inserts rather than an atomic batch: a batch costs the engine two extra log
    /// writes per call, and callers acknowledge nothing before the flush anyway.
    ///
    /// The records are stored as blocks of consecutive records (see the crate docs), so
    /// one call with many records costs a handful of engine writes; prefer one call per
    /// group commit over one per record.
    ///
    /// The caller guarantees the [`NewRecord`] ordering invariants; an empty batch is a
    /// no-op. Fails with `Corrupt` (writing nothing) if a partition key exceeds 65535
    /// bytes, which the stored format cannot represent.
    pub fn append(&self, shard: ShardKey, records: &[NewRecord<'_>]) -> Result<()> {
        self.writable()?;
        if self.inner.is_deleted(shard.stream) {
            return Ok(());
        }
        if self.inner.pending.holds(shard) {
            self.inner.drain(|k| *k == shard)?;
        }
        self.inner.append_engine(shard, records)
    }

    /// Appends each group's records to its shard and returns once all of them are
    /// durable, without making anything else durable. Groups follow the [`NewRecord`]
    /// ordering invariants.
    ///
    /// A store opened on a directory writes small commits to its journal, one write and
    /// one `fdatasync` on the calling thread, and keeps the records in memory (readable
    /// at once) until a few hundred KiB have gathered; then they go to the engine as
    /// full blocks, which the engine flushes in the background. A crash before that is
    /// repaired by the next [`Store::open`] from the journal. Large commits, a full
    /// journal and temporary stores take the engine and a full [`Store::flush`] instead.
    /// Meant for one committing thread; concurrent callers are serialized.
    pub fn append_durably(&self, groups: Vec<(ShardKey, Vec<StoredRecord>)>) -> Result<()> {
        let groups = match self.append_journaled(groups)? {
            Journaled::Durable { drain_due } => {
                if drain_due {
                    self.drain_pending()?;
                }
                return Ok(());
            }
            Journaled::Declined(groups) => groups,
        };
        let journal = self.journal_lock();
        // Everything older goes to the engine first, so each shard's blocks keep their
        // order; the flush then covers all the journal holds, which restarts.
        self.inner.drain(|_| true)?;
        self.append_groups(&groups)?;
        self.flush()?;
        match journal {
            Some(mut journal) => journal.checkpoint(),
            None => Ok(()),
        }
    }

    /// The short path of [`Store::append_durably`] alone: one journal write and one
    /// `fdatasync`, nothing that can take long. Declines, writing nothing, when that is
    /// not enough (no journal, a commit too large for it, a full journal); the caller
    /// then takes [`Store::append_durably`] where blocking for a flush is acceptable.
    /// When a drain is due, [`Store::drain_pending`] should run soon, on any thread.
    pub fn append_journaled(
        &self,
        groups: Vec<(ShardKey, Vec<StoredRecord>)>,
    ) -> Result<Journaled> {
        self.writable()?;
        self.inner.dir_sync.wait()?;
        let groups = self.inner.without_deleted(groups);
        let Some(mut journal) = self.journal_lock() else {
            return Ok(Journaled::Declined(groups));
        };
        if journal::entry_len(&groups) > journal::JOURNAL_ENTRY_MAX || !journal.append(&groups)? {
            return Ok(Journaled::Declined(groups));
        }
        drop(journal);
        let drain_due = self.inner.pending.push(groups) >= PENDING_BYTES;
        Ok(Journaled::Durable { drain_due })
    }

    /// Appends each group's records to its shard, kept in memory only (`--durability
    /// relaxed`): readable at once, but durable only after the next [`Store::flush`], which
    /// moves them into the engine first. Nothing is written here: the engine's cost is per
    /// call, and a drain later writes many puts' records as full blocks; past
    /// [`RELAXED_HELD_MAX`] the caller flushes them itself. Groups follow the [`NewRecord`]
    /// ordering invariants.
    pub fn append_relaxed(
        &self,
        groups: Vec<(ShardKey, Vec<StoredRecord>)>,
    ) -> Result<RelaxedAppend> {
        self.writable()?;
        let groups = self.inner.without_deleted(groups);
        let held = self.inner.pending.push(groups);
        let first_since_flush = !self.inner.relaxed_in_memory.swap(true, Ordering::SeqCst);
        let mut drain_due = held >= PENDING_BYTES;
        if held >= RELAXED_HELD_MAX {
            // A flush, not only a drain: sled holds what it has not written in memory too,
            // and takes no notice of how much. The appended records stay held whatever
            // happens here (the caller has given them positions); a failed flush leaves the
            // drain due, for the group commit to retry.
            match self.inner.flush() {
                Ok(()) => drain_due = false,
                Err(e) => {
                    tracing::warn!(error = %e, "moving relaxed appends into the store failed")
                }
            }
        }
        Ok(RelaxedAppend {
            drain_due,
            first_since_flush,
        })
    }

    /// Moves the records the journal made durable into the engine (in memory until its
    /// background flush), so memory does not grow with them. Runs beside journal appends.
    pub fn drain_pending(&self) -> Result<()> {
        self.writable()?;
        self.inner.drain(|_| true)
    }

    pub(crate) fn append_groups(&self, groups: &[(ShardKey, Vec<StoredRecord>)]) -> Result<()> {
        for (shard, records) in groups {
            self.inner.append_engine(*shard, &as_new(records))?;
        }
        Ok(())
    }

    /// Records with position >= `from`, ascending, at most `max_records` of them.
    ///
    /// Size limit: a record is included only while the summed data + partition-key
    /// bytes stay <= `max_bytes`; reading stops at the first record that does not fit
    /// (never skips), and also once the sum has reached `max_bytes`. Exception: the
    /// first record is always returned if one exists, even if it alone exceeds
    /// `max_bytes`, so a reader always makes progress. `max_records == 0` returns
    /// nothing.
    pub fn read(
        &self,
        shard: ShardKey,
        from: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<StoredRecord>> {
        loop {
            let moved = self.inner.pending.moved();
            let (mut out, ran_out) = self.read_engine(shard, from, max_records, max_bytes)?;
            // Memory holds only records above the engine's (or copies of its last ones),
            // so a read the limits stopped is complete.
            if !ran_out
                || self.inner.pending.extend_read(
                    shard,
                    moved,
                    &mut out,
                    from,
                    max_records,
                    max_bytes,
                )
            {
                return Ok(out);
            }
            // A drain moved records into the engine while we read it: read again.
        }
    }

    /// The engine's part of [`Store::read`]; the flag says whether the read ran out of
    /// engine records (rather than of limits), so that memory may continue it.
    pub(crate) fn read_engine(
        &self,
        shard: ShardKey,
        from: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<(Vec<StoredRecord>, bool)> {
        let mut out: Vec<StoredRecord> = Vec::new();
        if max_records == 0 {
            return Ok((out, false));
        }
        // `from` may fall inside a block: start at the block holding it, if any.
        let start = match self.block_at_or_before(shard, from)? {
            Some((first, value)) if self.header(shard, first, &value)?.last >= from => first,
            _ => from,
        };
        let mut total = 0usize;
        for item in self.blocks_from(shard, start) {
            if out.len() >= max_records {
                return Ok((out, false));
            }
            let (first, value) = item?;
            let block = self.decode(shard, first, &value)?;
            // Records below the cursor are skipped: the first block may start before
            // `from`, and a trim rewriting a block between two steps of this scan can
            // show us the suffix of a block we already read.
            let cursor = out.last().map_or(Some(from), |r| r.position.checked_add(1));
            let Some(cursor) = cursor else {
                return Ok((out, false));
            };
            for r in block.records.iter().filter(|r| r.position >= cursor) {
                let size = r.billed_len();
                if !pending::fits(out.len(), total, size, max_records, max_bytes) {
                    return Ok((out, false));
                }
                total = total.saturating_add(size);
                out.push(to_stored(shard, r)?);
            }
        }
        Ok((out, true))
    }

    /// Highest position ever appended to the shard, including records since trimmed (the
    /// trim high-water mark covers an emptied shard, across restarts), or None if
    /// nothing was ever appended (or the stream's records were deleted).
    pub fn last_position(&self, shard: ShardKey) -> Result<Option<u64>> {
        // Memory first: a record leaves it only once the engine holds it.
        if let Some(last) = self.inner.pending.last(shard) {
            return Ok(Some(last));
        }
        let stored = self.last_stored_position(shard)?;
        let mark = self.high_water(shard)?;
        Ok(stored.max(mark))
    }

    pub(crate) fn last_stored_position(&self, shard: ShardKey) -> Result<Option<u64>> {
        match self.block_at_or_before(shard, u64::MAX)? {
            Some((first, value)) => Ok(Some(self.header(shard, first, &value)?.last)),
            None => Ok(None),
        }
    }

    pub(crate) fn high_water(&self, shard: ShardKey) -> Result<Option<u64>> {
        self.inner
            .records
            .get(high_water_key(shard))
            .map_err(engine_err)?
            .map(|v| decode_u64_value(&v, "high-water mark"))
            .transpose()
    }

    /// The shard's blocks whose first position is >= `from`, ascending, as
    /// (first position, value).
    pub(crate) fn blocks_from(
        &self,
        shard: ShardKey,
        from: u64,
    ) -> impl Iterator<Item = Result<(u64, sled::IVec)>> {
        self.inner
            .records
            .range(block_key(shard, from)..=block_key(shard, u64::MAX))
            .map(|item| {
                let (key, value) = item.map_err(engine_err)?;
                Ok((parse_position_key(&key)?.1, value))
            })
    }

    /// The shard's block with the highest first position <= `at`, if any: the only block
    /// that can hold position `at`.
    pub(crate) fn block_at_or_before(
        &self,
        shard: ShardKey,
        at: u64,
    ) -> Result<Option<(u64, sled::IVec)>> {
        let found = self
            .inner
            .records
            .range(block_key(shard, 0)..=block_key(shard, at))
            .next_back();
        match found {
            Some(item) => {
                let (key, value) = item.map_err(engine_err)?;
                Ok(Some((parse_position_key(&key)?.1, value)))
            }
            None => Ok(None),
        }
    }

    pub(crate) fn header(&self, shard: ShardKey, first: u64, value: &[u8]) -> Result<Header> {
        Header::parse(first, value)
            .map_err(|e| with_context(e, format_args!("{shard:?} block {first}")))
    }

    pub(crate) fn decode<'v>(
        &self,
        shard: ShardKey,
        first: u64,
        value: &'v [u8],
    ) -> Result<Block<'v>> {
        Block::decode(first, value)
            .map_err(|e| with_context(e, format_args!("{shard:?} block {first}")))
    }

    /// Lowest position still stored, with its arrival time, or None if the shard holds no
    /// record.
    pub fn first_record_position(&self, shard: ShardKey) -> Result<Option<(u64, i64)>> {
        self.inner.drain(|k| *k == shard)?;
        match self.blocks_from(shard, 0).next() {
            Some(item) => {
                let (first, value) = item?;
                let header = self.header(shard, first, &value)?;
                Ok(Some((first, header.first_ms)))
            }
            None => Ok(None),
        }
    }

    /// The position of the first stored record with `arrival_ms >= ts_ms`, or None if
    /// there is none.
    ///
    /// Relies on arrival times being non-decreasing in position order (a [`NewRecord`]
    /// invariant): it bisects the position key space with "block at or before" lookups,
    /// deciding from block headers alone, so it costs O(64) index lookups at most,
    /// independent of the shard's size, plus decoding the one block holding the answer.
    pub fn first_position_at_or_after_time(
        &self,
        shard: ShardKey,
        ts_ms: i64,
    ) -> Result<Option<u64>> {
        self.inner.drain(|k| *k == shard)?;
        let Some(item) = self.blocks_from(shard, 0).next() else {
            return Ok(None);
        };
        let (first, value) = item?;
        let head = self.header(shard, first, &value)?;
        // The scan at the end starts at the first block with a key >= `start`.
        let start = if head.last_ms >= ts_ms {
            first
        } else {
            let Some((last, value)) = self.block_at_or_before(shard, u64::MAX)? else {
                return Ok(None);
            };
            let tail = self.header(shard, last, &value)?;
            if tail.last_ms < ts_ms {
                return Ok(None);
            }
            // Invariant: every block with a key <= `lo` ends too early; the block keyed
            // `hi` ends late enough. Once no key lies strictly between them, the answer
            // is in the first block after `lo`, which is `hi`.
            let (mut lo, mut hi) = (head.last, last);
            while hi > lo && hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                // None only if a concurrent trim removed every block up to `mid`.
                let Some((key, value)) = self.block_at_or_before(shard, mid)? else {
                    lo = mid;
                    continue;
                };
                let block = self.header(shard, key, &value)?;
                if block.last_ms >= ts_ms && key > lo {
                    hi = key;
                } else {
                    // No block starts inside (mid, block.last]: skip that key space.
                    lo = mid.max(block.last);
                }
            }
            match lo.checked_add(1) {
                Some(next) => next,
                None => return Ok(None),
            }
        };
        // Normally the first block looked at holds the answer; scanning on covers a
        // concurrent trim having rewritten it under a later key.
        for item in self.blocks_from(shard, start) {
            let (first, value) = item?;
            if self.header(shard, first, &value)?.last_ms < ts_ms {
                continue;
            }
            let block = self.decode(shard, first, &value)?;
            if let Some(r) = block.records.iter().find(|r| r.arrival_ms >= ts_ms) {
                return Ok(Some(r.position));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests;
