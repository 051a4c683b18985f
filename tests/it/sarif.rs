//! `toolgate check --format sarif`: every log validates against the official SARIF 2.1.0
//! schema (OASIS, `tests/fixtures/sarif-schema-2.1.0.json`) with its formats checked, and
//! carries what code scanning reads (rules with help, levels, regions, fingerprints). A
//! golden snapshot pins one log; `UPDATE_GOLDEN=1` rewrites it. The cookbook's policies
//! and examples are checked here too, so `docs/cookbook.md` stays true.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{json, Value};
use toolgate::{Code, Severity};

use crate::cli::Scratch;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn diagnostics_folder() -> PathBuf {
    manifest_dir().join("tests/diagnostics")
}

/// The official schema, formats (`uri`, `uri-reference`, ...) checked.
fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let path = manifest_dir().join("tests/fixtures/sarif-schema-2.1.0.json");
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        jsonschema::draft4::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap()
    })
}

fn schema_errors(log: &Value) -> Vec<String> {
    validator()
        .iter_errors(log)
        .map(|error| format!("{}: {error}", error.instance_path()))
        .collect()
}

fn assert_valid(log: &Value, what: &str) {
    let errors = schema_errors(log);
    assert!(
        errors.is_empty(),
        "{what}: SARIF invalid against the 2.1.0 schema:\n{}",
        errors.join("\n")
    );
}

/// Runs `toolgate ARGS` in `directory`; the exit status and standard output.
fn run_in(directory: &Path, args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_toolgate"))
        .current_dir(directory)
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
    )
}

/// `toolgate check PATHS... --format sarif` in `directory`: exit status and the log.
fn sarif_in(directory: &Path, paths: &[&str]) -> (i32, Value) {
    let mut args = vec!["check"];
    args.extend_from_slice(paths);
    args.extend_from_slice(&["--format", "sarif"]);
    let (status, stdout) = run_in(directory, &args);
    let log = serde_json::from_str(&stdout)
        .unwrap_or_else(|error| panic!("not JSON ({error}):\n{stdout}"));
    (status, log)
}

fn only_run(log: &Value) -> &Value {
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "one run per log");
    &runs[0]
}

fn results(log: &Value) -> &Vec<Value> {
    only_run(log)["results"].as_array().unwrap()
}

fn uri(result: &Value) -> &str {
    result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap()
}

fn fingerprint(result: &Value) -> &str {
    result["partialFingerprints"]["primaryLocationLineHash"]
        .as_str()
        .unwrap()
}

fn start_line(result: &Value) -> u64 {
    result["locations"][0]["physicalLocation"]["region"]["startLine"]
        .as_u64()
        .unwrap()
}

fn diagnostic_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(diagnostics_folder())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".policy"))
        .collect();
    files.sort();
    files
}

fn check_args(file: &str) -> Vec<&str> {
    if file.starts_with("w006") || file.starts_with("w007") || file.starts_with("w009") {
        vec![file, "--tools", "tools.json"]
    } else {
        vec![file]
    }
}

#[test]
fn every_diagnostic_file_gives_valid_sarif() {
    let files = diagnostic_files();
    assert!(files.len() >= Code::ALL.len());
    for code in Code::ALL {
        let prefix = code.as_str().to_lowercase();
        let file = files.iter().find(|name| name.starts_with(&prefix)).unwrap();
        let (status, log) = sarif_in(&diagnostics_folder(), &check_args(file));
        assert_valid(&log, file);
        let expected_status = if code.severity() == Severity::Error {
            1
        } else {
            0
        };
        assert_eq!(status, expected_status, "{file}");
        let run = only_run(&log);
        assert_eq!(run["tool"]["driver"]["name"], "toolgate");
        assert_eq!(run["columnKind"], "unicodeCodePoints");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), Code::ALL.len(), "a rule per code");
        let ours: Vec<&Value> = results(&log)
            .iter()
            .filter(|result| result["ruleId"] == code.as_str())
            .collect();
        assert!(!ours.is_empty(), "{file} reports no {code}");
        for result in results(&log) {
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], result["ruleId"], "{file}: ruleIndex");
            assert_eq!(
                result["level"], rules[index]["defaultConfiguration"]["level"],
                "{file}: level"
            );
            let location = &result["locations"][0]["physicalLocation"];
            assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
            assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
            assert!(!result["message"]["text"].as_str().unwrap().is_empty());
        }
    }
}

