//! The case corpus: the shared conformance cases and this project's own cases
//! (`tests/cases/*`), in the shared runner's format, decided by the compiled table.
//! `reference.rs` runs the same corpus through the reference interpreter.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use toolgate::unstable::eval::Engine;
use toolgate::unstable::source::Sources;
use toolgate::unstable::wire;

/// One line of a `cases.jsonl`.
#[derive(Debug, Deserialize)]
pub struct Case {
    pub note: String,
    pub request: Value,
    pub expect: Expect,
}

/// The expected decision; `rule` is text from the deciding statement's first line.
/// `{"error": true}` instead: the request is refused (its token gives no principal).
#[derive(Debug, Deserialize)]
pub struct Expect {
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub missing_scopes: Vec<String>,
    #[serde(default)]
    pub error: bool,
}

/// A case folder: its policy path, the policy files, and its cases.
pub struct CaseDir {
    pub dir: PathBuf,
    pub policy: PathBuf,
    pub files: Vec<PathBuf>,
    pub cases: Vec<Case>,
    /// The cases whose request must be refused (`{"expect": {"error": true}}`).
    pub refused: Vec<Case>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The folders of both corpora holding `file`: the shared ones (and those of later
/// language versions in subfolders, such as `v1.1/*`, as the shared runner expands
/// them) and this project's `tests/cases/*`.
fn folders_with(file: &str) -> Vec<PathBuf> {
    let shared = root().join("../shared/conformance");
    let own = root().join("tests/cases");
    // A folder that cannot be read fails the test: a missing corpus never passes as an
    // empty one.
    let children = |base: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(base)
            .unwrap_or_else(|error| panic!("cannot read the case folder {base:?}: {error}"))
            .map(|entry| entry.unwrap().path())
            .collect()
    };
    let is_case =
        |path: &Path| path.join("cases.jsonl").exists() || path.join("expect.json").exists();
    let mut dirs = Vec::new();
    for base in [shared, own] {
        for child in children(&base) {
            if is_case(&child) {
                dirs.push(child);
            } else if child.is_dir() {
                dirs.extend(children(&child).into_iter().filter(|path| is_case(path)));
            }
        }
    }
    dirs.retain(|dir| dir.join(file).exists());
    dirs.sort();
    dirs
}

/// Every decision-case folder of both corpora.
pub fn case_dirs() -> Vec<CaseDir> {
    let dirs = folders_with("cases.jsonl");
    let shared = root().join("../shared/conformance");
    let own = root().join("tests/cases");
    assert!(
        dirs.iter()
            .any(|dir| dir.parent() == Some(shared.as_path())),
        "the shared v1 cases are not found in {shared:?}"
    );
    assert!(
        dirs.iter().any(|dir| dir.ends_with("v1.1/args")),
        "the shared v1.1 cases are not found"
    );
    assert!(
        dirs.iter().any(|dir| dir.starts_with(&own)),
        "this project's cases are not found in {own:?}"
    );
    dirs.into_iter().map(read_case_dir).collect()
}

fn read_case_dir(dir: PathBuf) -> CaseDir {
    let folder = dir.join("policy");
    let (policy, mut files) = if folder.is_dir() {
        let files = std::fs::read_dir(&folder)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "policy"))
            .collect();
        (folder, files)
    } else {
        let single = dir.join("policy.policy");
        (single.clone(), vec![single])
    };
    files.sort();
    let text = std::fs::read_to_string(dir.join("cases.jsonl")).unwrap();
    let (refused, cases) = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str::<Case>(line).unwrap_or_else(|e| panic!("{dir:?}: {e}: {line}"))
        })
        .partition(|case| case.expect.error);
    CaseDir {
        dir,
        policy,
        files,
        cases,
        refused,
    }
}

/// `(file name, line)` of the first line holding `text` among `files`.
pub fn locate(files: &[PathBuf], text: &str) -> (String, usize) {
    for path in files {
        let content = std::fs::read_to_string(path).unwrap();
        if let Some(number) = content.lines().position(|line| line.contains(text)) {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            return (name, number + 1);
        }
    }
    panic!("case error: no line holds {text:?}");
}

/// Whether a `PATH:LINE` rule matches the expectation.
pub fn rule_matches(got: Option<&str>, want: Option<&str>, files: &[PathBuf]) -> bool {
    match (got, want) {
        (None, None) => true,
        (Some(got), Some(want)) => {
            let Some((path, line)) = got.rsplit_once(':') else {
                return false;
            };
            let (name, number) = locate(files, want);
            Path::new(path)
                .file_name()
                .is_some_and(|n| n.to_string_lossy() == name)
                && line == number.to_string()
        }
        _ => false,
    }
}

