//! Verifying AWS Signature Version 4, for `--verify-signatures`: the header form
//! (`Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`) and the
//! presigned query form (`X-Amz-Algorithm=…&X-Amz-Credential=…&X-Amz-Signature=…`), with
//! AWS's errors and texts (Coral, the framework behind Kinesis's JSON API):
//!
//! - an unknown access key: `UnrecognizedClientException`, "The security token included in
//!   the request is invalid.";
//! - a credential scoped to another region or service: `InvalidSignatureException`,
//!   "Credential should be scoped to a valid region. " / "…to correct service: 'kinesis'. ";
//! - a request more than 15 minutes from the server's clock: "Signature expired: …" or
//!   "Signature not yet current: …"; a presigned one past its X-Amz-Expires: "Signature
//!   expired: …" too;
//! - anything else that does not match (key, date, signed headers, body):
//!   `InvalidSignatureException`, "The request signature we calculated does not match the
//!   signature you provided. …", followed, as AWS does, by the canonical request and string
//!   to sign the server computed, so a user can find what differs.
//!
//! The payload is hashed whole unless `x-amz-content-sha256` says otherwise:
//! `UNSIGNED-PAYLOAD` is taken as signed, and the streaming forms
//! (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, `STREAMING-UNSIGNED-PAYLOAD-TRAILER`) are checked
//! only through their seed signature, over that literal value: the chunk signatures that
//! follow are not verified (no Kinesis SDK sends chunked bodies).
//!
//! Pure: the clock reading comes in as `now_ms`.

use crate::error::ApiError;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SERVICE: &str = "kinesis";
/// How far a request's time may be from the server's (Coral's window).
const SKEW_MS: i64 = 15 * 60 * 1000;

/// Access key id → secret access key.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials(HashMap<String, String>);

impl std::fmt::Debug for Credentials {
    // Secrets never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Credentials {
    /// Parses `AKID:SECRET` entries separated by commas or lines (`KINESD_CREDENTIALS`, or a
    /// file); blank lines and lines starting with `#` are skipped.
    pub fn parse(text: &str) -> Result<Credentials, String> {
        let mut keys = HashMap::new();
        for entry in text.split([',', '\n']).map(str::trim) {
            if entry.is_empty() || entry.starts_with('#') {
                continue;
            }
            match entry.split_once(':') {
                Some((id, secret)) if !id.trim().is_empty() && !secret.trim().is_empty() => {
                    keys.insert(id.trim().to_string(), secret.trim().to_string());
                }
                _ => {
                    let shown: String = entry.chars().take(24).collect();
                    return Err(format!(
                        "credentials: '{shown}…' is not ACCESS_KEY_ID:SECRET_ACCESS_KEY"
                    ));
                }
            }
        }
        if keys.is_empty() {
            return Err("credentials: no ACCESS_KEY_ID:SECRET_ACCESS_KEY entry".into());
        }
        Ok(Credentials(keys))
    }
}

/// A request's parts as received.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// The path as sent, still percent-encoded.
    pub path: &'a str,
    /// The query string as sent, without `?`.
    pub query: Option<&'a str>,
    /// Every header as received (HTTP/2's `:authority` given as `host`).
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// The signature's parts, from the header or the query (decoded).
struct Parts {
    credential: String,
    signed_headers: String,
    signature: String,
    amz_date: String,
    /// Presigned: seconds the signature is valid for.
    expires: Option<i64>,
}

/// Checks `request`'s signature for Kinesis in `region` at `now_ms`.
pub fn verify(
    request: &SignedRequest<'_>,
    credentials: &Credentials,
    region: &str,
    now_ms: i64,
) -> Result<(), ApiError> {
    verify_for(request, credentials, region, SERVICE, now_ms)
}

