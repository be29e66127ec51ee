//! PutMetricData's input, parsed from the decoded tree and validated as CloudWatch does, and
//! CloudWatch's errors.
//!
//! Wording from CloudWatch's own answers where they are known (the unit set, the
//! mutually-exclusive value parameters, the two-week timestamp window, repeated dimension
//! names, NaN values). Decided without a reference, in the same style: the length messages,
//! the two-hour future window's wording, the size of collections, StorageResolution, and an
//! empty required string being an InvalidParameterValue. Parameter paths are the query
//! protocol's (`MetricData.member.1.Value`) in every encoding, as CloudWatch's JSON answers
//! (same back end) name them. Errors are collected; the answer carries the first one's type
//! and, joined by newlines, every message of that type (as CloudWatch lists every bad Unit).

use super::tree::{Node, Request};
use super::Wire;
use std::collections::BTreeMap;

/// A CloudWatch error: the query protocol's code, the JSON/CBOR type and the HTTP status.
#[derive(Clone, Debug, PartialEq)]
pub struct CwError {
    pub code: &'static str,
    pub json_type: &'static str,
    pub status: u16,
    pub message: String,
}

impl CwError {
    fn invalid_value(message: String) -> CwError {
        CwError {
            code: "InvalidParameterValue",
            json_type: "InvalidParameterValueException",
            status: 400,
            message,
        }
    }

    fn missing(parameter: &str) -> CwError {
        CwError {
            code: "MissingParameter",
            json_type: "MissingRequiredParameterException",
            status: 400,
            message: format!("The parameter {parameter} is required."),
        }
    }

    fn combination(message: String) -> CwError {
        CwError {
            code: "InvalidParameterCombination",
            json_type: "InvalidParameterCombinationException",
            status: 400,
            message,
        }
    }

    /// An action kinesd does not serve. CloudWatch's query protocol calls it InvalidAction;
    /// its JSON and CBOR protocols UnknownOperationException.
    pub fn unknown_action(wire: &Wire, action: &str) -> CwError {
        let (code, json_type) = match wire {
            Wire::Query => ("InvalidAction", "InvalidAction"),
            _ => ("InvalidAction", "UnknownOperationException"),
        };
        CwError {
            code,
            json_type,
            status: 400,
            message: format!(
                "The action {action} is not valid for this web service (kinesd serves only \
                 CloudWatch PutMetricData)."
            ),
        }
    }

    pub fn missing_action() -> CwError {
        CwError {
            code: "MissingAction",
            json_type: "MissingAction",
            status: 400,
            message: "The request must contain the parameter Action.".into(),
        }
    }

    pub fn serialization() -> CwError {
        CwError {
            code: "SerializationException",
            json_type: "SerializationException",
            status: 400,
            message: "The request body could not be read.".into(),
        }
    }

    pub fn too_large(size: usize) -> CwError {
        CwError {
            code: "RequestEntityTooLarge",
            json_type: "RequestEntityTooLarge",
            status: 413,
            message: format!(
                "Request size {size} exceeded {} bytes",
                super::MAX_BODY_BYTES
            ),
        }
    }

    /// A signature refused: kinesd's Kinesis-style error type mapped to CloudWatch's code.
    pub fn auth(type_name: &str, status: u16, message: Option<&str>) -> CwError {
        let given = message.unwrap_or_default();
        let (code, status, message) = match type_name {
            "MissingAuthenticationTokenException" => (
                "MissingAuthenticationToken",
                403,
                "Request is missing Authentication Token",
            ),
            "UnrecognizedClientException" => (
                "InvalidClientTokenId",
                403,
                "The security token included in the request is invalid.",
            ),
            "InvalidSignatureException" => ("SignatureDoesNotMatch", 403, given),
            "IncompleteSignatureException" => ("IncompleteSignature", 400, given),
            _ => ("AccessDenied", status, given),
        };
        CwError {
            code,
            json_type: code,
            status,
            message: message.to_string(),
        }
    }

    pub fn undecodable() -> CwError {
        CwError {
            message: "The request body is not valid gzip.".into(),
            ..CwError::serialization()
        }
    }
}

/// CloudWatch's units.
const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];
const MAX_DATUMS: usize = 1000;
const MAX_DIMENSIONS: usize = 30;
const MAX_VALUES: usize = 150;
const TWO_WEEKS_MS: i64 = 14 * 24 * 3600 * 1000;
const TWO_HOURS_MS: i64 = 2 * 3600 * 1000;

