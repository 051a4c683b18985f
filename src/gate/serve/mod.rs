//! `toolgate serve`: the gate as a reverse proxy in front of an MCP server written in
//! any language (docs/serve.md).
//!
//! Start-up checks everything first and never starts open: a configuration without
//! credentials, a policy that does not load, an unusable upstream or credential setting
//! stops it with an error naming the key. Once listening it prints one line on standard
//! output, `listening on http://ADDRESS/PATH`, and logs to standard error.
//!
//! Remote signing keys (`jwks_url`, `discovery`) are fetched once the port is open, so
//! that the readiness endpoint can say the gate is not ready yet; requests to the MCP
//! path wait for them (and are never decided without them), and a fetch that fails
//! stops the gate as before. [`check`] checks a configuration without serving.

mod check;
mod config;
mod health;
mod keys;
mod metrics;
mod proxy;
mod tls;

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::Router;
use http::{Request, Response, StatusCode};
use tokio::sync::{watch, Notify};

pub use check::check;
pub use config::{
    AuditTarget, HealthPaths, MetricsEndpoint, ServeConfig, ServeConfigError, DEFAULT_LIVE_PATH,
    DEFAULT_METRICS_PATH, DEFAULT_READY_PATH, DEFAULT_SHUTDOWN_GRACE,
};
pub use health::{UPSTREAM_CACHE, UPSTREAM_TIMEOUT};
pub use tls::{ListenerTls, TlsError, UpstreamTls, DEFAULT_TLS_RELOAD};

use super::{
    AuditSink, GateLayer, JsonLinesAudit, Metrics, OtlpAudit, PolicyHandle, Traces, TracingAudit,
    TrafficLimits, WatchConfig, WatchError,
};
use crate::credentials::{Authenticator, ConfigError};
use crate::{LoadOptions, PolicyError};
use health::Health;
use proxy::Upstream;

/// toolgate serve: the gate has no signing keys yet (or did not get them), so it
/// decides nothing; JSON-RPC error code of the `503` it answers meanwhile.
const NOT_READY: i64 = -32005;

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
    /// The address of `listen` (or `metrics.listen`) cannot be listened on.
    Listen {
        /// The configuration file's name.
        file: String,
        /// The key naming the address: `listen` or `metrics.listen`.
        key: &'static str,
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
    /// A TLS certificate, key or CA file cannot be used.
    Tls {
        /// The configuration file's name.
        file: String,
        /// The table at fault: `tls` or `upstream_tls`.
        key: &'static str,
        /// The file and what is wrong with it.
        source: TlsError,
    },
    /// An OTLP exporter cannot start (`traces.endpoint`, `audit.otlp_endpoint`).
    Otlp {
        /// The configuration file's name.
        file: String,
        /// The key naming the endpoint.
        key: &'static str,
        /// Why.
        source: crate::gate::OtlpError,
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
            ServeError::Otlp { file, key, source } => write!(f, "{file}: `{key}`: {source}"),
            ServeError::Listen {
                file,
                key,
                address,
                source,
            } => write!(f, "{file}: `{key}`: cannot listen on {address}: {source}"),
            ServeError::Audit { file, path, source } => write!(
                f,
                "{file}: `audit.file`: cannot open `{}`: {source}",
                path.display()
            ),
            ServeError::Tls { file, key, source } => write!(f, "{file}: `{key}`: {source}"),
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
            ServeError::Tls { source, .. } => Some(source),
            ServeError::Otlp { source, .. } => Some(source),
            ServeError::Watch(error) => Some(error),
            ServeError::Io(error) => Some(error),
        }
    }
}

