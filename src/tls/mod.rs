//! TLS on the same port as plain HTTP/1.1 and h2c.
//!
//! Each connection's first byte tells them apart: 0x16 opens a TLS handshake record, which no
//! HTTP/1.1 request line or h2c preface can start with. TLS connections offer `h2` and
//! `http/1.1` by ALPN and are then served by the same hyper-util auto builder as plain ones.
//!
//! Certificates: unless the user supplies a chain and key (`--tls-cert`/`--tls-key`), kinesd
//! makes a local CA and a server certificate signed by it for localhost, 127.0.0.1, ::1 and any
//! extra names. With a data directory they live in `<data-dir>/tls/` (`ca.pem`, `ca-key.pem`,
//! `server.pem`, `server-key.pem`) and are reused on later starts; the server certificate is
//! re-issued from the same CA when it nears expiry or gains a name the CA allows, so a client
//! that trusts `ca.pem` keeps working. Without a data directory they are made in memory.
//!
//! The CA is name-constrained to the names it was made for (X.509 name constraints, honoured
//! by browsers, curl, Java, Go and rustls): trusting it lets it vouch for `localhost` and the
//! `--tls-name`s, never for `github.com`, so a stolen `ca-key.pem` cannot be used to
//! impersonate other sites. A name the CA does not cover, or a CA made by an older kinesd
//! without constraints, makes a new CA (logged: clients must trust the new `ca.pem`).
//!
//! rustls with the `ring` provider: no OpenSSL and no cmake.

use crate::clock::{Clock, SystemClock};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, CidrSubnet, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, KeyPair, KeyUsagePurpose, NameConstraints,
    SanType,
};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

mod conn;
pub use conn::{accept, Conn, PendingTls};

/// The names every generated server certificate covers.
pub const DEFAULT_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Generated certificates are valid this long; the server certificate is re-issued when less
/// than `RENEW_BEFORE_DAYS` remain.
const CA_VALID_DAYS: i64 = 3650;
const SERVER_VALID_DAYS: i64 = 825;
const RENEW_BEFORE_DAYS: i64 = 30;

#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// Accept TLS connections on the listening port (next to plain HTTP). On by default.
    pub enabled: bool,
    /// A PEM certificate chain to serve instead of the generated one (needs `key_path`).
    pub cert_path: Option<PathBuf>,
    /// The PEM private key of `cert_path`.
    pub key_path: Option<PathBuf>,
    /// DNS names or IP addresses the generated certificate covers besides [`DEFAULT_NAMES`].
    pub extra_names: Vec<String>,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            enabled: true,
            cert_path: None,
            key_path: None,
            extra_names: Vec::new(),
        }
    }
}

/// What the server keeps once TLS is set up.
pub struct Tls {
    pub acceptor: TlsAcceptor,
    /// The generated CA certificate (PEM) clients should trust; `None` for user certificates.
    pub ca_pem: Option<String>,
    /// Where that CA certificate is on disk, when there is a data directory.
    pub ca_path: Option<PathBuf>,
}

/// Starts TLS for `config` (`None` when disabled). A user's certificate and key are read now,
/// so a bad file stops the start; generated ones are made on a blocking thread while the rest
/// of the server starts (see [`PendingTls`]).
pub fn start(config: &TlsConfig, data_dir: Option<&Path>) -> io::Result<Option<PendingTls>> {
    if !config.enabled {
        return Ok(None);
    }
    if config.cert_path.is_some() || config.key_path.is_some() {
        return Ok(setup(config, data_dir)?.map(PendingTls::ready));
    }
    let config = config.clone();
    let data_dir = data_dir.map(Path::to_path_buf);
    Ok(Some(PendingTls::spawn(move || {
        setup(&config, data_dir.as_deref())?.ok_or_else(|| io::Error::other("TLS is disabled"))
    })))
}

