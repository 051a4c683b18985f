//! `toolgate test` and the `toolgate::unstable::testing` library: the tests-file format, its errors
//! and their locations, running cases, discovery, exit statuses and the report's text.

use std::path::Path;

use toolgate::unstable::source::{SourceId, Sources};
use toolgate::unstable::testing::{self, ErrorCode, Mismatch, RuleExpectation};
use toolgate::{Policy, Reason};

use crate::cli::{toolgate, Scratch};

const POLICY: &str = r#"scope "tool:read", "tool:write"
role user
role admin inherits user
require scope "tool:write" to call tools "*"
allow user to call tools "fs.*"
allow admin to call tools "*"
deny anyone to call tools "db.drop_*" unless role admin
"#;

/// Parses a tests file given as text.
fn parse(text: &str) -> (Sources, testing::Parsed) {
    let sources = Sources::from_text("t.tests", text);
    let parsed = testing::parse(&sources, SourceId(0));
    (sources, parsed)
}

/// `(code, line, column, message)` of each error of a tests file.
fn errors(text: &str) -> Vec<(ErrorCode, u32, u32, String)> {
    let (sources, parsed) = parse(text);
    parsed
        .errors
        .iter()
        .map(|error| {
            let at = sources.location(error.span).start;
            (error.code, at.line, at.column, error.message.clone())
        })
        .collect()
}

/// The last line of a report: `N passed, N failed`.
fn summary(stdout: &str) -> &str {
    stdout.lines().last().unwrap_or("")
}

// --- the format ---------------------------------------------------------------------

#[test]
fn a_file_parses_into_cases_with_defaults_and_overrides() {
    let (_, parsed) = parse(
        "policy \"p.policy\"   # a comment\n\
         at 2026-11-26T10:00:00Z\n\
         from 10.1.2.3\n\
         principal dev = {\"roles\": [\"developer\"],\n   \"scope\": \"tool:write\"}\n\
         as dev\n\
         \x20 expect allow call tool \"fs.read\"\n\
         \x20 expect deny list tools \"x\" from none at 2027-01-01T00:00:00+01:00 \
         reason insufficient_scope missing \"b\", \"a\" rule \"dir/p.policy:7\"\n\
         expect deny read resource \"docs://\\u{e9}\\\"q\\\"\" as {\"roles\": \"x\"} rule none\n",
    );
    assert_eq!(parsed.errors, []);
    let file = &parsed.file;
    assert_eq!(
        file.policy.as_ref().map(|(p, _)| p.as_str()),
        Some("p.policy")
    );
    assert_eq!(file.principals.len(), 2);
    assert_eq!(file.principals[0].name.as_deref(), Some("dev"));
    assert_eq!(file.principals[1].name, None);
    assert_eq!(file.cases.len(), 3);

    let first = &file.cases[0];
    assert_eq!(first.principal, 0);
    assert_eq!(first.request.name, "fs.read");
    assert_eq!(first.request.ip, Some("10.1.2.3".parse().unwrap()));
    assert_eq!(first.request.time, "2026-11-26T10:00:00Z".parse().unwrap());
    assert_eq!(first.expected.reason, None);
    assert_eq!(first.expected.missing_scopes, None);

    let second = &file.cases[1];
    assert_eq!(second.request.ip, None);
    assert_eq!(second.request.time, "2026-12-31T23:00:00Z".parse().unwrap());
    assert_eq!(second.expected.reason, Some(Reason::InsufficientScope));
    assert_eq!(
        second.expected.missing_scopes,
        Some(vec!["a".to_string(), "b".to_string()])
    );
    assert_eq!(
        second.expected.rule,
        Some(RuleExpectation::Site {
            file: "dir/p.policy".to_string(),
            line: 7
        })
    );

    let third = &file.cases[2];
    assert_eq!(third.principal, 1);
    assert_eq!(third.request.name, "docs://\u{e9}\"q\"");
    assert_eq!(third.request.ip, Some("10.1.2.3".parse().unwrap()));
    assert_eq!(third.expected.rule, Some(RuleExpectation::None));
}

