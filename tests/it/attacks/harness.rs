//! The parts of the attack suite: the three upstreams and their records, `toolgate serve`
//! in front of one of them with tests/e2e/attack/attack.policy, API keys, a raw HTTP/1.1
//! client that writes exact bytes, and the findings of one test.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::Scratch;
use crate::e2e::clients::require_python;
use crate::e2e::process::{run_bounded, Service};
use crate::e2e::servers::free_port;

/// The protocol revision the raw clients speak (sessions, event streams).
pub const PROTOCOL: &str = "2025-11-25";

/// Tool names the `limited` principal may neither call nor see.
pub const DENIED_TOOLS: [&str; 2] = ["db.drop_table", "secret.tool"];

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn attack_dir() -> PathBuf {
    repository().join("tests/e2e/attack")
}

/// A principal of the suite, with an API key made by `toolgate key new`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Role `limited`: `github.*`, `public.*`, `docs://*`, `public.*` prompts.
    Limited,
    /// Role `guest`: granted nothing.
    Guest,
    /// Role `admin`: everything, `db.drop_*` only from the office network.
    Admin,
}

impl Who {
    fn id(self) -> &'static str {
        match self {
            Who::Limited => "limited",
            Who::Guest => "guest",
            Who::Admin => "admin",
        }
    }
}

/// An upstream server of tests/e2e/attack/ and the file where it records every request
/// it received and everything it executed.
pub struct Upstream {
    /// The running server.
    pub service: Service,
    log: PathBuf,
}

/// Which upstream.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// The TypeScript SDK (`createMcpExpressApp`), event streams unless a session asks
    /// for JSON (`X-Attack-Framing: json` on its `initialize`).
    TypeScript,
    /// The Python SDK, JSON responses, `tools/list` answered after 1.5 s.
    Python,
    /// The server reading JSON as Go's `encoding/json` does.
    GoLike,
}

impl Upstream {
    /// Starts `kind` on an ephemeral loopback port, recording into `dir`.
    pub fn start(kind: Kind, dir: &Path) -> Upstream {
        let log = dir.join(format!("{kind:?}.jsonl").to_lowercase());
        let (name, mut command) = match kind {
            Kind::TypeScript => {
                let sdk = repository().join("tests/e2e/ts/node_modules/@modelcontextprotocol/sdk");
                assert!(
                    sdk.is_dir(),
                    "the TypeScript MCP SDK is missing: run `npm ci --prefix tests/e2e/ts --no-audit --no-fund`"
                );
                let mut command = Command::new("node");
                command.arg(attack_dir().join("ts_upstream.mjs"));
                ("ts_upstream.mjs", command)
            }
            Kind::Python => {
                require_python();
                let mut command = crate::external::python();
                command.arg(attack_dir().join("python_upstream.py")).args([
                    "--json-response",
                    "--list-delay",
                    "1.5",
                ]);
                ("python_upstream.py", command)
            }
            Kind::GoLike => {
                let mut command = crate::external::python();
                command.arg(attack_dir().join("golike_upstream.py"));
                ("golike_upstream.py", command)
            }
        };
        command.arg("--log").arg(&log);
        let service = Service::start(name, command);
        Upstream { service, log }
    }

    /// Every record so far, in order.
    pub fn records(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// How many records there are now: a mark for [`Upstream::since`].
    pub fn mark(&self) -> usize {
        self.records().len()
    }

    /// The records after `mark`.
    pub fn since(&self, mark: usize) -> Vec<Value> {
        self.records().into_iter().skip(mark).collect()
    }

    /// What was executed after `mark`.
    pub fn executed_since(&self, mark: usize) -> Vec<Value> {
        self.since(mark)
            .into_iter()
            .filter(|record| record["kind"] == "executed")
            .collect()
    }

    /// Whether any request whose headers or body contain `marker` reached the upstream.
    pub fn received(&self, marker: &str) -> bool {
        self.records()
            .iter()
            .filter(|record| record["kind"] == "request")
            .any(|record| {
                record["headers"].to_string().contains(marker)
                    || record["raw"].as_str().unwrap_or("").contains(marker)
            })
    }

    /// Where the upstream listens, `host:port`.
    pub fn address(&self) -> String {
        address_of(&self.service.url)
    }
}

/// The executed records naming `tool` (a tool, prompt, URI or completion ref).
pub fn naming<'a>(records: &'a [Value], name: &str) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|record| {
            ["tool", "uri", "prompt", "ref"]
                .iter()
                .any(|field| record[*field] == name)
        })
        .collect()
}

