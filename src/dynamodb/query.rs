//! Query: the key condition split into the hash key and the range condition, candidates in
//! range-key order, and paging from `ExclusiveStartKey`; the page itself is `read.rs`'s.

use super::error::DynError;
use super::expr::eval::{holds, order};
use super::expr::parser::{self, Kind};
use super::expr::{Comparator, Condition, Operand, Path, Step};
use super::input::Input;
use super::key;
use super::meta::KeySchema;
use super::read::{legacy_filter, reading, STORE_PAGE};
use super::value::{decode_item, Item, Value};
use crate::streams::Registry;
use serde_json::Value as Json;
use std::cmp::Ordering;

/// The key condition split into the hash value and the range condition, checked against the
/// schema it reads.
fn key_parts(
    condition: &Condition,
    schema: &KeySchema,
) -> Result<(Value, Option<Condition>), DynError> {
    let mut parts = Vec::new();
    flatten_and(condition, &mut parts)?;
    let unsupported = || DynError::validation("Query key condition not supported");
    let attribute_of = |c: &Condition| -> Option<String> {
        let operand = match c {
            Condition::Compare(o, _, _)
            | Condition::Between(o, _, _)
            | Condition::BeginsWith(o, _) => o,
            _ => return None,
        };
        match operand {
            Operand::Path(p) => match p.as_slice() {
                [Step::Attr(name)] => Some(name.clone()),
                _ => None,
            },
            _ => None,
        }
    };
    let mut hash = None;
    let mut range = None;
    for part in parts {
        let name = attribute_of(&part).ok_or_else(unsupported)?;
        if name == schema.hash.name {
            match &part {
                Condition::Compare(_, Comparator::Eq, Operand::Value(v)) if hash.is_none() => {
                    check_type(v, &schema.hash.kind)?;
                    hash = Some(v.clone());
                }
                _ => return Err(unsupported()),
            }
        } else if schema.range.as_ref().is_some_and(|r| r.name == name) && range.is_none() {
            let kind = &schema
                .range
                .as_ref()
                .map(|r| r.kind.clone())
                .unwrap_or_default();
            match &part {
                Condition::Compare(_, Comparator::Ne, _) => return Err(unsupported()),
                Condition::Compare(_, _, Operand::Value(v))
                | Condition::BeginsWith(_, Operand::Value(v)) => check_type(v, kind)?,
                Condition::Between(_, Operand::Value(a), Operand::Value(b)) => {
                    check_type(a, kind)?;
                    check_type(b, kind)?;
                }
                _ => return Err(unsupported()),
            }
            range = Some(part);
        } else {
            return Err(unsupported());
        }
    }
    let hash = hash.ok_or_else(|| {
        DynError::validation(format!(
            "Query condition missed key schema element: {}",
            schema.hash.name
        ))
    })?;
    Ok((hash, range))
}

fn check_type(v: &Value, kind: &str) -> Result<(), DynError> {
    if v.type_name() != kind {
        return Err(DynError::validation("One or more parameter values were invalid: Condition parameter type does not match schema type"));
    }
    Ok(())
}

fn flatten_and(c: &Condition, out: &mut Vec<Condition>) -> Result<(), DynError> {
    match c {
        Condition::And(a, b) => {
            flatten_and(a, out)?;
            flatten_and(b, out)
        }
        Condition::Or(..) | Condition::Not(..) => Err(DynError::validation(
            "Invalid operator used in KeyConditionExpression: ".to_string()
                + if matches!(c, Condition::Or(..)) {
                    "OR"
                } else {
                    "NOT"
                },
        )),
        other => {
            out.push(other.clone());
            Ok(())
        }
    }
}