#[test]
fn parse_errors_point_at_line_and_column() {
    let found = errors(
        "at 2026-13-01T00:00:00Z\n\
         from 10.1.2\n\
         principal p = [1]\n\
         principal q = {\"roles\": \"user\"}\n\
         principal q = {}\n\
         exepct allow call tool \"x\"\n\
         expect allow read tool \"x\" as q\n\
         expect allow call tool \"a\\qb\" as q\n\
         expect allow call tool \"x\" as nobody\n\
         expect maybe call tool \"x\" as q\n\
         expect allow call tool \"x\" as q reason allowed reason allowed\n\
         expect allow call tool \"x\" as q colour red\n\
         expect allow call tool \"x\" as q reason denied at 2026-01-01T00:00:00Z\n\
         expect deny call tool \"x\" as q reason denied missing \"s\" at 2026-01-01T00:00:00Z\n\
         expect allow call tool \"x\" as q rule none at 2026-01-01T00:00:00Z\n\
         expect deny call tool \"x\" as q rule \"nowhere\"\n\
         expect allow call tool \"unterminated as q\n\
         expect allow call tool \"x\" as q \"extra\"\n",
    );
    let expected = [
        (
            ErrorCode::T004,
            1,
            4,
            "`2026-13-01T00:00:00Z` is not an RFC 3339 instant",
        ),
        (
            ErrorCode::T004,
            2,
            6,
            "`10.1.2` is not an IPv4 or IPv6 address",
        ),
        (
            ErrorCode::T001,
            3,
            15,
            "expected the token's claims as a JSON object, found `[1]`",
        ),
        (ErrorCode::T003, 5, 11, "principal `q` is defined twice"),
        (ErrorCode::T001, 6, 1, "unknown statement `exepct`"),
        (
            ErrorCode::T004,
            7,
            14,
            "`read` is not an action on tools; they take `list` and `call`",
        ),
        (ErrorCode::T001, 8, 26, "invalid escape in a string"),
        (
            ErrorCode::T002,
            9,
            31,
            "no principal named `nobody` is defined above",
        ),
        (
            ErrorCode::T001,
            10,
            8,
            "expected `allow` or `deny` after `expect`, found `maybe`",
        ),
        (
            ErrorCode::T003,
            11,
            48,
            "`reason` is given twice in this case",
        ),
        (ErrorCode::T001, 12, 33, "unknown option `colour`"),
        (
            ErrorCode::T004,
            13,
            40,
            "an allowed request has reason `allowed`",
        ),
        (
            ErrorCode::T004,
            14,
            54,
            "only a denial with reason `insufficient_scope` has missing scopes",
        ),
        (
            ErrorCode::T004,
            15,
            38,
            "only reason `no_rule` comes without a deciding rule",
        ),
        (ErrorCode::T004, 16, 37, "`nowhere` is not a rule location"),
        (ErrorCode::T001, 17, 24, "unterminated string"),
        (
            ErrorCode::T001,
            18,
            33,
            "expected an option (`as`, `at`, `from`, `with`, `reason`, `missing`, `rule`), \
             found string `\"extra\"`",
        ),
    ];
    let expected: Vec<(ErrorCode, u32, u32, String)> = expected
        .iter()
        .map(|(code, line, column, message)| (*code, *line, *column, message.to_string()))
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn cases_need_a_principal_and_a_time() {
    let found = errors(
        "expect allow call tool \"x\" as {\"roles\": []}\n\
         principal p = {}\n\
         expect allow call tool \"x\" at 2026-01-01T00:00:00Z\n",
    );
    assert_eq!(
        found,
        [
            (ErrorCode::T005, 1, 1, "this case has no time".to_string()),
            (
                ErrorCode::T005,
                3,
                1,
                "this case has no principal".to_string()
            ),
        ]
    );
}

#[test]
fn broken_json_is_reported_where_it_breaks_and_skipped() {
    let found = errors(
        "principal p = {\"roles\": [\"a\",\n\
         \x20   \"b\" \"c\"]}\n\
         \x20   \"scope\": \"x\"}\n\
         at nonsense\n",
    );
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(
        (found[0].0, found[0].1, found[0].2),
        (ErrorCode::T004, 2, 9)
    );
    assert!(found[0].3.starts_with("invalid JSON: "), "{}", found[0].3);
    assert_eq!(
        (found[1].0, found[1].1, found[1].2),
        (ErrorCode::T004, 4, 4)
    );
}

// --- running cases ------------------------------------------------------------------

#[test]
fn results_say_what_differs() {
    let policy = Policy::from_text("p.policy", POLICY).unwrap();
    let (_, parsed) = parse(
        "at 2026-01-01T00:00:00Z\n\
         principal user = {\"roles\": \"user\", \"scope\": \"tool:write\"}\n\
         principal reader = {\"roles\": \"user\"}\n\
         as user\n\
         expect allow call tool \"fs.read\" reason allowed rule 5\n\
         expect allow call tool \"fs.read\" rule \"p.policy:5\"\n\
         expect deny call tool \"fs.read\"\n\
         expect deny call tool \"db.drop_x\" reason no_rule\n\
         expect deny call tool \"fs.read\" as reader missing \"tool:read\"\n\
         expect allow call tool \"fs.read\" rule 6\n\
         expect allow call tool \"fs.read\" rule \"other.policy:5\"\n\
         expect deny call tool \"x\" reason no_rule rule none\n",
    );
    assert_eq!(parsed.errors, []);
    let results = testing::run(policy.engine(), &parsed.file);
    let mismatches: Vec<Vec<Mismatch>> = results.iter().map(|r| r.mismatches.clone()).collect();
    assert_eq!(
        mismatches,
        [
            vec![],
            vec![],
            vec![Mismatch::Effect],
            vec![Mismatch::Reason],
            vec![Mismatch::MissingScopes],
            vec![Mismatch::Rule],
            vec![Mismatch::Rule],
            vec![],
        ]
    );
    let summary = testing::Summary::of(&results);
    assert_eq!((summary.passed, summary.failed), (3, 5));
    assert_eq!(
        results[4].actual.missing_scopes.as_slice(),
        ["tool:write"],
        "the decision is kept for the report"
    );
}

// --- the command --------------------------------------------------------------------

/// A scratch directory with `p.policy` and the given tests files.
fn scratch(name: &str, files: &[(&str, &str)]) -> Scratch {
    let dir = Scratch::new(name);
    dir.file("p.policy", POLICY);
    for (file, text) in files {
        dir.file(file, text);
    }
    dir
}

const PASSING: &str = "at 2026-01-01T00:00:00Z\n\
    principal user = {\"roles\": \"user\", \"scope\": \"tool:write\"}\n\
    as user\n\
    \x20 expect allow call tool \"fs.read\" reason allowed rule 5\n\
    \x20 expect deny call tool \"db.drop_x\" reason denied rule 7\n";

const FAILING: &str = "policy \"p.policy\"\n\
    at 2026-01-01T00:00:00Z\n\
    principal user = {\"roles\": \"user\", \"scope\": \"tool:write\"}\n\
    as user\n\
    \x20 expect allow call tool \"fs.read\"\n\
    \x20 expect deny call tool \"fs.write\" from 10.1.2.3 reason no_rule\n";

#[test]
fn the_bundled_example_tests_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in ["example", "mcp-server"] {
        let tests = root.join(format!("policies/{name}.tests"));
        let output = toolgate(&["test", tests.to_str().unwrap()], None);
        assert_eq!(output.status, 0, "{name}: {}", output.stdout);
        let line = summary(&output.stdout);
        let passed: usize = line
            .strip_suffix(" passed, 0 failed")
            .and_then(|count| count.parse().ok())
            .unwrap_or_else(|| panic!("{name}: {line}"));
        assert!(passed >= 25, "{name}: only {passed} cases");
    }
}