/// Runs the proxy until `shutdown` completes, then lets open connections finish (at
/// most [`ServeConfig::shutdown_grace`]) and flushes the audit log.
///
/// Everything local is checked before the port is opened. Remote signing keys are
/// fetched after it is: meanwhile the health endpoints answer (readiness `503`, check
/// `keys`) and requests to the gate wait for the keys, at most
/// `limits.request_timeout`; if the fetch fails, serving stops with
/// [`ServeError::Credentials`].
pub async fn serve(
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let policy = PolicyHandle::load(&config.policy, LoadOptions::default()).map_err(|source| {
        ServeError::Policy {
            file: config.name.clone(),
            policy: config.policy.clone(),
            source,
        }
    })?;
    let shadow =
        match &config.shadow_policy {
            Some(path) => Some(PolicyHandle::load(path, LoadOptions::default()).map_err(
                |source| ServeError::Policy {
                    file: config.name.clone(),
                    policy: path.clone(),
                    source,
                },
            )?),
            None => None,
        };
    let credentials_error = |source| ServeError::Credentials {
        file: config.name.clone(),
        source,
    };
    let remote = check::fetches_keys(&config.credentials);
    let authenticator = if remote {
        check::credentials_offline(&config.credentials)
            .await
            .map_err(credentials_error)?;
        None
    } else {
        Some(
            Authenticator::from_config(&config.credentials)
                .await
                .map_err(credentials_error)?,
        )
    };
    let tls_error = |key, source| ServeError::Tls {
        file: config.name.clone(),
        key,
        source,
    };
    let upstream = Upstream::new(
        config.upstream.clone(),
        config.gate.mcp_path.clone(),
        &config.upstream_tls,
    )
    .map_err(|source| tls_error("upstream_tls", source))?;
    let acceptor = match &config.tls {
        Some(tls) => Some(tls::Acceptor::new(tls).map_err(|source| tls_error("tls", source))?),
        None => None,
    };
    let _certificates = match (&acceptor, &config.tls) {
        (Some(acceptor), Some(tls)) => acceptor.watch(tls).map(AbortOnDrop),
        _ => None,
    };
    let (audit, file_audit) = open_audit(&config)?;
    #[cfg(unix)]
    let _reopening = match (&config.audit, &file_audit) {
        (AuditTarget::File(_), Some(Written::Lines(file))) => {
            Some(reopen_on_sighup(file.clone()).map_err(ServeError::Io)?)
        }
        _ => None,
    };
    let mut _watchers = Vec::new();
    #[cfg(unix)]
    let mut _hangups = Vec::new();
    for handle in std::iter::once(&policy).chain(shadow.as_ref()) {
        if let Some(debounce) = config.watch {
            _watchers.push(
                handle
                    .watch(WatchConfig::default().with_debounce(debounce))
                    .map_err(ServeError::Watch)?,
            );
        }
        #[cfg(unix)]
        _hangups.push(handle.reload_on_sighup().map_err(ServeError::Io)?);
    }
    let metrics = match &config.metrics {
        Some(endpoint) => Some(metrics::start(&config.name, endpoint).await?),
        None => None,
    };
    let traces = match &config.traces {
        Some(traces) => Some(
            Traces::start(traces.clone()).map_err(|source| ServeError::Otlp {
                file: config.name.clone(),
                key: "traces.endpoint",
                source,
            })?,
        ),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Listen {
            file: config.name.clone(),
            key: "listen",
            address: config.listen,
            source,
        })?;
    let address = listener.local_addr().map_err(ServeError::Io)?;

    let keys_held = config
        .credentials
        .jwt
        .as_ref()
        .map(|_| Arc::new(AtomicBool::new(!remote)));
    let health = config
        .health
        .clone()
        .map(|paths| Health::new(paths, &config.upstream, keys_held.clone()));
    let counted = metrics.as_ref().map(|served| served.metrics.clone());
    let reports = Arc::new(std::sync::Mutex::new(None));
    let gate_app = |authenticator| {
        app(
            &config,
            Parts {
                upstream: upstream.clone(),
                policy: policy.clone(),
                shadow: shadow.clone(),
                authenticator,
                audit: audit.clone(),
                metrics: counted.clone(),
                traces: traces.clone(),
            },
            &reports,
        )
    };
    let (phase, phases) = watch::channel(match authenticator {
        Some(authenticator) => Phase::Ready(gate_app(authenticator)),
        None => Phase::Starting,
    });
    let front = Front {
        health,
        phases,
        wait: config.gate.limits.request_timeout,
        metrics: counted.clone(),
    };
    if let (Some(served), Some(endpoint)) = (&metrics, &config.metrics) {
        announce("metrics on", "http", served.address, &endpoint.path);
    }
    let scheme = if acceptor.is_some() { "https" } else { "http" };
    announce("listening on", scheme, address, &config.gate.mcp_path);

    let stop = Arc::new(Notify::new());
    let stopped = {
        let stop = Arc::clone(&stop);
        async move { stop.notified().await }
    };
    let until = async move {
        tokio::select! {
            () = shutdown => {}
            () = stopped => {}
        }
    };
    let server = run_until(
        listener,
        acceptor,
        front,
        &config.gate.limits,
        config.shutdown_grace,
        until,
    );
    tokio::pin!(server);
    let mut finished = None;
    if remote {
        tokio::select! {
            // A shutdown signal while the keys are being fetched.
            outcome = &mut server => finished = Some(outcome),
            fetched = Authenticator::from_config(&config.credentials) => match fetched {
                Ok(authenticator) => {
                    phase.send_replace(Phase::Ready(gate_app(authenticator)));
                    if let Some(held) = &keys_held {
                        held.store(true, Ordering::Release);
                    }
                    tracing::info!("signing keys fetched: the gate is ready");
                }
                Err(source) => {
                    phase.send_replace(Phase::Failed);
                    stop.notify_one();
                    let _ = (&mut server).await;
                    flush(file_audit.as_ref());
                    return Err(credentials_error(source));
                }
            },
        }
    }
    let outcome = match finished {
        Some(outcome) => outcome,
        None => server.await,
    };
    report_shadow(&reports);
    flush(file_audit.as_ref());
    if let Some(traces) = traces {
        // The spans of the last requests, within a bound.
        let flushed =
            tokio::task::spawn_blocking(move || traces.flush(Duration::from_secs(5))).await;
        if !matches!(flushed, Ok(true)) {
            tracing::warn!("traces: the last spans were not all exported before stopping");
        }
    }
    outcome
}

