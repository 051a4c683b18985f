//! The configuration file of `toolgate serve` (TOML), checked before anything starts.
//!
//! Unknown keys are errors; every error names the file and the dotted key at fault
//! (`` toolgate.toml: `jwt.algorithms`: ... ``). Relative paths are resolved against
//! the configuration file's directory.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;

use super::keys;
use crate::credentials::{ApiKeysConfig, CredentialsConfig, JwtConfig};
use crate::gate::{ClientIpHeader, GateConfig, Limits, ListAudit};

/// `toolgate serve`'s configuration, resolved.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeConfig {
    /// The configuration file's name, for errors.
    pub name: String,
    /// The policy file or directory.
    pub policy: PathBuf,
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
}

/// Where `toolgate serve` sends audit records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditTarget {
    /// Nowhere.
    Off,
    /// JSON lines appended to a file.
    File(PathBuf),
    /// `tracing` events (standard error).
    Tracing,
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
    tracing: bool,
    #[serde(default)]
    lists: Option<String>,
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
    /// Reads and checks the configuration file at `path`.
    pub fn from_file(path: &Path) -> Result<ServeConfig, ServeConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| ServeConfigError {
            file: name.clone(),
            key: String::new(),
            message: format!("cannot read the configuration: {error}"),
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        ServeConfig::parse(&text, &name, base)
    }

    /// Checks configuration text; `name` is used in errors, relative paths are resolved
    /// against `base`.
    pub fn parse(text: &str, name: &str, base: &Path) -> Result<ServeConfig, ServeConfigError> {
        let error = |key: &str, message: String| ServeConfigError {
            file: name.to_string(),
            key: key.to_string(),
            message,
        };
        let file: File = toml::from_str(text).map_err(|failure| {
            let key = failure
                .span()
                .map(|span| keys::key_at(text, span.start))
                .unwrap_or_default();
            error(&key, failure.message().trim().to_string())
        })?;
        let mut config = resolve(file, base).map_err(|(key, message)| error(&key, message))?;
        config.name = name.to_string();
        Ok(config)
    }
}

type Failure = (String, String);

fn failure(key: &str, message: impl Into<String>) -> Failure {
    (key.to_string(), message.into())
}

fn resolve(file: File, base: &Path) -> Result<ServeConfig, Failure> {
    let listen = file.listen.parse::<SocketAddr>().map_err(|_| {
        failure(
            "listen",
            format!("`{}` is not an address and port", file.listen),
        )
    })?;
    let upstream = upstream(&file.upstream)?;
    let mut gate = GateConfig::new(&file.resource)
        .map_err(|problem| failure("resource", problem.to_string()))?
        .with_authorization_servers(file.authorization_servers);
    if let Some(path) = file.mcp_path {
        if !path.starts_with('/') {
            return Err(failure("mcp_path", format!("`{path}` must start with `/`")));
        }
        gate = gate.with_mcp_path(path);
    }
    if let Some(network) = &file.network {
        gate = gate.with_trusted_proxies(proxies(&network.trusted_proxies)?);
        if let Some(name) = &network.client_ip_header {
            let header = ClientIpHeader::from_name(name).ok_or_else(|| {
                failure(
                    "network.client_ip_header",
                    format!("`{name}` is not one of `x-forwarded-for`, `forwarded`, `x-real-ip`"),
                )
            })?;
            gate = gate.with_client_ip_header(header);
        }
    }
    if let Some(sessions) = &file.sessions {
        let path = base.join(&sessions.secret_file);
        let secret = std::fs::read(&path).map_err(|error| {
            failure(
                "sessions.secret_file",
                format!("cannot read `{}`: {error}", path.display()),
            )
        })?;
        let secret = trim_line_end(secret);
        gate = gate
            .with_session_secret(secret)
            .map_err(|problem| failure("sessions.secret_file", problem.to_string()))?;
    }
    gate = gate.with_limits(limits(file.limits.as_ref())?);
    let (audit, lists) = audit(file.audit, base)?;
    gate = gate.with_list_audit(lists);
    if file.jwt.is_none() && file.api_keys.is_none() {
        return Err(failure(
            "jwt",
            "no credentials configured: add a `[jwt]` or an `[api_keys]` table (the gate never starts open)",
        ));
    }
    let credentials = CredentialsConfig {
        resource: file.resource,
        jwt: file.jwt.map(|jwt| jwt_paths(jwt, base)),
        api_keys: file.api_keys.map(|mut api_keys| {
            api_keys.file = base.join(&api_keys.file);
            api_keys
        }),
    };
    let watch = match file.reload {
        Some(reload) if !reload.watch => None,
        Some(reload) => Some(Duration::from_millis(reload.debounce_milliseconds)),
        None => Some(Duration::from_millis(default_debounce())),
    };
    Ok(ServeConfig {
        name: String::new(),
        policy: base.join(file.policy),
        listen,
        upstream,
        gate,
        credentials,
        audit,
        watch,
    })
}

