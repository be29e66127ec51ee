//! CloudWatch PutMetricData on kinesd's port, in the three encodings SDKs send, and the
//! latest values on `GET /metrics`:
//! - raw requests pinning each encoding (query form → XML, JSON 1.0 → JSON with the
//!   awsQueryCompatible error header, Smithy RPCv2 CBOR → CBOR with `smithy-protocol`), a
//!   gzipped body as SDKs send large ones, and other actions refused in each encoding;
//! - boto3's CloudWatch client (`scripts/cloudwatch_boto3.py`, the query protocol in the
//!   botocore CI installs), valid puts and CloudWatch's errors, against the spawned binary.

mod common;

use common::process::{require_client, run_bounded, runs, script, tail, Kinesd};
use common::raw::{scrape, send_raw, Resp, AUTH};
use kinesd::Config;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

async fn post(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {AUTH}\r\n\
         X-Amz-Date: 20260101T000000Z\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    send_raw(addr, &request).await
}

/// A JSON 1.0 PutMetricData.
async fn post_json(addr: SocketAddr, body: &serde_json::Value) -> Resp {
    post(
        addr,
        "/",
        &[JSON_TARGET, JSON_CT],
        body.to_string().as_bytes(),
    )
    .await
}

fn sample(text: &str, labels: &str) -> Option<f64> {
    let series = format!("kinesd_cloudwatch_metric{{{labels}}}");
    text.lines()
        .find_map(|l| l.strip_prefix(&series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

const FORM: (&str, &str) = (
    "Content-Type",
    "application/x-www-form-urlencoded; charset=utf-8",
);
const JSON_TARGET: (&str, &str) = (
    "X-Amz-Target",
    "GraniteServiceVersion20100801.PutMetricData",
);
const JSON_CT: (&str, &str) = ("Content-Type", "application/x-amz-json-1.0");
const CBOR_PATH: &str = "/service/GraniteServiceVersion20100801/operation/PutMetricData";
const CBOR_HEADERS: [(&str, &str); 3] = [
    ("Content-Type", "application/cbor"),
    ("Accept", "application/cbor"),
    ("smithy-protocol", "rpc-v2-cbor"),
];

fn cbor(value: &ciborium::Value) -> Vec<u8> {
    let mut body = Vec::new();
    ciborium::ser::into_writer(value, &mut body).unwrap();
    body
}

#[tokio::test]
async fn each_encoding_is_answered_in_kind_and_lands_on_metrics() {
    let (server, clock) = common::start(Config::default()).await;
    let addr = server.local_addr();

    let query = "Action=PutMetricData&Version=2010-08-01&Namespace=kcl-app\
        &MetricData.member.1.MetricName=RecordsProcessed&MetricData.member.1.Value=12\
        &MetricData.member.1.Unit=Count&MetricData.member.1.Dimensions.member.1.Name=ShardId\
        &MetricData.member.1.Dimensions.member.1.Value=shardId-000000000000";
    let resp = post(addr, "/", &[FORM], query.as_bytes()).await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.header("content-type"), Some("text/xml"));
    assert!(
        resp.text().contains("<PutMetricDataResponse"),
        "{}",
        resp.text()
    );
    assert!(resp.text().contains("<RequestId>"), "{}", resp.text());

    let json = serde_json::json!({"Namespace": "kcl-app", "MetricData": [{
        "MetricName": "MillisBehindLatest", "Unit": "Milliseconds",
        "StatisticValues": {"SampleCount": 4, "Sum": 100, "Minimum": 10, "Maximum": 40}}]});
    let resp = post_json(addr, &json).await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(
        resp.header("content-type"),
        Some("application/x-amz-json-1.0")
    );
    assert_eq!(resp.json(), serde_json::json!({}));

    use ciborium::Value;
    let now = kinesd::Clock::now_ms(&clock) as f64 / 1000.0;
    let request = Value::Map(vec![
        ("Namespace".into(), "kcl-app".into()),
        (
            "MetricData".into(),
            Value::Array(vec![Value::Map(vec![
                ("MetricName".into(), "LeaseCount".into()),
                (
                    "Timestamp".into(),
                    Value::Tag(1, Box::new(Value::Float(now))),
                ),
                ("Values".into(), Value::Array(vec![2.0.into(), 4.0.into()])),
                ("Counts".into(), Value::Array(vec![1.0.into(), 3.0.into()])),
                ("Unit".into(), "Count".into()),
            ])]),
        ),
    ]);
    let resp = post(addr, CBOR_PATH, &CBOR_HEADERS, &cbor(&request)).await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    assert_eq!(resp.header("content-type"), Some("application/cbor"));
    assert_eq!(resp.header("smithy-protocol"), Some("rpc-v2-cbor"));
    let answer: Value = ciborium::de::from_reader(&resp.body[..]).unwrap();
    assert_eq!(answer, Value::Map(vec![]));

    let text = scrape(addr).await;
    let labels = |metric: &str, dims: &str, unit: &str, stat: &str| {
        format!("namespace=\"kcl-app\",metric=\"{metric}\",dimensions=\"{dims}\",unit=\"{unit}\",statistic=\"{stat}\"")
    };
    let shard = "ShardId=shardId-000000000000";
    assert_eq!(
        sample(&text, &labels("RecordsProcessed", shard, "Count", "Sum")),
        Some(12.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &labels("MillisBehindLatest", "", "Milliseconds", "Maximum")
        ),
        Some(40.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, &labels("LeaseCount", "", "Count", "Sum")),
        Some(14.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, &labels("LeaseCount", "", "Count", "SampleCount")),
        Some(4.0),
        "{text}"
    );
    assert!(text.contains("kinesd_cloudwatch_datums_total 3"), "{text}");
    // CloudWatch requests are not Kinesis requests of an unknown operation.
    assert!(text.contains("kinesd_unknown_requests_total 0"), "{text}");

    // The latest datum replaces a series' values.
    let query = query.replace("Value=12", "Value=5");
    let resp = post(addr, "/", &[FORM], query.as_bytes()).await;
    assert_eq!(resp.status, 200);
    let text = scrape(addr).await;
    assert_eq!(
        sample(&text, &labels("RecordsProcessed", shard, "Count", "Sum")),
        Some(5.0),
        "{text}"
    );
}

#[tokio::test]
async fn gzipped_bodies_are_read_as_sdks_send_them() {
    let server = common::serve(Config::default()).await;
    let addr = server.local_addr();
    // 300 datums: over the 10 KB at which botocore and the Rust SDK start compressing.
    let data: Vec<_> = (0..300)
        .map(|i| serde_json::json!({"MetricName": format!("m{i}"), "Value": i}))
        .collect();
    let body = serde_json::json!({"Namespace": "big", "MetricData": data}).to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let resp = post(
        addr,
        "/",
        &[JSON_TARGET, JSON_CT, ("Content-Encoding", "gzip")],
        &gz,
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let text = scrape(addr).await;
    let m299 = "namespace=\"big\",metric=\"m299\",dimensions=\"\",unit=\"None\",statistic=\"Sum\"";
    assert_eq!(sample(&text, m299), Some(299.0), "{text}");
    // Not gzip at all.
    let resp = post(
        addr,
        "/",
        &[JSON_TARGET, JSON_CT, ("Content-Encoding", "gzip")],
        b"{}",
    )
    .await;
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.header("x-amzn-query-error"),
        Some("SerializationException;Sender")
    );
}

#[tokio::test]
async fn errors_and_other_actions_in_each_encoding() {
    let server = common::serve(Config::default()).await;
    let addr = server.local_addr();
    // Value and StatisticValues together.
    let query =
        "Action=PutMetricData&Version=2010-08-01&Namespace=n&MetricData.member.1.MetricName=m\
        &MetricData.member.1.Value=1&MetricData.member.1.StatisticValues.SampleCount=1\
        &MetricData.member.1.StatisticValues.Sum=1&MetricData.member.1.StatisticValues.Minimum=1\
        &MetricData.member.1.StatisticValues.Maximum=1";
    let resp = post(addr, "/", &[FORM], query.as_bytes()).await;
    assert_eq!(resp.status, 400);
    let text = resp.text();
    assert!(
        text.contains("<Code>InvalidParameterCombination</Code>"),
        "{text}"
    );
    assert!(text.contains("The parameters MetricData.member.1.Value and MetricData.member.1.StatisticValues are mutually exclusive and you have specified both."), "{text}");

    let resp = post(addr, "/", &[FORM], b"Action=ListMetrics&Version=2010-08-01").await;
    assert_eq!(resp.status, 400);
    assert!(
        resp.text().contains("<Code>InvalidAction</Code>"),
        "{}",
        resp.text()
    );

    let json = serde_json::json!({"Namespace": "n", "MetricData": [{"MetricName": "m", "Value": 1, "Unit": "Parsecs"}]});
    let resp = post_json(addr, &json).await;
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.header("x-amzn-query-error"),
        Some("InvalidParameterValue;Sender")
    );
    assert_eq!(
        resp.error_type().as_deref(),
        Some("com.amazonaws.cloudwatch#InvalidParameterValueException")
    );
    let resp = post(
        addr,
        "/",
        &[
            (
                "X-Amz-Target",
                "GraniteServiceVersion20100801.GetMetricData",
            ),
            JSON_CT,
        ],
        b"{}",
    )
    .await;
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.error_type().as_deref(),
        Some("com.amazonaws.cloudwatch#UnknownOperationException")
    );

    use ciborium::Value;
    let request = Value::Map(vec![("MetricData".into(), Value::Array(vec![]))]);
    let resp = post(addr, CBOR_PATH, &CBOR_HEADERS, &cbor(&request)).await;
    assert_eq!(resp.status, 400);
    assert_eq!(resp.header("smithy-protocol"), Some("rpc-v2-cbor"));
    assert_eq!(
        resp.header("x-amzn-query-error"),
        Some("MissingParameter;Sender")
    );
    let answer: Value = ciborium::de::from_reader(&resp.body[..]).unwrap();
    let shown = format!("{answer:?}");
    assert!(
        shown.contains("MissingRequiredParameterException"),
        "{shown}"
    );
    assert!(
        shown.contains("The parameter Namespace is required."),
        "{shown}"
    );
    let path = "/service/GraniteServiceVersion20100801/operation/ListDashboards";
    let resp = post(addr, path, &CBOR_HEADERS, &cbor(&Value::Map(vec![]))).await;
    assert_eq!(resp.status, 400);
    assert!(format!(
        "{:?}",
        ciborium::de::from_reader::<Value, _>(&resp.body[..]).unwrap()
    )
    .contains("UnknownOperationException"));

    // No signature at all: CloudWatch's refusal, in the request's encoding.
    let unsigned = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\nConnection: close\r\n\r\nAction=PutMetricData";
    let resp = send_raw(addr, unsigned).await;
    assert_eq!(resp.status, 403);
    assert!(
        resp.text()
            .contains("<Code>MissingAuthenticationToken</Code>"),
        "{}",
        resp.text()
    );

    // Nothing of these reached the metrics.
    let text = scrape(addr).await;
    assert!(text.contains("kinesd_cloudwatch_datums_total 0"), "{text}");
}

