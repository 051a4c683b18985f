//! End to end, the policy's `arg` conditions (LANGUAGE.md "Arguments (v1.1)" and "Listing
//! with arguments"; GATE.md: `params.arguments` of `tools/call` and `prompts/get`, an
//! object or absent, anything else 400): `toolgate serve` with tests/e2e/arguments.policy
//! in front of tests/e2e/python/arguments_upstream.py, driven by the official Python and
//! TypeScript SDK clients, and by raw HTTP for what no SDK sends.
//!
//! The oracle is the upstream's record: one JSON line per HTTP request it received and one
//! per tool or prompt it ran, with the arguments exactly as they arrived. Each SDK first
//! runs every case against the upstream without the gate, which must run all of them (so
//! the SDK really sends `null`, arrays and strings-for-numbers, and a refusal through the
//! gate is the gate's); then through the gate, where the upstream must have received and
//! run exactly the allowed cases, in order, with their arguments unchanged.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use toolgate::unstable::ast::Kind;

use super::clients::{require_python, Credential, Sdk};
use super::principals::{Keys, Principal, ADMIN, DEVELOPER, READER, USER};
use super::process::{run_bounded, Service};
use super::servers::{free_port, Log};
use crate::cli::Scratch;

/// A client run is bounded inside the client (60 s); this is the outer safety net.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(150);
/// How long the gate's audit writer (a thread of its own) may lag behind the responses.
const AUDIT_WAIT: Duration = Duration::from_secs(20);

/// The tools and prompts of arguments_upstream.py, sorted.
const TOOLS: [&str; 2] = ["files.read", "k8s.scale"];
const PROMPTS: [&str; 2] = ["summarize", "translate"];

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn policy_path() -> PathBuf {
    repository().join("tests/e2e/arguments.policy")
}

/// What a case uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// `tools/call`.
    Tool,
    /// `prompts/get`.
    Prompt,
}

/// What the gate must decide for a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Allowed: the upstream runs it with these arguments, the client gets its answer.
    Allowed,
    /// A deny rule fires (its condition holds or is unknown): `403`, reason `denied`.
    Denied,
    /// No allow rule holds: `403`, reason `no_rule`.
    NoRule,
}

impl Expect {
    /// The audit log's `decision` and `reason`.
    fn audited(self) -> (&'static str, &'static str) {
        match self {
            Expect::Allowed => ("allow", "allowed"),
            Expect::Denied => ("deny", "denied"),
            Expect::NoRule => ("deny", "no_rule"),
        }
    }

    /// What the gate's JSON-RPC error says of the reason.
    fn because(self) -> &'static str {
        match self {
            Expect::Allowed => "",
            Expect::Denied => "a rule denies it",
            Expect::NoRule => "no rule allows it",
        }
    }
}

/// One use of a tool or prompt with arguments, and what the gate must make of it.
#[derive(Debug, Clone, Copy)]
struct Case {
    what: Use,
    name: &'static str,
    /// The arguments object, as JSON.
    arguments: &'static str,
    expect: Expect,
    /// The start of the policy line of the deciding rule (`None` for `no_rule`).
    rule: Option<&'static str>,
    /// The argument paths that rule's condition reads: the audit line's `arguments`.
    paths: &'static [&'static str],
    /// Why, for failure messages.
    why: &'static str,
}

const DEVELOPER_RULE: &str = r#"allow developer to call tools "k8s.scale""#;
const ADMIN_RULE: &str = r#"allow admin     to call tools "*""#;
const DOCS_RULE: &str = r#"allow user to call tools "files.read""#;
const SECRET_RULE: &str = r#"deny anyone to call tools "files.read""#;
const TRANSLATE_RULE: &str = r#"allow anyone to get prompts "translate""#;

const fn tool(
    name: &'static str,
    arguments: &'static str,
    expect: Expect,
    rule: Option<&'static str>,
    paths: &'static [&'static str],
    why: &'static str,
) -> Case {
    Case {
        what: Use::Tool,
        name,
        arguments,
        expect,
        rule,
        paths,
        why,
    }
}

