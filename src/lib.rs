//! toolgate: authorization for MCP servers.
//!
//! A policy (roles with inheritance, scopes with implications, tool / resource / prompt
//! glob patterns, time windows, IP ranges, claim conditions, conditions on a call's
//! arguments) is read, checked and
//! compiled into a hashed decision table that answers per request in nanoseconds.
//!
//! The crate root is the embedder's API: load a [`Policy`] (with [`LoadOptions`]), take
//! its [`Engine`], resolve a [`Principal`] per token, decide a [`Request`]; the
//! [`gate`] (a tower layer, `toolgate serve`) and [`credentials`] (JWT and API keys)
//! modules put it in front of an MCP server. Everything else (each stage of the
//! pipeline, the analyses built on it) is in [`unstable`], for toolgate's own binary,
//! tests and benchmarks, with no stability promise.
//!
//! ```
//! use toolgate::{Action, Kind, Policy, Reason, Request};
//!
//! let text = r#"
//!     scope "tool:read", "tool:write"
//!     role user
//!     role developer inherits user aka "mcp-developers"
//!     require scope "tool:write" to call tools "*"
//!     allow user      to call tools "fs.read_*"
//!     allow developer to call tools "github.*" if ip in [10.0.0.0/8]
//!     allow developer to call tools "k8s.scale" if arg "replicas" <= 5
//! "#;
//! // Read, check and compile (a file or a directory: `Policy::load(path)`).
//! let policy = Policy::from_text("example.policy", text)?;
//! let engine = policy.engine();
//!
//! // A principal is resolved once per token and reused for every request.
//! let claims = serde_json::json!({"sub": "u1", "roles": ["mcp-developers"], "scope": "tool:write"});
//! let principal = engine.principal(&claims)?;
//! let time = "2026-11-26T10:00:00Z".parse()?;
//!
//! let request = Request::new(Kind::Tool, Action::Call, "github.create_issue")?
//!     .with_ip("10.1.2.3".parse()?)
//!     .at(time);
//! let decision = engine.decide(&principal, &request);
//! assert!(decision.is_allowed());
//! assert_eq!(decision.rule.map(|rule| rule.to_string()).as_deref(), Some("example.policy:7"));
//!
//! // Without an address the `ip in` condition is unknown: the allow does not hold.
//! let unknown = engine.decide(&principal, &Request { ip: None, ..request });
//! assert_eq!(unknown.reason, Reason::NoRule);
//!
//! // A token lacking `tool:write` is told which scope to obtain.
//! let reader = engine.principal(&serde_json::json!({"roles": "user"}))?;
//! let read = Request::new(Kind::Tool, Action::Call, "fs.read_file")?.at(time);
//! let decision = engine.decide(&reader, &read);
//! assert_eq!(decision.reason, Reason::InsufficientScope);
//! assert_eq!(decision.missing_scopes.as_slice(), ["tool:write"]);
//!
//! // A call's arguments (MCP `params.arguments`) feed `arg` conditions.
//! let scale = serde_json::json!({"replicas": 20});
//! let scale = scale.as_object().expect("an object");
//! let request = Request::new(Kind::Tool, Action::Call, "k8s.scale")?.at(time);
//! assert!(!engine.decide(&principal, &request.with_arguments(scale)).is_allowed());
//!
//! // `tools/list` shows what the caller may use (for some arguments).
//! let names = ["fs.read_file", "github.create_issue", "db.drop", "k8s.scale"];
//! let listed = engine.filter_listable(&principal, Kind::Tool, names, None, time);
//! assert_eq!(listed, ["fs.read_file", "k8s.scale"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod arguments;
#[cfg(feature = "credentials")]
pub mod credentials;
mod decide;
mod fold;
#[cfg(feature = "gate")]
pub mod gate;
mod literal;
mod policy;
pub mod unstable;

// The stages keep their crate-wide paths (`crate::check`, ...).
use unstable::{
    ast, check, claim_path, compile, diagnostic, eval, explain, glob, ids, index, limits, matrix,
    net, parse, principal, source, testing, visible, window,
};

pub use ast::{Action, Effect, Kind};
pub use diagnostic::{Code, Diagnostic, Severity};
pub use eval::{Decision, Engine, Reason, Request};
pub use limits::Limits;
pub use policy::{LoadOptions, Policy, PolicyError, ToolList, ToolListError};
pub use principal::{Principal, PrincipalParts};
pub use source::{Sources, Span};
