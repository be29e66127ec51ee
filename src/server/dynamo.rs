//! The DynamoDB door of the front: a request whose `X-Amz-Target` names
//! `DynamoDB_20120810.<Op>` gets the same host, size, signature and body-budget checks as a
//! Kinesis one, then goes to `dynamodb::handle`; every answer is JSON 1.0 with DynamoDB's
//! error shapes.

use super::budget::BodyError;
use super::front::{verify_signature, Front};
use super::response::{closing, respond, Body, ErrorType};
use crate::dynamodb::{self, error::DynError, CONTENT_TYPE};
use crate::error::ApiError;
use crate::protocol::request::{self, MAX_BODY_BYTES};
use hyper::body::Incoming;
use hyper::Response;
use std::sync::Arc;
use tokio::time::Instant;

/// What the request's headers already decided, read by `front.rs`.
pub(super) struct Head<'a> {
    pub(super) op: &'a str,
    pub(super) content_length: Option<u64>,
    pub(super) authorization: Option<&'a str>,
    pub(super) query: Option<&'a str>,
    pub(super) dated: bool,
}

/// A protocol-level refusal (signature, size) in DynamoDB's shape.
fn coral(e: &ApiError) -> DynError {
    let mut d = DynError::serialization(e.message().unwrap_or_default());
    d.type_name = format!("com.amazon.coral.service#{}", e.type_name());
    d.status = e.status();
    d
}

pub(super) fn error(e: &DynError) -> Response<Body> {
    let mut resp = respond(e.status, CONTENT_TYPE, e.body());
    // The access log's exception name: leaked once per distinct name, a handful in all.
    let name: &'static str = match e.short_name() {
        "ConditionalCheckFailedException" => "ConditionalCheckFailedException",
        "ResourceNotFoundException" => "ResourceNotFoundException",
        "ResourceInUseException" => "ResourceInUseException",
        "ValidationException" => "ValidationException",
        "TransactionCanceledException" => "TransactionCanceledException",
        _ => "DynamoDBException",
    };
    resp.extensions_mut().insert(ErrorType(name));
    resp
}

pub(super) async fn answer(
    front: Arc<Front>,
    parts: &hyper::http::request::Parts,
    head: Head<'_>,
    body: Incoming,
) -> Response<Body> {
    if head
        .content_length
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        let mut resp = error(&coral(&request::too_large()));
        *resp.status_mut() = hyper::StatusCode::PAYLOAD_TOO_LARGE;
        return closing(resp);
    }
    if let Err(e) = request::check_auth(head.authorization, head.query, head.dated) {
        return error(&coral(&e));
    }
    let deadline = Instant::now() + front.body_timeout;
    let body = match front
        .budget
        .read_body(body, head.content_length, MAX_BODY_BYTES, deadline)
        .await
    {
        Ok((body, _reserved)) => body,
        Err(BodyError::TooLarge) => return error(&coral(&request::too_large())),
        Err(BodyError::Busy) => {
            return error(&DynError::unavailable(
                "The server is busy with other requests; retry after a pause.",
            ))
        }
        Err(BodyError::TimedOut) => return closing(error(&DynError::serialization(""))),
        Err(BodyError::Broken) => return error(&DynError::serialization("")),
    };
    if let Some(credentials) = &front.registry.config().credentials {
        if let Err(e) = verify_signature(&front.registry, credentials, parts, &body, "dynamodb") {
            return error(&coral(&e));
        }
    }
    match dynamodb::handle(&front.registry, head.op, &body).await {
        Ok(bytes) => respond(200, CONTENT_TYPE, bytes),
        Err(e) => {
            if e.status >= 500 {
                tracing::error!(error = %e.message, "DynamoDB request failed");
            }
            error(&e)
        }
    }
}
