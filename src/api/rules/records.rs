//! Rules of the write path shared by PutRecord and PutRecords: which stream may take writes,
//! where a record hashes, and how large it may be.

use crate::error::ApiError;
use crate::streams::hash::{hash_partition_key, parse_hash_key};
use crate::streams::StreamMeta;

/// Largest record (data plus partition key) the stream accepts, in bytes.
pub(crate) fn record_size_limit(meta: &StreamMeta) -> usize {
    (meta.max_record_size_kib as usize) * 1024
}

/// Where a record hashes: its ExplicitHashKey, else MD5 of its partition key.
pub(crate) fn record_hash(explicit: Option<&str>, partition_key: &str) -> Result<u128, ApiError> {
    match explicit {
        Some(text) => parse_hash_key(text).ok_or_else(|| {
            ApiError::InvalidArgument(format!(
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was {text}"
            ))
        }),
        None => Ok(hash_partition_key(partition_key)),
    }
}

/// A record is data plus partition key; AWS reports the excess on the data member.
pub(crate) fn check_record_size(
    member: impl std::fmt::Display,
    data: &[u8],
    partition_key: &str,
    limit: usize,
) -> Result<(), ApiError> {
    if data.len() + partition_key.len() > limit {
        return Err(ApiError::Validation(format!(
            "1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have length less than or equal to {limit}"
        )));
    }
    Ok(())
}