/// `host:port` of an `http://host:port/...` URL.
pub fn address_of(url: &str) -> String {
    let rest = url.trim_start_matches("http://");
    rest.split('/').next().unwrap().to_string()
}

/// `toolgate serve` in front of an upstream, with the suite's policy and keys.
pub struct Gate {
    /// The running proxy.
    pub service: Service,
    /// `host:port` it listens on.
    pub address: String,
    /// Its MCP endpoint (the resource URI).
    pub resource: String,
    keys: Vec<(Who, String)>,
}

/// How the gate is configured besides the policy, upstream and keys.
#[derive(Default)]
pub struct GateOptions<'a> {
    /// TOML appended to the configuration (`[limits]`, `[jwt]`, ...).
    pub extra: &'a str,
}

impl Gate {
    /// Makes the keys and starts `toolgate serve` in front of `upstream`, trusting
    /// 127.0.0.1 (the tests) as a proxy. Retried on a new port if the port was taken.
    pub fn start(upstream: &Upstream, dir: &Path, options: &GateOptions) -> Gate {
        let keys_file = dir.join("api-keys.toml");
        let keys = if keys_file.exists() {
            Vec::new()
        } else {
            make_keys(&keys_file)
        };
        let mut failures = Vec::new();
        for _ in 0..3 {
            match try_start(&upstream.service.url, dir, &keys_file, options) {
                Ok((service, port)) => {
                    return Gate {
                        service,
                        address: format!("127.0.0.1:{port}"),
                        resource: format!("http://127.0.0.1:{port}/mcp"),
                        keys,
                    }
                }
                Err(error) => failures.push(error),
            }
        }
        panic!(
            "toolgate serve did not start:\n{}",
            failures.join("\n---\n")
        );
    }

    /// The API key of `who`.
    pub fn key(&self, who: Who) -> &str {
        &self.keys.iter().find(|(each, _)| *each == who).unwrap().1
    }

    /// The MCP endpoint as `who` sees it (their key in `X-API-Key`).
    pub fn endpoint(&self, who: Who) -> Endpoint {
        Endpoint {
            address: self.address.clone(),
            path: "/mcp".to_string(),
            credential: Some(("X-API-Key".to_string(), self.key(who).to_string())),
        }
    }
}

fn try_start(
    upstream: &str,
    dir: &Path,
    keys_file: &Path,
    options: &GateOptions,
) -> Result<(Service, u16), String> {
    let port = free_port();
    let config = format!(
        "policy = {policy:?}\nlisten = \"127.0.0.1:{port}\"\nupstream = {upstream:?}\n\
         resource = \"http://127.0.0.1:{port}/mcp\"\n\n[api_keys]\nfile = {keys:?}\n\n\
         [audit]\nfile = {audit:?}\n\n[network]\ntrusted_proxies = [\"127.0.0.1/32\"]\n\n{extra}\n",
        policy = attack_dir().join("attack.policy").to_str().unwrap(),
        keys = keys_file.to_str().unwrap(),
        audit = dir.join("audit.jsonl").to_str().unwrap(),
        extra = options.extra.replace("{PORT}", &port.to_string()),
    );
    let path = dir.join("toolgate.toml");
    std::fs::write(&path, config).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_toolgate"));
    command.arg("serve").arg("--config").arg(&path);
    let service = Service::try_start("toolgate serve", command)?;
    Ok((service, port))
}

fn make_keys(file: &Path) -> Vec<(Who, String)> {
    let grants: [(Who, &str, &[&str]); 3] = [
        (Who::Limited, "limited", &["tool:read", "tool:write"]),
        (Who::Guest, "guest", &["tool:read", "tool:write"]),
        (Who::Admin, "admin", &["tool:read", "tool:write"]),
    ];
    grants
        .iter()
        .map(|(who, role, scopes)| {
            let mut command = Command::new(env!("CARGO_BIN_EXE_toolgate"));
            command.args(["key", "new", "--file"]).arg(file);
            command.args(["--id", who.id(), "--client", "attack-suite", "--role", role]);
            for scope in *scopes {
                command.args(["--scope", scope]);
            }
            let (status, stdout, stderr) =
                run_bounded("toolgate key new", command, Duration::from_secs(60));
            assert_eq!(status, 0, "toolgate key new failed: {stderr}");
            (*who, stdout.trim().to_string())
        })
        .collect()
}