/// What a datum says, reduced to CloudWatch's statistic set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub sample_count: f64,
    pub sum: f64,
    pub minimum: f64,
    pub maximum: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Datum {
    pub metric: String,
    /// Sorted by name: the series' identity does not depend on their order.
    pub dimensions: Vec<(String, String)>,
    pub unit: String,
    pub summary: Summary,
}

#[derive(Debug, PartialEq)]
pub struct PutMetricData {
    pub namespace: String,
    pub datums: Vec<Datum>,
}

/// Collects the errors of one request.
#[derive(Default)]
struct Problems(Vec<CwError>);

impl Problems {
    fn add(&mut self, e: CwError) {
        self.0.push(e);
    }

    fn into_result<T>(self, value: T) -> Result<T, CwError> {
        let mut errors = self.0.into_iter();
        let Some(mut first) = errors.next() else {
            return Ok(value);
        };
        for e in errors.filter(|e| e.code == first.code) {
            if !first.message.split('\n').any(|m| m == e.message) {
                first.message = format!("{}\n{}", first.message, e.message);
            }
        }
        Err(first)
    }
}

impl PutMetricData {
    pub fn parse(request: &Request, now_ms: i64) -> Result<PutMetricData, CwError> {
        let mut problems = Problems::default();
        let namespace = match request.get("Namespace") {
            None | Some(Node::Null) => {
                problems.add(CwError::missing("Namespace"));
                String::new()
            }
            Some(node) => {
                let namespace = text(node, "Namespace", &mut problems);
                check_name(&namespace, "Namespace", 255, &mut problems);
                if namespace.starts_with(':') || namespace.starts_with("AWS/") {
                    problems.add(CwError::invalid_value(format!(
                        "The value {namespace} for parameter Namespace is invalid."
                    )));
                }
                namespace
            }
        };
        let data = match request.get("MetricData") {
            Some(Node::List(items)) if !items.is_empty() => items.as_slice(),
            _ => {
                problems.add(CwError::missing("MetricData"));
                &[]
            }
        };
        if data.len() > MAX_DATUMS {
            problems.add(CwError::invalid_value(format!(
                "The collection MetricData must not have a size greater than {MAX_DATUMS}."
            )));
        }
        let datums = data
            .iter()
            .enumerate()
            .take(MAX_DATUMS)
            .filter_map(|(i, node)| {
                let path = format!("MetricData.member.{}", i + 1);
                datum(node, &path, now_ms, &mut problems)
            })
            .collect();
        problems.into_result(PutMetricData { namespace, datums })
    }
}

fn datum(node: &Node, path: &str, now_ms: i64, problems: &mut Problems) -> Option<Datum> {
    let Node::Map(m) = node else {
        problems.add(CwError::invalid_value(format!(
            "The parameter {path} is not a structure."
        )));
        return None;
    };
    let metric = match m.get("MetricName") {
        None | Some(Node::Null) => {
            problems.add(CwError::missing(&format!("{path}.MetricName")));
            String::new()
        }
        Some(node) => {
            let p = format!("{path}.MetricName");
            let name = text(node, &p, problems);
            check_name(&name, &p, 255, problems);
            name
        }
    };
    let dimensions = dimensions(m.get("Dimensions"), path, problems);
    let unit = match m.get("Unit") {
        None | Some(Node::Null) => "None".to_string(),
        Some(node) => {
            let p = format!("{path}.Unit");
            let unit = text(node, &p, problems);
            if !UNITS.contains(&unit.as_str()) {
                problems.add(CwError::invalid_value(format!(
                    "The parameter {p} must be a value in the set [ {} ].",
                    UNITS.join(", ")
                )));
            }
            unit
        }
    };
    if let Some(node) = present(m.get("Timestamp")) {
        timestamp(node, &format!("{path}.Timestamp"), now_ms, problems);
    }
    if let Some(node) = present(m.get("StorageResolution")) {
        let p = format!("{path}.StorageResolution");
        if let Some(r) = number(node, &p, problems) {
            if r != 1.0 && r != 60.0 {
                problems.add(CwError::invalid_value(format!(
                    "The value {} for parameter {p} is invalid.",
                    show(r)
                )));
            }
        }
    }
    let summary = summary(m, path, problems)?;
    Some(Datum {
        metric,
        dimensions,
        unit,
        summary,
    })
}

