//! One request turned into an operation call: the host check, AWS's checks
//! (`protocol::request`) from the headers first, the body read within the in-flight budget
//! (`budget.rs`), the operation, and the answer.
//!
//! Order matters for memory: a request whose headers already fail (unknown operation, no
//! signature) never has its body read whole — only up to its first non-blank byte, which is
//! all AWS's order of errors looks at.

use super::budget::{BodyError, Budget, HELD_ANSWER_BYTES};
use super::response::{
    answer, closing, error_response, respond, too_large, Body, ErrorType, EventBody, ID_2,
};
use crate::api;
use crate::cloudwatch;
use crate::config::ConnectionLimits;
use crate::control::{self, faults::Fault};
use crate::error::ApiError;
use crate::protocol::host::HostPolicy;
use crate::protocol::request::{self, RequestHead, MAX_BODY_BYTES, NOT_POST_BODY};
use crate::protocol::sigv4::{self, Credentials, SignedRequest};
use crate::protocol::{self, Encoding, Operation};
use crate::streams::Registry;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, DATE, HOST};
use hyper::{Method, Request, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

// Parsed once: a `&str` name is parsed again on every lookup.
const X_AMZ_TARGET: HeaderName = HeaderName::from_static("x-amz-target");
const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");

/// How much of a refused request's body is read to find its first non-blank byte.
const PREFIX_BYTES: usize = 64 * 1024;

/// What every request on every connection shares.
pub(super) struct Front {
    pub(super) registry: Arc<Registry>,
    console: Option<crate::console::Console>,
    /// The latest CloudWatch values clients put, for `/metrics`.
    cloudwatch: cloudwatch::Sink,
    pub(super) budget: Budget,
    pub(super) body_timeout: Duration,
    answer_timeout: Duration,
}

impl Front {
    pub(super) fn new(registry: Arc<Registry>) -> Front {
        let limits: ConnectionLimits = registry.config().connections;
        Front {
            budget: Budget::new(limits.inflight_bytes),
            body_timeout: Duration::from_millis(limits.body_timeout_ms.max(1)),
            answer_timeout: Duration::from_millis(limits.answer_timeout_ms.max(1)),
            console: crate::console::Console::start(&registry),
            cloudwatch: cloudwatch::Sink::default(),
            registry,
        }
    }
}

/// Answers one request; with `KINESD_LOG=debug` also writes its access-log line (target
/// `kinesd::access`: operation, status, exception, milliseconds). `kill` closes the request's
/// connection (an answer left unread too long).
pub(super) async fn handle(
    front: Arc<Front>,
    kill: Arc<Notify>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Body> {
    let started = std::time::Instant::now();
    let target = req.headers().get(&X_AMZ_TARGET);
    let op = protocol::parse_target(target.and_then(|v| v.to_str().ok())).ok();
    // DynamoDB and CloudWatch requests are not Kinesis operations: kept out of the
    // per-operation metrics.
    let kinesis = req.method() == Method::POST
        && crate::dynamodb::operation(target.and_then(|v| v.to_str().ok())).is_none()
        && cloudwatch::Wire::of(req.method(), req.uri().path(), req.headers()).is_none();
    let access_log = tracing::enabled!(target: "kinesd::access", tracing::Level::DEBUG);
    let operation = access_log.then(|| {
        req.headers()
            .get(&X_AMZ_TARGET)
            .and_then(|v| v.to_str().ok())
            .map(|t| t.rsplit('.').next().unwrap_or(t).to_string())
            .unwrap_or_else(|| format!("{} {}", req.method(), req.uri().path()))
    });
    let registry = front.registry.clone();
    let resp = answer_request(front, kill, peer, req).await;
    let error = resp.extensions().get::<ErrorType>().map(|e| e.0);
    if kinesis {
        let seconds = started.elapsed().as_secs_f64();
        registry.metrics.request(op, seconds, error);
    }
    let Some(operation) = operation else {
        return resp;
    };
    tracing::debug!(
        target: "kinesd::access",
        operation,
        status = resp.status().as_u16(),
        error,
        ms = started.elapsed().as_secs_f64() * 1000.0,
    );
    resp
}

/// Reads one request, runs AWS's checks and the operation, and renders the answer.
async fn answer_request(
    front: Arc<Front>,
    kill: Arc<Notify>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Body> {
    // HTTP/2 names the host in `:authority` (the URI), HTTP/1.1 in the Host header.
    let host = match req.uri().authority() {
        Some(authority) => Some(authority.as_str()),
        None => req.headers().get(HOST).and_then(|v| v.to_str().ok()),
    };
    if !front.registry.config().hosts.allows(host) {
        let encoding = Encoding::from_content_type(
            req.headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
        );
        let refusal = HostPolicy::refusal(host.unwrap_or_default());
        tracing::debug!(%refusal, "request refused");
        return error_response(encoding, &ApiError::AccessDenied(refusal));
    }
    if req.uri().path().starts_with(control::PREFIX) {
        return control_request(&front, peer, req).await;
    }
    // CloudWatch on the same port (KCL applications publish their metrics there).
    if let Some(wire) = cloudwatch::Wire::of(req.method(), req.uri().path(), req.headers()) {
        return cloudwatch_request(&front, wire, req).await;
    }
    if req.method() == Method::GET {
        let (path, query) = (req.uri().path(), req.uri().query());
        if let Some(page) =
            crate::console::page(front.console.as_ref(), &front.registry, path, query).await
        {
            let headers = page.headers();
            let mut resp = respond(page.status, page.content_type, page.body);
            resp.headers_mut().extend(headers);
            return resp;
        }
        // Kinesis requests are all POST, so these paths never collide with one.
        match req.uri().path() {
            // Alive, and past start-up (the store is open and the journal replayed before
            // the listener exists), so ready too.
            "/health" | "/ready" => {
                return respond(200, "application/json", br#"{"status":"ok"}"#.to_vec())
            }
            "/metrics" => {
                let text = super::scrape::metrics_text(&front.registry, &front.cloudwatch);
                return respond(
                    200,
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    text.into_bytes(),
                );
            }
            _ => {}
        }
    }
    if req.method() != Method::POST {
        return respond(403, "application/xml", NOT_POST_BODY.as_bytes().to_vec());
    }
    let (parts, body) = req.into_parts();
    // Looked up by `HeaderName` constants: a `&str` name is parsed again on every lookup.
    let header = |name: &HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(op) = crate::dynamodb::operation(header(&X_AMZ_TARGET)) {
        let head = super::dynamo::Head {
            op,
            content_length: header(&CONTENT_LENGTH).and_then(|v| v.parse().ok()),
            authorization: header(&AUTHORIZATION),
            query: parts.uri.query(),
            dated: header(&X_AMZ_DATE).is_some() || header(&DATE).is_some(),
        };
        return super::dynamo::answer(front.clone(), &parts, head, body).await;
    }
    let encoding = Encoding::from_content_type(header(&CONTENT_TYPE));
    if request::declared_too_large(header(&CONTENT_LENGTH)) {
        return too_large(encoding);
    }
    let head = RequestHead {
        encoding,
        operation: protocol::parse_target(header(&X_AMZ_TARGET)),
        authorization: header(&AUTHORIZATION),
        query: parts.uri.query(),
        dated: header(&X_AMZ_DATE).is_some() || header(&DATE).is_some(),
    };
    let deadline = Instant::now() + front.body_timeout;
    let op = match request::check_head(&head) {
        Ok(op) => op,
        Err(from_headers) => {
            let prefix = read_prefix(body, deadline).await;
            // AWS's order of errors also looks at the body's first non-blank byte.
            let e = request::check(head, &prefix).err().unwrap_or(from_headers);
            return error_response(encoding, &e);
        }
    };
    let declared = header(&CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    let (body, _reserved) = match front
        .budget
        .read_body(body, declared, MAX_BODY_BYTES, deadline)
        .await
    {
        Ok(read) => read,
        Err(BodyError::TooLarge) => return too_large(encoding),
        Err(BodyError::Busy) => return busy(encoding),
        Err(BodyError::TimedOut) => {
            tracing::debug!("a request body did not arrive in time");
            return closing(error_response(encoding, &ApiError::Serialization(None)));
        }
        Err(BodyError::Broken) => return error_response(encoding, &ApiError::Serialization(None)),
    };
    if let Err(e) = request::check_body(encoding, &body) {
        return error_response(encoding, &e);
    }
    if let Some(credentials) = &front.registry.config().credentials {
        if let Err(e) = verify_signature(&front.registry, credentials, &parts, &body, "kinesis") {
            return error_response(encoding, &e);
        }
    }
    let reserved = match op {
        Operation::GetRecords => match front.budget.reserve_answer(deadline).await {
            Some(reserved) => Some(reserved),
            None => return busy(encoding),
        },
        _ => None,
    };
    // SubscribeToShard applies its own rules (a fault may end the stream later).
    if front.registry.faults.any() && op != Operation::SubscribeToShard {
        let target = control::target_of(&front.registry, encoding, &body);
        match front.registry.faults.pick(op, &target) {
            Some(Fault::Error(e)) => return error_response(encoding, &e),
            Some(Fault::Latency(pause)) => tokio::time::sleep(pause).await,
            Some(Fault::Close) => {
                // The connection task drops the connection, and this answer with it.
                kill.notify_one();
                return std::future::pending().await;
            }
            Some(Fault::EndSubscription { .. }) | None => {}
        }
    }
    let result = api::dispatch(&front.registry, op, encoding, &body).await;
    drop(body);
    match result {
        Ok(api::Answer::Whole(bytes)) if bytes.len() >= HELD_ANSWER_BYTES => {
            let bytes = Bytes::from(bytes);
            let held = front
                .budget
                .hold_answer(&bytes, reserved, front.answer_timeout, kill);
            if !held {
                return busy(encoding);
            }
            answer(200, encoding.content_type(), Body::Left(Full::new(bytes)))
        }
        Ok(api::Answer::Whole(bytes)) => respond(200, encoding.content_type(), bytes),
        Ok(api::Answer::Events(events)) => {
            let mut resp = answer(
                200,
                protocol::eventstream::CONTENT_TYPE,
                Body::Right(EventBody(events)),
            );
            // An event stream's answer carries only the one request id header.
            resp.headers_mut().remove(ID_2);
            resp
        }
        Err(e) => error_response(encoding, &e),
    }
}

/// A request to the control API (`/_kinesd/…`): a small JSON body, read within the body
/// deadline.
async fn control_request(
    front: &Front,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Body> {
    const MAX_CONTROL_BODY: usize = 64 * 1024;
    let (parts, body) = req.into_parts();
    let deadline = Instant::now() + front.body_timeout;
    let body = match front
        .budget
        .read_body(body, None, MAX_CONTROL_BODY, deadline)
        .await
    {
        Ok((body, _reserved)) => body,
        Err(_) => {
            return respond(
                400,
                "application/json",
                br#"{"error":"unreadable body"}"#.to_vec(),
            )
        }
    };
    let path = parts.uri.path();
    let (status, answer) =
        control::handle(&front.registry, Some(peer), &parts.method, path, &body).await;
    respond(status, "application/json", answer)
}

/// A CloudWatch request (`crate::cloudwatch`): its body read within the in-flight budget and
/// decompressed if the SDK gzipped it, the signature checked like a Kinesis request's.
async fn cloudwatch_request(
    front: &Front,
    wire: cloudwatch::Wire,
    req: Request<Incoming>,
) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let deadline = Instant::now() + front.body_timeout;
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let limit = cloudwatch::MAX_BODY_BYTES;
    let answer = match front
        .budget
        .read_body(body, declared, limit, deadline)
        .await
    {
        Err(BodyError::TooLarge) => cloudwatch::too_large(&wire, limit + 1),
        Err(BodyError::Busy) => return busy(crate::protocol::Encoding::Json),
        Err(BodyError::TimedOut | BodyError::Broken) => cloudwatch::undecodable(&wire),
        Ok((raw, _reserved)) => {
            let authorization = parts
                .headers
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            if cloudwatch::unsigned(authorization, parts.uri.query()) {
                let e = ApiError::MissingAuthenticationToken;
                return cloudwatch_response(cloudwatch::refused(&wire, &e));
            }
            if let Some(credentials) = &front.registry.config().credentials {
                // CloudWatch's signing name.
                let service = "monitoring";
                let checked = verify_signature(&front.registry, credentials, &parts, &raw, service);
                if let Err(e) = checked {
                    return cloudwatch_response(cloudwatch::refused(&wire, &e));
                }
            }
            let gzipped = parts
                .headers
                .get(hyper::header::CONTENT_ENCODING)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|e| e.eq_ignore_ascii_case("gzip"));
            match gzipped.then(|| gunzip(&raw, limit)) {
                None => cloudwatch::answer(&front.cloudwatch, &wire, &raw, front.registry.now()),
                Some(Ok(body)) => {
                    cloudwatch::answer(&front.cloudwatch, &wire, &body, front.registry.now())
                }
                Some(Err(Some(size))) => cloudwatch::too_large(&wire, size),
                Some(Err(None)) => cloudwatch::undecodable(&wire),
            }
        }
    };
    cloudwatch_response(answer)
}

fn cloudwatch_response(answer: cloudwatch::Answer) -> Response<Body> {
    let mut resp = respond(answer.status, answer.content_type, answer.body);
    for (name, value) in answer.headers {
        if let Ok(value) = hyper::header::HeaderValue::from_str(&value) {
            resp.headers_mut().insert(name, value);
        }
    }
    resp
}

/// A gzip body, at most `limit` bytes once inflated: `Err(Some(size))` past it, `Err(None)`
/// if it is not gzip.
fn gunzip(raw: &[u8], limit: usize) -> Result<Vec<u8>, Option<usize>> {
    use std::io::Read;
    let mut out = Vec::new();
    let mut decoder = flate2::read::GzDecoder::new(raw).take(limit as u64 + 1);
    decoder.read_to_end(&mut out).map_err(|_| None)?;
    if out.len() > limit {
        return Err(Some(out.len()));
    }
    Ok(out)
}

/// Checks the request's SigV4 signature for `service` (`--verify-signatures`): `kinesis`,
/// `dynamodb`, `monitoring` (CloudWatch).
pub(super) fn verify_signature(
    registry: &Registry,
    credentials: &Credentials,
    parts: &hyper::http::request::Parts,
    body: &[u8],
    service: &str,
) -> Result<(), ApiError> {
    let mut headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    // HTTP/2 carries the host in `:authority`, which the client signed as `host`.
    if !parts.headers.contains_key(HOST) {
        if let Some(authority) = parts.uri.authority() {
            headers.push(("host", authority.as_str()));
        }
    }
    let request = SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &headers,
        body,
    };
    sigv4::verify_for(
        &request,
        credentials,
        &registry.config().region,
        service,
        registry.now(),
    )
}

/// The budget stayed exhausted: a 503 every SDK retries after a pause.
fn busy(encoding: Encoding) -> Response<Body> {
    tracing::warn!("in-flight byte budget exhausted: answering 503 (raise --inflight-limit-mib)");
    error_response(
        encoding,
        &ApiError::ServiceUnavailable(
            "The server is busy with other requests; retry after a pause.".into(),
        ),
    )
}

/// The body up to its first non-blank byte (at most [`PREFIX_BYTES`]), before `deadline`.
async fn read_prefix(mut body: Incoming, deadline: Instant) -> Vec<u8> {
    let mut prefix = Vec::new();
    let read = async {
        while let Some(Ok(frame)) = body.frame().await {
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let room = PREFIX_BYTES.saturating_sub(prefix.len());
            prefix.extend_from_slice(&data[..data.len().min(room)]);
            if prefix.len() >= PREFIX_BYTES || data.iter().any(|b| !b.is_ascii_whitespace()) {
                return;
            }
        }
    };
    let _ = tokio::time::timeout_at(deadline, read).await;
    prefix
}
