//! `toolgate init` and `toolgate::unstable::init`: starter policies from a `tools/list` result pass
//! `check --deny-warnings --tools`, their starter tests pass `toolgate test`, and
//! existing files are kept unless `--force`.

use std::path::Path;
use std::process::Command;

use toolgate::unstable::init::{self, Access, Config};

use crate::cli::{toolgate, Output, Scratch};

/// Writes `manifest`, runs `init` into the scratch directory, then `check` and `test` on
/// the result; returns the policy's and the tests file's text.
fn generate_and_verify(name: &str, manifest: &str) -> (String, String) {
    let dir = Scratch::new(&format!("init-{name}"));
    let tools = dir.file("tools.json", manifest);
    let output = dir.0.join("server").display().to_string();
    let init = toolgate(&["init", "--tools", &tools, "--output", &output], None);
    assert_eq!(init.status, 0, "{name}: {}", init.stderr);
    assert!(init.stdout.contains("wrote "), "{name}: {}", init.stdout);

    let policy = format!("{output}.policy");
    let check = toolgate(
        &["check", "--deny-warnings", &policy, "--tools", &tools],
        None,
    );
    assert_eq!(check.status, 0, "{name}: {}", check.stdout);
    assert_eq!(check.stdout.trim(), "no problems found", "{name}");

    let tests = format!("{output}.tests");
    // The starter tests cover the starter policy: every statement decides a case and
    // every condition atom is seen both true and false.
    let test = toolgate(&["test", "--coverage-fail", &tests], None);
    assert_eq!(test.status, 0, "{name}: {}", test.stdout);
    assert!(
        test.stdout
            .contains("statements that decided no case: 0 of "),
        "{name}: {}",
        test.stdout
    );
    let last = test.stdout.lines().last().unwrap_or("");
    assert!(last.ends_with(" passed, 0 failed"), "{name}: {last}");
    assert!(!last.starts_with("0 passed"), "{name}: {last}");

    let policy_text = std::fs::read_to_string(&policy).unwrap();
    let tests_text = std::fs::read_to_string(&tests).unwrap();
    (policy_text, tests_text)
}

fn manifest_of(tools: &[&str]) -> String {
    format!("{{\"tools\": [{}]}}", tools.join(", "))
}

#[test]
fn the_example_server_gets_a_clean_policy_and_passing_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("policies/mcp-server.tools.json")).unwrap();
    let (policy, tests) = generate_and_verify("mcp-server", &manifest);
    for expected in [
        "scope \"tool:read\", \"tool:write\"\n",
        "role read-only\nrole editor    inherits read-only\nrole admin     inherits editor\n",
        "require scope \"tool:read\" to list, call tools \"*\"\n",
        "# repo: 4 tools\n",
        "require scope \"tool:write\" to call tools \"repo.create_branch\", \"repo.merge\"\n",
        "allow read-only to call tools \"repo.read_file\", \"repo.search\"\n",
        "allow editor    to call tools \"deploy.staging\"\n",
        "allow admin     to call tools \"db.migrate\", \"db.drop_table\"\n",
        "deny anyone to call tools \"db.migrate\", \"db.drop_table\"\n  unless role admin\n",
        "reaches outside",
    ] {
        assert!(
            policy.contains(expected),
            "missing {expected:?} in\n{policy}"
        );
    }
    // Every tool is named, none by a glob.
    assert!(!policy.contains("\"repo.*\"\n"), "{policy}");
    assert!(tests.contains("as read-only\n"), "{tests}");
    assert!(
        tests.contains("expect deny  call tool \"db.drop_table\""),
        "{tests}"
    );
}

#[test]
fn a_manifest_without_annotations_keeps_every_tool_for_admins() {
    let manifest = manifest_of(&[
        r#"{"name": "notes.write"}"#,
        r#"{"name": "notes.delete", "annotations": null}"#,
        r#"{"name": "mail.send", "annotations": {}}"#,
    ]);
    let (policy, tests) = generate_and_verify("no-annotations", &manifest);
    assert!(policy.contains("role admin\n"), "{policy}");
    assert!(!policy.contains("role read-only"), "{policy}");
    assert!(!policy.contains("role editor"), "{policy}");
    assert!(
        policy.contains(
            "deny anyone to call tools \"notes.write\", \"notes.delete\"\n  unless role admin"
        ),
        "{policy}"
    );
    assert!(
        policy.contains("no annotations: treated as destructive"),
        "{policy}"
    );
    assert!(tests.contains("as no-role\n"), "{tests}");
}

