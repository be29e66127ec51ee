//! TransactWriteItems: up to 100 condition checks, puts, updates and deletes, on distinct
//! items of any tables, applied all together or not at all.
//!
//! Every part is checked as its single-item operation would be (so a malformed part fails the
//! whole request with that operation's ValidationException); then, under the writes lock,
//! every condition is evaluated, and either one atomic store batch writes everything or a
//! TransactionCanceledException lists, part by part, which conditions failed.

use super::error::DynError;
use super::input::Input;
use super::items::{plan, stored, Decision, WritePlan};
use super::value::item_to_json;
use crate::streams::Registry;
use serde_json::{json, Value as Json};

const MAX_PARTS: usize = 100;

pub async fn write(registry: &Registry, input: &Input) -> Result<Json, DynError> {
    let parts = input.array("TransactItems")?.ok_or_else(|| {
        DynError::validation("1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null")
    })?;
    if parts.is_empty() || parts.len() > MAX_PARTS {
        return Err(DynError::validation(format!(
            "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length {}",
            if parts.is_empty() { "greater than or equal to 1".to_string() } else { format!("less than or equal to {MAX_PARTS}") }
        )));
    }
    let mut plans: Vec<WritePlan> = Vec::with_capacity(parts.len());
    for part in parts {
        let Some(members) = part.as_object() else {
            return Err(DynError::serialization(
                "Unexpected value type in payload for member TransactItems",
            ));
        };
        let given: Vec<(&str, &Json)> = ["ConditionCheck", "Put", "Update", "Delete"]
            .into_iter()
            .filter_map(|k| members.get(k).filter(|v| !v.is_null()).map(|v| (k, v)))
            .collect();
        let [(kind, body)] = given.as_slice() else {
            return Err(DynError::validation(
                "TransactItems can only contain one of Check, Put, Update or Delete",
            ));
        };
        let Some(body) = body.as_object() else {
            return Err(DynError::serialization(format!(
                "Unexpected value type in payload for member {kind}"
            )));
        };
        let sub = Input(body.clone());
        if *kind == "ConditionCheck" && !sub.has("ConditionExpression") {
            return Err(DynError::validation(
                "1 validation error detected: Value null at 'transactItems.1.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null",
            ));
        }
        let plan = plan(registry, &sub, kind.trim_start_matches("Condition")).await?;
        if plans
            .iter()
            .any(|p| p.table.name == plan.table.name && p.key_bytes == plan.key_bytes)
        {
            return Err(DynError::validation(
                "Transaction request cannot include multiple operations on one item",
            ));
        }
        plans.push(plan);
    }
    let service = &registry.dynamodb;
    let _writes = service.writes.lock().await;
    let mut writes = Vec::new();
    let mut reasons = Vec::with_capacity(plans.len());
    let mut failed = false;
    for plan in &plans {
        let old = stored(registry, plan).await?;
        match plan.decide(old.as_ref())? {
            Decision::Write(new) => {
                if !matches!(plan.change, super::items::Change::Check) {
                    writes.push(plan.store_write(new));
                }
                reasons.push(json!({ "Code": "None" }));
            }
            Decision::Failed(old) => {
                failed = true;
                let mut reason = json!({
                    "Code": "ConditionalCheckFailed",
                    "Message": "The conditional request failed",
                });
                if let Some(old) = old.filter(|_| plan.old_on_failure) {
                    reason["Item"] = item_to_json(&old);
                }
                reasons.push(reason);
            }
        }
    }
    if failed {
        return Err(DynError::transaction_canceled(reasons));
    }
    service.store()?.write_items(writes).await?;
    Ok(json!({}))
}
