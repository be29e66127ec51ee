//! Directories written before records were stored in blocks hold one key per record; `open`
//! converts them to blocks in bounded atomic batches (an interrupted conversion resumes on the
//! next open), so no other code path ever sees a legacy record.

use crate::block::{self, BlockBuilder};
use crate::encoding::versioned_body;
use crate::error::{engine_err, with_context};
use crate::keys::{block_key, parse_position_key, TAG_LEGACY_RECORD};
use crate::records::BLOCK_BYTES;
use crate::{Result, ShardKey, Store, StoreError};

/// Bounds of one migration batch (legacy records converted per atomic sled batch).
pub(crate) const MIGRATION_BATCH_RECORDS: usize = 4096;

pub(crate) const MIGRATION_BATCH_BYTES: usize = 4 << 20;

/// Legacy record values: version + arrival_ms + pk_len.
pub(crate) const LEGACY_HEADER_LEN: usize = 1 + 8 + 2;

/// A legacy per-record value: `[1][arrival_ms i64][pk_len u16][pk][data]`.
pub(crate) struct LegacyRecord<'v> {
    arrival_ms: i64,
    pk: &'v [u8],
    data: &'v [u8],
}

impl<'v> LegacyRecord<'v> {
    pub(crate) fn parse(value: &'v [u8]) -> Result<Self> {
        let body = versioned_body(value, "legacy record")?;
        if body.len() < LEGACY_HEADER_LEN - 1 {
            return Err(StoreError::Corrupt(format!(
                "legacy record: {} bytes is shorter than the header",
                value.len()
            )));
        }
        let arrival_ms = i64::from_be_bytes(body[0..8].try_into().expect("8 bytes"));
        let pk_len = u16::from_be_bytes(body[8..10].try_into().expect("2 bytes")) as usize;
        let rest = &body[10..];
        if rest.len() < pk_len {
            return Err(StoreError::Corrupt(format!(
                "legacy record: partition key length {pk_len} exceeds the {} remaining bytes",
                rest.len()
            )));
        }
        let (pk, data) = rest.split_at(pk_len);
        Ok(LegacyRecord {
            arrival_ms,
            pk,
            data,
        })
    }
}

impl Store {
    /// Converts every legacy per-record key into blocks, in atomic batches that each
    /// insert some blocks and remove exactly the legacy keys they hold. Returns the
    /// number of records converted.
    pub(crate) fn migrate_legacy_records(&self) -> Result<u64> {
        let records = &self.inner.records;
        let mut converted = 0u64;
        loop {
            let mut batch = sled::Batch::default();
            let (mut taken, mut bytes) = (0usize, 0usize);
            let mut current: Option<ShardKey> = None;
            let mut builder = BlockBuilder::new();
            // Each round rescans from the start: the previous round removed what it
            // converted, so the scan begins at the first record still to do.
            for item in records.scan_prefix([TAG_LEGACY_RECORD]) {
                let (key, value) = item.map_err(engine_err)?;
                if taken >= MIGRATION_BATCH_RECORDS || bytes >= MIGRATION_BATCH_BYTES {
                    break;
                }
                let (shard, position) = parse_position_key(&key)?;
                let legacy = LegacyRecord::parse(&value).map_err(|e| {
                    with_context(e, format_args!("{shard:?} legacy position {position}"))
                })?;
                let len = block::record_len(legacy.pk.len(), legacy.data.len());
                if current != Some(shard)
                    || (!builder.is_empty() && builder.len() + len > BLOCK_BYTES)
                {
                    if let (Some(done), Some((first, block))) = (current, builder.take()) {
                        batch.insert(&block_key(done, first)[..], block);
                    }
                    current = Some(shard);
                }
                builder.push(position, legacy.arrival_ms, legacy.pk, legacy.data)?;
                batch.remove(key);
                taken += 1;
                bytes += len;
            }
            if let (Some(shard), Some((first, block))) = (current, builder.take()) {
                batch.insert(&block_key(shard, first)[..], block);
            }
            if taken == 0 {
                return Ok(converted);
            }
            records.apply_batch(batch).map_err(engine_err)?;
            converted += taken as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn legacy_records_are_migrated_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let a = ShardKey {
            stream: 3,
            shard: 0,
        };
        let b = ShardKey {
            stream: 3,
            shard: 1,
        };
        let c = ShardKey {
            stream: 4,
            shard: 0,
        };
        // Enough records for several migration batches; a few larger than a block.
        let plenty: Vec<_> = (0..(MIGRATION_BATCH_RECORDS as u64 * 2 + 100))
            .map(|i| {
                owned(
                    i * 2,
                    i as i64 / 10,
                    if i % 1000 == 7 { BLOCK_BYTES + 1 } else { 30 },
                )
            })
            .collect();
        let few: Vec<_> = (100..110).map(|i| owned(i, i as i64, 3)).collect();
        let one = vec![owned(5, 5, 0)];
        {
            let store = Store::open(dir.path()).unwrap();
            for r in &plenty {
                write_legacy(&store, a, r);
            }
            for r in &few {
                write_legacy(&store, b, r);
            }
            write_legacy(&store, c, &one[0]);
            // A high-water mark from an earlier trim is kept as is.
            store
                .inner
                .records
                .insert(&high_water_key(b)[..], versioned(&99u64.to_be_bytes()))
                .unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(legacy_keys(&store), 0);
        for (shard, want) in [(a, &plenty), (b, &few), (c, &one)] {
            assert_eq!(
                &store.read(shard, 0, usize::MAX, usize::MAX).unwrap(),
                want,
                "{shard:?}"
            );
            let layout = block_layout(&store, shard);
            assert!(layout.len() < want.len() || want.len() == 1);
            assert!(layout
                .iter()
                .all(|&(_, count, len)| len <= BLOCK_BYTES || count == 1));
        }
        assert_eq!(store.last_position(b).unwrap(), Some(109));
        assert_eq!(store.high_water(b).unwrap(), Some(99));

        // Half-migrated shard (a crash between two batches): blocks below, legacy
        // records above. The next open finishes the job.
        let more: Vec<_> = (0..5).map(|i| owned(1_000_000 + i, 10_000, 8)).collect();
        for r in &more {
            write_legacy(&store, a, r);
        }
        let store = reopen(store, dir.path());
        assert_eq!(legacy_keys(&store), 0);
        let mut want = plenty.clone();
        want.extend(more);
        assert_eq!(store.read(a, 0, usize::MAX, usize::MAX).unwrap(), want);
        assert_eq!(
            store.first_position_at_or_after_time(a, 10_000).unwrap(),
            Some(1_000_000)
        );

        // A legacy record that cannot be decoded fails the open, and stays put.
        store
            .inner
            .records
            .insert(&position_key(TAG_LEGACY_RECORD, c, 9)[..], vec![1, 0])
            .unwrap();
        store.flush().unwrap();
        drop(store);
        let err = Store::open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    }
}
