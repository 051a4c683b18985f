//! The servers under test: the plain Python upstream, the rmcp example protected by the
//! layer, and `toolgate serve` in front of the upstream.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::clients::require_python;
use super::principals::policy_path;
use super::process::Service;

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The record an upstream of tests/e2e/python/ keeps with `--log FILE`: one JSON line per
/// HTTP request it received (`"kind": "request"`, with its headers and raw body) and one
/// per tool or prompt it ran (`"kind": "executed"`).
pub struct Log(pub PathBuf);

impl Log {
    /// Every complete record so far, in order (a line still being written is left out).
    pub fn records(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.0).unwrap_or_default();
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        complete
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
            .collect()
    }

    /// How many records there are now: a mark for [`Log::since`].
    pub fn mark(&self) -> usize {
        self.records().len()
    }

    /// The records after `mark`.
    pub fn since(&self, mark: usize) -> Vec<Value> {
        self.records().into_iter().skip(mark).collect()
    }

    /// The records of `kind` (`request`, `executed`) after `mark`.
    pub fn kind_since(&self, kind: &str, mark: usize) -> Vec<Value> {
        self.since(mark)
            .into_iter()
            .filter(|record| record["kind"] == kind)
            .collect()
    }
}

/// The plain (unprotected) Python MCP server and its record.
pub struct Upstream {
    /// The running server.
    pub service: Service,
    /// What it received and ran.
    pub log: Log,
}

/// The plain (unprotected) Python MCP server, on an ephemeral loopback port, recording
/// into `dir`/upstream.jsonl.
pub fn start_upstream(dir: &Path) -> Upstream {
    require_python();
    let log = dir.join("upstream.jsonl");
    let mut command = crate::external::python();
    command
        .arg(repository().join("tests/e2e/python/upstream_server.py"))
        .args(["--host", "127.0.0.1", "--port", "0"])
        .arg("--log")
        .arg(&log);
    Upstream {
        service: Service::start("upstream_server.py", command),
        log: Log(log),
    }
}

/// An ephemeral loopback port that was free a moment ago. `toolgate serve` must know its
/// own address before it starts: the resource URI (the audience tokens carry, and the
/// base of the metadata URL in its challenges) names it.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// What `toolgate serve` is configured with, besides the policy (tests/e2e/e2e.policy).
pub struct ServeSetup<'a> {
    /// The protected server's MCP URL.
    pub upstream: &'a str,
    /// The API key file, if keys are accepted.
    pub api_keys: Option<&'a Path>,
    /// The identity provider's issuer, if its JWTs are accepted (found by discovery).
    pub issuer: Option<&'a str>,
    /// Where the configuration and the audit log go.
    pub dir: &'a Path,
}

/// `toolgate serve` running in front of an upstream.
pub struct Gate {
    /// The running proxy.
    pub service: Service,
    /// Its MCP endpoint, the canonical resource URI.
    pub resource: String,
    /// Its audit log.
    pub audit: PathBuf,
}

/// Writes the configuration (GATE.md "Standalone mode") and starts `toolgate serve`. The
/// port is picked before the server binds it, so another process may take it first: a
/// start that fails is retried on a new port, twice.
pub fn start_serve(setup: &ServeSetup) -> Gate {
    let mut failures = Vec::new();
    for _ in 0..3 {
        match try_start_serve(setup) {
            Ok(gate) => return gate,
            Err(error) => failures.push(error),
        }
    }
    panic!(
        "toolgate serve did not start:\n{}",
        failures.join("\n---\n")
    );
}

fn try_start_serve(setup: &ServeSetup) -> Result<Gate, String> {
    let port = free_port();
    let resource = format!("http://127.0.0.1:{port}/mcp");
    let audit = setup.dir.join("audit.jsonl");
    let mut config = format!(
        "policy = {policy:?}\nlisten = \"127.0.0.1:{port}\"\nupstream = {upstream:?}\n\
         resource = {resource:?}\nauthorization_servers = [{servers}]\n\n[audit]\nfile = {audit:?}\n",
        policy = policy_path().to_str().unwrap(),
        upstream = setup.upstream,
        servers = setup.issuer.map(|issuer| format!("{issuer:?}")).unwrap_or_default(),
        audit = audit.to_str().unwrap(),
    );
    if let Some(file) = setup.api_keys {
        config.push_str(&format!(
            "\n[api_keys]\nfile = {:?}\n",
            file.to_str().unwrap()
        ));
    }
    if let Some(issuer) = setup.issuer {
        config.push_str(&format!("\n[jwt]\nissuer = {issuer:?}\ndiscovery = true\n"));
    }
    let path = setup.dir.join("toolgate.toml");
    std::fs::write(&path, config).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_toolgate"));
    command.arg("serve").arg("--config").arg(&path);
    let service = Service::try_start("toolgate serve", command)?;
    Ok(Gate {
        service,
        resource,
        audit,
    })
}

/// The rmcp example server (examples/mcp_server.rs, the tower layer in front of rmcp's
/// streamable-HTTP service) with `policy`, on an ephemeral loopback port. Before its
/// listening line it prints its credentials (`api-key ROLE KEY`, `jwt NAME TOKEN`), kept
/// in the service's preamble.
pub fn start_example(policy: &Path) -> Service {
    let binary = example_binary();
    let mut command = Command::new(&binary);
    command.arg("--policy").arg(policy).args(["--port", "0"]);
    Service::start("examples/mcp_server", command)
}

/// target/<profile>/examples/mcp_server, beside the test binary's directory (`deps`).
fn example_binary() -> PathBuf {
    let test_binary = std::env::current_exe().unwrap();
    let profile_dir = test_binary.parent().and_then(Path::parent).unwrap();
    let binary = profile_dir
        .join("examples")
        .join(format!("mcp_server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "{} is missing: `cargo test` builds it; with `cargo test --test it` run \
         `cargo build --example mcp_server` first",
        binary.display()
    );
    binary
}
