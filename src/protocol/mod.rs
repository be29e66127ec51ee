//! The wire protocol, kept pure: bytes in, typed requests out; typed responses and errors in,
//! bytes out. No I/O, no runtime, no business rules — and the only place errors are rendered.

pub mod arn;
pub mod cbor;
pub mod eventstream;
pub mod host;
pub mod model;
pub mod request;
pub mod sigv4;
pub mod types;
pub mod validate;

use crate::error::ApiError;
use model::Validate;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub const TARGET_PREFIX: &str = "Kinesis_20131202.";

macro_rules! operations {
    ($($op:ident),* $(,)?) => {
        /// The 39 operations of Kinesis API version 2013-12-02.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation { $($op),* }
        impl Operation {
            pub const ALL: &'static [Operation] = &[$(Operation::$op),*];
            pub fn name(self) -> &'static str {
                match self { $(Operation::$op => stringify!($op)),* }
            }
            pub fn from_name(name: &str) -> Option<Operation> {
                match name { $(stringify!($op) => Some(Operation::$op),)* _ => None }
            }
        }
    };
}

operations!(
    AddTagsToStream,
    CreateStream,
    DecreaseStreamRetentionPeriod,
    DeleteResourcePolicy,
    DeleteStream,
    DeregisterStreamConsumer,
    DescribeAccountSettings,
    DescribeLimits,
    DescribeStream,
    DescribeStreamConsumer,
    DescribeStreamSummary,
    DisableEnhancedMonitoring,
    EnableEnhancedMonitoring,
    GetRecords,
    GetResourcePolicy,
    GetShardIterator,
    IncreaseStreamRetentionPeriod,
    ListShards,
    ListStreamConsumers,
    ListStreams,
    ListTagsForResource,
    ListTagsForStream,
    MergeShards,
    PutRecord,
    PutRecords,
    PutResourcePolicy,
    RegisterStreamConsumer,
    RemoveTagsFromStream,
    SplitShard,
    StartStreamEncryption,
    StopStreamEncryption,
    SubscribeToShard,
    TagResource,
    UntagResource,
    UpdateAccountSettings,
    UpdateMaxRecordSize,
    UpdateShardCount,
    UpdateStreamMode,
    UpdateStreamWarmThroughput,
);

impl Operation {
    /// The record operations: served from a node's cached view of the streams, without
    /// asking the catalogue first (see `api::dispatch`).
    pub fn is_data_plane(self) -> bool {
        matches!(
            self,
            Operation::PutRecord
                | Operation::PutRecords
                | Operation::GetRecords
                | Operation::SubscribeToShard
        )
    }
}

/// The body encoding of a request, and therefore of its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Json,
    Cbor,
}

impl Encoding {
    /// `application/x-amz-cbor-1.1` selects CBOR; everything else is read as JSON
    /// (`application/x-amz-json-1.1`, and the `application/json` some clients send).
    pub fn from_content_type(content_type: Option<&str>) -> Encoding {
        match content_type {
            Some(ct) if ct.trim_start().starts_with("application/x-amz-cbor") => Encoding::Cbor,
            _ => Encoding::Json,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Json => "application/x-amz-json-1.1",
            Encoding::Cbor => "application/x-amz-cbor-1.1",
        }
    }
}

/// Resolves `X-Amz-Target`. An unknown service or operation is an UnknownOperationException.
pub fn parse_target(target: Option<&str>) -> Result<Operation, ApiError> {
    target
        .and_then(|t| t.strip_prefix(TARGET_PREFIX))
        .and_then(Operation::from_name)
        .ok_or(ApiError::UnknownOperation(None))
}

/// Decodes and shape-validates one request body.
pub fn decode<T: DeserializeOwned + Validate>(
    encoding: Encoding,
    body: &[u8],
) -> Result<T, ApiError> {
    let input: T = match encoding {
        Encoding::Json => {
            // A body that is not a JSON object is a SerializationException without message.
            let trimmed = body.iter().position(|b| !b.is_ascii_whitespace());
            if trimmed.map(|i| body[i]) != Some(b'{') {
                return Err(ApiError::Serialization(None));
            }
            serde_json::from_slice(body).map_err(json_error)?
        }
        Encoding::Cbor => cbor::decode(body)?,
    };
    input.validate()?;
    Ok(input)
}