#[test]
fn names_without_prefixes_form_one_group() {
    let manifest = manifest_of(&[
        r#"{"name": "search", "annotations": {"readOnlyHint": true}}"#,
        r#"{"name": "fetch", "annotations": {"readOnlyHint": true, "openWorldHint": true}}"#,
        r#"{"name": "summarize", "annotations": {"readOnlyHint": false, "destructiveHint": false}}"#,
    ]);
    let (policy, _) = generate_and_verify("no-prefixes", &manifest);
    assert!(policy.contains("# tools without a prefix: 3\n"), "{policy}");
    assert!(
        policy.contains("allow read-only to call tools \"search\", \"fetch\"\n"),
        "{policy}"
    );
    assert!(
        !policy.contains("role admin"),
        "no destructive tool: {policy}"
    );
    assert!(!policy.contains("deny anyone"), "{policy}");
}

#[test]
fn shared_underscore_prefixes_group_and_odd_names_are_escaped() {
    let manifest = manifest_of(&[
        r#"{"name": "github_create_issue", "annotations": {"destructiveHint": false}}"#,
        r#"{"name": "github_list_repos", "title": "List\nrepos", "annotations": {"readOnlyHint": true}}"#,
        r#"{"name": "slack_post", "annotations": {"destructiveHint": true}}"#,
        r#"{"name": "fs/read", "annotations": {"readOnlyHint": true}}"#,
        r#"{"name": "glob*name?", "annotations": {"readOnlyHint": true}}"#,
        r#"{"name": "back\\slash \"quoted\"", "annotations": {"destructiveHint": false}}"#,
        r#"{"name": "tab\there", "annotations": {"readOnlyHint": true}}"#,
        r#"{"name": "ünïcode·名前", "annotations": {"readOnlyHint": true}}"#,
    ]);
    let (policy, tests) = generate_and_verify("odd-names", &manifest);
    assert!(policy.contains("# github: 2 tools\n"), "{policy}");
    assert!(policy.contains("# fs: 1 tool\n"), "{policy}");
    assert!(policy.contains("# tools without a prefix: 5\n"), "{policy}");
    assert!(policy.contains(r#""glob\*name\?""#), "{policy}");
    assert!(policy.contains(r#""back\\\\slash \"quoted\"""#), "{policy}");
    assert!(
        policy.contains("\"List repos\""),
        "titles stay on one line: {policy}"
    );
    assert!(tests.contains(r#""glob*name?""#), "{tests}");
    assert!(tests.contains(r#""back\\slash \"quoted\"""#), "{tests}");
    assert!(tests.contains(r#""tab\there""#), "{tests}");
}

#[test]
fn many_tools_wrap_long_statements() {
    let tools: Vec<String> = (0..120)
        .map(|i| {
            format!(
                r#"{{"name": "bulk.tool_number_{i}", "annotations": {{"readOnlyHint": {}}}}}"#,
                i % 2 == 0
            )
        })
        .collect();
    let tools: Vec<&str> = tools.iter().map(String::as_str).collect();
    let (policy, tests) = generate_and_verify("many", &manifest_of(&tools));
    let statements = policy.lines().filter(|line| !line.starts_with('#'));
    assert!(
        statements.clone().all(|line| line.chars().count() <= 92),
        "{policy}"
    );
    assert!(statements.count() > 10, "{policy}");
    assert!(tests.matches("expect ").count() > 120 * 3, "{tests}");
}

#[test]
fn the_starter_tests_catch_a_changed_policy() {
    let dir = Scratch::new("init-mutated");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tools = root.join("policies/mcp-server.tools.json");
    let output = dir.0.join("server").display().to_string();
    let init = toolgate(
        &[
            "init",
            "--tools",
            tools.to_str().unwrap(),
            "--output",
            &output,
        ],
        None,
    );
    assert_eq!(init.status, 0, "{}", init.stderr);
    let policy_path = format!("{output}.policy");
    let policy = std::fs::read_to_string(&policy_path).unwrap();
    // Let editors deploy to production.
    let changed = policy.replace(
        "allow editor    to call tools \"deploy.staging\"",
        "allow editor    to call tools \"deploy.staging\", \"deploy.production\"",
    );
    let changed = changed.replace(
        "deny anyone to call tools \"deploy.production\"\n  unless role admin\n",
        "",
    );
    assert_ne!(changed, policy);
    std::fs::write(&policy_path, changed).unwrap();
    let test = toolgate(&["test", &format!("{output}.tests")], None);
    assert_eq!(test.status, 1, "{}", test.stdout);
    assert!(
        test.stdout
            .contains("`editor` calls tool `deploy.production`"),
        "{}",
        test.stdout
    );
}

/// Runs `toolgate init ARGS` in `dir`.
fn init_in(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_toolgate"))
        .current_dir(dir)
        .arg("init")
        .args(args)
        .output()
        .unwrap();
    Output {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

#[test]
fn default_output_and_refusal_to_overwrite() {
    let dir = Scratch::new("init-overwrite");
    dir.file(
        "tools.json",
        &manifest_of(&[r#"{"name": "a.read", "annotations": {"readOnlyHint": true}}"#]),
    );
    let first = init_in(&dir.0, &["--tools", "tools.json"]);
    assert_eq!(first.status, 0, "{}", first.stderr);
    assert!(
        first.stdout.starts_with(
            "wrote toolgate.policy: 1 tool in 1 group, roles read-only\n\
             wrote toolgate.tests: "
        ),
        "{}",
        first.stdout
    );
    assert!(dir.0.join("toolgate.policy").is_file());
    assert!(dir.0.join("toolgate.tests").is_file());

    std::fs::write(dir.0.join("toolgate.policy"), "# mine\n").unwrap();
    let again = init_in(&dir.0, &["--tools", "tools.json"]);
    assert_eq!(again.status, 2);
    assert!(
        again
            .stderr
            .contains("`toolgate.policy` and `toolgate.tests` already exist"),
        "{}",
        again.stderr
    );
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    let kept = std::fs::read_to_string(dir.0.join("toolgate.policy")).unwrap();
    assert_eq!(kept, "# mine\n", "an existing file is never touched");

    // Only the tests file exists: still refused, and the policy is not written either.
    std::fs::remove_file(dir.0.join("toolgate.policy")).unwrap();
    let partial = init_in(&dir.0, &["--tools", "tools.json"]);
    assert_eq!(partial.status, 2);
    assert!(!dir.0.join("toolgate.policy").exists());

    let forced = init_in(&dir.0, &["--tools", "tools.json", "--force"]);
    assert_eq!(forced.status, 0, "{}", forced.stderr);
    let policy = std::fs::read_to_string(dir.0.join("toolgate.policy")).unwrap();
    assert!(
        policy.contains("allow read-only to call tools \"a.read\""),
        "{policy}"
    );
}

#[test]
fn an_output_ending_in_policy_names_both_files() {
    let dir = Scratch::new("init-ending");
    dir.file(
        "tools.json",
        &manifest_of(&[r#"{"name": "a.read", "annotations": {"readOnlyHint": true}}"#]),
    );
    let output = init_in(
        &dir.0,
        &["--tools", "tools.json", "--output", "srv.v2.policy"],
    );
    assert_eq!(output.status, 0, "{}", output.stderr);
    assert!(dir.0.join("srv.v2.policy").is_file());
    assert!(dir.0.join("srv.v2.tests").is_file());
}

#[test]
fn unusable_manifests_are_refused_and_nothing_is_written() {
    let dir = Scratch::new("init-bad");
    for (name, text, message) in [
        (
            "not-json.json",
            "{\"tools\": [",
            "not an MCP `tools/list` result",
        ),
        (
            "empty.json",
            "{\"tools\": []}",
            "the manifest lists no tools",
        ),
        (
            "twice.json",
            r#"{"tools": [{"name": "a"}, {"name": "a"}]}"#,
            "tool `a` is listed twice",
        ),
        (
            "bad-hint.json",
            r#"{"tools": [{"name": "a", "annotations": {"readOnlyHint": "yes"}}]}"#,
            "not an MCP `tools/list` result",
        ),
    ] {
        dir.file(name, text);
        let output = init_in(&dir.0, &["--tools", name]);
        assert_eq!(output.status, 2, "{name}");
        assert!(output.stderr.contains(message), "{name}: {}", output.stderr);
        assert!(!dir.0.join("toolgate.policy").exists(), "{name}");
    }
    let missing = init_in(&dir.0, &["--tools", "nowhere.json"]);
    assert_eq!(missing.status, 2);
    assert!(
        missing.stderr.contains("cannot read `nowhere.json`"),
        "{}",
        missing.stderr
    );
}

#[test]
fn the_library_classifies_by_mcp_defaults() {
    assert_eq!(Access::of(Some(true), Some(true)), Access::Read);
    assert_eq!(Access::of(None, Some(false)), Access::Write);
    assert_eq!(Access::of(Some(false), Some(false)), Access::Write);
    assert_eq!(Access::of(None, None), Access::Destructive);
    assert_eq!(Access::of(Some(false), None), Access::Destructive);

    let config = Config {
        manifest_path: "tools.json".to_string(),
        policy_path: "x.policy".to_string(),
        tests_path: "x.tests".to_string(),
    };
    let manifest = manifest_of(&[
        r#"{"name": "a.look", "annotations": {"readOnlyHint": true}}"#,
        r#"{"name": "a.drop"}"#,
    ]);
    let starter = init::starter(&manifest, &config).unwrap();
    assert_eq!(starter.tools, 2);
    assert_eq!(starter.groups, 1);
    assert_eq!(starter.roles, ["read-only", "admin"]);
    assert_eq!(starter.cases, starter.tests.matches("\n  expect ").count());
    assert!(
        starter
            .policy
            .contains("role admin     inherits read-only\n"),
        "{}",
        starter.policy
    );
    // The policy loads and its tests parse.
    let loaded = toolgate::Policy::from_text("x.policy", &starter.policy).unwrap();
    assert!(loaded.warnings().is_empty(), "{:?}", loaded.warnings());
    let sources = toolgate::Sources::from_text("x.tests", starter.tests.clone());
    let parsed =
        toolgate::unstable::testing::parse(&sources, toolgate::unstable::source::SourceId(0));
    assert_eq!(parsed.errors, []);
    let results = toolgate::unstable::testing::run(loaded.engine(), &parsed.file);
    assert!(results.iter().all(|result| result.passed()));
    assert_eq!(results.len(), starter.cases);
}

#[test]
fn input_schema_properties_are_listed_for_arg_conditions() {
    let manifest = manifest_of(&[
        r#"{"name": "k8s.scale", "annotations": {"readOnlyHint": false, "destructiveHint": false},
            "inputSchema": {"type": "object", "properties": {"cluster": {"type": "string"}, "replicas": {"type": "integer"}}}}"#,
        r#"{"name": "k8s.logs", "annotations": {"readOnlyHint": true},
            "inputSchema": {"type": "object", "properties": {"pod": {}}}}"#,
        r#"{"name": "k8s.version", "annotations": {"readOnlyHint": true}}"#,
    ]);
    let (policy, _) = generate_and_verify("input-schema", &manifest);
    assert!(
        policy.contains("arguments: cluster (string), replicas (integer)\n"),
        "{policy}"
    );
    assert!(policy.contains("arguments: pod\n"), "{policy}");
    assert!(
        policy.contains("# Constrain a call by its arguments with `arg`: `if arg \"cluster\" matches \"prefix/*\"`.\n"),
        "{policy}"
    );
    // A tool without an inputSchema gets no arguments line.
    let version = policy
        .lines()
        .skip_while(|line| !line.contains("k8s.version"))
        .nth(1)
        .unwrap_or_default();
    assert!(!version.contains("arguments:"), "{policy}");
}
