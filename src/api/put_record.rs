use super::rules::lifecycle::writable_stream;
use super::rules::records::{check_record_size, record_hash, record_size_limit};
use super::rules::shapes::encryption_type;
use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{PutRecordInput, PutRecordOutput};
use crate::streams::sequence::{shard_id, SequenceNumber};
use crate::streams::{PutEntry, Registry};

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
                stream.name, ctx.config().account_id
            ))
        })?),
    };
    let mut results = Registry::put(
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
    let seq = results.pop().expect("one result per entry")?;
    Ok(PutRecordOutput {
        shard_id: shard_id(seq.shard_index),
        sequence_number: seq.to_string(),
        encryption_type: (encryption != "NONE").then(|| encryption.to_string()),
    })
}