/// Checks `request`'s signature for `service` (the credential scope's service name: `kinesis`,
/// `monitoring` for CloudWatch, `dynamodb`) in `region` at `now_ms`.
pub fn verify_for(
    request: &SignedRequest<'_>,
    credentials: &Credentials,
    region: &str,
    service: &str,
    now_ms: i64,
) -> Result<(), ApiError> {
    let presigned = query_param(request.query, "X-Amz-Algorithm").is_some();
    let parts = if presigned {
        query_parts(request.query.unwrap_or_default())?
    } else {
        header_parts(request)?
    };
    let scope: Vec<&str> = parts.credential.split('/').collect();
    let [key_id, date, scope_region, scope_service, terminator] = scope[..] else {
        return Err(incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
            parts.credential
        )));
    };
    let Some(secret) = credentials.0.get(key_id) else {
        return Err(ApiError::UnrecognizedClient(
            "The security token included in the request is invalid.".into(),
        ));
    };
    let mut scope_errors = String::new();
    if scope_region != region {
        scope_errors.push_str("Credential should be scoped to a valid region. ");
    }
    if scope_service != service {
        scope_errors.push_str(&format!(
            "Credential should be scoped to correct service: '{service}'. "
        ));
    }
    if terminator != "aws4_request" {
        scope_errors
            .push_str("Credential should be scoped with a valid terminator: 'aws4_request'. ");
    }
    if !scope_errors.is_empty() {
        return Err(ApiError::InvalidSignature(scope_errors));
    }
    let Some(signed_at) = parse_amz_date(&parts.amz_date) else {
        return Err(incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
            parts.amz_date
        )));
    };
    if !parts.amz_date.starts_with(date) || date.len() != 8 {
        return Err(ApiError::InvalidSignature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{date}' != '{}', from '{}'.",
            &parts.amz_date[..8.min(parts.amz_date.len())],
            parts.amz_date
        )));
    }
    match parts.expires {
        Some(expires) if now_ms > signed_at + expires * 1000 => {
            return Err(ApiError::InvalidSignature(format!(
                "Signature expired: {} is now earlier than {} ({} - {expires} sec.)",
                amz_date(signed_at + expires * 1000),
                amz_date(now_ms),
                amz_date(now_ms),
            )));
        }
        Some(_) => {}
        None if signed_at < now_ms - SKEW_MS => {
            return Err(ApiError::InvalidSignature(format!(
                "Signature expired: {} is now earlier than {} ({} - 15 min.)",
                parts.amz_date,
                amz_date(now_ms - SKEW_MS),
                amz_date(now_ms)
            )));
        }
        None if signed_at > now_ms + SKEW_MS => {
            return Err(ApiError::InvalidSignature(format!(
                "Signature not yet current: {} is still later than {} ({} + 15 min.)",
                parts.amz_date,
                amz_date(now_ms + SKEW_MS),
                amz_date(now_ms)
            )));
        }
        None => {}
    }
    if !parts.signed_headers.split(';').any(|h| h == "host") {
        return Err(ApiError::InvalidSignature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    // A declared hash is what gets signed: it must be the body's, or a signed request could
    // carry any body.
    if let Some(declared) = header(request, "x-amz-content-sha256") {
        let is_hash = declared.len() == 64 && declared.bytes().all(|b| b.is_ascii_hexdigit());
        if is_hash && !declared.eq_ignore_ascii_case(&hex(&Sha256::digest(request.body))) {
            return Err(ApiError::InvalidSignature(
                "The provided 'x-amz-content-sha256' header does not match what was computed."
                    .into(),
            ));
        }
    }
    let canonical = canonical_request(request, &parts, presigned);
    let scope = format!("{date}/{scope_region}/{scope_service}/aws4_request");
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{scope}\n{}",
        parts.amz_date,
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let key = [date, scope_region, scope_service, "aws4_request"]
        .iter()
        .fold(format!("AWS4{secret}").into_bytes(), |key, part| {
            hmac(&key, part.as_bytes())
        });
    let expected = hex(&hmac(&key, string_to_sign.as_bytes()));
    if !constant_time_eq(expected.as_bytes(), parts.signature.as_bytes()) {
        return Err(ApiError::InvalidSignature(format!(
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details.\n\nThe Canonical String for this request should have \
             been\n'{canonical}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"
        )));
    }
    Ok(())
}

fn incomplete(message: String) -> ApiError {
    ApiError::IncompleteSignature(message)
}

fn header_parts(request: &SignedRequest<'_>) -> Result<Parts, ApiError> {
    let authorization = header(request, "authorization").unwrap_or_default();
    let Some(fields) = authorization.strip_prefix(ALGORITHM) else {
        return Err(incomplete(format!(
            "Unsupported AWS 'algorithm': '{}'",
            authorization.split(' ').next().unwrap_or_default()
        )));
    };
    let field = |name: &str| {
        fields
            .split(',')
            .map(str::trim)
            .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
    };
    let (Some(credential), Some(signed_headers), Some(signature)) = (
        field("Credential"),
        field("SignedHeaders"),
        field("Signature"),
    ) else {
        return Err(incomplete(format!(
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization={authorization}"
        )));
    };
    let amz_date = match header(request, "x-amz-date") {
        Some(date) => date.to_string(),
        None => header(request, "date")
            .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
            .map(|d| d.format("%Y%m%dT%H%M%SZ").to_string())
            .unwrap_or_default(),
    };
    Ok(Parts {
        credential: credential.to_string(),
        signed_headers: signed_headers.to_string(),
        signature: signature.to_string(),
        amz_date,
        expires: None,
    })
}

fn query_parts(query: &str) -> Result<Parts, ApiError> {
    let get = |name: &str| query_param(Some(query), name);
    let (Some(credential), Some(signed_headers), Some(signature), Some(amz_date)) = (
        get("X-Amz-Credential"),
        get("X-Amz-SignedHeaders"),
        get("X-Amz-Signature"),
        get("X-Amz-Date"),
    ) else {
        return Err(incomplete(
            "AWS query-string parameters must include 'X-Amz-Credential', 'X-Amz-Signature', \
             'X-Amz-SignedHeaders' and 'X-Amz-Date'. Re-examine the query-string parameters."
                .into(),
        ));
    };
    let expires = get("X-Amz-Expires")
        .map(|e| e.parse::<i64>())
        .transpose()
        .map_err(|_| incomplete("X-Amz-Expires must be a number of seconds.".into()))?
        .unwrap_or(900);
    Ok(Parts {
        credential: percent_decode(credential),
        signed_headers: percent_decode(signed_headers),
        signature: percent_decode(signature),
        amz_date: percent_decode(amz_date),
        expires: Some(expires),
    })
}

/// The raw value of query parameter `name`.
fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == name).then_some(v)
    })
}

