//! kinesd's DynamoDB subset (`src/dynamodb/`), through the built binary:
//! - `scripts/dynamodb_conformance.py` with boto3, on an in-memory server and on a data
//!   directory (sled), covering every supported operation and condition form and the failures;
//! - tables and items acknowledged before a `kill -9` are there after the restart, and a
//!   deleted table stays deleted (raw JSON 1.0 requests: no client needed);
//! - the protocol edges: DynamoDB's error shapes for unsigned requests and unknown operations,
//!   with Kinesis still served on the same port.

mod common;

use common::process::{require_client, run_bounded, runs, script, tail, Kinesd};
use common::raw::{post, Resp};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

const CT: &str = "application/x-amz-json-1.0";

fn addr(server: &Kinesd) -> SocketAddr {
    server
        .endpoint
        .trim_start_matches("http://")
        .parse()
        .expect("endpoint is host:port")
}

async fn call(addr: SocketAddr, op: &str, body: Value) -> Resp {
    let target = format!("DynamoDB_20120810.{op}");
    post(addr, &target, CT, body.to_string().as_bytes(), true).await
}

async fn ok(addr: SocketAddr, op: &str, body: Value) -> Value {
    let resp = call(addr, op, body).await;
    assert_eq!(resp.status, 200, "{op}: {}", resp.text());
    if resp.body.is_empty() {
        return json!({});
    }
    resp.json()
}

fn run_conformance(args: &[&std::ffi::OsStr]) {
    let server = Kinesd::spawn(args, None);
    let mut command = Command::new("python3");
    command
        .arg(script("dynamodb_conformance.py"))
        .arg(&server.endpoint);
    let (ok, stdout, stderr) = run_bounded(command, Duration::from_secs(120));
    eprintln!("{}", tail(&stdout, 4000));
    assert!(
        ok,
        "dynamodb_conformance.py failed:\n{}",
        tail(&stderr, 4000)
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("dynamodb conformance: OK")),
        "no summary line in:\n{stdout}"
    );
}

#[test]
fn boto3_conformance_in_memory_and_on_sled() {
    let available = runs("python3", &["-c", "import boto3"]);
    if !require_client(
        available,
        "python3 with boto3 is not available (python3 -m pip install boto3)",
    ) {
        return;
    }
    run_conformance(&["--in-memory".as_ref()]);
    let dir = tempfile::tempdir().unwrap();
    run_conformance(&["--data-dir".as_ref(), dir.path().as_os_str()]);
}

