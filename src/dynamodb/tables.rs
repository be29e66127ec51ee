//! The table operations: CreateTable, DescribeTable, UpdateTable (indexes, billing, deletion
//! protection), DeleteTable, ListTables, and the settings DynamoDB keeps beside a table
//! (continuous backups, time to live), which are stored and described but change nothing.
//!
//! A new table, and an index added later, stay CREATING for `--create-stream-ms` of kinesd's
//! clock (0 by default: ACTIVE at once); a deleted table is gone at once (its answer says
//! DELETING, as DynamoDB's does).

use super::error::DynError;
use super::input::{check_name, Input};
use super::meta::{self, IndexMeta, KeyAttr, KeySchema, TableMeta, Throughput};
use super::value::{decode_item, item_size};
use crate::streams::Registry;
use serde_json::{json, Value as Json};

fn invalid(message: impl std::fmt::Display) -> DynError {
    DynError::validation(format!(
        "One or more parameter values were invalid: {message}"
    ))
}

fn not_null(field: &str) -> DynError {
    DynError::validation(format!(
        "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
    ))
}

fn key_schema(
    json: Option<&Json>,
    field: &str,
    defined: &[KeyAttr],
) -> Result<KeySchema, DynError> {
    let elements = json
        .and_then(Json::as_array)
        .ok_or_else(|| not_null(field))?;
    let mut hash = None;
    let mut range = None;
    for (i, e) in elements.iter().enumerate() {
        let name = e["AttributeName"].as_str().ok_or_else(|| not_null(field))?;
        let key_type = e["KeyType"].as_str().ok_or_else(|| not_null(field))?;
        match (i, key_type) {
            (0, "HASH") => hash = Some(name),
            (1, "RANGE") => range = Some(name),
            _ => {
                return Err(invalid(
                    "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
                ))
            }
        }
    }
    let Some(hash) = hash else {
        return Err(DynError::validation(format!(
            "1 validation error detected: Value '[]' at '{field}' failed to satisfy constraint: Member must have length greater than or equal to 1"
        )));
    };
    if elements.len() > 2 {
        return Err(invalid("Too many KeySchemaElements; expected at most 2"));
    }
    if range == Some(hash) {
        return Err(invalid(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name",
        ));
    }
    let attr = |name: &str| -> Result<KeyAttr, DynError> {
        defined.iter().find(|a| a.name == name).cloned().ok_or_else(|| {
            let keys: Vec<&str> = [Some(hash), range].into_iter().flatten().collect();
            let defs: Vec<&str> = defined.iter().map(|a| a.name.as_str()).collect();
            invalid(format!(
                "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                keys.join(", "),
                defs.join(", ")
            ))
        })
    };
    Ok(KeySchema {
        hash: attr(hash)?,
        range: range.map(attr).transpose()?,
    })
}

fn attribute_definitions(input: &Input) -> Result<Vec<KeyAttr>, DynError> {
    let defs = input
        .array("AttributeDefinitions")?
        .ok_or_else(|| not_null("attributeDefinitions"))?;
    let mut out: Vec<KeyAttr> = Vec::new();
    for d in defs {
        let name = d["AttributeName"]
            .as_str()
            .ok_or_else(|| not_null("attributeDefinitions.member.attributeName"))?;
        let kind = d["AttributeType"]
            .as_str()
            .ok_or_else(|| not_null("attributeDefinitions.member.attributeType"))?;
        if !matches!(kind, "S" | "N" | "B") {
            return Err(DynError::validation(format!(
                "1 validation error detected: Value '{kind}' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]"
            )));
        }
        if out.iter().any(|a| a.name == name) {
            return Err(invalid("Cannot have two attributes with the same name"));
        }
        out.push(KeyAttr {
            name: name.to_string(),
            kind: kind.to_string(),
        });
    }
    Ok(out)
}

fn throughput(
    json: Option<&Json>,
    billing: &str,
    what: &str,
) -> Result<Option<Throughput>, DynError> {
    let given = json.filter(|j| !j.is_null());
    match (billing, given) {
        ("PAY_PER_REQUEST", None) => Ok(None),
        ("PAY_PER_REQUEST", Some(_)) => Err(invalid(
            "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
        )),
        (_, None) => Err(invalid(format!(
            "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED{what}"
        ))),
        (_, Some(t)) => {
            let read = t["ReadCapacityUnits"].as_i64();
            let write = t["WriteCapacityUnits"].as_i64();
            match (read, write) {
                (Some(read), Some(write)) if read >= 1 && write >= 1 => Ok(Some(Throughput { read, write })),
                (Some(_), Some(_)) => Err(DynError::validation(
                    "1 validation error detected: Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1",
                )),
                _ => Err(not_null("provisionedThroughput.readCapacityUnits")),
            }
        }
    }
}

