//! `kinesd healthcheck`: asks a running kinesd for `GET /health` and exits 0 on 200, 1
//! otherwise — for a Docker `HEALTHCHECK` in an image without curl. Plain HTTP/1.1 over a
//! blocking socket: no runtime, no TLS, done in well under a second.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(3);

/// 0 when the server at `host:port` answers `/health` with 200; prints why not otherwise.
pub fn run(host: &str, port: u16) -> i32 {
    match check(host, port) {
        Ok(()) => 0,
        Err(why) => {
            eprintln!("kinesd healthcheck: {host}:{port}: {why}");
            1
        }
    }
}

fn check(host: &str, port: u16) -> Result<(), String> {
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address")?;
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    stream
        .take(4096)
        .read_to_end(&mut answer)
        .map_err(|e| e.to_string())?;
    let status = String::from_utf8_lossy(&answer);
    let line = status.lines().next().unwrap_or_default();
    if line.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        Err(format!("answered {line:?}"))
    }
}
