//! Start-up wiring of the storage engine the configuration names: the embedded sled store, on
//! a directory or temporary, or (cluster mode) NATS JetStream.

use crate::config::{Config, Durability};
use crate::streams::Storage;
use shard_store::jetstream::JetStreamStore;
use shard_store::{SledOptions, SledStore, StoreError};
use std::sync::Arc;

/// Bytes a NATS message needs to carry the largest PutRecords (5 MiB of data and up to 500
/// partition keys of 256 bytes, with the message's own framing).
const LARGEST_PUT_RECORDS: usize = 5 * 1024 * 1024 + 500 * (256 + 6) + 1024;

/// Opens the engine for `config` and reports what a crash left for it to restore.
pub async fn open(config: &Config) -> Result<Storage, StoreError> {
    if let Some(options) = &config.nats {
        let store = JetStreamStore::connect(options.clone()).await?;
        if store.max_payload() < LARGEST_PUT_RECORDS {
            tracing::warn!(
                max_payload = store.max_payload(),
                "the NATS servers' max_payload is below what one PutRecords may carry: larger requests are refused with ValidationException; set max_payload: 8MB in the servers' configuration"
            );
        }
        return Ok(Storage {
            log: Arc::new(store.clone()),
            catalog: Arc::new(store),
            // JetStream keeps no tables yet: DynamoDB requests are refused, saying so.
            tables: None,
        });
    }
    let options = SledOptions {
        durability: match config.durability {
            Durability::Flush => shard_store::Durability::Flush,
            Durability::Relaxed => shard_store::Durability::Relaxed,
        },
        on_idle: config.on_idle,
        min_free_bytes: config.min_free_disk_bytes,
        accept_data_loss: config.accept_data_loss,
    };
    let store = match &config.data_dir {
        Some(dir) => SledStore::open(dir, options)?,
        None => SledStore::open_temporary(options)?,
    };
    if store.replayed_from_journal() > 0 {
        tracing::info!(
            records = store.replayed_from_journal(),
            "restored acknowledged records from the journal after an unclean stop"
        );
    }
    // `--in-memory` keeps its tables in memory too; a data directory keeps them in sled.
    let tables: Arc<dyn shard_store::TableStore> = match &config.data_dir {
        Some(_) => store.clone(),
        None => Arc::new(shard_store::MemoryTables::new()),
    };
    Ok(Storage {
        log: store.clone(),
        catalog: store,
        tables: Some(tables),
    })
}
