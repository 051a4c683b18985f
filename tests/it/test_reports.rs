//! `toolgate test --format junit|json` and `--coverage`: reports for CI, read back by real
//! parsers (roxmltree here, Python's `xml.etree` as an independent consumer, serde_json),
//! and coverage checked line by line on a small hand-written policy.

use std::path::Path;

use serde_json::{json, Value};

use crate::cli::{toolgate, Output, Scratch};

// --- reading JUnit XML ------------------------------------------------------------------

/// The JUnit document as data: per suite its counts and per case its outcome, read with
/// roxmltree (a strict XML 1.0 parser). Panics when the document is not well-formed.
fn junit_view(xml: &str) -> Value {
    let document = roxmltree::Document::parse(xml)
        .unwrap_or_else(|error| panic!("not well-formed XML: {error}\n{xml}"));
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<Value> = root
        .children()
        .filter(|node| node.is_element())
        .map(|suite| {
            assert_eq!(suite.tag_name().name(), "testsuite");
            let cases: Vec<Value> = suite
                .children()
                .filter(|node| node.has_tag_name("testcase"))
                .map(|case| {
                    let result = case.children().find(|node| {
                        node.has_tag_name("failure")
                            || node.has_tag_name("error")
                            || node.has_tag_name("skipped")
                    });
                    json!({
                        "name": case.attribute("name"),
                        "classname": case.attribute("classname"),
                        "file": case.attribute("file"),
                        "line": case.attribute("line"),
                        "outcome": result.map_or("passed", |node| node.tag_name().name()),
                        "message": result.and_then(|node| node.attribute("message")),
                        "type": result.and_then(|node| node.attribute("type")),
                        "text": result.and_then(|node| node.text()),
                    })
                })
                .collect();
            let properties: serde_json::Map<String, Value> = suite
                .descendants()
                .filter(|node| node.has_tag_name("property"))
                .map(|node| {
                    (
                        node.attribute("name").unwrap().to_string(),
                        json!(node.attribute("value")),
                    )
                })
                .collect();
            json!({
                "name": suite.attribute("name"),
                "tests": suite.attribute("tests"),
                "failures": suite.attribute("failures"),
                "errors": suite.attribute("errors"),
                "skipped": suite.attribute("skipped"),
                "properties": properties,
                "cases": cases,
            })
        })
        .collect();
    json!({
        "tests": root.attribute("tests"),
        "failures": root.attribute("failures"),
        "errors": root.attribute("errors"),
        "skipped": root.attribute("skipped"),
        "suites": suites,
    })
}

/// The same view of the document, read by Python's `xml.etree.ElementTree` (expat): an
/// independent XML parser that CI tooling written in Python reads JUnit with.
const PYTHON_VIEW: &str = r#"
import json, sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
def counts(element):
    return {key: element.get(key) for key in ("tests", "failures", "errors", "skipped")}
suites = []
for suite in root:
    assert suite.tag == "testsuite", suite.tag
    cases = []
    for case in suite.findall("testcase"):
        result = None
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                result = child
                break
        cases.append({
            "name": case.get("name"),
            "classname": case.get("classname"),
            "file": case.get("file"),
            "line": case.get("line"),
            "outcome": "passed" if result is None else result.tag,
            "message": None if result is None else result.get("message"),
            "type": None if result is None else result.get("type"),
            "text": None if result is None or not result.text else result.text,
        })
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    suites.append(dict(name=suite.get("name"), properties=properties, cases=cases, **counts(suite)))
json.dump(dict(suites=suites, **counts(root)), sys.stdout)
"#;

