//! Serving connections: the accept loop, TLS or plain told apart by the first byte, HTTP/1.1
//! or h2 on each, and one request turned into an operation call with AWS's checks
//! (`protocol::request`) on the way.
//!
//! Limits (`Config::connections`): a cap on connections served at once, a deadline for the
//! first byte and for HTTP/1.1 request headers (also the idle keep-alive timeout), and, for
//! HTTP/2, a cap on concurrent streams and keep-alive pings, so idle or slow clients cannot
//! hold the server's file descriptors or memory for ever.

use super::response::{
    error_response, request_id, respond, too_large, Body, EventBody, REQUEST_ID,
};
use crate::api;
use crate::error::ApiError;
use crate::protocol::host::HostPolicy;
use crate::protocol::request::{self, RequestHead, MAX_BODY_BYTES, NOT_POST_BODY};
use crate::protocol::{self, Encoding};
use crate::streams::Registry;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{
    HeaderName, HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, DATE, HOST,
};
use hyper::{Method, Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

// Parsed once: a `&str` name is parsed again on every lookup.
const X_AMZ_TARGET: HeaderName = HeaderName::from_static("x-amz-target");
const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");

pub(super) async fn accept_loop(
    listener: TcpListener,
    registry: Arc<Registry>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut stopping: watch::Receiver<bool>,
) {
    let limits = registry.config().connections;
    let header_timeout = Duration::from_millis(limits.header_timeout_ms.max(1));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        // With a timer, hyper closes a connection whose request headers take longer than this,
        // and a keep-alive connection idle for as long.
        .header_read_timeout(header_timeout);
    let keepalive = Duration::from_millis(limits.h2_keepalive_ms.max(1));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.h2_max_streams.max(1))
        .keep_alive_interval(keepalive)
        .keep_alive_timeout(keepalive);
    let builder = Arc::new(builder);
    let mut connections = JoinSet::new();
    let graceful = GracefulShutdown::new();
    let mut refused = RateLimitedWarning::default();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopping.wait_for(|stop| *stop) => break,
        };
        let (socket, peer) = match accepted {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        // Reap finished connections so the set counts only live ones.
        while connections.try_join_next().is_some() {}
        if connections.len() >= limits.max_connections {
            refused.note(peer, limits.max_connections);
            drop(socket);
            continue;
        }
        let _ = socket.set_nodelay(true);
        let registry = registry.clone();
        let tls = tls.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let mut stop_waiting = stopping.clone();
        connections.spawn(async move {
            // TLS or plain, told apart by the first byte; both then speak HTTP/1.1 or h2.
            // A connection that has sent nothing yet has no request to finish: clients open
            // spare connections for their pools, so shutdown must not wait for those.
            let first = crate::tls::accept(socket, tls.as_ref());
            let first = tokio::select! {
                biased;
                first = tokio::time::timeout(header_timeout, first) => first,
                _ = stop_waiting.wait_for(|stop| *stop) => return,
            };
            let socket = match first {
                Ok(Ok(conn)) => conn,
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!("connection sent nothing in time");
                    return;
                }
            };
            let service = hyper::service::service_fn(move |req| {
                let registry = registry.clone();
                async move { Ok::<_, Infallible>(handle(registry, req).await) }
            });
            let connection = builder.serve_connection(TokioIo::new(socket), service);
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    // Stopping: no new connections (the listener closes here); the accepted ones finish their
    // current requests, within the grace period.
    drop(listener);
    let grace = Duration::from_millis(limits.shutdown_grace_ms);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            open = connections.len(),
            "shutdown grace period over: cutting the connections still open"
        );
    }
    connections.shutdown().await;
}

/// Logs refused connections at most once per [`REFUSED_LOG_EVERY`], with how many since.
#[derive(Default)]
struct RateLimitedWarning {
    last: Option<Instant>,
    since: u64,
}

const REFUSED_LOG_EVERY: Duration = Duration::from_secs(10);

impl RateLimitedWarning {
    fn note(&mut self, peer: SocketAddr, cap: usize) {
        self.since += 1;
        if self.last.is_some_and(|t| t.elapsed() < REFUSED_LOG_EVERY) {
            return;
        }
        tracing::warn!(
            %peer,
            refused = self.since,
            max_connections = cap,
            "connection limit reached: closing new connections (raise --max-connections)"
        );
        self.last = Some(Instant::now());
        self.since = 0;
    }
}

/// Reads one request, runs AWS's checks and the operation, and renders the answer.
async fn handle(registry: Arc<Registry>, req: Request<Incoming>) -> Response<Body> {
    // HTTP/2 names the host in `:authority` (the URI), HTTP/1.1 in the Host header.
    let host = match req.uri().authority() {
        Some(authority) => Some(authority.as_str()),
        None => req.headers().get(HOST).and_then(|v| v.to_str().ok()),
    };
    if !registry.config().hosts.allows(host) {
        let encoding = Encoding::from_content_type(
            req.headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
        );
        let refusal = HostPolicy::refusal(host.unwrap_or_default());
        tracing::debug!(%refusal, "request refused");
        return error_response(encoding, &ApiError::AccessDenied(refusal));
    }
    if req.method() != Method::POST {
        return respond(403, "application/xml", NOT_POST_BODY.as_bytes().to_vec());
    }
    let (parts, body) = req.into_parts();
    // Looked up by `HeaderName` constants: a `&str` name is parsed again on every lookup.
    let header = |name: &HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok());
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
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return too_large(encoding),
        Err(_) => return error_response(encoding, &ApiError::Serialization(None)),
    };
    let result = match request::check(head, &body) {
        Ok(op) => api::dispatch(&registry, op, encoding, &body).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(api::Answer::Whole(bytes)) => respond(200, encoding.content_type(), bytes),
        Ok(api::Answer::Events(events)) => {
            let mut resp = Response::new(Body::Right(EventBody(events)));
            let headers = resp.headers_mut();
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static(protocol::eventstream::CONTENT_TYPE),
            );
            headers.insert(REQUEST_ID, request_id());
            resp
        }
        Err(e) => error_response(encoding, &e),
    }
}