fn upstream(text: &str) -> Result<http::Uri, Failure> {
    let uri: http::Uri = text
        .parse()
        .map_err(|_| failure("upstream", format!("`{text}` is not a URI")))?;
    match uri.scheme_str() {
        Some("http") if uri.authority().is_some() => Ok(uri),
        Some("https") => Err(failure(
            "upstream",
            "`https` upstreams are not supported: run the gate next to the server and reach it over `http` on loopback or a private network",
        )),
        _ => Err(failure(
            "upstream",
            format!("`{text}` must be an `http://` URI with a host"),
        )),
    }
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

fn limits(table: Option<&LimitsTable>) -> Result<Limits, Failure> {
    let mut limits = Limits::default();
    let Some(table) = table else {
        return Ok(limits);
    };
    let positive = |key: &str, value: Option<usize>, default: usize| match value {
        Some(0) => Err(failure(key, "must be at least 1")),
        Some(value) => Ok(value),
        None => Ok(default),
    };
    limits.max_body_bytes = positive(
        "limits.max_body_bytes",
        table.max_body_bytes,
        limits.max_body_bytes,
    )?;
    limits.max_header_bytes = positive(
        "limits.max_header_bytes",
        table.max_header_bytes,
        limits.max_header_bytes,
    )?;
    limits.max_response_bytes = positive(
        "limits.max_response_bytes",
        table.max_response_bytes,
        limits.max_response_bytes,
    )?;
    limits.max_batch = positive("limits.max_batch", table.max_batch, limits.max_batch)?;
    limits.max_connections = positive(
        "limits.max_connections",
        table.max_connections,
        limits.max_connections,
    )?;
    let seconds = |key: &str, value: Option<u64>, default: Duration| match value {
        Some(0) => Err(failure(key, "must be at least 1")),
        Some(seconds) => Ok(Duration::from_secs(seconds)),
        None => Ok(default),
    };
    limits.request_timeout = seconds(
        "limits.request_timeout_seconds",
        table.request_timeout_seconds,
        limits.request_timeout,
    )?;
    limits.header_read_timeout = seconds(
        "limits.header_read_timeout_seconds",
        table.header_read_timeout_seconds,
        limits.header_read_timeout,
    )?;
    Ok(limits)
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

fn audit(table: Option<AuditTable>, base: &Path) -> Result<(AuditTarget, ListAudit), Failure> {
    let Some(table) = table else {
        return Ok((AuditTarget::Off, ListAudit::default()));
    };
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
    let target = match (table.file, table.tracing) {
        (Some(_), true) => {
            return Err(failure(
                "audit.tracing",
                "choose one of `file` and `tracing`",
            ))
        }
        (Some(file), false) => AuditTarget::File(base.join(file)),
        (None, true) => AuditTarget::Tracing,
        (None, false) => AuditTarget::Off,
    };
    Ok((target, lists))
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