/// A background task stopped when serving ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The shadow policy's totals, logged when serving ends.
fn report_shadow(reports: &ShadowReports) {
    let layer = reports.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(report) = layer.as_ref().and_then(GateLayer::shadow_report) {
        tracing::info!(
            target: "toolgate::shadow",
            decisions = report.decisions,
            disagreements = report.disagreements(),
            allowed_only_by_enforced = report.allowed_only_by_enforced,
            allowed_only_by_shadow = report.allowed_only_by_shadow,
            "shadow policy: {} decisions compared, {} disagreements ({} allowed only by the policy in force, {} only by the shadow policy)",
            report.decisions,
            report.disagreements(),
            report.allowed_only_by_enforced,
            report.allowed_only_by_shadow,
        );
    }
}

/// The gate layer in use, kept to report the shadow policy's totals at the end.
type ShadowReports = Arc<std::sync::Mutex<Option<GateLayer>>>;

/// What the gate in front of the upstream is made of.
struct Parts {
    upstream: Upstream,
    policy: PolicyHandle,
    shadow: Option<PolicyHandle>,
    authenticator: Authenticator,
    audit: Option<Arc<dyn AuditSink>>,
    metrics: Option<Metrics>,
    traces: Option<Traces>,
}

/// What writes the audit records, to flush when serving ends.
#[derive(Clone)]
enum Written {
    /// A file or standard output.
    Lines(JsonLinesAudit),
    /// An OTLP logs endpoint.
    Otlp(OtlpAudit),
}

fn flush(audit: Option<&Written>) {
    match audit {
        Some(Written::Lines(audit)) => audit.flush(),
        Some(Written::Otlp(audit)) if !audit.flush(Duration::from_secs(5)) => {
            tracing::warn!("audit: the last records were not all exported before stopping");
        }
        Some(Written::Otlp(_)) | None => {}
    }
}

/// The audit sink of the configuration, and what writes it (flushed at the end).
type OpenedAudit = (Option<Arc<dyn AuditSink>>, Option<Written>);

