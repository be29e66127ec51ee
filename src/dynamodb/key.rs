//! Primary keys: checking a request's key or item against the table's key schema, and the byte
//! key items are stored under.
//!
//! Stored key: `[hash length u32 BE][hash bytes][range bytes]`, where a value's bytes are a
//! string's UTF-8, a number's canonical text or a binary's bytes (the schema fixes the type,
//! so no tag is needed). The length prefix makes every item of one hash key a single byte
//! range, which Query reads; order inside it is not DynamoDB's (Query sorts).

use super::error::DynError;
use super::meta::{KeyAttr, KeySchema};
use super::value::{Item, Value};

pub const MAX_HASH_BYTES: usize = 2048;
pub const MAX_RANGE_BYTES: usize = 1024;

fn value_bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::S(s) => s.as_bytes().to_vec(),
        Value::N(n) => n.to_string().into_bytes(),
        Value::B(b) => b.clone(),
        _ => Vec::new(),
    }
}

fn type_fits(attr: &KeyAttr, v: &Value) -> bool {
    v.type_name() == attr.kind
}

pub fn hash_prefix(hash: &Value) -> Vec<u8> {
    let bytes = value_bytes(hash);
    let mut out = Vec::with_capacity(4 + bytes.len());
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(&bytes);
    out
}

/// The stored key of an item whose key attributes were checked.
pub fn encode(schema: &KeySchema, item: &Item) -> Vec<u8> {
    let mut out = item
        .get(&schema.hash.name)
        .map(hash_prefix)
        .unwrap_or_default();
    if let Some(range) = &schema.range {
        if let Some(v) = item.get(&range.name) {
            out.extend_from_slice(&value_bytes(v));
        }
    }
    out
}

fn check_value(attr: &KeyAttr, v: &Value, is_hash: bool) -> Result<(), DynError> {
    let empty = match v {
        Value::S(s) => s.is_empty(),
        Value::B(b) => b.is_empty(),
        _ => false,
    };
    if empty {
        return Err(DynError::validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {} value. Key: {}",
            if matches!(v, Value::S(_)) { "string" } else { "binary" },
            attr.name
        )));
    }
    let size = value_bytes(v).len();
    if is_hash && size > MAX_HASH_BYTES {
        return Err(DynError::validation(format!(
            "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of{MAX_HASH_BYTES} bytes"
        )));
    }
    if !is_hash && size > MAX_RANGE_BYTES {
        return Err(DynError::validation(format!(
            "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of {MAX_RANGE_BYTES} bytes"
        )));
    }
    Ok(())
}

/// `Key` of GetItem, UpdateItem, DeleteItem: exactly the key attributes, of their types.
pub fn check_key(schema: &KeySchema, key: &Item) -> Result<(), DynError> {
    let expected = 1 + usize::from(schema.range.is_some());
    let mismatch = || DynError::validation("The provided key element does not match the schema");
    if key.len() != expected {
        return Err(mismatch());
    }
    for (attr, is_hash) in schema.attrs() {
        let v = key.get(&attr.name).ok_or_else(mismatch)?;
        if !type_fits(attr, v) {
            return Err(mismatch());
        }
        check_value(attr, v, is_hash)?;
    }
    Ok(())
}

/// An item of PutItem: its key attributes present, of their types.
pub fn check_item_key(schema: &KeySchema, item: &Item) -> Result<(), DynError> {
    for (attr, is_hash) in schema.attrs() {
        let Some(v) = item.get(&attr.name) else {
            return Err(DynError::validation(format!(
                "One or more parameter values were invalid: Missing the key {} in the item",
                attr.name
            )));
        };
        if !type_fits(attr, v) {
            return Err(DynError::validation(format!(
                "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {}",
                attr.name,
                attr.kind,
                v.type_name()
            )));
        }
        check_value(attr, v, is_hash)?;
    }
    Ok(())
}

/// Only the key attributes of `item`.
pub fn key_of(schema: &KeySchema, item: &Item) -> Item {
    schema
        .attrs()
        .filter_map(|(a, _)| item.get(&a.name).map(|v| (a.name.clone(), v.clone())))
        .collect()
}

/// An item's index key attributes, where present, must have the index's types (an item
/// without them is simply absent from the index).
pub fn check_index_keys(table: &super::meta::TableMeta, item: &Item) -> Result<(), DynError> {
    for index in &table.indexes {
        for (attr, is_hash) in index.key.attrs() {
            let Some(v) = item.get(&attr.name) else {
                continue;
            };
            if !type_fits(attr, v) {
                return Err(DynError::validation(format!(
                    "One or more parameter values were invalid: Type mismatch for Index Key {} Expected: {} Actual: {} IndexName: {}",
                    attr.name,
                    attr.kind,
                    v.type_name(),
                    index.name
                )));
            }
            check_value(attr, v, is_hash)?;
        }
    }
    Ok(())
}
