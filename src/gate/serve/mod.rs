//! `toolgate serve`: the gate as a reverse proxy in front of an MCP server written in
//! any language (docs/serve.md).
//!
//! Start-up checks everything first and never starts open: a configuration without
//! credentials, a policy that does not load, an unusable upstream or credential setting
//! stops it with an error naming the key. Once listening it prints one line on standard
//! output, `listening on http://ADDRESS/PATH`, and logs to standard error.

mod config;
mod keys;
mod proxy;

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;

pub use config::{AuditTarget, ServeConfig, ServeConfigError};

use super::{
    AuditSink, GateLayer, JsonLinesAudit, Limits, PolicyHandle, TracingAudit, WatchConfig,
    WatchError,
};
use crate::credentials::{Authenticator, ConfigError};
use crate::load::PolicyError;
use proxy::Upstream;

/// How long open connections (event streams) get to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Why `toolgate serve` stopped or did not start.
///
/// Each variant holds the error that stopped it, which
/// [`source`](std::error::Error::source) returns; the text names the configuration file
/// (and key) and ends with that error's text.
#[derive(Debug)]
pub enum ServeError {
    /// The configuration cannot work.
    Config(ServeConfigError),
    /// The policy does not load; the text lists its errors, one a line.
    Policy {
        /// The configuration file's name.
        file: String,
        /// The policy file or directory.
        policy: PathBuf,
        /// Why it does not load.
        source: PolicyError,
    },
    /// The credential settings (`jwt`, `api_keys`) cannot work.
    Credentials {
        /// The configuration file's name.
        file: String,
        /// The key at fault and what is wrong with it.
        source: ConfigError,
    },
    /// The address of `listen` cannot be listened on.
    Listen {
        /// The configuration file's name.
        file: String,
        /// The address.
        address: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The audit file of `audit.file` cannot be opened.
    Audit {
        /// The configuration file's name.
        file: String,
        /// The audit file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The policy files cannot be watched.
    Watch(WatchError),
    /// Listening or serving failed.
    Io(std::io::Error),
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::Config(error) => write!(f, "{error}"),
            ServeError::Policy {
                file,
                policy,
                source,
            } => write!(
                f,
                "{file}: the policy `{}` does not load:\n{source}",
                policy.display()
            ),
            ServeError::Credentials { file, source } => write!(f, "{file}: {source}"),
            ServeError::Listen {
                file,
                address,
                source,
            } => write!(f, "{file}: `listen`: cannot listen on {address}: {source}"),
            ServeError::Audit { file, path, source } => write!(
                f,
                "{file}: `audit.file`: cannot open `{}`: {source}",
                path.display()
            ),
            ServeError::Watch(error) => write!(f, "{error}"),
            ServeError::Io(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for ServeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ServeError::Config(error) => Some(error),
            ServeError::Policy { source, .. } => Some(source),
            ServeError::Credentials { source, .. } => Some(source),
            ServeError::Listen { source, .. } | ServeError::Audit { source, .. } => Some(source),
            ServeError::Watch(error) => Some(error),
            ServeError::Io(error) => Some(error),
        }
    }
}

/// Runs the proxy until `shutdown` completes, then lets open connections finish (at
/// most ten seconds) and flushes the audit log.
pub async fn serve(
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let policy = PolicyHandle::load(&config.policy).map_err(|source| ServeError::Policy {
        file: config.name.clone(),
        policy: config.policy.clone(),
        source,
    })?;
    let authenticator = Authenticator::from_config(&config.credentials)
        .await
        .map_err(|source| ServeError::Credentials {
            file: config.name.clone(),
            source,
        })?;
    let (layer, file_audit) = gate_layer(&config, policy.clone(), authenticator)?;
    let _watcher = match config.watch {
        Some(debounce) => Some(
            policy
                .watch(WatchConfig::default().with_debounce(debounce))
                .map_err(ServeError::Watch)?,
        ),
        None => None,
    };
    #[cfg(unix)]
    let _hangups = policy.reload_on_sighup().map_err(ServeError::Io)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Listen {
            file: config.name.clone(),
            address: config.listen,
            source,
        })?;
    let address = listener.local_addr().map_err(ServeError::Io)?;
    announce(address, &config.gate.mcp_path);
    let upstream = Upstream::new(config.upstream.clone(), config.gate.mcp_path.clone());
    let app = Router::new().fallback_service(tower::Layer::layer(&layer, upstream));
    let outcome = run_until(listener, app, &config.gate.limits, shutdown).await;
    if let Some(audit) = file_audit {
        audit.flush();
    }
    outcome
}