#[test]
fn passing_file_exits_zero_with_summary() {
    let dir = scratch("test-pass", &[("p.tests", PASSING)]);
    let output = toolgate(
        &["test", &dir.0.join("p.tests").display().to_string()],
        None,
    );
    assert_eq!(output.status, 0, "{}", output.stdout);
    assert_eq!(summary(&output.stdout), "2 passed, 0 failed");
    assert!(
        output.stdout.contains("p.tests against "),
        "{}",
        output.stdout
    );
    assert!(!output.stdout.contains("FAIL"), "{}", output.stdout);
}

#[test]
fn a_failure_shows_both_decisions_and_the_deciding_rule() {
    let dir = scratch("test-fail", &[("f.tests", FAILING)]);
    let tests = dir.0.join("f.tests").display().to_string();
    let policy = dir.0.join("p.policy").display().to_string();
    let output = toolgate(&["test", &tests], None);
    assert_eq!(output.status, 1, "{}", output.stdout);
    assert_eq!(summary(&output.stdout), "1 passed, 1 failed");
    let expected = format!(
        "FAIL {tests}:6: `user` calls tool `fs.write` from 10.1.2.3 at 2026-01-01T00:00:00Z\n\
         \x20    case      expect deny call tool \"fs.write\" from 10.1.2.3 reason no_rule\n\
         \x20    expected  deny, reason no_rule\n\
         \x20    actual    allow, reason allowed, rule {policy}:5\n\
         \x20              5 | allow user to call tools \"fs.*\"\n"
    );
    assert!(output.stdout.contains(&expected), "{}", output.stdout);
    assert!(
        output
            .stdout
            .contains(&format!("{tests} against {policy}: 1 passed, 1 failed")),
        "{}",
        output.stdout
    );
}