const fn prompt(
    arguments: &'static str,
    expect: Expect,
    rule: Option<&'static str>,
    paths: &'static [&'static str],
    why: &'static str,
) -> Case {
    Case {
        what: Use::Prompt,
        name: "translate",
        arguments,
        expect,
        rule,
        paths,
        why,
    }
}

/// One principal's client run: what it lists, what it uses.
struct Scenario {
    principal: Principal,
    /// The key goes as `Authorization: Bearer` (else `X-API-Key`).
    bearer: bool,
    tools: &'static [&'static str],
    prompts: &'static [&'static str],
    /// Tool cases first, then prompt cases: the order the clients run them in.
    cases: &'static [Case],
}

const SCENARIOS: [Scenario; 3] = [
    Scenario {
        principal: DEVELOPER,
        bearer: false,
        // Some arguments unlock `k8s.scale` (replicas <= 5) and `files.read`.
        tools: &["files.read", "k8s.scale"],
        prompts: &["translate"],
        cases: &[
            tool(
                "k8s.scale",
                r#"{"replicas": 3, "deployment": "web-7Q4Z"}"#,
                Expect::Allowed,
                Some(DEVELOPER_RULE),
                &["replicas"],
                "3 <= 5",
            ),
            tool(
                "k8s.scale",
                r#"{"replicas": 5}"#,
                Expect::Allowed,
                Some(DEVELOPER_RULE),
                &["replicas"],
                "5 <= 5",
            ),
            tool(
                "k8s.scale",
                r#"{"replicas": 6, "deployment": "web-7Q4Z"}"#,
                Expect::NoRule,
                None,
                &[],
                "6 > 5",
            ),
            tool(
                "k8s.scale",
                r#"{"replicas": "3"}"#,
                Expect::NoRule,
                None,
                &[],
                "a string is not a number: `<=` is unknown, the allow does not hold \
                 (the upstream would coerce it to 3)",
            ),
            tool(
                "files.read",
                r#"{"path": "docs/intro-P5MX.md"}"#,
                Expect::Allowed,
                Some(DOCS_RULE),
                &["path"],
                "under docs/",
            ),
            tool(
                "files.read",
                r#"{"path": "docs/../etc/passwd-P5MX"}"#,
                Expect::NoRule,
                None,
                &[],
                "climbs out of docs/",
            ),
            tool(
                "files.read",
                r#"{"path": "docs/secret-K9XW.md"}"#,
                Expect::Denied,
                Some(SECRET_RULE),
                &["path"],
                "a secret under docs/: the deny wins over the allow",
            ),
            prompt(
                r#"{"text": "bonjour-M3RT", "target": "fr"}"#,
                Expect::Allowed,
                Some(TRANSLATE_RULE),
                &["target"],
                "into French",
            ),
            prompt(
                r#"{"text": "hola-M3RT", "target": "es"}"#,
                Expect::NoRule,
                None,
                &[],
                "into Spanish",
            ),
        ],
    },
    Scenario {
        principal: ADMIN,
        bearer: true,
        tools: &["files.read", "k8s.scale"],
        prompts: &["translate"],
        cases: &[
            tool(
                "k8s.scale",
                r#"{"replicas": 50}"#,
                Expect::Allowed,
                Some(ADMIN_RULE),
                &[],
                "admins scale to any number",
            ),
            tool(
                "files.read",
                r#"{"path": "etc/hosts-V8NL"}"#,
                Expect::Allowed,
                Some(ADMIN_RULE),
                &[],
                "admins read any path but secrets (the control of the next cases)",
            ),
            tool(
                "files.read",
                r#"{"path": 42}"#,
                Expect::Denied,
                Some(SECRET_RULE),
                &["path"],
                "a number: the deny's `matches` is unknown and fires",
            ),
            tool(
                "files.read",
                r#"{"path": ["docs/secret-K9XW.md"]}"#,
                Expect::Denied,
                Some(SECRET_RULE),
                &["path"],
                "an array: the deny's `matches` is unknown and fires",
            ),
            tool(
                "files.read",
                r#"{"path": null}"#,
                Expect::Denied,
                Some(SECRET_RULE),
                &["path"],
                "null is present and not a string: unknown, the deny fires",
            ),
            tool(
                "files.read",
                r#"{}"#,
                Expect::Allowed,
                Some(ADMIN_RULE),
                &[],
                "a missing path: the deny's `matches` is false",
            ),
            tool(
                "files.read",
                r#"{"path": "docs/secret-K9XW.md"}"#,
                Expect::Denied,
                Some(SECRET_RULE),
                &["path"],
                "a secret: denied to admins too",
            ),
            prompt(
                r#"{"text": "hallo-M3RT", "target": "de"}"#,
                Expect::Allowed,
                Some(TRANSLATE_RULE),
                &["target"],
                "into German",
            ),
        ],
    },
    Scenario {
        principal: USER,
        bearer: true,
        // No arguments let a user scale from loopback (the rule needs the office
        // network): `k8s.scale` is hidden. A deny that only some paths trigger does not
        // hide `files.read`.
        tools: &["files.read"],
        prompts: &["translate"],
        cases: &[
            tool(
                "k8s.scale",
                r#"{"replicas": 1}"#,
                Expect::NoRule,
                None,
                &[],
                "the user rule needs the office network",
            ),
            tool(
                "files.read",
                r#"{"path": "docs/intro-P5MX.md"}"#,
                Expect::Allowed,
                Some(DOCS_RULE),
                &["path"],
                "under docs/",
            ),
            tool(
                "files.read",
                r#"{"path": 7}"#,
                Expect::Denied,
                Some(SECRET_RULE),
                &["path"],
                "a number: the allow is unknown (does not hold), the deny is unknown (fires)",
            ),
        ],
    },
];

