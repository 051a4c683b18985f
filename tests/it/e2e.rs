//! End to end with real MCP clients: the official Python SDK (`mcp` on PyPI) and the
//! official TypeScript SDK (`@modelcontextprotocol/sdk`) against the rmcp example server
//! and against `toolgate serve` in front of a plain Python MCP server, on loopback.
//!
//! The clients and servers live in tests/e2e/ (docs/e2e.md). Each test starts its own
//! processes on ephemeral ports and kills them when it ends. A missing SDK fails the test
//! with the command that installs it.

mod arguments;
pub(crate) mod clients;
mod identity;
mod principals;
pub(crate) mod process;
pub(crate) mod servers;

use serde_json::{json, Value};

use crate::cli::Scratch;
use clients::{Credential, Report, Scenario, Sdk, ALL_SDKS};
use identity::Idp;
use principals::{Keys, Principal, ADMIN, DEVELOPER, READER, USER};

/// The tools of tests/e2e/python/upstream_server.py.
const UPSTREAM_TOOLS: [&str; 7] = [
    "db.drop_table",
    "db.query",
    "fs.read_file",
    "fs.write_file",
    "github.create_issue",
    "github.list_repos",
    "logs.tail",
];

/// What each principal may list of a server's tools under tests/e2e/e2e.policy, written
/// out by hand from its rules (never asked of the engine, which is under test), sorted.
struct Lists {
    /// `readonly`, or anyone without `tool:write`: the `github.*` list rule only (no call
    /// rule holds without `tool:write`, so listing follows no use).
    reader: &'static [&'static str],
    /// `user`: plus what it may call, `fs.read_*` and `github.list_*`.
    user: &'static [&'static str],
    /// `developer`: plus `github.*`, `fs.*`, `logs.*`.
    developer: &'static [&'static str],
    /// `admin`: everything but `db.drop_*` (denied off the office network).
    admin: &'static [&'static str],
}

impl Lists {
    /// The list of one of [`principals::ALL`].
    fn of(&self, principal: Principal) -> &'static [&'static str] {
        match principal.id {
            "reader" => self.reader,
            "user" => self.user,
            "developer" => self.developer,
            "admin" => self.admin,
            other => panic!("no list written for `{other}`"),
        }
    }
}

const UPSTREAM_LISTS: Lists = Lists {
    reader: &["github.create_issue", "github.list_repos"],
    user: &["fs.read_file", "github.create_issue", "github.list_repos"],
    developer: &[
        "fs.read_file",
        "fs.write_file",
        "github.create_issue",
        "github.list_repos",
        "logs.tail",
    ],
    admin: &[
        "db.query",
        "fs.read_file",
        "fs.write_file",
        "github.create_issue",
        "github.list_repos",
        "logs.tail",
    ],
};

const EXAMPLE_LISTS: Lists = Lists {
    reader: &["github.create_issue", "github.list_issues"],
    user: &[
        "fs.read_file",
        "fs.read_identity",
        "github.create_issue",
        "github.list_issues",
    ],
    developer: &[
        "fs.read_file",
        "fs.read_identity",
        "fs.write_file",
        "github.create_issue",
        "github.list_issues",
        "logs.tail",
    ],
    admin: &[
        "fs.read_file",
        "fs.read_identity",
        "fs.write_file",
        "github.create_issue",
        "github.list_issues",
        "logs.tail",
        "shell.exec",
    ],
};

/// Which tool each case of the scenario calls, on one server: `NAME`, or `NAME=JSON` to
/// call it with those arguments.
struct Calls {
    /// `USER` may call it.
    user_allowed: &'static str,
    /// No rule lets `USER` call it: `403`, not a step-up.
    user_denied: &'static str,
    /// `DEVELOPER` may call it, `USER` may not.
    developer_allowed: &'static str,
    /// Only `ADMIN` may call it.
    admin_allowed: &'static str,
    /// A deny rule stops even `ADMIN` (from loopback).
    admin_denied: &'static str,
    /// `READER` lacks `tool:write` for it: a step-up challenge.
    step_up: &'static str,
}

const UPSTREAM_CALLS: Calls = Calls {
    user_allowed: "fs.read_file",
    user_denied: "fs.write_file",
    developer_allowed: "logs.tail",
    admin_allowed: "db.query",
    admin_denied: "db.drop_table",
    step_up: "fs.read_file",
};

