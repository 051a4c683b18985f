//! The gate: authenticates HTTP requests to an MCP endpoint, decides them against the
//! policy, and shapes the responses (docs/gate.md, "Per request" and "Responses").
//!
//! [`GateLayer`] is a tower layer: put it in front of an axum router or rmcp's
//! `StreamableHttpService`. Per request it
//! - answers `GET` of the Protected Resource Metadata document itself (RFC 9728), at
//!   `/.well-known/oauth-protected-resource` and its path-inserted form;
//! - authenticates every other request (`401` with a `WWW-Authenticate` challenge);
//! - reads `POST` bodies to the MCP path as JSON-RPC (bounded; `400`, `413`, `415`),
//!   checks the `Mcp-Method` / `Mcp-Name` headers against them, and decides
//!   `tools/call`, `resources/read`, `prompts/get` (`403`, or a `403 insufficient_scope`
//!   challenge);
//! - filters `tools/list`, `resources/list` and `prompts/list` responses, JSON or
//!   server-sent events, to what the caller may list;
//! - leaves an [`Authorization`], the `Arc<Principal>` and the `Arc<ActivePolicy>` in the
//!   request's extensions for the handler;
//! - sends each decision to an [`AuditSink`], and counts it in [`Metrics`] if it has them.
//!
//! [`PolicyHandle`] holds the policy in force and reloads it atomically; `toolgate serve` runs
//! the gate as a reverse proxy.
//!
//! ```no_run
//! use std::sync::Arc;
//! use toolgate::credentials::Authenticator;
//! use toolgate::gate::{GateConfig, GateLayer, PolicyHandle, TracingAudit};
//!
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let policy = PolicyHandle::load("policies/example.policy", Default::default())?;
//! let config = GateConfig::new("http://127.0.0.1:8080/mcp")?
//!     .with_authorization_servers(["https://idp.example.com/"]);
//! let gate = GateLayer::new(config, policy, Authenticator::new())
//!     .with_audit(Arc::new(TracingAudit));
//! let app: axum::Router = axum::Router::new().layer(gate);
//! # Ok(()) }
//! ```

mod audit;
mod audit_otlp;
mod caller;
mod client_ip;
mod config;
mod decision_id;
mod filter;
mod headers;
mod inspect;
mod jsonrpc;
mod layer;
mod metrics;
mod otlp;
mod policy;
mod reload;
mod responses;
pub mod serve;
mod session;
mod shadow;
mod shape;
mod sse;
mod strict;
pub mod traces;
mod uri;

pub use audit::{AuditRecord, AuditRotation, AuditSink, JsonLinesAudit, TracingAudit};
pub use audit_otlp::OtlpAudit;
pub use caller::Decided;
pub use config::{
    AuditMask, ClientIpHeader, GateConfig, GateConfigError, ListAudit, SessionSecret, TrafficLimits,
};
pub use decision_id::{DecisionId, DECISION_ID_HEADER};
pub use layer::{Authorization, GateLayer, GateService};
pub use metrics::{Metrics, MetricsConfig, Open};
pub use otlp::{OtlpConfig, OtlpError};
pub use policy::{ActivePolicy, PolicyHandle, ReloadError};
pub use reload::{PolicyWatcher, WatchConfig, WatchError};
pub use shadow::ShadowReport;
pub use traces::Traces;

/// Internals exposed for benchmarks and fuzz targets only: not a stable API.
#[doc(hidden)]
pub mod unstable {
    /// Whether `bytes` read as one JSON value one way only (the gate's one-pass check:
    /// no byte order mark, UTF-8, no member names equal or equal once case-folded).
    pub fn reads_one_way(bytes: &[u8]) -> bool {
        super::strict::read(bytes).is_ok()
    }
}
