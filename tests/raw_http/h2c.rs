//! HTTP/2 cleartext with prior knowledge, and a client that sends GOAWAY as soon as the answer's
//! headers arrive.

use super::*;

both_backends! {
    #[tokio::test]
    async fn h2c_prior_knowledge_describe_limits() {
        let s = start().await;
        let (status, headers, body) = h2_call(s.addr, "DescribeLimits", "{}").await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let get = |n: &str| {
            headers
                .iter()
                .find(|(h, _)| h.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get("content-type").as_deref(), Some(JSON_CT));
        assert!(get("x-amzn-requestid").is_some());
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["ShardLimit"], 500);
        assert_eq!(v["OpenShardCount"], 0);

        // Errors over h2 look the same.
        let (status, _, body) = h2_call(s.addr, "Nope", "{}").await;
        assert_eq!(status, 400);
        assert_eq!(body, br#"{"__type":"UnknownOperationException"}"#);
    }
}

/// A minimal hand-rolled HTTP/2 client, to do what the JS SDK v3 does and no library client
/// lets us do: send GOAWAY(last_stream_id = 0) as soon as the response headers arrive.
mod raw_h2 {
    use super::*;

    pub const DATA: u8 = 0;
    pub const HEADERS: u8 = 1;
    pub const RST_STREAM: u8 = 3;
    pub const SETTINGS: u8 = 4;
    pub const PING: u8 = 6;
    pub const GOAWAY: u8 = 7;
    pub const WINDOW_UPDATE: u8 = 8;
    pub const CONTINUATION: u8 = 9;

    pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = payload.len() as u32;
        let mut out = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
        out.extend_from_slice(&stream.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    fn hpack_int(out: &mut Vec<u8>, prefix_bits: u8, first: u8, mut v: usize) {
        let max = (1usize << prefix_bits) - 1;
        if v < max {
            out.push(first | v as u8);
            return;
        }
        out.push(first | max as u8);
        v -= max;
        while v >= 128 {
            out.push((v % 128) as u8 | 0x80);
            v /= 128;
        }
        out.push(v as u8);
    }

    /// Header block of "literal without indexing, new name" fields, no Huffman coding.
    pub fn header_block(fields: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (n, v) in fields {
            out.push(0x00);
            hpack_int(&mut out, 7, 0, n.len());
            out.extend_from_slice(n.as_bytes());
            hpack_int(&mut out, 7, 0, v.len());
            out.extend_from_slice(v.as_bytes());
        }
        out
    }

    pub async fn read_frame(s: &mut TcpStream) -> Option<(u8, u8, u32, Vec<u8>)> {
        let mut head = [0u8; 9];
        s.read_exact(&mut head).await.ok()?;
        let len = (head[0] as usize) << 16 | (head[1] as usize) << 8 | head[2] as usize;
        let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
        let mut payload = vec![0u8; len];
        s.read_exact(&mut payload).await.ok()?;
        Some((head[3], head[4], stream, payload))
    }
}

both_backends! {
    #[tokio::test]
    async fn h2c_client_goaway_after_headers_still_gets_the_whole_body() {
        use raw_h2::*;
        let s = start().await;
        create_stream(s.addr, "goaway", 1).await;
        // A response far larger than the 64 KiB initial flow-control window, so most of the body
        // can only be sent after our GOAWAY (and our WINDOW_UPDATEs).
        let mut expected = Vec::new();
        for i in 0..4u8 {
            let data: Vec<u8> = (0..700_000u32).map(|j| (j as u8) ^ i).collect();
            ok(
                s.addr,
                "PutRecords",
                json!({"StreamName": "goaway", "Records": [{"PartitionKey": "k", "Data": b64(&data)}]}),
            )
            .await;
            expected.push(data);
        }
        let it = trim_horizon(s.addr, "goaway", "shardId-000000000000").await;
        let body = json!({"ShardIterator": it}).to_string();

        let mut sock = TcpStream::connect(s.addr).await.unwrap();
        let authority = s.addr.to_string();
        let len = body.len().to_string();
        let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        out.extend(frame(SETTINGS, 0, 0, &[]));
        let block = header_block(&[
            (":method", "POST"),
            (":scheme", "http"),
            (":path", "/"),
            (":authority", &authority),
            ("content-type", JSON_CT),
            ("x-amz-target", "Kinesis_20131202.GetRecords"),
            ("authorization", AUTH),
            ("x-amz-date", AMZ_DATE),
            ("content-length", &len),
        ]);
        out.extend(frame(HEADERS, 0x4, 1, &block)); // END_HEADERS
        out.extend(frame(DATA, 0x1, 1, body.as_bytes())); // END_STREAM
        sock.write_all(&out).await.unwrap();

        let mut got_headers = false;
        let mut sent_goaway = false;
        let mut received = Vec::new();
        let mut finished = false;
        let result = tokio::time::timeout(IO_TIMEOUT, async {
            while let Some((kind, flags, stream, payload)) = read_frame(&mut sock).await {
                match kind {
                    SETTINGS if flags & 0x1 == 0 => {
                        sock.write_all(&frame(SETTINGS, 0x1, 0, &[])).await.unwrap();
                    }
                    PING if flags & 0x1 == 0 => {
                        sock.write_all(&frame(PING, 0x1, 0, &payload))
                            .await
                            .unwrap();
                    }
                    HEADERS | CONTINUATION if stream == 1 => {
                        if kind == HEADERS {
                            // :status 200 is static-table index 8.
                            assert_eq!(payload.first(), Some(&0x88), "status is not 200");
                        }
                        got_headers = true;
                        if !sent_goaway {
                            let mut p = 0u32.to_be_bytes().to_vec(); // last stream id 0
                            p.extend_from_slice(&0u32.to_be_bytes()); // NO_ERROR
                            sock.write_all(&frame(GOAWAY, 0, 0, &p)).await.unwrap();
                            sent_goaway = true;
                        }
                        if flags & 0x1 != 0 {
                            finished = true;
                            break;
                        }
                    }
                    DATA if stream == 1 => {
                        assert!(sent_goaway, "DATA before HEADERS");
                        received.extend_from_slice(&payload);
                        if flags & 0x1 == 0 && !payload.is_empty() {
                            let inc = (payload.len() as u32).to_be_bytes();
                            let mut w = frame(WINDOW_UPDATE, 0, 0, &inc);
                            w.extend(frame(WINDOW_UPDATE, 0, 1, &inc));
                            sock.write_all(&w).await.expect("server closed mid-body");
                        }
                        if flags & 0x1 != 0 {
                            finished = true;
                            break;
                        }
                    }
                    RST_STREAM => panic!("server reset the stream: {payload:?}"),
                    GOAWAY => {} // the server may answer in kind; the body must still arrive
                    _ => {}
                }
            }
        })
        .await;
        result.expect("h2 exchange timed out");
        assert!(got_headers, "no response headers");
        assert!(
            finished,
            "stream ended without END_STREAM after {} body bytes",
            received.len()
        );
        let v: Value = serde_json::from_slice(&received).expect("complete JSON body");
        let recs = v["Records"].as_array().unwrap();
        assert_eq!(recs.len(), expected.len());
        for (r, want) in recs.iter().zip(&expected) {
            assert_eq!(&unb64(r["Data"].as_str().unwrap()), want);
        }
        assert!(received.len() > 3_000_000);
    }
}