/// A decision in the corpus's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub decision: String,
    pub reason: String,
    pub rule: Option<String>,
    pub missing_scopes: Vec<String>,
}

/// Whether `got` is what the case expects.
pub fn agrees(got: &Outcome, want: &Expect, files: &[PathBuf]) -> bool {
    got.decision == want.decision
        && got.reason == want.reason
        && got.missing_scopes == want.missing_scopes
        && rule_matches(got.rule.as_deref(), want.rule.as_deref(), files)
}

/// Loads a case folder's policy into an engine (panics on diagnostics errors).
pub fn engine(case_dir: &CaseDir) -> Engine {
    let sources = Sources::from_path(&case_dir.policy).unwrap();
    match toolgate::LoadOptions::default().load_sources(sources) {
        Ok(loaded) => loaded.into_engine(),
        Err(error) => panic!("{:?}: {error}", case_dir.dir),
    }
}

/// Decides a corpus request with the compiled table.
pub fn decide_with_table(engine: &Engine, request: &Value) -> Outcome {
    let line = serde_json::to_string(request).unwrap();
    let parsed = wire::parse_request(&line).unwrap();
    let claims: Value = serde_json::from_str(parsed.claims.get()).unwrap();
    let principal = engine.principal(&claims).unwrap();
    let request = parsed.request(parsed.time.expect("corpus requests carry a time"));
    let decision = engine.decide(&principal, &request);
    Outcome {
        decision: if decision.is_allowed() {
            "allow"
        } else {
            "deny"
        }
        .to_string(),
        reason: decision.reason.as_str().to_string(),
        rule: decision.rule.map(|rule| rule.to_string()),
        missing_scopes: decision
            .missing_scopes
            .iter()
            .map(|s| s.to_string())
            .collect(),
    }
}

/// Decides every corpus case with the decider each case folder gets from `prepare`,
/// and asserts that all of them agree with their expectations.
fn assert_corpus_agrees<D: Fn(&Value) -> Outcome>(prepare: impl Fn(&CaseDir) -> D) {
    let mut failures = Vec::new();
    let mut total = 0;
    for case_dir in case_dirs() {
        let decide = prepare(&case_dir);
        for case in &case_dir.cases {
            total += 1;
            let got = decide(&case.request);
            if !agrees(&got, &case.expect, &case_dir.files) {
                failures.push(format!(
                    "{}: {}\n  expected {:?}\n  got      {:?}",
                    case_dir.dir.display(),
                    case.note,
                    case.expect,
                    got
                ));
            }
        }
    }
    assert!(total > 600, "only {total} cases");
    assert!(
        failures.is_empty(),
        "{} of {total} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_case_is_decided_as_expected_by_the_table() {
    assert_corpus_agrees(|case_dir| {
        let engine = engine(case_dir);
        move |request: &Value| decide_with_table(&engine, request)
    });
}

#[test]
fn diagnostics_cases_report_the_expected_codes() {
    let mut checked = 0;
    for dir in folders_with("expect.json") {
        let expect = dir.join("expect.json");
        let specs: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&expect).unwrap()).unwrap();
        for spec in specs {
            checked += 1;
            check_spec(&dir, &spec);
        }
    }
    assert!(checked >= 4);
}

