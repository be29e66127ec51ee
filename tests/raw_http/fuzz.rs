//! A seeded fuzz run: mutated bodies get a JSON 4xx and never break the server.

use super::*;

/// xorshift64*: deterministic, no extra crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn odd_values(rng: &mut Rng) -> Value {
    let pool = [
        json!(null),
        json!(true),
        json!(false),
        json!(0),
        json!(-1),
        json!(1),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(1.5),
        json!(1e300),
        json!(-0.0),
        json!(""),
        json!("x"),
        json!("AAAA"),
        json!("TRIM_HORIZON"),
        json!("shardId-000000000000"),
        json!("shardId-999999999999"),
        json!("0"),
        json!("340282366920938463463374607431768211456"),
        json!("49590338271490256608559692538361571095921575989136588898"),
        json!("ü∂ƒ©˙∆˚¬…æ"),
        json!("\u{0000}\u{001f}"),
        json!("a".repeat(300)),
        json!("a".repeat(5000)),
        json!([]),
        json!([1, 2]),
        json!([{}]),
        json!({}),
        json!({"a": 1}),
        json!("arn:aws:kinesis:us-east-1:000000000000:stream/fuzz"),
        json!("arn:aws:kinesis:us-east-1:00000000000:stream/"),
    ];
    rng.pick(&pool).clone()
}

fn mutate_value(rng: &mut Rng, v: &mut Value, depth: usize) {
    match v {
        Value::Object(map) if !map.is_empty() && depth < 4 => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = rng.pick(&keys).clone();
            match rng.below(5) {
                0 => {
                    map.remove(&key);
                }
                1 => {
                    map.insert(key, odd_values(rng));
                }
                2 => {
                    let extra = *rng.pick(&["Unknown", "streamName", "", "__type", "Limit"]);
                    map.insert(extra.to_string(), odd_values(rng));
                }
                _ => mutate_value(rng, map.get_mut(&key).unwrap(), depth + 1),
            }
        }
        Value::Array(items) if !items.is_empty() && depth < 4 => {
            let i = rng.below(items.len());
            match rng.below(4) {
                0 => {
                    items.remove(i);
                }
                1 => {
                    let copy = items[i].clone();
                    for _ in 0..rng.below(600) {
                        items.push(copy.clone());
                    }
                }
                _ => mutate_value(rng, &mut items[i], depth + 1),
            }
        }
        _ => *v = odd_values(rng),
    }
}

fn mutate_bytes(rng: &mut Rng, body: &mut Vec<u8>) {
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        if body.is_empty() {
            body.push(rng.next() as u8);
            continue;
        }
        let at = rng.below(body.len());
        match rng.below(7) {
            0 => body[at] ^= 1 << rng.below(8),
            1 => body[at] = rng.next() as u8,
            2 => {
                let end = (at + 1 + rng.below(8)).min(body.len());
                body.drain(at..end);
            }
            3 => {
                let junk = *rng.pick(&[
                    &b"{"[..],
                    b"}",
                    b"[",
                    b"\"",
                    b"\\",
                    b"\\u00",
                    b"\xff\xfe",
                    b"1e99999",
                    b"-",
                    b",",
                    b":",
                    b"null",
                ]);
                body.splice(at..at, junk.iter().copied());
            }
            4 => body.truncate(at),
            5 => {
                let end = (at + 1 + rng.below(16)).min(body.len());
                let piece = body[at..end].to_vec();
                body.splice(at..at, piece);
            }
            _ => {
                let deep = 1 + rng.below(5000);
                let mut nested = vec![b'['; deep];
                nested.extend(vec![b']'; deep]);
                body.splice(at..at, nested);
            }
        }
    }
}

