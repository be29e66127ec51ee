//! Unit tests of `sigv4.rs`: AWS's published example, then requests signed by the official
//! `aws-sigv4` crate (what every Rust SDK call carries), right and wrong in each part.

use super::*;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_smithy_runtime_api::client::identity::Identity;
use std::time::{Duration, UNIX_EPOCH};

/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600_000;
const BODY: &[u8] = b"{}";

fn creds() -> Credentials {
    Credentials::parse("AKID:SECRET, OTHER:other-secret").unwrap()
}

struct Signed {
    headers: Vec<(String, String)>,
    query: Option<String>,
}

/// Signs a ListStreams POST as the SDK does.
fn sign_with(
    secret: &str,
    region: &str,
    at_ms: i64,
    settings: SigningSettings,
    unsigned: bool,
) -> Signed {
    let identity: Identity =
        aws_credential_types::Credentials::new("AKID", secret, None, None, "test").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("kinesis")
        .time(UNIX_EPOCH + Duration::from_millis(at_ms as u64))
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let base = [
        ("host", "localhost:4567"),
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", "Kinesis_20131202.ListStreams"),
    ];
    let body = if unsigned {
        SignableBody::UnsignedPayload
    } else {
        SignableBody::Bytes(BODY)
    };
    let request =
        SignableRequest::new("POST", "http://localhost:4567/", base.iter().copied(), body).unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    let mut headers: Vec<(String, String)> = base
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    headers.extend(
        instructions
            .headers()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let query = (!instructions.params().is_empty()).then(|| {
        instructions
            .params()
            .iter()
            .map(|(k, v)| format!("{k}={}", super::uri_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    });
    Signed { headers, query }
}

fn check(signed: &Signed, body: &[u8], now_ms: i64) -> Result<(), ApiError> {
    let headers: Vec<(&str, &str)> = signed
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    verify(
        &SignedRequest {
            method: "POST",
            path: "/",
            query: signed.query.as_deref(),
            headers: &headers,
            body,
        },
        &creds(),
        "us-east-1",
        now_ms,
    )
}

fn header_signed(secret: &str, region: &str, at_ms: i64) -> Signed {
    sign_with(secret, region, at_ms, SigningSettings::default(), false)
}

fn message(result: Result<(), ApiError>) -> (String, String) {
    let e = result.unwrap_err();
    (
        e.type_name().to_string(),
        e.message().unwrap_or_default().to_string(),
    )
}

#[test]
fn the_aws_documentation_example_verifies() {
    // "get-vanilla" of AWS's Signature Version 4 test suite.
    let creds = Credentials::parse("AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY").unwrap();
    let headers = [
        ("Host", "example.amazonaws.com"),
        ("X-Amz-Date", "20150830T123600Z"),
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ),
    ];
    let request = SignedRequest {
        method: "GET",
        path: "/",
        query: None,
        headers: &headers,
        body: b"",
    };
    let at = parse_amz_date("20150830T123600Z").unwrap();
    verify_for(&request, &creds, "us-east-1", "service", at).unwrap();
    let wrong = verify_for(&request, &creds, "us-east-1", "service", at + 1);
    assert!(
        wrong.is_ok(),
        "time within the window does not change the signature"
    );
}

#[test]
fn the_sdks_signature_verifies_and_each_wrong_part_is_named() {
    let good = header_signed("SECRET", "us-east-1", T0);
    check(&good, BODY, T0).unwrap();
    check(&good, BODY, T0 + 14 * 60_000).unwrap();

    let (kind, text) = message(check(&header_signed("WRONG", "us-east-1", T0), BODY, T0));
    assert_eq!(kind, "InvalidSignatureException");
    assert!(
        text.starts_with(
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details.\n\nThe Canonical String for this request should have been\n'POST\n/\n\n"
        ),
        "{text}"
    );

    let (kind, text) = message(check(&good, b"{\"Limit\":1}", T0));
    assert_eq!(kind, "InvalidSignatureException", "a changed body");
    assert!(
        text.starts_with("The request signature we calculated"),
        "{text}"
    );

    let mut tampered = header_signed("SECRET", "us-east-1", T0);
    tampered.headers[2].1 = "Kinesis_20131202.DeleteStream".into();
    let (kind, _) = message(check(&tampered, BODY, T0));
    assert_eq!(kind, "InvalidSignatureException", "a changed signed header");

    let (kind, text) = message(check(&header_signed("SECRET", "eu-west-1", T0), BODY, T0));
    assert_eq!(kind, "InvalidSignatureException");
    assert_eq!(text, "Credential should be scoped to a valid region. ");

    let mut unknown = header_signed("SECRET", "us-east-1", T0);
    for (name, value) in &mut unknown.headers {
        if name == "authorization" {
            *value = value.replace("Credential=AKID/", "Credential=NOBODY/");
        }
    }
    let (kind, text) = message(check(&unknown, BODY, T0));
    assert_eq!(kind, "UnrecognizedClientException");
    assert_eq!(
        text,
        "The security token included in the request is invalid."
    );

    let mut service = header_signed("SECRET", "us-east-1", T0);
    for (name, value) in &mut service.headers {
        if name == "authorization" {
            *value = value.replace("/kinesis/", "/dynamodb/");
        }
    }
    let (_, text) = message(check(&service, BODY, T0));
    assert_eq!(
        text,
        "Credential should be scoped to correct service: 'kinesis'. "
    );
}

#[test]
fn old_and_future_signatures_are_refused_with_awss_text() {
    let good = header_signed("SECRET", "us-east-1", T0);
    let (kind, text) = message(check(&good, BODY, T0 + 16 * 60_000));
    assert_eq!(kind, "InvalidSignatureException");
    assert_eq!(
        text,
        "Signature expired: 20260101T000000Z is now earlier than 20260101T000100Z \
         (20260101T001600Z - 15 min.)"
    );
    let (_, text) = message(check(&good, BODY, T0 - 16 * 60_000));
    assert_eq!(
        text,
        "Signature not yet current: 20260101T000000Z is still later than 20251231T235900Z \
         (20251231T234400Z + 15 min.)"
    );
}

#[test]
fn presigned_and_unsigned_payload_forms() {
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(60));
    let presigned = sign_with("SECRET", "us-east-1", T0, settings, false);
    assert!(presigned.query.is_some());
    check(&presigned, BODY, T0 + 30_000).unwrap();
    let (kind, text) = message(check(&presigned, BODY, T0 + 61_000));
    assert_eq!(kind, "InvalidSignatureException");
    assert!(text.starts_with("Signature expired: "), "{text}");
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(60));
    let wrong = sign_with("WRONG", "us-east-1", T0, settings, false);
    let (kind, _) = message(check(&wrong, BODY, T0));
    assert_eq!(kind, "InvalidSignatureException");

    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let unsigned = sign_with("SECRET", "us-east-1", T0, settings, true);
    assert!(unsigned
        .headers
        .iter()
        .any(|(k, v)| k == "x-amz-content-sha256" && v == "UNSIGNED-PAYLOAD"));
    check(&unsigned, b"any body at all", T0).unwrap();
}

