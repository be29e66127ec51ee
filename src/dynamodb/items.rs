//! The item writes and reads: PutItem, UpdateItem, DeleteItem (each a [`WritePlan`], which
//! TransactWriteItems shares) and GetItem, plus projections.
//!
//! A plan is everything checked without the stored item (key, expressions, placeholders,
//! sizes); [`WritePlan::decide`] then takes the stored item, checks the condition and computes
//! what to store. Callers hold the service's `writes` lock from the read to the write.

use super::error::DynError;
use super::expr::eval::holds;
use super::expr::parser::{self, Kind};
use super::expr::update::{action_path, apply, check_operand_types, check_overlaps};
use super::expr::{Action, Condition, Path, Placeholders, Step};
use super::input::Input;
use super::key;
use super::legacy;
use super::meta::TableMeta;
use super::value::{
    decode_item, encode_item, item_size, item_to_json, Item, Value, MAX_ITEM_BYTES,
};
use crate::streams::Registry;
use serde_json::{json, Value as Json};
use shard_store::ItemWrite;

pub(super) enum Change {
    Put(Item),
    Update(Vec<Action>),
    Delete,
    Check,
}

pub(super) struct WritePlan {
    pub table: TableMeta,
    pub key: Item,
    pub key_bytes: Vec<u8>,
    pub condition: Option<Condition>,
    pub change: Change,
    /// `ReturnValuesOnConditionCheckFailure: ALL_OLD`.
    pub old_on_failure: bool,
}

/// What a plan does to the stored item.
pub(super) enum Decision {
    /// Store this (`None`: delete; for a condition check, nothing).
    Write(Option<Item>),
    /// The condition failed; the stored item, for the error when asked for.
    Failed(Option<Item>),
}

impl WritePlan {
    pub fn decide(&self, old: Option<&Item>) -> Result<Decision, DynError> {
        let empty = Item::new();
        let current = old.unwrap_or(&empty);
        if let Some(condition) = &self.condition {
            if !holds(current, condition, "ConditionExpression")? {
                return Ok(Decision::Failed(old.cloned()));
            }
        }
        Ok(match &self.change {
            Change::Put(item) => Decision::Write(Some(item.clone())),
            Change::Delete => Decision::Write(None),
            Change::Check => Decision::Write(old.cloned()),
            Change::Update(actions) => {
                let base = old.cloned().unwrap_or_else(|| self.key.clone());
                let new = apply(&base, actions)?;
                check_size(&new)?;
                key::check_index_keys(&self.table, &new)?;
                Decision::Write(Some(new))
            }
        })
    }

    pub fn store_write(&self, new: Option<Item>) -> ItemWrite {
        match new {
            Some(item) => ItemWrite::Put {
                table: self.table.name.clone(),
                key: self.key_bytes.clone(),
                item: encode_item(&item),
            },
            None => ItemWrite::Delete {
                table: self.table.name.clone(),
                key: self.key_bytes.clone(),
            },
        }
    }
}

fn check_size(item: &Item) -> Result<(), DynError> {
    if item_size(item) > MAX_ITEM_BYTES {
        return Err(DynError::validation(
            "Item size has exceeded the maximum allowed size",
        ));
    }
    Ok(())
}

/// The condition of a write: `ConditionExpression` or the legacy `Expected`.
fn condition(input: &Input, ph: &mut Placeholders) -> Result<Option<Condition>, DynError> {
    input.check_not_mixed(&["Expected"], &["ConditionExpression", "UpdateExpression"])?;
    if let Some(text) = input.str("ConditionExpression")? {
        return parser::condition(text, Kind::Condition, ph).map(Some);
    }
    match input.object("Expected")? {
        Some(expected) => legacy::expected(expected, input.str("ConditionalOperator")?),
        None => Ok(None),
    }
}

fn old_on_failure(input: &Input) -> Result<bool, DynError> {
    let choice = input.choice(
        "ReturnValuesOnConditionCheckFailure",
        "returnValuesOnConditionCheckFailure",
        &["ALL_OLD", "NONE"],
    )?;
    Ok(choice.as_deref() == Some("ALL_OLD"))
}

fn key_input(input: &Input, table: &TableMeta) -> Result<Item, DynError> {
    let key = input.item("Key")?.ok_or_else(|| {
        DynError::validation("1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null")
    })?;
    key::check_key(&table.key, &key)?;
    Ok(key)
}