#[test]
fn a_clean_policy_gives_a_valid_empty_run() {
    let dir = Scratch::new("sarif-clean");
    dir.file(
        "clean.policy",
        "scope \"tool:read\"\nrole user\nrequire scope \"tool:read\" to call tools \"*\"\n\
         allow user to call tools \"fs.*\"\n",
    );
    let (status, log) = sarif_in(&dir.0, &["clean.policy"]);
    assert_eq!(status, 0);
    assert_valid(&log, "clean policy");
    assert_eq!(results(&log), &Vec::<Value>::new());
    let root = only_run(&log)["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        root.starts_with("file:///") && root.ends_with('/'),
        "{root}"
    );
    assert_eq!(
        only_run(&log)["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len(),
        Code::ALL.len()
    );
}

#[test]
fn several_policies_share_one_run() {
    let dir = Scratch::new("sarif-several");
    dir.file(
        "broken.policy",
        "role a\nrole a\nallow a to call tools \"x\"\n",
    );
    std::fs::create_dir_all(dir.0.join("policies")).unwrap();
    dir.file("policies/10-roles.policy", "role user\nrole unused\n");
    dir.file(
        "policies/20-rules.policy",
        "allow user to call tools \"fs.*\"\n",
    );
    dir.file("clean.policy", "role b\nallow b to call tools \"y\"\n");
    let (status, log) = sarif_in(&dir.0, &["broken.policy", "policies", "clean.policy"]);
    assert_eq!(status, 1);
    assert_valid(&log, "three policies");
    let found: Vec<(&str, &str)> = results(&log)
        .iter()
        .map(|result| (result["ruleId"].as_str().unwrap(), uri(result)))
        .collect();
    assert_eq!(
        found,
        [
            ("E002", "broken.policy"),
            ("W001", "policies/10-roles.policy")
        ]
    );
}

#[test]
fn file_names_become_valid_uris() {
    let dir = Scratch::new("sarif-uris");
    let text = "role a\nrole a\nallow a to call tools \"x\"\n";
    let absolute = dir.file("my policy ü.policy", text);
    dir.file("a:b.policy", text);
    let (_, log) = sarif_in(&dir.0, &["./my policy ü.policy", "a:b.policy", &absolute]);
    assert_valid(&log, "unusual names");
    let uris: Vec<&str> = results(&log).iter().map(uri).collect();
    assert_eq!(uris[0], "my%20policy%20%C3%BC.policy");
    assert_eq!(uris[1], "./a:b.policy");
    assert!(uris[2].starts_with("file:///"), "{}", uris[2]);
    assert!(
        uris[2].ends_with("/my%20policy%20%C3%BC.policy"),
        "{}",
        uris[2]
    );
    let absolute_location = &results(&log)[2]["locations"][0]["physicalLocation"];
    assert!(absolute_location["artifactLocation"]
        .get("uriBaseId")
        .is_none());
}

#[test]
fn the_schema_rejects_what_code_scanning_would() {
    let (_, log) = sarif_in(&diagnostics_folder(), &["e002-duplicate.policy"]);
    assert_valid(&log, "e002");
    let breakages: [(&str, Value); 5] = [
        (
            "/runs/0/tool/driver/rules/0/helpUri",
            json!("docs/diagnostics.md#e001"),
        ),
        ("/runs/0/results/0/level", json!("fatal")),
        ("/runs/0/results/0/message", json!({})),
        (
            "/runs/0/results/0/locations/0/physicalLocation/region/startLine",
            json!(0),
        ),
        (
            "/runs/0/results/0/partialFingerprints/primaryLocationLineHash",
            json!(42),
        ),
    ];
    for (pointer, value) in breakages {
        let mut broken = log.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        broken.pointer_mut(parent).unwrap()[key] = value;
        assert!(
            !schema_errors(&broken).is_empty(),
            "the validator accepted {pointer} broken"
        );
    }
}

#[test]
fn fingerprints_follow_the_line_not_its_number() {
    let dir = Scratch::new("sarif-fingerprints");
    let body = "role a\nallow a to call tools \"x\"\nrole unused\nrole unused2\n";
    dir.file("p.policy", body);
    let (_, before) = sarif_in(&dir.0, &["p.policy"]);
    dir.file("p.policy", &format!("# a comment\n\n{body}"));
    let (_, after) = sarif_in(&dir.0, &["p.policy"]);
    assert_eq!(results(&before).len(), 2);
    for (old, new) in results(&before).iter().zip(results(&after)) {
        assert_eq!(start_line(new), start_line(old) + 2);
        assert_eq!(fingerprint(new), fingerprint(old));
    }
    assert_ne!(
        fingerprint(&results(&before)[0]),
        fingerprint(&results(&before)[1])
    );
    // The same line twice: the same hash, told apart by the occurrence count.
    dir.file(
        "q.policy",
        "role a\nrole a\nrole a\nallow a to call tools \"x\"\n",
    );
    let (_, log) = sarif_in(&dir.0, &["q.policy"]);
    let prints: Vec<&str> = results(&log).iter().map(fingerprint).collect();
    assert_eq!(prints.len(), 2);
    let (first_hash, first_count) = prints[0].split_once(':').unwrap();
    let (second_hash, second_count) = prints[1].split_once(':').unwrap();
    assert_eq!(first_hash, second_hash);
    assert_eq!((first_count, second_count), ("1", "2"));
    assert_eq!(first_hash.len(), 16);
}

#[test]
fn rules_explain_each_code_from_the_reference() {
    let (_, log) = sarif_in(&diagnostics_folder(), &["e001-syntax.policy"]);
    let rules = only_run(&log)["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    for (rule, code) in rules.iter().zip(Code::ALL) {
        assert_eq!(rule["id"], code.as_str());
        let short = rule["shortDescription"]["text"].as_str().unwrap();
        assert!(short.eq_ignore_ascii_case(code.title()), "{code}: {short}");
        let name = rule["name"].as_str().unwrap();
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric()), "{name}");
        let full = rule["fullDescription"]["text"].as_str().unwrap();
        // The reference's explanation, not the fallback made of the title.
        assert!(full.len() > short.len() + 20, "{code}: {full}");
        let markdown = rule["help"]["markdown"].as_str().unwrap();
        let text = rule["help"]["text"].as_str().unwrap();
        let fix = markdown.split_once("**Fix.** ").unwrap().1;
        assert!(!fix.starts_with("see the code's entry"), "{code}: no fix");
        assert!(
            markdown.contains("\n```\n"),
            "{code}: the example is missing"
        );
        assert!(markdown.contains(&format!("`{code}`")), "{code}");
        assert!(!markdown.contains("]("), "{code}: a relative link");
        assert!(!text.contains("**"), "{code}: markdown in text");
        let level = rule["defaultConfiguration"]["level"].as_str().unwrap();
        assert_eq!(level, code.severity().as_str());
    }
}

