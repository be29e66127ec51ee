//! The checks AWS makes before an operation runs, as pure functions of the request's parts:
//! method, body size, body shape, operation, authentication — in AWS's order. The server
//! (`server/connection.rs`) only reads the parts off the wire and renders what these decide.
//!
//! Here a signature is only required to be present and well formed (a request with neither
//! header nor presigned query gets MissingAuthenticationTokenException); `--verify-signatures`
//! checks it afterwards (`sigv4.rs`).

use super::{Encoding, Operation};
use crate::error::ApiError;

/// Largest request body read: a full PutRecords (10 MiB of data) in base64 plus JSON framing.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// What AWS answers (403, XML) to any method but POST: it cannot tell the operation.
pub const NOT_POST_BODY: &str = "<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n</AccessDeniedException>\n";

/// The request's parts the checks look at, as read off the wire.
pub struct RequestHead<'a> {
    pub encoding: Encoding,
    /// The X-Amz-Target header, parsed.
    pub operation: Result<Operation, ApiError>,
    pub authorization: Option<&'a str>,
    pub query: Option<&'a str>,
    /// An X-Amz-Date or Date header is present.
    pub dated: bool,
}

/// A body the declared Content-Length already says is too large (answered 413 at once).
pub fn declared_too_large(content_length: Option<&str>) -> bool {
    content_length
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
}

/// The 413 answer's error, also for a body that turns out too large while read.
pub fn too_large() -> ApiError {
    ApiError::Serialization(Some(format!(
        "Request body exceeds the maximum of {MAX_BODY_BYTES} bytes"
    )))
}

/// Checks a POST whose body has been read: body present, JSON body an object, operation known,
/// authentication — in that order. Returns the operation to run.
pub fn check(head: RequestHead<'_>, body: &[u8]) -> Result<Operation, ApiError> {
    if is_blank(body) {
        head.operation?;
        return Err(ApiError::Serialization(None));
    }
    check_body(head.encoding, body)?;
    check_head(&head)
}

/// The checks that need only the headers: the operation and the signature's presence. When
/// they fail, [`check`] fails too whatever the body, so the body need not be read whole (only
/// its first non-blank byte decides which error AWS names first). Returns the operation.
pub fn check_head(head: &RequestHead<'_>) -> Result<Operation, ApiError> {
    let op = head.operation.clone()?;
    check_auth(head.authorization, head.query, head.dated)?;
    Ok(op)
}

/// The body's own rules, for a request whose headers passed [`check_head`]: present, and a
/// JSON body an object. With [`check_head`] first, the same verdict as [`check`].
pub fn check_body(encoding: Encoding, body: &[u8]) -> Result<(), ApiError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => Err(ApiError::Serialization(None)),
        Some(b) if encoding == Encoding::Json && *b != b'{' => Err(ApiError::Serialization(None)),
        Some(_) => Ok(()),
    }
}

