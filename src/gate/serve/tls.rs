//! TLS for `toolgate serve` (docs/serve.md, "TLS"): the listener terminates TLS with a
//! PEM certificate chain and key, read again whenever the files change, and the upstream
//! may be `https`, verified against the system's roots or a configured CA, with an
//! optional client certificate. rustls with the aws-lc-rs provider, TLS 1.2 and 1.3.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// The listener's certificate and key files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerTls {
    /// The certificate chain, PEM, the server's certificate first (`tls.cert_file`).
    pub cert_file: PathBuf,
    /// The private key, PEM: PKCS #8, PKCS #1 or SEC 1 (`tls.key_file`).
    pub key_file: PathBuf,
    /// How often the files are checked for changes (`tls.reload_seconds`); zero: never.
    pub reload: Duration,
}

/// How the gate verifies an `https` upstream and presents itself to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpstreamTls {
    /// The CA certificates (PEM) an upstream's certificate must chain to
    /// (`upstream_tls.ca_file`); without it, the system's roots.
    pub ca_file: Option<PathBuf>,
    /// A client certificate chain (PEM) presented to the upstream
    /// (`upstream_tls.cert_file`, with `key_file`).
    pub cert_file: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    pub key_file: Option<PathBuf>,
}

/// How often the listener's files are checked, by default.
pub const DEFAULT_TLS_RELOAD: Duration = Duration::from_secs(5);

/// A TLS file that cannot be used: which, and why.
#[derive(Debug)]
pub struct TlsError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for TlsError {}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn problem(path: &Path, message: impl Into<String>) -> TlsError {
    TlsError {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|error| problem(path, error.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| problem(path, error.to_string()))?;
    if chain.is_empty() {
        return Err(problem(path, "holds no PEM certificate"));
    }
    Ok(chain)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|error| problem(path, error.to_string()))
}

/// The certificate and key of `tls`, checked to belong together.
fn certified_key(tls: &ListenerTls) -> Result<CertifiedKey, TlsError> {
    let chain = certificates(&tls.cert_file)?;
    let key = private_key(&tls.key_file)?;
    let certified = CertifiedKey::from_der(chain, key, &provider())
        .map_err(|error| problem(&tls.key_file, error.to_string()))?;
    Ok(certified)
}

/// Serves the certificate in force; swapped when the files change.
#[derive(Debug)]
struct Resolver {
    current: ArcSwap<CertifiedKey>,
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

/// The listener's TLS: an acceptor whose certificate follows its files.
#[derive(Clone)]
pub(super) struct Acceptor {
    pub acceptor: tokio_rustls::TlsAcceptor,
    resolver: Arc<Resolver>,
}

impl Acceptor {
    /// Reads and checks the files (an error names the file at fault).
    pub fn new(tls: &ListenerTls) -> Result<Acceptor, TlsError> {
        let resolver = Arc::new(Resolver {
            current: ArcSwap::from_pointee(certified_key(tls)?),
        });
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|error| problem(&tls.cert_file, error.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(&resolver) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Acceptor {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            resolver,
        })
    }

    /// Checks the files every `tls.reload` and puts a changed certificate in force; one
    /// that does not load is logged and the previous one stays. Stops when dropped.
    pub fn watch(&self, tls: &ListenerTls) -> Option<tokio::task::JoinHandle<()>> {
        if tls.reload.is_zero() {
            return None;
        }
        let resolver = Arc::clone(&self.resolver);
        let tls = tls.clone();
        Some(tokio::spawn(async move {
            let mut seen = stamp(&tls);
            let mut interval = tokio::time::interval(tls.reload);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                let now = stamp(&tls);
                if now == seen {
                    continue;
                }
                seen = now;
                let loading = tls.clone();
                let loaded = tokio::task::spawn_blocking(move || certified_key(&loading)).await;
                match loaded {
                    Ok(Ok(certified)) => {
                        resolver.current.store(Arc::new(certified));
                        tracing::info!(cert = %tls.cert_file.display(), "TLS certificate reloaded");
                    }
                    Ok(Err(error)) => tracing::error!(
                        %error,
                        "TLS certificate not reloaded; the previous one stays"
                    ),
                    Err(error) => tracing::error!(%error, "TLS certificate reload failed"),
                }
            }
        }))
    }
}

/// The files' modification times and sizes (what a change is seen by).
fn stamp(tls: &ListenerTls) -> [Option<(SystemTime, u64)>; 2] {
    [&tls.cert_file, &tls.key_file].map(|path| {
        let metadata = std::fs::metadata(path).ok()?;
        Some((metadata.modified().ok()?, metadata.len()))
    })
}

/// The client configuration for an `https` upstream.
pub(super) fn upstream_client(tls: &UpstreamTls) -> Result<rustls::ClientConfig, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    match &tls.ca_file {
        Some(path) => {
            for certificate in certificates(path)? {
                roots
                    .add(certificate)
                    .map_err(|error| problem(path, error.to_string()))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for certificate in found.certs {
                // A system root rustls cannot parse is skipped, as browsers do.
                let _ = roots.add(certificate);
            }
            if roots.is_empty() {
                return Err(problem(
                    Path::new("(system roots)"),
                    "no CA certificate found on this system; set `upstream_tls.ca_file`",
                ));
            }
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| problem(Path::new("(provider)"), error.to_string()))?
        .with_root_certificates(roots);
    // No ALPN here: the connector sets it (HTTP/1.1).
    let config = match (&tls.cert_file, &tls.key_file) {
        (Some(cert), Some(key)) => builder
            .with_client_auth_cert(certificates(cert)?, private_key(key)?)
            .map_err(|error| problem(key, error.to_string()))?,
        _ => builder.with_no_client_auth(),
    };
    Ok(config)
}

/// A client configuration trusting nothing (for an `http` upstream, which never uses it).
pub(super) fn no_roots() -> Result<rustls::ClientConfig, TlsError> {
    Ok(rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| problem(Path::new("(provider)"), error.to_string()))?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth())
}