/// The tools of examples/mcp_server.rs.
const EXAMPLE_TOOLS: [&str; 8] = [
    "db.drop_table",
    "fs.read_file",
    "fs.read_identity",
    "fs.write_file",
    "github.create_issue",
    "github.list_issues",
    "logs.tail",
    "shell.exec",
];

const EXAMPLE_CALLS: Calls = Calls {
    user_allowed: r#"fs.read_file={"path": "README.md"}"#,
    user_denied: r#"fs.write_file={"path": "README.md", "content": "overwritten"}"#,
    developer_allowed: "logs.tail",
    admin_allowed: r#"shell.exec={"command": "true"}"#,
    admin_denied: r#"db.drop_table={"table": "users"}"#,
    step_up: r#"fs.read_file={"path": "README.md"}"#,
};

/// How a server shows who reached it.
#[derive(Clone, Copy)]
enum Witness {
    /// Every tool's text is the upstream's report of what reached it (upstream_server.py).
    Upstream,
    /// This tool, which `USER` may call, answers the principal the gate put into the
    /// request extensions (`fs.read_identity` of the example).
    Tool(&'static str),
}

/// A protected MCP endpoint under test.
struct Target<'a> {
    /// The MCP endpoint the clients connect to (the canonical resource URI).
    resource: &'a str,
    /// What each principal may list of the server's tools.
    lists: &'a Lists,
    calls: &'a Calls,
    witness: Witness,
    /// The record of the server behind the gate, if it keeps one (upstream_server.py).
    upstream: Option<&'a servers::Upstream>,
}

