//! Checks both [`TableStore`] implementations (sled on a directory, reopened midway, and
//! [`MemoryTables`]) against a `BTreeMap` model under seeded random operations: table
//! creation, document replacement and deletion, atomic item batches (refused whole when one
//! write names a missing table), point reads and prefix scans with `after` and `limit`.
//!
//! Table names include prefixes of one another (`t`, `tt`, `t2`) and item keys are short
//! strings over a tiny alphabet, so prefix ranges, neighbouring tables and overwrites all
//! occur often.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shard_store::{ItemWrite, MemoryTables, SledOptions, SledStore, StoreError, TableStore};
use std::collections::BTreeMap;
use std::sync::Arc;

const NAMES: [&str; 3] = ["t", "tt", "t2"];

/// A table as the model holds it: its document and its items by key.
type ModelTable = (Vec<u8>, BTreeMap<Vec<u8>, Vec<u8>>);

#[derive(Default, Clone, Debug, PartialEq)]
struct Model {
    tables: BTreeMap<String, ModelTable>,
}

fn random_key(rng: &mut StdRng) -> Vec<u8> {
    let len = rng.gen_range(0..4);
    (0..len)
        .map(|_| b"ab\x00\xff"[rng.gen_range(0..4)])
        .collect()
}

async fn check_same(store: &dyn TableStore, model: &Model) {
    let docs = store.tables().await.unwrap();
    let want: Vec<(String, Vec<u8>)> = model
        .tables
        .iter()
        .map(|(n, (d, _))| (n.clone(), d.clone()))
        .collect();
    assert_eq!(docs, want);
    for (name, (_, items)) in &model.tables {
        let all = store
            .scan_items(name, Vec::new(), None, usize::MAX)
            .await
            .unwrap();
        let want: Vec<(Vec<u8>, Vec<u8>)> =
            items.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        assert_eq!(all, want, "items of {name}");
    }
}

async fn step(store: &dyn TableStore, model: &mut Model, rng: &mut StdRng, i: usize) {
    let name = NAMES[rng.gen_range(0..NAMES.len())].to_string();
    match rng.gen_range(0..10) {
        0 => {
            let doc = format!("doc {i}").into_bytes();
            store.put_table(&name, doc.clone()).await.unwrap();
            model.tables.entry(name).or_default().0 = doc;
        }
        1 if rng.gen_bool(0.3) => {
            store.delete_table(&name).await.unwrap();
            model.tables.remove(&name);
        }
        2..=5 => {
            let writes: Vec<ItemWrite> = (0..rng.gen_range(1..5))
                .map(|_| {
                    let table = NAMES[rng.gen_range(0..NAMES.len())].to_string();
                    let key = random_key(rng);
                    if rng.gen_bool(0.7) {
                        ItemWrite::Put {
                            table,
                            key,
                            item: format!("item {i}").into_bytes(),
                        }
                    } else {
                        ItemWrite::Delete { table, key }
                    }
                })
                .collect();
            let all_exist = writes.iter().all(|w| model.tables.contains_key(w.table()));
            let outcome = store.write_items(writes.clone()).await;
            if !all_exist {
                assert!(
                    matches!(outcome, Err(StoreError::Conflict(_))),
                    "{outcome:?}"
                );
                return;
            }
            outcome.unwrap();
            for w in writes {
                match w {
                    ItemWrite::Put { table, key, item } => {
                        model.tables.get_mut(&table).unwrap().1.insert(key, item);
                    }
                    ItemWrite::Delete { table, key } => {
                        model.tables.get_mut(&table).unwrap().1.remove(&key);
                    }
                }
            }
        }
        6 | 7 => {
            let key = random_key(rng);
            let got = store.get_item(&name, &key).await.unwrap();
            let want = model.tables.get(&name).and_then(|t| t.1.get(&key).cloned());
            assert_eq!(got, want, "get {name} {key:?}");
        }
        _ => {
            let prefix = random_key(rng);
            let after = rng.gen_bool(0.5).then(|| random_key(rng));
            let limit = rng.gen_range(0..6);
            let got = store
                .scan_items(&name, prefix.clone(), after.clone(), limit)
                .await
                .unwrap();
            let want: Vec<(Vec<u8>, Vec<u8>)> = model
                .tables
                .get(&name)
                .map(|t| {
                    t.1.iter()
                        .filter(|(k, _)| k.starts_with(&prefix))
                        .filter(|(k, _)| after.as_ref().is_none_or(|a| *k > a))
                        .take(limit)
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(
                got, want,
                "scan {name} prefix {prefix:?} after {after:?} limit {limit}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sled_tables_match_the_model_across_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(16);
    let mut model = Model::default();
    for round in 0..3 {
        let store = SledStore::open(dir.path(), SledOptions::default()).unwrap();
        check_same(store.as_ref(), &model).await;
        for i in 0..400 {
            step(store.as_ref(), &mut model, &mut rng, round * 1000 + i).await;
        }
        check_same(store.as_ref(), &model).await;
        drop(store);
    }
}

#[tokio::test]
async fn memory_tables_match_the_model() {
    let store: Arc<dyn TableStore> = Arc::new(MemoryTables::new());
    let mut rng = StdRng::seed_from_u64(61);
    let mut model = Model::default();
    for i in 0..1500 {
        step(store.as_ref(), &mut model, &mut rng, i).await;
    }
    check_same(store.as_ref(), &model).await;
}
