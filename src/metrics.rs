//! Prometheus metrics, served at `GET /metrics` in the text format (prometheus-client).
//!
//! Invariants:
//! - the request path pays a few atomic additions: per-operation counters and histograms are
//!   created once, at start, for every operation; per-shard counters live on the stream at run
//!   time ([`ShardTraffic`]) and are read only when scraped;
//! - label sets are bounded: operation (39), exception (AWS's few dozen names), and stream ×
//!   shard for the streams that exist — a deleted stream's series disappear with it; no label
//!   carries anything a request chose freely, except the CloudWatch series clients put
//!   (`crate::cloudwatch`), whose number and size that sink bounds;
//! - every counter counts what this process served since it started (in cluster mode each node
//!   reports its own share, as Prometheus expects of a counter);
//! - names follow Prometheus's conventions; each help text names the CloudWatch metric it
//!   mirrors, where there is one, so dashboards can be mapped.

use crate::protocol::Operation;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::MetricType;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    operation: &'static str,
    exception: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ShardLabels {
    stream: String,
    shard: String,
}

/// One shard's traffic through this process, kept on the stream at run time.
#[derive(Debug, Default)]
pub struct ShardTraffic {
    pub incoming_records: AtomicU64,
    pub incoming_bytes: AtomicU64,
    pub outgoing_records: AtomicU64,
    pub outgoing_bytes: AtomicU64,
    pub get_records_calls: AtomicU64,
    /// MillisBehindLatest of the last GetRecords answer.
    pub iterator_age_ms: AtomicI64,
    /// Records refused for the shard's throughput limits (none until limits are enforced).
    pub throttled_records: AtomicU64,
    pub pushed_records: AtomicU64,
    pub pushed_bytes: AtomicU64,
}

impl ShardTraffic {
    pub fn wrote(&self, records: u64, bytes: u64) {
        self.incoming_records.fetch_add(records, Relaxed);
        self.incoming_bytes.fetch_add(bytes, Relaxed);
    }

    pub fn read(&self, records: u64, bytes: u64, millis_behind: i64) {
        self.get_records_calls.fetch_add(1, Relaxed);
        self.outgoing_records.fetch_add(records, Relaxed);
        self.outgoing_bytes.fetch_add(bytes, Relaxed);
        self.iterator_age_ms.store(millis_behind, Relaxed);
    }

    pub fn pushed(&self, records: u64, bytes: u64) {
        self.pushed_records.fetch_add(records, Relaxed);
        self.pushed_bytes.fetch_add(bytes, Relaxed);
    }
}

/// A request's operation counter and latency histogram, looked up by index.
struct PerOperation {
    requests: Counter,
    latency: Histogram,
}

/// The process's metrics (one per server).
pub struct Metrics {
    operations: Vec<PerOperation>,
    requests: Family<OperationLabel, Counter>,
    latency: Family<OperationLabel, Histogram, fn() -> Histogram>,
    errors: Family<ErrorLabels, Counter>,
    /// Requests that named no known operation (or were not Kinesis requests at all).
    unknown: Counter,
    pub subscriptions: Gauge,
    pub trimmed_records: Counter,
    /// Records per append handed to the store (one PutRecord is 1, a PutRecords up to 500).
    pub append_records: Histogram,
    /// Seconds from handing records to the store to their acknowledgement (durable, per
    /// `--durability`).
    pub append_seconds: Histogram,
}

fn latency_histogram() -> Histogram {
    // 50 µs to ~13 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 19))
}

impl Default for Metrics {
    fn default() -> Self {
        let requests = Family::<OperationLabel, Counter>::default();
        let latency = Family::<OperationLabel, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        let operations = Operation::ALL
            .iter()
            .map(|op| {
                let label = OperationLabel {
                    operation: op.name(),
                };
                PerOperation {
                    requests: requests.get_or_create(&label).clone(),
                    latency: latency.get_or_create(&label).clone(),
                }
            })
            .collect();
        Metrics {
            operations,
            requests,
            latency,
            errors: Family::default(),
            unknown: Counter::default(),
            subscriptions: Gauge::default(),
            trimmed_records: Counter::default(),
            append_records: Histogram::new(exponential_buckets(1.0, 2.0, 10)),
            append_seconds: latency_histogram(),
        }
    }
}

/// A stream's shards and their traffic, as read at a scrape.
pub struct StreamTraffic {
    pub stream: String,
    pub shards: Vec<(String, Arc<ShardTraffic>)>,
}

impl Metrics {
    /// Counts one answered request: its operation (if known), its latency and its exception.
    pub fn request(&self, op: Option<Operation>, seconds: f64, exception: Option<&'static str>) {
        let Some(op) = op else {
            self.unknown.inc();
            return;
        };
        // `ALL` lists the operations in declaration order.
        let per = &self.operations[op as usize];
        per.requests.inc();
        per.latency.observe(seconds);
        if let Some(exception) = exception {
            self.errors
                .get_or_create(&ErrorLabels {
                    operation: op.name(),
                    exception,
                })
                .inc();
        }
    }

