//! The DynamoDB subset KCL consumers use (lease tables, checkpoints, coordinator state), served
//! on kinesd's port next to Kinesis: requests whose `X-Amz-Target` starts with
//! `DynamoDB_20120810.` come here (`server/front.rs`).
//!
//! Rooms:
//! - `number`, `value`: attribute values, with DynamoDB's decimal numbers;
//! - `expr`: the expression language (lexer, parser, evaluation, updates);
//! - `legacy`: the older `Expected` / `AttributeUpdates` parameters;
//! - `meta`, `key`: table descriptions and primary keys;
//! - `tables`, `settings`, `items`, `read` (Scan), `query`, `transact`: the operations;
//! - `input`, `error`: the JSON 1.0 protocol.
//!
//! Invariants: tables and items live in the [`TableStore`] (durable before any answer); the
//! table descriptions are also cached here, loaded once, and changed only under `writes`.
//! Every write that depends on what it read (conditions, updates, table changes) holds
//! `writes` across the read and the write, so conditions are atomic with their writes.

pub mod error;
pub mod expr;
mod input;
mod items;
mod key;
mod legacy;
pub mod meta;
pub mod number;
mod query;
mod read;
mod settings;
mod tables;
mod transact;
pub mod value;

use crate::streams::Registry;
use error::DynError;
use input::Input;
use meta::TableMeta;
use shard_store::TableStore;
use std::collections::BTreeMap;
use std::sync::Arc;

pub const TARGET_PREFIX: &str = "DynamoDB_20120810.";
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// The DynamoDB service of one kinesd process.
pub struct Service {
    store: Option<Arc<dyn TableStore>>,
    tables: tokio::sync::OnceCell<std::sync::RwLock<BTreeMap<String, TableMeta>>>,
    writes: tokio::sync::Mutex<()>,
}

impl Service {
    /// `store: None`: the storage engine keeps no tables (cluster mode, for now); every
    /// request is refused with a message saying so.
    pub fn new(store: Option<Arc<dyn TableStore>>) -> Service {
        Service {
            store,
            tables: tokio::sync::OnceCell::new(),
            writes: tokio::sync::Mutex::new(()),
        }
    }

    fn store(&self) -> Result<&dyn TableStore, DynError> {
        self.store.as_deref().ok_or_else(|| {
            DynError::validation(
                "DynamoDB tables are not available with the cluster (NATS JetStream) store yet; run kinesd with --store embedded",
            )
        })
    }

    async fn cache(&self) -> Result<&std::sync::RwLock<BTreeMap<String, TableMeta>>, DynError> {
        let store = self.store()?;
        self.tables
            .get_or_try_init(|| async {
                let mut tables = BTreeMap::new();
                for (name, doc) in store.tables().await? {
                    let meta = meta::decode(&doc).ok_or_else(|| {
                        DynError::internal(format!("table {name}: stored description unreadable"))
                    })?;
                    tables.insert(name, meta);
                }
                Ok(std::sync::RwLock::new(tables))
            })
            .await
    }

    /// The table's description, if it exists.
    async fn table(&self, name: &str) -> Result<Option<TableMeta>, DynError> {
        let cache = self.cache().await?;
        let tables = cache.read().unwrap_or_else(|p| p.into_inner());
        Ok(tables.get(name).cloned())
    }

    /// The table of an item operation: it must exist and be ACTIVE.
    async fn active_table(&self, registry: &Registry, name: &str) -> Result<TableMeta, DynError> {
        match self.table(name).await? {
            Some(t) if t.is_active(registry.now()) => Ok(t),
            _ => Err(DynError::no_such_table()),
        }
    }

    async fn remember(&self, meta: Option<TableMeta>, name: &str) -> Result<(), DynError> {
        let cache = self.cache().await?;
        let mut tables = cache.write().unwrap_or_else(|p| p.into_inner());
        match meta {
            Some(m) => tables.insert(name.to_string(), m),
            None => tables.remove(name),
        };
        Ok(())
    }

    async fn table_names(&self) -> Result<Vec<String>, DynError> {
        let cache = self.cache().await?;
        let tables = cache.read().unwrap_or_else(|p| p.into_inner());
        Ok(tables.keys().cloned().collect())
    }
}

/// The operation named by `X-Amz-Target`, if it is a DynamoDB one.
pub fn operation(target: Option<&str>) -> Option<&str> {
    target?.strip_prefix(TARGET_PREFIX)
}

/// Runs one DynamoDB operation and returns its JSON answer.
pub async fn handle(registry: &Registry, op: &str, body: &[u8]) -> Result<Vec<u8>, DynError> {
    let service = &registry.dynamodb;
    let known = matches!(
        op,
        "CreateTable"
            | "DescribeTable"
            | "UpdateTable"
            | "DeleteTable"
            | "ListTables"
            | "GetItem"
            | "PutItem"
            | "UpdateItem"
            | "DeleteItem"
            | "Scan"
            | "Query"
            | "TransactWriteItems"
            | "UpdateContinuousBackups"
            | "DescribeContinuousBackups"
            | "UpdateTimeToLive"
            | "DescribeTimeToLive"
            | "TagResource"
            | "UntagResource"
            | "ListTagsOfResource"
    );
    if !known {
        return Err(DynError::unknown_operation(op));
    }
    service.store()?;
    let input = Input::parse(body)?;
    let answer = match op {
        "CreateTable" => tables::create(registry, &input).await?,
        "DescribeTable" => tables::describe(registry, &input).await?,
        "UpdateTable" => tables::update(registry, &input).await?,
        "DeleteTable" => tables::delete(registry, &input).await?,
        "ListTables" => tables::list(registry, &input).await?,
        "UpdateContinuousBackups" => settings::update_backups(registry, &input).await?,
        "DescribeContinuousBackups" => settings::describe_backups(registry, &input).await?,
        "UpdateTimeToLive" => settings::update_ttl(registry, &input).await?,
        "DescribeTimeToLive" => settings::describe_ttl(registry, &input).await?,
        "TagResource" => settings::tag(registry, &input).await?,
        "UntagResource" => settings::untag(registry, &input).await?,
        "ListTagsOfResource" => settings::list_tags(registry, &input).await?,
        "GetItem" => items::get(registry, &input).await?,
        "PutItem" => items::put(registry, &input).await?,
        "UpdateItem" => items::update(registry, &input).await?,
        "DeleteItem" => items::delete(registry, &input).await?,
        "Scan" => read::scan(registry, &input).await?,
        "Query" => query::query(registry, &input).await?,
        _ => transact::write(registry, &input).await?,
    };
    Ok(serde_json::to_vec(&answer).unwrap_or_default())
}