pub async fn query(registry: &Registry, input: &Input) -> Result<Json, DynError> {
    let (reading, keys) = reading(registry, input, "QueryFilter", |table, index, ph| {
        input.check_not_mixed(&["KeyConditions"], &["KeyConditionExpression"])?;
        if let Some(text) = input.str("KeyConditionExpression")? {
            return parser::condition(text, Kind::KeyCondition, ph).map(Some);
        }
        let Some(conditions) = input.object("KeyConditions")? else {
            return Err(DynError::validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."));
        };
        let _ = (table, index);
        legacy_filter(conditions, None)
    })
    .await?;
    let schema = reading
        .index
        .as_ref()
        .map(|i| i.key.clone())
        .unwrap_or_else(|| reading.table.key.clone());
    let condition = keys.ok_or_else(|| DynError::validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."))?;
    let (hash, range_condition) = key_parts(&condition, &schema)?;
    if let Some(filter) = &reading.filter {
        let keys = reading.table.key.attrs().chain(schema.attrs());
        for (attr, _) in keys {
            if names_attribute(filter, &attr.name) {
                return Err(DynError::validation(format!(
                    "Filter Expression can only contain non-primary key attributes: Primary key attribute: {}",
                    attr.name
                )));
            }
        }
    }
    let store = registry.dynamodb.store()?;
    let prefix = if reading.index.is_none() {
        key::hash_prefix(&hash)
    } else {
        Vec::new()
    };
    let mut matching: Vec<(Vec<u8>, Item)> = Vec::new();
    let mut after = None;
    loop {
        let batch = store
            .scan_items(
                &reading.table.name,
                prefix.clone(),
                after.clone(),
                STORE_PAGE,
            )
            .await?;
        let Some((last, _)) = batch.last() else { break };
        after = Some(last.clone());
        for (stored_key, doc) in batch {
            let item = decode_item(&doc)?;
            let in_index = schema
                .attrs()
                .all(|(a, _)| item.get(&a.name).is_some_and(|v| v.type_name() == a.kind));
            if !in_index || item.get(&schema.hash.name) != Some(&hash) {
                continue;
            }
            if let Some(rc) = &range_condition {
                if !holds(&item, rc, "KeyConditionExpression")? {
                    continue;
                }
            }
            matching.push((stored_key, item));
        }
    }
    let range_of = |item: &Item| {
        schema
            .range
            .as_ref()
            .and_then(|r| item.get(&r.name).cloned())
    };
    let position =
        |range: &Option<Value>, stored: &[u8], other: (&Option<Value>, &[u8])| -> Ordering {
            let by_range = match (range, other.0) {
                (Some(a), Some(b)) => order(a, b).unwrap_or(Ordering::Equal),
                _ => Ordering::Equal,
            };
            by_range.then_with(|| stored.cmp(other.1))
        };
    matching.sort_by(|(ka, a), (kb, b)| position(&range_of(a), ka, (&range_of(b), kb)));
    let forward = input.bool("ScanIndexForward")?.unwrap_or(true);
    if !forward {
        matching.reverse();
    }
    if let Some(start) = &reading.start {
        let start_range = range_of(start);
        let start_key = key::encode(&reading.table.key, &key::key_of(&reading.table.key, start));
        matching.retain(|(k, item)| {
            let o = position(&range_of(item), k, (&start_range, &start_key));
            if forward {
                o.is_gt()
            } else {
                o.is_lt()
            }
        });
    }
    reading.page(matching.into_iter().map(|(_, item)| Ok(item)))
}

/// Whether `condition` reads the top-level attribute `name` anywhere.
fn names_attribute(condition: &Condition, name: &str) -> bool {
    let in_path = |p: &Path| matches!(p.first(), Some(Step::Attr(a)) if a == name);
    let in_operand = |o: &Operand| match o {
        Operand::Path(p) | Operand::Size(p) => in_path(p),
        _ => false,
    };
    match condition {
        Condition::Compare(a, _, b) | Condition::BeginsWith(a, b) | Condition::Contains(a, b) => {
            in_operand(a) || in_operand(b)
        }
        Condition::Between(a, b, c) => in_operand(a) || in_operand(b) || in_operand(c),
        Condition::In(a, list) => in_operand(a) || list.iter().any(in_operand),
        Condition::And(a, b) | Condition::Or(a, b) => {
            names_attribute(a, name) || names_attribute(b, name)
        }
        Condition::Not(a) => names_attribute(a, name),
        Condition::Exists(p) | Condition::NotExists(p) | Condition::Type(p, _) => in_path(p),
    }
}
