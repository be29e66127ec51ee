//! Where accepted PutMetricData datums go: the latest summary of each series, in memory, for
//! kinesd's Prometheus endpoint.
//!
//! Invariants: a series is (namespace, metric name, dimensions sorted by name); its entry is
//! replaced by every datum put for it (the latest arrival wins, whatever its timestamp);
//! memory is bounded by [`MAX_SERIES`] series and [`MAX_KEY_BYTES`] bytes of names — a datum
//! of a new series past either bound is dropped and counted, existing series keep updating.
//! These are the only Prometheus labels a client chooses, and the bounds are what keeps them
//! from growing the scrape without end. Nothing is persisted: metrics are what CloudWatch
//! would graph, not data kinesd must keep.

use super::datum::{PutMetricData, Summary};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use std::collections::HashMap;
use std::sync::Mutex;

pub const MAX_SERIES: usize = 10_000;
pub const MAX_KEY_BYTES: usize = 8 * 1024 * 1024;

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct SeriesKey {
    namespace: String,
    metric: String,
    /// `Name=Value` pairs joined by `,`, sorted by name.
    dimensions: String,
}

impl SeriesKey {
    fn bytes(&self) -> usize {
        self.namespace.len() + self.metric.len() + self.dimensions.len()
    }
}

#[derive(Clone, Debug)]
struct Latest {
    unit: String,
    summary: Summary,
}

#[derive(Debug, Default)]
struct Inner {
    series: HashMap<SeriesKey, Latest>,
    key_bytes: usize,
    accepted: u64,
    dropped: u64,
}

/// The latest CloudWatch values, shared by the front (writes) and `/metrics` (reads).
#[derive(Debug)]
pub struct Sink {
    inner: Mutex<Inner>,
    max_series: usize,
    max_key_bytes: usize,
}

impl Default for Sink {
    fn default() -> Self {
        Sink::with_bounds(MAX_SERIES, MAX_KEY_BYTES)
    }
}

impl Sink {
    pub fn with_bounds(max_series: usize, max_key_bytes: usize) -> Sink {
        Sink {
            inner: Mutex::default(),
            max_series,
            max_key_bytes,
        }
    }

    pub(super) fn record(&self, put: &PutMetricData, _now_ms: i64) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        for datum in &put.datums {
            let key = SeriesKey {
                namespace: put.namespace.clone(),
                metric: datum.metric.clone(),
                dimensions: datum
                    .dimensions
                    .iter()
                    .map(|(n, v)| format!("{n}={v}"))
                    .collect::<Vec<_>>()
                    .join(","),
            };
            let latest = Latest {
                unit: datum.unit.clone(),
                summary: datum.summary,
            };
            if let Some(entry) = inner.series.get_mut(&key) {
                *entry = latest;
                inner.accepted += 1;
                continue;
            }
            let bytes = key.bytes();
            if inner.series.len() >= self.max_series || inner.key_bytes + bytes > self.max_key_bytes
            {
                inner.dropped += 1;
                continue;
            }
            inner.key_bytes += bytes;
            inner.series.insert(key, latest);
            inner.accepted += 1;
        }
    }

    /// A copy of the series for one scrape (the lock is held only to copy).
    pub fn collector(&self) -> Box<dyn Collector> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut series: Vec<(SeriesKey, Latest)> = inner
            .series
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        series.sort_by(|a, b| {
            (&a.0.namespace, &a.0.metric, &a.0.dimensions).cmp(&(
                &b.0.namespace,
                &b.0.metric,
                &b.0.dimensions,
            ))
        });
        Box::new(SinkCollector {
            series,
            accepted: inner.accepted,
            dropped: inner.dropped,
        })
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SeriesLabels {
    namespace: String,
    metric: String,
    dimensions: String,
    unit: String,
    statistic: &'static str,
}

#[derive(Debug)]
struct SinkCollector {
    series: Vec<(SeriesKey, Latest)>,
    accepted: u64,
    dropped: u64,
}

impl Collector for SinkCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counter = |encoder: &mut DescriptorEncoder, name, help, value| {
            let metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            ConstCounter::new(value).encode(metric)
        };
        counter(
            &mut encoder,
            "cloudwatch_datums",
            "Datums accepted by CloudWatch PutMetricData",
            self.accepted,
        )?;
        counter(
            &mut encoder,
            "cloudwatch_dropped_datums",
            "PutMetricData datums of new series dropped past the series bound",
            self.dropped,
        )?;
        let mut metric = encoder.encode_descriptor(
            "cloudwatch_metric",
            "The latest datum put for each CloudWatch series (PutMetricData), by statistic",
            None,
            MetricType::Gauge,
        )?;
        for (key, latest) in &self.series {
            let s = latest.summary;
            for (statistic, value) in [
                ("SampleCount", s.sample_count),
                ("Sum", s.sum),
                ("Minimum", s.minimum),
                ("Maximum", s.maximum),
            ] {
                let labels = SeriesLabels {
                    namespace: key.namespace.clone(),
                    metric: key.metric.clone(),
                    dimensions: key.dimensions.clone(),
                    unit: latest.unit.clone(),
                    statistic,
                };
                ConstGauge::new(value).encode(metric.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}
