//! Unit tests of `records.rs`: appends cut into blocks, reads across blocks and limits, the
//! time search, and malformed blocks.

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
        "data directory corrupt: ShardKey { stream: 7, shard: 2 } block 1: \
         block: unknown format version 9"
    );
}
