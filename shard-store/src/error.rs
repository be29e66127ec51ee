//! The store's errors: what failed, never how the engine spells it (sled stays private).

use crate::StoreError;

// Private on purpose: a pub `From<sled::Error>` would leak sled into the API.
pub(crate) fn engine_err(e: sled::Error) -> StoreError {
    match e {
        sled::Error::Corruption { at, .. } => {
            StoreError::Corrupt(format!("db: the storage engine found damage at {at:?}"))
        }
        other => StoreError::Io(other.to_string()),
    }
}

/// Says where a decoding error happened without repeating the variant's own prefix.
pub(crate) fn with_context(e: StoreError, at: std::fmt::Arguments<'_>) -> StoreError {
    match e {
        StoreError::Corrupt(msg) => StoreError::Corrupt(format!("{at}: {msg}")),
        StoreError::Io(msg) => StoreError::Io(format!("{at}: {msg}")),
        StoreError::Conflict(msg) => StoreError::Conflict(format!("{at}: {msg}")),
        StoreError::DiskFull(msg) => StoreError::DiskFull(msg),
        StoreError::Unavailable(msg) => StoreError::Unavailable(format!("{at}: {msg}")),
        StoreError::TooLarge(msg) => StoreError::TooLarge(msg),
    }
}