fn dimensions(node: Option<&Node>, path: &str, problems: &mut Problems) -> Vec<(String, String)> {
    let items = match present(node) {
        None => return Vec::new(),
        Some(Node::List(items)) => items,
        Some(_) => {
            problems.add(CwError::invalid_value(format!(
                "The parameter {path}.Dimensions is not a list."
            )));
            return Vec::new();
        }
    };
    if items.len() > MAX_DIMENSIONS {
        problems.add(CwError::invalid_value(format!(
            "The collection {path}.Dimensions must not have a size greater than {MAX_DIMENSIONS}."
        )));
    }
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let p = format!("{path}.Dimensions.member.{}", i + 1);
        let Node::Map(d) = item else {
            problems.add(CwError::invalid_value(format!(
                "The parameter {p} is not a structure."
            )));
            continue;
        };
        let mut field = |name: &str, max: usize| match present(d.get(name)) {
            None => {
                problems.add(CwError::missing(&format!("{p}.{name}")));
                String::new()
            }
            Some(node) => {
                let fp = format!("{p}.{name}");
                let value = text(node, &fp, problems);
                check_name(&value, &fp, max, problems);
                value
            }
        };
        let name = field("Name", 255);
        let value = field("Value", 1024);
        if out.insert(name, value).is_some() {
            problems.add(CwError::invalid_value(
                "No metric may specify the same dimension name twice.".into(),
            ));
        }
    }
    out.into_iter().collect()
}

fn summary(m: &BTreeMap<String, Node>, path: &str, problems: &mut Problems) -> Option<Summary> {
    let value = present(m.get("Value"));
    let stats = present(m.get("StatisticValues"));
    let values = present(m.get("Values")).filter(|v| !matches!(v, Node::List(l) if l.is_empty()));
    let counts = present(m.get("Counts")).filter(|v| !matches!(v, Node::List(l) if l.is_empty()));
    let given = [
        ("Value", value.is_some()),
        ("StatisticValues", stats.is_some()),
        ("Values", values.is_some()),
    ];
    let named: Vec<&str> = given.iter().filter(|g| g.1).map(|g| g.0).collect();
    if named.len() > 1 {
        problems.add(CwError::combination(format!(
            "The parameters {path}.{} and {path}.{} are mutually exclusive and you have specified both.",
            named[0], named[1]
        )));
        return None;
    }
    if let Some(node) = value {
        let v = finite(node, &format!("{path}.Value"), problems)?;
        return Some(Summary {
            sample_count: 1.0,
            sum: v,
            minimum: v,
            maximum: v,
        });
    }
    if let Some(node) = stats {
        let Node::Map(s) = node else {
            problems.add(CwError::invalid_value(format!(
                "The parameter {path}.StatisticValues is not a structure."
            )));
            return None;
        };
        let mut stat = |name: &str| match present(s.get(name)) {
            None => {
                problems.add(CwError::missing(&format!("{path}.StatisticValues.{name}")));
                None
            }
            Some(node) => finite(node, &format!("{path}.StatisticValues.{name}"), problems),
        };
        let (sample_count, sum, minimum, maximum) = (
            stat("SampleCount"),
            stat("Sum"),
            stat("Minimum"),
            stat("Maximum"),
        );
        let summary = Summary {
            sample_count: sample_count?,
            sum: sum?,
            minimum: minimum?,
            maximum: maximum?,
        };
        if summary.sample_count <= 0.0 {
            problems.add(CwError::invalid_value(format!(
                "The parameter {path}.StatisticValues.SampleCount must be greater than 0."
            )));
        }
        return Some(summary);
    }
    let Some(Node::List(values)) = values else {
        if values.is_some() {
            problems.add(CwError::invalid_value(format!(
                "The parameter {path}.Values is not a list."
            )));
        } else if counts.is_some() {
            problems.add(CwError::invalid_value(format!(
                "The parameters {path}.Values and {path}.Counts must be of the same size."
            )));
        } else {
            problems.add(CwError::combination(format!(
                "At least one of the parameters {path}.Value, {path}.StatisticValues or \
                 {path}.Values must be specified."
            )));
        }
        return None;
    };
    if values.len() > MAX_VALUES {
        problems.add(CwError::invalid_value(format!(
            "The collection {path}.Values must not have a size greater than {MAX_VALUES}."
        )));
        return None;
    }
    let weights: Vec<f64> = match counts {
        None => vec![1.0; values.len()],
        Some(Node::List(counts)) if counts.len() == values.len() => counts
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let p = format!("{path}.Counts.member.{}", i + 1);
                let c = finite(c, &p, problems).unwrap_or(0.0);
                if c < 0.0 {
                    problems.add(CwError::invalid_value(format!(
                        "The value {} for parameter {p} is invalid.",
                        show(c)
                    )));
                }
                c
            })
            .collect(),
        Some(_) => {
            problems.add(CwError::invalid_value(format!(
                "The parameters {path}.Values and {path}.Counts must be of the same size."
            )));
            return None;
        }
    };
    let mut summary = Summary {
        sample_count: 0.0,
        sum: 0.0,
        minimum: f64::INFINITY,
        maximum: f64::NEG_INFINITY,
    };
    for (i, (v, w)) in values.iter().zip(weights).enumerate() {
        let v = finite(v, &format!("{path}.Values.member.{}", i + 1), problems)?;
        summary.sample_count += w;
        summary.sum += v * w;
        summary.minimum = summary.minimum.min(v);
        summary.maximum = summary.maximum.max(v);
    }
    Some(summary)
}

