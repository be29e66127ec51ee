//! CloudWatch `PutMetricData` on kinesd's port, so a KCL application needs one endpoint.
//!
//! KCL consumers publish their metrics to CloudWatch; kinesd accepts them, validates them as
//! CloudWatch does, and keeps the latest values of each series in memory for its Prometheus
//! endpoint (`sink.rs`). Nothing else of CloudWatch is served.
//!
//! A request is CloudWatch's when it arrives in one of the three encodings the SDKs use
//! ([`Wire::of`]), before any Kinesis handling:
//! - the query protocol: a form body (`Action=PutMetricData&Version=2010-08-01&…`) posted
//!   without `X-Amz-Target`, answered in XML (botocore up to 1.4x, the AWS CLI v1, the JS SDK
//!   v2, the Java SDK v1/v2 until their JSON switch);
//! - JSON 1.0 with `X-Amz-Target: GraniteServiceVersion20100801.<Action>` (newer SDKs, with
//!   awsQueryCompatible errors);
//! - Smithy RPCv2 CBOR at `POST /service/GraniteServiceVersion20100801/operation/<Action>`
//!   with `smithy-protocol: rpc-v2-cbor` (the AWS SDK for Rust, so kcl-rs).
//!
//! Decided without a reference: the query protocol's `Version` is not checked (every SDK
//! sends 2010-08-01); another action's refusal adds "(kinesd serves only CloudWatch
//! PutMetricData)" to CloudWatch's wording; a malformed JSON or CBOR body is a
//! `SerializationException`; a body over 1 MB, once inflated, is a 413
//! `RequestEntityTooLarge`; unknown operations are 400 in every encoding.
//!
//! Invariants: every answer is CloudWatch's (success or its error types and wording, in the
//! request's encoding); no request can grow memory past the sink's bound; a request body is
//! at most [`MAX_BODY_BYTES`], after gzip decompression too (SDKs compress large ones).

mod datum;
mod render;
mod sink;
mod tree;

pub use sink::Sink;

use hyper::header::{HeaderMap, CONTENT_TYPE};
use hyper::Method;

/// CloudWatch's JSON and CBOR service name.
const SERVICE: &str = "GraniteServiceVersion20100801";
const CBOR_PATH: &str = "/service/GraniteServiceVersion20100801/operation/";
/// PutMetricData's request size limit (1 MB), decompressed.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The encoding a CloudWatch request came in, which its answer uses too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wire {
    /// Form body, XML answers.
    Query,
    /// JSON 1.0; the action from `X-Amz-Target`.
    Json(String),
    /// Smithy RPCv2 CBOR; the action from the path.
    Cbor(String),
}

impl Wire {
    /// Which CloudWatch encoding a request uses, if it is CloudWatch's at all. Kinesis requests
    /// always name a `Kinesis_20131202.` target and never post a form, so nothing of Kinesis
    /// is taken.
    pub fn of(method: &Method, path: &str, headers: &HeaderMap) -> Option<Wire> {
        if method != Method::POST {
            return None;
        }
        if let Some(action) = path.strip_prefix(CBOR_PATH) {
            return Some(Wire::Cbor(action.to_string()));
        }
        let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
        match target {
            Some(target) => {
                let (service, action) = target.split_once('.')?;
                (service == SERVICE).then(|| Wire::Json(action.to_string()))
            }
            None => {
                let form = headers
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|ct| {
                        ct.trim_start()
                            .starts_with("application/x-www-form-urlencoded")
                    });
                form.then_some(Wire::Query)
            }
        }
    }
}

/// A CloudWatch answer: status, content type, extra headers and body.
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// Runs one CloudWatch request (its body already read and decompressed) at `now_ms`.
pub fn answer(sink: &Sink, wire: &Wire, body: &[u8], now_ms: i64) -> Answer {
    let request_id = uuid_v4();
    let outcome = tree::decode(wire, body).and_then(|request| {
        let action = match wire {
            Wire::Query => request.action(),
            Wire::Json(action) | Wire::Cbor(action) => Ok(action.clone()),
        }?;
        if action != "PutMetricData" {
            return Err(datum::CwError::unknown_action(wire, &action));
        }
        let put = datum::PutMetricData::parse(&request, now_ms)?;
        sink.record(&put, now_ms);
        Ok(())
    });
    match outcome {
        Ok(()) => render::success(wire, &request_id),
        Err(e) => render::error(wire, &e, &request_id),
    }
}

/// The answer to a body over [`MAX_BODY_BYTES`] (or one that does not decompress).
pub fn too_large(wire: &Wire, size: usize) -> Answer {
    let e = datum::CwError::too_large(size);
    render::error(wire, &e, &uuid_v4())
}

/// The answer to a request kinesd's signature checks refused (`ApiError`'s Kinesis-style
/// names become the ones CloudWatch's query API uses), or to one without any signature.
pub fn refused(wire: &Wire, error: &crate::error::ApiError) -> Answer {
    let e = datum::CwError::auth(error.type_name(), error.status(), error.message());
    render::error(wire, &e, &uuid_v4())
}

/// True when the request carries no SigV4 signature at all (neither the header nor the
/// presigned query form): CloudWatch refuses it whether or not kinesd checks signatures.
pub fn unsigned(authorization: Option<&str>, query: Option<&str>) -> bool {
    let presigned = query.is_some_and(|q| q.split('&').any(|p| p.starts_with("X-Amz-Signature=")));
    authorization.is_none() && !presigned
}

/// The answer to a gzip body that does not decompress.
pub fn undecodable(wire: &Wire) -> Answer {
    let e = datum::CwError::undecodable();
    render::error(wire, &e, &uuid_v4())
}

fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
    let h = hex.concat();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests;
