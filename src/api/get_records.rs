use super::rules::shapes::{child_shard_shapes, record_shapes};
use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{GetRecordsInput, GetRecordsOutput};
use crate::streams::iterator::{amz_time, ShardIterator};
use crate::streams::sequence::shard_id;
use crate::streams::ITERATOR_TTL_MS;

const DEFAULT_LIMIT: usize = 10_000;

pub async fn get_records(ctx: &Ctx, input: GetRecordsInput) -> Result<GetRecordsOutput, ApiError> {
    let text = input.shard_iterator.unwrap_or_default();
    let iterator = ShardIterator::decode(&text, ctx.signer())
        .ok_or_else(|| ApiError::InvalidArgument("Invalid ShardIterator.".into()))?;
    let now = ctx.now();
    if now.saturating_sub(iterator.issued_ms) > ITERATOR_TTL_MS {
        return Err(ApiError::ExpiredIterator(format!(
            "Iterator expired. The iterator was created at time {} while right now it is {} which is further in the future than the tolerated delay of {ITERATOR_TTL_MS} milliseconds.",
            amz_time(iterator.issued_ms),
            amz_time(now)
        )));
    }
    let sid = shard_id(iterator.shard_index);
    let stream = ctx
        .lookup(&iterator.stream_name)
        .ok()
        .filter(|s| s.id == iterator.stream_id)
        .ok_or_else(|| ctx.shard_not_found(&iterator.stream_name, &sid))?;
    let shard = stream
        .shard(iterator.shard_index)
        .ok_or_else(|| ctx.shard_not_found(&stream.name, &sid))?;
    let limits = ctx
        .config()
        .enforce_limits
        .then(|| stream.limits(shard.index));
    if let Some(limits) = &limits {
        // Refused before reading: the same iterator works when retried.
        if !limits.admit_read(now) {
            return Err(ctx.shard_rate_exceeded(&stream, shard.index));
        }
    }
    let limit = input.limit.map_or(DEFAULT_LIMIT, |l| l as usize);
    let outcome = ctx.read(&stream, &shard, iterator.position, limit).await?;
    let bytes = outcome.records.iter().map(|r| r.data.len() as u64).sum();
    if let Some(limits) = &limits {
        limits.charge_read(bytes, now);
    }
    let count = outcome.records.len() as u64;
    stream.traffic(shard.index, |t| {
        t.read(count, bytes, outcome.millis_behind_latest)
    });
    let records = record_shapes(&stream, shard.index, outcome.records);
    let next_shard_iterator = outcome.next_position.map(|position| {
        ShardIterator {
            position,
            issued_ms: now,
            ..iterator.clone()
        }
        .encode(ctx.signer())
    });
    let child_shards = outcome.child_shards.as_deref().map(child_shard_shapes);
    Ok(GetRecordsOutput {
        records,
        next_shard_iterator,
        millis_behind_latest: outcome.millis_behind_latest,
        child_shards,
    })
}