#[test]
fn missing_scopes_appear_in_a_failure() {
    let text = "at 2026-01-01T00:00:00Z\n\
        principal reader = {\"roles\": \"user\"}\n\
        expect allow call tool \"fs.read\" as reader\n";
    let dir = scratch("test-missing", &[("p.tests", text)]);
    let output = toolgate(
        &["test", &dir.0.join("p.tests").display().to_string()],
        None,
    );
    assert_eq!(output.status, 1);
    assert!(
        output
            .stdout
            .contains("actual    deny, reason insufficient_scope, missing \"tool:write\", rule "),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("without an address"),
        "{}",
        output.stdout
    );
}

#[test]
fn parse_errors_render_like_check_and_fail_the_run() {
    let text = "at 2026-01-01T00:00:00Z\nprincipal u = {}\nexpect allow call tool \"x\" as u reason maybe\n";
    let other = format!("policy \"p.policy\"\n{PASSING}");
    let dir = scratch("test-parse", &[("p.tests", text), ("q.tests", &other)]);
    let tests = dir.0.join("p.tests").display().to_string();
    let output = toolgate(&["test", &dir.0.display().to_string()], None);
    assert_eq!(output.status, 1, "{}", output.stdout);
    assert!(
        output
            .stdout
            .contains("error[T001]: unknown reason `maybe`"),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains(&format!("--> {tests}:3:40")),
        "{}",
        output.stdout
    );
    assert!(output.stdout.contains("^^^^^"), "{}", output.stdout);
    assert!(
        output.stdout.contains("= help: the reasons are"),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("1 tests file could not be run"),
        "{}",
        output.stdout
    );
    // The other file still ran.
    assert_eq!(summary(&output.stdout), "2 passed, 0 failed");
}

#[test]
fn exit_statuses() {
    let broken_policy = "role a\nallow b to call tools \"x\"\n";
    let dir = scratch(
        "test-status",
        &[
            ("pass.tests", &format!("policy \"p.policy\"\n{PASSING}")),
            ("fail.tests", FAILING),
            ("broken.policy", broken_policy),
            ("broken.tests", "at 2026-01-01T00:00:00Z\n"),
            ("orphan.tests", "at 2026-01-01T00:00:00Z\n"),
            ("gone.tests", "policy \"gone.policy\"\n"),
        ],
    );
    let path = |name: &str| dir.0.join(name).display().to_string();
    let run = |names: &[&str]| {
        let paths: Vec<String> = names.iter().map(|name| path(name)).collect();
        let mut args = vec!["test"];
        args.extend(paths.iter().map(String::as_str));
        toolgate(&args, None)
    };
    assert_eq!(run(&["pass.tests"]).status, 0);
    assert_eq!(run(&["fail.tests"]).status, 1);
    assert_eq!(run(&["pass.tests", "fail.tests"]).status, 1);

    let broken = run(&["broken.tests"]);
    assert_eq!(broken.status, 1);
    assert!(broken.stdout.contains("error[E003]"), "{}", broken.stdout);
    assert!(
        broken.stdout.contains("not run, its policy has errors"),
        "{}",
        broken.stdout
    );

    let orphan = run(&["orphan.tests"]);
    assert_eq!(orphan.status, 1);
    assert!(
        orphan.stdout.contains("error[T006]: no policy `"),
        "{}",
        orphan.stdout
    );

    let gone = run(&["gone.tests"]);
    assert_eq!(gone.status, 1);
    assert!(
        gone.stdout.contains("error[T006]: the policy `"),
        "{}",
        gone.stdout
    );
    assert!(gone.stdout.contains("gone.tests:1:8"), "{}", gone.stdout);

    let missing = run(&["nothing-here.tests"]);
    assert_eq!(missing.status, 2);
    assert!(missing.stderr.contains("cannot read"), "{}", missing.stderr);

    let empty = Scratch::new("test-status-empty");
    let output = toolgate(&["test", &empty.0.display().to_string()], None);
    assert_eq!(output.status, 2);
    assert!(
        output.stderr.contains("holds no `.tests` file"),
        "{}",
        output.stderr
    );

    assert_eq!(toolgate(&["test"], None).status, 2, "a path is required");
}

