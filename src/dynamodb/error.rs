//! DynamoDB's errors as its JSON 1.0 protocol sends them: status 400 (500 for an internal
//! failure), `{"__type": "<namespace>#<Name>", "message": "..."}`, with the namespace DynamoDB
//! uses for each (validation and protocol errors come from Coral, the rest from the service).

use serde_json::{json, Value as Json};

const SERVICE: &str = "com.amazonaws.dynamodb.v20120810";
const CORAL_VALIDATE: &str = "com.amazon.coral.validate";
const CORAL_SERVICE: &str = "com.amazon.coral.service";

#[derive(Clone, Debug, PartialEq)]
pub struct DynError {
    /// `namespace#Name`.
    pub type_name: String,
    pub message: String,
    pub status: u16,
    /// Members beside the message: `Item` of a failed condition (with
    /// `ReturnValuesOnConditionCheckFailure: ALL_OLD`), `CancellationReasons` of a transaction.
    pub extra: Option<(&'static str, Json)>,
}

impl DynError {
    fn new(namespace: &str, name: &str, message: impl Into<String>) -> DynError {
        DynError {
            type_name: format!("{namespace}#{name}"),
            message: message.into(),
            status: 400,
            extra: None,
        }
    }

    pub fn validation(message: impl Into<String>) -> DynError {
        DynError::new(CORAL_VALIDATE, "ValidationException", message)
    }

    pub fn serialization(message: impl Into<String>) -> DynError {
        DynError::new(CORAL_SERVICE, "SerializationException", message)
    }

    pub fn unknown_operation(op: &str) -> DynError {
        DynError::new(
            CORAL_SERVICE,
            "UnknownOperationException",
            format!(
                "kinesd serves the DynamoDB operations KCL consumers use; {op} is not one of them"
            ),
        )
    }

    pub fn not_found(message: impl Into<String>) -> DynError {
        DynError::new(SERVICE, "ResourceNotFoundException", message)
    }

    /// What item operations say of a table that does not exist.
    pub fn no_such_table() -> DynError {
        DynError::not_found("Requested resource not found")
    }

    /// What table operations say of a table that does not exist.
    pub fn table_not_found(name: &str) -> DynError {
        DynError::not_found(format!(
            "Requested resource not found: Table: {name} not found"
        ))
    }

    pub fn in_use(message: impl Into<String>) -> DynError {
        DynError::new(SERVICE, "ResourceInUseException", message)
    }

    pub fn condition_failed(old: Option<Json>) -> DynError {
        let mut e = DynError::new(
            SERVICE,
            "ConditionalCheckFailedException",
            "The conditional request failed",
        );
        e.extra = old.map(|item| ("Item", item));
        e
    }

    pub fn transaction_canceled(reasons: Vec<Json>) -> DynError {
        let codes: Vec<&str> = reasons
            .iter()
            .map(|r| r["Code"].as_str().unwrap_or("None"))
            .collect();
        let mut e = DynError::new(
            SERVICE,
            "TransactionCanceledException",
            format!(
                "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
                codes.join(", ")
            ),
        );
        e.extra = Some(("CancellationReasons", Json::Array(reasons)));
        e
    }

    pub fn internal(message: impl Into<String>) -> DynError {
        let mut e = DynError::new(SERVICE, "InternalServerError", message);
        e.status = 500;
        e
    }

    pub fn unavailable(message: impl Into<String>) -> DynError {
        let mut e = DynError::new(CORAL_SERVICE, "ServiceUnavailableException", message);
        e.status = 503;
        e
    }

    /// The short name (`ValidationException`), for logs and metrics.
    pub fn short_name(&self) -> &str {
        self.type_name.rsplit('#').next().unwrap_or(&self.type_name)
    }

    pub fn body(&self) -> Vec<u8> {
        let mut body = json!({ "__type": self.type_name });
        if !self.message.is_empty() {
            body["message"] = Json::String(self.message.clone());
        }
        if let Some((name, value)) = &self.extra {
            body[*name] = value.clone();
        }
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

impl From<shard_store::StoreError> for DynError {
    fn from(e: shard_store::StoreError) -> DynError {
        use shard_store::StoreError;
        match e {
            StoreError::DiskFull(m) | StoreError::Unavailable(m) => DynError::unavailable(m),
            // A write to a table deleted meanwhile.
            StoreError::Conflict(_) => DynError::no_such_table(),
            other => DynError::internal(other.to_string()),
        }
    }
}
