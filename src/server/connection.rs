//! Serving connections: the accept loop, TLS or plain told apart by the first byte, HTTP/1.1
//! or h2 on each, and one request turned into an operation call with AWS's checks
//! (`protocol::request`) on the way.

use super::response::{
    error_response, request_id, respond, too_large, Body, EventBody, REQUEST_ID,
};
use crate::api;
use crate::error::ApiError;
use crate::protocol::request::{self, RequestHead, MAX_BODY_BYTES, NOT_POST_BODY};
use crate::protocol::{self, Encoding};
use crate::streams::Registry;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, DATE};
use hyper::{Method, Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

// Parsed once: a `&str` name is parsed again on every lookup.
const X_AMZ_TARGET: HeaderName = HeaderName::from_static("x-amz-target");
const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");

pub(super) async fn accept_loop(
    listener: TcpListener,
    registry: Arc<Registry>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let mut connections = JoinSet::new();
    loop {
        let (socket, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = socket.set_nodelay(true);
        let registry = registry.clone();
        let tls = tls.clone();
        connections.spawn(async move {
            // TLS or plain, told apart by the first byte; both then speak HTTP/1.1 or h2.
            let socket = match crate::tls::accept(socket, tls.as_ref()).await {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::debug!(error = %e, "TLS handshake failed");
                    return;
                }
            };
            let service = hyper::service::service_fn(move |req| {
                let registry = registry.clone();
                async move { Ok::<_, Infallible>(handle(registry, req).await) }
            });
            let builder = auto::Builder::new(TokioExecutor::new());
            if let Err(e) = builder
                .serve_connection(TokioIo::new(socket), service)
                .await
            {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
        // Reap finished connections so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
    }
}

/// Reads one request, runs AWS's checks and the operation, and renders the answer.
async fn handle(registry: Arc<Registry>, req: Request<Incoming>) -> Response<Body> {
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