both_backends! {
    #[tokio::test]
    async fn fuzzed_bodies_get_json_4xx_and_never_break_the_server() {
        let s = start().await;
        create_stream(s.addr, "fuzz", 2).await;
        // Records written before the fuzz run; they must survive it untouched.
        let mut acked: Vec<(String, String, Vec<u8>)> = Vec::new();
        for i in 0..20u32 {
            let data = format!("before-{i}").into_bytes();
            let v = ok(
                s.addr,
                "PutRecord",
                json!({"StreamName": "fuzz", "PartitionKey": format!("pk{i}"), "Data": b64(&data)}),
            )
            .await;
            acked.push((
                v["ShardId"].as_str().unwrap().to_string(),
                v["SequenceNumber"].as_str().unwrap().to_string(),
                data,
            ));
        }
        let it = trim_horizon(s.addr, "fuzz", "shardId-000000000000").await;
        let shards_token = ok(
            s.addr,
            "ListShards",
            json!({"StreamName": "fuzz", "MaxResults": 1}),
        )
        .await["NextToken"]
            .clone();
        assert!(shards_token.is_string());
        let seeds: Vec<(&str, Value)> = vec![
            (
                "ListShards",
                json!({"NextToken": shards_token, "MaxResults": 1}),
            ),
            (
                "GetRecords",
                json!({"ShardIterator": format!("\"{it}\""), "Limit": 10000}),
            ),
            (
                "CreateStream",
                json!({"StreamName": "fz", "ShardCount": 1, "StreamModeDetails": {"StreamMode": "PROVISIONED"}, "Tags": {"a": "b"}}),
            ),
            (
                "PutRecord",
                json!({"StreamName": "fuzz", "PartitionKey": "p", "Data": "aGVsbG8=", "ExplicitHashKey": "1", "SequenceNumberForOrdering": acked[0].1}),
            ),
            (
                "PutRecords",
                json!({"StreamName": "fuzz", "Records": [{"PartitionKey": "p", "Data": "aGk="}, {"PartitionKey": "q", "Data": "", "ExplicitHashKey": "7"}]}),
            ),
            (
                "GetShardIterator",
                json!({"StreamName": "fuzz", "ShardId": "shardId-000000000001", "ShardIteratorType": "AT_SEQUENCE_NUMBER", "StartingSequenceNumber": acked[1].1}),
            ),
            (
                "GetShardIterator",
                json!({"StreamName": "fuzz", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": 1.5e9}),
            ),
            ("GetRecords", json!({"ShardIterator": it, "Limit": 5})),
            (
                "ListShards",
                json!({"StreamName": "fuzz", "MaxResults": 1, "ShardFilter": {"Type": "AFTER_SHARD_ID", "ShardId": "shardId-000000000000"}}),
            ),
            (
                "ListStreams",
                json!({"Limit": 2, "ExclusiveStartStreamName": "a"}),
            ),
            (
                "DescribeStream",
                json!({"StreamName": "fuzz", "Limit": 1, "ExclusiveStartShardId": "shardId-000000000000"}),
            ),
            ("DescribeStreamSummary", json!({"StreamName": "fuzz"})),
            (
                "AddTagsToStream",
                json!({"StreamName": "fuzz", "Tags": {"k": "v"}}),
            ),
            (
                "ListTagsForStream",
                json!({"StreamName": "fuzz", "Limit": 10}),
            ),
            (
                "IncreaseStreamRetentionPeriod",
                json!({"StreamName": "fuzz", "RetentionPeriodHours": 48}),
            ),
            ("DescribeLimits", json!({})),
        ];

        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut conn = Conn::open(s.addr).await;
        let mut counts = std::collections::BTreeMap::<String, usize>::new();
        let mut successes = 0usize;
        const CASES: usize = 3000;
        for case in 0..CASES {
            let (op, seed) = rng.pick(&seeds).clone();
            let body: Vec<u8> = match rng.below(3) {
                0 => {
                    let mut v = seed.clone();
                    for _ in 0..1 + rng.below(3) {
                        mutate_value(&mut rng, &mut v, 0);
                    }
                    v.to_string().into_bytes()
                }
                1 => {
                    let mut b = seed.to_string().into_bytes();
                    mutate_bytes(&mut rng, &mut b);
                    b
                }
                _ => {
                    let mut v = seed.clone();
                    mutate_value(&mut rng, &mut v, 0);
                    let mut b = v.to_string().into_bytes();
                    mutate_bytes(&mut rng, &mut b);
                    b
                }
            };
            let target = format!("Kinesis_20131202.{op}");
            let r = conn
                .roundtrip(&request_bytes(
                    "POST",
                    Some(&target),
                    Some(AUTH),
                    &body,
                    true,
                ))
                .await;
            let shown = || String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            assert!(
                r.status == 200 || (400..500).contains(&r.status),
                "case {case} {op}: status {} for {} -> {}",
                r.status,
                shown(),
                r.text()
            );
            if r.status == 200 {
                successes += 1;
                // A mutation can still be a valid request; then it must answer like one.
                if !r.body.is_empty() {
                    r.json();
                }
            } else {
                let ty = r.error_type().unwrap_or_else(|| {
                    panic!(
                        "case {case} {op}: no JSON __type for {} -> {}",
                        shown(),
                        r.text()
                    )
                });
                *counts.entry(ty).or_default() += 1;
            }
            assert_eq!(r.header("content-type"), Some(JSON_CT));
            // Interleave a valid write now and then; it must be acknowledged and kept.
            if case % 100 == 0 {
                let data = format!("during-{case}").into_bytes();
                let req = json!({"StreamName": "fuzz", "PartitionKey": format!("d{case}"), "Data": b64(&data)})
                    .to_string();
                let r = conn
                    .roundtrip(&request_bytes(
                        "POST",
                        Some("Kinesis_20131202.PutRecord"),
                        Some(AUTH),
                        req.as_bytes(),
                        true,
                    ))
                    .await;
                assert_eq!(r.status, 200, "{}", r.text());
                let v = r.json();
                acked.push((
                    v["ShardId"].as_str().unwrap().to_string(),
                    v["SequenceNumber"].as_str().unwrap().to_string(),
                    data,
                ));
            }
        }
        eprintln!("fuzz: {CASES} cases, {successes} accepted, errors by type: {counts:?}");
        assert!(
            successes < CASES / 2,
            "most mutations should be rejected ({successes} accepted)"
        );

        // The server still answers, on a fresh connection too.
        let v = ok(s.addr, "DescribeLimits", json!({})).await;
        assert!(v["ShardLimit"].is_number());
        // Every acknowledged record reads back with its sequence number and data.
        for shard in ["shardId-000000000000", "shardId-000000000001"] {
            let records = read_all(s.addr, "fuzz", shard).await;
            let seen: std::collections::HashMap<String, Vec<u8>> = records
                .iter()
                .map(|r| {
                    (
                        r["SequenceNumber"].as_str().unwrap().to_string(),
                        unb64(r["Data"].as_str().unwrap()),
                    )
                })
                .collect();
            for (sid, seq, data) in acked.iter().filter(|a| a.0 == shard) {
                assert_eq!(seen.get(seq), Some(data), "record {seq} on {sid} lost");
            }
        }
    }
}