/// The boto3 in the machine's python (botocore 1.43 speaks RPCv2 CBOR to CloudWatch) and, when
/// `.ci/run` made it, the one in the async-kinesis venv (botocore 1.40, the query protocol).
#[test]
fn boto3_cloudwatch_client() {
    let available = runs("python3", &["-c", "import boto3"]);
    if !require_client(
        available,
        "python3 with boto3 is not available (python3 -m pip install boto3)",
    ) {
        return;
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/async-kinesis/bin/python");
    let mut pythons = vec![PathBuf::from("python3")];
    if venv.exists() {
        pythons.push(venv);
    }
    // Signatures checked: CloudWatch's are scoped to `monitoring`, not `kinesis`.
    let server = Kinesd::spawn_with_env(
        &["--in-memory", "--no-tls", "--verify-signatures"],
        &[("KINESD_CREDENTIALS", "x:x")],
    );
    for python in pythons {
        let mut command = Command::new(&python);
        command
            .arg(script("cloudwatch_boto3.py"))
            .arg(&server.endpoint);
        let (ok, stdout, stderr) = run_bounded(command, Duration::from_secs(60));
        eprintln!("{}", tail(&stdout, 4000));
        assert!(
            ok,
            "{} cloudwatch_boto3.py failed:\n{}",
            python.display(),
            tail(&stderr, 4000)
        );
        assert!(stdout.contains("cloudwatch boto3: OK"), "{stdout}");
    }
}
