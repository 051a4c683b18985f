//! The configuration file of `toolgate serve` (TOML), checked before anything starts.
//!
//! Unknown keys are errors that name the nearest valid key; every error names the file
//! and the dotted key at fault (`` toolgate.toml: `jwt.algorithms`: ... ``). Relative
//! paths are resolved against the configuration file's directory.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;

use super::keys;
use crate::credentials::{ApiKeysConfig, CredentialsConfig, JwtConfig};
use crate::diagnostic::did_you_mean;
use crate::gate::config::METADATA_PATH;
use crate::gate::{AuditMask, ClientIpHeader, GateConfig, ListAudit, TrafficLimits};

/// The default path of the liveness endpoint.
pub const DEFAULT_LIVE_PATH: &str = "/healthz";
/// The default path of the readiness endpoint.
pub const DEFAULT_READY_PATH: &str = "/readyz";
/// How long open connections get to finish after `SIGTERM` or Ctrl-C, by default.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// `toolgate serve`'s configuration, resolved.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeConfig {
    /// The configuration file's name, for errors.
    pub name: String,
    /// The policy file or directory.
    pub policy: PathBuf,
    /// A policy decided beside `policy` but never enforced (`shadow_policy`): its
    /// disagreements are logged and counted.
    pub shadow_policy: Option<PathBuf>,
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The protected MCP endpoint (`http`).
    pub upstream: http::Uri,
    /// The gate: resource, authorization servers, MCP path, limits, trusted proxies.
    pub gate: GateConfig,
    /// JWT and API key settings.
    pub credentials: CredentialsConfig,
    /// Where audit records go.
    pub audit: AuditTarget,
    /// Whether the policy files are watched (`SIGHUP` always reloads).
    pub watch: Option<Duration>,
    /// The health endpoints' paths; `None` when `[health] enabled = false`.
    pub health: Option<HealthPaths>,
    /// How long open connections (requests in flight, event streams) get to finish after
    /// a shutdown signal before they are closed.
    pub shutdown_grace: Duration,
    /// The Prometheus endpoint, on an address of its own; `None` (the default) when
    /// there is no `[metrics]` table or it has `enabled = false`.
    pub metrics: Option<MetricsEndpoint>,
    /// TLS on the listener (`[tls]`); `None`: plain HTTP.
    pub tls: Option<super::tls::ListenerTls>,
    /// How an `https` upstream is verified (`[upstream_tls]`; system roots by default).
    pub upstream_tls: super::tls::UpstreamTls,
    /// OpenTelemetry traces over OTLP/HTTP (`[traces]`); `None` (the default): none.
    pub traces: Option<crate::gate::OtlpConfig>,
}

/// Rolling audit files kept, by default (`audit.keep`).
pub const DEFAULT_AUDIT_KEEP: usize = 7;

/// The path of the metrics endpoint, by default.
pub const DEFAULT_METRICS_PATH: &str = "/metrics";

/// Where `toolgate serve` answers Prometheus scrapes: an address of its own, never the
/// gate's, without authentication (keep it on a private network).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsEndpoint {
    /// The address to listen on (`metrics.listen`).
    pub listen: SocketAddr,
    /// The path (`metrics.path`, default `/metrics`); any other path is `404`.
    pub path: String,
    /// What is counted (`metrics.names`: decisions per name too).
    pub config: crate::gate::MetricsConfig,
}

/// Where `toolgate serve` answers its health endpoints, outside the MCP path and never
/// behind authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthPaths {
    /// Liveness: `200` whenever the process serves (default `/healthz`).
    pub live: String,
    /// Readiness: `200` only when the upstream answers and the signing keys are held
    /// (default `/readyz`).
    pub ready: String,
}

impl Default for HealthPaths {
    fn default() -> HealthPaths {
        HealthPaths {
            live: DEFAULT_LIVE_PATH.to_string(),
            ready: DEFAULT_READY_PATH.to_string(),
        }
    }
}

/// Where `toolgate serve` sends audit records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditTarget {
    /// Nowhere.
    Off,
    /// JSON lines appended to a file, reopened on `SIGHUP` (for `logrotate`).
    File(PathBuf),
    /// JSON lines in a new file every hour or day (`audit.rotate`).
    Rolling {
        /// The file's name: the date goes before its extension.
        path: PathBuf,
        /// Hourly or daily.
        rotation: crate::gate::AuditRotation,
        /// How many files are kept (`audit.keep`; 0: all).
        keep: usize,
    },
    /// JSON lines on standard output (`audit.stdout = true`), after the `listening on`
    /// line.
    Stdout,
    /// `tracing` events (standard error).
    Tracing,
    /// OpenTelemetry log records over OTLP/HTTP (`audit.otlp_endpoint`).
    Otlp(crate::gate::OtlpConfig),
}

