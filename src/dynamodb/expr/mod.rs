//! DynamoDB's expression language: condition, filter and key-condition expressions, update
//! expressions and projections.
//!
//! - `lexer`: text → tokens;
//! - `parser`: tokens → the trees below, resolving `#name` and `:value` placeholders as it
//!   goes (so evaluation never sees a placeholder), with DynamoDB's messages;
//! - `eval`: conditions against an item, document paths;
//! - `update`: applying an update expression to an item.
//!
//! [`Placeholders`] records which names and values the request's expressions used: DynamoDB
//! refuses a request whose `ExpressionAttributeNames`/`Values` hold one no expression uses.

pub mod eval;
pub mod lexer;
pub mod parser;
#[cfg(test)]
mod tests;
pub mod update;

use super::error::DynError;
use super::value::{Item, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One step of a document path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Attr(String),
    Index(usize),
}

/// `a.b[2].c`, with names resolved.
pub type Path = Vec<Step>;

/// Shows a path as DynamoDB's messages do: `[a, b, [2]]`.
pub fn path_text(path: &Path) -> String {
    let parts: Vec<String> = path
        .iter()
        .map(|s| match s {
            Step::Attr(a) => a.clone(),
            Step::Index(i) => format!("[{i}]"),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    Path(Path),
    Value(Value),
    Size(Path),
    /// Update expressions only.
    IfNotExists(Path, Box<Operand>),
    ListAppend(Box<Operand>, Box<Operand>),
    Plus(Box<Operand>, Box<Operand>),
    Minus(Box<Operand>, Box<Operand>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    Compare(Operand, Comparator, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
    Exists(Path),
    NotExists(Path),
    Type(Path, Operand),
    BeginsWith(Operand, Operand),
    Contains(Operand, Operand),
}

/// One action of an update expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Set(Path, Operand),
    Remove(Path),
    Add(Path, Value),
    Delete(Path, Value),
}

/// The request's `ExpressionAttributeNames` and `ExpressionAttributeValues`, and which of them
/// the expressions parsed so far used.
#[derive(Debug, Default)]
pub struct Placeholders {
    pub names: BTreeMap<String, String>,
    pub values: Item,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

impl Placeholders {
    pub fn new(names: BTreeMap<String, String>, values: Item) -> Placeholders {
        Placeholders {
            names,
            values,
            ..Placeholders::default()
        }
    }

    /// Refuses names or values that no expression used, as DynamoDB does.
    pub fn check_all_used(&self) -> Result<(), DynError> {
        let unused_names: Vec<&str> = self
            .names
            .keys()
            .filter(|k| !self.used_names.contains(*k))
            .map(String::as_str)
            .collect();
        if !unused_names.is_empty() {
            return Err(DynError::validation(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                unused_names.join(", ")
            )));
        }
        let unused_values: Vec<&str> = self
            .values
            .keys()
            .filter(|k| !self.used_values.contains(*k))
            .map(String::as_str)
            .collect();
        if !unused_values.is_empty() {
            return Err(DynError::validation(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                unused_values.join(", ")
            )));
        }
        Ok(())
    }
}
