//! The DNS-rebinding defence (`protocol/host.rs`): a request naming a host that is not a
//! loopback name, an IP address, a certificate name or an allowed name gets 403, over
//! HTTP/1.1 (`Host`) and HTTP/2 (`:authority`); `--allowed-host` and `--allow-any-host` open it.

mod common;

use common::raw::{h2_call_to, request_bytes, send_raw, Resp, AUTH};
use kinesd::{Config, HostPolicy};
use std::net::SocketAddr;

/// ListStreams over HTTP/1.1 naming `host`.
async fn list_streams_as(addr: SocketAddr, host: &str) -> Resp {
    let request = request_bytes(
        "POST",
        Some("Kinesis_20131202.ListStreams"),
        Some(AUTH),
        b"{}",
        false,
    );
    let text = String::from_utf8(request).unwrap();
    let text = text.replacen("Host: localhost\r\n", &format!("Host: {host}\r\n"), 1);
    send_raw(addr, text.as_bytes()).await
}

#[tokio::test]
async fn a_foreign_host_is_refused_and_loopback_ones_are_served() {
    let server = common::serve(Config::default()).await;
    let addr = server.local_addr();
    let port = addr.port();
    for host in [
        format!("evil.example.com:{port}"),
        "evil.example.com".to_string(),
        format!("localhost.evil.example.com:{port}"),
    ] {
        let resp = list_streams_as(addr, &host).await;
        assert_eq!(resp.status, 403, "{host}: {}", resp.text());
        assert_eq!(resp.error_type().as_deref(), Some("AccessDeniedException"));
        assert!(
            resp.text().contains("--allowed-host evil.example.com")
                || resp.text().contains("--allowed-host localhost.evil"),
            "{}",
            resp.text()
        );
    }
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        format!("kinesis.localhost:{port}"),
    ] {
        let resp = list_streams_as(addr, &host).await;
        assert_eq!(resp.status, 200, "{host}: {}", resp.text());
    }
    let (status, _, body) = h2_call_to(
        addr,
        &format!("evil.example.com:{port}"),
        "ListStreams",
        "{}",
    )
    .await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    let (status, _, _) = h2_call_to(addr, &format!("localhost:{port}"), "ListStreams", "{}").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn allowed_names_certificate_names_and_any_host() {
    let server = common::serve(Config {
        hosts: HostPolicy {
            any: false,
            names: vec!["kinesd".into(), "*.corp.example".into()],
        },
        tls: kinesd::tls::TlsConfig {
            extra_names: vec!["kinesis.test".into()],
            ..Default::default()
        },
        ..Config::default()
    })
    .await;
    let addr = server.local_addr();
    for host in ["kinesd:4567", "a.corp.example", "kinesis.test:4567"] {
        assert_eq!(list_streams_as(addr, host).await.status, 200, "{host}");
    }
    for host in ["corp.example", "kinesd.evil"] {
        assert_eq!(list_streams_as(addr, host).await.status, 403, "{host}");
    }
    let open = common::serve(Config {
        hosts: HostPolicy {
            any: true,
            names: vec![],
        },
        ..Config::default()
    })
    .await;
    let resp = list_streams_as(open.local_addr(), "evil.example.com").await;
    assert_eq!(resp.status, 200);
}
