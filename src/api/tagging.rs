//! Tag rules shared by TagResource, RegisterStreamConsumer and friends: at most 50 tags per
//! resource, AWS's tag alphabet, and the reserved `aws:` prefix. Streams keep one tag store
//! for both AddTagsToStream and TagResource.

use super::add_tags_to_stream::tag_char_ok;
use super::create_stream::MAX_TAGS;
use super::Ctx;
use crate::error::ApiError;
use std::collections::BTreeMap;

/// Checks `tags` about to be added to the `kind` ("stream" or "consumer") called `name`,
/// which would then carry `total` tags.
pub(crate) fn check_tags<'a>(
    ctx: &Ctx,
    kind: &str,
    name: &str,
    tags: impl Iterator<Item = (&'a String, &'a String)>,
    total: usize,
) -> Result<(), ApiError> {
    let account = &ctx.config.account_id;
    for (k, v) in tags {
        if !k.chars().chain(v.chars()).all(tag_char_ok) {
            return Err(ApiError::InvalidArgument(format!(
                "Failed to add tags to {kind} {name} under account {account} because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@',':'."
            )));
        }
        if k.starts_with("aws:") {
            return Err(ApiError::InvalidArgument(format!(
                "Failed to add tags to {kind} {name} under account {account} because the tag key prefix 'aws:' is reserved for AWS use."
            )));
        }
    }
    if total > MAX_TAGS {
        return Err(ApiError::InvalidArgument(format!(
            "Failed to add tags to {kind} {name} under account {account} because a given {kind} cannot have more than {MAX_TAGS} tags associated with it."
        )));
    }
    Ok(())
}

/// Merges `new` into `existing` after checking the result against the rules.
pub(crate) fn merge_tags(
    ctx: &Ctx,
    kind: &str,
    name: &str,
    existing: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ApiError> {
    let mut merged = existing.clone();
    merged.extend(new.iter().map(|(k, v)| (k.clone(), v.clone())));
    check_tags(ctx, kind, name, new.iter(), merged.len())?;
    Ok(merged)
}
