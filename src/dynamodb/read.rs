//! Scan, and what Query shares with it (`query.rs`): reading the common members, and one
//! page of answers.
//!
//! Scan walks the table in stored-key order (kinesd's order, not DynamoDB's hash order: any
//! order is allowed) and pages by the last evaluated item's key. Query reads one hash key's
//! items (on an index: every item carrying the index's hash key, a full walk — lease tables
//! are small), orders them by range key (then by stored key, for index items that tie), and
//! pages from the position of `ExclusiveStartKey` in that order.
//!
//! Both count `Limit` and the 1 MB page size on the items they evaluate, before the filter,
//! as DynamoDB does, and answer a `LastEvaluatedKey` whenever they stop early on either.

use super::error::DynError;
use super::expr::eval::holds;
use super::expr::parser::{self, Kind};
use super::expr::{Condition, Operand, Path, Step};
use super::input::Input;
use super::items::{project, projection};
use super::key;
use super::legacy;
use super::meta::{IndexMeta, TableMeta};
use super::value::{decode_item, item_size, item_to_json, Item, Value, MAX_ITEM_BYTES};
use crate::streams::Registry;
use serde_json::{json, Map, Value as Json};

/// Bytes of items one page evaluates at most.
const PAGE_BYTES: usize = 1024 * 1024;
/// Items read from the store at a time while scanning.
pub(super) const STORE_PAGE: usize = 256;

/// What Scan and Query share: the index, filter, projection, limit and selection.
pub(super) struct Reading {
    pub(super) table: TableMeta,
    pub(super) index: Option<IndexMeta>,
    pub(super) filter: Option<Condition>,
    projection: Option<Vec<Path>>,
    limit: Option<usize>,
    count_only: bool,
    pub(super) start: Option<Item>,
}

