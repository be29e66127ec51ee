//! Applying update actions (from an update expression, or translated from the legacy
//! `AttributeUpdates`) to an item.
//!
//! All operands are computed against the item as it was before the update (DynamoDB's rule),
//! then the actions are applied in order. Two actions may not touch overlapping paths.

use super::eval::{operand as read_operand, resolve};
use super::{path_text, Action, Operand, Path, Step};
use crate::dynamodb::error::DynError;
use crate::dynamodb::value::{Item, Value};

fn wrong_type() -> DynError {
    DynError::validation("An operand in the update expression has an incorrect data type")
}

fn invalid_path() -> DynError {
    DynError::validation(
        "The document path provided in the update expression is invalid for update",
    )
}

/// Refuses actions whose paths overlap (one is a prefix of the other, or they are equal).
pub fn check_overlaps(actions: &[Action]) -> Result<(), DynError> {
    let paths: Vec<&Path> = actions.iter().map(action_path).collect();
    for (i, a) in paths.iter().enumerate() {
        for b in &paths[..i] {
            let shorter = a.len().min(b.len());
            if a[..shorter] == b[..shorter] {
                let kind = if a.len() == b.len() {
                    "overlap"
                } else {
                    "conflict"
                };
                let (one, two) = (path_text(b), path_text(a));
                return Err(DynError::validation(if kind == "overlap" {
                    format!("Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {one}, path two: {two}")
                } else {
                    format!("Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: {one}, path two: {two}")
                }));
            }
        }
    }
    Ok(())
}

pub fn action_path(action: &Action) -> &Path {
    match action {
        Action::Set(p, _) | Action::Remove(p) | Action::Add(p, _) | Action::Delete(p, _) => p,
    }
}

/// Checks what can be checked before the item is read: ADD takes a number or a set, DELETE a
/// set.
pub fn check_operand_types(actions: &[Action]) -> Result<(), DynError> {
    for action in actions {
        let (operator, value) = match action {
            Action::Add(_, v) => ("ADD", v),
            Action::Delete(_, v) => ("DELETE", v),
            _ => continue,
        };
        let fits = match value {
            Value::Ss(_) | Value::Ns(_) | Value::Bs(_) => true,
            Value::N(_) => operator == "ADD",
            _ => false,
        };
        if !fits {
            let type_name = match value {
                Value::S(_) => "STRING",
                Value::N(_) => "NUMBER",
                Value::B(_) => "BINARY",
                Value::Bool(_) => "BOOLEAN",
                Value::Null => "NULL",
                Value::M(_) => "MAP",
                Value::L(_) => "LIST",
                _ => "SET",
            };
            return Err(DynError::validation(format!(
                "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: {operator}, operand type: {type_name}"
            )));
        }
    }
    Ok(())
}

/// The value a SET gives, computed against the item before the update.
fn compute(item: &Item, op: &Operand) -> Result<Value, DynError> {
    let missing = || {
        DynError::validation(
            "The provided expression refers to an attribute that does not exist in the item",
        )
    };
    match op {
        Operand::IfNotExists(path, fallback) => match resolve(item, path) {
            Some(v) => Ok(v.clone()),
            None => compute(item, fallback),
        },
        Operand::ListAppend(a, b) => match (compute(item, a)?, compute(item, b)?) {
            (Value::L(mut x), Value::L(y)) => {
                x.extend(y);
                Ok(Value::L(x))
            }
            _ => Err(wrong_type()),
        },
        Operand::Plus(a, b) | Operand::Minus(a, b) => {
            let (Value::N(x), Value::N(y)) = (compute(item, a)?, compute(item, b)?) else {
                return Err(wrong_type());
            };
            let result = if matches!(op, Operand::Plus(..)) {
                x.add(&y)
            } else {
                x.sub(&y)
            };
            result.check_range().map_err(DynError::validation)?;
            Ok(Value::N(result))
        }
        other => read_operand(item, other).ok_or_else(missing),
    }
}

