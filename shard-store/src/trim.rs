//! Deleting records: retention trims from a shard's low end (raising its high-water mark in the
//! same atomic batch) and the removal of a deleted stream's records, both in bounded batches.

use crate::encoding::versioned;
use crate::error::engine_err;
use crate::keys::{
    block_key, high_water_key, parse_position_key, stream_prefix, TAG_BLOCK, TAG_HIGH_WATER,
};
use crate::{Result, ShardKey, Store, TrimReport};

impl Store {
    /// Deletes, in position order, the records whose `arrival_ms < cutoff_ms`, in one
    /// atomic batch that also raises the shard's high-water mark to the highest deleted
    /// position (so [`Store::last_position`] survives an emptied shard and a restart).
    ///
    /// `max` bounds the batch roughly: records go a block at a time (whole blocks, or
    /// the expired part of the block the cutoff falls into), and another block is taken
    /// only while fewer than `max` records have been removed, so `removed` may exceed
    /// `max` by less than one block's worth of records. `done` is true when no record
    /// older than the cutoff remains. With `max == 0` nothing is deleted and `done` only
    /// reports whether work remains.
    pub fn trim_before_time(
        &self,
        shard: ShardKey,
        cutoff_ms: i64,
        max: usize,
    ) -> Result<TrimReport> {
        self.writable()?;
        self.inner.drain(|k| *k == shard)?;
        let _guard = self.maintenance_lock();
        let mut batch = sled::Batch::default();
        let mut removed = 0usize;
        let mut highest = None;
        let mut done = true;
        for item in self.blocks_from(shard, 0) {
            let (first, value) = item?;
            let header = self.header(shard, first, &value)?;
            if header.first_ms >= cutoff_ms {
                break;
            }
            if removed >= max {
                done = false;
                break;
            }
            batch.remove(&block_key(shard, first)[..]);
            if header.last_ms < cutoff_ms {
                removed += header.count as usize;
                highest = Some(header.last);
                continue;
            }
            // The cutoff falls inside this block: keep the suffix that is late enough,
            // under the key of its first record, in the same batch as the removal.
            let block = self.decode(shard, first, &value)?;
            let keep = block
                .records
                .iter()
                .position(|r| r.arrival_ms >= cutoff_ms)
                .unwrap_or(block.records.len());
            removed += keep;
            if let Some(last_gone) = keep.checked_sub(1) {
                highest = Some(block.records[last_gone].position);
            }
            if keep < block.records.len() {
                let (new_first, suffix) = block.suffix(keep);
                batch.insert(&block_key(shard, new_first)[..], suffix);
            }
            break;
        }
        if let Some(highest) = highest {
            let mark = self.high_water(shard)?.map_or(highest, |m| m.max(highest));
            batch.insert(&high_water_key(shard)[..], versioned(&mark.to_be_bytes()));
            self.inner.records.apply_batch(batch).map_err(engine_err)?;
        }
        Ok(TrimReport { removed, done })
    }

    /// Removes records of the stream (all shards, lowest keys first), whole blocks at a
    /// time, in one atomic batch; another block is taken only while fewer than `max`
    /// records have been removed, so `removed` may exceed `max` by less than one
    /// block's worth. The batch that removes the last record also removes the stream's
    /// high-water marks. Call until `done`; afterwards `last_position` of every shard of
    /// the stream is None. With `max == 0` no record is deleted (the marks still go if
    /// no record is left).
    ///
    /// From the first call on, this store handle drops whatever is still appended to the
    /// stream (a put that raced the deletion), so `done` stays true; stream ids are never
    /// reused, so nothing legitimate is lost.
    pub fn delete_stream_records(&self, stream: u64, max: usize) -> Result<TrimReport> {
        self.writable()?;
        self.inner
            .deleted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(stream);
        // Records still in memory go to the engine first, to be deleted within the bound.
        self.inner.drain(|k| k.stream == stream)?;
        let _guard = self.maintenance_lock();
        let mut batch = sled::Batch::default();
        let mut removed = 0usize;
        let mut done = true;
        for item in self
            .inner
            .records
            .scan_prefix(stream_prefix(TAG_BLOCK, stream))
        {
            let (key, value) = item.map_err(engine_err)?;
            if removed >= max {
                done = false;
                break;
            }
            // The whole stream goes: a value that cannot be decoded goes with it (counted as
            // one record) instead of failing every purge attempt from now on.
            removed += parse_position_key(&key)
                .and_then(|(shard, first)| self.header(shard, first, &value))
                .map_or(1, |h| h.count as usize);
            batch.remove(key);
        }
        let mut changed = removed > 0;
        if done {
            for item in self
                .inner
                .records
                .scan_prefix(stream_prefix(TAG_HIGH_WATER, stream))
            {
                let (key, _) = item.map_err(engine_err)?;
                batch.remove(key);
                changed = true;
            }
        }
        if changed {
            self.inner.records.apply_batch(batch).map_err(engine_err)?;
        }
        Ok(TrimReport { removed, done })
    }

