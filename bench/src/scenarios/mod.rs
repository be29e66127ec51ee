//! The scenarios. Each is bounded in count and in time, and prints one `RESULT` line per
//! figure: `RESULT <label> <figure> <value> <unit> key=value...` (or `SKIP <label> <figure>
//! <reason>`), which `scripts/bench.sh` collects into its table.
//!
//! Streams written by a scenario are left in place: deleting them would have the server
//! remove their records in the background while the next scenario runs, skewing that next
//! figure. `scripts/bench.sh` restarts each server on a fresh directory between phases.

mod latency;
mod lifecycle;
mod throughput;

pub use latency::*;
pub use lifecycle::*;
pub use throughput::*;

use crate::http::Conn;
use crate::kinesis::{self, failed_record_count, GetRecordsOut, Res, Target};
use crate::procfs;
use rand::{Rng, RngCore};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Out {
    pub label: String,
}

impl Out {
    pub fn result(&self, figure: &str, value: f64, unit: &str, extra: &str) {
        println!("RESULT {} {figure} {value:.3} {unit} {extra}", self.label);
    }

    pub fn skip(&self, figure: &str, reason: &str) {
        println!("SKIP {} {figure} {reason}", self.label);
    }
}

pub(super) fn random_bytes(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut v);
    v
}

/// A latency figure's name: `<kind>_<stat>_ms`, or `<kind>_cross_<stat>_ms` when the records
/// were read through another node than the one they were put through (a cluster), so that
/// the two never land in the same row of the table.
pub fn latency_figure(kind: &str, cross: bool, stat: &str) -> String {
    if cross {
        format!("{kind}_cross_{stat}_ms")
    } else {
        format!("{kind}_{stat}_ms")
    }
}

/// Index of the p-th percentile in a sorted slice of `n` samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

type UnitsOf = Arc<dyn Fn(u16, &[u8]) -> Option<u64> + Send + Sync>;

pub struct Driven {
    /// Units counted during the measured window.
    pub units: u64,
    /// Units counted from the first request to the last answer.
    pub total_units: u64,
    pub errors: u64,
    pub secs: f64,
    pub reconnects: u64,
    pub first_error: Option<String>,
    /// Milliseconds from sending each request to its answer, for the requests answered in
    /// the measured window, sorted: a closed loop's throughput hides how long each caller
    /// waited (the cluster's target is on both).
    pub acks: Vec<f64>,
}

/// Runs `connections` closed loops (send, wait for the answer, send the next) over the
/// pre-built `requests`, for `warmup` and then a measured window that ends after `duration`
/// or once `max_units` were counted in it.
pub async fn drive(
    t: &Target,
    requests: Arc<Vec<Vec<u8>>>,
    connections: usize,
    warmup: Duration,
    duration: Duration,
    max_units: u64,
    units_of: UnitsOf,
) -> Driven {
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let units = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let first_error: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (stop, measuring, units, errors, first_error) = (
            stop.clone(),
            measuring.clone(),
            units.clone(),
            errors.clone(),
            first_error.clone(),
        );
        let (requests, units_of) = (requests.clone(), units_of.clone());
        let mut conn = t.conn();
        tasks.push(tokio::spawn(async move {
            let mut i = c * 7919;
            let mut acks = Vec::new();
            let note = |e: String| {
                let mut f = first_error.lock().unwrap();
                if f.is_none() {
                    *f = Some(e);
                }
            };
            while !stop.load(Ordering::Relaxed) {
                let req = &requests[i % requests.len()];
                i += 1;
                let sent = Instant::now();
                match conn.request(req).await {
                    Ok(r) => match units_of(r.status, r.body) {
                        Some(n) => {
                            units.fetch_add(n, Ordering::Relaxed);
                            if measuring.load(Ordering::Relaxed) {
                                acks.push(sent.elapsed().as_secs_f64() * 1e3);
                            }
                        }
                        None => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            note(format!(
                                "HTTP {}: {}",
                                r.status,
                                String::from_utf8_lossy(&r.body[..r.body.len().min(200)])
                            ));
                        }
                    },
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        note(e.to_string());
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            }
            (conn.reconnects, acks)
        }));
    }
    tokio::time::sleep(warmup).await;
    measuring.store(true, Ordering::Relaxed);
    let u0 = units.load(Ordering::Relaxed);
    let t0 = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if t0.elapsed() >= duration || units.load(Ordering::Relaxed) - u0 >= max_units {
            break;
        }
    }
    let u1 = units.load(Ordering::Relaxed);
    let secs = t0.elapsed().as_secs_f64();
    measuring.store(false, Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    let mut reconnects = 0;
    let mut acks = Vec::new();
    for task in tasks {
        // A request stuck on a dead server must not hold the run.
        match tokio::time::timeout(Duration::from_secs(15), task).await {
            Ok(Ok((r, a))) => {
                reconnects += r;
                acks.extend(a);
            }
            _ => {
                errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    let first_error = first_error.lock().unwrap().clone();
    acks.sort_by(f64::total_cmp);
    Driven {
        units: u1 - u0,
        total_units: units.load(Ordering::Relaxed),
        errors: errors.load(Ordering::Relaxed),
        secs,
        reconnects,
        first_error,
        acks,
    }
}

pub(super) fn report_errors(d: &Driven) {
    if let Some(e) = &d.first_error {
        eprintln!("  ({} errors; first: {e})", d.errors);
    }
}

pub(super) fn driven_extra(d: &Driven) -> String {
    format!(
        "units={} errors={} secs={:.2} reconnects={} ack_p50_ms={:.3} ack_p99_ms={:.3}",
        d.units,
        d.errors,
        d.secs,
        d.reconnects,
        percentile(&d.acks, 50.0),
        percentile(&d.acks, 99.0)
    )
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 51.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}