/// Builds the TLS acceptor for `config`, generating or reusing certificates as described in the
/// module docs. `Ok(None)` when TLS is disabled.
pub fn setup(config: &TlsConfig, data_dir: Option<&Path>) -> io::Result<Option<Tls>> {
    if !config.enabled {
        return Ok(None);
    }
    let (chain, key, ca_pem, ca_path) = match (&config.cert_path, &config.key_path) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| invalid(format!("cannot read {}: {e}", cert.display())))?;
            if chain.is_empty() {
                return Err(invalid(format!(
                    "no certificate found in {}",
                    cert.display()
                )));
            }
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| invalid(format!("cannot read {}: {e}", key.display())))?;
            (chain, key, None, None)
        }
        (None, None) => {
            let names = wanted_names(&config.extra_names);
            let material = match data_dir {
                Some(dir) => load_or_generate(&dir.join("tls"), &names)?,
                None => generate(&names)?,
            };
            let chain = vec![CertificateDer::from(material.server_der)];
            let key = PrivateKeyDer::from_pem_slice(material.server_key_pem.as_bytes())
                .map_err(|e| invalid(format!("generated key: {e}")))?;
            (chain, key, Some(material.ca_pem), material.ca_path)
        }
        _ => {
            return Err(invalid(
                "a TLS certificate and its key must be given together".into(),
            ))
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server_config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| invalid(format!("unusable TLS certificate or key: {e}")))?;
    server_config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Some(Tls {
        acceptor: TlsAcceptor::from(Arc::new(server_config)),
        ca_pem,
        ca_path,
    }))
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

fn cert_error(e: rcgen::Error) -> io::Error {
    invalid(format!("cannot make a TLS certificate: {e}"))
}

fn wanted_names(extra: &[String]) -> Vec<String> {
    let mut names: Vec<String> = DEFAULT_NAMES.iter().map(|n| n.to_string()).collect();
    for name in extra {
        let name = name.trim();
        if !name.is_empty() && !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            names.push(name.to_string());
        }
    }
    names
}

struct Material {
    ca_pem: String,
    ca_path: Option<PathBuf>,
    server_der: Vec<u8>,
    server_key_pem: String,
}

/// `(year, month, day)` `days` from now, for rcgen's validity fields. Certificates are checked by
/// clients against their real clock, so this is the wall clock, never a test's manual one.
fn ymd_in_days(days: i64) -> (i32, u8, u8) {
    use chrono::Datelike;
    let now = chrono::DateTime::from_timestamp_millis(SystemClock.now_ms()).unwrap_or_default();
    let d = now + chrono::Duration::days(days);
    (d.year(), d.month() as u8, d.day() as u8)
}

macro_rules! date_in_days {
    ($days:expr) => {{
        let (y, m, d) = ymd_in_days($days);
        rcgen::date_time_ymd(y, m, d)
    }};
}

fn new_ca(names: &[String]) -> io::Result<(Certificate, KeyPair)> {
    let key = KeyPair::generate().map_err(cert_error)?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(cert_error)?;
    let mut dn = DistinguishedName::new();
    // A random suffix keeps the CAs of different data directories apart in trust stores.
    let suffix: u32 = rand::random();
    dn.push(DnType::CommonName, format!("kinesd local CA {suffix:08x}"));
    dn.push(DnType::OrganizationName, "kinesd");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = date_in_days!(-1);
    params.not_after = date_in_days!(CA_VALID_DAYS);
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: names
            .iter()
            .map(|name| match name.parse::<IpAddr>() {
                Ok(ip) => GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(
                    ip,
                    if ip.is_ipv4() { 32 } else { 128 },
                )),
                Err(_) => GeneralSubtree::DnsName(name.clone()),
            })
            .collect(),
        excluded_subtrees: Vec::new(),
    });
    let cert = params.self_signed(&key).map_err(cert_error)?;
    Ok((cert, key))
}

fn new_server(
    names: &[String],
    ca: &Certificate,
    ca_key: &KeyPair,
) -> io::Result<(Certificate, KeyPair)> {
    let key = KeyPair::generate().map_err(cert_error)?;
    let mut params = CertificateParams::new(names.to_vec()).map_err(cert_error)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "kinesd");
    dn.push(DnType::OrganizationName, "kinesd");
    params.distinguished_name = dn;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.not_before = date_in_days!(-1);
    params.not_after = date_in_days!(SERVER_VALID_DAYS);
    let cert = params.signed_by(&key, ca, ca_key).map_err(cert_error)?;
    Ok((cert, key))
}

fn generate(names: &[String]) -> io::Result<Material> {
    let (ca, ca_key) = new_ca(names)?;
    let (server, server_key) = new_server(names, &ca, &ca_key)?;
    Ok(Material {
        ca_pem: ca.pem(),
        ca_path: None,
        server_der: server.der().to_vec(),
        server_key_pem: server_key.serialize_pem(),
    })
}

