//! CloudWatch's answers in each encoding.
//!
//! - query: `text/xml`, `<PutMetricDataResponse>` with the request id, errors as
//!   `<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error>`;
//! - JSON 1.0 and RPCv2 CBOR: `{}` / an empty CBOR map on success; errors as
//!   `{"__type": "com.amazonaws.cloudwatch#…Exception", "message": …}` with the
//!   awsQueryCompatible header `x-amzn-query-error: <query code>;Sender`, from which SDKs
//!   take the error code CloudWatch's query protocol would have given. CBOR answers carry
//!   `smithy-protocol: rpc-v2-cbor`, which RPCv2 clients check.

use super::datum::CwError;
use super::{Answer, Wire};

const XMLNS: &str = "http://monitoring.amazonaws.com/doc/2010-08-01/";

pub fn success(wire: &Wire, request_id: &str) -> Answer {
    match wire {
        Wire::Query => Answer {
            status: 200,
            content_type: "text/xml",
            headers: vec![("x-amzn-requestid", request_id.to_string())],
            body: format!(
                "<PutMetricDataResponse xmlns=\"{XMLNS}\">\n  <ResponseMetadata>\n    \
                 <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n\
                 </PutMetricDataResponse>\n"
            )
            .into_bytes(),
        },
        Wire::Json(_) => Answer {
            status: 200,
            content_type: "application/x-amz-json-1.0",
            headers: vec![("x-amzn-requestid", request_id.to_string())],
            body: b"{}".to_vec(),
        },
        Wire::Cbor(_) => Answer {
            status: 200,
            content_type: "application/cbor",
            headers: vec![
                ("x-amzn-requestid", request_id.to_string()),
                ("smithy-protocol", "rpc-v2-cbor".into()),
            ],
            // The empty map: PutMetricData's output has no members.
            body: vec![0xa0],
        },
    }
}

pub fn error(wire: &Wire, e: &CwError, request_id: &str) -> Answer {
    let fault = if e.status >= 500 {
        "Receiver"
    } else {
        "Sender"
    };
    let json_type = format!("com.amazonaws.cloudwatch#{}", e.json_type);
    let query_error = format!("{};{fault}", e.code);
    match wire {
        Wire::Query => Answer {
            status: e.status,
            content_type: "text/xml",
            headers: vec![("x-amzn-requestid", request_id.to_string())],
            body: format!(
                "<ErrorResponse xmlns=\"{XMLNS}\">\n  <Error>\n    <Type>{fault}</Type>\n    \
                 <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  \
                 <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
                e.code,
                escape(&e.message)
            )
            .into_bytes(),
        },
        Wire::Json(_) => Answer {
            status: e.status,
            content_type: "application/x-amz-json-1.0",
            headers: vec![
                ("x-amzn-requestid", request_id.to_string()),
                ("x-amzn-query-error", query_error),
            ],
            body: serde_json::json!({"__type": json_type, "message": e.message})
                .to_string()
                .into_bytes(),
        },
        Wire::Cbor(_) => {
            let mut body = Vec::new();
            let value = ciborium::Value::Map(vec![
                ("__type".into(), json_type.into()),
                ("message".into(), e.message.clone().into()),
            ]);
            // Writing a Value to a Vec cannot fail.
            let _ = ciborium::ser::into_writer(&value, &mut body);
            Answer {
                status: e.status,
                content_type: "application/cbor",
                headers: vec![
                    ("x-amzn-requestid", request_id.to_string()),
                    ("smithy-protocol", "rpc-v2-cbor".into()),
                    ("x-amzn-query-error", query_error),
                ],
                body,
            }
        }
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}
