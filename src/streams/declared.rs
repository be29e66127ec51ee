//! Streams declared at start (`--streams` / `KINESD_STREAMS="orders:4,clicks:2:48h"`):
//! created before the server listens, so they are ACTIVE by the time anyone can ask.
//!
//! Invariants:
//! - declaring is idempotent: a declared stream that exists is left as it is; one that differs
//!   (shard count, mode, retention) only gets a warning saying how — never resharded,
//!   changed or deleted behind the user's back;
//! - a declared stream is ACTIVE at once, whatever `--create-stream-ms` says (that delay is
//!   for streams clients create);
//! - a declaration AWS would refuse (name, shard count, retention) stops the start before
//!   anything is written (`parse_list`).

use super::{Registry, StreamMode};
use crate::protocol::validate::NAME;
use std::collections::BTreeMap;

/// One declared stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredStream {
    pub name: String,
    /// `None`: on demand.
    pub shards: Option<u32>,
    pub retention_hours: Option<i64>,
}

/// Parses `name[:shards|:on-demand][:<hours>h]`, comma-separated, e.g.
/// `orders:4,clicks:2:48h,events:on-demand`. A bare name is one shard.
pub fn parse_list(text: &str) -> Result<Vec<DeclaredStream>, String> {
    let mut out: Vec<DeclaredStream> = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let declared = parse_one(entry).map_err(|why| format!("stream '{entry}': {why}"))?;
        if out.iter().any(|d| d.name == declared.name) {
            return Err(format!("stream '{}' is declared twice", declared.name));
        }
        out.push(declared);
    }
    Ok(out)
}

fn parse_one(entry: &str) -> Result<DeclaredStream, String> {
    let mut parts = entry.split(':');
    let name = parts.next().unwrap_or_default().to_string();
    if name.is_empty() || name.len() > 128 || !(NAME.matches)(&name) {
        return Err("a stream name is 1 to 128 of a-z, A-Z, 0-9, '_', '.' and '-'".into());
    }
    let mut declared = DeclaredStream {
        name,
        shards: Some(1),
        retention_hours: None,
    };
    for part in parts {
        if let Some(hours) = part.strip_suffix('h') {
            let hours: i64 = hours
                .parse()
                .map_err(|_| format!("'{part}' is not a retention like 48h"))?;
            if !(24..=8760).contains(&hours) {
                return Err(format!("retention {hours}h is outside 24h..8760h"));
            }
            declared.retention_hours = Some(hours);
        } else if part.eq_ignore_ascii_case("on-demand") {
            declared.shards = None;
        } else {
            let shards: u32 = part.parse().map_err(|_| {
                format!("'{part}' is not a shard count, 'on-demand' or a retention like 48h")
            })?;
            if !(1..=10_000).contains(&shards) {
                return Err(format!("{shards} shards is outside 1..10000"));
            }
            declared.shards = Some(shards);
        }
    }
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
                found
            });
            if !differences.is_empty() {
                tracing::warn!(
                    stream = %d.name,
                    "declared stream exists and is left as it is: {}",
                    differences.join("; ")
                );
            }
            continue;
        }
        let (mode, shards) = match d.shards {
            Some(n) => (StreamMode::Provisioned, n),
            None => (StreamMode::OnDemand, 4),
        };
        let stream = registry
            .create_stream(&d.name, shards, mode, BTreeMap::new(), 1024)
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
                    retention_hours: None
                },
                DeclaredStream {
                    name: "clicks".into(),
                    shards: Some(2),
                    retention_hours: Some(48)
                },
                DeclaredStream {
                    name: "events".into(),
                    shards: None,
                    retention_hours: None
                },
                DeclaredStream {
                    name: "plain".into(),
                    shards: Some(1),
                    retention_hours: None
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
