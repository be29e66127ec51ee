//! `GET /metrics`: the process's metrics (`crate::metrics`) with every stream's shard
//! counters, the data directory's size and the latest CloudWatch values, gathered at the
//! scrape.

use crate::metrics::StreamTraffic;
use crate::streams::Registry;
use std::path::Path;

/// The Prometheus text exposition of everything this process counts.
pub(super) fn metrics_text(registry: &Registry, cloudwatch: &crate::cloudwatch::Sink) -> String {
    let streams = registry
        .list()
        .iter()
        .map(|s| StreamTraffic {
            stream: s.name.clone(),
            shards: s.traffic_by_shard(),
        })
        .collect();
    let config = registry.config();
    // In cluster mode the records are in JetStream, not in the data directory.
    let disk = match (&config.data_dir, &config.nats) {
        (Some(dir), None) => Some(size_on_disk(dir)),
        _ => None,
    };
    registry
        .metrics
        .render(streams, disk, vec![cloudwatch.collector()])
}

/// Bytes the files under `dir` take (sled keeps a handful of files; the walk is short).
fn size_on_disk(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(t) if t.is_dir() => size_on_disk(&entry.path()),
            Ok(t) if t.is_file() => entry.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}