fn header<'a>(request: &SignedRequest<'a>, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

fn canonical_request(request: &SignedRequest<'_>, parts: &Parts, presigned: bool) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(request.method);
    out.push('\n');
    // Every service but S3 encodes the (already encoded) path once more.
    let path = if request.path.is_empty() {
        "/"
    } else {
        request.path
    };
    let segments: Vec<String> = path.split('/').map(uri_encode).collect();
    out.push_str(&segments.join("/"));
    out.push('\n');
    let mut pairs: Vec<(String, String)> = request
        .query
        .unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
        .filter(|(k, _)| !(presigned && *k == "X-Amz-Signature"))
        .map(|(k, v)| {
            (
                uri_encode(&percent_decode(k)),
                uri_encode(&percent_decode(v)),
            )
        })
        .collect();
    pairs.sort();
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    out.push_str(&query.join("&"));
    out.push('\n');
    for name in parts.signed_headers.split(';') {
        let values: Vec<String> = request
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&parts.signed_headers);
    out.push('\n');
    let payload_hash = match header(request, "x-amz-content-sha256") {
        Some(declared) => declared.to_string(),
        None => hex(&Sha256::digest(request.body)),
    };
    out.push_str(&payload_hash);
    out
}

/// RFC 3986 unreserved characters stay; everything else is `%XX` (upper case).
fn uri_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex_pair = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex_pair) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_amz_date(text: &str) -> Option<i64> {
    chrono::NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}

fn amz_date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
#[path = "sigv4_tests.rs"]
mod tests;
