//! The control API (`--control-api`): what a test needs beyond Kinesis's own operations —
//! moving the clock, installing faults, and resetting the server — as JSON under one
//! reserved prefix, `/_kinesd/`, which no Kinesis request uses (they are all `POST /`).
//!
//! | request | effect |
//! |---|---|
//! | `GET /_kinesd/clock` | `{"now_ms": …, "manual": true}` |
//! | `POST /_kinesd/clock` `{"advance_ms": N}` or `{"set_ms": T}` | moves the manual clock (`--clock manual`) |
//! | `GET /_kinesd/faults` | the installed rules, each with its `id` and `injected` count |
//! | `POST /_kinesd/faults` (a rule, see `faults.rs`) | installs it: `{"id": …}` |
//! | `DELETE /_kinesd/faults/<id>`, `DELETE /_kinesd/faults` | removes one rule, or all |
//! | `POST /_kinesd/reset` | deletes every stream (and so every consumer) and every rule |
//!
//! Invariants:
//! - off unless `--control-api`: then every `/_kinesd/` path answers 404 and changes nothing;
//! - on, it answers only clients on a loopback address unless `--control-api-remote` says
//!   otherwise (403 for the others): it can delete everything;
//! - the clock moves only when kinesd was started with `--clock manual`; everything that
//!   reads "now" follows at once, since all of it goes through the one injected clock.

pub mod client;
pub mod faults;

use crate::error::ApiError;
use crate::streams::Registry;
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;

/// The reserved path prefix.
pub const PREFIX: &str = "/_kinesd/";

/// An answer: status and JSON body.
pub type Reply = (u16, Vec<u8>);

fn reply(status: u16, body: serde_json::Value) -> Reply {
    (status, body.to_string().into_bytes())
}

fn refused(status: u16, why: impl std::fmt::Display) -> Reply {
    reply(status, json!({ "error": why.to_string() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    advance_ms: Option<i64>,
    set_ms: Option<i64>,
}

/// Answers one control request.
pub async fn handle(
    registry: &Registry,
    peer: Option<SocketAddr>,
    method: &hyper::Method,
    path: &str,
    body: &[u8],
) -> Reply {
    let config = registry.config();
    if !config.control_api {
        return refused(404, "not found (start kinesd with --control-api)");
    }
    let local = peer.is_some_and(|p| p.ip().is_loopback());
    if !local && !config.control_api_remote {
        return refused(
            403,
            "the control API answers loopback clients only (see --control-api-remote)",
        );
    }
    let route = path.trim_start_matches(PREFIX).trim_end_matches('/');
    use hyper::Method;
    match (method, route) {
        (&Method::GET, "clock") => clock_reply(registry),
        (&Method::POST, "clock") => {
            let Some(clock) = &config.manual_clock else {
                return refused(
                    409,
                    "the clock is the system clock (start kinesd with --clock manual)",
                );
            };
            match serde_json::from_slice::<ClockChange>(body) {
                Ok(ClockChange {
                    advance_ms: Some(ms),
                    set_ms: None,
                }) => clock.advance_ms(ms),
                Ok(ClockChange {
                    advance_ms: None,
                    set_ms: Some(ms),
                }) => clock.set_ms(ms),
                Ok(_) => return refused(400, "give one of advance_ms and set_ms"),
                Err(e) => return refused(400, e),
            }
            tracing::info!(now_ms = registry.now(), "clock moved by the control API");
            // Retention, lifecycles and subscriptions look at the clock when they next run;
            // a pass now makes expiries take effect at once.
            registry.wake_background();
            clock_reply(registry)
        }
        (&Method::GET, "faults") => reply(200, json!({ "faults": registry.faults.list() })),
        (&Method::POST, "faults") => {
            let spec = match serde_json::from_slice(body) {
                Ok(spec) => spec,
                Err(e) => return refused(400, e),
            };
            match registry.faults.add(spec) {
                Ok(id) => reply(201, json!({ "id": id })),
                Err(why) => refused(400, why),
            }
        }
        (&Method::DELETE, "faults") => {
            registry.faults.remove(None);
            reply(200, json!({}))
        }
        (&Method::DELETE, route) if route.starts_with("faults/") => {
            match route["faults/".len()..].parse::<u64>() {
                Ok(id) if registry.faults.remove(Some(id)) => reply(200, json!({})),
                _ => refused(404, format!("no fault rule {route}")),
            }
        }
        (&Method::POST, "reset") => match reset(registry).await {
            Ok(deleted) => reply(200, json!({ "deleted_streams": deleted })),
            Err(e) => refused(500, e),
        },
        _ => refused(404, format!("no control endpoint {method} {path}")),
    }
}

fn clock_reply(registry: &Registry) -> Reply {
    reply(
        200,
        json!({
            "now_ms": registry.now(),
            "manual": registry.config().manual_clock.is_some(),
        }),
    )
}

/// Deletes every stream at once (whatever `--delete-stream-ms` says) and every fault rule, and
/// refills the control-plane rate buckets (`--enforce-limits`).
async fn reset(registry: &Registry) -> Result<usize, ApiError> {
    registry.faults.remove(None);
    registry.reset_control_limits();
    let streams = registry.list();
    for stream in &streams {
        registry.delete_stream_now(stream).await?;
    }
    Ok(streams.len())
}

/// The stream and shard a Kinesis request names, for fault rules: `StreamName`, `StreamARN`
/// and `ShardId` of its body, or the stream and shard of its `ShardIterator`. Only called
/// while a rule is installed.
pub fn target_of(
    registry: &Registry,
    encoding: crate::protocol::Encoding,
    body: &[u8],
) -> faults::Target {
    let field = |name: &str| -> Option<String> {
        match encoding {
            crate::protocol::Encoding::Cbor => {
                let value: ciborium::Value = ciborium::from_reader(body).ok()?;
                let map = value.into_map().ok()?;
                map.into_iter().find_map(|(k, v)| {
                    (k.as_text() == Some(name))
                        .then(|| v.into_text().ok())
                        .flatten()
                })
            }
            _ => {
                let value: serde_json::Value = serde_json::from_slice(body).ok()?;
                value.get(name)?.as_str().map(str::to_string)
            }
        }
    };
    if let Some(text) = field("ShardIterator") {
        if let Some(it) = crate::streams::iterator::ShardIterator::decode(&text, registry.signer())
        {
            return faults::Target {
                stream: Some(it.stream_name),
                shard: Some(crate::streams::sequence::shard_id(it.shard_index)),
            };
        }
    }
    let stream = field("StreamName").or_else(|| {
        let arn = field("StreamARN")?;
        arn.split_once(":stream/").map(|(_, name)| name.to_string())
    });
    faults::Target {
        stream,
        shard: field("ShardId"),
    }
}