/// Reuses `dir`'s CA (or makes one) and its server certificate (or issues one).
fn load_or_generate(dir: &Path, names: &[String]) -> io::Result<Material> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    let ca_path = dir.join("ca.pem");
    let ca_key_path = dir.join("ca-key.pem");
    let server_path = dir.join("server.pem");
    let server_key_path = dir.join("server-key.pem");

    let existing_ca = match read_ca(&ca_path, &ca_key_path) {
        Some((ca, params, key, pem)) if ca_permits(&params, names) => Some((ca, key, pem)),
        Some(_) => {
            tracing::warn!(
                path = %ca_path.display(),
                names = ?names,
                "the TLS CA is not constrained to these names (new names, or made by an older \
                 kinesd): making a new CA; clients must trust the new ca.pem"
            );
            None
        }
        None => {
            if ca_path.exists() || ca_key_path.exists() {
                tracing::warn!(dir = %dir.display(), "TLS CA files unreadable; making a new CA");
            }
            None
        }
    };
    let (ca, ca_key, ca_pem, new_ca_made) = match existing_ca {
        Some((ca, key, pem)) => (ca, key, pem, false),
        None => {
            let (ca, key) = new_ca(names)?;
            let pem = ca.pem();
            write_file(&ca_key_path, key.serialize_pem().as_bytes())?;
            write_file(&ca_path, pem.as_bytes())?;
            tracing::info!(path = %ca_path.display(), "generated a local TLS CA");
            (ca, key, pem, true)
        }
    };

    let reusable = if new_ca_made {
        None
    } else {
        read_server(&server_path, &server_key_path, names)
    };
    let (server_der, server_key_pem) = match reusable {
        Some(found) => found,
        None => {
            let (cert, key) = new_server(names, &ca, &ca_key)?;
            let key_pem = key.serialize_pem();
            write_file(&server_key_path, key_pem.as_bytes())?;
            write_file(&server_path, cert.pem().as_bytes())?;
            tracing::info!(path = %server_path.display(), names = ?names, "issued a TLS server certificate");
            (cert.der().to_vec(), key_pem)
        }
    };
    Ok(Material {
        ca_pem,
        ca_path: Some(ca_path),
        server_der,
        server_key_pem,
    })
}

/// The CA on disk, rebuilt as an issuer (same subject, same key, same key identifier), with
/// the parameters it was read from.
fn read_ca(
    cert_path: &Path,
    key_path: &Path,
) -> Option<(Certificate, CertificateParams, KeyPair, String)> {
    let pem = std::fs::read_to_string(cert_path).ok()?;
    let key = KeyPair::from_pem(&std::fs::read_to_string(key_path).ok()?).ok()?;
    let params = CertificateParams::from_ca_cert_pem(&pem).ok()?;
    let issuer = params.clone().self_signed(&key).ok()?;
    Some((issuer, params, key, pem))
}

/// Whether a CA is name-constrained and its permitted names cover every one of `names`.
fn ca_permits(ca: &CertificateParams, names: &[String]) -> bool {
    let Some(constraints) = &ca.name_constraints else {
        return false;
    };
    names.iter().all(|name| {
        constraints.permitted_subtrees.iter().any(|subtree| {
            match (subtree, name.parse::<IpAddr>()) {
                (GeneralSubtree::IpAddress(subnet), Ok(ip)) => {
                    let exact =
                        CidrSubnet::from_addr_prefix(ip, if ip.is_ipv4() { 32 } else { 128 });
                    *subnet == exact
                }
                (GeneralSubtree::DnsName(permitted), Err(_)) => {
                    let (name, permitted) =
                        (name.to_ascii_lowercase(), permitted.to_ascii_lowercase());
                    name == permitted || name.ends_with(&format!(".{permitted}"))
                }
                _ => false,
            }
        })
    })
}

/// The server certificate on disk, if it covers `names` and is not about to expire.
fn read_server(cert_path: &Path, key_path: &Path, names: &[String]) -> Option<(Vec<u8>, String)> {
    let pem = std::fs::read_to_string(cert_path).ok()?;
    let key_pem = std::fs::read_to_string(key_path).ok()?;
    KeyPair::from_pem(&key_pem).ok()?;
    let der = CertificateDer::from_pem_slice(pem.as_bytes()).ok()?;
    // Despite its name this parses any certificate's fields.
    let params = CertificateParams::from_ca_cert_der(&der).ok()?;
    let covered = |name: &String| {
        params.subject_alt_names.iter().any(|san| match san {
            SanType::DnsName(dns) => dns.as_str().eq_ignore_ascii_case(name),
            SanType::IpAddress(ip) => name.parse::<std::net::IpAddr>().ok() == Some(*ip),
            _ => false,
        })
    };
    if !names.iter().all(covered) {
        return None;
    }
    let renew_at = SystemClock.now_ms() / 1000 + RENEW_BEFORE_DAYS * 86_400;
    if params.not_after.unix_timestamp() < renew_at {
        return None;
    }
    Some((der.to_vec(), key_pem))
}

