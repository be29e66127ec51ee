//! Reading a DynamoDB request body: a JSON object whose members are fetched by name with their
//! type checked, so every operation reports a wrong type as DynamoDB does (a
//! SerializationException) and a bad value with its ValidationException.

use super::error::DynError;
use super::expr::Placeholders;
use super::value::{item_from_map, Item};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

pub struct Input(pub Map<String, Json>);

fn wrong_type(member: &str) -> DynError {
    DynError::serialization(format!(
        "Unexpected value type in payload for member {member}"
    ))
}

impl Input {
    pub fn parse(body: &[u8]) -> Result<Input, DynError> {
        match serde_json::from_slice::<Json>(body) {
            Ok(Json::Object(map)) => Ok(Input(map)),
            _ => Err(DynError::serialization("")),
        }
    }

    fn get(&self, member: &str) -> Option<&Json> {
        self.0.get(member).filter(|v| !v.is_null())
    }

    pub fn has(&self, member: &str) -> bool {
        self.get(member).is_some()
    }

    pub fn str(&self, member: &str) -> Result<Option<&str>, DynError> {
        self.get(member)
            .map(|v| v.as_str().ok_or_else(|| wrong_type(member)))
            .transpose()
    }

    pub fn bool(&self, member: &str) -> Result<Option<bool>, DynError> {
        self.get(member)
            .map(|v| v.as_bool().ok_or_else(|| wrong_type(member)))
            .transpose()
    }

    pub fn int(&self, member: &str) -> Result<Option<i64>, DynError> {
        self.get(member)
            .map(|v| v.as_i64().ok_or_else(|| wrong_type(member)))
            .transpose()
    }

    pub fn object(&self, member: &str) -> Result<Option<&Map<String, Json>>, DynError> {
        self.get(member)
            .map(|v| v.as_object().ok_or_else(|| wrong_type(member)))
            .transpose()
    }

    pub fn array(&self, member: &str) -> Result<Option<&Vec<Json>>, DynError> {
        self.get(member)
            .map(|v| v.as_array().ok_or_else(|| wrong_type(member)))
            .transpose()
    }

    pub fn item(&self, member: &str) -> Result<Option<Item>, DynError> {
        self.object(member)?.map(item_from_map).transpose()
    }

    /// `TableName`, required, with Coral's constraint messages.
    pub fn table_name(&self) -> Result<String, DynError> {
        let name = self.str("TableName")?;
        check_name(name, "tableName")?;
        Ok(name.unwrap_or_default().to_string())
    }

    /// `ExpressionAttributeNames` and `ExpressionAttributeValues`.
    pub fn placeholders(&self) -> Result<Placeholders, DynError> {
        let mut names = BTreeMap::new();
        for member in ["ExpressionAttributeNames", "ExpressionAttributeValues"] {
            if self.object(member)?.is_some_and(Map::is_empty) {
                return Err(DynError::validation(format!("{member} must not be empty")));
            }
        }
        if let Some(map) = self.object("ExpressionAttributeNames")? {
            for (k, v) in map {
                let v = v
                    .as_str()
                    .ok_or_else(|| wrong_type("ExpressionAttributeNames"))?;
                names.insert(k.clone(), v.to_string());
            }
        }
        let values = self.item("ExpressionAttributeValues")?.unwrap_or_default();
        for (k, v) in &values {
            if !k.starts_with(':') {
                return Err(DynError::validation(format!(
                    "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{k}\""
                )));
            }
            let _ = v;
        }
        for k in names.keys() {
            if !k.starts_with('#') {
                return Err(DynError::validation(format!(
                    "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{k}\""
                )));
            }
        }
        Ok(Placeholders::new(names, values))
    }

    /// Refuses names and values given without any expression to use them.
    pub fn check_placeholders_need_expressions(
        &self,
        expressions: &[&str],
    ) -> Result<(), DynError> {
        let any = expressions.iter().any(|e| self.has(e));
        if !any {
            if self.has("ExpressionAttributeNames") {
                return Err(DynError::validation(
                    "ExpressionAttributeNames can only be specified when using expressions",
                ));
            }
            if self.has("ExpressionAttributeValues") {
                return Err(DynError::validation(
                    "ExpressionAttributeValues can only be specified when using expressions",
                ));
            }
        }
        Ok(())
    }

    /// Refuses a legacy parameter beside an expression one.
    pub fn check_not_mixed(&self, legacy: &[&str], expressions: &[&str]) -> Result<(), DynError> {
        let old: Vec<&str> = legacy.iter().copied().filter(|m| self.has(m)).collect();
        let new: Vec<&str> = expressions
            .iter()
            .copied()
            .filter(|m| self.has(m))
            .collect();
        if !old.is_empty() && !new.is_empty() {
            return Err(DynError::validation(format!(
                "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
                old.join(", "),
                new.join(", ")
            )));
        }
        Ok(())
    }

    /// One of `allowed` (or absent): Coral's enum constraint otherwise.
    pub fn choice(
        &self,
        member: &str,
        field: &str,
        allowed: &[&str],
    ) -> Result<Option<String>, DynError> {
        let Some(value) = self.str(member)? else {
            return Ok(None);
        };
        if !allowed.contains(&value) {
            return Err(DynError::validation(format!(
                "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            )));
        }
        Ok(Some(value.to_string()))
    }
}

/// A table or index name: 3 to 255 characters of `[a-zA-Z0-9_.-]`.
pub fn check_name(name: Option<&str>, field: &str) -> Result<(), DynError> {
    let Some(name) = name else {
        return Err(DynError::validation(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        )));
    };
    let mut problems = Vec::new();
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        problems.push(format!(
            "Value '{name}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        ));
    }
    if name.len() < 3 {
        problems.push(format!(
            "Value '{name}' at '{field}' failed to satisfy constraint: Member must have length greater than or equal to 3"
        ));
    }
    if name.len() > 255 {
        problems.push(format!(
            "Value '{name}' at '{field}' failed to satisfy constraint: Member must have length less than or equal to 255"
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(DynError::validation(format!(
        "{} validation error{} detected: {}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        problems.join("; ")
    )))
}
