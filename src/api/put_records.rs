use super::rules::lifecycle::writable_stream;
use super::rules::records::record_size_limit;
use super::rules::records::{check_record_size, record_hash};
use super::rules::shapes::encryption_type;
use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{PutRecordsInput, PutRecordsOutput, PutRecordsResultEntry};
use crate::streams::sequence::shard_id;
use crate::streams::PutEntry;

/// The whole request's data and partition keys (the current API reference's limit).
pub const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

pub async fn put_records(ctx: &Ctx, input: PutRecordsInput) -> Result<PutRecordsOutput, ApiError> {
    let stream = writable_stream(
        ctx,
        input.stream_name.as_deref(),
        input.stream_arn.as_deref(),
    )?;
    let records = input.records.unwrap_or_default();
    let (limit, encryption) = stream.with_meta(|m| (record_size_limit(m), encryption_type(m)));
    let mut total = 0usize;
    let mut entries = Vec::with_capacity(records.len());
    for (i, r) in records.into_iter().enumerate() {
        let data = r.data.map(|d| d.0).unwrap_or_default();
        let partition_key = r.partition_key.unwrap_or_default();
        check_record_size(
            format_args!("records.{}.member.data", i + 1),
            &data,
            &partition_key,
            limit,
        )?;
        total += data.len() + partition_key.len();
        entries.push(PutEntry {
            hash: record_hash(r.explicit_hash_key.as_deref(), &partition_key)?,
            partition_key,
            data,
        });
    }
    if total > MAX_REQUEST_BYTES {
        return Err(ApiError::InvalidArgument(
            "Records size exceeds 10 MB limit".into(),
        ));
    }
    let results = ctx.put(&stream, entries, None).await?;
    let failed = results.iter().filter(|r| r.is_err()).count();
    Ok(PutRecordsOutput {
        failed_record_count: failed as _,
        records: results
            .iter()
            .map(|r| match r {
                Ok(s) => PutRecordsResultEntry {
                    sequence_number: Some(s.to_string()),
                    shard_id: Some(shard_id(s.shard_index)),
                    error_code: None,
                    error_message: None,
                },
                Err(e) => PutRecordsResultEntry {
                    sequence_number: None,
                    shard_id: None,
                    error_code: Some(e.type_name().to_string()),
                    error_message: e.message().map(str::to_string),
                },
            })
            .collect(),
        encryption_type: (encryption != "NONE").then(|| encryption.to_string()),
    })
}
