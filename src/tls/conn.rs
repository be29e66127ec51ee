//! A connection on the shared port: plain or TLS, told apart by its first byte, and the TLS
//! material it needs, which may still be being made when the first connections arrive.
//!
//! Generating a CA and a server certificate (and writing them with an fsync each) takes
//! milliseconds; the server opens its port without waiting for it. A connection that starts a
//! TLS handshake before the certificate is ready waits for it (within the first-byte
//! timeout); plain connections never wait.

use super::Tls;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// How long a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The nice value of the thread that makes the TLS material (19, the lowest priority).
const LOWEST_PRIORITY: i32 = 19;

/// The TLS set-up's outcome once it has one: the material, or why it failed.
type Outcome = Option<Result<Arc<Tls>, String>>;

/// TLS material that is ready or being made; cloned into every connection.
#[derive(Clone)]
pub struct PendingTls(watch::Receiver<Outcome>);

impl PendingTls {
    /// Material already made.
    pub fn ready(tls: Tls) -> PendingTls {
        PendingTls(watch::channel(Some(Ok(Arc::new(tls)))).1)
    }

    /// Runs `make` on a thread of its own at the lowest priority; connections that need TLS
    /// wait for it.
    ///
    /// The material is made while the server starts, and on a machine of one or two cores
    /// its key generation and signatures would take the CPU from the store's opening and
    /// from the first answers: the scheduler gives this thread what they leave.
    pub fn spawn(make: impl FnOnce() -> io::Result<Tls> + Send + 'static) -> PendingTls {
        let (tx, rx) = watch::channel(None);
        let failed = tx.clone();
        let spawned = std::thread::Builder::new()
            .name("kinesd-tls".into())
            .spawn(move || {
                // Linux's nice value is per thread; lowering it needs no privilege. Should it
                // fail, the material is made at the normal priority.
                let _ = rustix::process::setpriority_process(None, LOWEST_PRIORITY);
                let outcome = make().map(Arc::new).map_err(|e| e.to_string());
                let _ = tx.send(Some(outcome));
            });
        if let Err(e) = spawned {
            let _ = failed.send(Some(Err(format!("cannot start the TLS set-up: {e}"))));
        }
        PendingTls(rx)
    }

    /// The material, once made.
    pub async fn get(&self) -> io::Result<Arc<Tls>> {
        let mut rx = self.0.clone();
        let outcome = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| io::Error::other("TLS set-up was abandoned"))?;
        match outcome.as_ref() {
            Some(Ok(tls)) => Ok(tls.clone()),
            Some(Err(e)) => Err(io::Error::new(io::ErrorKind::InvalidInput, e.clone())),
            None => unreachable!("waited for an outcome"),
        }
    }
}

/// A connection after the first-byte sniff: plain TCP, or TLS over it.
pub enum Conn {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl Conn {
    /// The protocol chosen by ALPN on a TLS connection.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        match self {
            Conn::Plain(_) => None,
            Conn::Tls(tls) => tls.get_ref().1.alpn_protocol(),
        }
    }
}

/// Peeks at the first byte and completes a TLS handshake when it starts one (waiting for the
/// TLS material if it is still being made).
pub async fn accept(socket: TcpStream, tls: Option<&PendingTls>) -> io::Result<Conn> {
    let Some(tls) = tls else {
        return Ok(Conn::Plain(socket));
    };
    let mut first = [0u8; 1];
    let n = socket.peek(&mut first).await?;
    if n == 1 && first[0] == 0x16 {
        let acceptor = tls.get().await?.acceptor.clone();
        let tls = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(socket))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
        Ok(Conn::Tls(Box::new(tls)))
    } else {
        Ok(Conn::Plain(socket))
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Plain(s) => s.is_write_vectored(),
            Conn::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, ServerName};
    use tokio::net::TcpListener;

    /// A TLS client that trusts `ca_pem`, connected to `addr`.
    async fn tls_client(
        addr: std::net::SocketAddr,
        ca_pem: &str,
    ) -> io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tcp = TcpStream::connect(addr).await?;
        tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
    }

    #[tokio::test]
    async fn plain_connections_go_ahead_while_a_handshake_waits_for_the_material() {
        let material = super::super::setup(&Default::default(), None)
            .unwrap()
            .unwrap();
        let ca = material.ca_pem.clone().unwrap();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let pending = PendingTls::spawn(move || {
            released.recv().unwrap();
            Ok(material)
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let mut kinds = Vec::new();
            for _ in 0..2 {
                let (socket, _) = listener.accept().await.unwrap();
                let pending = pending.clone();
                kinds.push(tokio::spawn(async move {
                    match accept(socket, Some(&pending)).await.unwrap() {
                        Conn::Plain(_) => "plain",
                        Conn::Tls(_) => "tls",
                    }
                }));
            }
            kinds
        });
        let handshake = tokio::spawn(async move { tls_client(addr, &ca).await.map(|_| ()) });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut plain = TcpStream::connect(addr).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut plain, b"GET / HTTP/1.1\r\n")
            .await
            .unwrap();
        let mut kinds = server.await.unwrap().into_iter();
        let (tls, plain) = (kinds.next().unwrap(), kinds.next().unwrap());
        // The plain connection (accepted second) is through while the handshake still waits.
        let plain = tokio::time::timeout(Duration::from_secs(5), plain).await;
        assert_eq!(plain.unwrap().unwrap(), "plain");
        assert!(
            !tls.is_finished() && !handshake.is_finished(),
            "no TLS before the material"
        );
        release.send(()).unwrap();
        handshake.await.unwrap().unwrap();
        assert_eq!(tls.await.unwrap(), "tls");
    }

    #[tokio::test]
    async fn the_material_is_made_at_the_lowest_priority_and_its_failure_is_told() {
        // Read first: under `nice -n 19 cargo test` the caller may be at the lowest already.
        let own = rustix::process::getpriority_process(None).unwrap();
        let seen = Arc::new(std::sync::Mutex::new(None));
        let record = seen.clone();
        let pending = PendingTls::spawn(move || {
            *record.lock().unwrap() = Some(rustix::process::getpriority_process(None));
            Err(io::Error::other("no material today"))
        });
        let Err(refused) = pending.get().await else {
            panic!("the set-up failed, yet material came")
        };
        assert!(
            refused.to_string().contains("no material today"),
            "{refused}"
        );
        let priority = seen.lock().unwrap().take().expect("make ran");
        assert_eq!(priority.unwrap(), LOWEST_PRIORITY);
        // The calling thread keeps its own priority.
        assert_eq!(rustix::process::getpriority_process(None).unwrap(), own);
    }
}
