//! TLS (h2 and http/1.1 by ALPN), plain HTTP/1.1 and h2c, all on one port.

mod common;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::ShardIteratorType;
use bytes::Bytes;
use common::raw::AUTH;
use kinesd::tls::TlsConfig;
use kinesd::Config;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// A rustls client trusting `ca_pem` and offering `alpn`.
async fn tls_connect(
    addr: SocketAddr,
    name: &str,
    ca_pem: &str,
    alpn: &[&[u8]],
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = TcpStream::connect(addr).await?;
    TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from(name.to_string()).unwrap(), tcp)
        .await
}

/// ListStreams over HTTP/1.1 on any stream; returns the status and body.
async fn http1_list_streams<S: AsyncRead + AsyncWrite + Unpin>(mut io: S) -> (u16, String) {
    let body = b"{}";
    let request = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Date: 20260101T000000Z\r\nAuthorization: {AUTH}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    io.write_all(request.as_bytes()).await.unwrap();
    io.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    // A TLS peer may close without close_notify; what was read is what counts.
    let _ = io.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

/// ListStreams over HTTP/2 (h2 after ALPN, or h2c with prior knowledge).
async fn h2_list_streams<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    io: S,
    scheme: &str,
) -> (u16, String) {
    let (mut client, connection) = h2::client::handshake(io).await.unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let request = hyper::Request::builder()
        .method("POST")
        .uri(format!("{scheme}://localhost/"))
        .header("x-amz-target", "Kinesis_20131202.ListStreams")
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-date", "20260101T000000Z")
        .header("authorization", AUTH)
        .body(())
        .unwrap();
    let (response, mut send) = client.send_request(request, false).unwrap();
    send.send_data(Bytes::from_static(b"{}"), true).unwrap();
    let response = response.await.unwrap();
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        let _ = body.flow_control().release_capacity(chunk.len());
        bytes.extend_from_slice(&chunk);
    }
    (status, String::from_utf8(bytes).unwrap())
}

#[tokio::test]
async fn the_sdk_works_over_https_trusting_the_generated_ca() {
    let server = common::serve(Config::default()).await;
    let ca = server.tls_ca_pem().expect("a generated CA");
    let endpoint = server.https_endpoint().unwrap();
    assert_eq!(endpoint, format!("https://{}", server.local_addr()));
    let client = common::tls_client(&endpoint, &ca);
    client
        .create_stream()
        .stream_name("tls")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    let put = client
        .put_record()
        .stream_name("tls")
        .partition_key("k")
        .data(Blob::new(b"over tls".to_vec()))
        .send()
        .await
        .unwrap();
    let iterator = client
        .get_shard_iterator()
        .stream_name("tls")
        .shard_id(put.shard_id())
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator
        .unwrap();
    let records = client
        .get_records()
        .shard_iterator(iterator)
        .send()
        .await
        .unwrap();
    assert_eq!(records.records().len(), 1);
    assert_eq!(records.records()[0].data().as_ref(), b"over tls");
    assert_eq!(
        records.records()[0].sequence_number(),
        put.sequence_number()
    );

    // The same server over plain http, from the same kind of client.
    let plain = common::tls_client(&server.endpoint(), &ca);
    let names = plain.list_streams().send().await.unwrap();
    assert_eq!(names.stream_names(), ["tls"]);

    // A client that does not trust the CA is refused.
    let other_ca = common::serve(Config::default()).await.tls_ca_pem().unwrap();
    let untrusting = common::tls_client(&endpoint, &other_ca);
    assert!(untrusting.list_streams().send().await.is_err());
    server.shutdown().await;
}

