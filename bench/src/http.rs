//! A minimal keep-alive HTTP/1.1 client: requests are pre-built byte strings, responses are
//! parsed in place (httparse for the head, Content-Length or chunked bodies, or read to EOF).
//! One `Conn` serves one request at a time; it reconnects by itself when the server closed
//! the connection (HTTP/1.0 servers, `Connection: close`).

use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The SigV4-shaped headers every request carries (signatures are not checked by emulators).
pub const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
pub const AMZ_DATE: &str = "20260101T000000Z";

/// Builds one complete `POST /` request for a Kinesis operation.
pub fn build_request(host: &str, operation: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 400);
    out.extend_from_slice(b"POST / HTTP/1.1\r\nHost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(
        b"\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Kinesis_20131202.",
    );
    out.extend_from_slice(operation.as_bytes());
    out.extend_from_slice(b"\r\nX-Amz-Date: ");
    out.extend_from_slice(AMZ_DATE.as_bytes());
    out.extend_from_slice(b"\r\nAuthorization: ");
    out.extend_from_slice(AUTHORIZATION.as_bytes());
    out.extend_from_slice(b"\r\nContent-Length: ");
    out.extend_from_slice(body.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(body);
    out
}

/// Where the body of the last response lies.
#[derive(Clone, Copy)]
struct Meta {
    status: u16,
    start: usize,
    end: usize,
    chunked: bool,
}

pub struct Resp<'a> {
    pub status: u16,
    pub body: &'a [u8],
}

pub struct Conn {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    filled: usize,
    /// Decoded body of a chunked response.
    chunked: Vec<u8>,
    /// Connections opened after the first one.
    pub reconnects: u64,
    opened: u64,
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl Conn {
    /// A connection that opens lazily on its first request.
    pub fn new(addr: SocketAddr) -> Conn {
        Conn {
            addr,
            stream: None,
            buf: vec![0; 16 * 1024],
            filled: 0,
            chunked: Vec::new(),
            reconnects: 0,
            opened: 0,
        }
    }

    pub async fn connect(addr: SocketAddr) -> io::Result<Conn> {
        let mut c = Conn::new(addr);
        c.open().await?;
        Ok(c)
    }

    async fn open(&mut self) -> io::Result<()> {
        let s = TcpStream::connect(self.addr).await?;
        s.set_nodelay(true)?;
        self.stream = Some(s);
        self.filled = 0;
        if self.opened > 0 {
            self.reconnects += 1;
        }
        self.opened += 1;
        Ok(())
    }

    /// Sends one request and reads its response. A request on a kept-alive connection that
    /// the server had already closed (nothing at all came back) is sent again once on a
    /// new connection.
    pub async fn request(&mut self, req: &[u8]) -> io::Result<Resp<'_>> {
        let mut attempt = 0;
        let meta = loop {
            let fresh = self.stream.is_none();
            if fresh {
                self.open().await?;
            }
            match self.exchange(req).await {
                Ok(m) => break m,
                Err(e) => {
                    self.stream = None;
                    let stale = matches!(
                        e.kind(),
                        io::ErrorKind::UnexpectedEof
                            | io::ErrorKind::ConnectionReset
                            | io::ErrorKind::BrokenPipe
                    );
                    if fresh || attempt > 0 || !stale || self.filled > 0 {
                        return Err(e);
                    }
                    attempt += 1;
                }
            }
        };
        let body = if meta.chunked {
            &self.chunked[..]
        } else {
            &self.buf[meta.start..meta.end]
        };
        Ok(Resp {
            status: meta.status,
            body,
        })
    }