/// [`junit_view`] as Python's ElementTree reads the document.
fn python_view(dir: &Scratch, xml: &str) -> Value {
    let path = dir.file("report.xml", xml);
    let output = crate::external::python()
        .args(["-c", PYTHON_VIEW, &path])
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run `{}` (python3 reads the JUnit report): {error}",
                crate::external::python_program()
            )
        });
    assert!(
        output.status.success(),
        "Python's ElementTree refused the report: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Runs `toolgate test ARGS --format junit`, and checks that both parsers read the same
/// document and that the root's counts are the suites' sums.
fn junit(dir: &Scratch, args: &[&str]) -> (Output, Value) {
    let mut all = vec!["test"];
    all.extend_from_slice(args);
    all.extend(["--format", "junit"]);
    let output = toolgate(&all, None);
    assert!(output
        .stdout
        .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
    let view = junit_view(&output.stdout);
    assert_eq!(python_view(dir, &output.stdout), view, "{}", output.stdout);
    for key in ["tests", "failures", "errors", "skipped"] {
        let sum: usize = view["suites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|suite| suite[key].as_str().unwrap().parse::<usize>().unwrap())
            .sum();
        assert_eq!(view[key], json!(sum.to_string()), "{key}");
    }
    (output, view)
}

fn path(dir: &Scratch, name: &str) -> String {
    dir.0.join(name).display().to_string()
}

const POLICY: &str = r#"scope "tool:write"
role user
require scope "tool:write" to call tools "fs.write"
allow user to call tools "fs.*"
deny anyone to call tools "db.drop_*"
claims {
  roles from "roles", "realm_access.roles"
}
"#;

/// Claims holding `realm_access.roles` both ways: no principal (refused as ambiguous).
const AMBIGUOUS: &str =
    "{\"realm_access.roles\": [\"user\"], \"realm_access\": {\"roles\": [\"user\"]}}";

const PASSING: &str = "at 2026-01-01T00:00:00Z\n\
    principal user = {\"roles\": \"user\", \"scope\": \"tool:write\"}\n\
    as user\n\
    \x20 expect allow call tool \"fs.read\" rule 4\n\
    \x20 expect deny  call tool \"db.drop_x\" reason denied\n";

const FAILING: &str = "policy \"p.policy\"\n\
    at 2026-01-01T00:00:00Z\n\
    principal user = {\"roles\": \"user\"}\n\
    as user\n\
    \x20 expect allow call tool \"fs.read\"\n\
    \x20 expect deny call tool \"fs.list\" reason no_rule\n\
    \x20 expect allow call tool \"fs.write\"\n\
    \x20 expect allow call tool \"x\" as ";

/// `FAILING` with its last case's claims.
fn failing() -> String {
    format!("{FAILING}{AMBIGUOUS}\n")
}

/// A folder with a policy and three tests files for it: one passing, one failing, one
/// that does not parse.
fn mixed_results(name: &str) -> Scratch {
    let dir = Scratch::new(name);
    dir.file("p.policy", POLICY);
    dir.file("p.tests", PASSING);
    dir.file("fail.tests", &failing());
    dir.file(
        "bad.tests",
        "at 2026-01-01T00:00:00Z\nexpect allow read tool \"x\"\n",
    );
    dir
}

// --- JUnit ------------------------------------------------------------------------------

#[test]
fn junit_has_a_suite_per_file_a_case_per_case_and_errors_for_files_that_did_not_run() {
    let dir = mixed_results("reports-junit");
    dir.file("broken.policy", "role a\nallow b to call tools \"x\"\n");
    dir.file("broken.tests", "at 2026-01-01T00:00:00Z\n");
    let (output, view) = junit(&dir, &[&dir.0.display().to_string()]);
    assert_eq!(output.status, 1, "{}", output.stderr);
    let p = path(&dir, "p.tests");
    let fail = path(&dir, "fail.tests");
    let bad = path(&dir, "bad.tests");
    let broken = path(&dir, "broken.tests");
    let policy = path(&dir, "p.policy");
    let suites = view["suites"].as_array().unwrap();
    let names: Vec<&str> = suites.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, [&bad, &broken, &fail, &p]);
    assert_eq!(
        (
            &view["tests"],
            &view["failures"],
            &view["errors"],
            &view["skipped"]
        ),
        (&json!("8"), &json!("3"), &json!("2"), &json!("0"))
    );

    // A file that does not parse: one error, located at its first error.
    let bad_suite = &suites[0];
    assert_eq!(
        (
            &bad_suite["tests"],
            &bad_suite["errors"],
            &bad_suite["failures"]
        ),
        (&json!("1"), &json!("1"), &json!("0"))
    );
    let case = &bad_suite["cases"][0];
    assert_eq!(case["outcome"], "error");
    assert_eq!(case["type"], "tests_file_errors");
    assert_eq!(case["name"], json!(format!("{bad}: not run")));
    assert_eq!(case["line"], "2");
    assert_eq!(
        case["message"],
        json!(format!(
            "not run, it has errors: {bad}:2:14: error[T004]: `read` is not an action on \
             tools; they take `list` and `call`"
        ))
    );
    assert!(
        case["text"]
            .as_str()
            .unwrap()
            .contains(&format!(" --> {bad}:2:14\n")),
        "{case}"
    );

    // A policy that does not load: an error with the policy's diagnostics.
    let broken_suite = &suites[1];
    let case = &broken_suite["cases"][0];
    assert_eq!(case["outcome"], "error");
    assert_eq!(case["type"], "policy_errors");
    assert!(
        case["message"]
            .as_str()
            .unwrap()
            .starts_with("not run, its policy has errors: "),
        "{case}"
    );
    assert!(
        case["text"].as_str().unwrap().contains("error[E003]"),
        "{case}"
    );
    assert_eq!(
        broken_suite["properties"]["policy"],
        json!(path(&dir, "broken.policy"))
    );

    // The failing file: a case per case, named by its place and text.
    let fail_suite = &suites[2];
    assert_eq!(
        (
            &fail_suite["tests"],
            &fail_suite["failures"],
            &fail_suite["errors"]
        ),
        (&json!("4"), &json!("3"), &json!("0"))
    );
    assert_eq!(fail_suite["properties"]["policy"], json!(policy));
    let cases = fail_suite["cases"].as_array().unwrap();
    let outcomes: Vec<(&str, &str, &str)> = cases
        .iter()
        .map(|case| {
            (
                case["name"].as_str().unwrap(),
                case["line"].as_str().unwrap(),
                case["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    let name = |line: u32, text: &str| format!("{fail}:{line}: {text}");
    assert_eq!(
        outcomes,
        [
            (
                &*name(5, "expect allow call tool \"fs.read\""),
                "5",
                "passed"
            ),
            (
                &*name(6, "expect deny call tool \"fs.list\" reason no_rule"),
                "6",
                "failure"
            ),
            (
                &*name(7, "expect allow call tool \"fs.write\""),
                "7",
                "failure"
            ),
            (
                &*name(8, &format!("expect allow call tool \"x\" as {AMBIGUOUS}")),
                "8",
                "failure"
            ),
        ]
    );
    for case in cases {
        assert_eq!(case["classname"], json!(fail));
        assert_eq!(case["file"], json!(fail));
    }
    assert_eq!(
        cases[1]["message"],
        json!(format!(
            "expected deny, reason no_rule; actual allow, reason allowed, rule {policy}:4"
        ))
    );
    assert_eq!(cases[1]["type"], "decision");
    let text = cases[1]["text"].as_str().unwrap();
    assert!(
        text.contains("4 | allow user to call tools \"fs.*\""),
        "{text}"
    );
    assert!(
        text.starts_with(&format!("FAIL {fail}:6: `user` calls tool `fs.list`")),
        "{text}"
    );
    assert_eq!(
        cases[2]["message"],
        json!(format!(
            "expected allow; actual deny, reason insufficient_scope, missing \"tool:write\", \
             rule {policy}:3"
        ))
    );
    assert_eq!(cases[3]["type"], "principal");
    assert!(
        cases[3]["message"]
            .as_str()
            .unwrap()
            .starts_with("expected allow; actual no principal: "),
        "{}",
        cases[3]
    );

    let pass_suite = &suites[3];
    assert_eq!(
        (&pass_suite["tests"], &pass_suite["failures"]),
        (&json!("2"), &json!("0"))
    );
}

#[test]
fn junit_times_and_timestamps_are_numbers_and_dates() {
    let dir = Scratch::new("reports-junit-times");
    dir.file("p.policy", POLICY);
    let tests = dir.file("p.tests", PASSING);
    let output = toolgate(&["test", &tests, "--format", "junit"], None);
    assert_eq!(output.status, 0, "{}", output.stdout);
    let document = roxmltree::Document::parse(&output.stdout).unwrap();
    let mut timed = 0;
    for node in document.descendants().filter(|node| node.is_element()) {
        if let Some(time) = node.attribute("time") {
            let seconds: f64 = time.parse().unwrap();
            assert!((0.0..60.0).contains(&seconds), "{time}");
            timed += 1;
        }
        if let Some(stamp) = node.attribute("timestamp") {
            // ISO 8601 without a zone (UTC), as the JUnit schema's pattern has it.
            stamp
                .parse::<jiff::civil::DateTime>()
                .unwrap_or_else(|error| panic!("{stamp}: {error}"));
            assert_eq!(stamp.len(), 19, "{stamp}");
        }
    }
    assert_eq!(timed, 4, "testsuites, testsuite, two testcases");
}

/// Characters a name may hold, raw in the tests file and as escapes, and what the XML
/// must give back for them.
#[test]
fn junit_escapes_hostile_names_and_file_names() {
    let dir = Scratch::new("reports-junit-hostile");
    let stem = "we<ird>&\"na'me\u{1b}]]>";
    dir.file(
        &format!("{stem}.policy"),
        "role user\nallow user to call tools \"ok\"\n",
    );
    // Raw in the file (inside the string): `<`, `&`, `'`, `]]>`, ESC, SOH, vertical tab,
    // tab, DEL, a character beyond the BMP. Escaped: a quote, NUL, CR (`\u{d}`), LF,
    // U+FFFF.
    let raw = "<b>&'c]]>\u{1b}[31m\u{1}\u{b}\t\u{7f}\u{1F600}";
    let escaped = "\\\"\\u{0}\\u{d}\\n\\u{FFFF}";
    let tests = dir.file(
        &format!("{stem}.tests"),
        &format!(
            "at 2026-01-01T00:00:00Z\nprincipal u = {{\"roles\": \"user\"}}\n\
             expect allow call tool \"{raw}{escaped}\" as u\n"
        ),
    );
    let (output, view) = junit(&dir, &[&tests]);
    assert_eq!(output.status, 1, "{}", output.stdout);
    for raw in ['\u{1b}', '\u{1}', '\u{b}', '\0'] {
        assert!(!output.stdout.contains(raw), "raw {raw:?} in the XML");
    }
    let suite = &view["suites"][0];
    // The file name: ESC as its Control Picture, the rest as written.
    let shown_stem = "we<ird>&\"na'me\u{241b}]]>";
    let shown_tests = tests.replace(stem, shown_stem);
    assert_eq!(suite["name"], json!(shown_tests));
    assert_eq!(
        suite["properties"]["policy"],
        json!(path(&dir, &format!("{shown_stem}.policy")))
    );
    let case = &suite["cases"][0];
    // The case as written: raw controls shown as pictures, tab and DEL kept, escapes as
    // written.
    let shown_raw = "<b>&'c]]>\u{241b}[31m\u{2401}\u{240b}\t\u{7f}\u{1F600}";
    assert_eq!(
        case["name"],
        json!(format!(
            "{shown_tests}:3: expect allow call tool \"{shown_raw}{escaped}\" as u"
        ))
    );
    assert_eq!(case["file"], json!(shown_tests));
    assert_eq!(case["outcome"], "failure");
    // The request in words holds the decoded name as the terminal shows it: every
    // control character (tab, DEL, NUL, CR and LF too) as its picture, U+FFFF replaced.
    let text = case["text"].as_str().unwrap();
    let decoded = "<b>&'c]]>\u{241b}[31m\u{2401}\u{240b}\u{2409}\u{2421}\u{1F600}\"\u{2400}\u{240d}\u{240a}\u{FFFD}";
    assert!(
        text.contains(&format!("`u` calls tool `{decoded}` without an address")),
        "{text:?}"
    );
}

#[test]
fn the_xml_parsers_refuse_what_xml_forbids() {
    // The checks above rely on both parsers rejecting characters XML 1.0 does not allow.
    let dir = Scratch::new("reports-junit-strict");
    for bad in ["\u{1}", "\u{1b}", "&#1;", "\u{FFFF}"] {
        let xml = format!("<?xml version=\"1.0\"?>\n<testsuites name=\"a{bad}\"/>\n");
        assert!(roxmltree::Document::parse(&xml).is_err(), "{bad:?}");
        let path = dir.file("bad.xml", &xml);
        let status = crate::external::python()
            .args(["-c", PYTHON_VIEW, &path])
            .output()
            .unwrap()
            .status;
        assert!(!status.success(), "{bad:?}");
    }
}

// --- JSON -------------------------------------------------------------------------------

fn json_report(args: &[&str]) -> (Output, Value) {
    let mut all = vec!["test"];
    all.extend_from_slice(args);
    all.extend(["--format", "json"]);
    let output = toolgate(&all, None);
    let value = serde_json::from_str(&output.stdout)
        .unwrap_or_else(|error| panic!("not JSON: {error}\n{}", output.stdout));
    (output, value)
}

#[test]
fn json_has_every_file_and_case_with_stable_fields() {
    let dir = mixed_results("reports-json");
    let (output, report) = json_report(&[&dir.0.display().to_string()]);
    assert_eq!(output.status, 1);
    let policy = path(&dir, "p.policy");
    let fail = path(&dir, "fail.tests");
    assert_eq!(report["version"], 1);
    assert_eq!(
        (&report["passed"], &report["failed"], &report["not_run"]),
        (&json!(3), &json!(3), &json!(1))
    );
    assert_eq!(report["coverage"], Value::Null);
    assert!(report["time"].as_f64().unwrap() >= 0.0);
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);

    let bad = &files[0];
    assert_eq!(bad["status"], "not_run");
    assert_eq!(bad["cases"], json!([]));
    assert_eq!(
        bad["not_run"],
        json!({
            "reason": "tests_file_errors",
            "message": "not run, it has errors",
            "errors": [{
                "code": "T004",
                "message": "`read` is not an action on tools; they take `list` and `call`",
                "file": path(&dir, "bad.tests"),
                "line": 2, "column": 14, "end_line": 2, "end_column": 23,
                "help": null,
            }],
        })
    );

    let failed = &files[1];
    assert_eq!(
        (&failed["file"], &failed["policy"], &failed["status"]),
        (&json!(fail), &json!(policy), &json!("ran"))
    );
    assert_eq!(
        (&failed["passed"], &failed["failed"]),
        (&json!(1), &json!(3))
    );
    assert_eq!(failed["not_run"], Value::Null);
    let case = &failed["cases"][1];
    let time = case["time"].as_f64().unwrap();
    assert!(time >= 0.0);
    let mut without_time = case.clone();
    without_time.as_object_mut().unwrap().remove("time");
    let failure = without_time["failure"].take();
    assert!(
        failure
            .as_str()
            .unwrap()
            .starts_with(&format!("FAIL {fail}:6: ")),
        "{failure}"
    );
    assert_eq!(
        without_time,
        json!({
            "name": format!("{fail}:6: expect deny call tool \"fs.list\" reason no_rule"),
            "file": fail,
            "line": 6,
            "column": 3,
            "text": "expect deny call tool \"fs.list\" reason no_rule",
            "description": "`user` calls tool `fs.list` without an address at 2026-01-01T00:00:00Z",
            "request": {
                "principal": "user",
                "kind": "tool",
                "action": "call",
                "name": "fs.list",
                "ip": null,
                "time": "2026-01-01T00:00:00Z",
                "arguments": null,
            },
            "expected": {"decision": "deny", "reason": "no_rule", "missing_scopes": null, "rule": null},
            "actual": {
                "decision": "allow",
                "reason": "allowed",
                "rule": format!("{policy}:4"),
                "rule_text": "allow user to call tools \"fs.*\"",
                "missing_scopes": [],
            },
            "passed": false,
            "mismatches": ["effect", "reason"],
            "error": null,
            "message": format!("expected deny, reason no_rule; actual allow, reason allowed, rule {policy}:4"),
            "failure": null,
        })
    );
    let passed = &failed["cases"][0];
    assert_eq!(passed["passed"], true);
    assert_eq!(passed["message"], Value::Null);
    assert_eq!(passed["failure"], Value::Null);
    let unresolved = &failed["cases"][3];
    assert_eq!(unresolved["mismatches"], json!(["principal"]));
    assert!(unresolved["error"].is_string(), "{unresolved}");
    assert_eq!(
        unresolved["request"]["principal"],
        "{\"realm_access\":{\"roles\":[\"user\"]},\"realm_access.roles\":[\"user\"]}"
    );
}

#[test]
fn json_keeps_names_exactly() {
    let dir = Scratch::new("reports-json-names");
    dir.file("p.policy", "role user\nallow user to call tools \"*\"\n");
    let tests = dir.file(
        "p.tests",
        "at 2026-01-01T00:00:00Z\n\
         expect allow call tool \"<&>\\\"\\u{0}\\u{1b}\u{1}\\n\" as {\"roles\": \"user\"} \
         with {\"a\": [1, \"\\u0000\"]}\n",
    );
    let (output, report) = json_report(&[&tests]);
    assert_eq!(output.status, 0, "{}", output.stdout);
    let request = &report["files"][0]["cases"][0]["request"];
    assert_eq!(request["name"], "<&>\"\0\u{1b}\u{1}\n");
    assert_eq!(request["arguments"], json!({"a": [1, "\u{0}"]}));
}

// --- coverage -----------------------------------------------------------------------------

/// A policy with statements and condition atoms of every fate.
const COVERED: &str = r#"scope "tool:write"
role user
role admin inherits user
require scope "tool:write" to call tools "fs.write"
allow user to call tools "fs.*"
allow admin to call tools "k8s.scale" if arg "replicas" <= 5
deny anyone to call tools "db.drop_*" unless role admin and ip in [10.0.0.0/8]
allow admin to call tools "db.*"
allow user to call tools "logs.*" if time in [mon-fri 09:00-17:00]
"#;

/// Its cases: no address for the first drop (the `ip in` atom is unknown), a listing
/// (the `arg` atom takes the caller's favourable value, not counted), and a principal
/// without roles asking for logs (the rule is not for it: its atom is not counted).
const COVERING: &str = "at 2026-01-05T10:00:00Z\n\
    principal user = {\"roles\": \"user\", \"scope\": \"tool:write\"}\n\
    principal admin = {\"roles\": \"admin\"}\n\
    principal guest = {\"sub\": \"g\"}\n\
    as user\n\
    \x20 expect allow call tool \"fs.read\"\n\
    \x20 expect deny call tool \"db.drop_x\" reason denied rule 7\n\
    as admin\n\
    \x20 expect allow call tool \"db.query\" rule 8\n\
    \x20 expect allow list tool \"k8s.scale\" rule 6\n\
    \x20 expect deny call tool \"db.drop_x\" from 192.0.2.1 reason denied rule 7\n\
    as guest\n\
    \x20 expect deny call tool \"logs.tail\" reason no_rule\n";

/// The cases that cover everything left.
const COVERING_THE_REST: &str = "as user\n\
    \x20 expect allow call tool \"logs.tail\" rule 9\n\
    \x20 expect deny call tool \"logs.tail\" at 2026-01-05T18:00:00Z reason no_rule\n\
    \x20 expect deny call tool \"fs.write\" as {\"roles\": \"user\"} reason insufficient_scope\n\
    as admin\n\
    \x20 expect allow call tool \"k8s.scale\" with {\"replicas\": 3} rule 6\n\
    \x20 expect deny call tool \"k8s.scale\" with {\"replicas\": 9} reason no_rule\n\
    \x20 expect allow call tool \"db.drop_x\" from 10.1.2.3 rule 8\n";

/// The lines of the human report from `coverage of` to the blank line after it.
fn coverage_section(stdout: &str) -> Vec<&str> {
    let lines: Vec<&str> = stdout.lines().collect();
    let start = lines
        .iter()
        .position(|line| line.starts_with("coverage of "))
        .unwrap_or_else(|| panic!("no coverage in\n{stdout}"));
    let end = start + lines[start..].iter().position(|l| l.is_empty()).unwrap();
    lines[start..end].to_vec()
}

#[test]
fn coverage_lists_the_statements_that_decided_nothing_and_the_one_sided_atoms() {
    let dir = Scratch::new("reports-coverage");
    dir.file("p.policy", COVERED);
    let tests = dir.file("p.tests", COVERING);
    let policy = path(&dir, "p.policy");
    let output = toolgate(&["test", &tests, "--coverage"], None);
    assert_eq!(
        output.status, 0,
        "coverage alone never fails:\n{}",
        output.stdout
    );
    assert_eq!(
        coverage_section(&output.stdout),
        [
            format!("coverage of {policy} by 6 cases (1 tests file):"),
            "  statements that decided no case: 2 of 6".to_string(),
            format!("    {policy}:4: require scope \"tool:write\" to call tools \"fs.write\""),
            format!(
                "    {policy}:9: allow user to call tools \"logs.*\" if time in \
                 [mon-fri 09:00-17:00]"
            ),
            "  condition atoms not both true and false: 3 of 4".to_string(),
            format!("    {policy}:6:42: arg \"replicas\" <= 5: never evaluated"),
            format!("    {policy}:7:61: ip in [10.0.0.0/8]: true 0, false 1, unknown 1"),
            format!("    {policy}:9:38: time in [mon-fri 09:00-17:00]: never evaluated"),
        ]
    );
    assert_eq!(output.stdout.lines().last(), Some("6 passed, 0 failed"));
    let without = toolgate(&["test", &tests], None);
    assert!(
        !without.stdout.contains("coverage of "),
        "{}",
        without.stdout
    );

    // The JSON report holds every statement and atom with its counts.
    let (_, report) = json_report(&[&tests, "--coverage"]);
    let coverage = &report["coverage"][0];
    assert_eq!(coverage["policy"], json!(policy));
    assert_eq!(coverage["tests_files"], json!([tests]));
    assert_eq!(
        (&coverage["cases"], &coverage["complete"]),
        (&json!(6), &json!(false))
    );
    let statements: Vec<(u64, u64, bool)> = coverage["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["line"].as_u64().unwrap(),
                s["decided"].as_u64().unwrap(),
                s["covered"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statements,
        [
            (4, 0, false),
            (5, 1, true),
            (6, 1, true),
            (7, 2, true),
            (8, 1, true),
            (9, 0, false)
        ]
    );
    assert_eq!(
        coverage["conditions"],
        json!([
            {"file": policy, "line": 6, "column": 42, "text": "arg \"replicas\" <= 5",
             "statement": {"file": policy, "line": 6},
             "true": 0, "false": 0, "unknown": 0, "covered": false},
            {"file": policy, "line": 7, "column": 46, "text": "role admin",
             "statement": {"file": policy, "line": 7},
             "true": 1, "false": 1, "unknown": 0, "covered": true},
            {"file": policy, "line": 7, "column": 61, "text": "ip in [10.0.0.0/8]",
             "statement": {"file": policy, "line": 7},
             "true": 0, "false": 1, "unknown": 1, "covered": false},
            {"file": policy, "line": 9, "column": 38, "text": "time in [mon-fri 09:00-17:00]",
             "statement": {"file": policy, "line": 9},
             "true": 0, "false": 0, "unknown": 0, "covered": false},
        ])
    );

    // JUnit: a suite per policy, a skipped case per finding.
    let (output, view) = junit(&dir, &[&tests, "--coverage"]);
    assert_eq!(output.status, 0);
    let suite = &view["suites"][1];
    let coverage_suite = format!("coverage of {policy}");
    assert_eq!(suite["name"], json!(coverage_suite));
    assert_eq!(
        (&suite["tests"], &suite["skipped"], &suite["failures"]),
        (&json!("5"), &json!("5"), &json!("0"))
    );
    assert_eq!(suite["properties"]["statements_undecided"], "2");
    assert_eq!(suite["properties"]["condition_atoms_not_both"], "3");
    let found: Vec<(&str, &str, &str)> = suite["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| {
            assert_eq!(case["classname"], json!(coverage_suite));
            assert_eq!(case["file"], json!(policy));
            (
                case["name"].as_str().unwrap(),
                case["outcome"].as_str().unwrap(),
                case["message"].as_str().unwrap(),
            )
        })
        .collect();
    let at = |place: &str| format!("{policy}:{place}");
    assert_eq!(
        found,
        [
            (
                &*at("4: require scope \"tool:write\" to call tools \"fs.write\""),
                "skipped",
                "the statement decided no case"
            ),
            (
                &*at("9: allow user to call tools \"logs.*\" if time in [mon-fri 09:00-17:00]"),
                "skipped",
                "the statement decided no case"
            ),
            (
                &*at("6:42: arg \"replicas\" <= 5"),
                "skipped",
                "the condition atom was not both true and false: never evaluated"
            ),
            (
                &*at("7:61: ip in [10.0.0.0/8]"),
                "skipped",
                "the condition atom was not both true and false: true 0, false 1, unknown 1"
            ),
            (
                &*at("9:38: time in [mon-fri 09:00-17:00]"),
                "skipped",
                "the condition atom was not both true and false: never evaluated"
            ),
        ]
    );
}

#[test]
fn adding_cases_covers_statements_and_atoms() {
    let dir = Scratch::new("reports-coverage-added");
    dir.file("p.policy", COVERED);
    let policy = path(&dir, "p.policy");
    // One more case: the `logs.*` rule decides it, its `time` atom is true once.
    let one_more = format!("{COVERING}as user\n  expect allow call tool \"logs.tail\" rule 9\n");
    let tests = dir.file("p.tests", &one_more);
    let output = toolgate(&["test", &tests, "--coverage"], None);
    assert_eq!(output.status, 0, "{}", output.stdout);
    let section = coverage_section(&output.stdout);
    assert_eq!(
        section[1..4],
        [
            "  statements that decided no case: 1 of 6".to_string(),
            format!("    {policy}:4: require scope \"tool:write\" to call tools \"fs.write\""),
            "  condition atoms not both true and false: 3 of 4".to_string(),
        ]
    );
    assert!(
        section.contains(&&*format!(
            "    {policy}:9:38: time in [mon-fri 09:00-17:00]: true 1, false 0, unknown 0"
        )),
        "{section:#?}"
    );

    // Everything covered; `--coverage-fail` now passes.
    let tests = dir.file("p.tests", &format!("{COVERING}{COVERING_THE_REST}"));
    let output = toolgate(&["test", &tests, "--coverage-fail"], None);
    assert_eq!(output.status, 0, "{}", output.stdout);
    assert_eq!(
        coverage_section(&output.stdout),
        [
            format!("coverage of {policy} by 12 cases (1 tests file):"),
            "  statements that decided no case: 0 of 6".to_string(),
            "  condition atoms not both true and false: 0 of 4".to_string(),
        ]
    );
    let (_, report) = json_report(&[&tests, "--coverage"]);
    assert_eq!(report["coverage"][0]["complete"], true);
}

#[test]
fn coverage_fail_sets_the_exit_status_and_says_why() {
    let dir = Scratch::new("reports-coverage-fail");
    dir.file("p.policy", COVERED);
    let tests = dir.file("p.tests", COVERING);
    let output = toolgate(&["test", &tests, "--coverage-fail"], None);
    assert_eq!(output.status, 1, "{}", output.stdout);
    let lines: Vec<&str> = output.stdout.lines().collect();
    assert_eq!(
        lines[lines.len() - 2..],
        [
            "coverage is incomplete: 2 statements decided no case, 3 condition atoms were \
             not both true and false",
            "6 passed, 0 failed"
        ]
    );
    // In JUnit the findings are failures, so the report agrees with the exit status.
    let (output, view) = junit(&dir, &[&tests, "--coverage-fail"]);
    assert_eq!(output.status, 1);
    let suite = &view["suites"][1];
    assert_eq!(
        (&suite["tests"], &suite["failures"], &suite["skipped"]),
        (&json!("5"), &json!("5"), &json!("0"))
    );
    assert!(suite["cases"]
        .as_array()
        .unwrap()
        .iter()
        .all(|case| case["outcome"] == "failure" && case["type"] == "coverage"));
    let (output, _) = json_report(&[&tests, "--coverage-fail"]);
    assert_eq!(output.status, 1);
}

#[test]
fn coverage_adds_up_over_the_tests_files_of_one_policy() {
    let dir = Scratch::new("reports-coverage-files");
    dir.file("p.policy", COVERED);
    dir.file("a.tests", &format!("policy \"p.policy\"\n{COVERING}"));
    dir.file(
        "b.tests",
        &format!(
            "policy \"./p.policy\"\nat 2026-01-05T10:00:00Z\n\
             principal user = {{\"roles\": \"user\", \"scope\": \"tool:write\"}}\n\
             principal admin = {{\"roles\": \"admin\"}}\n{COVERING_THE_REST}"
        ),
    );
    let output = toolgate(
        &["test", &dir.0.display().to_string(), "--coverage-fail"],
        None,
    );
    assert_eq!(output.status, 0, "{}", output.stdout);
    let section = coverage_section(&output.stdout);
    assert_eq!(
        section,
        [
            format!(
                "coverage of {} by 12 cases (2 tests files):",
                path(&dir, "p.policy")
            ),
            "  statements that decided no case: 0 of 6".to_string(),
            "  condition atoms not both true and false: 0 of 4".to_string(),
        ]
    );
    // Each file alone covers less.
    let alone = toolgate(&["test", &path(&dir, "b.tests"), "--coverage-fail"], None);
    assert_eq!(alone.status, 1, "{}", alone.stdout);
}

#[test]
fn the_human_report_is_the_default_and_unchanged_by_the_new_flags() {
    let dir = Scratch::new("reports-human");
    dir.file("p.policy", POLICY);
    dir.file("fail.tests", &failing());
    let tests = path(&dir, "fail.tests");
    let plain = toolgate(&["test", &tests], None);
    let human = toolgate(&["test", &tests, "--format", "human"], None);
    assert_eq!((plain.status, &plain.stdout), (human.status, &human.stdout));
    assert_eq!(plain.stdout.lines().last(), Some("1 passed, 3 failed"));
    let bad = toolgate(&["test", &tests, "--format", "xml"], None);
    assert_eq!(bad.status, 2, "{}", bad.stderr);
}

#[test]
fn the_bundled_policies_report_in_every_format() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let dir = Scratch::new("reports-bundled");
    let policies = root.display().to_string();
    let (output, view) = junit(&dir, &[&policies]);
    assert_eq!(output.status, 0, "{}", output.stdout);
    assert_eq!(view["failures"], "0");
    assert_eq!(view["errors"], "0");
    let (output, report) = json_report(&[&policies, "--coverage"]);
    assert_eq!(output.status, 0);
    let cases: u64 = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|file| file["cases"].as_array().unwrap().len() as u64)
        .sum();
    assert_eq!(report["passed"], json!(cases));
    let covered: u64 = report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|policy| policy["cases"].as_u64().unwrap())
        .sum();
    assert_eq!(covered, cases, "every case counts for coverage");
}

// --- the guide's examples -----------------------------------------------------------------

/// The text of `doc` from right after `marker` to the next closing fence.
fn block_after<'d>(doc: &'d str, marker: &str) -> &'d str {
    let start = doc
        .find(marker)
        .unwrap_or_else(|| panic!("`{marker}` not in docs/testing.md"));
    let rest = &doc[start + marker.len()..];
    let end = rest.find("```\n").unwrap();
    &rest[..end]
}

