//! Helpers shared by the unit tests of every module.

pub(crate) use crate::block::*;
pub(crate) use crate::encoding::*;
pub(crate) use crate::keys::*;
pub(crate) use crate::records::*;
pub(crate) use crate::store::*;
pub(crate) use crate::*;
use std::path::Path;

pub(crate) const S: ShardKey = ShardKey {
    stream: 7,
    shard: 2,
};

pub(crate) fn rec(position: u64, arrival_ms: i64) -> NewRecord<'static> {
    NewRecord {
        position,
        arrival_ms,
        partition_key: "pk",
        data: b"data",
    }
}

pub(crate) fn assert_corrupt<T: std::fmt::Debug>(r: Result<T>) {
    match r {
        Err(StoreError::Corrupt(_)) => {}
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

/// An owned record, for tests that need varied partition keys and data.
pub(crate) fn owned(position: u64, arrival_ms: i64, data_len: usize) -> StoredRecord {
    StoredRecord {
        position,
        arrival_ms,
        partition_key: format!("pk-{position}"),
        data: (0..data_len).map(|i| (i as u64 ^ position) as u8).collect(),
    }
}

pub(crate) fn borrowed(records: &[StoredRecord]) -> Vec<NewRecord<'_>> {
    records.iter().map(StoredRecord::as_new).collect()
}

/// The documented `read` semantics over a plain list.
pub(crate) fn reference_read(
    all: &[StoredRecord],
    from: u64,
    max_records: usize,
    max_bytes: usize,
) -> Vec<StoredRecord> {
    let mut out = Vec::new();
    let mut total = 0usize;
    for r in all.iter().filter(|r| r.position >= from) {
        let size = r.partition_key.len() + r.data.len();
        if out.len() >= max_records
            || (!out.is_empty() && (total >= max_bytes || total + size > max_bytes))
        {
            break;
        }
        total += size;
        out.push(r.clone());
    }
    out
}

/// (first position, record count, value length) of every block of `shard`.
pub(crate) fn block_layout(store: &Store, shard: ShardKey) -> Vec<(u64, u32, usize)> {
    store
        .blocks_from(shard, 0)
        .map(|item| {
            let (first, value) = item.unwrap();
            let header = Header::parse(first, &value).unwrap();
            (first, header.count, value.len())
        })
        .collect()
}

/// Writes one record in the pre-block layout, as older versions did.
pub(crate) fn write_legacy(store: &Store, shard: ShardKey, r: &StoredRecord) {
    let mut value = vec![FORMAT_VERSION];
    value.extend_from_slice(&r.arrival_ms.to_be_bytes());
    value.extend_from_slice(&(r.partition_key.len() as u16).to_be_bytes());
    value.extend_from_slice(r.partition_key.as_bytes());
    value.extend_from_slice(&r.data);
    store
        .inner
        .records
        .insert(
            &position_key(TAG_LEGACY_RECORD, shard, r.position)[..],
            value,
        )
        .unwrap();
}

pub(crate) fn legacy_keys(store: &Store) -> usize {
    store.inner.records.scan_prefix([TAG_LEGACY_RECORD]).count()
}

pub(crate) fn reopen(store: Store, dir: &Path) -> Store {
    store.flush().unwrap();
    drop(store);
    Store::open(dir).unwrap()
}

/// Several appends, each split into several blocks, with gaps between positions.
pub(crate) fn many_blocks(store: &Store) -> Vec<StoredRecord> {
    let mut all = Vec::new();
    let mut position = 3;
    for append in 0..4u64 {
        let batch: Vec<_> = (0..60)
            .map(|i| {
                position += if i % 7 == 0 { 1_000 } else { 1 };
                let data_len = BLOCK_BYTES / 25 + (i as usize % 5) * BLOCK_BYTES / 100;
                owned(position, (append * 100 + i / 3) as i64, data_len)
            })
            .collect();
        store.append(S, &borrowed(&batch)).unwrap();
        all.extend(batch);
    }
    assert!(block_layout(store, S).len() >= 8);
    all
}