impl Target<'_> {
    /// A mark in the upstream's record (0 without one).
    fn mark(&self) -> usize {
        self.upstream.map_or(0, |upstream| upstream.log.mark())
    }

    /// Nothing reached the upstream after `mark`: not a request, let alone a call.
    fn assert_untouched(&self, mark: usize, what: &str) {
        if let Some(upstream) = self.upstream {
            let records = upstream.log.since(mark);
            assert!(
                records.is_empty(),
                "{what}: refused, yet the upstream received {records:#?}"
            );
        }
    }

    /// After `mark` the upstream ran exactly the calls `ran` (`NAME` or `NAME=JSON`), in
    /// order, each with the arguments the client sent, for `subject`, with no credential;
    /// and no other `tools/call` reached it at all.
    fn assert_ran(&self, mark: usize, subject: &str, ran: &[&str], what: &str) {
        let Some(upstream) = self.upstream else {
            return;
        };
        let executed = upstream.log.kind_since("executed", mark);
        let names: Vec<&str> = executed
            .iter()
            .map(|record| record["tool"].as_str().unwrap_or(""))
            .collect();
        let expected: Vec<&str> = ran.iter().map(|call| clients::name_of(call)).collect();
        assert_eq!(names, expected, "{what}: the upstream ran {executed:#?}");
        for (record, call) in executed.iter().zip(ran) {
            let sent = call.split_once('=').map_or(json!({}), |(_, arguments)| {
                serde_json::from_str(arguments).unwrap()
            });
            let arguments = match &record["arguments"] {
                Value::Null => json!({}),
                arguments => arguments.clone(),
            };
            assert_eq!(arguments, sent, "{what}: {record}");
            assert_eq!(
                record["principal"]["x-toolgate-subject"], subject,
                "{what}: {record}"
            );
            assert_eq!(
                record["credentials_forwarded"],
                json!([]),
                "{what}: {record}"
            );
        }
        let received: Vec<String> = upstream
            .log
            .kind_since("request", mark)
            .iter()
            .filter(|request| request["decoded"]["method"] == "tools/call")
            .map(|request| {
                request["decoded"]["params"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        assert_eq!(
            received, expected,
            "{what}: the calls that reached the upstream (refused ones must not)"
        );
    }
}

/// What tests/e2e/e2e.policy lets each principal list, read off its rules by hand: the
/// engine must agree.
#[test]
fn the_e2e_policy_lists_what_its_rules_say() {
    for principal in principals::ALL {
        assert_eq!(
            principals::listable(principal, &UPSTREAM_TOOLS),
            UPSTREAM_LISTS.of(principal),
            "{}",
            principal.id
        );
        assert_eq!(
            principals::listable(principal, &EXAMPLE_TOOLS),
            EXAMPLE_LISTS.of(principal),
            "{}",
            principal.id
        );
    }
}

/// Without a gate every SDK lists and calls every tool: the baseline that the gated tests
/// narrow, and proof that the clients and the upstream speak MCP to each other.
#[test]
fn every_sdk_lists_and_calls_everything_on_the_unprotected_upstream() {
    let dir = Scratch::new("e2e-unprotected");
    let upstream = servers::start_upstream(&dir.0);
    for sdk in ALL_SDKS {
        let mark = upstream.log.mark();
        let report = clients::run(
            sdk,
            &upstream.service.url,
            &Credential::None,
            &Scenario::list_and_call(&["db.drop_table", "fs.read_file"]),
        );
        report.initialize().assert_ok();
        assert_eq!(
            report.value["initialize"]["server_name"],
            "toolgate-e2e-upstream"
        );
        assert_eq!(report.tool_names(), UPSTREAM_TOOLS);
        for name in ["db.drop_table", "fs.read_file"] {
            let call = report.call(name);
            call.assert_ok();
            let seen: Value = serde_json::from_str(call.text()).unwrap();
            assert_eq!(seen["tool"], name);
            assert_eq!(seen["principal"]["x-toolgate-subject"], Value::Null);
        }
        // The record sees both calls run: the oracle the gated tests rely on.
        let ran: Vec<Value> = upstream
            .log
            .kind_since("executed", mark)
            .iter()
            .map(|record| record["tool"].clone())
            .collect();
        assert_eq!(ran, ["db.drop_table", "fs.read_file"], "{sdk:?}");
    }
}

#[test]
fn python_sdk_through_toolgate_serve() {
    through_toolgate_serve(Sdk::Python, "serve-python", identity::CLIENTS[0]);
}

#[test]
fn python_sdk_legacy_handshake_through_toolgate_serve() {
    through_toolgate_serve(
        Sdk::PythonLegacy,
        "serve-python-legacy",
        identity::CLIENTS[1],
    );
}

#[test]
fn typescript_sdk_through_toolgate_serve() {
    through_toolgate_serve(Sdk::TypeScript, "serve-typescript", identity::CLIENTS[2]);
}

/// `toolgate serve` accepting API keys and the identity provider's JWTs, in front of the
/// Python upstream, driven by `sdk`; `client` is the provider's client (one per signing
/// algorithm) whose tokens this run uses.
fn through_toolgate_serve(sdk: Sdk, name: &str, client: &'static str) {
    let dir = Scratch::new(&format!("e2e-{name}"));
    let keys = Keys::make(&dir.0);
    let idp = Idp::start();
    let upstream = servers::start_upstream(&dir.0);
    let mut gate = servers::start_serve(&servers::ServeSetup {
        upstream: &upstream.service.url,
        api_keys: Some(&keys.file),
        issuer: Some(&idp.issuer),
        dir: &dir.0,
    });
    let target = Target {
        resource: &gate.resource,
        lists: &UPSTREAM_LISTS,
        calls: &UPSTREAM_CALLS,
        witness: Witness::Upstream,
        upstream: Some(&upstream),
    };
    check_gate(sdk, &target, &keys);
    check_idp_tokens(sdk, &target, &idp, client);
    gate.service.assert_running();
    check_audit(&gate.audit, &keys, UPSTREAM_CALLS.admin_denied);
    // No credential ever reached the upstream, in any request.
    let requests = upstream.log.kind_since("request", 0);
    assert!(!requests.is_empty());
    for request in &requests {
        for header in request["headers"].as_array().unwrap() {
            let name = header[0].as_str().unwrap().to_ascii_lowercase();
            assert!(
                name != "authorization" && name != "x-api-key",
                "a credential reached the upstream: {request}"
            );
        }
    }
    let text = std::fs::read_to_string(&upstream.log.0).unwrap();
    for secret in keys.secrets() {
        assert!(!text.contains(secret), "a key reached the upstream");
    }
}

#[test]
fn python_sdk_against_the_rmcp_example() {
    against_the_rmcp_example(Sdk::Python);
}

#[test]
fn python_sdk_legacy_handshake_against_the_rmcp_example() {
    against_the_rmcp_example(Sdk::PythonLegacy);
}

#[test]
fn typescript_sdk_against_the_rmcp_example() {
    against_the_rmcp_example(Sdk::TypeScript);
}

/// The rmcp example server (the tower layer in rmcp's own process) with the e2e policy,
/// its printed API keys and JWTs, driven by `sdk`.
fn against_the_rmcp_example(sdk: Sdk) {
    let mut example = servers::start_example(&principals::policy_path());
    let keys = Keys::from_example(&example.preamble);
    let target = Target {
        resource: &example.url,
        lists: &EXAMPLE_LISTS,
        calls: &EXAMPLE_CALLS,
        witness: Witness::Tool("fs.read_identity"),
        upstream: None,
    };
    check_gate(sdk, &target, &keys);
    check_example_tokens(sdk, &target, &example.preamble);
    example.assert_running();
}

/// The HS256 JWTs the example printed (`jwt NAME TOKEN`): a developer's, and a user's
/// without `tool:write` (a step-up).
fn check_example_tokens(sdk: Sdk, target: &Target, preamble: &[String]) {
    let token = |name: &str| {
        let prefix = format!("jwt {name} ");
        let line = preamble
            .iter()
            .find(|line| line.starts_with(&prefix))
            .unwrap_or_else(|| panic!("the example printed no `{name}` token"));
        Credential::Bearer(line[prefix.len()..].trim().to_string())
    };
    let calls = target.calls;
    let developer = connect(
        sdk,
        target,
        &token("developer"),
        DEVELOPER.id,
        Expected {
            listed: target.lists.developer,
            calls: &[calls.developer_allowed],
            ran: &[calls.developer_allowed],
        },
    );
    developer.call(calls.developer_allowed).assert_ok();

    // A user without `tool:write` lists what a reader lists: no call rule holds for it.
    let report = connect(
        sdk,
        target,
        &token("user-without-write"),
        "user-without-write",
        Expected {
            listed: target.lists.reader,
            calls: &[calls.user_allowed],
            ran: &[],
        },
    );
    let step_up = report.call(calls.user_allowed);
    step_up.assert_refused(403);
    step_up.assert_challenge_has(r#"error="insufficient_scope""#);
    step_up.assert_challenge_has("tool:write");
}

/// The whole scenario against one protected endpoint.
fn check_gate(sdk: Sdk, target: &Target, keys: &Keys) {
    check_no_credentials(sdk, target);
    check_bad_key(sdk, target);
    let calls = target.calls;

    // The step-up is refused before the upstream: it never runs there.
    let reader = as_principal(sdk, target, keys, READER, &[calls.step_up], &[]);
    let step_up = reader.call(calls.step_up);
    step_up.assert_refused(403);
    step_up.assert_challenge_has(r#"error="insufficient_scope""#);
    step_up.assert_challenge_has("tool:write");
    step_up.assert_challenge_has("resource_metadata=");

    let user = as_principal(
        sdk,
        target,
        keys,
        USER,
        &[calls.user_allowed, calls.user_denied],
        &[calls.user_allowed],
    );
    check_allowed(&user, calls.user_allowed, USER, target);
    check_denied(&user, calls.user_denied);
    if let Witness::Tool(tool) = target.witness {
        let report = as_principal(sdk, target, keys, USER, &[tool], &[tool]);
        let call = report.call(tool);
        call.assert_ok();
        let identity: Value = serde_json::from_str(call.text()).unwrap();
        assert_eq!(identity["subject"], USER.id, "{identity}");
        assert!(identity["roles"].to_string().contains("user"), "{identity}");
    }

    let developer = as_principal(
        sdk,
        target,
        keys,
        DEVELOPER,
        &[calls.developer_allowed],
        &[calls.developer_allowed],
    );
    check_allowed(&developer, calls.developer_allowed, DEVELOPER, target);

    let admin = as_principal(
        sdk,
        target,
        keys,
        ADMIN,
        &[calls.admin_allowed, calls.admin_denied],
        &[calls.admin_allowed],
    );
    check_allowed(&admin, calls.admin_allowed, ADMIN, target);
    check_denied(&admin, calls.admin_denied);
}

/// What one client run must observe: the tools listed (written out by hand), the calls it
/// makes, and which of those the server behind the gate runs (the others must not even
/// reach it).
struct Expected<'a> {
    listed: &'a [&'a str],
    calls: &'a [&'a str],
    ran: &'a [&'a str],
}