fn check_spec(dir: &Path, spec: &Value) {
    let file = dir.join(spec["file"].as_str().unwrap());
    // Files named in `args` are relative to the case folder, as the shared runner
    // (which runs inside it) reads them.
    let args: Vec<String> = spec["args"]
        .as_array()
        .map(|args| {
            args.iter()
                .map(|a| a.as_str().unwrap())
                .map(|arg| match dir.join(arg) {
                    path if !arg.starts_with('-') && path.exists() => {
                        path.to_str().unwrap().to_string()
                    }
                    _ => arg.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = crate::cli::toolgate(
        &[
            &["check", file.to_str().unwrap(), "--format", "json"],
            args.as_slice(),
        ]
        .concat(),
        None,
    );
    let found: Vec<Value> = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(
        output.status,
        spec["exit"].as_i64().unwrap() as i32,
        "{file:?}: {found:?}"
    );
    let mut pool: Vec<(String, u64)> = found
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect();
    for want in spec["expect"].as_array().unwrap() {
        let code = want["code"].as_str().unwrap();
        let lines: Vec<u64> = want["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_u64().unwrap())
            .collect();
        let hit = pool
            .iter()
            .position(|(c, l)| c == code && lines.contains(l));
        match hit {
            Some(at) => {
                pool.remove(at);
            }
            None => panic!("{file:?}: missing {code} on line {lines:?}; got {found:?}"),
        }
    }
}

/// Decides a corpus request with the reference interpreter.
fn decide_with_reference(policy: &crate::reference::Policy, request: &Value) -> Outcome {
    let line = serde_json::to_string(request).unwrap();
    let parsed = wire::parse_request(&line).unwrap();
    let reference_request = crate::reference::RefRequest {
        claims: serde_json::from_str(parsed.claims.get()).unwrap(),
        kind: parsed.kind,
        action: parsed.action,
        name: parsed.name.to_string(),
        ip: parsed.ip,
        time: parsed.time.expect("corpus requests carry a time"),
        arguments: parsed.arguments.clone().map(serde_json::Value::Object),
    };
    let decision = crate::reference::decide_policy(policy, &reference_request);
    Outcome {
        decision: if decision.allow { "allow" } else { "deny" }.to_string(),
        reason: decision.reason.to_string(),
        rule: decision.rule,
        missing_scopes: decision.missing_scopes,
    }
}

/// A case's policy (a file or a folder) read by the reference interpreter's own parser.
fn reference_policy(path: &std::path::Path) -> crate::reference::Policy {
    let sources = Sources::from_path(path).unwrap();
    crate::reference::parse(&sources).unwrap_or_else(|error| panic!("{path:?}: {error}"))
}

#[test]
fn every_case_is_decided_as_expected_by_the_reference_interpreter() {
    assert_corpus_agrees(|case_dir| {
        let policy = reference_policy(&case_dir.policy);
        move |request: &Value| decide_with_reference(&policy, request)
    });
}

/// Whether a request line breaks CLI.md's rule on `arguments` (v1.1), read here from
/// the JSON alone: given (not `null`) with `list` or `read`, or not an object.
fn arguments_invalid(request: &Value) -> bool {
    let arguments = request.get("arguments").unwrap_or(&Value::Null);
    let action = request.get("action").and_then(Value::as_str);
    !arguments.is_null() && (!arguments.is_object() || !matches!(action, Some("call" | "get")))
}

/// Requests that must be refused are refused for the same reason by the engine and by
/// the reference interpreter: either the line breaks the rule on `arguments` (CLI.md),
/// which the engine's request parser refuses, or the token gives no principal (an
/// ambiguous claims-map path).
#[test]
fn refused_cases_give_no_principal() {
    let (mut refused, mut invalid) = (0, 0);
    for case_dir in case_dirs() {
        let engine = engine(&case_dir);
        let policy = reference_policy(&case_dir.policy);
        for case in &case_dir.refused {
            let line = serde_json::to_string(&case.request).unwrap();
            let parsed = wire::parse_request(&line);
            if arguments_invalid(&case.request) {
                invalid += 1;
                assert!(
                    parsed.is_err(),
                    "{:?}: {}: the engine reads the line",
                    case_dir.dir,
                    case.note
                );
                continue;
            }
            assert!(
                parsed.is_ok(),
                "{:?}: {}: {:?}",
                case_dir.dir,
                case.note,
                parsed.err()
            );
            refused += 1;
            let claims = &case.request["claims"];
            assert!(
                engine.principal(claims).is_err(),
                "{:?}: {}",
                case_dir.dir,
                case.note
            );
            let request = crate::reference::RefRequest {
                claims: claims.clone(),
                kind: toolgate::Kind::Tool,
                action: toolgate::Action::Call,
                name: String::new(),
                ip: None,
                time: jiff::Timestamp::UNIX_EPOCH,
                arguments: None,
            };
            assert!(
                crate::reference::refuses(&policy, &request),
                "{}",
                case.note
            );
        }
    }
    assert!(refused >= 1, "no refused case found");
    assert!(invalid >= 8, "only {invalid} cases with invalid arguments");
}

/// The rule on `arguments` as read here agrees with the engine's request parser on
/// every corpus request.
#[test]
fn valid_corpus_requests_carry_valid_arguments() {
    let mut with_arguments = 0;
    for case_dir in case_dirs() {
        for case in &case_dir.cases {
            assert!(!arguments_invalid(&case.request), "{}", case.note);
            if case.request.get("arguments").is_some() {
                with_arguments += 1;
            }
        }
    }
    assert!(
        with_arguments >= 200,
        "only {with_arguments} requests with arguments"
    );
}
