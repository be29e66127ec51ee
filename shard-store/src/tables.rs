//! Keyed document tables: what kinesd's DynamoDB subset needs from a storage engine, in its
//! own words.
//!
//! A *table* is a name (at most 255 bytes) with an opaque description document, holding
//! *items*: opaque documents under opaque byte keys. The store knows nothing of attributes,
//! key schemas or conditions; the caller encodes keys and items and keeps its own rules.
//!
//! Contract of every implementation (checked by `tests/tables_model.rs` against a `BTreeMap`):
//! - [`TableStore::put_table`], [`TableStore::delete_table`] and [`TableStore::write_items`]
//!   resolve only once what they wrote is durable: after a crash (`kill -9`, power cut) it is
//!   there, whole, or — for a call that had not resolved — either whole or not at all. Each
//!   call is atomic: a [`TableStore::write_items`] batch, even across tables, is applied
//!   entirely or not at all, and readers never see half of it.
//! - Deleting a table removes its document and every item in one atomic step; a table created
//!   again under the same name starts empty.
//! - Items of a table are returned by [`TableStore::scan_items`] in byte order of their keys.
//! - Writing an item to a table that does not exist is refused with
//!   [`StoreError::Conflict`] and writes nothing of the batch.
//! - Concurrency: every call is atomic on its own, but a read followed by a write is not;
//!   callers that decide a write from what they read (conditional writes) serialize
//!   themselves.

use crate::log::StoreFuture;
use crate::{Result, StoreError};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Longest table name the stores accept, in bytes.
pub const MAX_TABLE_NAME: usize = 255;

/// One change of a [`TableStore::write_items`] batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemWrite {
    /// Stores `item` under `key`, replacing any item there.
    Put {
        table: String,
        key: Vec<u8>,
        item: Vec<u8>,
    },
    /// Removes the item under `key` (a no-op if there is none).
    Delete { table: String, key: Vec<u8> },
}

impl ItemWrite {
    pub fn table(&self) -> &str {
        match self {
            ItemWrite::Put { table, .. } | ItemWrite::Delete { table, .. } => table,
        }
    }
}

/// A stretch of a table's items, by key.
pub type Items = Vec<(Vec<u8>, Vec<u8>)>;

/// Tables of keyed documents. See the module doc for the contract.
pub trait TableStore: Send + Sync {
    /// Every table's document, sorted by name.
    fn tables(&self) -> StoreFuture<'_, Vec<(String, Vec<u8>)>>;

    /// Creates the table `name` (empty) or replaces its document, keeping its items.
    fn put_table(&self, name: &str, doc: Vec<u8>) -> StoreFuture<'_, ()>;

    /// Removes the table and all its items (a no-op if absent).
    fn delete_table(&self, name: &str) -> StoreFuture<'_, ()>;

    /// The item under `key`, if any.
    fn get_item(&self, table: &str, key: &[u8]) -> StoreFuture<'_, Option<Vec<u8>>>;

    /// Applies every write, all or nothing.
    fn write_items(&self, writes: Vec<ItemWrite>) -> StoreFuture<'_, ()>;

    /// At most `limit` items of `table` whose keys start with `prefix` and, with `after`, sort
    /// strictly after it, in key order.
    fn scan_items(
        &self,
        table: &str,
        prefix: Vec<u8>,
        after: Option<Vec<u8>>,
        limit: usize,
    ) -> StoreFuture<'_, Items>;
}

pub(crate) fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_TABLE_NAME {
        return Err(StoreError::Io(format!(
            "table name of {} bytes (1 to {MAX_TABLE_NAME})",
            name.len()
        )));
    }
    Ok(())
}

pub(crate) fn no_table(name: &str) -> StoreError {
    StoreError::Conflict(format!("table {name} does not exist"))
}

/// Tables in memory, gone with the process (`--in-memory`, and engines without table storage
/// of their own yet). Durability is moot; every other part of the contract holds.
#[derive(Debug, Default)]
pub struct MemoryTables {
    tables: Mutex<BTreeMap<String, MemoryTable>>,
}

#[derive(Debug, Default)]
struct MemoryTable {
    doc: Vec<u8>,
    items: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemoryTables {
    pub fn new() -> MemoryTables {
        MemoryTables::default()
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, MemoryTable>> {
        // Every change below is checked before anything is mutated: poison leaves no half.
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub(crate) fn ready<'a, T: Send + 'a>(value: Result<T>) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

impl TableStore for MemoryTables {
    fn tables(&self) -> StoreFuture<'_, Vec<(String, Vec<u8>)>> {
        let all = self
            .locked()
            .iter()
            .map(|(name, t)| (name.clone(), t.doc.clone()))
            .collect();
        ready(Ok(all))
    }

    fn put_table(&self, name: &str, doc: Vec<u8>) -> StoreFuture<'_, ()> {
        let outcome = check_name(name).map(|()| {
            self.locked().entry(name.to_string()).or_default().doc = doc;
        });
        ready(outcome)
    }

    fn delete_table(&self, name: &str) -> StoreFuture<'_, ()> {
        self.locked().remove(name);
        ready(Ok(()))
    }

    fn get_item(&self, table: &str, key: &[u8]) -> StoreFuture<'_, Option<Vec<u8>>> {
        let item = self
            .locked()
            .get(table)
            .and_then(|t| t.items.get(key).cloned());
        ready(Ok(item))
    }

    fn write_items(&self, writes: Vec<ItemWrite>) -> StoreFuture<'_, ()> {
        let mut tables = self.locked();
        if let Some(missing) = writes.iter().find(|w| !tables.contains_key(w.table())) {
            return ready(Err(no_table(missing.table())));
        }
        for write in writes {
            match write {
                ItemWrite::Put { table, key, item } => {
                    if let Some(t) = tables.get_mut(&table) {
                        t.items.insert(key, item);
                    }
                }
                ItemWrite::Delete { table, key } => {
                    if let Some(t) = tables.get_mut(&table) {
                        t.items.remove(&key);
                    }
                }
            }
        }
        ready(Ok(()))
    }

    fn scan_items(
        &self,
        table: &str,
        prefix: Vec<u8>,
        after: Option<Vec<u8>>,
        limit: usize,
    ) -> StoreFuture<'_, Items> {
        let tables = self.locked();
        let Some(t) = tables.get(table) else {
            return ready(Ok(Vec::new()));
        };
        let from = match &after {
            Some(after) if after.as_slice() >= prefix.as_slice() => {
                std::ops::Bound::Excluded(after.clone())
            }
            _ => std::ops::Bound::Included(prefix.clone()),
        };
        let items = t
            .items
            .range((from, std::ops::Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(&prefix))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        ready(Ok(items))
    }
}