fn gate_layer(
    config: &ServeConfig,
    policy: PolicyHandle,
    authenticator: Authenticator,
) -> Result<(GateLayer, Option<JsonLinesAudit>), ServeError> {
    let layer = GateLayer::new(config.gate.clone(), policy, authenticator);
    match &config.audit {
        AuditTarget::Off => Ok((layer, None)),
        AuditTarget::Tracing => Ok((layer.with_audit(Arc::new(TracingAudit)), None)),
        AuditTarget::File(path) => {
            let audit = JsonLinesAudit::open(path).map_err(|source| ServeError::Audit {
                file: config.name.clone(),
                path: path.clone(),
                source,
            })?;
            let sink: Arc<dyn AuditSink> = Arc::new(audit.clone());
            Ok((layer.with_audit(sink), Some(audit)))
        }
    }
}

/// The machine-readable line on standard output.
fn announce(address: SocketAddr, path: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on http://{address}{path}");
    let _ = out.flush();
    tracing::info!(%address, path, "listening");
}

/// Accepts connections until `shutdown`, at most `limits.max_connections` at once, each
/// given `limits.header_read_timeout` to send every request head; then lets open
/// connections finish for [`SHUTDOWN_GRACE`].
async fn run_until(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use tower::ServiceExt as _;

    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors, say: wait a little rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service =
            hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                let mut request = request.map(axum::body::Body::new);
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                app.clone().oneshot(request)
            });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(slot);
        });
    }
    tracing::info!("shutting down");
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("connections still open after the grace period: closing them");
        }
    }
    Ok(())
}

/// Completes on `SIGTERM` or Ctrl-C.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_policy_that_does_not_load_is_the_source() {
        let source = crate::Loaded::from_text("bad.policy", "allow\n").unwrap_err();
        let error = ServeError::Policy {
            file: "toolgate.toml".to_string(),
            policy: PathBuf::from("bad.policy"),
            source,
        };
        let text = error.to_string();
        assert!(
            text.starts_with(
                "toolgate.toml: the policy `bad.policy` does not load:\nbad.policy:1:"
            ),
            "{text}"
        );
        let policy = error.source().expect("a source");
        assert!(matches!(
            policy.downcast_ref::<PolicyError>(),
            Some(PolicyError::Invalid { .. })
        ));
    }

    #[test]
    fn credential_listen_and_watch_errors_are_sources() {
        let credentials = ServeError::Credentials {
            file: "toolgate.toml".to_string(),
            source: ConfigError::new("jwt.issuer", "must not be empty"),
        };
        assert_eq!(
            credentials.to_string(),
            "toolgate.toml: `jwt.issuer`: must not be empty"
        );
        let config = credentials
            .source()
            .and_then(|s| s.downcast_ref::<ConfigError>());
        assert_eq!(config.map(ConfigError::key), Some("jwt.issuer"));

        let listen = ServeError::Listen {
            file: "toolgate.toml".to_string(),
            address: SocketAddr::from(([127, 0, 0, 1], 1)),
            source: std::io::Error::from(std::io::ErrorKind::AddrInUse),
        };
        let io = listen
            .source()
            .and_then(|s| s.downcast_ref::<std::io::Error>());
        assert_eq!(
            io.map(std::io::Error::kind),
            Some(std::io::ErrorKind::AddrInUse)
        );
        assert!(listen
            .to_string()
            .starts_with("toolgate.toml: `listen`: cannot listen on 127.0.0.1:1: "));

        let watch = ServeError::Watch(WatchError::NoPath);
        assert!(watch
            .source()
            .and_then(|s| s.downcast_ref::<WatchError>())
            .is_some());
        let config = ServeError::Config(ServeConfigError {
            file: "toolgate.toml".to_string(),
            key: String::new(),
            message: "bad".to_string(),
        });
        assert!(config
            .source()
            .and_then(|s| s.downcast_ref::<ServeConfigError>())
            .is_some());
    }
}
