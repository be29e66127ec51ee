//! TransactWriteItems.
use super::error::DynError;
use super::input::Input;
use crate::streams::Registry;
use serde_json::Value as Json;

pub async fn write(_registry: &Registry, _input: &Input) -> Result<Json, DynError> {
    Err(DynError::unknown_operation("this"))
}