fn is_blank(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

/// Any well-formed SigV4 header (or presigned query) passes here; `sigv4.rs` verifies it when asked.
pub fn check_auth(
    authorization: Option<&str>,
    query: Option<&str>,
    dated: bool,
) -> Result<(), ApiError> {
    let query_auth = query.is_some_and(|q| q.contains("X-Amz-Algorithm="));
    match (authorization, query_auth) {
        (Some(_), true) => Err(ApiError::IncompleteSignature(
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.".into(),
        )),
        (None, false) => Err(ApiError::MissingAuthenticationToken),
        (None, true) => {
            let q = query.unwrap_or_default();
            let missing: String = [
                "X-Amz-Algorithm",
                "X-Amz-Credential",
                "X-Amz-Signature",
                "X-Amz-SignedHeaders",
                "X-Amz-Date",
            ]
            .iter()
            .filter(|p| !q.split('&').any(|kv| kv.starts_with(&format!("{p}="))))
            .map(|p| format!("AWS query-string parameters must include '{p}'. "))
            .collect();
            if missing.is_empty() {
                Ok(())
            } else {
                Err(ApiError::IncompleteSignature(format!(
                    "{missing}Re-examine the query-string parameters."
                )))
            }
        }
        (Some(auth), false) => {
            let mut missing = String::new();
            // Checked on every request: no allocation unless something is missing.
            for (param, with_equals) in [
                ("Credential", "Credential="),
                ("Signature", "Signature="),
                ("SignedHeaders", "SignedHeaders="),
            ] {
                if !auth.contains(with_equals) {
                    missing.push_str(&format!(
                        "Authorization header requires '{param}' parameter. "
                    ));
                }
            }
            if !dated {
                missing.push_str("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ");
            }
            if missing.is_empty() {
                Ok(())
            } else {
                Err(ApiError::IncompleteSignature(format!(
                    "{missing}Authorization={auth}"
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head<'a>(operation: Option<&str>, authorization: Option<&'a str>) -> RequestHead<'a> {
        RequestHead {
            encoding: Encoding::Json,
            operation: super::super::parse_target(operation),
            authorization,
            query: None,
            dated: true,
        }
    }

    const AUTH: &str = "AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=ff";
    const TARGET: &str = "Kinesis_20131202.ListStreams";

    #[test]
    fn a_well_formed_request_names_its_operation() {
        assert_eq!(
            check(head(Some(TARGET), Some(AUTH)), b"{}").unwrap(),
            Operation::ListStreams
        );
    }

    #[test]
    fn the_checks_run_in_aws_order() {
        // An empty body with an unknown operation: the operation is reported first...
        let e = check(head(Some("Kinesis_20131202.Nope"), None), b" ").unwrap_err();
        assert_eq!(e.type_name(), "UnknownOperationException");
        // ...with a known one, the missing body, before authentication.
        let e = check(head(Some(TARGET), None), b"").unwrap_err();
        assert_eq!(e.type_name(), "SerializationException");
        // A JSON body that is not an object, before the operation.
        let e = check(head(Some("Kinesis_20131202.Nope"), None), b"[]").unwrap_err();
        assert_eq!(e.type_name(), "SerializationException");
        // The operation before authentication.
        let e = check(head(Some("Kinesis_20131202.Nope"), None), b"{}").unwrap_err();
        assert_eq!(e.type_name(), "UnknownOperationException");
        let e = check(head(Some(TARGET), None), b"{}").unwrap_err();
        assert_eq!(e.type_name(), "MissingAuthenticationTokenException");
    }

    #[test]
    fn a_cbor_body_need_not_be_an_object() {
        let mut h = head(Some(TARGET), Some(AUTH));
        h.encoding = Encoding::Cbor;
        assert!(check(h, &[0xa0]).is_ok());
    }

    #[test]
    fn the_declared_length_is_checked_before_reading() {
        assert!(!declared_too_large(None));
        assert!(!declared_too_large(Some("16777216")));
        assert!(declared_too_large(Some("16777217")));
        assert!(!declared_too_large(Some("not a number")));
    }

    #[test]
    fn presigned_queries_name_what_they_lack() {
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a";
        let Err(ApiError::IncompleteSignature(text)) = check_auth(None, Some(q), false) else {
            panic!("accepted an incomplete presigned query");
        };
        assert!(
            text.contains("'X-Amz-Signature'")
                && text.ends_with("Re-examine the query-string parameters."),
            "{text}"
        );
        let Err(ApiError::IncompleteSignature(_)) = check_auth(Some(AUTH), Some(q), true) else {
            panic!("accepted a header and a presigned query together");
        };
    }

    #[test]
    fn a_signature_header_names_what_it_lacks() {
        let full = "AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=ff";
        assert!(check_auth(Some(full), None, true).is_ok());
        let Err(ApiError::IncompleteSignature(text)) =
            check_auth(Some("AWS4-HMAC-SHA256 Credential=a/b"), None, false)
        else {
            panic!("accepted a header without Signature, SignedHeaders or a date");
        };
        assert!(text.starts_with("Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "), "{text}");
    }
}
