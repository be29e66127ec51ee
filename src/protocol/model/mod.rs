//! Typed requests and responses of the Kinesis API (2013-12-02), grouped by family, with the
//! model's shape constraints. Every input member is optional at the serde level so that a
//! missing required member is reported by [`Validate`] in Coral's words rather than as a
//! serialization error. This module holds what the families share and re-exports them all.

mod consumers;
mod records;
mod settings;
mod shards;
mod streams;
mod tags;

pub use consumers::*;
pub use records::*;
pub use settings::*;
pub use shards::*;
pub use streams::*;
pub use tags::*;

// What the families use, imported once here (each family does `use super::*`).
use super::types::{Blob, Timestamp};
use super::validate::{
    Coral, CONSUMER_ARN, HASH_KEY, NAME, RESOURCE_ARN, SEQUENCE_NUMBER, STREAM_ARN,
};
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Shape validation from the API model; business rules live in `api/`.
pub trait Validate {
    fn validate(&self) -> Result<(), ApiError>;
}

/// An operation with no output members answers with an empty body, as AWS does.
#[derive(Debug, Default, Serialize)]
pub struct Empty {}

pub(crate) fn stream_ref(c: &mut Coral, name: &Option<String>, arn: &Option<String>) {
    c.string("streamName", name.as_deref(), 1, 128, NAME);
    c.string("streamARN", arn.as_deref(), 1, 2048, STREAM_ARN);
}

fn shard_id(c: &mut Coral, member: &str, v: &Option<String>) {
    c.string(member, v.as_deref(), 1, 128, NAME);
}

fn tag_map(c: &mut Coral, member: &str, tags: &Option<BTreeMap<String, String>>, min: usize) {
    if let Some(tags) = tags {
        let shown = format!(
            "{{{}}}",
            tags.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        c.count(member, &shown, Some(tags.len()), min, 200);
        for (k, v) in tags {
            c.length(&format!("{member}.{k}.member.key"), Some(k), 1, 128);
            c.length(&format!("{member}.{k}.member.value"), Some(v), 0, 256);
        }
    }
}

/// A required `TagKeys` list: 1–50 keys of 1–128 characters.
pub(crate) fn tag_keys(c: &mut Coral, keys: &Option<Vec<String>>) {
    c.required("tagKeys", keys);
    if let Some(keys) = keys {
        c.list_count("tagKeys", keys, 1, 50);
        for (i, k) in keys.iter().enumerate() {
            c.length(&format!("tagKeys.{}.member", i + 1), Some(k), 1, 128);
        }
    }
}

fn consumer_ref(
    c: &mut Coral,
    stream_arn: &Option<String>,
    name: &Option<String>,
    arn: &Option<String>,
) {
    c.string("streamARN", stream_arn.as_deref(), 1, 2048, STREAM_ARN);
    c.string("consumerName", name.as_deref(), 1, 128, NAME);
    c.string("consumerARN", arn.as_deref(), 1, 2048, CONSUMER_ARN);
}

fn resource_arn(c: &mut Coral, arn: &Option<String>) {
    c.required("resourceARN", arn);
    c.string("resourceARN", arn.as_deref(), 1, 2048, RESOURCE_ARN);
}