    /// Reads more bytes into the buffer (growing it when full); EOF is an error.
    async fn fill_more(&mut self) -> io::Result<()> {
        if self.filled == self.buf.len() {
            let len = self.buf.len() * 2;
            self.buf.resize(len, 0);
        }
        let stream = self.stream.as_mut().expect("connected");
        let n = stream.read(&mut self.buf[self.filled..]).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed the connection",
            ));
        }
        self.filled += n;
        Ok(())
    }

    async fn exchange(&mut self, req: &[u8]) -> io::Result<Meta> {
        self.filled = 0;
        self.stream
            .as_mut()
            .expect("connected")
            .write_all(req)
            .await?;
        loop {
            let (head, status, length, chunked, close) = loop {
                let mut headers = [httparse::EMPTY_HEADER; 48];
                let mut resp = httparse::Response::new(&mut headers);
                match resp.parse(&self.buf[..self.filled]) {
                    Ok(httparse::Status::Complete(n)) => {
                        let status = resp.code.unwrap_or(0);
                        let mut length = None;
                        let mut chunked = false;
                        // HTTP/1.0 closes unless it says keep-alive.
                        let mut close = resp.version == Some(0);
                        for h in resp.headers.iter() {
                            if h.name.eq_ignore_ascii_case("content-length") {
                                length = std::str::from_utf8(h.value)
                                    .ok()
                                    .and_then(|v| v.trim().parse::<usize>().ok());
                            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                                chunked = h.value.to_ascii_lowercase().ends_with(b"chunked");
                            } else if h.name.eq_ignore_ascii_case("connection") {
                                let v = h.value.to_ascii_lowercase();
                                if v == b"close" {
                                    close = true;
                                } else if v == b"keep-alive" {
                                    close = false;
                                }
                            }
                        }
                        break (n, status, length, chunked, close);
                    }
                    Ok(httparse::Status::Partial) => self.fill_more().await?,
                    Err(e) => return Err(invalid(format!("bad response head: {e}"))),
                }
            };
            if (100..200).contains(&status) {
                // Interim response: drop it and read the real one.
                self.buf.copy_within(head..self.filled, 0);
                self.filled -= head;
                continue;
            }
            let meta = if chunked {
                self.read_chunked(head).await?;
                Meta {
                    status,
                    start: 0,
                    end: 0,
                    chunked: true,
                }
            } else if let Some(len) = length {
                while self.filled < head + len {
                    if self.buf.len() < head + len {
                        self.buf.resize(head + len, 0);
                    }
                    self.fill_more().await?;
                }
                Meta {
                    status,
                    start: head,
                    end: head + len,
                    chunked: false,
                }
            } else if status == 204 || status == 304 {
                Meta {
                    status,
                    start: head,
                    end: head,
                    chunked: false,
                }
            } else {
                // No length: the body runs to the end of the connection.
                loop {
                    match self.fill_more().await {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                        Err(e) => return Err(e),
                    }
                }
                self.stream = None;
                return Ok(Meta {
                    status,
                    start: head,
                    end: self.filled,
                    chunked: false,
                });
            };
            if close {
                self.stream = None;
            }
            return Ok(meta);
        }
    }

    async fn read_chunked(&mut self, mut pos: usize) -> io::Result<()> {
        self.chunked.clear();
        loop {
            let line_end = loop {
                if let Some(i) = find_crlf(&self.buf[pos..self.filled]) {
                    break pos + i;
                }
                self.fill_more().await?;
            };
            let line = std::str::from_utf8(&self.buf[pos..line_end])
                .map_err(|_| invalid("bad chunk size"))?;
            let size_text = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| invalid(format!("bad chunk size {size_text:?}")))?;
            pos = line_end + 2;
            if size == 0 {
                // Trailers (usually none) end with an empty line.
                loop {
                    let end = loop {
                        if let Some(i) = find_crlf(&self.buf[pos..self.filled]) {
                            break pos + i;
                        }
                        self.fill_more().await?;
                    };
                    let empty = end == pos;
                    pos = end + 2;
                    if empty {
                        return Ok(());
                    }
                }
            }
            while self.filled < pos + size + 2 {
                self.fill_more().await?;
            }
            self.chunked.extend_from_slice(&self.buf[pos..pos + size]);
            pos += size + 2;
        }
    }
}

fn find_crlf(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    async fn serve_once(replies: Vec<&'static [u8]>) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            for reply in replies {
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = s.read(&mut buf).await.unwrap();
                    got.extend_from_slice(&buf[..n]);
                }
                s.write_all(reply).await.unwrap();
            }
        });
        addr
    }

    #[tokio::test]
    async fn parses_content_length_and_chunked_bodies() {
        let addr = serve_once(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
            b"HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        ])
        .await;
        let mut c = Conn::new(addr);
        let req = build_request("h", "ListStreams", b"{}");
        let r = c.request(&req).await.unwrap();
        assert_eq!((r.status, r.body), (200, &b"{}"[..]));
        let r = c.request(&req).await.unwrap();
        assert_eq!((r.status, r.body), (400, &b"abcde"[..]));
        assert_eq!(c.reconnects, 0);
    }
}