#[test]
fn a_directory_runs_its_tests_files_and_a_policy_runs_the_file_beside_it() {
    let dir = scratch(
        "test-discover",
        &[
            ("p.tests", PASSING),
            ("other.tests", &format!("policy \"p.policy\"\n{PASSING}")),
            ("notes.txt", "not a tests file"),
            ("lonely.policy", POLICY),
        ],
    );
    std::fs::create_dir_all(dir.0.join("nested")).unwrap();
    std::fs::write(dir.0.join("nested/deep.tests"), FAILING).unwrap();

    let output = toolgate(&["test", &dir.0.display().to_string()], None);
    assert_eq!(output.status, 0, "{}", output.stdout);
    assert_eq!(summary(&output.stdout), "4 passed, 0 failed");
    let other = output.stdout.find("other.tests against").unwrap();
    let p = output.stdout.find("p.tests against").unwrap();
    assert!(other < p, "sorted by file name: {}", output.stdout);
    assert!(!output.stdout.contains("deep.tests"), "not recursive");

    let beside = toolgate(
        &["test", &dir.0.join("p.policy").display().to_string()],
        None,
    );
    assert_eq!(beside.status, 0, "{}", beside.stdout);
    assert_eq!(summary(&beside.stdout), "2 passed, 0 failed");

    let lonely = toolgate(
        &["test", &dir.0.join("lonely.policy").display().to_string()],
        None,
    );
    assert_eq!(lonely.status, 2);
    assert!(
        lonely.stderr.contains("has no tests file beside it"),
        "{}",
        lonely.stderr
    );

    // The same file reached twice runs once.
    let twice = toolgate(
        &[
            "test",
            &dir.0.join("p.tests").display().to_string(),
            &dir.0.join("p.policy").display().to_string(),
        ],
        None,
    );
    assert_eq!(summary(&twice.stdout), "2 passed, 0 failed");
}

#[test]
fn a_policy_directory_can_be_named() {
    let dir = Scratch::new("test-policy-dir");
    std::fs::create_dir_all(dir.0.join("policy")).unwrap();
    dir.file("policy/a.policy", "role user\n");
    dir.file("policy/b.policy", "\nallow user to call tools \"fs.*\"\n");
    let tests = dir.file(
        "suite.tests",
        "policy \"policy\"\nat 2026-01-01T00:00:00Z\n\
         expect allow call tool \"fs.x\" as {\"roles\": [\"user\"]} rule \"b.policy:2\"\n\
         expect allow call tool \"fs.x\" as {\"roles\": [\"user\"]} rule \"policy/b.policy:2\"\n\
         expect allow call tool \"fs.x\" as {\"roles\": [\"user\"]} rule \"a.policy:2\"\n",
    );
    let output = toolgate(&["test", &tests], None);
    assert_eq!(output.status, 1, "{}", output.stdout);
    assert_eq!(summary(&output.stdout), "2 passed, 1 failed");
    assert!(
        output.stdout.contains("suite.tests:5:"),
        "{}",
        output.stdout
    );
}