/// `dir/name`, created.
pub fn subdir(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(&path).unwrap();
    path
}

/// A scratch directory for one test.
pub fn scratch(name: &str) -> Scratch {
    Scratch::new(&format!("attack-{name}"))
}

/// Where requests go: an address, a path, and a credential header (none for an
/// upstream reached directly).
#[derive(Clone)]
pub struct Endpoint {
    /// `host:port`.
    pub address: String,
    /// The MCP path.
    pub path: String,
    /// The credential header, if any.
    pub credential: Option<(String, String)>,
}

impl Endpoint {
    /// The upstream itself, unprotected: the baseline every attack is first shown on.
    pub fn direct(upstream: &Upstream) -> Endpoint {
        Endpoint {
            address: upstream.address(),
            path: "/mcp".to_string(),
            credential: None,
        }
    }

    /// A JSON-RPC POST of `body` with the usual MCP headers plus `headers`
    /// (`Content-Type` is `application/json` unless `headers` names one).
    pub fn post(&self, body: &[u8], headers: &[(&str, &str)]) -> Reply {
        self.send("POST", body, headers, Duration::from_secs(15))
    }

    /// Any request; the reply is read until the server closes or `wait` passes.
    pub fn send(
        &self,
        method: &str,
        body: &[u8],
        headers: &[(&str, &str)],
        wait: Duration,
    ) -> Reply {
        let mut all: Vec<(String, String)> = Vec::new();
        if let Some((name, value)) = &self.credential {
            all.push((name.clone(), value.clone()));
        }
        let named = |name: &str| {
            headers
                .iter()
                .any(|(each, _)| each.eq_ignore_ascii_case(name))
        };
        if !named("content-type") && !body.is_empty() {
            all.push(("Content-Type".into(), "application/json".into()));
        }
        if !named("accept") {
            all.push((
                "Accept".into(),
                "application/json, text/event-stream".into(),
            ));
        }
        for (name, value) in headers {
            all.push((name.to_string(), value.to_string()));
        }
        let mut request = format!(
            "{method} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.path, self.address
        );
        for (name, value) in &all {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            request.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body);
        exchange(&self.address, &bytes, wait)
    }

    /// Opens a session: `initialize` (with `headers`, e.g. a framing choice) and
    /// `notifications/initialized`. Panics unless the server answered with a session id.
    pub fn session(&self, headers: &[(&str, &str)]) -> Session {
        let initialize = format!(
            r#"{{"jsonrpc":"2.0","id":0,"method":"initialize","params":{{"protocolVersion":"{PROTOCOL}","capabilities":{{}},"clientInfo":{{"name":"attack-suite","version":"1.0.0"}}}}}}"#
        );
        let reply = self.post(initialize.as_bytes(), headers);
        let id = reply
            .header("mcp-session-id")
            .unwrap_or_else(|| panic!("initialize gave no session: {}", reply.describe()));
        let session = Session {
            endpoint: self.clone(),
            id,
        };
        let initialized = session.post(
            br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            &[],
        );
        assert!(
            initialized.status / 100 == 2,
            "notifications/initialized refused: {}",
            initialized.describe()
        );
        session
    }
}

/// An MCP session on an endpoint.
#[derive(Clone)]
pub struct Session {
    /// Where it was opened.
    pub endpoint: Endpoint,
    /// Its `Mcp-Session-Id`.
    pub id: String,
}

impl Session {
    /// A POST in this session.
    pub fn post(&self, body: &[u8], headers: &[(&str, &str)]) -> Reply {
        self.send("POST", body, headers, Duration::from_secs(15))
    }

    /// Any request in this session, read until the server closes or `wait` passes.
    pub fn send(
        &self,
        method: &str,
        body: &[u8],
        headers: &[(&str, &str)],
        wait: Duration,
    ) -> Reply {
        let mut all = vec![
            ("Mcp-Session-Id", self.id.as_str()),
            ("MCP-Protocol-Version", PROTOCOL),
        ];
        all.extend_from_slice(headers);
        self.endpoint.send(method, body, &all, wait)
    }