fn json_error(e: serde_json::Error) -> ApiError {
    if e.is_syntax() || e.is_eof() {
        return ApiError::Serialization(None);
    }
    let text = e.to_string();
    let text = text.split(" at line ").next().unwrap_or(&text);
    serde_error(text)
}

/// Our visitors already speak Coral ("... can not be converted to ..."); serde's own type
/// errors (the same texts from serde_json and ciborium) are turned into the same shape.
fn serde_error(text: &str) -> ApiError {
    let text = text.to_string();
    let message = if let Some(rest) = text.strip_prefix("invalid type: ") {
        let found = rest.split(',').next().unwrap_or(rest);
        let expected = rest.rsplit("expected ").next().unwrap_or("");
        let java = if found.starts_with("string") {
            "class java.lang.String"
        } else if found.starts_with("boolean") {
            "class java.lang.Boolean"
        } else if found.starts_with("integer") || found.starts_with("floating") {
            "class java.math.BigDecimal"
        } else if found.starts_with("sequence") {
            return ApiError::Serialization(Some("Start of list found where not expected".into()));
        } else if found.starts_with("map") {
            return ApiError::Serialization(Some(
                "Start of structure or map found where not expected.".into(),
            ));
        } else {
            "null"
        };
        let target =
            if expected.contains("i64") || expected.contains("i32") || expected.contains("integer")
            {
                "Integer"
            } else if expected.contains("bool") {
                "Boolean"
            } else if expected.contains("map") || expected.contains("struct") {
                return ApiError::Serialization(Some("Expected map or null".into()));
            } else if expected.contains("sequence") {
                return ApiError::Serialization(Some("Expected list or null".into()));
            } else {
                "String"
            };
        format!("{java} can not be converted to an {target}")
    } else {
        text
    };
    ApiError::Serialization(Some(message))
}

/// Encodes a successful answer. Operations without output members answer with an empty body.
pub fn encode<T: Serialize>(encoding: Encoding, output: &T) -> Vec<u8> {
    match encoding {
        Encoding::Cbor => cbor::encode(output),
        Encoding::Json => {
            let body = serde_json::to_vec(output).unwrap_or_else(|_| b"{}".to_vec());
            if body == b"{}" {
                Vec::new()
            } else {
                body
            }
        }
    }
}

/// Renders an error body: `{"__type": "...", "message": "..."}` (message omitted when AWS omits it),
/// as JSON or as a CBOR map of the same two text strings.
pub fn render_error(encoding: Encoding, error: &ApiError) -> Vec<u8> {
    if encoding == Encoding::Cbor {
        return cbor::render_error(error.type_name(), error.message());
    }
    #[derive(Serialize)]
    struct Body<'a> {
        __type: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<&'a str>,
    }
    serde_json::to_vec(&Body {
        __type: error.type_name(),
        message: error.message(),
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_39_operations() {
        assert_eq!(Operation::ALL.len(), 39);
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(*op));
        }
        assert_eq!(
            parse_target(Some("Kinesis_20131202.PutRecord")),
            Ok(Operation::PutRecord)
        );
        assert!(parse_target(Some("Kinesis_20131202.Nope")).is_err());
        assert!(parse_target(Some("DynamoDB_20120810.PutRecord")).is_err());
    }

    #[test]
    fn wrong_types_are_serialization_errors() {
        let e = decode::<model::CreateStreamInput>(Encoding::Json, br#"{"StreamName": 5}"#)
            .unwrap_err();
        assert_eq!(e.type_name(), "SerializationException");
        assert_eq!(
            e.message(),
            Some("class java.math.BigDecimal can not be converted to an String")
        );
        let e = decode::<model::CreateStreamInput>(Encoding::Json, br#"{"ShardCount": "x"}"#)
            .unwrap_err();
        assert_eq!(
            e.message(),
            Some("class java.lang.String can not be converted to an Integer")
        );
        let e = decode::<model::CreateStreamInput>(Encoding::Json, b"{not json").unwrap_err();
        assert_eq!(e, ApiError::Serialization(None));
    }

    #[test]
    fn errors_render_type_and_message() {
        let body = render_error(
            Encoding::Json,
            &ApiError::ResourceNotFound("Stream s under account 000000000000 not found.".into()),
        );
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"__type":"ResourceNotFoundException","message":"Stream s under account 000000000000 not found."}"#
        );
        let body = render_error(Encoding::Json, &ApiError::UnknownOperation(None));
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"__type":"UnknownOperationException"}"#
        );
    }
}
