use super::rules::paging as tokens;
use super::rules::shapes::shard_shape;
use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{ListShardsInput, ListShardsOutput};
use crate::protocol::Operation;
use crate::streams::sequence::parse_shard_id;
use crate::streams::{ShardMeta, StreamMeta, ITERATOR_TTL_MS};
use serde::{Deserialize, Serialize};

const MAX_PAGE: usize = 1000;

/// Everything a later page needs, since AWS forbids repeating the filter with a NextToken.
#[derive(Clone, Serialize, Deserialize)]
struct Cursor {
    stream: String,
    stream_id: u64,
    /// Only shards with a larger index follow.
    after: i64,
    filter: Filter,
    issued_ms: i64,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
enum Filter {
    /// All shards whose records have not all expired (FROM_TRIM_HORIZON, AFTER_SHARD_ID).
    TrimHorizon,
    /// Shards open at the trim horizon (AT_TRIM_HORIZON).
    AtTrimHorizon,
    /// Open shards only.
    Latest,
    /// Shards open at that time (AT_TIMESTAMP).
    AtTime(i64),
    /// Shards open at or after that time (FROM_TIMESTAMP).
    FromTime(i64),
}

impl Filter {
    fn keeps(self, meta: &StreamMeta, shard: &ShardMeta, now: i64) -> bool {
        let expired = shard
            .closed
            .is_some_and(|c| c.at_ms + meta.retention_ms() <= now);
        if expired {
            return false;
        }
        // A time before the stream existed means its first shards, as for a young stream's
        // trim horizon.
        let open_at = |t: i64| {
            let t = t.max(meta.created_ms);
            shard.created_ms <= t && shard.closed.is_none_or(|c| c.at_ms > t)
        };
        match self {
            Filter::TrimHorizon => true,
            Filter::AtTrimHorizon => open_at(now - meta.retention_ms()),
            Filter::Latest => shard.closed.is_none(),
            Filter::AtTime(t) => open_at(t),
            Filter::FromTime(t) => shard.closed.is_none_or(|c| c.at_ms >= t),
        }
    }
}

pub async fn list_shards(ctx: &Ctx, input: ListShardsInput) -> Result<ListShardsOutput, ApiError> {
    let now = ctx.now();
    let cursor = if let Some(token) = &input.next_token {
        if input.stream_name.is_some() {
            return Err(ApiError::InvalidArgument(
                "NextToken and StreamName cannot be provided together.".into(),
            ));
        }
        if input.stream_arn.is_some() {
            return Err(ApiError::InvalidArgument(
                "NextToken and StreamARN cannot be provided together.".into(),
            ));
        }
        if input.shard_filter.is_some() {
            return Err(ApiError::InvalidArgument(
                "NextToken and ShardFilter cannot be provided together.".into(),
            ));
        }
        if input.exclusive_start_shard_id.is_some() {
            return Err(ApiError::InvalidArgument(
                "NextToken and ExclusiveStartShardId cannot be provided together.".into(),
            ));
        }
        let cursor: Cursor = tokens::open(ctx.signer(), token)
            .ok_or_else(|| ApiError::InvalidArgument(format!("Invalid NextToken: {token}")))?;
        if now.saturating_sub(cursor.issued_ms) > ITERATOR_TTL_MS {
            return Err(ApiError::ExpiredNextToken(format!(
                "The NextToken has expired. NextToken: {token}"
            )));
        }
        cursor
    } else {
        if input.stream_name.is_none() && input.stream_arn.is_none() {
            return Err(ApiError::InvalidArgument(
                "Either NextToken or StreamName should be provided.".into(),
            ));
        }
        let stream = ctx.resolve(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
        let mut after = input
            .exclusive_start_shard_id
            .as_deref()
            .map(|id| parse_shard_id(id).map_or(-1, i64::from))
            .unwrap_or(-1);
        let filter = match &input.shard_filter {
            None => Filter::TrimHorizon,
            Some(f) => match f.filter_type.as_deref() {
                Some("AFTER_SHARD_ID") => {
                    let id = f.shard_id.as_deref().ok_or_else(|| {
                        ApiError::InvalidArgument(
                            "ShardId must be specified when the ShardFilter type is AFTER_SHARD_ID.".into(),
                        )
                    })?;
                    after = after.max(parse_shard_id(id).map_or(-1, i64::from));
                    Filter::TrimHorizon
                }
                Some("AT_LATEST") => Filter::Latest,
                Some("AT_TRIM_HORIZON") => Filter::AtTrimHorizon,
                Some(kind @ ("AT_TIMESTAMP" | "FROM_TIMESTAMP")) => {
                    let t = f.timestamp.ok_or_else(|| {
                        ApiError::InvalidArgument(format!(
                            "Timestamp must be specified when the ShardFilter type is {kind}."
                        ))
                    })?;
                    if kind == "AT_TIMESTAMP" {
                        Filter::AtTime(t.0)
                    } else {
                        Filter::FromTime(t.0)
                    }
                }
                _ => Filter::TrimHorizon,
            },
        };
        Cursor {
            stream: stream.name.clone(),
            stream_id: stream.id,
            after,
            filter,
            issued_ms: now,
        }
    };
    let stream = ctx.lookup(&cursor.stream)?;
    if stream.id != cursor.stream_id {
        return Err(ctx.not_found(&cursor.stream));
    }
    ctx.limit_control(Operation::ListShards, Some(&stream))?;
    let limit = input
        .max_results
        .map_or(MAX_PAGE, |m| (m as usize).min(MAX_PAGE));
    let meta = stream.meta();
    let matching: Vec<&ShardMeta> = meta
        .shards
        .iter()
        .filter(|s| i64::from(s.index) > cursor.after && cursor.filter.keeps(&meta, s, now))
        .collect();
    let page = &matching[..matching.len().min(limit)];
    let next_token = if matching.len() > page.len() {
        page.last().map(|last| {
            tokens::seal(
                ctx.signer(),
                &Cursor {
                    after: i64::from(last.index),
                    issued_ms: now,
                    ..cursor.clone()
                },
            )
        })
    } else {
        None
    };
    Ok(ListShardsOutput {
        shards: page.iter().map(|s| shard_shape(&meta, s)).collect(),
        next_token,
    })
}