    /// Number of stored records in a shard and their summed data + partition-key bytes.
    /// Scans (and fully decodes) the whole shard; for tests and diagnostics.
    pub fn shard_stats(&self, shard: ShardKey) -> Result<(u64, u64)> {
        self.inner.drain(|k| *k == shard)?;
        let (mut count, mut bytes) = (0u64, 0u64);
        // As in `read`, a concurrent trim may show us a block's suffix twice.
        let mut cursor = Some(0u64);
        for item in self.blocks_from(shard, 0) {
            let Some(from) = cursor else { break };
            let (first, value) = item?;
            let block = self.decode(shard, first, &value)?;
            for r in block.records.iter().filter(|r| r.position >= from) {
                count += 1;
                bytes += r.billed_len() as u64;
                cursor = r.position.checked_add(1);
            }
        }
        Ok((count, bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn trim_rewrites_the_straddling_block_then_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let first: Vec<_> = (10..20).map(|i| owned(i, i as i64, 5)).collect();
        let second: Vec<_> = (30..35).map(|i| owned(i, i as i64, 5)).collect();
        store.append(S, &borrowed(&first)).unwrap();
        store.append(S, &borrowed(&second)).unwrap();
        assert_eq!(block_layout(&store, S).len(), 2);

        // Cutoff 14: records 10..=13 go, the block continues at 14.
        assert_eq!(
            store.trim_before_time(S, 14, 100).unwrap(),
            TrimReport {
                removed: 4,
                done: true
            }
        );
        let layout = block_layout(&store, S);
        assert_eq!(
            layout.iter().map(|l| (l.0, l.1)).collect::<Vec<_>>(),
            vec![(14, 6), (30, 5)]
        );
        assert_eq!(store.high_water(S).unwrap(), Some(13));
        assert_eq!(store.first_record_position(S).unwrap(), Some((14, 14)));
        assert_eq!(store.read(S, 0, 100, usize::MAX).unwrap()[0].position, 14);
        assert_eq!(store.read(S, 12, 3, usize::MAX).unwrap().len(), 3);

        store = reopen(store, dir.path());
        let mut want = first[4..].to_vec();
        want.extend(second.iter().cloned());
        assert_eq!(store.read(S, 0, 100, usize::MAX).unwrap(), want);
        assert_eq!(store.shard_stats(S).unwrap().0, 11);
        assert_eq!(store.last_position(S).unwrap(), Some(34));

        // A cutoff between blocks removes the first block whole; one inside the second
        // then rewrites it.
        assert_eq!(
            store.trim_before_time(S, 25, 100).unwrap(),
            TrimReport {
                removed: 6,
                done: true
            }
        );
        assert_eq!(block_layout(&store, S)[0].0, 30);
        assert_eq!(
            store.trim_before_time(S, 34, 100).unwrap(),
            TrimReport {
                removed: 4,
                done: true
            }
        );
        store = reopen(store, dir.path());
        assert_eq!(store.read(S, 0, 100, usize::MAX).unwrap(), second[4..]);
        assert_eq!(store.high_water(S).unwrap(), Some(33));
        assert_eq!(store.last_position(S).unwrap(), Some(34));
        assert_eq!(
            store.trim_before_time(S, i64::MAX, 100).unwrap(),
            TrimReport {
                removed: 1,
                done: true
            }
        );
        store = reopen(store, dir.path());
        assert_eq!(store.first_record_position(S).unwrap(), None);
        assert_eq!(store.last_position(S).unwrap(), Some(34));
    }

    #[test]
    fn trim_and_delete_take_whole_blocks_up_to_max() {
        let store = Store::open_temporary().unwrap();
        // Three blocks of 4 records each, times 0..12.
        for b in 0..3u64 {
            let recs: Vec<_> = (b * 4..b * 4 + 4).map(|i| rec(i, i as i64)).collect();
            store.append(S, &recs).unwrap();
        }
        let report = |removed, done| TrimReport { removed, done };
        assert_eq!(store.trim_before_time(S, 100, 0).unwrap(), report(0, false));
        assert_eq!(store.trim_before_time(S, 0, 0).unwrap(), report(0, true));
        // max 1 still takes the whole first block.
        assert_eq!(store.trim_before_time(S, 100, 1).unwrap(), report(4, false));
        // max 5: after the block 4..=7 (4 < 5 records removed so far) the next one is
        // taken too, up to the cutoff: 4..=9 go.
        assert_eq!(store.trim_before_time(S, 10, 5).unwrap(), report(6, true));
        assert_eq!(block_layout(&store, S)[0].0, 10);
        assert_eq!(store.last_position(S).unwrap(), Some(11));

        let other = ShardKey { shard: 0, ..S };
        store.append(other, &[rec(0, 0)]).unwrap();
        // Stream 7 holds blocks [0] on shard 0, then [10, 11] on shard 2.
        assert_eq!(store.delete_stream_records(7, 0).unwrap(), report(0, false));
        assert_eq!(store.delete_stream_records(7, 1).unwrap(), report(1, false));
        assert_eq!(store.delete_stream_records(7, 1).unwrap(), report(2, true));
        assert_eq!(store.last_position(S).unwrap(), None);
        assert_eq!(store.delete_stream_records(7, 1).unwrap(), report(0, true));
    }

    #[test]
    fn reads_and_time_searches_stay_consistent_while_trims_cut_blocks() {
        let store = Store::open_temporary().unwrap();
        const N: u64 = 10_000;
        for start in (0..N).step_by(50) {
            let recs: Vec<_> = (start..start + 50).map(|i| rec(i, i as i64)).collect();
            store.append(S, &recs).unwrap();
        }
        let trimmer = {
            let store = store.clone();
            std::thread::spawn(move || {
                // Almost every cutoff falls inside a block, so almost every trim
                // rewrites one.
                for cutoff in (0..N as i64 - 10).step_by(3) {
                    // Give the reader time to run between trims.
                    std::thread::yield_now();
                    store.trim_before_time(S, cutoff, usize::MAX).unwrap();
                }
            })
        };
        let mut rounds = 0u64;
        while !trimmer.is_finished() || rounds < 100 {
            rounds += 1;
            let from = rounds * 37 % N;
            let got = store.read(S, from, 300, usize::MAX).unwrap();
            // Records trimmed while the read runs may be missing, nothing else: every
            // gap (and anything skipped at the start) must be gone by now.
            let first_now = store.first_record_position(S).unwrap().unwrap().0;
            assert!(!got.is_empty() && got[0].position >= from, "read({from})");
            assert!(got[0].position == from || got[0].position <= first_now);
            for pair in got.windows(2) {
                assert!(pair[1].position > pair[0].position, "read({from})");
                assert!(
                    pair[1].position == pair[0].position + 1 || pair[1].position <= first_now,
                    "read({from}) skipped from {} to {} but {first_now} is stored",
                    pair[0].position,
                    pair[1].position
                );
            }
            let at = store
                .first_position_at_or_after_time(S, from as i64)
                .unwrap()
                .unwrap();
            assert!(at >= from, "time search {from} gave {at}");
            let (first, ms) = store.first_record_position(S).unwrap().unwrap();
            assert_eq!(first as i64, ms);
        }
        trimmer.join().unwrap();
        let last_cutoff = (N - 11) / 3 * 3;
        assert_eq!(
            store.first_record_position(S).unwrap(),
            Some((last_cutoff, last_cutoff as i64))
        );
    }

    #[test]
    fn a_corrupt_block_does_not_stop_a_stream_deletion() {
        let store = Store::open_temporary().unwrap();
        for first in [1u64, 10, 20] {
            store
                .append(S, &[rec(first, 1), rec(first + 1, 2)])
                .unwrap();
        }
        store
            .inner
            .records
            .insert(&block_key(S, 10)[..], vec![1, 0, 0])
            .unwrap();
        let mut bad_key = block_key(S, 30).to_vec();
        bad_key.push(9);
        store.inner.records.insert(bad_key, vec![1]).unwrap();
        assert_corrupt(store.read(S, 0, 10, 1000));
        let mut rounds = 0;
        while !store.delete_stream_records(S.stream, 1).unwrap().done {
            rounds += 1;
            assert!(rounds < 10);
        }
        assert_eq!(store.inner.records.len(), 0);
        assert_eq!(store.last_position(S).unwrap(), None);
    }
}
