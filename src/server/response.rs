//! Building answers: status, content type, request ids, and the body (a whole buffer or
//! SubscribeToShard's event stream).

use crate::error::ApiError;
use crate::protocol::request::too_large as too_large_error;
use crate::protocol::{self, Encoding};
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use std::convert::Infallible;

// Parsed once: `insert` with a `&str` name parses it on every answer.
pub(super) const REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
pub(super) const ID_2: HeaderName = HeaderName::from_static("x-amz-id-2");

/// A fresh UUID v4 as a header value. Hand-rolled: `format!` with five padded hex fields
/// was ~1% of PutRecord's CPU.
pub(super) fn request_id() -> HeaderValue {
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
pub(super) type Body = http_body_util::Either<Full<Bytes>, EventBody>;

pub(super) fn respond(status: u16, content_type: &'static str, body: Vec<u8>) -> Response<Body> {
    let empty = body.is_empty();
    let mut resp = answer(
        status,
        content_type,
        Body::Left(Full::new(Bytes::from(body))),
    );
    if empty {
        resp.headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    }
    resp
}

/// An answer with `body`, its status, content type and request ids.
pub(super) fn answer(status: u16, content_type: &'static str, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    let id = request_id();
    headers.insert(REQUEST_ID, id.clone());
    headers.insert(ID_2, id);
    resp
}

/// The exception an answer carries, kept beside it (never sent) for the access log.
#[derive(Clone, Copy)]
pub(super) struct ErrorType(pub(super) &'static str);

pub(super) fn error_response(encoding: Encoding, error: &ApiError) -> Response<Body> {
    let mut resp = respond(
        error.status(),
        encoding.content_type(),
        protocol::render_error(encoding, error),
    );
    resp.extensions_mut().insert(ErrorType(error.type_name()));
    resp
}

/// A response body fed by a subscription task; it ends when the task drops its sender.
///
/// Each item is one whole event-stream message and goes out as one `Frame::data`, which hyper
/// writes as exactly one HTTP/1.1 chunk (`<hex len>\r\n<message>\r\n`, however many it
/// gathers into one socket write) and one HTTP/2 DATA frame (split only when the message
/// exceeds the peer's frame size or flow-control window). Clients such as lifion-kinesis parse
/// each chunk as the start of a message, so items must never be merged or split here
/// (tests/subscribe_transports.rs checks both transports).
pub(super) struct EventBody(pub(super) tokio::sync::mpsc::Receiver<Bytes>);

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

pub(super) fn too_large(encoding: Encoding) -> Response<Body> {
    let mut resp = error_response(encoding, &too_large_error());
    *resp.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
    closing(resp)
}

/// Asks the client to close the connection after this answer (HTTP/1.1; HTTP/2 ignores it).
pub(super) fn closing(mut resp: Response<Body>) -> Response<Body> {
    resp.headers_mut()
        .insert("connection", HeaderValue::from_static("close"));
    resp
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
}
