//! Checks `Store` against an in-memory model under seeded random operations, reopening
//! the on-disk store midway to prove that records, catalogue and high-water marks
//! persist.
//!
//! Appends carry up to `MAX_BATCH` records and sometimes tens of kilobytes, so the
//! store splits them into several blocks; trims cut blocks in the middle. The model
//! does not know where blocks end, so for the bounded deletions it checks the
//! documented bounds (`max` may be overshot by less than one block, and a block never
//! holds more records than one append) and then mirrors what was removed.

use std::collections::BTreeMap;
use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shard_store::{NewRecord, ShardKey, Store, StoredRecord, TrimReport};

const SHARDS_PER_STREAM: u32 = 3;
const LIVE_STREAMS: usize = 3;
/// Most records one append carries.
const MAX_BATCH: usize = 60;

/// Most records one block can hold: journaled appends wait in memory and reach the engine
/// together, cut into blocks of at most 4 KiB, and a stored record takes at least 23 bytes
/// (22 of header, a partition key of at least one byte).
const MAX_BLOCK_RECORDS: usize = 4096 / 23 + 1;

/// Checks a bounded deletion's `removed` against the documented bounds, given how many
/// records were eligible, and returns it.
fn check_bounded(removed: usize, done: bool, eligible: usize, max: usize, what: &str) -> usize {
    assert!(
        removed <= eligible,
        "{what}: removed {removed} of {eligible}"
    );
    assert_eq!(
        done,
        removed == eligible,
        "{what}: done with {removed} of {eligible}"
    );
    if max == 0 {
        assert_eq!(removed, 0, "{what}");
    } else {
        assert!(
            removed >= max.min(eligible),
            "{what}: removed {removed} of {eligible}"
        );
        assert!(
            removed < max + MAX_BLOCK_RECORDS,
            "{what}: removed {removed}"
        );
    }
    removed
}

#[derive(Default)]
struct ShardModel {
    records: BTreeMap<u64, StoredRecord>,
    /// Highest position ever appended (what `last_position` must report).
    last: Option<u64>,
    last_arrival: i64,
}

#[derive(Default)]
struct Model {
    shards: BTreeMap<ShardKey, ShardModel>,
    metas: BTreeMap<u64, Vec<u8>>,
    settings: BTreeMap<String, Vec<u8>>,
    live: Vec<u64>,
    deleted: Vec<u64>,
}

impl Model {
    fn shard(&mut self, key: ShardKey) -> &mut ShardModel {
        self.shards.entry(key).or_default()
    }