    /// This session's id presented by another endpoint (another principal's key).
    pub fn as_seen_by(&self, endpoint: &Endpoint) -> Session {
        Session {
            endpoint: endpoint.clone(),
            id: self.id.clone(),
        }
    }
}

/// What came back on one connection.
#[derive(Debug)]
pub struct Reply {
    /// The status code (0: no status line arrived).
    pub status: u16,
    /// The status line and headers.
    pub head: String,
    /// The body as it arrived (chunked bodies de-chunked).
    pub body: Vec<u8>,
    /// Every byte that arrived, head included.
    pub raw: Vec<u8>,
}

impl Reply {
    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_string())
        })
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as one JSON value, if it is one.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The `names` that appear anywhere in the bytes received.
    pub fn leaks<'a>(&self, names: &[&'a str]) -> Vec<&'a str> {
        let raw = String::from_utf8_lossy(&self.raw);
        names
            .iter()
            .copied()
            .filter(|name| raw.contains(name))
            .collect()
    }

    /// The first `id:` of an event stream body (the priming event's, with an event store).
    pub fn first_event_id(&self) -> Option<String> {
        self.text()
            .lines()
            .find_map(|line| line.strip_prefix("id:"))
            .map(|id| id.trim().to_string())
    }

    /// Status and a bounded excerpt, for messages.
    pub fn describe(&self) -> String {
        let text = String::from_utf8_lossy(&self.raw);
        let excerpt: String = text.chars().take(1500).collect();
        format!("status {}: {excerpt}", self.status)
    }
}

/// Writes `request` to `address` and reads until the server closes or `wait` passes.
pub fn exchange(address: &str, request: &[u8], wait: Duration) -> Reply {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.write_all(request).unwrap();
    let raw = read_until_closed(&mut stream, wait).0;
    parse_reply(raw)
}

/// Reads until the peer closes (true) or `wait` passes (false).
pub fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + wait;
    let mut raw = Vec::new();
    let mut buffer = [0u8; 16384];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (raw, false);
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buffer) {
            Ok(0) => return (raw, true),
            Ok(count) => raw.extend_from_slice(&buffer[..count]),
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return (raw, false)
            }
            // A reset is the peer closing too.
            Err(_) => return (raw, true),
        }
    }
}

fn parse_reply(raw: Vec<u8>) -> Reply {
    let split = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let rest = raw.get(split + 4..).unwrap_or(&[]).to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let chunked = head.lines().any(|line| {
        let lower = line.to_ascii_lowercase();
        lower.starts_with("transfer-encoding:") && lower.contains("chunked")
    });
    let body = if chunked { dechunk(&rest) } else { rest };
    Reply {
        status,
        head,
        body,
        raw,
    }
}

/// A chunked body's content, as far as it arrived.
fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let Some(end) = rest.windows(2).position(|window| window == b"\r\n") else {
            return body;
        };
        let size_text = String::from_utf8_lossy(&rest[..end]);
        let size_text = size_text.split(';').next().unwrap_or("").trim().to_string();
        let Ok(size) = usize::from_str_radix(&size_text, 16) else {
            return body;
        };
        if size == 0 {
            return body;
        }
        let start = end + 2;
        let stop = (start + size).min(rest.len());
        body.extend_from_slice(&rest[start..stop]);
        if stop < start + size {
            return body;
        }
        rest = rest.get(stop + 2..).unwrap_or(&[]);
    }
}

/// The checks of one test: each failure is kept, and all are reported at the end, so one
/// run shows every variant that went through.
pub struct Findings {
    name: &'static str,
    failures: Vec<String>,
}

impl Findings {
    /// Findings of the test `name`.
    pub fn new(name: &'static str) -> Findings {
        Findings {
            name,
            failures: Vec::new(),
        }
    }

    /// Keeps `what` unless `holds`.
    pub fn check(&mut self, holds: bool, what: impl FnOnce() -> String) {
        if !holds {
            self.failures.push(what());
        }
    }

    /// Panics with every failure kept.
    pub fn finish(self) {
        assert!(
            self.failures.is_empty(),
            "{}: {} attack variant check(s) went through:\n- {}",
            self.name,
            self.failures.len(),
            self.failures.join("\n- ")
        );
    }
}
