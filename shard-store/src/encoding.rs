//! Stored values other than blocks (`block.rs`): every one starts with a format version byte;
//! decoding anything else, or inconsistent lengths, yields `StoreError::Corrupt`, never a panic.

use crate::{Result, StoreError};

pub(crate) const FORMAT_VERSION: u8 = 1;

/// Strips and checks the version byte shared by every stored value.
pub(crate) fn versioned_body<'v>(value: &'v [u8], what: &str) -> Result<&'v [u8]> {
    match value.split_first() {
        Some((&FORMAT_VERSION, body)) => Ok(body),
        Some((v, _)) => Err(StoreError::Corrupt(format!(
            "{what}: unknown format version {v}"
        ))),
        None => Err(StoreError::Corrupt(format!("{what}: empty value"))),
    }
}

pub(crate) fn versioned(body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(1 + body.len());
    v.push(FORMAT_VERSION);
    v.extend_from_slice(body);
    v
}

pub(crate) fn decode_u64_value(value: &[u8], what: &str) -> Result<u64> {
    let body = versioned_body(value, what)?;
    let raw: [u8; 8] = body
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("{what}: {} bytes, want 9", value.len())))?;
    Ok(u64::from_be_bytes(raw))
}
