//! Evaluating conditions against an item, and reading document paths.
//!
//! DynamoDB's rules, which a condition never breaks by raising an error about the item (only
//! about the expression): a comparison with a missing attribute is false; values of different
//! types are unequal and unordered (`<>` is true, `<` false); ordering exists only within
//! N, S and B; `size` of a type without one makes the comparison false.

use super::{Comparator, Condition, Operand, Path, Step};
use crate::dynamodb::error::DynError;
use crate::dynamodb::number::Number;
use crate::dynamodb::value::{Item, Value};
use std::cmp::Ordering;

/// The value at `path`, if there is one.
pub fn resolve<'v>(item: &'v Item, path: &Path) -> Option<&'v Value> {
    let (first, rest) = path.split_first()?;
    let Step::Attr(name) = first else {
        return None;
    };
    let mut at = item.get(name)?;
    for step in rest {
        at = match (step, at) {
            (Step::Attr(name), Value::M(map)) => map.get(name)?,
            (Step::Index(i), Value::L(list)) => list.get(*i)?,
            _ => return None,
        };
    }
    Some(at)
}

/// An operand's value in `item` (`None`: a missing attribute, or a size without meaning).
pub fn operand(item: &Item, op: &Operand) -> Option<Value> {
    match op {
        Operand::Path(p) => resolve(item, p).cloned(),
        Operand::Value(v) => Some(v.clone()),
        Operand::Size(p) => size(resolve(item, p)?).map(|n| Value::N(Number::from_count(n))),
        // Only update expressions carry the others; `update.rs` computes them.
        _ => None,
    }
}

fn size(v: &Value) -> Option<usize> {
    Some(match v {
        Value::S(s) => s.chars().count(),
        Value::B(b) => b.len(),
        Value::Ss(s) => s.len(),
        Value::Ns(s) => s.len(),
        Value::Bs(s) => s.len(),
        Value::M(m) => m.len(),
        Value::L(l) => l.len(),
        Value::N(_) | Value::Bool(_) | Value::Null => return None,
    })
}

/// Order of two scalar values of the same orderable type.
pub fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::N(x), Value::N(y)) => Some(x.cmp(y)),
        (Value::S(x), Value::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::B(x), Value::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Equality as DynamoDB means it: numbers numerically, sets regardless of order.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Ss(x), Value::Ss(y)) => same_members(x, y),
        (Value::Ns(x), Value::Ns(y)) => same_members(x, y),
        (Value::Bs(x), Value::Bs(y)) => same_members(x, y),
        (Value::M(x), Value::M(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        (Value::L(x), Value::L(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| equal(v, w))
        }
        _ => a == b,
    }
}

fn same_members<T: PartialEq>(x: &[T], y: &[T]) -> bool {
    x.len() == y.len() && x.iter().all(|v| y.contains(v))
}

pub fn compare(a: Option<&Value>, comparator: Comparator, b: Option<&Value>) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return false;
    };
    match comparator {
        Comparator::Eq => equal(a, b),
        Comparator::Ne => !equal(a, b),
        _ => match order(a, b) {
            None => false,
            Some(o) => match comparator {
                Comparator::Lt => o.is_lt(),
                Comparator::Le => o.is_le(),
                Comparator::Gt => o.is_gt(),
                _ => o.is_ge(),
            },
        },
    }
}

pub fn begins_with(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(Value::S(x)), Some(Value::S(y))) => x.starts_with(y.as_str()),
        (Some(Value::B(x)), Some(Value::B(y))) => x.starts_with(y),
        _ => false,
    }
}

fn contains(a: Option<&Value>, b: Option<&Value>) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return false;
    };
    match (a, b) {
        (Value::S(x), Value::S(y)) => x.contains(y.as_str()),
        (Value::B(x), Value::B(y)) => y.is_empty() || x.windows(y.len()).any(|w| w == y),
        (Value::Ss(x), Value::S(y)) => x.contains(y),
        (Value::Ns(x), Value::N(y)) => x.contains(y),
        (Value::Bs(x), Value::B(y)) => x.contains(y),
        (Value::L(x), y) => x.iter().any(|v| equal(v, y)),
        _ => false,
    }
}

const TYPE_NAMES: [&str; 10] = ["B", "BOOL", "BS", "L", "M", "N", "NS", "NULL", "S", "SS"];

/// Whether `item` (empty when there is none) satisfies `condition`. Errors only for what the
/// expression itself gets wrong (an unknown type name, an upside-down BETWEEN).
pub fn holds(item: &Item, condition: &Condition, kind: &str) -> Result<bool, DynError> {
    Ok(match condition {
        Condition::Compare(a, c, b) => {
            compare(operand(item, a).as_ref(), *c, operand(item, b).as_ref())
        }
        Condition::Between(v, low, high) => {
            let (v, low, high) = (operand(item, v), operand(item, low), operand(item, high));
            if let (Some(l), Some(h)) = (&low, &high) {
                if order(l, h) == Some(Ordering::Greater) {
                    return Err(DynError::validation(format!(
                        "Invalid {kind}: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {}, upper bound operand: AttributeValue: {}",
                        short(l),
                        short(h)
                    )));
                }
            }
            compare(v.as_ref(), Comparator::Ge, low.as_ref())
                && compare(v.as_ref(), Comparator::Le, high.as_ref())
        }
        Condition::In(v, list) => {
            let v = operand(item, v);
            list.iter()
                .any(|o| compare(v.as_ref(), Comparator::Eq, operand(item, o).as_ref()))
        }
        Condition::And(a, b) => holds(item, a, kind)? && holds(item, b, kind)?,
        Condition::Or(a, b) => holds(item, a, kind)? || holds(item, b, kind)?,
        Condition::Not(a) => !holds(item, a, kind)?,
        Condition::Exists(p) => resolve(item, p).is_some(),
        Condition::NotExists(p) => resolve(item, p).is_none(),
        Condition::Type(p, t) => {
            let wanted = match operand(item, t) {
                Some(Value::S(s)) => s,
                _ => return Ok(false),
            };
            if !TYPE_NAMES.contains(&wanted.as_str()) {
                return Err(DynError::validation(format!(
                    "Invalid {kind}: Invalid attribute type name found; type: {wanted}, valid types: {{ B,BOOL,BS,L,M,N,NS,NULL,S,SS }}"
                )));
            }
            resolve(item, p).is_some_and(|v| v.type_name() == wanted)
        }
        Condition::BeginsWith(a, b) => {
            begins_with(operand(item, a).as_ref(), operand(item, b).as_ref())
        }
        Condition::Contains(a, b) => contains(operand(item, a).as_ref(), operand(item, b).as_ref()),
    })
}

/// `{N:5}`, as DynamoDB quotes a value in messages.
fn short(v: &Value) -> String {
    let json = v.to_json();
    let (tag, body) = json
        .as_object()
        .and_then(|m| m.iter().next())
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap_or_default();
    let body = body
        .as_str()
        .map(str::to_string)
        .unwrap_or(body.to_string());
    format!("{{{tag}:{body}}}")
}
