//! Hand-written HTTP clients for protocol corners no SDK would send: HTTP/1.1 requests built
//! byte by byte (keep-alive or not, chunked or not), one POST in any content type, and h2c
//! with prior knowledge. The `Authorization` header every signed request carries is [`AUTH`].

use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A well-formed SigV4 header: kinesd checks its shape, never the signature.
pub const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
pub const CBOR_CT: &str = "application/x-amz-cbor-1.1";

pub const AMZ_DATE: &str = "20260101T000000Z";

pub const JSON_CT: &str = "application/x-amz-json-1.1";

pub const IO_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Headers,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("response body is not JSON ({e}): {}", self.text()))
    }
    pub fn error_type(&self) -> Option<String> {
        serde_json::from_slice::<Value>(&self.body)
            .ok()?
            .get("__type")?
            .as_str()
            .map(str::to_owned)
    }
}

/// Builds a request. `target`/`auth` of `None` leave the header out.
pub fn request_bytes(
    method: &str,
    target: Option<&str>,
    auth: Option<&str>,
    body: &[u8],
    keep_alive: bool,
) -> Vec<u8> {
    let mut head = format!("{method} / HTTP/1.1\r\nHost: localhost\r\nContent-Type: {JSON_CT}\r\n");
    if let Some(t) = target {
        head.push_str(&format!("X-Amz-Target: {t}\r\n"));
    }
    if let Some(a) = auth {
        head.push_str(&format!("Authorization: {a}\r\nX-Amz-Date: {AMZ_DATE}\r\n"));
    }
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parses the head of a response; returns it and where the body starts.
pub type Headers = Vec<(String, String)>;

pub fn parse_head(buf: &[u8]) -> Option<(u16, Headers, usize)> {
    let end = find(buf, b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).expect("response head is ASCII");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let mut parts = status_line.splitn(3, ' ');
    assert_eq!(
        parts.next(),
        Some("HTTP/1.1"),
        "status line {status_line:?}"
    );
    let status = parts.next().unwrap().parse().unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').expect("header line");
            (n.trim().to_string(), v.trim().to_string())
        })
        .collect();
    Some((status, headers, end + 4))
}

