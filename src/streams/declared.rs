//! Streams declared at start (`--streams` / `KINESD_STREAMS="orders:4,clicks:2:48h"`, or
//! `[[streams]]` tables in the configuration file, which may also give tags and consumers):
//! created before the server listens, so they and their consumers are ACTIVE by the time
//! anyone can ask.
//!
//! Invariants:
//! - declaring is idempotent: a declared stream that exists is left as it is; one that differs
//!   (shard count, mode, retention, tags) only gets a warning saying how — never resharded,
//!   changed or deleted behind the user's back; a declared consumer it lacks is registered
//!   (adding is not changing what exists);
//! - a declared stream or consumer is ACTIVE at once, whatever `--create-stream-ms` and
//!   `--consumer-ms` say (those delays are for what clients create);
//! - a declaration AWS would refuse (names, shard count, retention, tags) stops the start
//!   before anything is written ([`DeclaredStream::check`]).

use super::{Registry, StreamMode};
use crate::protocol::validate::NAME;
use std::collections::BTreeMap;

/// One declared stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeclaredStream {
    pub name: String,
    /// `None`: on demand.
    pub shards: Option<u32>,
    pub retention_hours: Option<i64>,
    /// Tags given at creation (an existing stream's tags are compared, not changed).
    pub tags: BTreeMap<String, String>,
    /// Enhanced fan-out consumers registered if absent.
    pub consumers: Vec<String>,
}

/// AWS's limit on tags per stream.
const MAX_TAGS: usize = 50;

impl DeclaredStream {
    /// What AWS would refuse in CreateStream, AddTagsToStream or RegisterStreamConsumer.
    pub fn check(&self) -> Result<(), String> {
        if !is_name(&self.name) {
            return Err("a stream name is 1 to 128 of a-z, A-Z, 0-9, '_', '.' and '-'".into());
        }
        if let Some(shards) = self.shards.filter(|n| !(1..=10_000).contains(n)) {
            return Err(format!("{shards} shards is outside 1..10000"));
        }
        if let Some(hours) = self.retention_hours.filter(|h| !(24..=8760).contains(h)) {
            return Err(format!("retention {hours}h is outside 24h..8760h"));
        }
        if self.tags.len() > MAX_TAGS {
            return Err(format!("{} tags, at most {MAX_TAGS}", self.tags.len()));
        }
        for (key, value) in &self.tags {
            if key.is_empty() || key.chars().count() > 128 || key.starts_with("aws:") {
                return Err(format!(
                    "tag key '{key}': 1 to 128 characters, not starting with 'aws:'"
                ));
            }
            if value.chars().count() > 256 {
                return Err(format!("tag '{key}': a value is at most 256 characters"));
            }
        }
        for (i, consumer) in self.consumers.iter().enumerate() {
            if !is_name(consumer) {
                return Err(format!(
                    "consumer '{consumer}': a consumer name is 1 to 128 of a-z, A-Z, 0-9, '_', '.' and '-'"
                ));
            }
            if self.consumers[..i].contains(consumer) {
                return Err(format!("consumer '{consumer}' is declared twice"));
            }
        }
        Ok(())
    }
}

fn is_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 128 && (NAME.matches)(name)
}

/// Checks a list of declarations (each, and no name twice).
pub fn check_list(list: &[DeclaredStream]) -> Result<(), String> {
    for (i, declared) in list.iter().enumerate() {
        declared
            .check()
            .map_err(|why| format!("stream '{}': {why}", declared.name))?;
        if list[..i].iter().any(|d| d.name == declared.name) {
            return Err(format!("stream '{}' is declared twice", declared.name));
        }
    }
    Ok(())
}

/// Parses `name[:shards|:on-demand][:<hours>h]`, comma-separated, e.g.
/// `orders:4,clicks:2:48h,events:on-demand`. A bare name is one shard.
pub fn parse_list(text: &str) -> Result<Vec<DeclaredStream>, String> {
    let mut out: Vec<DeclaredStream> = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let declared = parse_one(entry).map_err(|why| format!("stream '{entry}': {why}"))?;
        out.push(declared);
    }
    check_list(&out)?;
    Ok(out)
}

fn parse_one(entry: &str) -> Result<DeclaredStream, String> {
    let mut parts = entry.split(':');
    let mut declared = DeclaredStream {
        name: parts.next().unwrap_or_default().to_string(),
        shards: Some(1),
        ..DeclaredStream::default()
    };
    for part in parts {
        if let Some(hours) = part.strip_suffix('h') {
            let hours: i64 = hours
                .parse()
                .map_err(|_| format!("'{part}' is not a retention like 48h"))?;
            declared.retention_hours = Some(hours);
        } else if part.eq_ignore_ascii_case("on-demand") {
            declared.shards = None;
        } else {
            let shards: u32 = part.parse().map_err(|_| {
                format!("'{part}' is not a shard count, 'on-demand' or a retention like 48h")
            })?;
            declared.shards = Some(shards);
        }
    }
    declared.check()?;
    Ok(declared)
}