/// Argument values of the cases that must never appear in the audit log.
const MARKERS: [&str; 7] = ["7Q4Z", "P5MX", "K9XW", "M3RT", "V8NL", "passwd", "etc/"];

/// What the engine lets `principal` list of `names` from loopback now, sorted.
fn listable(principal: Principal, kind: Kind, names: &[&str]) -> Vec<String> {
    super::principals::listable_in(&policy_path(), principal, kind, names)
}

/// The lists the scenarios expect are what the engine decides for listing with arguments
/// (each `arg` atom taken in the caller's favour), so the e2e tests pin the gate to it.
#[test]
fn the_arguments_policy_lists_what_some_arguments_unlock() {
    for scenario in &SCENARIOS {
        assert_eq!(
            listable(scenario.principal, Kind::Tool, &TOOLS),
            scenario.tools,
            "{}",
            scenario.principal.id
        );
        assert_eq!(
            listable(scenario.principal, Kind::Prompt, &PROMPTS),
            scenario.prompts,
            "{}",
            scenario.principal.id
        );
    }
    // `readonly` has no rule on either tool, `anyone` may translate into some languages.
    assert!(listable(READER, Kind::Tool, &TOOLS).is_empty());
    assert_eq!(listable(READER, Kind::Prompt, &PROMPTS), ["translate"]);
}

/// arguments_upstream.py and its record.
struct Upstream {
    service: Service,
    log: Log,
}

impl Upstream {
    fn start(dir: &Path, json_response: bool) -> Upstream {
        require_python();
        let log = dir.join("upstream.jsonl");
        let mut command = crate::external::python();
        command
            .arg(repository().join("tests/e2e/python/arguments_upstream.py"))
            .arg("--log")
            .arg(&log);
        if json_response {
            command.arg("--json-response");
        }
        let service = Service::start("arguments_upstream.py", command);
        Upstream {
            service,
            log: Log(log),
        }
    }

    fn mark(&self) -> usize {
        self.log.mark()
    }

    /// `(method, name, arguments)` of every tool and prompt run after `mark`.
    fn executed_since(&self, mark: usize) -> Vec<(String, String, Value)> {
        self.log
            .kind_since("executed", mark)
            .into_iter()
            .map(|record| {
                let name = record["tool"].as_str().or(record["prompt"].as_str());
                (
                    record["executed"].as_str().unwrap_or("").to_string(),
                    name.unwrap_or("").to_string(),
                    record["arguments"].clone(),
                )
            })
            .collect()
    }

