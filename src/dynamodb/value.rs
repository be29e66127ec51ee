//! Attribute values (`{"S": "x"}`, `{"N": "1"}`, …) and items: reading them from a request with
//! DynamoDB's validation messages, writing them back, their billed size, and the encoding
//! the store keeps (the wire JSON, numbers canonical).
//!
//! Invariants of a [`Value`]: numbers are in range ([`Number::check_range`]); sets are
//! non-empty and hold no duplicates (kept in insertion order, as sent).

use super::error::DynError;
use super::number::Number;
use crate::protocol::types::decode_base64;
use aws_smithy_types::base64::encode as b64;
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;

/// An item: attribute name → value. Ordered, so answers are stable.
pub type Item = BTreeMap<String, Value>;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    S(String),
    N(Number),
    B(Vec<u8>),
    Bool(bool),
    Null,
    Ss(Vec<String>),
    Ns(Vec<Number>),
    Bs(Vec<Vec<u8>>),
    M(Item),
    L(Vec<Value>),
}

/// Largest item, in DynamoDB's accounting.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

fn serialization(message: impl Into<String>) -> DynError {
    DynError::serialization(message)
}

impl Value {
    /// The type's name as DynamoDB spells it (`attribute_type`, messages).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::S(_) => "S",
            Value::N(_) => "N",
            Value::B(_) => "B",
            Value::Bool(_) => "BOOL",
            Value::Null => "NULL",
            Value::Ss(_) => "SS",
            Value::Ns(_) => "NS",
            Value::Bs(_) => "BS",
            Value::M(_) => "M",
            Value::L(_) => "L",
        }
    }

    /// Reads one attribute value as a request carries it.
    pub fn from_json(json: &Json) -> Result<Value, DynError> {
        let Json::Object(map) = json else {
            return Err(serialization("Unexpected value type in payload"));
        };
        let mut set = map.iter().filter(|(_, v)| !v.is_null());
        let (tag, body) = match (set.next(), set.next()) {
            (None, _) => {
                return Err(DynError::validation(
                    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
                ))
            }
            (Some(_), Some(_)) => {
                return Err(DynError::validation(
                    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                ))
            }
            (Some(one), None) => one,
        };
        let string = |v: &Json| -> Result<String, DynError> {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| serialization("Unexpected value type in payload"))
        };
        let bytes = |v: &Json| -> Result<Vec<u8>, DynError> {
            let text = string(v)?;
            decode_base64(&text).map_err(serialization)
        };
        let number = |v: &Json| -> Result<Number, DynError> {
            Number::parse(&string(v)?).map_err(DynError::validation)
        };
        let list = |v: &Json| -> Result<Vec<Json>, DynError> {
            v.as_array()
                .cloned()
                .ok_or_else(|| serialization("Unexpected value type in payload"))
        };
        let value = match tag.as_str() {
            "S" => Value::S(string(body)?),
            "N" => Value::N(number(body)?),
            "B" => Value::B(bytes(body)?),
            "BOOL" => Value::Bool(
                body.as_bool()
                    .ok_or_else(|| serialization("Unexpected value type in payload"))?,
            ),
            "NULL" => match body.as_bool() {
                Some(true) => Value::Null,
                Some(false) => {
                    return Err(DynError::validation(
                        "One or more parameter values were invalid: Null attribute value types must have the value of true",
                    ))
                }
                None => return Err(serialization("Unexpected value type in payload")),
            },
            "SS" => {
                let items = list(body)?.iter().map(string).collect::<Result<Vec<_>, _>>()?;
                Value::Ss(checked_set(items, "string")?)
            }
            "NS" => {
                let items = list(body)?.iter().map(number).collect::<Result<Vec<_>, _>>()?;
                Value::Ns(checked_set(items, "number")?)
            }
            "BS" => {
                let items = list(body)?.iter().map(bytes).collect::<Result<Vec<_>, _>>()?;
                Value::Bs(checked_set(items, "binary")?)
            }
            "M" => {
                let Json::Object(members) = body else {
                    return Err(serialization("Unexpected value type in payload"));
                };
                Value::M(item_from_map(members)?)
            }
            "L" => Value::L(
                list(body)?
                    .iter()
                    .map(Value::from_json)
                    .collect::<Result<_, _>>()?,
            ),
            other => {
                return Err(serialization(format!(
                    "Unrecognized field name: {other}"
                )))
            }
        };
        Ok(value)
    }

    pub fn to_json(&self) -> Json {
        match self {
            Value::S(s) => json!({ "S": s }),
            Value::N(n) => json!({ "N": n.to_string() }),
            Value::B(b) => json!({ "B": b64(b) }),
            Value::Bool(b) => json!({ "BOOL": b }),
            Value::Null => json!({ "NULL": true }),
            Value::Ss(v) => json!({ "SS": v }),
            Value::Ns(v) => json!({ "NS": v.iter().map(Number::to_string).collect::<Vec<_>>() }),
            Value::Bs(v) => json!({ "BS": v.iter().map(b64).collect::<Vec<_>>() }),
            Value::M(m) => json!({ "M": item_to_json(m) }),
            Value::L(l) => json!({ "L": l.iter().map(Value::to_json).collect::<Vec<_>>() }),
        }
    }

    /// Bytes DynamoDB bills for the value (its own accounting, not this encoding's).
    pub fn size(&self) -> usize {
        match self {
            Value::S(s) => s.len(),
            Value::N(n) => number_size(n),
            Value::B(b) => b.len(),
            Value::Bool(_) | Value::Null => 1,
            Value::Ss(v) => v.iter().map(String::len).sum(),
            Value::Ns(v) => v.iter().map(number_size).sum(),
            Value::Bs(v) => v.iter().map(Vec::len).sum(),
            Value::M(m) => 3 + m.iter().map(|(k, v)| 1 + k.len() + v.size()).sum::<usize>(),
            Value::L(l) => 3 + l.iter().map(|v| 1 + v.size()).sum::<usize>(),
        }
    }
}