/// A plan of `kind` ("Put", "Update", "Delete", "ConditionCheck") from its request members.
pub(super) async fn plan(
    registry: &Registry,
    input: &Input,
    kind: &str,
) -> Result<WritePlan, DynError> {
    let table_name = input.table_name()?;
    let table = registry
        .dynamodb
        .active_table(registry, &table_name)
        .await?;
    let mut ph = input.placeholders()?;
    input.check_placeholders_need_expressions(&["ConditionExpression", "UpdateExpression"])?;
    let condition = condition(input, &mut ph)?;
    let (key, change) = match kind {
        "Put" => {
            let item = input.item("Item")?.ok_or_else(|| {
                DynError::validation("1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null")
            })?;
            key::check_item_key(&table.key, &item)?;
            check_size(&item)?;
            key::check_index_keys(&table, &item)?;
            (key::key_of(&table.key, &item), Change::Put(item))
        }
        "Update" => {
            let key = key_input(input, &table)?;
            input.check_not_mixed(&["AttributeUpdates"], &["UpdateExpression"])?;
            let actions = match (
                input.str("UpdateExpression")?,
                input.object("AttributeUpdates")?,
            ) {
                (Some(text), _) => {
                    let actions = parser::update(text, &mut ph)?;
                    check_overlaps(&actions)?;
                    actions
                }
                (None, Some(updates)) => legacy::attribute_updates(updates)?,
                (None, None) => Vec::new(),
            };
            check_operand_types(&actions)?;
            for action in &actions {
                if let Some(Step::Attr(first)) = action_path(action).first() {
                    if table.key.attrs().any(|(a, _)| &a.name == first) {
                        return Err(DynError::validation(format!(
                            "One or more parameter values were invalid: Cannot update attribute {first}. This attribute is part of the key"
                        )));
                    }
                }
            }
            (key, Change::Update(actions))
        }
        "Delete" => (key_input(input, &table)?, Change::Delete),
        _ => (key_input(input, &table)?, Change::Check),
    };
    ph.check_all_used()?;
    Ok(WritePlan {
        key_bytes: key::encode(&table.key, &key),
        table,
        key,
        condition,
        change,
        old_on_failure: old_on_failure(input)?,
    })
}

fn consumed(input: &Input, table: &str, units: f64) -> Result<Option<Json>, DynError> {
    let choice = input.choice(
        "ReturnConsumedCapacity",
        "returnConsumedCapacity",
        &["INDEXES", "TOTAL", "NONE"],
    )?;
    Ok(match choice.as_deref() {
        Some("INDEXES") | Some("TOTAL") => {
            Some(json!({ "TableName": table, "CapacityUnits": units }))
        }
        _ => None,
    })
}

pub(super) async fn stored(
    registry: &Registry,
    plan: &WritePlan,
) -> Result<Option<Item>, DynError> {
    let store = registry.dynamodb.store()?;
    store
        .get_item(&plan.table.name, &plan.key_bytes)
        .await?
        .map(|doc| decode_item(&doc))
        .transpose()
}

/// Runs a single-item write plan: read, decide, write, all under the writes lock.
async fn run(
    registry: &Registry,
    plan: &WritePlan,
) -> Result<(Option<Item>, Option<Item>), DynError> {
    let _writes = registry.dynamodb.writes.lock().await;
    let old = stored(registry, plan).await?;
    match plan.decide(old.as_ref())? {
        Decision::Failed(old) => Err(DynError::condition_failed(
            old.filter(|_| plan.old_on_failure)
                .map(|o| item_to_json(&o)),
        )),
        Decision::Write(new) => {
            registry
                .dynamodb
                .store()?
                .write_items(vec![plan.store_write(new.clone())])
                .await?;
            Ok((old, new))
        }
    }
}

fn answer(attributes: Option<Item>, consumed: Option<Json>) -> Json {
    let mut out = json!({});
    if let Some(a) = attributes.filter(|a| !a.is_empty()) {
        out["Attributes"] = item_to_json(&a);
    }
    if let Some(c) = consumed {
        out["ConsumedCapacity"] = c;
    }
    out
}

pub async fn put(registry: &Registry, input: &Input) -> Result<Json, DynError> {
    put_or_delete(registry, input, "Put").await
}

pub async fn delete(registry: &Registry, input: &Input) -> Result<Json, DynError> {
    put_or_delete(registry, input, "Delete").await
}