pub fn decode_chunked(mut data: &[u8]) -> Option<(Vec<u8>, usize)> {
    let start_len = data.len();
    let mut out = Vec::new();
    loop {
        let line_end = find(data, b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            let trailer_end = find(data, b"\r\n")?;
            data = &data[trailer_end + 2..];
            return Some((out, start_len - data.len()));
        }
        if data.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// One complete response out of `buf`, if it holds one; `eof` says no more bytes will come.
pub fn take_response(buf: &mut Vec<u8>, eof: bool) -> Option<Resp> {
    let (status, headers, body_at) = parse_head(buf)?;
    let get = |n: &str| {
        headers
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    let (body, consumed) = if let Some(len) = get("content-length") {
        let len: usize = len.parse().unwrap();
        if buf.len() < body_at + len {
            return None;
        }
        (buf[body_at..body_at + len].to_vec(), body_at + len)
    } else if get("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        let (body, used) = decode_chunked(&buf[body_at..])?;
        (body, body_at + used)
    } else if eof {
        (buf[body_at..].to_vec(), buf.len())
    } else {
        return None;
    };
    buf.drain(..consumed);
    Some(Resp {
        status,
        headers,
        body,
    })
}

/// A keep-alive HTTP/1.1 connection.
pub struct Conn {
    pub stream: TcpStream,
    pub buf: Vec<u8>,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> Conn {
        Conn {
            stream: TcpStream::connect(super::cluster::either_node(addr))
                .await
                .unwrap(),
            buf: Vec::new(),
        }
    }

    /// Sends one request and reads exactly one response. Panics on a dropped connection or
    /// when nothing arrives within the time limit.
    pub async fn roundtrip(&mut self, req: &[u8]) -> Resp {
        let fut = async {
            self.stream.write_all(req).await.expect("write request");
            loop {
                if let Some(r) = take_response(&mut self.buf, false) {
                    return r;
                }
                let mut chunk = [0u8; 64 * 1024];
                let n = self.stream.read(&mut chunk).await.expect("read response");
                if n == 0 {
                    if let Some(r) = take_response(&mut self.buf, true) {
                        return r;
                    }
                    panic!(
                        "connection closed before a full response; had {:?}",
                        String::from_utf8_lossy(&self.buf)
                    );
                }
                self.buf.extend_from_slice(&chunk[..n]);
            }
        };
        tokio::time::timeout(IO_TIMEOUT, fut)
            .await
            .expect("server did not answer in time")
    }
}

/// One request on its own connection (`Connection: close`), read to the end; in a cluster
/// test, every other one goes to the peer node (see [`either_node`](super::cluster::either_node)).
pub async fn send_raw(addr: SocketAddr, req: &[u8]) -> Resp {
    send_raw_to(super::cluster::either_node(addr), req).await
}

/// [`send_raw`] to exactly `addr`, whichever node it is.
pub async fn send_raw_to(addr: SocketAddr, req: &[u8]) -> Resp {
    let fut = async {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(req).await.unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.unwrap();
        take_response(&mut buf, true)
            .unwrap_or_else(|| panic!("incomplete response: {:?}", String::from_utf8_lossy(&buf)))
    };
    tokio::time::timeout(IO_TIMEOUT, fut)
        .await
        .expect("server did not answer in time")
}

/// `GET /metrics`: the Prometheus text, checked to be 200 in the OpenMetrics content type.
pub async fn scrape(addr: SocketAddr) -> String {
    let resp = send_raw(
        addr,
        b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(resp.status, 200);
    assert!(resp
        .header("content-type")
        .unwrap()
        .starts_with("application/openmetrics-text"));
    resp.text()
}

pub async fn call(addr: SocketAddr, op: &str, body: &str) -> Resp {
    call_to(super::cluster::either_node(addr), op, body).await
}

/// [`call`] to exactly `addr`, whichever node it is.
pub async fn call_to(addr: SocketAddr, op: &str, body: &str) -> Resp {
    let target = format!("Kinesis_20131202.{op}");
    send_raw_to(
        addr,
        &request_bytes("POST", Some(&target), Some(AUTH), body.as_bytes(), false),
    )
    .await
}

pub async fn h2_call(addr: SocketAddr, op: &str, body: &'static str) -> (u16, Headers, Vec<u8>) {
    h2_call_to(addr, &addr.to_string(), op, body).await
}

/// [`h2_call`] naming `authority` (the HTTP/2 host) instead of the server's address.
pub async fn h2_call_to(
    addr: SocketAddr,
    authority: &str,
    op: &str,
    body: &'static str,
) -> (u16, Headers, Vec<u8>) {
    let tcp = TcpStream::connect(super::cluster::either_node(addr))
        .await
        .unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.expect("h2 handshake");
    let conn_task = tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut client = client.ready().await.unwrap();
    let req = hyper::Request::builder()
        .method("POST")
        .uri(format!("http://{authority}/"))
        .header("content-type", JSON_CT)
        .header("x-amz-target", format!("Kinesis_20131202.{op}"))
        .header("authorization", AUTH)
        .header("x-amz-date", AMZ_DATE)
        .header("content-length", body.len().to_string())
        .body(())
        .unwrap();
    let (resp, mut send) = client.send_request(req, false).unwrap();
    send.send_data(bytes::Bytes::from_static(body.as_bytes()), true)
        .unwrap();
    let resp = tokio::time::timeout(IO_TIMEOUT, resp)
        .await
        .expect("h2 response in time")
        .expect("h2 response");
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
        .collect();
    let mut body = resp.into_body();
    let mut out = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        let _ = body.flow_control().release_capacity(chunk.len());
        out.extend_from_slice(&chunk);
    }
    drop(client);
    conn_task.abort();
    (status, headers, out)
}

/// One POST of `body` in `content_type` on its own connection, signed or not.
pub async fn post(
    addr: SocketAddr,
    target: &str,
    content_type: &str,
    body: &[u8],
    signed: bool,
) -> Resp {
    let mut head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: {target}\r\nContent-Type: {content_type}\r\nX-Amz-Date: {AMZ_DATE}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if signed {
        head.push_str(&format!("Authorization: {AUTH}\r\n"));
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    send_raw(addr, &request).await
}