fn index_meta(
    json: &Json,
    defined: &[KeyAttr],
    billing: &str,
    active_ms: i64,
) -> Result<IndexMeta, DynError> {
    let name = json["IndexName"].as_str();
    check_name(name, "globalSecondaryIndexes.member.indexName")?;
    let key = key_schema(
        json.get("KeySchema"),
        "globalSecondaryIndexes.member.keySchema",
        defined,
    )?;
    let projection = json
        .get("Projection")
        .filter(|p| !p.is_null())
        .cloned()
        .ok_or_else(|| not_null("globalSecondaryIndexes.member.projection"))?;
    Ok(IndexMeta {
        name: name.unwrap_or_default().to_string(),
        key,
        projection,
        throughput: throughput(json.get("ProvisionedThroughput"), billing, " for index")?,
        active_ms,
    })
}

/// Every defined attribute must be a key attribute of the table or of an index.
fn check_definitions_used(
    defined: &[KeyAttr],
    key: &KeySchema,
    indexes: &[IndexMeta],
) -> Result<(), DynError> {
    let used = |name: &str| {
        key.attrs().any(|(a, _)| a.name == name)
            || indexes
                .iter()
                .any(|i| i.key.attrs().any(|(a, _)| a.name == name))
    };
    if defined.iter().any(|d| !used(&d.name)) {
        return Err(invalid(
            "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    Ok(())
}

pub async fn create(registry: &Registry, input: &Input) -> Result<Json, DynError> {
    let name = input.table_name()?;
    let defined = attribute_definitions(input)?;
    let key = key_schema(input.0.get("KeySchema"), "keySchema", &defined)?;
    let billing = input
        .choice(
            "BillingMode",
            "billingMode",
            &["PROVISIONED", "PAY_PER_REQUEST"],
        )?
        .unwrap_or_else(|| "PROVISIONED".into());
    let table_throughput = throughput(input.0.get("ProvisionedThroughput"), &billing, "")?;
    if input.has("LocalSecondaryIndexes") {
        return Err(invalid("LocalSecondaryIndexes are not supported by kinesd"));
    }
    let now = registry.now();
    let active_ms = now + registry.config().create_delay_ms.max(0);
    let mut indexes = Vec::new();
    for gsi in input.array("GlobalSecondaryIndexes")?.into_iter().flatten() {
        let index = index_meta(gsi, &defined, &billing, active_ms)?;
        if indexes.iter().any(|i: &IndexMeta| i.name == index.name) {
            return Err(invalid(format!("Duplicate index name: {}", index.name)));
        }
        indexes.push(index);
    }
    check_definitions_used(&defined, &key, &indexes)?;
    let tags = match input.array("Tags")? {
        Some(tags) => tags
            .iter()
            .map(|t| {
                let k = t["Key"]
                    .as_str()
                    .ok_or_else(|| not_null("tags.member.key"))?;
                let v = t["Value"]
                    .as_str()
                    .ok_or_else(|| not_null("tags.member.value"))?;
                Ok((k.to_string(), v.to_string()))
            })
            .collect::<Result<Vec<_>, DynError>>()?,
        None => Vec::new(),
    };
    let service = &registry.dynamodb;
    let _writes = service.writes.lock().await;
    if service.table(&name).await?.is_some() {
        return Err(DynError::in_use(format!("Table already exists: {name}")));
    }
    let meta = TableMeta {
        name: name.clone(),
        id: uuid(),
        created_ms: now,
        active_ms,
        key,
        attribute_definitions: defined,
        billing_mode: billing,
        throughput: table_throughput,
        indexes,
        deletion_protection: input.bool("DeletionProtectionEnabled")?.unwrap_or(false),
        tags,
        point_in_time_recovery: false,
        ttl_attribute: None,
        sse: input.object("SSESpecification")?.cloned().map(Json::Object),
    };
    service
        .store()?
        .put_table(&name, meta::encode(&meta))
        .await?;
    service.remember(Some(meta.clone()), &name).await?;
    let config = registry.config();
    let status = if meta.is_active(now) {
        "ACTIVE"
    } else {
        "CREATING"
    };
    Ok(
        json!({ "TableDescription": meta.describe(now, &config.region, &config.account_id, 0, 0, Some(status)) }),
    )
}

/// A random UUID v4 (DynamoDB's `TableId`).
fn uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Item count and billed bytes of a table (a full scan: lease tables are small).
async fn count(registry: &Registry, name: &str) -> Result<(u64, u64), DynError> {
    let store = registry.dynamodb.store()?;
    let (mut items, mut bytes) = (0u64, 0u64);
    let mut after = None;
    loop {
        let page = store
            .scan_items(name, Vec::new(), after.clone(), 1000)
            .await?;
        let Some((last, _)) = page.last() else {
            return Ok((items, bytes));
        };
        after = Some(last.clone());
        for (_, doc) in &page {
            items += 1;
            bytes += item_size(&decode_item(doc)?) as u64;
        }
    }
}

pub async fn describe(registry: &Registry, input: &Input) -> Result<Json, DynError> {
    let name = input.table_name()?;
    let meta = registry
        .dynamodb
        .table(&name)
        .await?
        .ok_or_else(|| DynError::table_not_found(&name))?;
    let (items, bytes) = count(registry, &name).await?;
    let config = registry.config();
    Ok(
        json!({ "Table": meta.describe(registry.now(), &config.region, &config.account_id, items, bytes, None) }),
    )
}

pub async fn update(registry: &Registry, input: &Input) -> Result<Json, DynError> {
    let name = input.table_name()?;
    let service = &registry.dynamodb;
    let _writes = service.writes.lock().await;
    let mut meta = service
        .table(&name)
        .await?
        .ok_or_else(|| DynError::table_not_found(&name))?;
    let now = registry.now();
    if let Some(billing) = input.choice(
        "BillingMode",
        "billingMode",
        &["PROVISIONED", "PAY_PER_REQUEST"],
    )? {
        meta.billing_mode = billing;
    }
    if input.has("ProvisionedThroughput") || meta.billing_mode == "PAY_PER_REQUEST" {
        meta.throughput = throughput(input.0.get("ProvisionedThroughput"), &meta.billing_mode, "")?;
    }
    if let Some(protect) = input.bool("DeletionProtectionEnabled")? {
        meta.deletion_protection = protect;
    }
    let mut defined = meta.attribute_definitions.clone();
    if input.has("AttributeDefinitions") {
        for d in attribute_definitions(input)? {
            match defined.iter().find(|a| a.name == d.name) {
                Some(old) if old.kind != d.kind => {
                    return Err(invalid(format!(
                        "Cannot change the type of attribute {}",
                        d.name
                    )))
                }
                Some(_) => {}
                None => defined.push(d),
            }
        }
    }
    for change in input
        .array("GlobalSecondaryIndexUpdates")?
        .into_iter()
        .flatten()
    {
        if let Some(create) = change.get("Create").filter(|c| !c.is_null()) {
            let active_ms = now + registry.config().create_delay_ms.max(0);
            let index = index_meta(create, &defined, &meta.billing_mode, active_ms)?;
            if meta.index(&index.name).is_some() {
                return Err(invalid(format!(
                    "Attempting to create an index which already exists: {}",
                    index.name
                )));
            }
            meta.indexes.push(index);
        } else if let Some(delete) = change.get("Delete").filter(|c| !c.is_null()) {
            let index = delete["IndexName"].as_str().unwrap_or_default();
            if meta.index(index).is_none() {
                return Err(DynError::not_found(format!(
                    "Requested resource not found: Index: {index} not found"
                )));
            }
            meta.indexes.retain(|i| i.name != index);
        } else if change.get("Update").is_some_and(|u| !u.is_null()) {
            // Throughput of an index: nothing is throttled here, so nothing changes.
        } else {
            return Err(invalid(
                "One of GlobalSecondaryIndexUpdate Create, Update or Delete must be given",
            ));
        }
    }
    // Definitions no key uses are dropped, as DynamoDB keeps only the ones in use.
    defined.retain(|d| {
        meta.key.attrs().any(|(a, _)| a.name == d.name)
            || meta
                .indexes
                .iter()
                .any(|i| i.key.attrs().any(|(a, _)| a.name == d.name))
    });
    meta.attribute_definitions = defined;
    service
        .store()?
        .put_table(&name, meta::encode(&meta))
        .await?;
    service.remember(Some(meta.clone()), &name).await?;
    let (items, bytes) = count(registry, &name).await?;
    let config = registry.config();
    Ok(
        json!({ "TableDescription": meta.describe(now, &config.region, &config.account_id, items, bytes, None) }),
    )
}

pub async fn delete(registry: &Registry, input: &Input) -> Result<Json, DynError> {
    let name = input.table_name()?;
    let service = &registry.dynamodb;
    let _writes = service.writes.lock().await;
    let meta = service
        .table(&name)
        .await?
        .ok_or_else(|| DynError::table_not_found(&name))?;
    if meta.deletion_protection {
        return Err(DynError::validation(format!(
            "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first. Table: {}",
            meta.arn(&registry.config().region, &registry.config().account_id)
        )));
    }
    let (items, bytes) = count(registry, &name).await?;
    service.store()?.delete_table(&name).await?;
    service.remember(None, &name).await?;
    let config = registry.config();
    Ok(
        json!({ "TableDescription": meta.describe(registry.now(), &config.region, &config.account_id, items, bytes, Some("DELETING")) }),
    )
}

pub async fn list(registry: &Registry, input: &Input) -> Result<Json, DynError> {
    let limit = input.int("Limit")?.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(DynError::validation(format!(
            "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value {} 100",
            if limit < 1 { "greater than or equal to 1" } else { "less than or equal to" }
        ).replace("greater than or equal to 1 100", "greater than or equal to 1")));
    }
    let start = input.str("ExclusiveStartTableName")?;
    let names: Vec<String> = registry
        .dynamodb
        .table_names()
        .await?
        .into_iter()
        .filter(|n| start.is_none_or(|s| n.as_str() > s))
        .collect();
    let page: Vec<&String> = names.iter().take(limit as usize).collect();
    let mut out = json!({ "TableNames": page });
    if names.len() > page.len() {
        if let Some(last) = page.last() {
            out["LastEvaluatedTableName"] = json!(last);
        }
    }
    Ok(out)
}