/// About one byte per two significant digits, plus one (DynamoDB's documented estimate).
fn number_size(n: &Number) -> usize {
    let digits = n.to_string().chars().filter(char::is_ascii_digit).count();
    digits.div_ceil(2) + 1
}

fn checked_set<T: PartialEq>(items: Vec<T>, kind: &str) -> Result<Vec<T>, DynError> {
    if items.is_empty() {
        return Err(DynError::validation(format!(
            "One or more parameter values were invalid: An {kind} set  may not be empty"
        )));
    }
    for (i, a) in items.iter().enumerate() {
        if items[..i].contains(a) {
            return Err(DynError::validation("Input collection contains duplicates"));
        }
    }
    Ok(items)
}

/// Reads an item (or a key, or `ExpressionAttributeValues`) from its JSON map.
pub fn item_from_map(map: &Map<String, Json>) -> Result<Item, DynError> {
    map.iter()
        .map(|(k, v)| Ok((k.clone(), Value::from_json(v)?)))
        .collect()
}

pub fn item_to_json(item: &Item) -> Json {
    Json::Object(item.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
}

/// Bytes DynamoDB bills for an item.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + v.size()).sum()
}

/// The stored form: the wire JSON.
pub fn encode_item(item: &Item) -> Vec<u8> {
    serde_json::to_vec(&item_to_json(item)).unwrap_or_default()
}

/// Reads back what [`encode_item`] wrote; damage is an internal error.
pub fn decode_item(bytes: &[u8]) -> Result<Item, DynError> {
    let json: Json = serde_json::from_slice(bytes)
        .map_err(|e| DynError::internal(format!("stored item unreadable: {e}")))?;
    match &json {
        Json::Object(map) => item_from_map(map),
        _ => Err(DynError::internal("stored item is not a map")),
    }
}
