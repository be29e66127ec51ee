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
        let groups = self.inner.without_deleted(groups);
        let Some(mut journal) = self.journal_lock() else {
            self.append_groups(&groups)?;
            return self.flush();
        };
        if journal::entry_len(&groups) <= journal::JOURNAL_ENTRY_MAX && journal.append(&groups)? {
            if self.inner.pending.push(groups) >= PENDING_BYTES {
                self.inner.drain(|_| true)?;
            }
            return Ok(());
        }
        // Everything older goes to the engine first, so each shard's blocks keep their
        // order; the flush then covers all the journal holds, which restarts.
        self.inner.drain(|_| true)?;
        self.append_groups(&groups)?;
        self.flush()?;
        journal.checkpoint()
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
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn record_round_trip() {
        let store = Store::open_temporary().unwrap();
        let r = NewRecord {
            position: 9,
            arrival_ms: -5,
            partition_key: "clé",
            data: &[0, 1, 255],
        };
        store.append(S, &[r]).unwrap();
        assert_eq!(
            store.read(S, 0, 10, 100).unwrap(),
            vec![StoredRecord {
                position: 9,
                arrival_ms: -5,
                partition_key: "clé".into(),
                data: vec![0, 1, 255],
            }]
        );
        let value = store.inner.records.get(block_key(S, 9)).unwrap().unwrap();
        assert_eq!(value[0], FORMAT_VERSION);
    }

    #[test]
    fn oversized_partition_key_is_rejected_without_writing() {
        let store = Store::open_temporary().unwrap();
        let pk = "x".repeat(70_000);
        let recs = [
            rec(1, 1),
            NewRecord {
                position: 2,
                arrival_ms: 1,
                partition_key: &pk,
                data: b"",
            },
        ];
        assert_corrupt(store.append(S, &recs));
        assert_eq!(store.last_position(S).unwrap(), None);
    }

    #[test]
    fn appends_are_split_into_blocks_of_at_most_block_bytes() {
        let store = Store::open_temporary().unwrap();
        let n = (3 * BLOCK_BYTES / 100) as u64;
        let small: Vec<_> = (0..n).map(|i| owned(i, 1, 100)).collect();
        store.append(S, &borrowed(&small)).unwrap();
        let layout = block_layout(&store, S);
        assert!(layout.len() > 1, "{layout:?}");
        assert!(layout.iter().all(|&(_, _, len)| len <= BLOCK_BYTES));
        // Full blocks: adding the next record would have crossed the cap.
        let record = block::record_len(small[0].partition_key.len(), 100);
        for &(_, _, len) in &layout[..layout.len() - 1] {
            assert!(len + record > BLOCK_BYTES, "{layout:?}");
        }
        assert_eq!(layout.iter().map(|l| u64::from(l.1)).sum::<u64>(), n);

        // A record larger than the cap is a block of its own.
        let other = ShardKey { shard: 9, ..S };
        let mixed = vec![
            owned(1, 1, 10),
            owned(2, 1, BLOCK_BYTES * 2),
            owned(3, 1, 10),
        ];
        store.append(other, &borrowed(&mixed)).unwrap();
        let layout = block_layout(&store, other);
        assert_eq!(
            layout.iter().map(|l| (l.0, l.1)).collect::<Vec<_>>(),
            vec![(1, 1), (2, 1), (3, 1)]
        );
        assert_eq!(store.read(other, 0, 10, usize::MAX).unwrap(), mixed);
        store.append(other, &[]).unwrap();
        assert_eq!(block_layout(&store, other).len(), 3);
    }

    #[test]
    fn read_starts_mid_block_and_crosses_blocks() {
        let store = Store::open_temporary().unwrap();
        let all = many_blocks(&store);
        let mut froms: Vec<u64> = vec![0, u64::MAX];
        for r in &all {
            froms.extend([r.position - 1, r.position, r.position + 1]);
        }
        for from in froms {
            assert_eq!(
                store.read(S, from, usize::MAX, usize::MAX).unwrap(),
                reference_read(&all, from, usize::MAX, usize::MAX),
                "from {from}"
            );
        }
    }

    #[test]
    fn read_limits_across_blocks() {
        let store = Store::open_temporary().unwrap();
        let all = many_blocks(&store);
        let starts = [0, all[10].position, all[59].position, all[61].position];
        for from in starts {
            for max_records in [0, 1, 2, 17, 59, 60, 61, 150, usize::MAX] {
                let block = BLOCK_BYTES;
                for max_bytes in [
                    0,
                    1,
                    100,
                    block / 2,
                    block,
                    block + 999,
                    3 * block,
                    usize::MAX,
                ] {
                    assert_eq!(
                        store.read(S, from, max_records, max_bytes).unwrap(),
                        reference_read(&all, from, max_records, max_bytes),
                        "read({from}, {max_records}, {max_bytes})"
                    );
                }
            }
        }
    }

    #[test]
    fn read_byte_limit() {
        let store = Store::open_temporary().unwrap();
        // each record bills 2 (pk) + 4 (data) = 6 bytes
        let recs: Vec<_> = (1..=5).map(|i| rec(i, i as i64)).collect();
        store.append(S, &recs).unwrap();
        let lens = |max_bytes| store.read(S, 0, 100, max_bytes).unwrap().len();
        assert_eq!(lens(0), 1);
        assert_eq!(lens(5), 1);
        assert_eq!(lens(6), 1);
        assert_eq!(lens(11), 1);
        assert_eq!(lens(12), 2);
        assert_eq!(lens(1000), 5);
        assert_eq!(store.read(S, 0, 0, 1000).unwrap().len(), 0);
        assert_eq!(store.read(S, 4, 100, 1000).unwrap().len(), 2);
        assert_eq!(store.read(S, 6, 100, 1000).unwrap().len(), 0);
    }

    #[test]
    fn read_does_not_cross_shards() {
        let store = Store::open_temporary().unwrap();
        let next = ShardKey { shard: 3, ..S };
        store
            .append(S, &[rec(u64::MAX - 1, 1), rec(u64::MAX, 1)])
            .unwrap();
        store.append(next, &[rec(0, 1)]).unwrap();
        let got = store.read(S, 0, 10, 1000).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].position, u64::MAX);
        assert_eq!(store.read(S, u64::MAX, 10, 1000).unwrap().len(), 1);
        assert_eq!(store.last_position(S).unwrap(), Some(u64::MAX));
        assert_eq!(store.last_position(next).unwrap(), Some(0));
        assert_eq!(store.first_record_position(next).unwrap(), Some((0, 1)));
        assert_eq!(
            store.first_position_at_or_after_time(S, 1).unwrap(),
            Some(u64::MAX - 1)
        );
        assert_eq!(store.first_position_at_or_after_time(S, 2).unwrap(), None);
    }

    #[test]
    fn time_search_with_equal_times_and_gaps() {
        let store = Store::open_temporary().unwrap();
        let times = [5, 5, 5, 7, 7, 9, 20, 20, 20, 21];
        let recs: Vec<_> = times
            .iter()
            .enumerate()
            .map(|(i, &t)| rec(1000 + (i as u64) * (i as u64) * 1_000_000_007, t))
            .collect();
        store.append(S, &recs).unwrap();
        for ts in 0..25 {
            let want = recs.iter().find(|r| r.arrival_ms >= ts).map(|r| r.position);
            assert_eq!(
                store.first_position_at_or_after_time(S, ts).unwrap(),
                want,
                "ts {ts}"
            );
        }
    }

    #[test]
    fn time_search_across_many_blocks() {
        let store = Store::open_temporary().unwrap();
        let mut all = Vec::new();
        let mut position = 0u64;
        let mut ms = 0i64;
        // 300 single- and multi-block appends; times repeat across block boundaries and
        // jump elsewhere, positions sometimes jump by huge amounts.
        for append in 0..300u64 {
            let n = 1 + (append * 7 % 13) as usize;
            let batch: Vec<_> = (0..n)
                .map(|i| {
                    position += match (append + i as u64) % 11 {
                        0 => 1 << 40,
                        1 => 5,
                        _ => 1,
                    };
                    ms += match (append * 3 + i as u64) % 9 {
                        0 => 50,
                        1 | 2 => 1,
                        _ => 0,
                    };
                    owned(position, ms, if append % 10 == 0 { 1_500 } else { 10 })
                })
                .collect();
            store.append(S, &borrowed(&batch)).unwrap();
            all.extend(batch);
        }
        assert!(block_layout(&store, S).len() >= 300);
        for ts in (-2..=ms + 2).chain([i64::MIN, i64::MAX]) {
            let want = all.iter().find(|r| r.arrival_ms >= ts).map(|r| r.position);
            assert_eq!(
                store.first_position_at_or_after_time(S, ts).unwrap(),
                want,
                "ts {ts}"
            );
        }
        // Still right after trims cut blocks in the middle.
        for cutoff in [3, 200, 1_000] {
            store.trim_before_time(S, cutoff, usize::MAX).unwrap();
            all.retain(|r| r.arrival_ms >= cutoff);
            for ts in (-2..=ms + 2).step_by(7) {
                let want = all.iter().find(|r| r.arrival_ms >= ts).map(|r| r.position);
                assert_eq!(
                    store.first_position_at_or_after_time(S, ts).unwrap(),
                    want,
                    "cutoff {cutoff} ts {ts}"
                );
            }
        }
    }

    #[test]
    fn malformed_block_values_decode_to_corrupt() {
        let good = {
            let mut b = BlockBuilder::new();
            b.push(2, 20, b"pk", b"data").unwrap();
            b.push(3, 25, b"pk", b"data").unwrap();
            b.take().unwrap().1
        };
        let patched = |at: usize, bytes: &[u8]| {
            let mut v = good.clone();
            v[at..at + bytes.len()].copy_from_slice(bytes);
            v
        };
        let second = block::HEADER_LEN + block::record_len(2, 4);
        const RECORD_PK_AT: usize = block::RECORD_OVERHEAD;
        // (value, header is fine, records are fine but for the partition key's UTF-8)
        let cases: Vec<(Vec<u8>, bool, bool)> = vec![
            (vec![], false, false),
            (vec![0], false, false),
            (patched(0, &[2]), false, false),
            (good[..block::HEADER_LEN].to_vec(), false, false),
            (patched(1, &9u32.to_be_bytes()), false, false),
            (good[..good.len() - 1].to_vec(), true, false),
            (patched(second + 16, &1000u16.to_be_bytes()), true, false),
            (patched(second + 8, &26i64.to_be_bytes()), true, false),
            (patched(second + RECORD_PK_AT, &[0xff]), true, true),
        ];
        for (i, (bad, header_ok, utf8_only)) in cases.into_iter().enumerate() {
            let store = Store::open_temporary().unwrap();
            store.append(S, &[rec(1, 10)]).unwrap();
            store
                .inner
                .records
                .insert(&block_key(S, 2)[..], bad)
                .unwrap();
            store.append(S, &[rec(4, 30)]).unwrap();
            assert_corrupt(store.read(S, 0, 10, 1 << 20));
            assert_corrupt(store.read(S, 3, 10, 1 << 20));
            // Decoding the first block is fine; only paths touching block 2 must fail.
            assert_eq!(store.read(S, 0, 1, 1 << 20).unwrap().len(), 1);
            assert_eq!(store.read(S, 4, 10, 1 << 20).unwrap().len(), 1);
            assert_eq!(store.first_record_position(S).unwrap(), Some((1, 10)));
            assert_eq!(store.last_position(S).unwrap(), Some(4));
            if utf8_only {
                // Only copying a record out looks at the partition key's UTF-8.
                assert_eq!(store.shard_stats(S).unwrap().0, 4);
                continue;
            }
            assert_corrupt(store.shard_stats(S));
            // Time search and trims decide from headers; they decode a block only to
            // cut through it.
            if header_ok {
                assert_eq!(
                    store.first_position_at_or_after_time(S, 30).unwrap(),
                    Some(4)
                );
                assert_corrupt(store.first_position_at_or_after_time(S, 21));
                assert_corrupt(store.trim_before_time(S, 22, 10));
                assert_eq!(store.trim_before_time(S, 26, 10).unwrap().removed, 3, "{i}");
            } else {
                assert_corrupt(store.first_position_at_or_after_time(S, 21));
                assert_corrupt(store.trim_before_time(S, 26, 10));
                // A stream deletion takes an undecodable block with the rest.
                assert!(store.delete_stream_records(S.stream, 10).unwrap().done);
                assert_eq!(store.last_position(S).unwrap(), None);
            }
        }
    }

    #[test]
    fn malformed_first_block_fails_position_queries() {
        let store = Store::open_temporary().unwrap();
        store
            .inner
            .records
            .insert(&block_key(S, 1)[..], vec![9, 0, 0])
            .unwrap();
        assert_corrupt(store.first_record_position(S));
        assert_corrupt(store.first_position_at_or_after_time(S, 0));
        assert_corrupt(store.last_position(S));
        let msg = store.read(S, 0, 1, 1).unwrap_err().to_string();
        assert_eq!(
            msg,
            "corrupt stored value: ShardKey { stream: 7, shard: 2 } block 1: \
             block: unknown format version 9"
        );
    }
}