fn open_audit(config: &ServeConfig) -> Result<OpenedAudit, ServeError> {
    match &config.audit {
        AuditTarget::Off => Ok((None, None)),
        AuditTarget::Tracing => Ok((Some(Arc::new(TracingAudit)), None)),
        AuditTarget::File(path) => opened(config, path, JsonLinesAudit::open(path)),
        AuditTarget::Rolling {
            path,
            rotation,
            keep,
        } => opened(
            config,
            path,
            JsonLinesAudit::rolling(path, *rotation, *keep),
        ),
        AuditTarget::Stdout => {
            let audit = JsonLinesAudit::new(std::io::stdout(), JsonLinesAudit::DEFAULT_CAPACITY)
                .map_err(ServeError::Io)?;
            let sink: Arc<dyn AuditSink> = Arc::new(audit.clone());
            Ok((Some(sink), Some(Written::Lines(audit))))
        }
        AuditTarget::Otlp(otlp) => {
            let audit = OtlpAudit::start(otlp.clone()).map_err(|source| ServeError::Otlp {
                file: config.name.clone(),
                key: "audit.otlp_endpoint",
                source,
            })?;
            let sink: Arc<dyn AuditSink> = Arc::new(audit.clone());
            Ok((Some(sink), Some(Written::Otlp(audit))))
        }
    }
}

fn opened(
    config: &ServeConfig,
    path: &std::path::Path,
    audit: std::io::Result<JsonLinesAudit>,
) -> Result<OpenedAudit, ServeError> {
    let audit = audit.map_err(|source| ServeError::Audit {
        file: config.name.clone(),
        path: path.to_path_buf(),
        source,
    })?;
    let sink: Arc<dyn AuditSink> = Arc::new(audit.clone());
    Ok((Some(sink), Some(Written::Lines(audit))))
}

/// Opens the audit file again on every `SIGHUP` (after `logrotate` moved it).
#[cfg(unix)]
fn reopen_on_sighup(audit: JsonLinesAudit) -> std::io::Result<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangups = signal(SignalKind::hangup())?;
    Ok(tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            let audit = audit.clone();
            let _ = tokio::task::spawn_blocking(move || audit.reopen()).await;
            tracing::info!("audit file opened again");
        }
    }))
}

/// The gate in front of the upstream.
fn app(config: &ServeConfig, parts: Parts, reports: &ShadowReports) -> Router {
    let mut layer = GateLayer::new(config.gate.clone(), parts.policy, parts.authenticator);
    if let Some(sink) = parts.audit {
        layer = layer.with_audit(sink);
    }
    if let Some(shadow) = parts.shadow {
        layer = layer.with_shadow(shadow);
    }
    if let Some(metrics) = parts.metrics {
        layer = layer.with_metrics(metrics);
    }
    if let Some(traces) = parts.traces {
        layer = layer.with_traces(traces);
    }
    *reports.lock().unwrap_or_else(PoisonError::into_inner) = Some(layer.clone());
    Router::new().fallback_service(tower::Layer::layer(&layer, parts.upstream))
}

/// Where the gate is in starting.
#[derive(Clone)]
enum Phase {
    /// Its signing keys are being fetched.
    Starting,
    /// It decides requests.
    Ready(Router),
    /// It did not get its signing keys; the process is stopping.
    Failed,
}

/// What answers each request: the health endpoints, then the gate once it is ready.
#[derive(Clone)]
struct Front {
    health: Option<Health>,
    phases: watch::Receiver<Phase>,
    /// How long a request waits for the gate to be ready.
    wait: Duration,
    /// Counts open connections, if metrics are served.
    metrics: Option<Metrics>,
}

