//! The legacy conditional parameters, translated into the expression trees: `Expected` (with
//! `ConditionalOperator`) into a [`Condition`], `AttributeUpdates` into update [`Action`]s, and
//! `QueryFilter`/`ScanFilter`-style comparison operators on the way.
//!
//! One difference from expressions is DynamoDB's: in `Expected`, `NE` holds for a missing
//! attribute (`attribute <> :v` does not).

use super::error::DynError;
use super::expr::{Action, Comparator, Condition, Operand, Step};
use super::value::Value;
use serde_json::{Map, Value as Json};

fn invalid(message: impl std::fmt::Display) -> DynError {
    DynError::validation(format!(
        "One or more parameter values were invalid: {message}"
    ))
}

fn and_or(conditions: Vec<Condition>, or: bool) -> Option<Condition> {
    conditions.into_iter().reduce(|a, b| {
        if or {
            Condition::Or(Box::new(a), Box::new(b))
        } else {
            Condition::And(Box::new(a), Box::new(b))
        }
    })
}

/// `Expected` → one condition (`None` for an empty map).
pub fn expected(
    expected: &Map<String, Json>,
    conditional_operator: Option<&str>,
) -> Result<Option<Condition>, DynError> {
    let mut conditions = Vec::new();
    for (name, spec) in expected {
        let path = vec![Step::Attr(name.clone())];
        let attr = Operand::Path(path.clone());
        let value = spec
            .get("Value")
            .filter(|v| !v.is_null())
            .map(Value::from_json)
            .transpose()?;
        let list = match spec.get("AttributeValueList").and_then(Json::as_array) {
            Some(l) => l
                .iter()
                .map(Value::from_json)
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        let exists = spec.get("Exists").and_then(Json::as_bool);
        let operator = spec.get("ComparisonOperator").and_then(Json::as_str);
        let condition = match (operator, exists, value) {
            (Some(op), None, value) => {
                let args: Vec<Value> = value.into_iter().chain(list).collect();
                comparison(name, op, attr, args)?
            }
            (Some(_), Some(_), _) => {
                return Err(invalid(format!(
                    "Exists and ComparisonOperator cannot be used together for Attribute: {name}"
                )))
            }
            (None, Some(false), Some(_)) => {
                return Err(invalid(format!(
                    "Value cannot be used when Exists is false for Attribute: {name}"
                )))
            }
            (None, Some(false), None) => Condition::NotExists(path),
            (None, _, Some(v)) => Condition::Compare(attr, Comparator::Eq, Operand::Value(v)),
            (None, _, None) => {
                return Err(invalid(format!(
                    "Exists is set to TRUE for attribute ({name}), Value must also be set"
                )))
            }
        };
        conditions.push(condition);
    }
    Ok(and_or(conditions, conditional_operator == Some("OR")))
}

/// One `ComparisonOperator` with its arguments.
pub fn comparison(
    name: &str,
    op: &str,
    attr: Operand,
    args: Vec<Value>,
) -> Result<Condition, DynError> {
    let want = |n: usize| -> Result<(), DynError> {
        if args.len() != n {
            return Err(invalid(format!(
                "Invalid number of argument(s) for the {op} ComparisonOperator"
            )));
        }
        Ok(())
    };
    let Operand::Path(path) = attr.clone() else {
        return Err(invalid("bad attribute"));
    };
    let value = |i: usize| Operand::Value(args[i].clone());
    let compare = |c: Comparator| Condition::Compare(attr.clone(), c, value(0));
    Ok(match op {
        "EQ" => {
            want(1)?;
            compare(Comparator::Eq)
        }
        "NE" => {
            want(1)?;
            Condition::Or(
                Box::new(Condition::NotExists(path)),
                Box::new(compare(Comparator::Ne)),
            )
        }
        "LT" | "LE" | "GT" | "GE" => {
            want(1)?;
            compare(match op {
                "LT" => Comparator::Lt,
                "LE" => Comparator::Le,
                "GT" => Comparator::Gt,
                _ => Comparator::Ge,
            })
        }
        "NULL" => {
            want(0)?;
            Condition::NotExists(path)
        }
        "NOT_NULL" => {
            want(0)?;
            Condition::Exists(path)
        }
        "BEGINS_WITH" => {
            want(1)?;
            Condition::BeginsWith(attr, value(0))
        }
        "CONTAINS" => {
            want(1)?;
            Condition::Contains(attr, value(0))
        }
        "NOT_CONTAINS" => {
            want(1)?;
            Condition::Not(Box::new(Condition::Contains(attr, value(0))))
        }
        "BETWEEN" => {
            want(2)?;
            Condition::Between(attr, value(0), value(1))
        }
        "IN" => {
            if args.is_empty() {
                return Err(invalid(
                    "Invalid number of argument(s) for the IN ComparisonOperator",
                ));
            }
            Condition::In(attr, args.into_iter().map(Operand::Value).collect())
        }
        other => {
            return Err(DynError::validation(format!(
                "1 validation error detected: Value '{other}' at 'expected.{name}.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
            )))
        }
    })
}

/// `AttributeUpdates` → update actions.
pub fn attribute_updates(updates: &Map<String, Json>) -> Result<Vec<Action>, DynError> {
    let mut actions = Vec::new();
    for (name, spec) in updates {
        let path = vec![Step::Attr(name.clone())];
        let value = spec
            .get("Value")
            .filter(|v| !v.is_null())
            .map(Value::from_json)
            .transpose()?;
        let action = spec.get("Action").and_then(Json::as_str).unwrap_or("PUT");
        actions.push(match (action, value) {
            ("PUT", Some(v)) => Action::Set(path, Operand::Value(v)),
            ("DELETE", None) => Action::Remove(path),
            ("DELETE", Some(v)) => {
                if !matches!(v, Value::Ss(_) | Value::Ns(_) | Value::Bs(_)) {
                    return Err(invalid(
                        "Action DELETE is not supported for the type ".to_string() + v.type_name(),
                    ));
                }
                Action::Delete(path, v)
            }
            ("ADD", Some(v)) => {
                if !matches!(v, Value::N(_) | Value::Ss(_) | Value::Ns(_) | Value::Bs(_)) {
                    return Err(invalid(format!(
                        "ADD action is not supported for the type {}",
                        v.type_name()
                    )));
                }
                Action::Add(path, v)
            }
            ("PUT" | "ADD", None) => {
                return Err(invalid(
                    "Only DELETE action is allowed when no attribute value is specified",
                ))
            }
            (other, _) => {
                return Err(DynError::validation(format!(
                    "1 validation error detected: Value '{other}' at 'attributeUpdates.{name}.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"
                )))
            }
        });
    }
    Ok(actions)
}