    /// Mirrors the documented `read` limits.
    fn read(
        &self,
        key: ShardKey,
        from: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> Vec<StoredRecord> {
        let mut out = Vec::new();
        let mut total = 0usize;
        let Some(shard) = self.shards.get(&key) else {
            return out;
        };
        for r in shard.records.range(from..) {
            if out.len() >= max_records {
                break;
            }
            let size = r.1.partition_key.len() + r.1.data.len();
            if !out.is_empty() && (total >= max_bytes || total + size > max_bytes) {
                break;
            }
            total += size;
            out.push(r.1.clone());
        }
        out
    }
}

fn random_shard(rng: &mut StdRng, model: &Model) -> ShardKey {
    // Mostly live streams; sometimes a deleted one or one that never existed, which must
    // look empty.
    let stream = match rng.gen_range(0..20) {
        0 if !model.deleted.is_empty() => model.deleted[rng.gen_range(0..model.deleted.len())],
        1 => 999_999,
        _ => model.live[rng.gen_range(0..model.live.len())],
    };
    ShardKey {
        stream,
        shard: rng.gen_range(0..SHARDS_PER_STREAM),
    }
}

fn random_string(rng: &mut StdRng, len: usize) -> String {
    (0..len)
        .map(|_| match rng.gen_range(0..10) {
            0 => 'é',
            1 => '🦀',
            _ => rng.gen_range('a'..='z'),
        })
        .collect()
}

fn create_stream(store: &Store, model: &mut Model, rng: &mut StdRng) {
    let id = store.allocate_stream_id().unwrap();
    assert!(id >= 1);
    assert!(
        model
            .metas
            .keys()
            .chain(&model.deleted)
            .all(|&old| old < id),
        "stream ids must increase and never be reused"
    );
    let doc = random_string(rng, 12).into_bytes();
    store.put_stream_meta(id, &doc).unwrap();
    model.metas.insert(id, doc);
    model.live.push(id);
}

fn delete_stream(store: &Store, model: &mut Model, rng: &mut StdRng) {
    let idx = rng.gen_range(0..model.live.len());
    let stream = model.live.remove(idx);
    store.remove_stream_meta(stream).unwrap();
    model.metas.remove(&stream);
    loop {
        let max = rng.gen_range(0..8);
        let report = store.delete_stream_records(stream, max).unwrap();
        let keys: Vec<(ShardKey, u64)> = model
            .shards
            .range(
                ShardKey { stream, shard: 0 }..=ShardKey {
                    stream,
                    shard: u32::MAX,
                },
            )
            .flat_map(|(k, s)| s.records.keys().map(move |&q| (*k, q)))
            .collect();
        let what = format!("delete_stream_records({stream}, {max})");
        let removed = check_bounded(report.removed, report.done, keys.len(), max, &what);
        for (k, q) in &keys[..removed] {
            model.shards.get_mut(k).unwrap().records.remove(q);
        }
        if report.done {
            break;
        }
    }
    for shard in 0..SHARDS_PER_STREAM {
        model.shards.remove(&ShardKey { stream, shard });
    }
    model.deleted.push(stream);
    create_stream(store, model, rng);
}

fn append(store: &Store, model: &mut Model, rng: &mut StdRng, key: ShardKey) {
    // Mostly small appends (one block); sometimes a group commit's worth of records,
    // sometimes tens of kilobytes (several blocks), sometimes one huge record.
    let (n, max_data) = match rng.gen_range(0..20) {
        0 => (rng.gen_range(20..=MAX_BATCH), 3_000),
        1 => (rng.gen_range(1..=MAX_BATCH), 60),
        2 => (1, 80_000),
        _ => (rng.gen_range(1..=6), 60),
    };
    let shard = model.shard(key);
    let mut next = shard.last.map_or(rng.gen_range(0..3), |l| l + 1);
    let mut arrival = shard.last_arrival;
    let mut owned = Vec::new();
    for _ in 0..n {
        // Occasional huge gaps exercise the time search over sparse key space.
        next += match rng.gen_range(0..10) {
            0 => rng.gen_range(1_000..1_000_000_000),
            1..=3 => rng.gen_range(1..5),
            _ => 0,
        };
        arrival += rng.gen_range(0..4);
        let pk_len = rng.gen_range(1..12);
        let data_len = if rng.gen_bool(0.1) {
            0
        } else {
            rng.gen_range(0..max_data)
        };
        let data: Vec<u8> = (0..data_len).map(|_| rng.gen()).collect();
        owned.push(StoredRecord {
            position: next,
            arrival_ms: arrival,
            partition_key: random_string(rng, pk_len),
            data,
        });
        next += 1;
    }
    let batch: Vec<NewRecord<'_>> = owned.iter().map(StoredRecord::as_new).collect();
    // Half the appends go through the journal and wait in memory until a drain (a large
    // commit, a trim, a read of the shard's start, a reopen), so every operation below
    // also meets records that only memory holds.
    if rng.gen_bool(0.5) {
        store.append(key, &batch).unwrap();
    } else {
        drop(batch);
        store.append_durably(vec![(key, owned.clone())]).unwrap();
    }
    let shard = model.shard(key);
    shard.last = owned.last().map(|r| r.position);
    shard.last_arrival = arrival;
    for r in owned {
        shard.records.insert(r.position, r);
    }
}

fn trim(store: &Store, model: &mut Model, key: ShardKey, cutoff: i64, max: usize) -> TrimReport {
    let report = store.trim_before_time(key, cutoff, max).unwrap();
    let shard = model.shard(key);
    let old: Vec<u64> = shard
        .records
        .values()
        .take_while(|r| r.arrival_ms < cutoff)
        .map(|r| r.position)
        .collect();
    let what = format!("trim_before_time({key:?}, {cutoff}, {max})");
    let removed = check_bounded(report.removed, report.done, old.len(), max, &what);
    for q in &old[..removed] {
        shard.records.remove(q);
    }
    report
}

fn check_shard(store: &Store, model: &Model, key: ShardKey) {
    let empty = ShardModel::default();
    let shard = model.shards.get(&key).unwrap_or(&empty);
    assert_eq!(
        store.last_position(key).unwrap(),
        shard.last,
        "last_position {key:?}"
    );
    assert_eq!(
        store.first_record_position(key).unwrap(),
        shard
            .records
            .values()
            .next()
            .map(|r| (r.position, r.arrival_ms)),
        "first_record_position {key:?}"
    );
    let bytes: usize = shard
        .records
        .values()
        .map(|r| r.partition_key.len() + r.data.len())
        .sum();
    assert_eq!(
        store.shard_stats(key).unwrap(),
        (shard.records.len() as u64, bytes as u64),
        "shard_stats {key:?}"
    );
}

fn check_catalogue(store: &Store, model: &Model) {
    let metas: Vec<(u64, Vec<u8>)> = model.metas.iter().map(|(k, v)| (*k, v.clone())).collect();
    assert_eq!(store.load_stream_metas().unwrap(), metas);
    for (name, value) in &model.settings {
        assert_eq!(store.get_setting(name).unwrap().as_ref(), Some(value));
    }
    assert_eq!(store.get_setting("never-set").unwrap(), None);
}

fn check_everything(store: &Store, model: &Model) {
    check_catalogue(store, model);
    let streams = model.live.iter().chain(&model.deleted);
    for &stream in streams {
        for shard in 0..SHARDS_PER_STREAM {
            let key = ShardKey { stream, shard };
            check_shard(store, model, key);
            assert_eq!(
                store.read(key, 0, usize::MAX, usize::MAX).unwrap(),
                model.read(key, 0, usize::MAX, usize::MAX)
            );
        }
    }
}

fn reopen(store: Store, dir: &Path) -> Store {
    store.flush().unwrap();
    drop(store);
    Store::open(dir).unwrap()
}

fn run(seed: u64, ops: usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut model = Model::default();
    for _ in 0..LIVE_STREAMS {
        create_stream(&store, &mut model, &mut rng);
    }
    let reopen_points = [ops / 3, 2 * ops / 3];
    let mut emptied_before_reopen = 0;

    for op in 0..ops {
        if reopen_points.contains(&op) {
            // Make sure at least one shard holds nothing but a high-water mark, so the
            // reopen proves marks persist.
            let candidate = model
                .shards
                .iter()
                .find(|(k, s)| model.live.contains(&k.stream) && !s.records.is_empty())
                .map(|(k, _)| *k);
            if let Some(key) = candidate {
                while !trim(&store, &mut model, key, i64::MAX, 3).done {}
                assert_eq!(store.shard_stats(key).unwrap(), (0, 0));
                assert!(store.last_position(key).unwrap().is_some());
                emptied_before_reopen += 1;
            }
            check_everything(&store, &model);
            store = reopen(store, dir.path());
            check_everything(&store, &model);
        }

        let key = random_shard(&mut rng, &model);
        let live = model.live.contains(&key.stream);
        match rng.gen_range(0..100) {
            0..=34 if live => append(&store, &mut model, &mut rng, key),
            35..=54 => {
                let shard = model.shards.get(&key);
                let last = shard.and_then(|s| s.last).unwrap_or(0);
                let first = shard
                    .and_then(|s| s.records.keys().next().copied())
                    .unwrap_or(0);
                let from = match rng.gen_range(0..4) {
                    0 => 0,
                    1 => first,
                    2 => rng.gen_range(first..=last.saturating_add(2)),
                    _ => last.saturating_add(rng.gen_range(0..3)),
                };
                let max_records = if rng.gen_bool(0.2) {
                    rng.gen_range(0..200)
                } else {
                    rng.gen_range(0..12)
                };
                let max_bytes = match rng.gen_range(0..5) {
                    0 => 0,
                    1 => usize::MAX,
                    2 => rng.gen_range(1..100_000),
                    _ => rng.gen_range(1..300),
                };
                assert_eq!(
                    store.read(key, from, max_records, max_bytes).unwrap(),
                    model.read(key, from, max_records, max_bytes),
                    "read({key:?}, {from}, {max_records}, {max_bytes})"
                );
            }
            55..=69 => {
                let shard = model.shards.get(&key);
                let lo = shard
                    .and_then(|s| s.records.values().next())
                    .map_or(0, |r| r.arrival_ms);
                let hi = shard.map_or(0, |s| s.last_arrival);
                let cutoff = rng.gen_range(lo - 2..=hi + 3);
                let max = rng.gen_range(0..6);
                trim(&store, &mut model, key, cutoff, max);
            }
            70..=84 => {
                let shard = model.shards.get(&key);
                let hi = shard.map_or(0, |s| s.last_arrival);
                let ts = if rng.gen_bool(0.05) {
                    if rng.gen() {
                        i64::MIN
                    } else {
                        i64::MAX
                    }
                } else {
                    rng.gen_range(-2..=hi + 3)
                };
                let want = shard.and_then(|s| {
                    s.records
                        .values()
                        .find(|r| r.arrival_ms >= ts)
                        .map(|r| r.position)
                });
                assert_eq!(
                    store.first_position_at_or_after_time(key, ts).unwrap(),
                    want,
                    "first_position_at_or_after_time({key:?}, {ts})"
                );
            }
            85..=94 => check_shard(&store, &model, key),
            95..=96 => {
                let name = format!("setting-{}", rng.gen_range(0..4));
                let value = random_string(&mut rng, 8).into_bytes();
                store.put_setting(&name, &value).unwrap();
                model.settings.insert(name, value);
            }
            97 => delete_stream(&store, &mut model, &mut rng),
            _ => check_catalogue(&store, &model),
        }
    }
    assert_eq!(emptied_before_reopen, 2);
    check_everything(&store, &model);
    let store = reopen(store, dir.path());
    check_everything(&store, &model);
}

#[test]
fn model_seed_1() {
    run(1, 4000);
}

#[test]
fn model_seed_2() {
    run(0x5eed_2024, 4000);
}

#[test]
fn model_seed_3() {
    run(42, 4000);
}

#[test]
fn high_water_survives_full_trim_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let key = ShardKey {
        stream: 1,
        shard: 0,
    };
    let other = ShardKey {
        stream: 1,
        shard: 1,
    };
    {
        let store = Store::open(dir.path()).unwrap();
        let recs: Vec<_> = (10..20)
            .map(|i| NewRecord {
                position: i,
                arrival_ms: i as i64,
                partition_key: "p",
                data: b"x",
            })
            .collect();
        store.append(key, &recs).unwrap();
        store.append(other, &recs[..1]).unwrap();
        assert_eq!(
            store.trim_before_time(key, i64::MAX, 100).unwrap(),
            TrimReport {
                removed: 10,
                done: true
            }
        );
        assert_eq!(store.first_record_position(key).unwrap(), None);
        assert_eq!(store.last_position(key).unwrap(), Some(19));
        store.flush().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.last_position(key).unwrap(), Some(19));
    assert_eq!(store.shard_stats(key).unwrap(), (0, 0));
    assert_eq!(store.last_position(other).unwrap(), Some(10));