impl Front {
    async fn respond(self, request: Request<Body>) -> Response<Body> {
        if let Some(health) = &self.health {
            if let Some(probe) = health.probe(&request) {
                return health.answer(probe).await;
            }
        }
        let Some(app) = self.gate().await else {
            return not_ready();
        };
        match tower::ServiceExt::oneshot(app, request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    /// The gate, once it is ready; `None` if it is not within `wait`.
    async fn gate(&self) -> Option<Router> {
        let mut phases = self.phases.clone();
        let waited = tokio::time::timeout(
            self.wait,
            phases.wait_for(|phase| !matches!(phase, Phase::Starting)),
        )
        .await;
        match waited {
            Ok(Ok(phase)) => match &*phase {
                Phase::Ready(app) => Some(app.clone()),
                Phase::Starting | Phase::Failed => None,
            },
            Ok(Err(_)) | Err(_) => None,
        }
    }
}

/// `503` while the gate has no signing keys: nothing is decided without them.
fn not_ready() -> Response<Body> {
    let mut response = super::responses::error(
        StatusCode::SERVICE_UNAVAILABLE,
        None,
        NOT_READY,
        "the gate is not ready: its signing keys are not loaded",
    );
    response.headers_mut().insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from_static("1"),
    );
    response
}

/// A machine-readable line on standard output: `listening on URL` (the gate, last) or
/// `metrics on URL`.
fn announce(what: &str, scheme: &str, address: SocketAddr, path: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{what} {scheme}://{address}{path}");
    let _ = out.flush();
    tracing::info!(%address, path, "{what}");
}

/// Accepts connections until `shutdown`, at most `limits.max_connections` at once, each
/// given `limits.header_read_timeout` to send every request head; then closes the
/// listener (new connections are refused) and lets open connections finish their
/// requests and streams for at most `grace`.
async fn run_until(
    listener: tokio::net::TcpListener,
    acceptor: Option<tls::Acceptor>,
    front: Front,
    limits: &TrafficLimits,
    grace: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};

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
        let open = front.metrics.as_ref().map(Metrics::connection);
        let front = front.clone();
        let service =
            hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                let mut request = request.map(Body::new);
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                let front = front.clone();
                async move { Ok::<_, Infallible>(front.respond(request).await) }
            });
        let watcher = graceful.watcher();
        let builder = builder.clone();
        let acceptor = acceptor.clone();
        let handshake = limits.header_read_timeout;
        tokio::spawn(async move {
            match acceptor {
                None => {
                    let connection = builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .into_owned();
                    let _ = watcher.watch(connection).await;
                }
                Some(acceptor) => {
                    // The handshake gets the time a request head gets.
                    let accepted =
                        tokio::time::timeout(handshake, acceptor.acceptor.accept(stream)).await;
                    match accepted {
                        Ok(Ok(stream)) => {
                            let connection = builder
                                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                                .into_owned();
                            let _ = watcher.watch(connection).await;
                        }
                        Ok(Err(error)) => {
                            tracing::debug!(%error, %peer, "TLS handshake failed");
                        }
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
            drop(open);
            drop(slot);
        });
    }
    drop(listener);
    let open = graceful.count();
    tracing::info!(
        open,
        grace_seconds = grace.as_secs_f64(),
        "shutting down: new connections are refused; open ones may finish"
    );
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!("connections still open after the grace period: closing them");
        }
    }
    Ok(())
}

/// Completes on `SIGTERM` or `SIGINT` (Ctrl-C). Called within a tokio runtime, the
/// signal handlers are installed at once, so a signal that arrives before the future is
/// first polled is not missed (nor does it end the process the default way).
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let installed = tokio::runtime::Handle::try_current().is_ok();
        let mut terminate = installed
            .then(|| signal(SignalKind::terminate()).ok())
            .flatten();
        let mut interrupt = installed
            .then(|| signal(SignalKind::interrupt()).ok())
            .flatten();
        async move {
            if terminate.is_none() {
                terminate = signal(SignalKind::terminate()).ok();
            }
            if interrupt.is_none() {
                interrupt = signal(SignalKind::interrupt()).ok();
            }
            let terminated = async {
                match terminate.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let interrupted = async {
                match interrupt.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = terminated => {}
                () = interrupted => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_policy_that_does_not_load_is_the_source() {
        let source = crate::Policy::from_text("bad.policy", "allow\n").unwrap_err();
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
            key: "listen",
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
