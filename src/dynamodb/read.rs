//! Scan and Query.
use super::error::DynError;
use super::input::Input;
use crate::streams::Registry;
use serde_json::Value as Json;

pub async fn scan(_registry: &Registry, _input: &Input) -> Result<Json, DynError> {
    Err(DynError::unknown_operation("this"))
}

pub async fn query(_registry: &Registry, _input: &Input) -> Result<Json, DynError> {
    Err(DynError::unknown_operation("this"))
}