/// PutItem and DeleteItem, which answer alike: `ReturnValues` NONE or ALL_OLD only.
async fn put_or_delete(registry: &Registry, input: &Input, kind: &str) -> Result<Json, DynError> {
    let plan = plan(registry, input, kind).await?;
    let returns = input.choice(
        "ReturnValues",
        "returnValues",
        &["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"],
    )?;
    if !matches!(returns.as_deref(), None | Some("NONE") | Some("ALL_OLD")) {
        return Err(DynError::validation(
            "ReturnValues can only be ALL_OLD or NONE",
        ));
    }
    let consumed = consumed(input, &plan.table.name, 1.0)?;
    let (old, _) = run(registry, &plan).await?;
    Ok(answer(
        old.filter(|_| returns.as_deref() == Some("ALL_OLD")),
        consumed,
    ))
}

pub async fn update(registry: &Registry, input: &Input) -> Result<Json, DynError> {
    let plan = plan(registry, input, "Update").await?;
    let returns = input
        .choice(
            "ReturnValues",
            "returnValues",
            &["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"],
        )?
        .unwrap_or_else(|| "NONE".into());
    let consumed = consumed(input, &plan.table.name, 1.0)?;
    let (old, new) = run(registry, &plan).await?;
    let touched: Vec<Path> = match &plan.change {
        Change::Update(actions) => actions.iter().map(|a| action_path(a).clone()).collect(),
        _ => Vec::new(),
    };
    let attributes = match returns.as_str() {
        "ALL_OLD" => old,
        "ALL_NEW" => new,
        "UPDATED_OLD" => old.map(|o| project(&o, &touched)),
        "UPDATED_NEW" => new.map(|n| project(&n, &touched)),
        _ => None,
    };
    Ok(answer(attributes, consumed))
}

/// `ProjectionExpression` (or the legacy `AttributesToGet`) of a read, as paths.
pub(super) fn projection(
    input: &Input,
    ph: &mut Placeholders,
) -> Result<Option<Vec<Path>>, DynError> {
    input.check_not_mixed(&["AttributesToGet"], &["ProjectionExpression"])?;
    if let Some(text) = input.str("ProjectionExpression")? {
        return parser::projection(text, ph).map(Some);
    }
    Ok(input.array("AttributesToGet")?.map(|names| {
        names
            .iter()
            .filter_map(Json::as_str)
            .map(|n| vec![Step::Attr(n.to_string())])
            .collect()
    }))
}

/// The parts of `item` the paths name, keeping their nesting (list elements keep their order).
pub(super) fn project(item: &Item, paths: &[Path]) -> Item {
    let mut out = Item::new();
    for path in paths {
        if let Some(v) = super::expr::eval::resolve(item, path) {
            insert_along(&mut out, path, v.clone());
        }
    }
    out
}

fn insert_along(out: &mut Item, path: &Path, value: Value) {
    let Some((Step::Attr(first), rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        out.insert(first.clone(), value);
        return;
    }
    let slot = out.entry(first.clone()).or_insert_with(|| match rest[0] {
        Step::Attr(_) => Value::M(Item::new()),
        Step::Index(_) => Value::L(Vec::new()),
    });
    let mut at = slot;
    for (i, step) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        let fresh = || match rest.get(i + 1) {
            Some(Step::Index(_)) => Value::L(Vec::new()),
            _ => Value::M(Item::new()),
        };
        at = match (step, at) {
            (Step::Attr(name), Value::M(map)) => {
                if last {
                    map.insert(name.clone(), value);
                    return;
                }
                map.entry(name.clone()).or_insert_with(fresh)
            }
            (Step::Index(_), Value::L(list)) => {
                // Projected list elements are packed in path order.
                if last {
                    list.push(value);
                    return;
                }
                list.push(fresh());
                let end = list.len() - 1;
                &mut list[end]
            }
            _ => return,
        };
    }
}

pub async fn get(registry: &Registry, input: &Input) -> Result<Json, DynError> {
    let table_name = input.table_name()?;
    let table = registry
        .dynamodb
        .active_table(registry, &table_name)
        .await?;
    let key = key_input(input, &table)?;
    let mut ph = input.placeholders()?;
    input.check_placeholders_need_expressions(&["ProjectionExpression"])?;
    let paths = projection(input, &mut ph)?;
    ph.check_all_used()?;
    let consumed = consumed(input, &table.name, 0.5)?;
    let doc = registry
        .dynamodb
        .store()?
        .get_item(&table.name, &key::encode(&table.key, &key))
        .await?;
    let mut out = json!({});
    if let Some(doc) = doc {
        let item = decode_item(&doc)?;
        let item = match &paths {
            Some(paths) => project(&item, paths),
            None => item,
        };
        out["Item"] = item_to_json(&item);
    }
    if let Some(c) = consumed {
        out["ConsumedCapacity"] = c;
    }
    Ok(out)
}