#[tokio::test]
async fn alpn_picks_h2_or_http1_and_plain_and_h2c_share_the_port() {
    let server = common::serve(Config::default()).await;
    let addr = server.local_addr();
    let ca = server.tls_ca_pem().unwrap();

    // TLS + h2, preferred when offered first or alone, for every name the certificate covers.
    for name in ["localhost", "127.0.0.1"] {
        let tls = tls_connect(addr, name, &ca, &[b"h2", b"http/1.1"])
            .await
            .unwrap();
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]), "{name}");
        let (status, body) = h2_list_streams(tls, "https").await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("StreamNames"), "{body}");
    }

    // TLS + http/1.1.
    let tls = tls_connect(addr, "localhost", &ca, &[b"http/1.1"])
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (status, body) = http1_list_streams(tls).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("StreamNames"), "{body}");

    // TLS without ALPN is HTTP/1.1.
    let tls = tls_connect(addr, "localhost", &ca, &[]).await.unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), None);
    let (status, _) = http1_list_streams(tls).await;
    assert_eq!(status, 200);

    // Plain HTTP/1.1 and h2c (prior knowledge) on the same port.
    let (status, body) = http1_list_streams(TcpStream::connect(addr).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = h2_list_streams(TcpStream::connect(addr).await.unwrap(), "http").await;
    assert_eq!(status, 200, "{body}");

    // A name the certificate does not cover fails verification.
    assert!(tls_connect(addr, "example.com", &ca, &[b"h2"])
        .await
        .is_err());

    // A broken handshake costs only its own connection.
    let mut junk = TcpStream::connect(addr).await.unwrap();
    junk.write_all(&[0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5])
        .await
        .unwrap();
    let mut sink = Vec::new();
    let _ = junk.read_to_end(&mut sink).await;
    let (status, _) = http1_list_streams(TcpStream::connect(addr).await.unwrap()).await;
    assert_eq!(status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn the_ca_is_kept_in_the_data_dir_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: Some(dir.path().to_path_buf()),
        tls: TlsConfig {
            extra_names: vec!["kinesd.test".into()],
            ..TlsConfig::default()
        },
        ..Config::default()
    };
    let server = common::serve(config.clone()).await;
    let ca = server.tls_ca_pem().unwrap();
    let ca_path = server.tls_ca_path().unwrap().to_path_buf();
    assert_eq!(ca_path, dir.path().join("tls").join("ca.pem"));
    assert_eq!(std::fs::read_to_string(&ca_path).unwrap(), ca);
    for file in ["server.pem", "server-key.pem", "ca-key.pem"] {
        assert!(dir.path().join("tls").join(file).exists(), "{file}");
    }
    let server_pem = std::fs::read(dir.path().join("tls/server.pem")).unwrap();
    let tls = tls_connect(server.local_addr(), "kinesd.test", &ca, &[b"h2"])
        .await
        .unwrap();
    drop(tls);
    server.shutdown().await;

    // A restart serves the same certificate, so clients that trust ca.pem keep working.
    let server = common::serve(config).await;
    assert_eq!(server.tls_ca_pem().unwrap(), ca);
    assert_eq!(
        std::fs::read(dir.path().join("tls/server.pem")).unwrap(),
        server_pem
    );
    let client = common::tls_client(&server.https_endpoint().unwrap(), &ca);
    client.list_streams().send().await.unwrap();
    server.shutdown().await;
}

#[tokio::test]
async fn user_certificates_and_tls_off() {
    // A self-signed certificate of the user's own.
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let server = common::serve(Config {
        tls: TlsConfig {
            cert_path: Some(cert_path),
            key_path: Some(key_path),
            ..TlsConfig::default()
        },
        ..Config::default()
    })
    .await;
    assert_eq!(server.tls_ca_pem(), None);
    assert!(server.https_endpoint().is_some());
    let tls = tls_connect(server.local_addr(), "localhost", &cert.pem(), &[b"h2"])
        .await
        .unwrap();
    let (status, _) = h2_list_streams(tls, "https").await;
    assert_eq!(status, 200);
    server.shutdown().await;

    // TLS off: plain HTTP only, and a TLS hello is not answered with a handshake.
    let server = common::serve(Config {
        tls: TlsConfig {
            enabled: false,
            ..TlsConfig::default()
        },
        ..Config::default()
    })
    .await;
    assert_eq!(server.https_endpoint(), None);
    assert_eq!(server.tls_ca_pem(), None);
    let (status, _) =
        http1_list_streams(TcpStream::connect(server.local_addr()).await.unwrap()).await;
    assert_eq!(status, 200);
    let some_ca = common::serve(Config::default()).await.tls_ca_pem().unwrap();
    assert!(
        tls_connect(server.local_addr(), "localhost", &some_ca, &[b"h2"])
            .await
            .is_err()
    );
    server.shutdown().await;
}
