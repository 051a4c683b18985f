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
use std::sync::Arc;
use std::time::Duration;

use axum::Router;

pub use config::{AuditTarget, ServeConfig, ServeConfigError};

use super::{
    AuditSink, GateLayer, JsonLinesAudit, Limits, PolicyHandle, TracingAudit, WatchConfig,
};
use crate::credentials::Authenticator;
use proxy::Upstream;

/// How long open connections (event streams) get to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Why `toolgate serve` stopped or did not start.
#[derive(Debug)]
pub enum ServeError {
    /// The configuration cannot work.
    Config(ServeConfigError),
    /// The policy does not load: the rendered diagnostics.
    Policy(String),
    /// Listening or serving failed.
    Io(std::io::Error),
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::Config(error) => write!(f, "{error}"),
            ServeError::Policy(error) => f.write_str(error),
            ServeError::Io(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for ServeError {}

/// Runs the proxy until `shutdown` completes, then lets open connections finish (at
/// most ten seconds) and flushes the audit log.
pub async fn serve(
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let policy = PolicyHandle::load(&config.policy).map_err(|error| {
        ServeError::Policy(format!(
            "{}: the policy `{}` does not load:\n{error}",
            config.name,
            config.policy.display()
        ))
    })?;
    let authenticator = Authenticator::from_config(&config.credentials)
        .await
        .map_err(|error| {
            ServeError::Config(ServeConfigError {
                file: config.name.clone(),
                key: error.key().to_string(),
                message: error.message().to_string(),
            })
        })?;
    let (layer, file_audit) = gate_layer(&config, policy.clone(), authenticator)?;
    let _watcher = match config.watch {
        Some(debounce) => Some(
            policy
                .watch(WatchConfig::default().with_debounce(debounce))
                .map_err(|error| ServeError::Io(std::io::Error::other(error.to_string())))?,
        ),
        None => None,
    };
    #[cfg(unix)]
    let _hangups = policy.reload_on_sighup().map_err(ServeError::Io)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|error| {
            ServeError::Config(ServeConfigError {
                file: config.name.clone(),
                key: "listen".to_string(),
                message: format!("cannot listen on {}: {error}", config.listen),
            })
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
            let audit = JsonLinesAudit::open(path).map_err(|error| {
                ServeError::Config(ServeConfigError {
                    file: config.name.clone(),
                    key: "audit.file".to_string(),
                    message: format!("cannot open `{}`: {error}", path.display()),
                })
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