/// Applies `actions` to `item` (the stored item, or an empty one).
pub fn apply(item: &Item, actions: &[Action]) -> Result<Item, DynError> {
    // Operands first, all against the old item.
    let mut planned = Vec::with_capacity(actions.len());
    for action in actions {
        planned.push(match action {
            Action::Set(p, op) => (p, Some(compute(item, op)?), action),
            Action::Add(p, v) | Action::Delete(p, v) => (p, Some(v.clone()), action),
            Action::Remove(p) => (p, None, action),
        });
    }
    let mut out = item.clone();
    for (path, value, action) in planned {
        match (action, value) {
            (Action::Set(..), Some(v)) => set(&mut out, path, v)?,
            (Action::Remove(_), _) => remove(&mut out, path),
            (Action::Add(..), Some(v)) => {
                let merged = match (resolve(&out, path), v) {
                    (None, v) => v,
                    (Some(Value::N(x)), Value::N(y)) => {
                        let sum = x.add(&y);
                        sum.check_range().map_err(DynError::validation)?;
                        Value::N(sum)
                    }
                    (Some(Value::Ss(x)), Value::Ss(y)) => Value::Ss(union(x, y)),
                    (Some(Value::Ns(x)), Value::Ns(y)) => Value::Ns(union(x, y)),
                    (Some(Value::Bs(x)), Value::Bs(y)) => Value::Bs(union(x, y)),
                    _ => return Err(wrong_type()),
                };
                set(&mut out, path, merged)?;
            }
            (Action::Delete(..), Some(v)) => {
                let left = match (resolve(&out, path), v) {
                    (None, _) => continue,
                    (Some(Value::Ss(x)), Value::Ss(y)) => difference(x, &y).map(Value::Ss),
                    (Some(Value::Ns(x)), Value::Ns(y)) => difference(x, &y).map(Value::Ns),
                    (Some(Value::Bs(x)), Value::Bs(y)) => difference(x, &y).map(Value::Bs),
                    _ => return Err(wrong_type()),
                };
                match left {
                    Some(v) => set(&mut out, path, v)?,
                    None => remove(&mut out, path),
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

fn union<T: Clone + PartialEq>(x: &[T], y: Vec<T>) -> Vec<T> {
    let mut out = x.to_vec();
    for v in y {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// What is left of `x` without `y`; `None` when nothing is (the attribute goes).
fn difference<T: Clone + PartialEq>(x: &[T], y: &[T]) -> Option<Vec<T>> {
    let left: Vec<T> = x.iter().filter(|v| !y.contains(v)).cloned().collect();
    (!left.is_empty()).then_some(left)
}

/// The container that holds the last step of `path`, if the path leads to one.
fn parent_mut<'i>(item: &'i mut Item, path: &[Step]) -> Option<&'i mut Value> {
    let (Step::Attr(first), rest) = path.split_first()? else {
        return None;
    };
    let mut at = item.get_mut(first)?;
    for step in rest {
        at = match (step, at) {
            (Step::Attr(name), Value::M(map)) => map.get_mut(name)?,
            (Step::Index(i), Value::L(list)) => list.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(at)
}

fn set(item: &mut Item, path: &Path, value: Value) -> Result<(), DynError> {
    match path.as_slice() {
        [Step::Attr(name)] => {
            item.insert(name.clone(), value);
            Ok(())
        }
        [parent @ .., last] => match (parent_mut(item, parent), last) {
            (Some(Value::M(map)), Step::Attr(name)) => {
                map.insert(name.clone(), value);
                Ok(())
            }
            (Some(Value::L(list)), Step::Index(i)) => {
                // Past the end: appended, as DynamoDB does.
                match list.get_mut(*i) {
                    Some(slot) => *slot = value,
                    None => list.push(value),
                }
                Ok(())
            }
            _ => Err(invalid_path()),
        },
        [] => Err(invalid_path()),
    }
}

fn remove(item: &mut Item, path: &Path) {
    match path.as_slice() {
        [Step::Attr(name)] => {
            item.remove(name);
        }
        [parent @ .., last] => match (parent_mut(item, parent), last) {
            (Some(Value::M(map)), Step::Attr(name)) => {
                map.remove(name);
            }
            (Some(Value::L(list)), Step::Index(i)) if *i < list.len() => {
                list.remove(*i);
            }
            _ => {}
        },
        [] => {}
    }
}