#[test]
fn credentials_parse_from_the_variable_and_from_a_file() {
    let from_var = Credentials::parse("A:1,B:2").unwrap();
    let from_file = Credentials::parse("# keys\nA:1\n\nB:2\n").unwrap();
    assert_eq!(from_var, from_file);
    assert!(Credentials::parse("A").is_err());
    assert!(Credentials::parse("# nothing\n").is_err());
    assert!(
        !format!("{from_var:?}").contains('1'),
        "secrets stay out of logs"
    );
}

#[test]
fn a_declared_body_hash_must_be_the_bodys_and_host_must_be_signed() {
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let declared = sign_with("SECRET", "us-east-1", T0, settings, false);
    check(&declared, BODY, T0).unwrap();
    let (kind, text) = message(check(&declared, b"{\"Limit\":1}", T0));
    assert_eq!(kind, "InvalidSignatureException");
    assert_eq!(
        text,
        "The provided 'x-amz-content-sha256' header does not match what was computed."
    );

    let mut unsigned_host = header_signed("SECRET", "us-east-1", T0);
    for (name, value) in &mut unsigned_host.headers {
        if name == "authorization" {
            *value = value.replace(
                "SignedHeaders=content-type;host;",
                "SignedHeaders=content-type;",
            );
        }
    }
    let (_, text) = message(check(&unsigned_host, BODY, T0));
    assert_eq!(
        text,
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
    );
}
