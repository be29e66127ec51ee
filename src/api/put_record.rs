use super::{encryption_type, record_size_limit, Ctx};
use crate::error::ApiError;
use crate::protocol::model::{PutRecordInput, PutRecordOutput};
use crate::streams::hash::{hash_partition_key, parse_hash_key};
use crate::streams::sequence::{shard_id, SequenceNumber};
use crate::streams::{PutEntry, Registry, Stream, StreamStatus};
use std::sync::Arc;

/// The stream for a write: it must exist and have finished CREATING.
pub(crate) fn writable_stream(
    ctx: &Ctx,
    name: Option<&str>,
    arn: Option<&str>,
) -> Result<Arc<Stream>, ApiError> {
    let stream = ctx.resolve(name, arn)?;
    let now = ctx.now();
    if stream.with_meta(|m| m.status(now) == StreamStatus::Creating) {
        return Err(ctx.not_found(&stream.name));
    }
    Ok(stream)
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

pub async fn put_record(ctx: &Ctx, input: PutRecordInput) -> Result<PutRecordOutput, ApiError> {
    let stream = writable_stream(
        ctx,
        input.stream_name.as_deref(),
        input.stream_arn.as_deref(),
    )?;
    let data = input.data.unwrap_or_default().0;
    let partition_key = input.partition_key.unwrap_or_default();
    let (limit, encryption) = stream.with_meta(|m| (record_size_limit(m), encryption_type(m)));
    check_record_size("data", &data, &partition_key, limit)?;
    let hash = record_hash(input.explicit_hash_key.as_deref(), &partition_key)?;
    let floor = match input.sequence_number_for_ordering.as_deref() {
        None => None,
        Some(text) => Some(text.parse::<SequenceNumber>().map_err(|_| {
            ApiError::InvalidArgument(format!(
                "ExclusiveMinimumSequenceNumber {text} used in PutRecord on stream {} under account {} is invalid.",
                stream.name, ctx.config.account_id
            ))
        })?),
    };
    let seq = Registry::put(
        ctx,
        &stream,
        vec![PutEntry {
            hash,
            partition_key,
            data,
        }],
        floor,
    )
    .await?;
    Ok(PutRecordOutput {
        shard_id: shard_id(seq[0].shard_index),
        sequence_number: seq[0].to_string(),
        encryption_type: (encryption != "NONE").then(|| encryption.to_string()),
    })
}