/// Creates the declared streams that do not exist; warns about those that differ.
pub async fn declare(registry: &Registry, declared: &[DeclaredStream]) -> Result<(), String> {
    for d in declared {
        if let Ok(existing) = registry.lookup(&d.name) {
            let differences = existing.with_meta(|m| {
                let mut found = Vec::new();
                let shards = m.shards.iter().filter(|s| s.closed.is_none()).count() as u32;
                match (d.shards, m.mode) {
                    (Some(want), StreamMode::Provisioned) if want != shards => {
                        found.push(format!("{shards} open shards, declared {want}"))
                    }
                    (Some(_), StreamMode::OnDemand) => {
                        found.push("on demand, declared provisioned".to_string())
                    }
                    (None, StreamMode::Provisioned) => {
                        found.push("provisioned, declared on demand".to_string())
                    }
                    _ => {}
                }
                if let Some(hours) = d.retention_hours.filter(|h| *h != m.retention_hours) {
                    found.push(format!(
                        "retention {}h, declared {hours}h",
                        m.retention_hours
                    ));
                }
                for (key, value) in &d.tags {
                    match m.tags.get(key) {
                        Some(have) if have == value => {}
                        Some(have) => {
                            found.push(format!("tag {key}={have}, declared {key}={value}"))
                        }
                        None => found.push(format!("no tag {key}, declared {key}={value}")),
                    }
                }
                found
            });
            if !differences.is_empty() {
                tracing::warn!(
                    stream = %d.name,
                    "declared stream exists and is left as it is: {}",
                    differences.join("; ")
                );
            }
            declare_consumers(registry, &existing, d).await?;
            continue;
        }
        let (mode, shards) = match d.shards {
            Some(n) => (StreamMode::Provisioned, n),
            None => (StreamMode::OnDemand, 4),
        };
        let stream = registry
            .create_stream(&d.name, shards, mode, d.tags.clone(), 1024)
            .await
            .map_err(|e| format!("declared stream '{}': {}", d.name, e))?;
        registry
            .update_meta(&stream, |m| {
                // ACTIVE from the start: the creation delay is for clients' streams.
                m.active_at_ms = m.created_ms;
                if let Some(hours) = d.retention_hours {
                    m.retention_hours = hours;
                }
                Ok(())
            })
            .await
            .map_err(|e| format!("declared stream '{}': {}", d.name, e))?;
        tracing::info!(stream = %d.name, shards, "created declared stream");
        declare_consumers(registry, &stream, d).await?;
    }
    Ok(())
}

/// Registers the declared consumers a stream lacks, ACTIVE at once.
async fn declare_consumers(
    registry: &Registry,
    stream: &std::sync::Arc<super::Stream>,
    d: &DeclaredStream,
) -> Result<(), String> {
    let now = registry.now();
    for name in &d.consumers {
        if stream.with_meta(|m| m.live_consumer(name, now).is_some()) {
            continue;
        }
        let failed = |e: crate::error::ApiError| {
            format!("declared consumer '{name}' of stream '{}': {e}", d.name)
        };
        let consumer = registry
            .register_consumer(stream, name, BTreeMap::new())
            .await
            .map_err(failed)?;
        registry
            .update_consumer(stream, &consumer, |c| {
                c.active_at_ms = c.created_ms;
                Ok(())
            })
            .await
            .map_err(failed)?;
        tracing::info!(stream = %d.name, consumer = %name, "registered declared consumer");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_short_form() {
        assert_eq!(
            parse_list("orders:4, clicks:2:48h,events:on-demand,plain").unwrap(),
            vec![
                DeclaredStream {
                    name: "orders".into(),
                    shards: Some(4),
                    retention_hours: None,
                    ..DeclaredStream::default()
                },
                DeclaredStream {
                    name: "clicks".into(),
                    shards: Some(2),
                    retention_hours: Some(48),
                    ..DeclaredStream::default()
                },
                DeclaredStream {
                    name: "events".into(),
                    shards: None,
                    retention_hours: None,
                    ..DeclaredStream::default()
                },
                DeclaredStream {
                    name: "plain".into(),
                    shards: Some(1),
                    retention_hours: None,
                    ..DeclaredStream::default()
                },
            ]
        );
        for (bad, says) in [
            ("bad name:1", "a stream name is"),
            ("s:0", "outside 1..10000"),
            ("s:x", "not a shard count"),
            ("s:1:2h", "outside 24h..8760h"),
            ("a,a", "declared twice"),
        ] {
            let err = parse_list(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