/// A configuration that cannot work: the file, the key at fault, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfigError {
    /// The configuration file.
    pub file: String,
    /// The dotted key at fault (`jwt.algorithms`); empty for the file as a whole.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ServeConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: `{}`: {}", self.file, self.key, self.message)
        }
    }
}

impl std::error::Error for ServeConfigError {}

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    policy: PathBuf,
    #[serde(default)]
    shadow_policy: Option<PathBuf>,
    listen: String,
    upstream: String,
    resource: String,
    #[serde(default)]
    authorization_servers: Vec<String>,
    #[serde(default)]
    mcp_path: Option<String>,
    #[serde(default)]
    jwt: Option<JwtConfig>,
    #[serde(default)]
    api_keys: Option<ApiKeysConfig>,
    #[serde(default)]
    audit: Option<AuditTable>,
    #[serde(default)]
    network: Option<NetworkTable>,
    #[serde(default)]
    limits: Option<LimitsTable>,
    #[serde(default)]
    reload: Option<ReloadTable>,
    #[serde(default)]
    sessions: Option<SessionsTable>,
    #[serde(default)]
    health: Option<HealthTable>,
    #[serde(default)]
    shutdown: Option<ShutdownTable>,
    #[serde(default)]
    metrics: Option<MetricsTable>,
    #[serde(default)]
    tls: Option<TlsTable>,
    #[serde(default)]
    upstream_tls: Option<UpstreamTlsTable>,
    #[serde(default)]
    traces: Option<TracesTable>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TracesTable {
    #[serde(default = "yes")]
    enabled: bool,
    endpoint: String,
    #[serde(default)]
    service_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsTable {
    cert_file: PathBuf,
    key_file: PathBuf,
    #[serde(default)]
    reload_seconds: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpstreamTlsTable {
    #[serde(default)]
    ca_file: Option<PathBuf>,
    #[serde(default)]
    cert_file: Option<PathBuf>,
    #[serde(default)]
    key_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricsTable {
    #[serde(default = "yes")]
    enabled: bool,
    listen: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    names: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HealthTable {
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    live_path: Option<String>,
    #[serde(default)]
    ready_path: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShutdownTable {
    #[serde(default)]
    grace_seconds: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionsTable {
    secret_file: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditTable {
    #[serde(default)]
    file: Option<PathBuf>,
    #[serde(default)]
    rotate: Option<String>,
    #[serde(default)]
    keep: Option<usize>,
    #[serde(default)]
    stdout: bool,
    #[serde(default)]
    tracing: bool,
    #[serde(default)]
    otlp_endpoint: Option<String>,
    #[serde(default)]
    lists: Option<String>,
    #[serde(default)]
    mask: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkTable {
    #[serde(default)]
    trusted_proxies: Vec<String>,
    #[serde(default)]
    client_ip_header: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsTable {
    max_body_bytes: Option<usize>,
    max_header_bytes: Option<usize>,
    max_response_bytes: Option<usize>,
    request_timeout_seconds: Option<u64>,
    max_batch: Option<usize>,
    header_read_timeout_seconds: Option<u64>,
    max_connections: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReloadTable {
    #[serde(default = "yes")]
    watch: bool,
    #[serde(default = "default_debounce")]
    debounce_milliseconds: u64,
}

fn yes() -> bool {
    true
}

fn default_debounce() -> u64 {
    200
}

impl ServeConfig {
    /// Reads and checks the configuration file at `path`; the first problem found.
    pub fn from_file(path: &Path) -> Result<ServeConfig, ServeConfigError> {
        let name = path.display().to_string();
        first(read_file(path).config, &name)
    }

    /// Checks configuration text; `name` is used in errors, relative paths are resolved
    /// against `base`. The first problem found.
    pub fn parse(text: &str, name: &str, base: &Path) -> Result<ServeConfig, ServeConfigError> {
        first(read_text(text, name, base).config, name)
    }
}

/// A configuration file read: the configuration or every problem with its keys, and,
/// when the file parsed, its policy and credential settings on their own, so that
/// `--check` checks them even when other keys are wrong.
pub(super) struct Reading {
    /// The configuration, or every problem found with its keys.
    pub(super) config: Result<ServeConfig, Vec<ServeConfigError>>,
    /// The policy and credential settings, when the file parsed.
    pub(super) draft: Option<Draft>,
}

/// The policy and credential settings of a file that parsed, paths resolved.
pub(super) struct Draft {
    /// The policy file or directory.
    pub(super) policy: PathBuf,
    /// The `[jwt]` and `[api_keys]` settings.
    pub(super) credentials: CredentialsConfig,
}

/// Reads the configuration file at `path`.
pub(super) fn read_file(path: &Path) -> Reading {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => read_text(&text, &name, path.parent().unwrap_or(Path::new(""))),
        Err(error) => Reading {
            config: Err(vec![ServeConfigError {
                file: name,
                key: String::new(),
                message: format!("cannot read the configuration: {error}"),
            }]),
            draft: None,
        },
    }
}

/// Reads configuration text; `name` is used in errors, relative paths are resolved
/// against `base`.
pub(super) fn read_text(text: &str, name: &str, base: &Path) -> Reading {
    let error = |(key, message): Failure| ServeConfigError {
        file: name.to_string(),
        key,
        message,
    };
    let file: File = match toml::from_str(text) {
        Ok(file) => file,
        Err(failure) => {
            let key = failure
                .span()
                .map(|span| keys::key_at(text, span.start))
                .unwrap_or_default();
            let message = failure.message().trim();
            let message = unknown_key(message, &key).unwrap_or_else(|| message.to_string());
            return Reading {
                config: Err(vec![error((key, message))]),
                draft: None,
            };
        }
    };
    let credentials = credentials(&file, base);
    let draft = Draft {
        policy: base.join(&file.policy),
        credentials: credentials.clone(),
    };
    let config = match resolve(file, credentials, base) {
        Ok(mut config) => {
            config.name = name.to_string();
            Ok(config)
        }
        Err(failures) => Err(failures.into_iter().map(error).collect()),
    };
    Reading {
        config,
        draft: Some(draft),
    }
}

/// The first problem of a reading.
fn first(
    config: Result<ServeConfig, Vec<ServeConfigError>>,
    name: &str,
) -> Result<ServeConfig, ServeConfigError> {
    config.map_err(|problems| {
        problems
            .into_iter()
            .next()
            .unwrap_or_else(|| ServeConfigError {
                file: name.to_string(),
                key: String::new(),
                message: "the configuration does not work".to_string(),
            })
    })
}

/// serde's "unknown field `x`, expected one of `a`, `b`" for the key at `path`, in this
/// file's words: "unknown key `x` in `[table]`; did you mean `a`?", or the valid keys
/// when none is near. `None` for any other message.
fn unknown_key(message: &str, path: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (name, rest) = rest.split_once('`')?;
    // ", expected one of `a`, `b`": the names are every other piece between backticks.
    let valid: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    let table = path
        .strip_suffix(name)
        .map_or(path, |table| table.trim_end_matches('.'));
    let place = if table.is_empty() {
        String::new()
    } else {
        format!(" in `[{table}]`")
    };
    let hint = match did_you_mean(name, valid.iter().copied()) {
        Some(suggestion) => format!("; {suggestion}"),
        None if valid.is_empty() => String::new(),
        None => {
            let names: Vec<String> = valid.iter().map(|key| format!("`{key}`")).collect();
            format!("; the keys here are {}", names.join(", "))
        }
    };
    Some(format!("unknown key `{name}`{place}{hint}"))
}

type Failure = (String, String);

fn failure(key: &str, message: impl Into<String>) -> Failure {
    (key.to_string(), message.into())
}

/// The value, or `None` with its failure noted.
fn kept<T>(problems: &mut Vec<Failure>, result: Result<T, Failure>) -> Option<T> {
    result.map_err(|problem| problems.push(problem)).ok()
}

/// The credential settings, paths resolved against `base`.
fn credentials(file: &File, base: &Path) -> CredentialsConfig {
    CredentialsConfig {
        resource: file.resource.clone(),
        jwt: file.jwt.clone().map(|jwt| jwt_paths(jwt, base)),
        api_keys: file.api_keys.clone().map(|mut api_keys| {
            api_keys.file = base.join(&api_keys.file);
            api_keys
        }),
    }
}

/// Every key checked; each problem noted, so that one run reports them all.
fn resolve(
    file: File,
    credentials: CredentialsConfig,
    base: &Path,
) -> Result<ServeConfig, Vec<Failure>> {
    let mut problems = Vec::new();
    let listen = kept(
        &mut problems,
        file.listen.parse::<SocketAddr>().map_err(|_| {
            failure(
                "listen",
                format!("`{}` is not an address and port", file.listen),
            )
        }),
    );
    let upstream = kept(&mut problems, upstream(&file.upstream));
    let gate = kept(
        &mut problems,
        GateConfig::new(&file.resource).map_err(|problem| failure("resource", problem.to_string())),
    );
    let mcp_path = kept(&mut problems, mcp_path(file.mcp_path));
    let network = kept(&mut problems, network(file.network.as_ref()));
    let secret = kept(&mut problems, session_secret(file.sessions.as_ref(), base));
    let limits = limits(file.limits.as_ref(), &mut problems);
    let audit = kept(&mut problems, audit(file.audit, base));
    if credentials.jwt.is_none() && credentials.api_keys.is_none() {
        problems.push(failure(
            "jwt",
            "no credentials configured: add a `[jwt]` or an `[api_keys]` table (the gate never starts open)",
        ));
    }
    let gate = match (gate, mcp_path, network, secret, &audit) {
        (
            Some(gate),
            Some(mcp_path),
            Some((proxies, header)),
            Some(secret),
            Some((_, (lists, mask))),
        ) => {
            let mut gate = gate
                .with_authorization_servers(file.authorization_servers)
                .with_trusted_proxies(proxies)
                .with_limits(limits)
                .with_list_audit(*lists)
                .with_audit_mask(*mask);
            if let Some(path) = mcp_path {
                gate = gate.with_mcp_path(path);
            }
            if let Some(header) = header {
                gate = gate.with_client_ip_header(header);
            }
            match secret {
                Some(secret) => kept(
                    &mut problems,
                    gate.with_session_secret(secret)
                        .map_err(|problem| failure("sessions.secret_file", problem.to_string())),
                ),
                None => Some(gate),
            }
        }
        _ => None,
    };
    let health = health(file.health, gate.as_ref(), &mut problems);
    let metrics = kept(&mut problems, metrics(file.metrics, listen));
    let traces = kept(&mut problems, traces(file.traces));
    let tls = file.tls.map(|table| super::tls::ListenerTls {
        cert_file: base.join(table.cert_file),
        key_file: base.join(table.key_file),
        reload: table
            .reload_seconds
            .map_or(super::tls::DEFAULT_TLS_RELOAD, Duration::from_secs),
    });
    let upstream_tls = kept(
        &mut problems,
        upstream_tls(
            file.upstream_tls,
            upstream.as_ref().and_then(http::Uri::scheme_str) == Some("https"),
            base,
        ),
    );
    let shutdown_grace = file
        .shutdown
        .and_then(|shutdown| shutdown.grace_seconds)
        .map_or(DEFAULT_SHUTDOWN_GRACE, Duration::from_secs);
    let watch = match file.reload {
        Some(reload) if !reload.watch => None,
        Some(reload) => Some(Duration::from_millis(reload.debounce_milliseconds)),
        None => Some(Duration::from_millis(default_debounce())),
    };
    match (
        listen,
        upstream,
        gate,
        audit,
        health,
        metrics,
        upstream_tls,
        traces,
    ) {
        (
            Some(listen),
            Some(upstream),
            Some(gate),
            Some((audit, _)),
            Some(health),
            Some(metrics),
            Some(upstream_tls),
            Some(traces),
        ) if problems.is_empty() => Ok(ServeConfig {
            name: String::new(),
            policy: base.join(file.policy),
            shadow_policy: file.shadow_policy.map(|shadow| base.join(shadow)),
            listen,
            upstream,
            gate,
            credentials,
            audit,
            watch,
            health,
            shutdown_grace,
            metrics,
            tls,
            upstream_tls,
            traces,
        }),
        _ => Err(problems),
    }
}

/// The traces exporter's settings, if traces are configured.
fn traces(table: Option<TracesTable>) -> Result<Option<crate::gate::OtlpConfig>, Failure> {
    let Some(table) = table.filter(|table| table.enabled) else {
        return Ok(None);
    };
    let mut config = otlp_config("traces.endpoint", table.endpoint, "/v1/traces")?;
    if let Some(name) = table.service_name {
        config.service_name = name;
    }
    Ok(Some(config))
}

/// The export settings of an OTLP/HTTP endpoint given at `key` (`suffix` is the
/// signal's path, for the message).
fn otlp_config(
    key: &'static str,
    endpoint: String,
    suffix: &str,
) -> Result<crate::gate::OtlpConfig, Failure> {
    let scheme = endpoint.split_once("://").map(|(scheme, _)| scheme);
    let parsed: Result<http::Uri, _> = endpoint.parse();
    if !matches!(scheme, Some("http" | "https")) || parsed.is_err() {
        return Err(failure(
            key,
            format!(
                "`{endpoint}` is not an http or https URL (an OTLP/HTTP endpoint, e.g. \
                 `http://127.0.0.1:4318{suffix}`)"
            ),
        ));
    }
    Ok(crate::gate::OtlpConfig::new(endpoint))
}

/// The metrics endpoint, if one is configured.
fn metrics(
    table: Option<MetricsTable>,
    gate: Option<SocketAddr>,
) -> Result<Option<MetricsEndpoint>, Failure> {
    let Some(table) = table.filter(|table| table.enabled) else {
        return Ok(None);
    };
    let listen: SocketAddr = table.listen.parse().map_err(|_| {
        failure(
            "metrics.listen",
            format!("`{}` is not an address and port", table.listen),
        )
    })?;
    if gate == Some(listen) && listen.port() != 0 {
        return Err(failure(
            "metrics.listen",
            format!(
                "`{listen}` is the gate's `listen`; metrics are served on an address of their own"
            ),
        ));
    }
    let path = table
        .path
        .unwrap_or_else(|| DEFAULT_METRICS_PATH.to_string());
    if !path.starts_with('/') || path.contains(['?', '#', '{', '}', ' ']) {
        return Err(failure(
            "metrics.path",
            format!("`{path}` must start with `/` and hold no `?`, `#`, braces or spaces"),
        ));
    }
    Ok(Some(MetricsEndpoint {
        listen,
        path,
        config: crate::gate::MetricsConfig { names: table.names },
    }))
}

/// How an `https` upstream is verified; the table only with one.
fn upstream_tls(
    table: Option<UpstreamTlsTable>,
    https: bool,
    base: &Path,
) -> Result<super::tls::UpstreamTls, Failure> {
    let Some(table) = table else {
        return Ok(super::tls::UpstreamTls::default());
    };
    if !https {
        return Err(failure("upstream_tls", "only for an `https://` upstream"));
    }
    if table.cert_file.is_some() != table.key_file.is_some() {
        let key = if table.cert_file.is_some() {
            "upstream_tls.key_file"
        } else {
            "upstream_tls.cert_file"
        };
        return Err(failure(
            key,
            "a client certificate needs both `cert_file` and `key_file`",
        ));
    }
    Ok(super::tls::UpstreamTls {
        ca_file: table.ca_file.map(|path| base.join(path)),
        cert_file: table.cert_file.map(|path| base.join(path)),
        key_file: table.key_file.map(|path| base.join(path)),
    })
}

fn upstream(text: &str) -> Result<http::Uri, Failure> {
    let uri: http::Uri = text
        .parse()
        .map_err(|_| failure("upstream", format!("`{text}` is not a URI")))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.authority().is_some() => Ok(uri),
        _ => Err(failure(
            "upstream",
            format!("`{text}` must be an `http://` or `https://` URI with a host"),
        )),
    }
}

fn mcp_path(path: Option<String>) -> Result<Option<String>, Failure> {
    match path {
        Some(path) if !path.starts_with('/') => {
            Err(failure("mcp_path", format!("`{path}` must start with `/`")))
        }
        path => Ok(path),
    }
}

/// The trusted proxies and the header they write.
fn network(table: Option<&NetworkTable>) -> Result<(Vec<IpNet>, Option<ClientIpHeader>), Failure> {
    let Some(network) = table else {
        return Ok((Vec::new(), None));
    };
    let proxies = proxies(&network.trusted_proxies)?;
    let header = match &network.client_ip_header {
        Some(name) => Some(ClientIpHeader::from_name(name).ok_or_else(|| {
            failure(
                "network.client_ip_header",
                format!("`{name}` is not one of `x-forwarded-for`, `forwarded`, `x-real-ip`"),
            )
        })?),
        None => None,
    };
    Ok((proxies, header))
}

fn proxies(entries: &[String]) -> Result<Vec<IpNet>, Failure> {
    entries
        .iter()
        .map(|entry| {
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    failure(
                        "network.trusted_proxies",
                        format!("`{entry}` is not an address or a network in CIDR notation"),
                    )
                })
        })
        .collect()
}

/// The session secret file's bytes, if one is configured.
fn session_secret(table: Option<&SessionsTable>, base: &Path) -> Result<Option<Vec<u8>>, Failure> {
    let Some(sessions) = table else {
        return Ok(None);
    };
    let path = base.join(&sessions.secret_file);
    let secret = std::fs::read(&path).map_err(|error| {
        failure(
            "sessions.secret_file",
            format!("cannot read `{}`: {error}", path.display()),
        )
    })?;
    Ok(Some(trim_line_end(secret)))
}

/// The limits; a wrong value is noted and its default kept.
fn limits(table: Option<&LimitsTable>, problems: &mut Vec<Failure>) -> TrafficLimits {
    let mut limits = TrafficLimits::default();
    let Some(table) = table else {
        return limits;
    };
    let mut positive = |key: &str, value: Option<usize>, default: usize| match value {
        Some(0) => {
            problems.push(failure(key, "must be at least 1"));
            default
        }
        Some(value) => value,
        None => default,
    };
    limits.max_body_bytes = positive(
        "limits.max_body_bytes",
        table.max_body_bytes,
        limits.max_body_bytes,
    );
    limits.max_header_bytes = positive(
        "limits.max_header_bytes",
        table.max_header_bytes,
        limits.max_header_bytes,
    );
    limits.max_response_bytes = positive(
        "limits.max_response_bytes",
        table.max_response_bytes,
        limits.max_response_bytes,
    );
    limits.max_batch = positive("limits.max_batch", table.max_batch, limits.max_batch);
    limits.max_connections = positive(
        "limits.max_connections",
        table.max_connections,
        limits.max_connections,
    );
    let mut seconds = |key: &str, value: Option<u64>, default: Duration| match value {
        Some(0) => {
            problems.push(failure(key, "must be at least 1"));
            default
        }
        Some(seconds) => Duration::from_secs(seconds),
        None => default,
    };
    limits.request_timeout = seconds(
        "limits.request_timeout_seconds",
        table.request_timeout_seconds,
        limits.request_timeout,
    );
    limits.header_read_timeout = seconds(
        "limits.header_read_timeout_seconds",
        table.header_read_timeout_seconds,
        limits.header_read_timeout,
    );
    limits
}

/// The health paths (`None` inside when turned off); `None` when one is wrong. Paths are
/// checked against the MCP path and the metadata document's when the gate's settings
/// are good.
fn health(
    table: Option<HealthTable>,
    gate: Option<&GateConfig>,
    problems: &mut Vec<Failure>,
) -> Option<Option<HealthPaths>> {
    let table = table.unwrap_or(HealthTable {
        enabled: true,
        live_path: None,
        ready_path: None,
    });
    if !table.enabled {
        return Some(None);
    }
    let paths = HealthPaths {
        live: table
            .live_path
            .unwrap_or_else(|| DEFAULT_LIVE_PATH.to_string()),
        ready: table
            .ready_path
            .unwrap_or_else(|| DEFAULT_READY_PATH.to_string()),
    };
    let before = problems.len();
    for (key, path) in [
        ("health.live_path", &paths.live),
        ("health.ready_path", &paths.ready),
    ] {
        if let Err(message) = health_path(path, gate) {
            problems.push(failure(key, message));
        }
    }
    if paths.live == paths.ready {
        problems.push(failure(
            "health.ready_path",
            format!(
                "`{}` is `health.live_path` too; give the two endpoints different paths",
                paths.ready
            ),
        ));
    }
    (problems.len() == before).then_some(Some(paths))
}

/// Why `path` cannot be a health endpoint's path, if it cannot.
fn health_path(path: &str, gate: Option<&GateConfig>) -> Result<(), String> {
    let plain = path
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte));
    if !path.starts_with('/') || !plain {
        return Err(format!(
            "`{path}` must start with `/` and hold only letters, digits, `-`, `.`, `_`, `~` and `/`"
        ));
    }
    if within(path, METADATA_PATH) {
        return Err(format!(
            "`{path}` is where the Protected Resource Metadata document is served"
        ));
    }
    if let Some(gate) = gate {
        let mcp = gate.mcp_path.as_str();
        if path == mcp || (mcp != "/" && within(path, mcp)) {
            return Err(format!(
                "`{path}` is inside the MCP path `{mcp}`; health endpoints must be outside it"
            ));
        }
        if gate
            .metadata_paths()
            .iter()
            .any(|metadata| metadata == path)
        {
            return Err(format!(
                "`{path}` is where the Protected Resource Metadata document is served"
            ));
        }
    }
    Ok(())
}

/// Whether `path` is `base` or below it (`/mcp/x` is below `/mcp`; `/mcpx` is not).
fn within(path: &str, base: &str) -> bool {
    path.strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A secret file's bytes without the line ending an editor adds.
fn trim_line_end(mut secret: Vec<u8>) -> Vec<u8> {
    while secret
        .last()
        .is_some_and(|byte| *byte == b'\n' || *byte == b'\r')
    {
        secret.pop();
    }
    secret
}

/// What is audited and how: the target, and which lists and fields.
type Audited = (AuditTarget, (ListAudit, AuditMask));

fn audit(table: Option<AuditTable>, base: &Path) -> Result<Audited, Failure> {
    let Some(table) = table else {
        return Ok((AuditTarget::Off, Default::default()));
    };
    let mask = AuditMask::of(table.mask.iter().map(String::as_str)).map_err(|unknown| {
        failure(
            "audit.mask",
            format!(
                "`{unknown}` is not a field that can be masked; the fields are {}",
                AuditMask::FIELDS
                    .iter()
                    .map(|field| format!("`{field}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    let lists = match table.lists.as_deref() {
        None | Some("hidden") => ListAudit::Hidden,
        Some("off") => ListAudit::Off,
        Some("all") => ListAudit::All,
        Some(other) => {
            return Err(failure(
                "audit.lists",
                format!("`{other}` is not one of `off`, `hidden`, `all`"),
            ))
        }
    };
    let chosen = [
        table.file.is_some(),
        table.stdout,
        table.tracing,
        table.otlp_endpoint.is_some(),
    ];
    if chosen.iter().filter(|chosen| **chosen).count() > 1 {
        return Err(failure(
            if table.otlp_endpoint.is_some() {
                "audit.otlp_endpoint"
            } else if table.tracing {
                "audit.tracing"
            } else {
                "audit.stdout"
            },
            "choose one of `file`, `stdout`, `tracing` and `otlp_endpoint`",
        ));
    }
    let rotation = match table.rotate.as_deref() {
        None | Some("never") => None,
        Some("hourly") => Some(crate::gate::AuditRotation::Hourly),
        Some("daily") => Some(crate::gate::AuditRotation::Daily),
        Some(other) => {
            return Err(failure(
                "audit.rotate",
                format!("`{other}` is not one of `never`, `hourly`, `daily`"),
            ))
        }
    };
    if table.file.is_none() && (table.rotate.is_some() || table.keep.is_some()) {
        let key = if table.rotate.is_some() {
            "audit.rotate"
        } else {
            "audit.keep"
        };
        return Err(failure(key, "only with `file`"));
    }
    if rotation.is_none() && table.keep.is_some() {
        return Err(failure(
            "audit.keep",
            "only with `rotate = \"hourly\"` or `\"daily\"`",
        ));
    }
    let target = match (table.file, rotation) {
        (Some(file), None) => AuditTarget::File(base.join(file)),
        (Some(file), Some(rotation)) => AuditTarget::Rolling {
            path: base.join(file),
            rotation,
            keep: table.keep.unwrap_or(DEFAULT_AUDIT_KEEP),
        },
        (None, _) if table.stdout => AuditTarget::Stdout,
        (None, _) if table.tracing => AuditTarget::Tracing,
        (None, _) if table.otlp_endpoint.is_some() => AuditTarget::Otlp(otlp_config(
            "audit.otlp_endpoint",
            table.otlp_endpoint.unwrap_or_default(),
            "/v1/logs",
        )?),
        (None, _) => AuditTarget::Off,
    };
    Ok((target, (lists, mask)))
}

fn jwt_paths(mut jwt: JwtConfig, base: &Path) -> JwtConfig {
    for path in [
        &mut jwt.jwks_file,
        &mut jwt.jwk_file,
        &mut jwt.pem_file,
        &mut jwt.hs256_secret_file,
        &mut jwt.revoked_jti_file,
    ]
    .into_iter()
    .flatten()
    {
        *path = base.join(&*path);
    }
    jwt
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "policy = \"p.policy\"\nlisten = \"127.0.0.1:0\"\nupstream = \"http://127.0.0.1:9/mcp\"\nresource = \"http://127.0.0.1:8080/mcp\"\n[api_keys]\nfile = \"keys.toml\"\n";

    fn problem(text: &str) -> ServeConfigError {
        ServeConfig::parse(text, "t.toml", Path::new("/base")).unwrap_err()
    }

    #[test]
    fn audit_targets_rotation_and_their_mistakes() {
        let config = |audit: &str| {
            ServeConfig::parse(
                &format!("{BASE}[audit]\n{audit}\n"),
                "t.toml",
                Path::new("/base"),
            )
        };
        assert_eq!(
            config("file = \"a.jsonl\"").unwrap().audit,
            AuditTarget::File(PathBuf::from("/base/a.jsonl"))
        );
        assert_eq!(
            config("file = \"a.jsonl\"\nrotate = \"daily\"")
                .unwrap()
                .audit,
            AuditTarget::Rolling {
                path: PathBuf::from("/base/a.jsonl"),
                rotation: crate::gate::AuditRotation::Daily,
                keep: DEFAULT_AUDIT_KEEP,
            }
        );
        assert_eq!(
            config("file = \"a.jsonl\"\nrotate = \"hourly\"\nkeep = 0")
                .unwrap()
                .audit,
            AuditTarget::Rolling {
                path: PathBuf::from("/base/a.jsonl"),
                rotation: crate::gate::AuditRotation::Hourly,
                keep: 0,
            }
        );
        assert_eq!(config("stdout = true").unwrap().audit, AuditTarget::Stdout);
        let masked = config("stdout = true\nmask = [\"subject\", \"roles\"]").unwrap();
        assert_eq!(
            masked.gate.audit_mask,
            AuditMask {
                subject: true,
                roles: true,
                ..AuditMask::default()
            }
        );
        assert_eq!(
            config("stdout = true").unwrap().gate.audit_mask,
            AuditMask::default()
        );
        assert_eq!(
            config("otlp_endpoint = \"https://collector:4318/v1/logs\"")
                .unwrap()
                .audit,
            AuditTarget::Otlp(crate::gate::OtlpConfig::new(
                "https://collector:4318/v1/logs"
            ))
        );
        for (audit, key, message) in [
            (
                "file = \"a\"\nrotate = \"weekly\"",
                "audit.rotate",
                "`weekly` is not one of `never`, `hourly`, `daily`",
            ),
            (
                "file = \"a\"\nkeep = 3",
                "audit.keep",
                "only with `rotate = \"hourly\"` or `\"daily\"`",
            ),
            ("rotate = \"daily\"", "audit.rotate", "only with `file`"),
            (
                "file = \"a\"\nstdout = true",
                "audit.stdout",
                "choose one of `file`, `stdout`, `tracing` and `otlp_endpoint`",
            ),
            (
                "stdout = true\ntracing = true",
                "audit.tracing",
                "choose one of `file`, `stdout`, `tracing` and `otlp_endpoint`",
            ),
            (
                "tracing = true\notlp_endpoint = \"http://127.0.0.1:4318/v1/logs\"",
                "audit.otlp_endpoint",
                "choose one of `file`, `stdout`, `tracing` and `otlp_endpoint`",
            ),
            (
                "stdout = true\nmask = [\"subject\", \"email\"]",
                "audit.mask",
                "`email` is not a field that can be masked; the fields are `subject`, `client`, \
                 `client_ip`, `roles`",
            ),
            (
                "otlp_endpoint = \"127.0.0.1:4318\"",
                "audit.otlp_endpoint",
                "`127.0.0.1:4318` is not an http or https URL (an OTLP/HTTP endpoint, e.g. \
                 `http://127.0.0.1:4318/v1/logs`)",
            ),
        ] {
            let error = config(audit).unwrap_err();
            assert_eq!(
                (error.key.as_str(), error.message.as_str()),
                (key, message),
                "{audit}"
            );
        }
    }

    #[test]
    fn unknown_keys_name_the_nearest_valid_key() {
        let error = problem(&BASE.replace("policy =", "polcy ="));
        assert_eq!(error.key, "polcy");
        assert_eq!(error.message, "unknown key `polcy`; did you mean `policy`?");
        let error = problem(&format!("{BASE}[jwt]\nissuer = \"x\"\nalgorithmz = []\n"));
        assert_eq!(error.key, "jwt.algorithmz");
        assert_eq!(
            error.message,
            "unknown key `algorithmz` in `[jwt]`; did you mean `algorithms`?"
        );
        let error = problem(&format!("{BASE}[health]\nlive_pth = \"/l\"\n"));
        assert_eq!(
            error.message,
            "unknown key `live_pth` in `[health]`; did you mean `live_path`?"
        );
    }

    #[test]
    fn unknown_keys_far_from_any_list_the_valid_ones() {
        let error = problem(&format!("{BASE}[shutdown]\ncolour = 1\n"));
        assert_eq!(
            error.message,
            "unknown key `colour` in `[shutdown]`; the keys here are `grace_seconds`"
        );
    }

    #[test]
    fn other_messages_are_left_alone() {
        assert_eq!(unknown_key("invalid type: string", "listen"), None);
        assert_eq!(
            unknown_key("unknown field `x`, there are no fields", "t.x").as_deref(),
            Some("unknown key `x` in `[t]`")
        );
    }

    #[test]
    fn health_defaults_and_switch() {
        let config = ServeConfig::parse(BASE, "t.toml", Path::new("/base")).unwrap();
        assert_eq!(config.health, Some(HealthPaths::default()));
        assert_eq!(config.shutdown_grace, DEFAULT_SHUTDOWN_GRACE);
        let text = format!("{BASE}[health]\nenabled = false\n[shutdown]\ngrace_seconds = 3\n");
        let config = ServeConfig::parse(&text, "t.toml", Path::new("/base")).unwrap();
        assert_eq!(config.health, None);
        assert_eq!(config.shutdown_grace, Duration::from_secs(3));
    }

    #[test]
    fn health_paths_stay_outside_the_mcp_path_and_the_metadata() {
        for (path, expected) in [
            ("/mcp", "inside the MCP path `/mcp`"),
            ("/mcp/health", "inside the MCP path `/mcp`"),
            ("/.well-known/oauth-protected-resource/mcp", "Metadata"),
            ("/.well-known/oauth-protected-resource", "Metadata"),
            ("healthz", "must start with `/`"),
            ("/health{id}", "must start with `/`"),
        ] {
            let error = problem(&format!("{BASE}[health]\nlive_path = \"{path}\"\n"));
            assert_eq!(error.key, "health.live_path", "{path}");
            assert!(
                error.message.contains(expected),
                "{path}: {}",
                error.message
            );
        }
        let error = problem(&format!(
            "{BASE}[health]\nlive_path = \"/h\"\nready_path = \"/h\"\n"
        ));
        assert_eq!(error.key, "health.ready_path");
        let fine = format!("{BASE}[health]\nlive_path = \"/mcpx\"\nready_path = \"/ops/ready\"\n");
        assert!(ServeConfig::parse(&fine, "t.toml", Path::new("/base")).is_ok());
    }

    #[test]
    fn every_problem_is_reported() {
        let text = BASE
            .replace("127.0.0.1:0", "nowhere")
            .replace("http://127.0.0.1:9/mcp", "ftp://x/mcp")
            + "[limits]\nmax_batch = 0\n";
        let reading = read_text(&text, "t.toml", Path::new("/base"));
        let keys: Vec<String> = match reading.config {
            Ok(_) => Vec::new(),
            Err(problems) => problems.into_iter().map(|problem| problem.key).collect(),
        };
        assert_eq!(keys, ["listen", "upstream", "limits.max_batch"]);
        let draft = reading.draft.unwrap();
        assert_eq!(draft.policy, Path::new("/base/p.policy"));
        assert_eq!(
            draft.credentials.api_keys.unwrap().file,
            Path::new("/base/keys.toml")
        );
    }
}