#[test]
fn verbose_lists_passing_cases() {
    let dir = scratch("test-verbose", &[("p.tests", PASSING)]);
    let tests = dir.0.join("p.tests").display().to_string();
    let output = toolgate(&["test", "--verbose", &tests], None);
    assert_eq!(output.status, 0);
    assert!(
        output.stdout.contains(&format!(
            "ok   {tests}:4: `user` calls tool `fs.read` without an address at \
             2026-01-01T00:00:00Z -> allow, reason allowed, rule "
        )),
        "{}",
        output.stdout
    );
}

#[test]
fn a_changed_policy_fails_its_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = Scratch::new("test-mutated");
    let policy = std::fs::read_to_string(root.join("policies/example.policy")).unwrap();
    let tests = std::fs::read_to_string(root.join("policies/example.tests")).unwrap();
    // Users may now call every github tool; the line numbers stay the same.
    let changed = policy.replace(
        "\"fs.read_*\", \"github.list_*\"",
        "\"fs.read_*\", \"github.*\"",
    );
    assert_ne!(changed, policy);
    dir.file("example.policy", &changed);
    let path = dir.file("example.tests", &tests);
    let output = toolgate(&["test", &path], None);
    assert_eq!(output.status, 1, "{}", output.stdout);
    // A user may now create issues, and the developer's allow is no longer the first.
    assert!(
        output
            .stdout
            .contains("`user` calls tool `github.create_issue`"),
        "{}",
        output.stdout
    );
    assert!(
        output
            .stdout
            .contains("`dev` calls tool `github.create_issue`"),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.ends_with(" passed, 2 failed\n"),
        "{}",
        output.stdout
    );
}

#[test]
fn cases_carry_arguments_with_with() {
    let dir = Scratch::new("test-arguments");
    dir.file(
        "k8s.policy",
        "role dev\nrole admin\n\
         allow dev to call tools \"k8s.scale\" if arg \"replicas\" <= 5\n\
         allow admin to call tools \"k8s.scale\"\n",
    );
    dir.file(
        "k8s.tests",
        "at 2026-11-26T10:00:00Z\n\
         principal dev = {\"roles\": [\"dev\"]}\n\
         principal admin = {\"roles\": [\"admin\"]}\n\
         as dev\n\
         \x20 expect allow call tool \"k8s.scale\" with {\"replicas\": 5} reason allowed\n\
         \x20 expect deny  call tool \"k8s.scale\" reason no_rule with {\"replicas\": 6}\n\
         \x20 expect deny  call tool \"k8s.scale\" reason no_rule\n\
         \x20 expect allow list tool \"k8s.scale\"\n\
         as admin\n\
         \x20 expect allow call tool \"k8s.scale\" with {\"replicas\": 500}\n",
    );
    let output = toolgate(
        &["test", &dir.0.join("k8s.tests").display().to_string()],
        None,
    );
    assert_eq!(output.status, 0, "{}", output.stdout);
    assert_eq!(summary(&output.stdout), "5 passed, 0 failed");
    // A case that expects what the arguments do not give fails.
    dir.file(
        "k8s.tests",
        "at 2026-11-26T10:00:00Z\nas {\"roles\": [\"dev\"]}\n\
         expect allow call tool \"k8s.scale\" with {\"replicas\": 6}\n",
    );
    let output = toolgate(
        &["test", &dir.0.join("k8s.tests").display().to_string()],
        None,
    );
    assert_eq!(output.status, 1, "{}", output.stdout);
    assert_eq!(summary(&output.stdout), "0 passed, 1 failed");
}

#[test]
fn with_is_an_object_and_only_for_call_or_get() {
    assert_eq!(
        errors(
            "at 2026-11-26T10:00:00Z\nas {\"sub\": \"u\"}\n\
             expect allow list tool \"t\" with {}\n\
             expect allow call tool \"t\" with [1]\n\
             expect allow call tool \"t\" with {} with {}\n"
        ),
        vec![
            (
                ErrorCode::T004,
                3,
                33,
                "`list` requests carry no arguments; `with` goes with `call` or `get`".to_string()
            ),
            (
                ErrorCode::T001,
                4,
                33,
                "the arguments after `with` must be a JSON object".to_string()
            ),
            (
                ErrorCode::T003,
                5,
                36,
                "`with` is given twice in this case".to_string()
            ),
        ]
    );
}