/// Connects as `principal` (with the key in `X-API-Key` for some, `Authorization: Bearer`
/// for the others), lists the tools, asserts the list, calls `calls`, and asserts that
/// the upstream ran exactly `ran` of them.
fn as_principal(
    sdk: Sdk,
    target: &Target,
    keys: &Keys,
    principal: Principal,
    calls: &[&str],
    ran: &[&str],
) -> Report {
    let secret = keys.secret(principal).to_string();
    let credential = match principal.id {
        "reader" | "developer" => Credential::ApiKey(secret),
        _ => Credential::Bearer(secret),
    };
    let expected = Expected {
        listed: target.lists.of(principal),
        calls,
        ran,
    };
    connect(sdk, target, &credential, principal.id, expected)
}

/// Connects with `credential` (whose subject is `subject`), lists the tools, asserts the
/// list, calls the expected calls, and asserts what the upstream ran.
fn connect(
    sdk: Sdk,
    target: &Target,
    credential: &Credential,
    subject: &str,
    expected: Expected,
) -> Report {
    let mark = target.mark();
    let report = clients::run(
        sdk,
        target.resource,
        credential,
        &Scenario::list_and_call(expected.calls),
    );
    report.initialize().assert_ok();
    assert_eq!(
        report.tool_names(),
        expected.listed,
        "{sdk:?} as `{subject}`: {}",
        report.value
    );
    // The filtered list is this caller's: no shared cache may keep it.
    let cache_control = report.tools().value["cache_control"].as_str().unwrap_or("");
    assert!(
        cache_control.contains("private"),
        "{sdk:?}: tools/list not marked private: {}",
        report.value
    );
    target.assert_ran(
        mark,
        subject,
        expected.ran,
        &format!("{sdk:?} as `{subject}` calling {:?}", expected.calls),
    );
    report
}