/// Runs the binary in `dir`, so that file names are as the guide shows them.
fn toolgate_in(dir: &Path, args: &[&str]) -> (i32, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_toolgate"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
    )
}

/// `text` with every `time="..."` and `timestamp="..."` value made `T`.
fn without_times(text: &str) -> String {
    let mut text = text.to_string();
    for key in [" time=\"", " timestamp=\""] {
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(key) {
            let (before, after) = rest.split_at(at + key.len());
            out.push_str(before);
            out.push('T');
            rest = &after[after.find('"').unwrap()..];
        }
        out.push_str(rest);
        text = out;
    }
    text
}

#[test]
fn the_examples_in_the_testing_guide_are_real_output() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/testing.md"))
            .unwrap();
    let dir = Scratch::new("reports-guide");
    dir.file(
        "ops.policy",
        &format!("# ops.policy{}", block_after(&doc, "```\n# ops.policy")),
    );
    dir.file(
        "ops.tests",
        &format!("# ops.tests{}", block_after(&doc, "```\n# ops.tests")),
    );

    let (status, human) = toolgate_in(&dir.0, &["test", "ops.tests", "--coverage"]);
    assert_eq!(status, 1);
    assert_eq!(
        human,
        block_after(&doc, "```\n$ toolgate test ops.tests --coverage\n")
    );

    let (_, xml) = toolgate_in(&dir.0, &["test", "ops.tests", "--format", "junit"]);
    assert_eq!(
        without_times(&xml),
        without_times(block_after(
            &doc,
            "`toolgate test ops.tests --format junit` (the times vary):\n\n```xml\n"
        ))
    );
    let (_, xml) = toolgate_in(
        &dir.0,
        &["test", "ops.tests", "--coverage", "--format", "junit"],
    );
    let snippet = block_after(
        &doc,
        "fully covered policy gives the suite with no test case.\n\n```xml\n",
    );
    for line in snippet
        .lines()
        .filter(|line| !line.contains("<system-out>"))
    {
        assert!(xml.contains(&format!("{line}\n")), "{line}\nnot in\n{xml}");
    }

    // The JSON example is shortened to the failed case, one statement and one atom.
    let (_, json) = toolgate_in(
        &dir.0,
        &["test", "ops.tests", "--coverage", "--format", "json"],
    );
    let mut report: Value = serde_json::from_str(&json).unwrap();
    let shown: Value = serde_json::from_str(block_after(
        &doc,
        "one statement and one atom of the coverage):\n\n```json\n",
    ))
    .unwrap();
    let mut shown = shown;
    for value in [&mut report, &mut shown] {
        value["time"] = json!(0);
        let file = &mut value["files"][0];
        file["time"] = json!(0);
        file["timestamp"] = json!("T");
        for case in file["cases"].as_array_mut().unwrap() {
            case["time"] = json!(0);
        }
    }
    let failed = report["files"][0]["cases"][4].take();
    report["files"][0]["cases"] = json!([failed]);
    let statement = report["coverage"][0]["statements"][3].take();
    report["coverage"][0]["statements"] = json!([statement]);
    let condition = report["coverage"][0]["conditions"][2].take();
    report["coverage"][0]["conditions"] = json!([condition]);
    assert_eq!(report, shown);
}
