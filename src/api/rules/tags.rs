//! Tag rules, one copy for every operation that adds tags (CreateStream, AddTagsToStream,
//! TagResource, RegisterStreamConsumer): at most 50 tags per resource, AWS's tag alphabet, and
//! the reserved `aws:` prefix. Streams keep one tag store for AddTagsToStream and TagResource.

use crate::api::Ctx;
use crate::error::ApiError;
use std::collections::BTreeMap;

/// Tags a stream or consumer may carry.
pub const MAX_TAGS: usize = 50;

/// AWS's tag alphabet: Unicode letters and digits, white space, and `_ . / = + - @ :`.
fn tag_char_ok(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_./=+-@:".contains(c)
}

/// Checks the characters and prefixes of `tags` about to be added to the `kind` ("stream" or
/// "consumer") called `name`.
pub fn check_tag_characters<'a>(
    ctx: &Ctx,
    kind: &str,
    name: &str,
    tags: impl Iterator<Item = (&'a String, &'a String)>,
) -> Result<(), ApiError> {
    let account = &ctx.config().account_id;
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
    Ok(())
}

/// Checks that the `kind` called `name` may carry `total` tags.
pub fn check_tag_count(ctx: &Ctx, kind: &str, name: &str, total: usize) -> Result<(), ApiError> {
    if total > MAX_TAGS {
        return Err(ApiError::InvalidArgument(format!(
            "Failed to add tags to {kind} {name} under account {} because a given {kind} cannot have more than {MAX_TAGS} tags associated with it.",
            ctx.config().account_id
        )));
    }
    Ok(())
}

/// Checks `tags` about to be added to the `kind` called `name`, which would then carry `total`
/// tags: characters first, then the count, as AWS does.
pub fn check_tags<'a>(
    ctx: &Ctx,
    kind: &str,
    name: &str,
    tags: impl Iterator<Item = (&'a String, &'a String)>,
    total: usize,
) -> Result<(), ApiError> {
    check_tag_characters(ctx, kind, name, tags)?;
    check_tag_count(ctx, kind, name, total)
}

/// Merges `new` into `existing` after checking the result against the rules.
pub fn merge_tags(
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
