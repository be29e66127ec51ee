//! A table's stored description (the document the table store keeps), its status on kinesd's
//! clock, and the `TableDescription` DynamoDB answers with.
//!
//! Invariants: the key attributes (of the table and of every index) appear in
//! `attribute_definitions` with their types; an index's `active_ms` is when it turns ACTIVE
//! (its CREATING ends), as is the table's.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAttr {
    pub name: String,
    /// `S`, `N` or `B`.
    pub kind: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySchema {
    pub hash: KeyAttr,
    pub range: Option<KeyAttr>,
}

impl KeySchema {
    /// The key attributes, each with whether it is the hash key.
    pub fn attrs(&self) -> impl Iterator<Item = (&KeyAttr, bool)> {
        std::iter::once((&self.hash, true)).chain(self.range.iter().map(|r| (r, false)))
    }

    pub fn to_json(&self) -> Json {
        let mut out = vec![json!({"AttributeName": self.hash.name, "KeyType": "HASH"})];
        if let Some(r) = &self.range {
            out.push(json!({"AttributeName": r.name, "KeyType": "RANGE"}));
        }
        Json::Array(out)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throughput {
    pub read: i64,
    pub write: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexMeta {
    pub name: String,
    pub key: KeySchema,
    /// The `Projection` as the client sent it.
    pub projection: Json,
    pub throughput: Option<Throughput>,
    pub active_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableMeta {
    pub name: String,
    pub id: String,
    pub created_ms: i64,
    pub active_ms: i64,
    pub key: KeySchema,
    pub attribute_definitions: Vec<KeyAttr>,
    /// `PAY_PER_REQUEST` or `PROVISIONED`.
    pub billing_mode: String,
    pub throughput: Option<Throughput>,
    pub indexes: Vec<IndexMeta>,
    pub deletion_protection: bool,
    pub tags: Vec<(String, String)>,
    pub point_in_time_recovery: bool,
    /// `TimeToLiveSpecification`: the attribute, when enabled.
    pub ttl_attribute: Option<String>,
    pub sse: Option<Json>,
}

/// What a stored table document failed to be (never expected: kinesd wrote it).
pub fn decode(doc: &[u8]) -> Option<TableMeta> {
    serde_json::from_slice(doc).ok()
}

pub fn encode(meta: &TableMeta) -> Vec<u8> {
    serde_json::to_vec(meta).unwrap_or_default()
}

impl TableMeta {
    pub fn is_active(&self, now_ms: i64) -> bool {
        now_ms >= self.active_ms
    }

    pub fn index(&self, name: &str) -> Option<&IndexMeta> {
        self.indexes.iter().find(|i| i.name == name)
    }

    pub fn arn(&self, region: &str, account: &str) -> String {
        format!("arn:aws:dynamodb:{region}:{account}:table/{}", self.name)
    }

    /// `TableDescription`. `items` and `bytes` are counted by the caller.
    pub fn describe(
        &self,
        now_ms: i64,
        region: &str,
        account: &str,
        items: u64,
        bytes: u64,
        status: Option<&str>,
    ) -> Json {
        let status = status.unwrap_or(if self.is_active(now_ms) {
            "ACTIVE"
        } else {
            "CREATING"
        });
        let arn = self.arn(region, account);
        let mut d = json!({
            "TableName": self.name,
            "TableId": self.id,
            "TableArn": arn,
            "TableStatus": status,
            "CreationDateTime": self.created_ms as f64 / 1000.0,
            "KeySchema": self.key.to_json(),
            "AttributeDefinitions": self.attribute_definitions.iter()
                .map(|a| json!({"AttributeName": a.name, "AttributeType": a.kind}))
                .collect::<Vec<_>>(),
            "ItemCount": items,
            "TableSizeBytes": bytes,
            "ProvisionedThroughput": throughput_json(self.throughput.as_ref()),
            "DeletionProtectionEnabled": self.deletion_protection,
        });
        if self.billing_mode == "PAY_PER_REQUEST" {
            d["BillingModeSummary"] = json!({
                "BillingMode": "PAY_PER_REQUEST",
                "LastUpdateToPayPerRequestDateTime": self.created_ms as f64 / 1000.0,
            });
        } else {
            d["BillingModeSummary"] = json!({ "BillingMode": "PROVISIONED" });
        }
        if !self.indexes.is_empty() {
            d["GlobalSecondaryIndexes"] = Json::Array(
                self.indexes
                    .iter()
                    .map(|i| {
                        json!({
                            "IndexName": i.name,
                            "KeySchema": i.key.to_json(),
                            "Projection": i.projection,
                            "IndexStatus": if now_ms >= i.active_ms { "ACTIVE" } else { "CREATING" },
                            "Backfilling": now_ms < i.active_ms,
                            "ProvisionedThroughput": throughput_json(i.throughput.as_ref()),
                            "IndexSizeBytes": 0,
                            "ItemCount": 0,
                            "IndexArn": format!("{arn}/index/{}", i.name),
                        })
                    })
                    .collect(),
            );
        }
        if let Some(sse) = &self.sse {
            if sse["Enabled"].as_bool() == Some(true) {
                d["SSEDescription"] = json!({"Status": "ENABLED", "SSEType": "KMS"});
            }
        }
        d
    }
}

fn throughput_json(t: Option<&Throughput>) -> Json {
    let (read, write) = t.map(|t| (t.read, t.write)).unwrap_or((0, 0));
    json!({
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": read,
        "WriteCapacityUnits": write,
    })
}