/// Access tokens from the real identity provider (role `developer`, scopes `tools:read`
/// and `tools:write`, which e2e.policy maps onto `tool:read` / `tool:write`).
fn check_idp_tokens(sdk: Sdk, target: &Target, idp: &Idp, client: &'static str) {
    let calls = target.calls;
    let principal = Principal {
        id: client,
        roles: &["developer"],
        scopes: &["tools:read", "tools:write"],
    };
    let token = idp.token(client, "tools:read tools:write", target.resource);
    let developer = connect(
        sdk,
        target,
        &Credential::Bearer(token),
        client,
        Expected {
            listed: target.lists.developer,
            calls: &[calls.developer_allowed, calls.admin_allowed],
            ran: &[calls.developer_allowed],
        },
    );
    check_allowed(&developer, calls.developer_allowed, principal, target);
    check_denied(&developer, calls.admin_allowed);

    // Without `tools:write` a developer lists what a reader lists, and runs nothing.
    let token = idp.token(client, "tools:read", target.resource);
    let report = connect(
        sdk,
        target,
        &Credential::Bearer(token),
        client,
        Expected {
            listed: target.lists.reader,
            calls: &[calls.developer_allowed],
            ran: &[],
        },
    );
    let step_up = report.call(calls.developer_allowed);
    step_up.assert_refused(403);
    step_up.assert_challenge_has(r#"error="insufficient_scope""#);
    step_up.assert_challenge_has("write");

    // A token the provider issued for another resource: not for this server.
    let elsewhere = idp.token(
        client,
        "tools:read tools:write",
        "http://127.0.0.1:9/elsewhere",
    );
    assert_invalid_token(sdk, target, elsewhere);
}

/// No credentials: `401` naming the metadata document, which describes the resource;
/// nothing reaches the upstream.
fn check_no_credentials(sdk: Sdk, target: &Target) {
    let scenario = Scenario {
        list_tools: true,
        metadata: true,
        ..Scenario::default()
    };
    let mark = target.mark();
    let report = clients::run(sdk, target.resource, &Credential::None, &scenario);
    let initialize = report.initialize();
    initialize.assert_refused(401);
    initialize.assert_challenge_has("resource_metadata=");
    initialize.assert_challenge_lacks("error=");
    target.assert_untouched(mark, &format!("{sdk:?} without credentials"));
    let metadata = &report.value["metadata"];
    let origin = target.resource.trim_end_matches("/mcp");
    assert_eq!(
        metadata["url"],
        format!("{origin}/.well-known/oauth-protected-resource/mcp"),
        "{sdk:?}: {metadata}"
    );
    assert_eq!(metadata["status"], 200, "{sdk:?}: {metadata}");
    assert_eq!(
        metadata["body"]["resource"], target.resource,
        "{sdk:?}: {metadata}"
    );
    assert_eq!(
        metadata["body"]["bearer_methods_supported"],
        serde_json::json!(["header"])
    );
    let scopes = metadata["body"]["scopes_supported"].as_array().unwrap();
    for scope in ["tool:read", "tool:write", "tool:admin"] {
        assert!(scopes.contains(&Value::from(scope)), "{sdk:?}: {metadata}");
    }
}

/// A well-formed key that the key file does not hold: `401 invalid_token`.
fn check_bad_key(sdk: Sdk, target: &Target) {
    let ghost = format!("tgk_ghost_{}", "A".repeat(43));
    assert_invalid_token(sdk, target, ghost);
}

/// Initializing with `credential` is refused: `401 invalid_token` naming the metadata;
/// nothing reaches the upstream.
fn assert_invalid_token(sdk: Sdk, target: &Target, credential: String) {
    let mark = target.mark();
    let report = clients::run(
        sdk,
        target.resource,
        &Credential::Bearer(credential),
        &Scenario::list_and_call(&[]),
    );
    let initialize = report.initialize();
    initialize.assert_refused(401);
    initialize.assert_challenge_has(r#"error="invalid_token""#);
    initialize.assert_challenge_has("resource_metadata=");
    target.assert_untouched(mark, &format!("{sdk:?} with an invalid token"));
}

fn check_allowed(report: &Report, name: &str, principal: Principal, target: &Target) {
    let call = report.call(name);
    call.assert_ok();
    if !matches!(target.witness, Witness::Upstream) {
        return;
    }
    // What reached the upstream: the principal's headers, never the credential.
    let seen: Value = serde_json::from_str(call.text()).unwrap();
    assert_eq!(seen["tool"], clients::name_of(name));
    assert_eq!(
        seen["credentials_forwarded"],
        serde_json::json!([]),
        "{seen}"
    );
    assert_eq!(
        seen["principal"]["x-toolgate-subject"], principal.id,
        "{seen}"
    );
    let roles = seen["principal"]["x-toolgate-roles"].as_str().unwrap_or("");
    assert!(!roles.is_empty(), "no roles forwarded: {seen}");
}

/// A denied call: `403` with a JSON-RPC error naming the tool, and no step-up challenge.
fn check_denied(report: &Report, name: &str) {
    let call = report.call(name);
    let name = clients::name_of(name);
    call.assert_refused(403);
    call.assert_challenge_lacks("insufficient_scope");
    let message = call.value["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains(name),
        "the error does not name `{name}`: {}",
        call.value
    );
}

/// The audit log: one JSON object per line, the denied call recorded, no key in it.
fn check_audit(path: &std::path::Path, keys: &Keys, denied: &str) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(
        lines.iter().any(|line| line.to_string().contains(denied)),
        "no audit line for `{denied}`:\n{text}"
    );
    for secret in keys.secrets() {
        assert!(!text.contains(secret), "a key is in the audit log");
    }
}

/// The rmcp example behind the layer answers the MCP path only: `/mcp/` and
/// `/mcp/anything` (which axum's `nest_service` used to route to the service, and which
/// rmcp does not look at) are refused for every principal, with or without a session.
#[test]
fn path_variants_through_the_rmcp_example_are_refused() {
    let example = servers::start_example(&principals::policy_path());
    let keys = Keys::from_example(&example.preamble);
    let address = example
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_string();
    let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;
    let call = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"fs.read_identity","arguments":{}}}"#;
    // The endpoint itself answers `initialize` for this key: the variants are the only
    // difference.
    let (status, _) = raw_post(&address, "/mcp", keys.secret(READER), initialize);
    assert_eq!(status, 200);
    for path in ["/mcp/", "/mcp/anything", "/mcp//", "/mcp/."] {
        for body in [initialize, call] {
            let (status, text) = raw_post(&address, path, keys.secret(READER), body);
            assert_eq!(status, 404, "{path}: {text}");
            assert!(!text.contains("protocolVersion\":\"20"), "{path}: {text}");
            assert!(!text.contains("\"content\""), "{path}: {text}");
        }
    }
}

/// A raw HTTP/1.1 POST: the status and the whole response as text.
fn raw_post(address: &str, path: &str, key: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, text)
}