/// Writes via a temporary file and a rename, readable by the owner only (like everything in
/// the data directory; a certificate is copied out by its owner where it is needed).
fn write_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("pem.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::client::danger::ServerCertVerifier;

    /// Verifies `server_der` for `name` against the CA `ca_pem` as rustls (webpki) does.
    fn verify(ca_pem: &str, server_der: &[u8], name: &str) -> Result<(), rustls::Error> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        verifier
            .verify_server_cert(
                &CertificateDer::from(server_der.to_vec()),
                &[],
                &rustls_pki_types::ServerName::try_from(name.to_string()).unwrap(),
                &[],
                rustls_pki_types::UnixTime::now(),
            )
            .map(|_| ())
    }

    #[test]
    fn generated_material_is_reused_and_a_new_name_makes_a_new_constrained_ca() {
        let dir = tempfile::tempdir().unwrap();
        let names = wanted_names(&["kinesd.local".to_string()]);
        let first = load_or_generate(dir.path(), &names).unwrap();
        for f in ["ca.pem", "ca-key.pem", "server.pem", "server-key.pem"] {
            assert!(dir.path().join(f).exists(), "{f}");
        }
        let again = load_or_generate(dir.path(), &names).unwrap();
        assert_eq!(first.ca_pem, again.ca_pem);
        assert_eq!(first.server_der, again.server_der);
        for name in ["localhost", "127.0.0.1", "::1", "kinesd.local"] {
            verify(&first.ca_pem, &first.server_der, name)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        // Fewer names: the same CA and certificate.
        let fewer = load_or_generate(dir.path(), &wanted_names(&[])).unwrap();
        assert_eq!(first.ca_pem, fewer.ca_pem);
        // A name the CA was not made for: a new CA, constrained to the new set.
        let more = wanted_names(&["kinesd.local".to_string(), "other.test".to_string()]);
        let third = load_or_generate(dir.path(), &more).unwrap();
        assert_ne!(first.ca_pem, third.ca_pem);
        let params =
            CertificateParams::from_ca_cert_der(&CertificateDer::from(third.server_der.clone()))
                .unwrap();
        assert_eq!(params.subject_alt_names.len(), 5);
        verify(&third.ca_pem, &third.server_der, "other.test").unwrap();
    }

    #[test]
    fn the_ca_cannot_vouch_for_other_names() {
        let dir = tempfile::tempdir().unwrap();
        let names = wanted_names(&[]);
        let material = load_or_generate(dir.path(), &names).unwrap();
        let (ca, _params, key, pem) =
            read_ca(&dir.path().join("ca.pem"), &dir.path().join("ca-key.pem")).unwrap();
        assert_eq!(pem, material.ca_pem);
        // Someone holding ca-key.pem issues a certificate for another site.
        let forged_names = vec!["github.com".to_string(), "10.1.2.3".to_string()];
        let (forged, _) = new_server(&forged_names, &ca, &key).unwrap();
        for name in ["github.com", "10.1.2.3"] {
            let err = verify(&pem, forged.der(), name).unwrap_err();
            assert!(
                format!("{err:?}").contains("NameConstraint"),
                "{name}: {err:?}"
            );
        }
        // A subdomain of localhost is inside the constraint.
        let (sub, _) = new_server(&["api.localhost".to_string()], &ca, &key).unwrap();
        verify(&pem, sub.der(), "api.localhost").unwrap();
    }

    #[test]
    fn disabled_or_half_configured() {
        let off = TlsConfig {
            enabled: false,
            ..TlsConfig::default()
        };
        assert!(setup(&off, None).unwrap().is_none());
        let half = TlsConfig {
            cert_path: Some("x.pem".into()),
            ..TlsConfig::default()
        };
        assert!(setup(&half, None).is_err());
        let in_memory = setup(&TlsConfig::default(), None).unwrap().unwrap();
        assert!(in_memory
            .ca_pem
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(in_memory.ca_path.is_none());
    }
}
