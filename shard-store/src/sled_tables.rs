//! The embedded engine as a [`TableStore`]: tables and items in the sled tree `tables`, beside
//! the records and the catalogue, made durable by the same group commit.
//!
//! Layout of the `tables` tree (every value starts with the format version byte):
//! - `b't'` + name → the table's document;
//! - `b'i'` + name length (u8) + name + item key → the item.
//!
//! The length byte keeps one table's items a single contiguous range that no other table's
//! name can fall into (`a` and `ab` differ in their length byte). Deleting a table and writing
//! items are serialized by `SledStore::table_writes`, so a batch never lands in a table that a
//! concurrent deletion has just emptied; both are single sled batches (atomic after a crash),
//! acknowledged after a flush of the whole store.

use crate::encoding::{versioned, versioned_body};
use crate::error::engine_err;
use crate::log::StoreFuture;
use crate::sled_store::SledStore;
use crate::tables::{check_name, no_table, ready, ItemWrite, Items, TableStore};
use crate::{Result, Store, StoreError};

const TAG_TABLE: u8 = b't';
const TAG_ITEM: u8 = b'i';

fn table_key(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + name.len());
    k.push(TAG_TABLE);
    k.extend_from_slice(name.as_bytes());
    k
}

/// The prefix of every item key of `table`; the caller has checked the name's length.
fn items_prefix(table: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + table.len());
    k.push(TAG_ITEM);
    k.push(table.len() as u8);
    k.extend_from_slice(table.as_bytes());
    k
}

fn item_key(table: &str, key: &[u8]) -> Vec<u8> {
    let mut k = items_prefix(table);
    k.extend_from_slice(key);
    k
}

impl Store {
    fn table_docs(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let mut out = Vec::new();
        for entry in self.inner.tables.scan_prefix([TAG_TABLE]) {
            let (key, value) = entry.map_err(engine_err)?;
            let name = std::str::from_utf8(&key[1..])
                .map_err(|_| StoreError::Corrupt("table name is not UTF-8".into()))?;
            out.push((name.to_string(), versioned_body(&value, "table")?.to_vec()));
        }
        Ok(out)
    }

    fn table_exists(&self, name: &str) -> Result<bool> {
        self.inner
            .tables
            .contains_key(table_key(name))
            .map_err(engine_err)
    }

    fn store_table(&self, name: &str, doc: &[u8]) -> Result<()> {
        check_name(name)?;
        self.writable()?;
        self.inner
            .tables
            .insert(table_key(name), versioned(doc))
            .map(drop)
            .map_err(engine_err)
    }

    fn remove_table(&self, name: &str) -> Result<()> {
        if check_name(name).is_err() {
            return Ok(());
        }
        self.writable()?;
        let mut batch = sled::Batch::default();
        batch.remove(table_key(name));
        for entry in self.inner.tables.scan_prefix(items_prefix(name)) {
            let (key, _) = entry.map_err(engine_err)?;
            batch.remove(key);
        }
        self.inner.tables.apply_batch(batch).map_err(engine_err)
    }

    fn item(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if check_name(table).is_err() {
            return Ok(None);
        }
        let value = self
            .inner
            .tables
            .get(item_key(table, key))
            .map_err(engine_err)?;
        value
            .map(|v| versioned_body(&v, "item").map(<[u8]>::to_vec))
            .transpose()
    }

    fn apply_item_writes(&self, writes: &[ItemWrite]) -> Result<()> {
        for write in writes {
            check_name(write.table())?;
            if !self.table_exists(write.table())? {
                return Err(no_table(write.table()));
            }
        }
        self.writable()?;
        let mut batch = sled::Batch::default();
        for write in writes {
            match write {
                ItemWrite::Put { table, key, item } => {
                    batch.insert(item_key(table, key), versioned(item))
                }
                ItemWrite::Delete { table, key } => batch.remove(item_key(table, key)),
            }
        }
        self.inner.tables.apply_batch(batch).map_err(engine_err)
    }

    fn items_in(
        &self,
        table: &str,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Items> {
        if check_name(table).is_err() {
            return Ok(Vec::new());
        }
        let strip = items_prefix(table).len();
        let start = item_key(table, prefix);
        let range = match after {
            Some(after) if after >= prefix => self.inner.tables.range((
                std::ops::Bound::Excluded(item_key(table, after)),
                std::ops::Bound::Unbounded,
            )),
            _ => self.inner.tables.range(start.clone()..),
        };
        let mut out = Vec::new();
        for entry in range {
            if out.len() >= limit {
                break;
            }
            let (key, value) = entry.map_err(engine_err)?;
            if !key.starts_with(&start) {
                break;
            }
            out.push((
                key[strip..].to_vec(),
                versioned_body(&value, "item")?.to_vec(),
            ));
        }
        Ok(out)
    }
}

impl TableStore for SledStore {
    fn tables(&self) -> StoreFuture<'_, Vec<(String, Vec<u8>)>> {
        ready(self.store().table_docs())
    }

    fn put_table(&self, name: &str, doc: Vec<u8>) -> StoreFuture<'_, ()> {
        let written = self
            .store()
            .store_table(name, &doc)
            .map(|()| self.durable_ticket());
        Box::pin(async move { written?.wait().await })
    }

    fn delete_table(&self, name: &str) -> StoreFuture<'_, ()> {
        let written = {
            let _serial = self.table_writes();
            self.store()
                .remove_table(name)
                .map(|()| self.durable_ticket())
        };
        Box::pin(async move { written?.wait().await })
    }

    fn get_item(&self, table: &str, key: &[u8]) -> StoreFuture<'_, Option<Vec<u8>>> {
        ready(self.store().item(table, key))
    }

    fn write_items(&self, writes: Vec<ItemWrite>) -> StoreFuture<'_, ()> {
        let written = {
            let _serial = self.table_writes();
            self.store()
                .apply_item_writes(&writes)
                .map(|()| self.durable_ticket())
        };
        Box::pin(async move { written?.wait().await })
    }

    fn scan_items(
        &self,
        table: &str,
        prefix: Vec<u8>,
        after: Option<Vec<u8>>,
        limit: usize,
    ) -> StoreFuture<'_, Items> {
        ready(
            self.store()
                .items_in(table, &prefix, after.as_deref(), limit),
        )
    }
}
