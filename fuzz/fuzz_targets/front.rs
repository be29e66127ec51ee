//! Shared by the `request_front` target and the replay test (`tests/fuzz_replay.rs`): the
//! checks a request meets before its operation runs, fed what a client controls — the Host,
//! Content-Type, X-Amz-Target, Authorization and date headers, the query string and the body.
//!
//! Input layout: six lines (host, content type, target, authorization, query, date flag —
//! an empty line is an absent header), then the body. Invariants besides "does not panic":
//! - when the headers alone fail (`check_head`), the whole check fails too — the server
//!   relies on it to answer without reading the body whole;
//! - the whole check gives the same answer on the body's prefix up to its first non-blank
//!   byte as on the whole body (what the server reads of a refused request);
//! - every refusal is a client error that renders;
//! - SigV4 verification (`--verify-signatures`) of those headers, the query and the body
//!   answers an error that renders, never a panic, and never passes a signature that was not
//!   made with the key (the fixed key's signature of arbitrary input is never guessed).

use kinesd::protocol::host::HostPolicy;
use kinesd::protocol::request::{check, check_head, RequestHead};
use kinesd::protocol::sigv4::{verify, Credentials, SignedRequest};
use kinesd::protocol::{parse_target, render_error, Encoding};

pub fn run(data: &[u8]) {
    let mut fields = data.splitn(7, |b| *b == b'\n');
    let mut next = || {
        fields
            .next()
            .and_then(|f| std::str::from_utf8(f).ok())
            .filter(|f| !f.is_empty())
    };
    let (host, content_type, target, authorization, query, dated) =
        (next(), next(), next(), next(), next(), next());
    let body = {
        let consumed: usize = data
            .split(|b| *b == b'\n')
            .take(6)
            .map(|f| f.len() + 1)
            .sum();
        data.get(consumed.min(data.len())..).unwrap_or_default()
    };

    let policy = HostPolicy {
        any: false,
        names: vec!["kinesd".into(), "*.example.test".into()],
    };
    let allowed = policy.allows(host);
    if host.is_none() {
        assert!(allowed);
    }
    let _ = HostPolicy::refusal(host.unwrap_or_default());

    let encoding = Encoding::from_content_type(content_type);
    let head = || RequestHead {
        encoding,
        operation: parse_target(target),
        authorization,
        query,
        dated: dated.is_some(),
    };
    let whole = check(head(), body);
    if check_head(&head()).is_err() {
        assert!(whole.is_err(), "the headers fail but the request passes");
        let first = body
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map_or(body.len(), |i| i + 1);
        let prefix = check(head(), &body[..first]);
        assert_eq!(
            prefix.err(),
            whole.clone().err(),
            "the prefix decides otherwise"
        );
    }
    if let Err(e) = whole {
        assert!(e.status() == 400 || e.status() == 403, "{e:?}");
        assert!(!render_error(encoding, &e).is_empty());
    }

    let mut headers = vec![("host", host.unwrap_or_default())];
    headers.extend(authorization.map(|a| ("authorization", a)));
    headers.extend(dated.map(|d| ("x-amz-date", d)));
    headers.extend(content_type.map(|c| ("x-amz-content-sha256", c)));
    let credentials = Credentials::parse("AKID:SECRET").expect("a valid key");
    let signed = SignedRequest {
        method: "POST",
        path: target.unwrap_or("/"),
        query,
        headers: &headers,
        body,
    };
    // 2026-01-01: any date the input names is judged against a fixed clock.
    match verify(&signed, &credentials, "us-east-1", 1_767_225_600_000) {
        Ok(()) => panic!("an arbitrary signature verified"),
        Err(e) => {
            assert_eq!(e.status(), 400, "{e:?}");
            assert!(!render_error(encoding, &e).is_empty());
        }
    }
}