/// The log with what depends on the build, the machine and the wording of
/// `docs/diagnostics.md` (tested above) replaced by placeholders.
fn normalised(mut log: Value) -> String {
    let run = &mut log["runs"][0];
    for rule in run["tool"]["driver"]["rules"].as_array_mut().unwrap() {
        rule["fullDescription"] = json!({"text": "DOCS", "markdown": "DOCS"});
        rule["help"] = json!({"text": "DOCS", "markdown": "DOCS"});
    }
    run["tool"]["driver"]["version"] = json!("VERSION");
    run["tool"]["driver"]["semanticVersion"] = json!("VERSION");
    run["originalUriBaseIds"]["%SRCROOT%"]["uri"] = json!("file:///SRCROOT/");
    serde_json::to_string_pretty(&log).unwrap() + "\n"
}

#[test]
fn sarif_golden_snapshot() {
    let (_, log) = sarif_in(&diagnostics_folder(), &["w003-redundant.policy"]);
    let actual = normalised(log);
    let path = manifest_dir().join("tests/fixtures/w003-redundant.sarif.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "{} differs (UPDATE_GOLDEN=1 rewrites it):\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

/// A fenced block of `docs/cookbook.md`: its info string and its text.
struct Block {
    info: String,
    text: String,
}

fn cookbook_blocks() -> Vec<Block> {
    let document = std::fs::read_to_string(manifest_dir().join("docs/cookbook.md")).unwrap();
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for line in document.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => {
                open = Some(Block {
                    info: info.trim().to_string(),
                    text: String::new(),
                })
            }
            (Some(_), Some("")) => blocks.extend(open.take()),
            (Some(block), _) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "an unclosed fence in docs/cookbook.md");
    blocks
}

/// The file name a cookbook policy names in its first line, `# NAME.policy`.
fn policy_name(block: &Block) -> &str {
    let first = block.text.lines().next().unwrap_or_default();
    first
        .strip_prefix("# ")
        .filter(|name| name.ends_with(".policy"))
        .unwrap_or_else(|| panic!("a cookbook policy starts with `# NAME.policy`: {first}"))
}

#[test]
fn cookbook_snippets_check_clean() {
    let dir = Scratch::new("cookbook-check");
    let policies: Vec<Block> = cookbook_blocks()
        .into_iter()
        .filter(|block| block.info == "policy")
        .collect();
    assert!(policies.len() >= 10, "only {} policies", policies.len());
    for block in &policies {
        let name = policy_name(block);
        dir.file(name, &block.text);
        let (status, stdout) = run_in(&dir.0, &["check", name, "--format", "json"]);
        let diagnostics: Vec<Value> = serde_json::from_str(&stdout).unwrap();
        let errors: Vec<&Value> = diagnostics
            .iter()
            .filter(|d| d["severity"] == "error")
            .collect();
        assert!(
            errors.is_empty() && status == 0,
            "{name} does not check:\n{errors:#?}\n{}",
            block.text
        );
    }
}

#[test]
fn cookbook_examples_decide_as_written() {
    let dir = Scratch::new("cookbook-eval");
    let blocks = cookbook_blocks();
    let mut policy: Option<&str> = None;
    let mut requests: Option<&Block> = None;
    let mut examples = 0;
    for block in &blocks {
        match block.info.as_str() {
            "policy" => {
                let name = policy_name(block);
                dir.file(name, &block.text);
                policy = Some(name);
            }
            "jsonl" => requests = Some(block),
            "json" => {
                let Some(input) = requests.take() else {
                    continue;
                };
                let name = policy.expect("requests before any policy");
                dir.file("requests.jsonl", &input.text);
                let (_, stdout) = run_in(&dir.0, &["eval", name, "--requests", "requests.jsonl"]);
                let actual: Vec<Value> = stdout
                    .lines()
                    .map(|line| serde_json::from_str(line).unwrap())
                    .collect();
                let expected: Vec<Value> = block
                    .text
                    .lines()
                    .map(|line| serde_json::from_str(line).unwrap())
                    .collect();
                assert_eq!(actual, expected, "{name} with\n{}", input.text);
                examples += actual.len();
            }
            _ => {}
        }
    }
    assert!(examples >= 20, "only {examples} cookbook examples");
}

/// The file name a cookbook tests file names in its first line, `# NAME.tests`.
fn tests_name(block: &Block) -> Option<&str> {
    block
        .text
        .lines()
        .next()?
        .strip_prefix("# ")
        .filter(|name| name.ends_with(".tests"))
}

/// Every `# NAME.tests` block of the cookbook, written beside the policy of the same stem
/// (given earlier on the page), passes `toolgate test` with one passed case per `expect`.
#[test]
fn cookbook_tests_files_pass() {
    let dir = Scratch::new("cookbook-test");
    let mut policies: Vec<&str> = Vec::new();
    let mut files = 0;
    let blocks = cookbook_blocks();
    for block in &blocks {
        if block.info == "policy" {
            let name = policy_name(block);
            dir.file(name, &block.text);
            policies.push(name);
            continue;
        }
        let Some(name) = tests_name(block) else {
            assert_ne!(
                block.info, "tests",
                "a cookbook tests file starts with `# NAME.tests`:\n{}",
                block.text
            );
            continue;
        };
        let policy = name.replace(".tests", ".policy");
        assert!(
            policies.contains(&policy.as_str()),
            "{name} follows no `# {policy}` block"
        );
        dir.file(name, &block.text);
        let output = Command::new(env!("CARGO_BIN_EXE_toolgate"))
            .current_dir(&dir.0)
            .args(["test", name])
            .output()
            .unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let cases = block
            .text
            .lines()
            .filter(|line| line.trim_start().starts_with("expect "))
            .count();
        let summary = stdout
            .lines()
            .rev()
            .find(|line| !line.trim().is_empty())
            .unwrap_or_default();
        assert_eq!(
            (output.status.code(), summary),
            (Some(0), format!("{cases} passed, 0 failed").as_str()),
            "{name}:\n{stdout}{stderr}"
        );
        files += 1;
    }
    assert!(files >= 4, "only {files} cookbook tests files");
}
