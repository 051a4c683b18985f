//! What the gate needs to know besides the policy: the protected resource, where its MCP
//! endpoint is, the limits on what it reads, and whom to believe about client addresses.

use std::fmt;
use std::time::Duration;

use ipnet::IpNet;

/// The well-known path of the Protected Resource Metadata document (RFC 9728).
pub(crate) const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// Bounds on what the gate reads from a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrafficLimits {
    /// The largest JSON-RPC request body read (`413` beyond it). Default 1 MiB.
    pub max_body_bytes: usize,
    /// The largest total size of the request's header names and values (`431` beyond
    /// it). Default 32 KiB.
    pub max_header_bytes: usize,
    /// The largest `tools/list`, `resources/list` or `prompts/list` response (or one
    /// server-sent event of one) held in memory to filter it (`502` beyond it).
    /// Default 16 MiB.
    pub max_response_bytes: usize,
    /// How long a client may take to send its body (`408`) and the protected service to
    /// start its response (`504`). Streams already started are not cut. Default 30 s.
    pub request_timeout: Duration,
    /// The most messages in one JSON-RPC batch (`400` beyond it). Default 100.
    pub max_batch: usize,
    /// `toolgate serve`: how long a client may take to send a request's head (the
    /// connection is closed after it). Default 10 s.
    pub header_read_timeout: Duration,
    /// `toolgate serve`: the most connections open at once; further clients wait to be
    /// accepted. Default 1024.
    pub max_connections: usize,
}

impl Default for TrafficLimits {
    fn default() -> TrafficLimits {
        TrafficLimits {
            max_body_bytes: 1024 * 1024,
            max_header_bytes: 32 * 1024,
            max_response_bytes: 16 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            max_batch: 100,
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
        }
    }
}

/// The one header trusted proxies write the client's address in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientIpHeader {
    /// `X-Forwarded-For` (the default; what nginx and most load balancers write).
    #[default]
    XForwardedFor,
    /// `Forwarded` (RFC 7239), its `for=` parameters.
    Forwarded,
    /// `X-Real-IP`: one address.
    XRealIp,
}

impl ClientIpHeader {
    /// The header's name, lowercase.
    pub fn name(self) -> &'static str {
        match self {
            ClientIpHeader::XForwardedFor => "x-forwarded-for",
            ClientIpHeader::Forwarded => "forwarded",
            ClientIpHeader::XRealIp => "x-real-ip",
        }
    }

    /// The header named `name` (any case), if it is one of the three.
    pub fn from_name(name: &str) -> Option<ClientIpHeader> {
        [
            ClientIpHeader::XForwardedFor,
            ClientIpHeader::Forwarded,
            ClientIpHeader::XRealIp,
        ]
        .into_iter()
        .find(|header| header.name().eq_ignore_ascii_case(name))
    }
}

/// The secret session ids are sealed with (see [`GateConfig::with_session_secret`]);
/// its `Debug` shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionSecret(Vec<u8>);

impl SessionSecret {
    /// The bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SessionSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionSecret({} bytes)", self.0.len())
    }
}

/// Which `list` decisions (one per entry of a list response) go to the audit log.
/// Decisions on `tools/call`, `resources/read` and `prompts/get` always do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListAudit {
    /// None.
    Off,
    /// The entries hidden from the caller (the default).
    #[default]
    Hidden,
    /// Every entry, shown or hidden.
    All,
}

/// The gate's configuration, apart from the policy and the credentials.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GateConfig {
    resource: Resource,
    /// The authorization servers named in the Protected Resource Metadata document.
    pub authorization_servers: Vec<String>,
    /// The path whose `POST` bodies are MCP JSON-RPC messages; by default the resource
    /// URI's path. Behind an axum `nest_service`, the path before nesting is used.
    pub mcp_path: String,
    /// Limits on what is read.
    pub limits: TrafficLimits,
    /// Proxies whose client-address header is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// The one header the trusted proxies write the client's address in; no other is
    /// read.
    pub client_ip_header: ClientIpHeader,
    /// Which list decisions are audited.
    pub list_audit: ListAudit,
    /// Which fields of audit records are masked.
    pub audit_mask: AuditMask,
    /// The secret session ids are sealed with; `None`: a random one per process.
    pub session_secret: Option<SessionSecret>,
}

/// The canonical resource URI, split once.
#[derive(Debug, Clone)]
struct Resource {
    uri: String,
    origin: String,
    path: String,
}

/// A resource URI the gate cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateConfigError {
    message: String,
}

impl fmt::Display for GateConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for GateConfigError {}

impl GateConfig {
    /// The configuration of the resource `resource`: its canonical URI (the audience tokens
    /// carry), `http` or `https`, with a host and no query or fragment.
    pub fn new(resource: &str) -> Result<GateConfig, GateConfigError> {
        let resource = Resource::parse(resource)?;
        Ok(GateConfig {
            mcp_path: resource.path.clone(),
            resource,
            authorization_servers: Vec::new(),
            limits: TrafficLimits::default(),
            trusted_proxies: Vec::new(),
            client_ip_header: ClientIpHeader::default(),
            list_audit: ListAudit::default(),
            audit_mask: AuditMask::default(),
            session_secret: None,
        })
    }