fn lease_table(name: &str) -> Value {
    json!({
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "leaseKey", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "leaseKey", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_survive_restart_and_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--data-dir".as_ref(), dir.path().as_os_str()];
    let server = Kinesd::spawn(&args, None);
    let a = addr(&server);
    ok(a, "CreateTable", lease_table("leases")).await;
    ok(a, "CreateTable", lease_table("gone")).await;
    ok(
        a,
        "PutItem",
        json!({"TableName": "gone", "Item": {"leaseKey": {"S": "x"}}}),
    )
    .await;
    ok(a, "DeleteTable", json!({"TableName": "gone"})).await;
    for i in 0..40 {
        let item = json!({"leaseKey": {"S": format!("shard-{i}")}, "leaseCounter": {"N": "0"}});
        ok(a, "PutItem", json!({"TableName": "leases", "Item": item, "Expected": {"leaseKey": {"Exists": false}}})).await;
    }
    for i in 0..40 {
        let update = json!({
            "TableName": "leases",
            "Key": {"leaseKey": {"S": format!("shard-{i}")}},
            "UpdateExpression": "SET leaseCounter = leaseCounter + :one, leaseOwner = :w",
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":w": {"S": "w1"}},
        });
        ok(a, "UpdateItem", update).await;
    }
    ok(
        a,
        "DeleteItem",
        json!({"TableName": "leases", "Key": {"leaseKey": {"S": "shard-0"}}}),
    )
    .await;
    // Every write above was acknowledged: nothing of it may be lost.
    server.kill9();

    let check = |a: SocketAddr| async move {
        let table = ok(a, "DescribeTable", json!({"TableName": "leases"})).await;
        assert_eq!(table["Table"]["TableStatus"], "ACTIVE", "{table}");
        assert_eq!(table["Table"]["ItemCount"], 39, "{table}");
        for i in 1..40 {
            let got = ok(
                a,
                "GetItem",
                json!({"TableName": "leases", "Key": {"leaseKey": {"S": format!("shard-{i}")}}}),
            )
            .await;
            assert_eq!(
                got["Item"]["leaseCounter"],
                json!({"N": "1"}),
                "shard-{i}: {got}"
            );
            assert_eq!(
                got["Item"]["leaseOwner"],
                json!({"S": "w1"}),
                "shard-{i}: {got}"
            );
        }
        let deleted = ok(
            a,
            "GetItem",
            json!({"TableName": "leases", "Key": {"leaseKey": {"S": "shard-0"}}}),
        )
        .await;
        assert!(deleted.get("Item").is_none(), "{deleted}");
        let gone = call(a, "DescribeTable", json!({"TableName": "gone"})).await;
        assert_eq!(gone.status, 400);
        assert_eq!(
            gone.error_type().as_deref(),
            Some("com.amazonaws.dynamodb.v20120810#ResourceNotFoundException")
        );
        let tables = ok(a, "ListTables", json!({})).await;
        assert_eq!(tables["TableNames"], json!(["leases"]));
    };
    let server = Kinesd::spawn(&args, None);
    check(addr(&server)).await;
    // A recreated table starts empty, and a clean stop keeps everything too.
    let a = addr(&server);
    ok(a, "CreateTable", lease_table("gone")).await;
    let scan = ok(a, "Scan", json!({"TableName": "gone"})).await;
    assert_eq!(scan["Count"], 0, "{scan}");
    ok(a, "DeleteTable", json!({"TableName": "gone"})).await;
    assert!(server.terminate(Duration::from_secs(10)), "clean stop");
    let server = Kinesd::spawn(&args, None);
    check(addr(&server)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_edges_and_kinesis_beside() {
    let server = Kinesd::spawn(&["--in-memory"], None);
    let a = addr(&server);
    let unsigned = post(a, "DynamoDB_20120810.ListTables", CT, b"{}", false).await;
    assert_eq!(unsigned.status, 400);
    assert_eq!(
        unsigned.error_type().as_deref(),
        Some("com.amazon.coral.service#MissingAuthenticationTokenException")
    );
    assert_eq!(unsigned.header("content-type"), Some(CT));
    let unknown = call(a, "BatchGetItem", json!({})).await;
    assert_eq!(
        unknown.error_type().as_deref(),
        Some("com.amazon.coral.service#UnknownOperationException")
    );
    assert!(
        unknown.text().contains("BatchGetItem"),
        "{}",
        unknown.text()
    );
    let garbage = post(a, "DynamoDB_20120810.GetItem", CT, b"[1, 2", true).await;
    assert_eq!(
        garbage.error_type().as_deref(),
        Some("com.amazon.coral.service#SerializationException")
    );
    let bad_name = call(a, "DescribeTable", json!({"TableName": "a!"})).await;
    assert_eq!(
        bad_name.error_type().as_deref(),
        Some("com.amazon.coral.validate#ValidationException")
    );
    assert!(
        bad_name.text().contains("3 validation errors")
            || bad_name.text().contains("2 validation errors"),
        "{}",
        bad_name.text()
    );
    let kinesis = post(
        a,
        "Kinesis_20131202.ListStreams",
        "application/x-amz-json-1.1",
        b"{}",
        true,
    )
    .await;
    assert_eq!(kinesis.status, 200, "{}", kinesis.text());
}

#[test]
fn signatures_are_checked_for_the_dynamodb_service() {
    let available = runs("python3", &["-c", "import boto3"]);
    if !require_client(
        available,
        "python3 with boto3 is not available (python3 -m pip install boto3)",
    ) {
        return;
    }
    let server = Kinesd::spawn_with_env(
        &["--in-memory", "--no-tls", "--verify-signatures"],
        &[("KINESD_CREDENTIALS", "AKIDKINESD:s3cr3t")],
    );
    // The right key lists tables; a wrong secret is refused in DynamoDB's error shape.
    let program = r#"
import sys, boto3, botocore
def client(secret):
    return boto3.client("dynamodb", endpoint_url=sys.argv[1], region_name="us-east-1",
                        aws_access_key_id="AKIDKINESD", aws_secret_access_key=secret)
print("tables", client("s3cr3t").list_tables()["TableNames"])
try:
    client("wrong").list_tables()
    print("wrong secret accepted")
except botocore.exceptions.ClientError as e:
    print("refused", e.response["Error"]["Code"])
"#;
    let mut command = Command::new("python3");
    command.args(["-c", program]).arg(&server.endpoint);
    let (ok, stdout, stderr) = run_bounded(command, Duration::from_secs(60));
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("tables []"), "{stdout}");
    assert!(
        stdout.contains("refused InvalidSignatureException"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_engine_refuses_tables_saying_why() {
    // Skipped without nats-server (the cluster tests say how to install it).
    let Some(cluster) = common::cluster::spawn_processes(&["--in-memory"]) else {
        eprintln!("skipping: no nats-server");
        return;
    };
    let a: SocketAddr = cluster
        .endpoint
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let refused = call(a, "ListTables", json!({})).await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.text().contains("not available with the cluster"),
        "{}",
        refused.text()
    );
}
