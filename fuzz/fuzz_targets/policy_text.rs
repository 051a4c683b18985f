//! Any text through parse, check and compile: never a panic, and every diagnostic's
//! span lies inside its file on character boundaries. The text is checked twice: alone,
//! and against a tool list whose tools declare input schemas (W006, W007, and W009 on
//! `arg` paths, v1.1). A policy that compiles decides a few requests, `call`s with
//! arguments among them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolgate::unstable::ast::{Action, Kind};
use toolgate::unstable::check::{self, Config, ToolManifest};
use toolgate::unstable::eval::{Engine, Request};
use toolgate::unstable::source::Sources;
use toolgate::{unstable::compile, unstable::parse};

/// A `tools/list` result: tools with and without an `inputSchema`, property names with
/// dots and slashes.
const TOOLS: &str = r#"{"tools": [
  {"name": "read_file", "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}, "query": {"type": "object"}}}},
  {"name": "search", "inputSchema": {"type": "object", "properties": {"q.limit": {}, "a/b": {}, "n": {"type": "number"}}}},
  {"name": "report.run", "inputSchema": {"type": "object"}},
  {"name": "plain"}
]}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut sources = Sources::from_text("fuzz.policy", text);
    let manifest_source = sources.add("tools.json", TOOLS);
    let manifest = match ToolManifest::parse(TOOLS, manifest_source) {
        Ok(manifest) => manifest,
        Err(error) => panic!("the tool list must parse: {error}"),
    };
    let parsed = parse::parse(&sources);
    let incomplete = !parsed.diagnostics.is_empty();
    let alone = check::check(&parsed.policy, &Config { tools: None, incomplete });
    let with_tools = check::check(
        &parsed.policy,
        &Config {
            tools: Some(&manifest),
            incomplete,
        },
    );
    assert_eq!(alone.policy.is_some(), with_tools.policy.is_some(), "a tool list adds only warnings");
    let diagnostics = parsed
        .diagnostics
        .iter()
        .chain(&alone.diagnostics)
        .chain(&with_tools.diagnostics);
    for diagnostic in diagnostics {
        let file = sources.get(diagnostic.span.source).text();
        let range = diagnostic.span.range();
        assert!(range.start <= range.end && range.end <= file.len(), "{diagnostic:?}");
        assert!(file.is_char_boundary(range.start) && file.is_char_boundary(range.end));
        let _ = sources.location(diagnostic.span);
    }
    let Some(policy) = with_tools.policy else {
        return;
    };
    let engine = Engine::new(compile::compile(&sources, &policy));
    let Ok(principal) = engine.principal(&serde_json::json!({
        "sub": "u", "roles": ["admin", "user"], "scope": "tool:read tool:write"
    })) else {
        return;
    };
    let arguments = serde_json::json!({
        "path": "/data/../etc/passwd", "query": {"limit": 5.5}, "q.limit": 5, "n": null, "a/b": [1, "x"]
    });
    let time = jiff::Timestamp::UNIX_EPOCH;
    for name in ["read_file", "search", "plain"] {
        for (action, arguments) in [
            (Action::Call, arguments.as_object()),
            (Action::Call, None),
            (Action::List, None),
        ] {
            let request = Request { kind: Kind::Tool, action, name, ip: None, time, arguments };
            let _ = engine.decide(&principal, &request);
        }
    }
    let request = Request {
        kind: Kind::Prompt,
        action: Action::Get,
        name: "plain",
        ip: None,
        time,
        arguments: arguments.as_object(),
    };
    let _ = engine.decide(&principal, &request);
});