    /// The canonical resource URI.
    pub fn resource(&self) -> &str {
        &self.resource.uri
    }

    /// The same configuration naming these authorization servers.
    pub fn with_authorization_servers<I, S>(mut self, servers: I) -> GateConfig
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.authorization_servers = servers.into_iter().map(Into::into).collect();
        self
    }

    /// The same configuration believing forwarded headers from these proxies.
    pub fn with_trusted_proxies(mut self, proxies: impl IntoIterator<Item = IpNet>) -> GateConfig {
        self.trusted_proxies = proxies.into_iter().collect();
        self
    }

    /// The same configuration reading the client's address from `header` (when the
    /// peer is a trusted proxy).
    pub fn with_client_ip_header(mut self, header: ClientIpHeader) -> GateConfig {
        self.client_ip_header = header;
        self
    }

    /// The same configuration sealing session ids with `secret`, so that gates sharing
    /// it (replicas) accept each other's sessions. At least 32 bytes.
    pub fn with_session_secret(
        mut self,
        secret: impl Into<Vec<u8>>,
    ) -> Result<GateConfig, GateConfigError> {
        let secret = secret.into();
        if secret.len() < super::session::MIN_SECRET_BYTES {
            return Err(GateConfigError {
                message: format!(
                    "the session secret has {} bytes; it needs at least {}",
                    secret.len(),
                    super::session::MIN_SECRET_BYTES
                ),
            });
        }
        self.session_secret = Some(SessionSecret(secret));
        Ok(self)
    }

    /// The same configuration with other limits.
    pub fn with_limits(mut self, limits: TrafficLimits) -> GateConfig {
        self.limits = limits;
        self
    }

    /// The same configuration with the MCP endpoint at `path`.
    pub fn with_mcp_path(mut self, path: impl Into<String>) -> GateConfig {
        self.mcp_path = path.into();
        self
    }

    /// The same configuration auditing these list decisions.
    pub fn with_list_audit(mut self, list_audit: ListAudit) -> GateConfig {
        self.list_audit = list_audit;
        self
    }

    /// The same configuration masking these fields of audit records.
    pub fn with_audit_mask(mut self, audit_mask: AuditMask) -> GateConfig {
        self.audit_mask = audit_mask;
        self
    }

    /// The URL of the metadata document for this resource (the path-inserted form).
    pub fn metadata_url(&self) -> String {
        format!("{}{}", self.resource.origin, self.path_inserted_metadata())
    }

    /// The paths the metadata document is served at: the root form and the path-inserted
    /// form (the same path when the resource has no path).
    pub(crate) fn metadata_paths(&self) -> [String; 2] {
        [METADATA_PATH.to_string(), self.path_inserted_metadata()]
    }

    fn path_inserted_metadata(&self) -> String {
        if self.resource.path == "/" {
            METADATA_PATH.to_string()
        } else {
            format!("{METADATA_PATH}{}", self.resource.path)
        }
    }
}

impl Resource {
    fn parse(text: &str) -> Result<Resource, GateConfigError> {
        let error = |why: &str| GateConfigError {
            message: format!("resource `{text}` {why}"),
        };
        let uri: http::Uri = text.parse().map_err(|_| error("is not a URI"))?;
        let scheme = uri.scheme_str().unwrap_or("");
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return Err(error("must be an `http` or `https` URI"));
        }
        let Some(authority) = uri.authority() else {
            return Err(error("has no host"));
        };
        if uri.query().is_some() {
            return Err(error("must not have a query"));
        }
        let path = match uri.path() {
            "" => "/".to_string(),
            path => path.to_string(),
        };
        Ok(Resource {
            uri: text.to_string(),
            origin: format!("{}://{}", scheme.to_ascii_lowercase(), authority),
            path,
        })
    }
}

/// Fields of audit records written as [`AuditMask::MASKED`] (the client address left
/// out) rather than as they are: for decision logs that must not name people. Records
/// never hold a credential, a claim value other than these, or an argument's value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditMask {
    /// `subject`: the token's `sub` or the API key's id.
    pub subject: bool,
    /// `client`: the OAuth client id.
    pub client: bool,
    /// `client_ip`: the client's address (left out: `null`).
    pub client_ip: bool,
    /// `roles`: the effective roles (an empty list).
    pub roles: bool,
}

impl AuditMask {
    /// What a masked subject or client reads.
    pub const MASKED: &'static str = "masked";

    /// The field names `[audit] mask` accepts.
    pub const FIELDS: [&'static str; 4] = ["subject", "client", "client_ip", "roles"];

    /// The mask of these field names; the first unknown one is the error.
    pub fn of<'n>(names: impl IntoIterator<Item = &'n str>) -> Result<AuditMask, &'n str> {
        let mut mask = AuditMask::default();
        for name in names {
            match name {
                "subject" => mask.subject = true,
                "client" => mask.client = true,
                "client_ip" => mask.client_ip = true,
                "roles" => mask.roles = true,
                other => return Err(other),
            }
        }
        Ok(mask)
    }
}
