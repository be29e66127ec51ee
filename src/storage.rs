//! Start-up wiring of the storage engine the configuration names: today the embedded sled
//! store, on a directory or temporary.

use crate::config::{Config, Durability};
use crate::streams::Storage;
use shard_store::{SledOptions, SledStore, StoreError};

/// Opens the engine for `config` and reports what a crash left for it to restore.
pub fn open(config: &Config) -> Result<Storage, StoreError> {
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
    Ok(Storage {
        log: store.clone(),
        catalog: store,
    })
}
