//! The HTTP front: one listener speaking HTTP/1.1 and h2c (prior knowledge), the Kinesis
//! protocol checks AWS makes before an operation runs, and the background retention worker.

use crate::api;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::error::ApiError;
use crate::protocol::{self, Encoding};
use crate::streams::{retention, Registry};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, DATE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// Largest request body read: a full PutRecords (10 MiB of data) in base64 plus JSON framing.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

pub struct Server {
    addr: SocketAddr,
    registry: Arc<Registry>,
    tasks: JoinSet<()>,
    /// The generated TLS CA (PEM, and its file with a data directory); see `tls.rs`.
    tls_ca: Option<(String, Option<std::path::PathBuf>)>,
    tls_enabled: bool,
}

impl Server {
    /// Opens the store, binds `addr` (port 0 picks a free one) and starts serving.
    pub async fn start(
        config: Config,
        clock: SharedClock,
        addr: SocketAddr,
    ) -> std::io::Result<Server> {
        let tls = crate::tls::setup(&config.tls, config.data_dir.as_deref())?;
        let storage = crate::storage::open(&config).map_err(std::io::Error::other)?;
        let registry = Registry::open(storage, config, clock)
            .await
            .map_err(std::io::Error::other)?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let mut tasks = JoinSet::new();
        let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
        let tls_enabled = tls.is_some();
        let tls_ca = tls.and_then(|t| t.ca_pem.map(|pem| (pem, t.ca_path)));
        tasks.spawn(accept_loop(listener, registry.clone(), acceptor));
        tasks.spawn(retention::retention_worker(registry.clone()));
        Ok(Server {
            addr,
            registry,
            tasks,
            tls_ca,
            tls_enabled,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The same port over TLS (`None` when TLS is off); `localhost` for a wildcard address.
    pub fn https_endpoint(&self) -> Option<String> {
        self.tls_enabled.then(|| {
            if self.addr.ip().is_unspecified() {
                format!("https://localhost:{}", self.addr.port())
            } else {
                format!("https://{}", self.addr)
            }
        })
    }

    /// The PEM of the generated CA that signed the TLS certificate (`None` when TLS is off or
    /// the certificate was supplied by the user).
    pub fn tls_ca_pem(&self) -> Option<String> {
        self.tls_ca.as_ref().map(|(pem, _)| pem.clone())
    }

    /// Where that CA certificate is stored (`<data-dir>/tls/ca.pem`); `None` in memory.
    pub fn tls_ca_path(&self) -> Option<&std::path::Path> {
        self.tls_ca.as_ref().and_then(|(_, path)| path.as_deref())
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Stops accepting, ends open connections and makes everything written durable.
    pub async fn shutdown(mut self) {
        self.tasks.shutdown().await;
        let registry = self.registry;
        if let Err(e) = registry.sync().await {
            tracing::error!(error = %e, "making the last writes durable failed");
        }
        // Dropping the last registry joins the flusher and closes the store, releasing its lock
        // so the same data directory can be opened again at once.
        let _ = tokio::task::spawn_blocking(move || drop(registry)).await;
    }
}

async fn accept_loop(
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

// Parsed once: `insert` with a `&str` name parses it on every answer.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
const ID_2: HeaderName = HeaderName::from_static("x-amz-id-2");
const X_AMZ_TARGET: HeaderName = HeaderName::from_static("x-amz-target");
const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");

/// A fresh UUID v4 as a header value. Hand-rolled: `format!` with five padded hex fields
/// was ~1% of PutRecord's CPU.
fn request_id() -> HeaderValue {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut text = [0u8; 36];
    let mut at = 0;
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text[at] = b'-';
            at += 1;
        }
        text[at] = HEX[usize::from(byte >> 4)];
        text[at + 1] = HEX[usize::from(byte & 0x0f)];
        at += 2;
    }
    HeaderValue::from_bytes(&text).expect("hex digits and dashes are a valid header value")
}

/// Every answer's body: a whole buffer, or SubscribeToShard's event stream.
// An enum rather than a boxed body: one allocation fewer on every answer.
type Body = http_body_util::Either<Full<Bytes>, EventBody>;

fn respond(status: u16, content_type: &'static str, body: Vec<u8>) -> Response<Body> {
    let empty = body.is_empty();
    let mut resp = Response::new(Body::Left(Full::new(Bytes::from(body))));
    if empty {
        resp.headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    }
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    let id = request_id();
    headers.insert(REQUEST_ID, id.clone());
    headers.insert(ID_2, id);
    resp
}

fn error_response(encoding: Encoding, error: &ApiError) -> Response<Body> {
    respond(
        error.status(),
        encoding.content_type(),
        protocol::render_error(encoding, error),
    )
}

/// AWS checks, in this order: method, body present, operation known, authentication.
async fn handle(registry: Arc<Registry>, req: Request<Incoming>) -> Response<Body> {
    if req.method() != Method::POST {
        let body = "<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n</AccessDeniedException>\n";
        return respond(403, "application/xml", body.as_bytes().to_vec());
    }
    // Looked up by `HeaderName` constants: a `&str` name is parsed again on every lookup.
    let header = |name: &HeaderName| req.headers().get(name).and_then(|v| v.to_str().ok());
    let encoding = Encoding::from_content_type(header(&CONTENT_TYPE));
    let operation = protocol::parse_target(header(&X_AMZ_TARGET));
    let dated = header(&X_AMZ_DATE).is_some() || header(&DATE).is_some();
    let auth = check_auth(header(&AUTHORIZATION), req.uri().query(), dated);
    let declared_len = header(&CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    if declared_len.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return too_large(encoding);
    }
    let body = match Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return too_large(encoding),
        Err(_) => return error_response(encoding, &ApiError::Serialization(None)),
    };
    let result = async {
        if body.iter().all(u8::is_ascii_whitespace) {
            operation?;
            return Err(ApiError::Serialization(None));
        }
        if encoding == Encoding::Json
            && body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{')
        {
            return Err(ApiError::Serialization(None));
        }
        let op = operation?;
        auth?;
        api::dispatch(&registry, op, encoding, &body).await
    }
    .await;
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

/// A response body fed by a subscription task; it ends when the task drops its sender.
struct EventBody(tokio::sync::mpsc::Receiver<Bytes>);

impl hyper::body::Body for EventBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|bytes| Ok(hyper::body::Frame::data(bytes))))
    }
}

fn too_large(encoding: Encoding) -> Response<Body> {
    let mut resp = error_response(
        encoding,
        &ApiError::Serialization(Some(format!(
            "Request body exceeds the maximum of {MAX_BODY_BYTES} bytes"
        ))),
    );
    *resp.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
    resp.headers_mut()
        .insert("connection", HeaderValue::from_static("close"));
    resp
}

/// Any well-formed SigV4 header (or presigned query) is accepted; signatures are not verified.
fn check_auth(
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

    #[test]
    fn request_ids_are_version_4_uuids() {
        let first = request_id();
        let text = first.to_str().unwrap();
        assert_eq!(text.len(), 36);
        for (i, c) in text.char_indices() {
            match i {
                8 | 13 | 18 | 23 => assert_eq!(c, '-', "{text}"),
                14 => assert_eq!(c, '4', "{text}"),
                19 => assert!("89ab".contains(c), "{text}"),
                _ => assert!(c.is_ascii_hexdigit() && !c.is_ascii_uppercase(), "{text}"),
            }
        }
        assert_ne!(request_id(), first);
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
