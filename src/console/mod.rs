//! The web console at `GET /console` (off with `--no-console`): a few static files embedded in
//! the binary, and two read-only JSON documents for what the Kinesis API cannot tell:
//! `/console/api/traffic` (`traffic.rs`) and `/console/api/shard`, a shard's stored records.
//! Everything else the pages show or change goes through kinesd's own Kinesis API, as any
//! client's requests do, so the console cannot disagree with what clients see.
//!
//! Invariants:
//! - only GET reaches this module, after the Host allow-list (`protocol::host`), so a page
//!   served to a DNS-rebinding name never loads;
//! - no answer grants CORS; every answer carries a Content-Security-Policy that allows only
//!   this origin's own files and requests and forbids framing, and `nosniff`;
//! - with the console off, every path under `/console` is a 404 and no sampler runs.

pub mod traffic;

use crate::streams::Registry;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CACHE_CONTROL};
use std::sync::Arc;
use traffic::History;

/// Where the console lives.
pub const PREFIX: &str = "/console";

/// The embedded files: (path under [`PREFIX`], content type, bytes).
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "/",
        "text/html; charset=utf-8",
        include_str!("assets/index.html"),
    ),
    (
        "/style.css",
        "text/css; charset=utf-8",
        include_str!("assets/style.css"),
    ),
    (
        "/app.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/app.js"),
    ),
    (
        "/api.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/api.js"),
    ),
    (
        "/dom.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/dom.js"),
    ),
    (
        "/put.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/put.js"),
    ),
    (
        "/streams.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/streams.js"),
    ),
    (
        "/stream.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/stream.js"),
    ),
    (
        "/chart.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/chart.js"),
    ),
    (
        "/tail.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/tail.js"),
    ),
    (
        "/kpl.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/kpl.js"),
    ),
];

const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// The console's state: its traffic history (sampled by a task that ends with it).
pub struct Console {
    history: Arc<History>,
}

impl Console {
    /// The console for `registry`, or `None` when the configuration turns it off.
    pub fn start(registry: &Arc<Registry>) -> Option<Console> {
        if !registry.config().console {
            return None;
        }
        let history = Arc::new(History::default());
        traffic::spawn_sampler(&history, registry);
        Some(Console { history })
    }
}

/// One answer of the console.
pub struct Page {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    cache: &'static str,
}

impl Page {
    /// The headers every console answer carries besides its content type.
    pub fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let fixed = [
            ("content-security-policy", POLICY),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
            ("x-frame-options", "DENY"),
        ];
        for (name, value) in fixed {
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(self.cache));
        headers
    }

    fn text(status: u16, text: &str) -> Page {
        Page {
            status,
            content_type: "text/plain; charset=utf-8",
            body: text.as_bytes().to_vec(),
            cache: "no-store",
        }
    }
}

/// The value of `name` in a query string (stream names and shard ids need no decoding: their
/// characters are all allowed in a query).
fn param<'q>(query: Option<&'q str>, name: &str) -> Option<&'q str> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

fn json(status: u16, value: serde_json::Value) -> Page {
    Page {
        status,
        content_type: "application/json",
        body: value.to_string().into_bytes(),
        cache: "no-store",
    }
}

/// `/console/api/shard?stream=NAME&shard=ID`: the records and billed bytes the shard stores
/// now. A full scan of the shard, so the page asks for it only when a button is pressed.
async fn shard_stats(registry: &Registry, query: Option<&str>) -> Page {
    let stream = param(query, "stream").and_then(|name| registry.lookup(name).ok());
    let shard = param(query, "shard").and_then(crate::streams::sequence::parse_shard_id);
    let Some(shard) = stream.zip(shard).and_then(|(s, index)| s.shard(index)) else {
        return json(
            404,
            serde_json::json!({ "error": "no such stream or shard" }),
        );
    };
    match registry.shard_stats(shard.key).await {
        Ok(stats) => json(
            200,
            serde_json::json!({ "records": stats.records, "bytes": stats.bytes }),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "counting a shard's records for the console failed");
            json(
                503,
                serde_json::json!({ "error": "the store could not be read" }),
            )
        }
    }
}

/// The answer to `GET path?query` when `path` is the console's, `None` for any other path.
pub async fn page(
    console: Option<&Console>,
    registry: &Registry,
    path: &str,
    query: Option<&str>,
) -> Option<Page> {
    let rest = path.strip_prefix(PREFIX)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let Some(console) = console else {
        return Some(Page::text(
            404,
            "The console is turned off (--no-console).\n",
        ));
    };
    match rest {
        "/api/traffic" => {
            let report = console.history.report(registry, param(query, "stream"));
            return Some(json(200, report));
        }
        "/api/shard" => return Some(shard_stats(registry, query).await),
        _ => {}
    }
    let wanted = if rest.is_empty() { "/" } else { rest };
    let Some((_, content_type, body)) = ASSETS.iter().find(|(p, _, _)| *p == wanted) else {
        return Some(Page::text(404, "No such page in the console.\n"));
    };
    Some(Page {
        status: 200,
        content_type,
        body: body.as_bytes().to_vec(),
        cache: "no-cache",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_the_page_loads_is_embedded() {
        let (_, _, html) = ASSETS[0];
        for link in html.split("src=\"").chain(html.split("href=\"")).skip(1) {
            let path = link.split('"').next().unwrap();
            let Some(path) = path.strip_prefix(PREFIX) else {
                continue;
            };
            assert!(ASSETS.iter().any(|(p, _, _)| *p == path), "{path}");
        }
        // Modules import each other by `./name.js`.
        for (from, _, body) in ASSETS {
            for import in body.split("from './").skip(1) {
                let path = format!("/{}", import.split('\'').next().unwrap());
                assert!(
                    ASSETS.iter().any(|(p, _, _)| *p == path),
                    "{from} imports {path}"
                );
            }
        }
    }

    #[test]
    fn no_asset_writes_html_from_strings() {
        // Everything shown is user input (partition keys, data): only textContent is used.
        for (path, _, body) in ASSETS {
            for banned in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
            ] {
                assert!(!body.contains(banned), "{path} uses {banned}");
            }
        }
    }
}
