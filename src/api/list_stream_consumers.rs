use super::rules::paging as tokens;
use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{Consumer, ListStreamConsumersInput, ListStreamConsumersOutput};
use crate::protocol::types::Timestamp;
use crate::protocol::Operation;
use crate::streams::ITERATOR_TTL_MS;
use serde::{Deserialize, Serialize};

const DEFAULT_MAX_RESULTS: usize = 100;

/// Consumers are listed in registration order; a page resumes after the last one shown.
#[derive(Serialize, Deserialize)]
struct Cursor {
    stream_id: u64,
    after_created_ms: i64,
    after_name: String,
    issued_ms: i64,
}

pub async fn list_stream_consumers(
    ctx: &Ctx,
    input: ListStreamConsumersInput,
) -> Result<ListStreamConsumersOutput, ApiError> {
    // StreamCreationTimestamp only tells apart streams of the same name, and a StreamARN here
    // always addresses the live one; it is accepted and not compared.
    let stream = ctx.resolve(None, input.stream_arn.as_deref())?;
    ctx.limit_control(Operation::ListStreamConsumers, Some(&stream))?;
    let now = ctx.now();
    let after = match &input.next_token {
        Some(token) => {
            let cursor: Cursor = tokens::open(ctx.signer(), token)
                .filter(|c: &Cursor| c.stream_id == stream.id)
                .ok_or_else(|| ApiError::InvalidArgument(format!("Invalid NextToken: {token}")))?;
            if now.saturating_sub(cursor.issued_ms) > ITERATOR_TTL_MS {
                return Err(ApiError::ExpiredNextToken(format!(
                    "The NextToken has expired. NextToken: {token}"
                )));
            }
            Some((cursor.after_created_ms, cursor.after_name))
        }
        None => None,
    };
    let limit = input
        .max_results
        .map_or(DEFAULT_MAX_RESULTS, |m| m as usize);
    let mut consumers: Vec<_> = stream.with_meta(|m| m.live_consumers(now).cloned().collect());
    consumers.sort_by(|a, b| (a.created_ms, &a.name).cmp(&(b.created_ms, &b.name)));
    let remaining: Vec<_> = consumers
        .into_iter()
        .filter(|c| {
            after
                .as_ref()
                .is_none_or(|(t, n)| (c.created_ms, &c.name) > (*t, n))
        })
        .collect();
    let page = &remaining[..remaining.len().min(limit)];
    let next_token = match page.last() {
        Some(last) if remaining.len() > page.len() => Some(tokens::seal(
            ctx.signer(),
            &Cursor {
                stream_id: stream.id,
                after_created_ms: last.created_ms,
                after_name: last.name.clone(),
                issued_ms: now,
            },
        )),
        _ => None,
    };
    Ok(ListStreamConsumersOutput {
        consumers: page
            .iter()
            .map(|c| Consumer {
                consumer_name: c.name.clone(),
                consumer_arn: c.arn(&stream.arn),
                consumer_status: c.status(now).to_string(),
                consumer_creation_timestamp: Timestamp(c.created_ms),
            })
            .collect(),
        next_token,
    })
}