    /// The text exposition: the process's metrics, then every shard's traffic, then what
    /// `extra` collects (CloudWatch's latest values).
    pub fn render(
        &self,
        streams: Vec<StreamTraffic>,
        disk_bytes: Option<u64>,
        extra: Vec<Box<dyn prometheus_client::collector::Collector>>,
    ) -> String {
        let mut registry = prometheus_client::registry::Registry::with_prefix("kinesd");
        registry.register(
            "requests",
            "Requests answered, by operation",
            self.requests.clone(),
        );
        registry.register(
            "request_errors",
            "Requests answered with an AWS exception, by operation and exception",
            self.errors.clone(),
        );
        registry.register(
            "unknown_requests",
            "Requests that named no Kinesis operation",
            self.unknown.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time from a request's headers to its answer, by operation",
            self.latency.clone(),
        );
        registry.register(
            "subscriptions",
            "Live SubscribeToShard subscriptions",
            self.subscriptions.clone(),
        );
        registry.register(
            "trimmed_records",
            "Records removed by retention",
            self.trimmed_records.clone(),
        );
        registry.register(
            "append_records",
            "Records per append to the store (a PutRecord is one, a PutRecords up to 500)",
            self.append_records.clone(),
        );
        registry.register(
            "append_duration_seconds",
            "Time from handing records to the store to their acknowledgement (durable with --durability flush)",
            self.append_seconds.clone(),
        );
        if let Some(bytes) = disk_bytes {
            registry.register(
                "disk_bytes",
                "Bytes the data directory takes on disk",
                ConstGauge::new(bytes as i64),
            );
        }
        registry.register_collector(Box::new(ShardCollector(streams)));
        for collector in extra {
            registry.register_collector(collector);
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}

/// Every shard's traffic, encoded at a scrape from the counters on the streams.
#[derive(Debug)]
struct ShardCollector(Vec<StreamTraffic>);

impl std::fmt::Debug for StreamTraffic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamTraffic")
            .field("stream", &self.stream)
            .finish()
    }
}

type Read = fn(&ShardTraffic) -> u64;

/// (name, help, value) of each per-shard counter.
const SHARD_COUNTERS: &[(&str, &str, Read)] = &[
    ("incoming_records", "Records put into the shard (CloudWatch IncomingRecords)", |t| t.incoming_records.load(Relaxed)),
    ("incoming_bytes", "Bytes of data put into the shard (CloudWatch IncomingBytes)", |t| t.incoming_bytes.load(Relaxed)),
    ("outgoing_records", "Records returned by GetRecords (CloudWatch GetRecords.Records)", |t| t.outgoing_records.load(Relaxed)),
    ("outgoing_bytes", "Bytes of data returned by GetRecords (CloudWatch GetRecords.Bytes)", |t| t.outgoing_bytes.load(Relaxed)),
    ("get_records_calls", "GetRecords calls answered with records or none (CloudWatch GetRecords.Success)", |t| t.get_records_calls.load(Relaxed)),
    ("pushed_records", "Records sent to SubscribeToShard subscribers (CloudWatch SubscribeToShardEvent.Records)", |t| t.pushed_records.load(Relaxed)),
    ("pushed_bytes", "Bytes of data sent to SubscribeToShard subscribers (CloudWatch SubscribeToShardEvent.Bytes)", |t| t.pushed_bytes.load(Relaxed)),
    ("throttled_records", "Records refused for the shard's throughput limits (CloudWatch WriteProvisionedThroughputExceeded)", |t| t.throttled_records.load(Relaxed)),
];

impl prometheus_client::collector::Collector for ShardCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for (name, help, read) in SHARD_COUNTERS {
            let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (stream, shard, traffic) in self.shards() {
                let labels = ShardLabels { stream, shard };
                ConstCounter::new(read(traffic)).encode(metric.encode_family(&labels)?)?;
            }
        }
        let mut metric = encoder.encode_descriptor(
            "iterator_age_milliseconds",
            "MillisBehindLatest of the shard's last GetRecords answer (CloudWatch GetRecords.IteratorAgeMilliseconds)",
            None,
            MetricType::Gauge,
        )?;
        for (stream, shard, traffic) in self.shards() {
            let labels = ShardLabels { stream, shard };
            ConstGauge::new(traffic.iterator_age_ms.load(Relaxed))
                .encode(metric.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

impl ShardCollector {
    fn shards(&self) -> impl Iterator<Item = (String, String, &ShardTraffic)> {
        self.0.iter().flat_map(|s| {
            s.shards
                .iter()
                .map(|(shard, t)| (s.stream.clone(), shard.clone(), t.as_ref()))
        })
    }
}