pub(super) fn legacy_filter(
    filters: &Map<String, Json>,
    operator: Option<&str>,
) -> Result<Option<Condition>, DynError> {
    let mut all = Vec::new();
    for (name, spec) in filters {
        let op = spec["ComparisonOperator"].as_str().unwrap_or("EQ");
        let args = match spec.get("AttributeValueList").and_then(Json::as_array) {
            Some(l) => l
                .iter()
                .map(Value::from_json)
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        all.push(legacy::comparison(
            name,
            op,
            Operand::Path(vec![Step::Attr(name.clone())]),
            args,
        )?);
    }
    Ok(all.into_iter().reduce(|a, b| {
        if operator == Some("OR") {
            Condition::Or(Box::new(a), Box::new(b))
        } else {
            Condition::And(Box::new(a), Box::new(b))
        }
    }))
}

/// Reads the members Scan and Query share; `key_condition` parses Query's own with the same
/// placeholders before they are checked for unused ones.
pub(super) async fn reading(
    registry: &Registry,
    input: &Input,
    legacy_filter_member: &str,
    key_condition: impl FnOnce(
        &TableMeta,
        Option<&IndexMeta>,
        &mut super::expr::Placeholders,
    ) -> Result<Option<Condition>, DynError>,
) -> Result<(Reading, Option<Condition>), DynError> {
    let table = registry
        .dynamodb
        .active_table(registry, &input.table_name()?)
        .await?;
    let index = match input.str("IndexName")? {
        Some(name) => Some(table.index(name).cloned().ok_or_else(|| {
            DynError::validation(format!(
                "The table does not have the specified index: {name}"
            ))
        })?),
        None => None,
    };
    if index.is_some() && input.bool("ConsistentRead")? == Some(true) {
        return Err(DynError::validation(
            "Consistent reads are not supported on global secondary indexes",
        ));
    }
    if let Some(limit) = input.int("Limit")? {
        if limit < 1 {
            return Err(DynError::validation(format!(
                "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )));
        }
    }
    let mut ph = input.placeholders()?;
    input.check_placeholders_need_expressions(&[
        "FilterExpression",
        "ProjectionExpression",
        "KeyConditionExpression",
    ])?;
    input.check_not_mixed(&[legacy_filter_member], &["FilterExpression"])?;
    let keys = key_condition(&table, index.as_ref(), &mut ph)?;
    let filter = match input.str("FilterExpression")? {
        Some(text) => Some(parser::condition(text, Kind::Filter, &mut ph)?),
        None => match input.object(legacy_filter_member)? {
            Some(filters) => legacy_filter(filters, input.str("ConditionalOperator")?)?,
            None => None,
        },
    };
    let projection = projection(input, &mut ph)?;
    ph.check_all_used()?;
    let select = input.choice(
        "Select",
        "select",
        &[
            "ALL_ATTRIBUTES",
            "ALL_PROJECTED_ATTRIBUTES",
            "SPECIFIC_ATTRIBUTES",
            "COUNT",
        ],
    )?;
    let start = input.item("ExclusiveStartKey")?;
    if let Some(start) = &start {
        let table_key = key::key_of(&table.key, start);
        key::check_key(&table.key, &table_key).map_err(|_| {
            DynError::validation("The provided starting key is invalid: The provided key element does not match the schema")
        })?;
    }
    Ok((
        Reading {
            table,
            index,
            filter,
            projection,
            limit: input.int("Limit")?.map(|l| l as usize),
            count_only: select.as_deref() == Some("COUNT"),
            start,
        },
        keys,
    ))
}

impl Reading {
    /// The key a page ends on: the table's key, plus the index's for an index read.
    fn last_key(&self, item: &Item) -> Item {
        let mut k = key::key_of(&self.table.key, item);
        if let Some(index) = &self.index {
            k.extend(key::key_of(&index.key, item));
        }
        k
    }

    /// What an index holds of an item (its projection), or the item itself.
    fn as_stored_in_index(&self, item: Item) -> Item {
        let Some(index) = &self.index else {
            return item;
        };
        let kind = index.projection["ProjectionType"].as_str().unwrap_or("ALL");
        if kind == "ALL" {
            return item;
        }
        let mut keep: Vec<String> = self
            .table
            .key
            .attrs()
            .chain(index.key.attrs())
            .map(|(a, _)| a.name.clone())
            .collect();
        if kind == "INCLUDE" {
            if let Some(extra) = index.projection["NonKeyAttributes"].as_array() {
                keep.extend(extra.iter().filter_map(Json::as_str).map(str::to_string));
            }
        }
        item.into_iter().filter(|(k, _)| keep.contains(k)).collect()
    }

    /// Evaluates `candidates` in order; returns the answer.
    pub(super) fn page(
        &self,
        candidates: impl Iterator<Item = Result<Item, DynError>>,
    ) -> Result<Json, DynError> {
        let mut items = Vec::new();
        let (mut scanned, mut bytes) = (0usize, 0usize);
        let mut last = None;
        let mut stopped_early = false;
        let mut candidates = candidates.peekable();
        while let Some(item) = candidates.next() {
            let item = self.as_stored_in_index(item?);
            scanned += 1;
            bytes += item_size(&item);
            last = Some(self.last_key(&item));
            let keep = match &self.filter {
                Some(f) => holds(&item, f, "FilterExpression")?,
                None => true,
            };
            if keep {
                items.push(match &self.projection {
                    Some(paths) => project(&item, paths),
                    None => item,
                });
            }
            if self.limit.is_some_and(|l| scanned >= l) || bytes >= PAGE_BYTES {
                stopped_early =
                    self.limit.is_some_and(|l| scanned >= l) || candidates.peek().is_some();
                break;
            }
        }
        let mut out = json!({ "Count": items.len(), "ScannedCount": scanned });
        if !self.count_only {
            out["Items"] = Json::Array(items.iter().map(item_to_json).collect());
        }
        if stopped_early {
            if let Some(last) = last {
                out["LastEvaluatedKey"] = item_to_json(&last);
            }
        }
        Ok(out)
    }
}

/// Which parallel-scan segment an item's hash key falls in (FNV-1a of its stored bytes).
fn segment_of(hash: &Value, total: u64) -> u64 {
    let bytes = key::hash_prefix(hash);
    let h = bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    });
    h % total
}

pub async fn scan(registry: &Registry, input: &Input) -> Result<Json, DynError> {
    let segment = input.int("Segment")?;
    let total = input.int("TotalSegments")?;
    let segments = match (segment, total) {
        (None, None) => None,
        (Some(_), None) => return Err(DynError::validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")),
        (None, Some(_)) => return Err(DynError::validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")),
        (Some(s), Some(t)) => {
            if !(1..=1_000_000).contains(&t) {
                return Err(DynError::validation(format!("1 validation error detected: Value '{t}' at 'totalSegments' failed to satisfy constraint: Member must have value {}", if t < 1 { "greater than or equal to 1" } else { "less than or equal to 1000000" })));
            }
            if s < 0 || s >= t {
                return Err(DynError::validation(format!("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {s} is not less than TotalSegments: {t}")));
            }
            Some((s as u64, t as u64))
        }
    };
    let (reading, _) = reading(registry, input, "ScanFilter", |_, _, _| Ok(None)).await?;
    let store = registry.dynamodb.store()?;
    let mut after = reading
        .start
        .as_ref()
        .map(|s| key::encode(&reading.table.key, s));
    let mut candidates = Vec::new();
    let mut candidate_bytes = 0;
    let wanted = reading.limit.unwrap_or(usize::MAX);
    // Collects a little more than a page could use (one store page past the limit), so the
    // page knows whether anything follows.
    'walk: loop {
        let batch = store
            .scan_items(&reading.table.name, Vec::new(), after.clone(), STORE_PAGE)
            .await?;
        let Some((last, _)) = batch.last() else { break };
        after = Some(last.clone());
        for (_, doc) in batch {
            let item = decode_item(&doc)?;
            if let Some(index) = &reading.index {
                if !index
                    .key
                    .attrs()
                    .all(|(a, _)| item.get(&a.name).is_some_and(|v| v.type_name() == a.kind))
                {
                    continue;
                }
            }
            if let Some((s, t)) = segments {
                if item
                    .get(&reading.table.key.hash.name)
                    .is_none_or(|h| segment_of(h, t) != s)
                {
                    continue;
                }
            }
            candidate_bytes += item_size(&item);
            candidates.push(item);
            // One item past a full page, so the page knows whether anything follows.
            if candidates.len() > wanted || candidate_bytes > PAGE_BYTES + MAX_ITEM_BYTES {
                break 'walk;
            }
        }
    }
    reading.page(candidates.into_iter().map(Ok))
}