    /// `(method, name, arguments)` of every `tools/call` and `prompts/get` request that
    /// reached the upstream after `mark` (`arguments` as the body carried it).
    fn received_uses_since(&self, mark: usize) -> Vec<(String, String, Value)> {
        self.log
            .kind_since("request", mark)
            .into_iter()
            .filter_map(|record| {
                let body = &record["decoded"];
                let method = body["method"].as_str()?;
                if method != "tools/call" && method != "prompts/get" {
                    return None;
                }
                Some((
                    method.to_string(),
                    body["params"]["name"].as_str().unwrap_or("").to_string(),
                    body["params"]["arguments"].clone(),
                ))
            })
            .collect()
    }

    /// Where it listens, `host:port`.
    fn address(&self) -> String {
        address_of(&self.service.url)
    }

    /// Whether any request whose raw body contains `marker` reached the upstream.
    fn received(&self, marker: &str) -> bool {
        self.log.records().iter().any(|record| {
            record["kind"] == "request" && record["raw"].as_str().unwrap_or("").contains(marker)
        })
    }
}

/// `toolgate serve` with the arguments policy.
struct Gate {
    service: Service,
    /// `host:port`.
    address: String,
    /// The MCP endpoint (the resource URI).
    resource: String,
    audit: PathBuf,
    /// The policy as configured: the audit's `rule` is `PATH:LINE` of it.
    policy: PathBuf,
}

