//! The canned-answer server: answers every request with the same PutRecord response, doing
//! only the HTTP framing. Running a scenario against it measures the load generator's own
//! ceiling on this machine.

use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const BODY: &str = r#"{"EncryptionType":"NONE","SequenceNumber":"49654567890123456789012345678901234567890123456789012345","ShardId":"shardId-000000000000"}"#;

fn response() -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-RequestId: 5a2a5c2a-1f3e-4c55-9d46-000000000000\r\nContent-Length: {}\r\n\r\n{BODY}",
        BODY.len()
    )
    .into_bytes()
}

/// Starts the canned server on its own threads; returns the address it listens on.
pub fn spawn(addr: SocketAddr, threads: usize) -> io::Result<SocketAddr> {
    let std_listener = std::net::TcpListener::bind(addr)?;
    std_listener.set_nonblocking(true)?;
    let local = std_listener.local_addr()?;
    std::thread::Builder::new()
        .name("canned".into())
        .spawn(move || {
            let rt = runtime(threads).expect("canned runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).expect("canned listener");
                serve(listener).await
            })
        })?;
    Ok(local)
}

pub fn runtime(threads: usize) -> io::Result<tokio::runtime::Runtime> {
    if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    }
}

pub async fn serve(listener: TcpListener) {
    let reply: &'static [u8] = Vec::leak(response());
    loop {
        match listener.accept().await {
            Ok((socket, _)) => {
                let _ = socket.set_nodelay(true);
                tokio::spawn(async move {
                    let _ = connection(socket, reply).await;
                });
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}

async fn connection(mut s: TcpStream, reply: &[u8]) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut filled = 0;
    loop {
        let (head, length) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(&buf[..filled]) {
                Ok(httparse::Status::Complete(n)) => {
                    let len = req
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                        .and_then(|h| std::str::from_utf8(h.value).ok())
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    break (n, len);
                }
                Ok(httparse::Status::Partial) => {
                    if filled == buf.len() {
                        buf.resize(buf.len() * 2, 0);
                    }
                    let n = s.read(&mut buf[filled..]).await?;
                    if n == 0 {
                        return Ok(());
                    }
                    filled += n;
                }
                Err(_) => return Ok(()),
            }
        };
        let total = head + length;
        if buf.len() < total {
            buf.resize(total, 0);
        }
        while filled < total {
            let n = s.read(&mut buf[filled..]).await?;
            if n == 0 {
                return Ok(());
            }
            filled += n;
        }
        buf.copy_within(total..filled, 0);
        filled -= total;
        s.write_all(reply).await?;
    }
}