/// A member that is there and not null.
fn present(node: Option<&Node>) -> Option<&Node> {
    node.filter(|n| !matches!(n, Node::Null))
}

fn text(node: &Node, path: &str, problems: &mut Problems) -> String {
    match node {
        Node::Text(s) => s.clone(),
        _ => {
            problems.add(CwError::invalid_value(format!(
                "The parameter {path} must be a string."
            )));
            String::new()
        }
    }
}

/// CloudWatch's names: not empty, at most `max` characters, printable ASCII for names.
fn check_name(value: &str, path: &str, max: usize, problems: &mut Problems) {
    if value.is_empty() || value.trim().is_empty() {
        problems.add(CwError::invalid_value(format!(
            "The parameter {path} must contain at least one non-whitespace character."
        )));
    } else if value.chars().count() > max {
        problems.add(CwError::invalid_value(format!(
            "The parameter {path} must be shorter than {} characters.",
            max + 1
        )));
    } else if value.chars().any(char::is_control) {
        problems.add(CwError::invalid_value(format!(
            "The parameter {path} must not contain control characters."
        )));
    }
}

/// A number: JSON and CBOR send numbers (non-finite ones as the strings `NaN`, `Infinity`,
/// `-Infinity`), the query protocol text.
fn number(node: &Node, path: &str, problems: &mut Problems) -> Option<f64> {
    let parsed = match node {
        Node::Num(v) => Some(*v),
        Node::Text(s) => match s.trim() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            t => t.parse::<f64>().ok(),
        },
        _ => None,
    };
    if parsed.is_none() {
        let shown = match node {
            Node::Text(s) => s.clone(),
            other => format!("{other:?}"),
        };
        problems.add(CwError::invalid_value(format!(
            "The value {shown} for parameter {path} is invalid."
        )));
    }
    parsed
}

/// A value CloudWatch stores: finite and within ±2^360 (and not closer to 0 than 2^-360).
fn finite(node: &Node, path: &str, problems: &mut Problems) -> Option<f64> {
    let v = number(node, path, problems)?;
    let limit = 2f64.powi(360);
    let fits = v.is_finite() && v.abs() <= limit && (v == 0.0 || v.abs() >= 1.0 / limit);
    if !fits {
        problems.add(CwError::invalid_value(format!(
            "The value {} for parameter {path} is invalid.",
            show(v)
        )));
        return None;
    }
    Some(v)
}

/// A number as CloudWatch (Java) prints it: `NaN`, `Infinity`, `1.5`, `1.0E300`.
fn show(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if v != 0.0 && (v.abs() >= 1e7 || v.abs() < 1e-3) {
        format!("{v:E}")
    } else if v.fract() == 0.0 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

fn timestamp(node: &Node, path: &str, now_ms: i64, problems: &mut Problems) {
    let ms = match node {
        Node::Num(seconds) if seconds.is_finite() => Some((seconds * 1000.0) as i64),
        Node::Text(s) => chrono::DateTime::parse_from_rfc3339(s.trim())
            .map(|t| t.timestamp_millis())
            .ok()
            .or_else(|| {
                chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.f")
                    .ok()
                    .map(|t| t.and_utc().timestamp_millis())
            })
            .or_else(|| s.trim().parse::<f64>().ok().map(|x| (x * 1000.0) as i64)),
        _ => None,
    };
    let Some(ms) = ms else {
        problems.add(CwError::invalid_value(format!(
            "The parameter {path} must be a valid timestamp."
        )));
        return;
    };
    if ms < now_ms - TWO_WEEKS_MS {
        problems.add(CwError::invalid_value(format!(
            "The parameter {path} must specify a time within the past two weeks."
        )));
    } else if ms > now_ms + TWO_HOURS_MS {
        problems.add(CwError::invalid_value(format!(
            "The parameter {path} must specify a time no more than two hours in the future."
        )));
    }
}