    // Deleting the stream drops the marks too.
    assert_eq!(
        store.delete_stream_records(1, 100).unwrap(),
        TrimReport {
            removed: 1,
            done: true
        }
    );
    assert_eq!(store.last_position(key).unwrap(), None);
    assert_eq!(store.last_position(other).unwrap(), None);
}

#[test]
fn stream_ids_increase_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let first = {
        let store = Store::open(dir.path()).unwrap();
        let a = store.allocate_stream_id().unwrap();
        let b = store.allocate_stream_id().unwrap();
        assert!(a >= 1 && b > a);
        store.flush().unwrap();
        b
    };
    let store = Store::open(dir.path()).unwrap();
    assert!(store.allocate_stream_id().unwrap() > first);
}

#[test]
fn rapid_reopen_of_the_same_directory() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..30u64 {
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store
                .last_position(ShardKey {
                    stream: 1,
                    shard: 0
                })
                .unwrap(),
            i.checked_sub(1)
        );
        store
            .append(
                ShardKey {
                    stream: 1,
                    shard: 0,
                },
                &[NewRecord {
                    position: i,
                    arrival_ms: 0,
                    partition_key: "k",
                    data: b"",
                }],
            )
            .unwrap();
        store.flush().unwrap();
    }
}

#[test]
fn second_open_of_a_held_directory_fails() {
    let dir = tempfile::tempdir().unwrap();
    let _held = Store::open(dir.path()).unwrap();
    match Store::open(dir.path()) {
        Err(shard_store::StoreError::Io(msg)) => assert!(msg.contains("lock"), "{msg}"),
        other => panic!("expected an Io error, got {other:?}"),
    }
}

#[test]
fn open_creates_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b/c");
    let store = Store::open(&nested).unwrap();
    store.put_setting("k", b"v").unwrap();
    store.flush().unwrap();
    drop(store);
    let store = Store::open(&nested).unwrap();
    assert_eq!(store.get_setting("k").unwrap(), Some(b"v".to_vec()));
}

#[test]
fn clones_share_data_across_threads() {
    let store = Store::open_temporary().unwrap();
    let handles: Vec<_> = (0..4u32)
        .map(|shard| {
            let store = store.clone();
            std::thread::spawn(move || {
                let key = ShardKey { stream: 5, shard };
                for i in 0..50u64 {
                    store
                        .append(
                            key,
                            &[NewRecord {
                                position: i,
                                arrival_ms: i as i64,
                                partition_key: "k",
                                data: b"d",
                            }],
                        )
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    for shard in 0..4 {
        assert_eq!(
            store.shard_stats(ShardKey { stream: 5, shard }).unwrap(),
            (50, 100)
        );
    }
}
