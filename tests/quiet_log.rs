//! A healthy run says nothing alarming: the binary, driven through the usual data-plane and
//! control-plane calls with the SDK, logs no line at WARN or ERROR. (A put once logged an
//! "internal failure" per record while answering success; operators read these levels as
//! "something is wrong".)

mod common;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use common::process::Kinesd;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn puts_reads_and_control_calls_log_nothing_at_warn_or_error() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("kinesd.log");
    let data = dir.path().join("data");
    let server = Kinesd::spawn(&["--data-dir", data.to_str().unwrap()], Some(&log));
    let client = common::client(&server.endpoint);
    common::create(&client, "s", 2).await;
    for i in 0..20 {
        client
            .put_record()
            .stream_name("s")
            .partition_key(format!("k{i}"))
            .data(Blob::new("one"))
            .send()
            .await
            .unwrap();
    }
    let entries = (0..50)
        .map(|i| {
            PutRecordsRequestEntry::builder()
                .partition_key(format!("k{i}"))
                .data(Blob::new("many"))
                .build()
                .unwrap()
        })
        .collect();
    let out = client
        .put_records()
        .stream_name("s")
        .set_records(Some(entries))
        .send()
        .await
        .unwrap();
    assert_eq!(out.failed_record_count(), Some(0));
    let mut read = 0;
    for shard in ["shardId-000000000000", "shardId-000000000001"] {
        read += common::read_shard_data(&client, "s", shard, 1000)
            .await
            .unwrap()
            .len();
    }
    assert_eq!(read, 70);
    client.list_shards().stream_name("s").send().await.unwrap();
    client.list_streams().send().await.unwrap();
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    let alarming: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .collect();
    assert!(alarming.is_empty(), "logged:\n{}", alarming.join("\n"));
}
