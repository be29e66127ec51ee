//! The settings DynamoDB keeps beside a table and kinesd stores and describes without acting
//! on them: continuous backups (point-in-time recovery), time to live (items do not expire
//! here) and tags.

use super::error::DynError;
use super::input::Input;
use super::meta::{self, TableMeta};
use crate::streams::Registry;
use serde_json::{json, Map, Value as Json};

fn not_null(field: &str) -> DynError {
    DynError::validation(format!(
        "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
    ))
}

/// The table of the continuous-backup and TTL operations, which say "TableNotFound".
async fn table_for_settings(registry: &Registry, name: &str) -> Result<TableMeta, DynError> {
    registry.dynamodb.table(name).await?.ok_or_else(|| {
        let mut e = DynError::not_found(format!("Table not found: {name}"));
        e.type_name = "com.amazonaws.dynamodb.v20120810#TableNotFoundException".into();
        e
    })
}

fn backups_json(meta: &TableMeta) -> Json {
    json!({ "ContinuousBackupsDescription": {
        "ContinuousBackupsStatus": "ENABLED",
        "PointInTimeRecoveryDescription": {
            "PointInTimeRecoveryStatus": if meta.point_in_time_recovery { "ENABLED" } else { "DISABLED" },
        },
    }})
}

async fn store_setting(registry: &Registry, meta: TableMeta) -> Result<(), DynError> {
    let service = &registry.dynamodb;
    service
        .store()?
        .put_table(&meta.name, meta::encode(&meta))
        .await?;
    let name = meta.name.clone();
    service.remember(Some(meta), &name).await
}

pub async fn update_backups(registry: &Registry, input: &Input) -> Result<Json, DynError> {
    let name = input.table_name()?;
    let spec: &Map<String, Json> = input
        .object("PointInTimeRecoverySpecification")?
        .ok_or_else(|| not_null("pointInTimeRecoverySpecification"))?;
    let enabled = spec
        .get("PointInTimeRecoveryEnabled")
        .and_then(Json::as_bool)
        .ok_or_else(|| not_null("pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled"))?;
    let _writes = registry.dynamodb.writes.lock().await;
    let mut meta = table_for_settings(registry, &name).await?;
    meta.point_in_time_recovery = enabled;
    let answer = backups_json(&meta);
    store_setting(registry, meta).await?;
    Ok(answer)
}

pub async fn describe_backups(registry: &Registry, input: &Input) -> Result<Json, DynError> {
    let name = input.table_name()?;
    Ok(backups_json(&table_for_settings(registry, &name).await?))
}

pub async fn update_ttl(registry: &Registry, input: &Input) -> Result<Json, DynError> {
    let name = input.table_name()?;
    let spec = input
        .object("TimeToLiveSpecification")?
        .ok_or_else(|| not_null("timeToLiveSpecification"))?;
    let enabled = spec
        .get("Enabled")
        .and_then(Json::as_bool)
        .ok_or_else(|| not_null("timeToLiveSpecification.enabled"))?;
    let attribute = spec
        .get("AttributeName")
        .and_then(Json::as_str)
        .ok_or_else(|| not_null("timeToLiveSpecification.attributeName"))?;
    let _writes = registry.dynamodb.writes.lock().await;
    let mut meta = registry
        .dynamodb
        .table(&name)
        .await?
        .ok_or_else(DynError::no_such_table)?;
    match (&meta.ttl_attribute, enabled) {
        (Some(_), true) => return Err(DynError::validation("TimeToLive is already enabled")),
        (None, false) => return Err(DynError::validation("TimeToLive is already disabled")),
        _ => {}
    }
    meta.ttl_attribute = enabled.then(|| attribute.to_string());
    store_setting(registry, meta).await?;
    Ok(json!({ "TimeToLiveSpecification": { "Enabled": enabled, "AttributeName": attribute } }))
}

pub async fn describe_ttl(registry: &Registry, input: &Input) -> Result<Json, DynError> {
    let name = input.table_name()?;
    let meta = registry
        .dynamodb
        .table(&name)
        .await?
        .ok_or_else(DynError::no_such_table)?;
    Ok(match meta.ttl_attribute {
        Some(attribute) => {
            json!({ "TimeToLiveDescription": { "TimeToLiveStatus": "ENABLED", "AttributeName": attribute } })
        }
        None => json!({ "TimeToLiveDescription": { "TimeToLiveStatus": "DISABLED" } }),
    })
}

/// The table a tagging request's `ResourceArn` names.
async fn tagged_table(registry: &Registry, input: &Input) -> Result<TableMeta, DynError> {
    let arn = input
        .str("ResourceArn")?
        .ok_or_else(|| not_null("resourceArn"))?;
    let config = registry.config();
    let prefix = format!(
        "arn:aws:dynamodb:{}:{}:table/",
        config.region, config.account_id
    );
    let Some(name) = arn.strip_prefix(&prefix).filter(|n| !n.contains('/')) else {
        return Err(DynError::validation(format!("Invalid TableArn: {arn}")));
    };
    registry.dynamodb.table(name).await?.ok_or_else(|| {
        DynError::not_found(format!(
            "Requested resource not found: ResourcArn: {arn} not found"
        ))
    })
}

pub async fn tag(registry: &Registry, input: &Input) -> Result<Json, DynError> {
    let tags = input.array("Tags")?.ok_or_else(|| not_null("tags"))?;
    let mut pairs = Vec::with_capacity(tags.len());
    for t in tags {
        let key = t["Key"]
            .as_str()
            .ok_or_else(|| not_null("tags.member.key"))?;
        let value = t["Value"]
            .as_str()
            .ok_or_else(|| not_null("tags.member.value"))?;
        pairs.push((key.to_string(), value.to_string()));
    }
    let _writes = registry.dynamodb.writes.lock().await;
    let mut meta = tagged_table(registry, input).await?;
    for (key, value) in pairs {
        meta.tags.retain(|(k, _)| *k != key);
        meta.tags.push((key, value));
    }
    if meta.tags.len() > 50 {
        return Err(DynError::validation(
            "One or more parameter values were invalid: Too many tags for the resource; a table may have at most 50",
        ));
    }
    store_setting(registry, meta).await?;
    Ok(json!({}))
}

pub async fn untag(registry: &Registry, input: &Input) -> Result<Json, DynError> {
    let keys: Vec<String> = input
        .array("TagKeys")?
        .ok_or_else(|| not_null("tagKeys"))?
        .iter()
        .filter_map(Json::as_str)
        .map(str::to_string)
        .collect();
    let _writes = registry.dynamodb.writes.lock().await;
    let mut meta = tagged_table(registry, input).await?;
    meta.tags.retain(|(k, _)| !keys.contains(k));
    store_setting(registry, meta).await?;
    Ok(json!({}))
}

pub async fn list_tags(registry: &Registry, input: &Input) -> Result<Json, DynError> {
    let meta = tagged_table(registry, input).await?;
    let tags: Vec<Json> = meta
        .tags
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    Ok(json!({ "Tags": tags }))
}
