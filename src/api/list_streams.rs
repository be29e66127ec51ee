use super::rules::paging as tokens;
use super::rules::shapes::stream_mode;
use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{ListStreamsInput, ListStreamsOutput, StreamSummary};
use crate::protocol::types::Timestamp;
use serde::{Deserialize, Serialize};

/// AWS answers at most 100 streams per call, whatever the Limit.
const MAX_PAGE: usize = 100;

#[derive(Serialize, Deserialize)]
struct Cursor {
    after: String,
}

pub async fn list_streams(
    ctx: &Ctx,
    input: ListStreamsInput,
) -> Result<ListStreamsOutput, ApiError> {
    let after = match (&input.next_token, &input.exclusive_start_stream_name) {
        (Some(_), Some(_)) => {
            return Err(ApiError::InvalidArgument(
                "NextToken and ExclusiveStartStreamName cannot be provided together.".into(),
            ))
        }
        (Some(token), None) => Some(
            tokens::open::<Cursor>(ctx.signer(), token)
                .ok_or_else(|| ApiError::InvalidArgument(format!("Invalid NextToken: {token}")))?
                .after,
        ),
        (None, start) => start.clone(),
    };
    let limit = input.limit.map_or(MAX_PAGE, |l| (l as usize).min(MAX_PAGE));
    let now = ctx.now();
    let streams: Vec<_> = ctx
        .list()
        .into_iter()
        .filter(|s| after.as_deref().is_none_or(|a| s.name.as_str() > a))
        .collect();
    let page = &streams[..streams.len().min(limit)];
    let has_more = streams.len() > page.len();
    let summaries: Vec<StreamSummary> = page
        .iter()
        .map(|s| {
            s.with_meta(|m| StreamSummary {
                stream_name: m.name.clone(),
                stream_arn: s.arn.clone(),
                stream_status: m.status(now).to_string(),
                stream_mode_details: stream_mode(m),
                stream_creation_timestamp: Timestamp(m.created_ms),
            })
        })
        .collect();
    let next_token = match (has_more, page.last()) {
        (true, Some(last)) => Some(tokens::seal(
            ctx.signer(),
            &Cursor {
                after: last.name.clone(),
            },
        )),
        _ => None,
    };
    Ok(ListStreamsOutput {
        stream_names: summaries.iter().map(|s| s.stream_name.clone()).collect(),
        has_more_streams: has_more,
        next_token,
        stream_summaries: summaries,
    })
}