impl Gate {
    /// Starts the gate in front of `upstream` with the key file `keys`; retried on a new
    /// port if another process took the one picked.
    fn start(upstream: &str, keys: &Path, dir: &Path) -> Gate {
        let mut failures = Vec::new();
        for _ in 0..3 {
            let port = free_port();
            let audit = dir.join("audit.jsonl");
            let policy = policy_path();
            let config = format!(
                "policy = {policy:?}\nlisten = \"127.0.0.1:{port}\"\nupstream = {upstream:?}\n\
                 resource = \"http://127.0.0.1:{port}/mcp\"\n\n[api_keys]\nfile = {keys:?}\n\n\
                 [audit]\nfile = {audit:?}\n",
                policy = policy.to_str().unwrap(),
                keys = keys.to_str().unwrap(),
                audit = audit.to_str().unwrap(),
            );
            let path = dir.join("toolgate.toml");
            std::fs::write(&path, config).unwrap();
            let mut command = Command::new(env!("CARGO_BIN_EXE_toolgate"));
            command.arg("serve").arg("--config").arg(&path);
            match Service::try_start("toolgate serve", command) {
                Ok(service) => {
                    return Gate {
                        service,
                        address: format!("127.0.0.1:{port}"),
                        resource: format!("http://127.0.0.1:{port}/mcp"),
                        audit,
                        policy,
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

    /// The audit lines of `call` and `get` decisions, once there are at least `count`
    /// (the audit writer runs on its own thread; this waits for it, up to a bound).
    fn use_decisions(&self, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + AUDIT_WAIT;
        loop {
            let text = std::fs::read_to_string(&self.audit).unwrap_or_default();
            let complete = text.rfind('\n').map_or("", |end| &text[..end]);
            let lines: Vec<Value> = complete
                .lines()
                .map(|line| {
                    serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"))
                })
                .filter(|line: &Value| line["action"] == "call" || line["action"] == "get")
                .collect();
            if lines.len() >= count || Instant::now() >= deadline {
                assert_eq!(
                    lines.len(),
                    count,
                    "audit lines of call/get decisions:\n{text}"
                );
                return lines;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `PATH:LINE` of the policy line starting with `start`, as the audit names rules.
    fn rule(&self, start: &str) -> String {
        let text = std::fs::read_to_string(&self.policy).unwrap();
        let line = text
            .lines()
            .position(|line| line.starts_with(start))
            .unwrap_or_else(|| panic!("no policy line starts with {start}"));
        format!("{}:{}", self.policy.display(), line + 1)
    }
}

/// The client's invocation for `cases`: calls and prompt gets, with listing.
fn run_client(sdk: Sdk, url: &str, credential: &Credential, cases: &[Case]) -> Value {
    let mut command = super::clients::client_command(sdk, url, credential);
    command.args(["--list-tools", "--list-prompts"]);
    for case in cases {
        let flag = match case.what {
            Use::Tool => "--call",
            Use::Prompt => "--get-prompt",
        };
        command
            .arg(flag)
            .arg(format!("{}={}", case.name, case.arguments));
    }
    let (status, stdout, stderr) = run_bounded(&format!("{sdk:?} client"), command, CLIENT_TIMEOUT);
    assert_eq!(status, 0, "{sdk:?} client failed:\n{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|error| {
        panic!("{sdk:?} client printed no JSON ({error}):\n{stdout}\n{stderr}")
    });
    assert_eq!(report["initialize"]["ok"], true, "{sdk:?}: {report}");
    assert!(report.get("late_error").is_none(), "{sdk:?}: {report}");
    report
}

/// The client's step for each case, in the cases' order (the client runs the calls
/// first, then the prompt gets).
fn steps<'r>(report: &'r Value, cases: &[Case]) -> Vec<&'r Value> {
    let calls = report["calls"].as_array().unwrap();
    let gets = report["prompt_gets"].as_array().unwrap();
    let (mut call, mut get) = (0, 0);
    cases
        .iter()
        .map(|case| {
            let step = match case.what {
                Use::Tool => {
                    call += 1;
                    calls.get(call - 1)
                }
                Use::Prompt => {
                    get += 1;
                    gets.get(get - 1)
                }
            };
            let step = step.unwrap_or_else(|| panic!("no step for {case:?}: {report}"));
            assert_eq!(step["name"], case.name, "{report}");
            step
        })
        .collect()
}

/// `(method, name, arguments)` of `case`, as the upstream records it.
fn used(case: &Case) -> (String, String, Value) {
    let method = match case.what {
        Use::Tool => "tools/call",
        Use::Prompt => "prompts/get",
    };
    (
        method.to_string(),
        case.name.to_string(),
        serde_json::from_str(case.arguments).unwrap(),
    )
}

/// Cases in the order a client runs them: tool calls, then prompt gets.
fn in_run_order(cases: &[Case]) -> Vec<Case> {
    let mut ordered: Vec<Case> = cases
        .iter()
        .filter(|c| c.what == Use::Tool)
        .copied()
        .collect();
    ordered.extend(cases.iter().filter(|c| c.what == Use::Prompt).copied());
    ordered
}

/// Asserts the client received the upstream's answer for `case`: what it ran, with the
/// arguments sent.
fn assert_answered(sdk: Sdk, step: &Value, case: &Case) {
    let context = || {
        format!(
            "{sdk:?} {} {} ({}): {step}",
            case.name, case.arguments, case.why
        )
    };
    assert_eq!(step["ok"], true, "{}", context());
    assert_ne!(step["is_error"], true, "{}", context());
    assert_eq!(step["status"], 200, "{}", context());
    let answer: Value = serde_json::from_str(step["text"].as_str().unwrap_or(""))
        .unwrap_or_else(|_| panic!("no JSON answer: {}", context()));
    assert_eq!(
        answer,
        json!({"executed": case.name, "arguments": used(case).2}),
        "{}",
        context()
    );
}

/// Asserts the gate refused `case`: `403`, no step-up, the JSON-RPC error naming the
/// name and the reason.
fn assert_refused(sdk: Sdk, step: &Value, case: &Case) {
    let context = || {
        format!(
            "{sdk:?} {} {} ({}): {step}",
            case.name, case.arguments, case.why
        )
    };
    assert_eq!(step["ok"], false, "{}", context());
    assert_eq!(step["status"], 403, "{}", context());
    let challenge = step["www_authenticate"].as_str().unwrap_or("");
    assert!(!challenge.contains("insufficient_scope"), "{}", context());
    let message = step["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains(case.name), "{}", context());
    assert!(message.contains(case.expect.because()), "{}", context());
}

#[test]
fn python_sdk_arguments_through_toolgate_serve() {
    arguments_through_toolgate_serve(Sdk::Python, "python");
}

#[test]
fn python_sdk_legacy_handshake_arguments_through_toolgate_serve() {
    arguments_through_toolgate_serve(Sdk::PythonLegacy, "python-legacy");
}

#[test]
fn typescript_sdk_arguments_through_toolgate_serve() {
    arguments_through_toolgate_serve(Sdk::TypeScript, "typescript");
}

/// Every scenario with `sdk`: first without the gate (everything runs), then through it.
fn arguments_through_toolgate_serve(sdk: Sdk, name: &str) {
    let dir = Scratch::new(&format!("e2e-arguments-{name}"));
    let keys = Keys::make(&dir.0);
    let upstream = Upstream::start(&dir.0, false);

    // The baseline: the upstream runs every case, with the arguments as the SDK sent them.
    let all: Vec<Case> = SCENARIOS
        .iter()
        .flat_map(|s| s.cases.iter().copied())
        .collect();
    let all = in_run_order(&all);
    let mark = upstream.mark();
    let report = run_client(sdk, &upstream.service.url, &Credential::None, &all);
    assert_eq!(report["tools"]["names"], json!(TOOLS), "{sdk:?}: {report}");
    assert_eq!(
        report["prompts"]["names"],
        json!(PROMPTS),
        "{sdk:?}: {report}"
    );
    for (step, case) in steps(&report, &all).into_iter().zip(&all) {
        assert_answered(sdk, step, case);
    }
    let expected: Vec<_> = all.iter().map(used).collect();
    assert_eq!(upstream.executed_since(mark), expected, "{sdk:?} baseline");

    let mut gate = Gate::start(&upstream.service.url, &keys.file, &dir.0);
    for scenario in &SCENARIOS {
        let secret = keys.secret(scenario.principal).to_string();
        let credential = if scenario.bearer {
            Credential::Bearer(secret)
        } else {
            Credential::ApiKey(secret)
        };
        let id = scenario.principal.id;
        let cases = in_run_order(scenario.cases);
        let mark = upstream.mark();
        let report = run_client(sdk, &gate.resource, &credential, &cases);

        assert_eq!(report["tools"]["ok"], true, "{sdk:?} {id}: {report}");
        assert_eq!(
            report["tools"]["names"],
            json!(scenario.tools),
            "{sdk:?} {id}: {report}"
        );
        assert_eq!(report["prompts"]["ok"], true, "{sdk:?} {id}: {report}");
        assert_eq!(
            report["prompts"]["names"],
            json!(scenario.prompts),
            "{sdk:?} {id}: {report}"
        );
        for (step, case) in steps(&report, &cases).into_iter().zip(&cases) {
            match case.expect {
                Expect::Allowed => assert_answered(sdk, step, case),
                Expect::Denied | Expect::NoRule => assert_refused(sdk, step, case),
            }
        }

        // The oracle: the upstream received and ran exactly the allowed cases, in order,
        // with their arguments unchanged; nothing of a refused case reached it.
        let allowed: Vec<_> = cases
            .iter()
            .filter(|case| case.expect == Expect::Allowed)
            .map(used)
            .collect();
        assert_eq!(
            upstream.executed_since(mark),
            allowed,
            "{sdk:?} {id}: what the upstream ran"
        );
        assert_eq!(
            upstream.received_uses_since(mark),
            allowed,
            "{sdk:?} {id}: what reached the upstream"
        );
    }
    gate.service.assert_running();
    check_audit(&gate);
}

/// The audit log has one line per decided use, in order, naming the deciding rule and
/// the argument paths its condition reads, and never an argument's value.
fn check_audit(gate: &Gate) {
    let cases: Vec<(Principal, Case)> = SCENARIOS
        .iter()
        .flat_map(|scenario| {
            in_run_order(scenario.cases)
                .into_iter()
                .map(move |case| (scenario.principal, case))
        })
        .collect();
    let lines = gate.use_decisions(cases.len());
    let known = [
        "time",
        "decision_id",
        "subject",
        "client",
        "roles",
        "method",
        "action",
        "kind",
        "name",
        "decision",
        "reason",
        "rule",
        "missing_scopes",
        "arguments",
        "policy",
        "client_ip",
        "request_id",
    ];
    for (line, (principal, case)) in lines.iter().zip(&cases) {
        let context = format!(
            "{} {} {} ({}): {line}",
            principal.id, case.name, case.arguments, case.why
        );
        let (decision, reason) = case.expect.audited();
        assert_eq!(line["subject"], principal.id, "{context}");
        let decision_id = line["decision_id"].as_str().unwrap_or_default();
        assert!(
            decision_id.len() == 32 && decision_id.bytes().all(|byte| byte.is_ascii_hexdigit()),
            "{context}"
        );
        assert_eq!(line["name"], case.name, "{context}");
        assert_eq!(line["decision"], decision, "{context}");
        assert_eq!(line["reason"], reason, "{context}");
        assert_eq!(
            line["rule"],
            case.rule
                .map_or(Value::Null, |start| Value::from(gate.rule(start))),
            "{context}"
        );
        // Paths, never values: the field is left out when the rule reads no argument.
        if case.paths.is_empty() {
            assert!(line.get("arguments").is_none(), "{context}");
        } else {
            assert_eq!(line["arguments"], json!(case.paths), "{context}");
        }
        for key in line.as_object().unwrap().keys() {
            assert!(
                known.contains(&key.as_str()),
                "unexpected `{key}`: {context}"
            );
        }
        let text = line.to_string();
        for marker in MARKERS {
            assert!(!text.contains(marker), "`{marker}` in the audit: {context}");
        }
    }
}

/// A raw HTTP/1.1 request on its own connection: the status and everything received.
fn raw_post(address: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut request = format!(
        "POST /mcp HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// An MCP session over raw HTTP (revision 2025-11-25), opened with `credential` (a header).
struct RawSession {
    address: String,
    credential: Option<(&'static str, String)>,
    id: String,
}

impl RawSession {
    fn open(address: &str, credential: Option<(&'static str, String)>) -> RawSession {
        let mut session = RawSession {
            address: address.to_string(),
            credential,
            id: String::new(),
        };
        let (status, text) = session.post(
            r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#,
        );
        assert_eq!(status, 200, "initialize: {text}");
        session.id = text
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("mcp-session-id")
                    .then(|| value.trim().to_string())
            })
            .unwrap_or_else(|| panic!("initialize gave no session: {text}"));
        let (status, text) =
            session.post(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        assert!(status / 100 == 2, "notifications/initialized: {text}");
        session
    }

    fn post(&self, body: &str) -> (u16, String) {
        let mut headers = vec![("MCP-Protocol-Version", "2025-11-25")];
        if !self.id.is_empty() {
            headers.push(("Mcp-Session-Id", self.id.as_str()));
        }
        if let Some((name, value)) = &self.credential {
            headers.push((name, value.as_str()));
        }
        raw_post(&self.address, &headers, body)
    }
}

fn address_of(url: &str) -> String {
    url.trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string()
}

fn use_body(id: &str, method: &str, name: &str, arguments: Option<&str>) -> String {
    match arguments {
        Some(arguments) => format!(
            r#"{{"jsonrpc":"2.0","id":"{id}","method":"{method}","params":{{"name":"{name}","arguments":{arguments}}}}}"#
        ),
        None => format!(
            r#"{{"jsonrpc":"2.0","id":"{id}","method":"{method}","params":{{"name":"{name}"}}}}"#
        ),
    }
}

/// `params.arguments` that is not an object (GATE.md: an object or absent, anything else
/// is 400) never reaches the upstream, for `tools/call` and `prompts/get`; absent
/// arguments are `{}`; and the audit line of a decided call names the paths its rule
/// reads, not their values.
#[test]
fn arguments_that_are_not_an_object_never_reach_the_upstream() {
    let dir = Scratch::new("e2e-arguments-raw");
    let keys = Keys::make(&dir.0);
    let upstream = Upstream::start(&dir.0, true);
    let bad: [(&str, &str); 6] = [
        ("array", "[]"),
        (
            "array-of-object",
            r#"[{"path":"docs/intro.md","target":"fr"}]"#,
        ),
        ("string", r#""docs/intro.md""#),
        ("null", "null"),
        ("number", "7"),
        ("boolean", "true"),
    ];
    let uses = [("tools/call", "files.read"), ("prompts/get", "translate")];

    // Without the gate, every one of them reaches the upstream: the marker check sees
    // them arrive.
    let direct = RawSession::open(&upstream.address(), None);
    for (method, name) in uses {
        for (label, arguments) in bad {
            let id = format!("direct-{method}-{label}");
            direct.post(&use_body(&id, method, name, Some(arguments)));
            assert!(upstream.received(&id), "baseline: `{id}` did not arrive");
        }
    }

    let mut gate = Gate::start(&upstream.service.url, &keys.file, &dir.0);
    // The admin may read any file that is not secret and translate into French: were the
    // gate to read a bad `arguments` as `{}`, these would run.
    let admin = RawSession::open(
        &gate.address,
        Some(("Authorization", format!("Bearer {}", keys.secret(ADMIN)))),
    );
    let controls = [
        (
            "control-object",
            "tools/call",
            "files.read",
            Some(r#"{"path":"etc/hosts"}"#),
        ),
        ("control-absent", "tools/call", "files.read", None),
        (
            "control-prompt",
            "prompts/get",
            "translate",
            Some(r#"{"text":"salut","target":"fr"}"#),
        ),
    ];
    for (id, method, name, arguments) in controls {
        let mark = upstream.mark();
        let (status, text) = admin.post(&use_body(id, method, name, arguments));
        assert_eq!(status, 200, "{id}: {text}");
        let expected = serde_json::from_str::<Value>(arguments.unwrap_or("{}")).unwrap();
        assert_eq!(
            upstream.executed_since(mark),
            [(method.to_string(), name.to_string(), expected)],
            "{id}: {text}"
        );
    }
    for (method, name) in uses {
        for (label, arguments) in bad {
            let id = format!("gated-{method}-{label}");
            let mark = upstream.mark();
            let (status, text) = admin.post(&use_body(&id, method, name, Some(arguments)));
            assert_eq!(status, 400, "{id}: {text}");
            assert!(text.contains("params.arguments"), "{id}: {text}");
            assert!(!upstream.received(&id), "{id} reached the upstream");
            assert_eq!(upstream.executed_since(mark), [], "{id}");
        }
    }

    // A decided call's audit line: the argument paths of the deciding rule, no values.
    let developer = RawSession::open(
        &gate.address,
        Some(("X-API-Key", keys.secret(DEVELOPER).to_string())),
    );
    let (status, text) = developer.post(&use_body(
        "audited-read",
        "tools/call",
        "files.read",
        Some(r#"{"path":"docs/guide-R2D2.md","mode":"text-J6QB"}"#),
    ));
    assert_eq!(status, 200, "{text}");
    let (status, text) = developer.post(&use_body(
        "audited-secret",
        "tools/call",
        "files.read",
        Some(r#"{"path":"docs/secret-R2D2.md"}"#),
    ));
    assert_eq!(status, 403, "{text}");
    let deadline = Instant::now() + AUDIT_WAIT;
    let (read, secret) = loop {
        let text = std::fs::read_to_string(&gate.audit).unwrap_or_default();
        let lines: Vec<Value> = text
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect();
        let find = |id: &str| lines.iter().find(|line| line["request_id"] == id).cloned();
        if let (Some(read), Some(secret)) = (find("audited-read"), find("audited-secret")) {
            assert!(
                !text.contains("R2D2"),
                "an argument value in the audit:\n{text}"
            );
            assert!(
                !text.contains("J6QB"),
                "an argument value in the audit:\n{text}"
            );
            break (read, secret);
        }
        assert!(
            Instant::now() < deadline,
            "the calls were not audited:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(read["decision"], "allow", "{read}");
    assert_eq!(read["rule"], gate.rule(DOCS_RULE), "{read}");
    assert_eq!(read["arguments"], json!(["path"]), "{read}");
    assert_eq!(secret["decision"], "deny", "{secret}");
    assert_eq!(secret["reason"], "denied", "{secret}");
    assert_eq!(secret["rule"], gate.rule(SECRET_RULE), "{secret}");
    assert_eq!(secret["arguments"], json!(["path"]), "{secret}");
    gate.service.assert_running();
}
