//! The `toolgate` command's scriptable surface (CLI.md): formats, streaming, exit codes.

use std::io::Write;
use std::process::{Command, Stdio};

/// What a run of the binary printed and returned.
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `toolgate ARGS`, feeding `stdin` if given.
pub fn toolgate(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_toolgate"))
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        // The command may exit before reading its input (a policy with errors).
        let _ = input.write_all(text.as_bytes());
    }
    drop(input);
    let output = child.wait_with_output().unwrap();
    Output {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// A temporary directory removed on drop.
pub struct Scratch(pub std::path::PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("toolgate-it-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn file(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const POLICY: &str = r#"scope "tool:read", "tool:write"
role user
require scope "tool:write" to call tools "*"
allow user to call tools "fs.*"
"#;

const USER: &str = r#""claims":{"sub":"u","roles":["user"],"scope":"tool:write"}"#;

#[test]
fn check_exit_statuses() {
    let dir = Scratch::new("check-status");
    let clean = dir.file("clean.policy", POLICY);
    let broken = dir.file("broken.policy", "role a\nallow b to call tools \"x\"\n");
    let warned = dir.file(
        "warned.policy",
        "role a\nrole unused\nallow a to call tools \"x\"\n",
    );
    assert_eq!(toolgate(&["check", &clean], None).status, 0);
    assert_eq!(toolgate(&["check", &broken], None).status, 1);
    assert_eq!(toolgate(&["check", &warned], None).status, 0);
    assert_eq!(
        toolgate(&["check", &warned, "--deny-warnings"], None).status,
        1
    );
    let missing = toolgate(&["check", "/nonexistent/x.policy"], None);
    assert_eq!(missing.status, 2);
    assert!(
        missing
            .stderr
            .contains("cannot read `/nonexistent/x.policy`"),
        "{}",
        missing.stderr
    );
    assert_eq!(toolgate(&["check", &clean, "--bogus"], None).status, 2);
    assert_eq!(
        toolgate(&["check", &clean, "--format", "xml"], None).status,
        2
    );
}

#[test]
fn check_reports_every_problem_of_every_policy_in_one_json_array() {
    let dir = Scratch::new("check-json");
    let first = dir.file(
        "a.policy",
        "role a\nallow a, ghost to call tools \"x\"\nallow a to read tools \"y\"\n",
    );
    let second = dir.file(
        "b.policy",
        "network n = [10.0.0.1/8]\nrole r\nallow r to call tools \"z\" if ip in n\n",
    );
    let output = toolgate(&["check", &first, &second, "--format", "json"], None);
    assert_eq!(output.status, 1);
    let found: Vec<serde_json::Value> = serde_json::from_str(&output.stdout).unwrap();
    let codes: Vec<(&str, u64, &str)> = found
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap(),
                d["line"].as_u64().unwrap(),
                d["severity"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("E003", 2, "error"),
            ("E005", 3, "error"),
            ("W005", 1, "warning")
        ]
    );
    let first_diagnostic = &found[0];
    assert_eq!(first_diagnostic["column"], 10);
    assert_eq!(first_diagnostic["end_column"], 15);
    assert_eq!(first_diagnostic["file"], first.as_str());
    assert!(first_diagnostic["help"].is_string());
}

#[test]
fn human_output_has_no_colour_when_piped_and_ends_with_a_summary() {
    let dir = Scratch::new("check-human");
    let broken = dir.file(
        "broken.policy",
        "role a\nallow a, ghost to call tools \"x\"\n",
    );
    let output = toolgate(&["check", &broken], None);
    assert!(
        !output.stdout.contains('\u{1b}'),
        "escape codes in {:?}",
        output.stdout
    );
    assert!(output
        .stdout
        .contains("error[E003]: undefined role `ghost`"));
    assert!(output.stdout.trim_end().ends_with("1 error, 0 warnings"));
}

#[test]
fn eval_one_request() {
    let dir = Scratch::new("eval-one");
    let policy = dir.file("p.policy", POLICY);
    let request = dir.file(
        "r.json",
        &format!(r#"{{{USER},"action":"call","tool":"fs.read","time":"2026-11-26T10:00:00Z"}}"#),
    );
    let output = toolgate(&["eval", &policy, "--request", &request], None);
    assert_eq!(output.status, 0, "{}", output.stderr);
    assert_eq!(
        output.stdout,
        format!("{{\"decision\":\"allow\",\"reason\":\"allowed\",\"rule\":\"{policy}:4\",\"missing_scopes\":[]}}\n")
    );
}

#[test]
fn eval_streams_lines_and_answers_bad_lines_with_errors() {
    let dir = Scratch::new("eval-stream");
    let policy = dir.file("p.policy", POLICY);
    let lines = [
        format!(r#"{{{USER},"action":"call","tool":"fs.read","time":"2026-11-26T10:00:00Z"}}"#),
        "not json".to_string(),
        String::new(),
        format!(r#"{{{USER},"action":"read","tool":"fs.read"}}"#),
        format!(r#"{{{USER},"action":"call","tool":"fs.read","resource":"x"}}"#),
        format!(r#"{{{USER},"action":"call","tool":"fs.read","tol":"x"}}"#),
        r#"{"claims":[1],"action":"call","tool":"x"}"#.to_string(),
        format!(r#"{{{USER},"action":"call","tool":"fs.read","ip":"10.0.0.300"}}"#),
        format!(r#"{{{USER},"action":"call","tool":"fs.read","time":"yesterday"}}"#),
        r#"{"claims":{"roles":"user"},"action":"call","tool":"fs.read","ip":null,"time":"2026-11-26T10:00:00Z"}"#.to_string(),
        format!(r#"{{{USER},"action":"call","tool":"db.drop","time":"2026-11-26T10:00:00Z"}}"#),
    ];
    let output = toolgate(
        &["eval", &policy, "--requests", "-"],
        Some(&(lines.join("\n") + "\n")),
    );
    assert_eq!(output.status, 1);
    let answers: Vec<serde_json::Value> = output
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(answers.len(), lines.len());
    assert_eq!(answers[0]["decision"], "allow");
    for (index, fragment) in [
        (1, "expected"),
        (2, "blank line"),
        (3, "`read` is not an action on tools"),
        (4, "only one of"),
        (5, "unknown field `tol`"),
        (6, "`claims` must be a JSON object"),
        (7, "`ip` is not an IPv4 or IPv6 address"),
        (8, "`time` is not an RFC 3339 instant"),
    ] {
        let error = answers[index]["error"]
            .as_str()
            .unwrap_or_else(|| panic!("line {index}: {:?}", answers[index]));
        assert!(error.contains(fragment), "line {index}: {error}");
    }
    assert_eq!(answers[9]["reason"], "insufficient_scope");
    assert_eq!(
        answers[9]["missing_scopes"],
        serde_json::json!(["tool:write"])
    );
    assert_eq!(answers[10]["reason"], "no_rule");
    assert_eq!(answers[10]["rule"], serde_json::Value::Null);
}

#[test]
fn eval_refuses_a_policy_with_errors() {
    let dir = Scratch::new("eval-broken");
    let policy = dir.file("p.policy", "role a\nallow ghost to call tools \"x\"\n");
    let output = toolgate(&["eval", &policy, "--requests", "-"], Some("{}\n"));
    assert_eq!(output.status, 2);
    assert!(output.stdout.is_empty());
    assert!(output.stderr.contains("E003"), "{}", output.stderr);
}

#[test]
fn eval_reads_a_directory_policy_and_reports_paths_from_the_argument() {
    let dir = Scratch::new("eval-dir");
    std::fs::create_dir_all(dir.0.join("policies")).unwrap();
    dir.file("policies/b.policy", "allow r to call tools \"x\"\n");
    dir.file("policies/a.policy", "role r\n");
    dir.file("policies/ignored.txt", "not a policy");
    let folder = format!("{}/policies", dir.0.display());
    let input =
        r#"{"claims":{"roles":"r"},"action":"call","tool":"x","time":"2026-11-26T10:00:00Z"}"#;
    let output = toolgate(&["eval", &folder, "--requests", "-"], Some(input));
    assert_eq!(output.status, 0, "{}", output.stderr);
    let answer: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(answer["rule"], format!("{folder}/b.policy:1"));
}

#[test]
fn token_inspect_shows_control_characters_as_symbols() {
    use base64::Engine as _;
    let encode = |value: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    };
    let header = encode(serde_json::json!({"alg": "RS256", "kid": "k\u{9b}31m\u{202e}"}));
    let claims = encode(serde_json::json!({
        "sub": "\u{1b}[31mroot",
        "roles": ["user", "\u{1b}]0;pwned\u{7}"],
        "scope": "tool:write tool:\u{9b}2J",
        "client_id": "c\u{202e}lient\u{1b}[8m",
    }));
    let token = format!("{header}.{claims}.c2lnbmF0dXJl");
    let scratch = Scratch::new("token-controls");
    let policy = scratch.file("p.policy", POLICY);
    let output = toolgate(
        &[
            "token",
            "inspect",
            &token,
            "--policy",
            &policy,
            "--tool",
            "fs.\u{1b}[8mread",
        ],
        None,
    );
    assert_eq!(output.status, 0, "{}", output.stderr);
    let text = output.stdout;
    for raw in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}'] {
        assert!(!text.contains(raw), "raw {raw:?} in\n{text}");
    }
    assert!(text.contains("subject  \u{241b}[31mroot\n"), "{text}");
    assert!(
        text.contains("client   c\u{fffd}lient\u{241b}[8m\n"),
        "{text}"
    );
    assert!(text.contains("tool `fs.\u{241b}[8mread`"), "{text}");
}

#[test]
fn eval_reads_arguments_and_refuses_them_where_they_cannot_be() {
    let dir = Scratch::new("eval-arguments");
    let policy = dir.file(
        "p.policy",
        "allow anyone to call tools \"k8s.scale\" if arg \"replicas\" <= 5\n",
    );
    let line = |rest: &str| {
        format!(
            r#"{{"claims":{{"sub":"u"}},"tool":"k8s.scale","time":"2026-11-26T10:00:00Z",{rest}}}"#
        )
    };
    let lines = [
        line(r#""action":"call","arguments":{"replicas":5}"#),
        line(r#""action":"call","arguments":{"replicas":5.5}"#),
        line(r#""action":"call""#),
        line(r#""action":"call","arguments":null"#),
        line(r#""action":"list""#),
        line(r#""action":"list","arguments":{}"#),
        line(r#""action":"call","arguments":[5]"#),
        line(r#""action":"call","arguments":"replicas=5""#),
    ];
    let output = toolgate(
        &["eval", &policy, "--requests", "-"],
        Some(&(lines.join("\n") + "\n")),
    );
    assert_eq!(output.status, 1, "{}", output.stderr);
    let answers: Vec<serde_json::Value> = output
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let decisions: Vec<String> = answers
        .iter()
        .map(|answer| match answer.get("error") {
            Some(error) => format!("error: {}", error.as_str().unwrap()),
            None => format!("{} {}", answer["decision"], answer["reason"]),
        })
        .collect();
    assert_eq!(
        decisions,
        vec![
            r#""allow" "allowed""#.to_string(),
            r#""deny" "no_rule""#.to_string(),
            r#""deny" "no_rule""#.to_string(),
            r#""deny" "no_rule""#.to_string(),
            r#""allow" "allowed""#.to_string(),
            "error: `arguments` are given with `call` or `get` only, not with `list`".to_string(),
            "error: `arguments` must be a JSON object".to_string(),
            "error: `arguments` must be a JSON object".to_string(),
        ]
    );
}

#[test]
fn token_inspect_decides_with_arguments() {
    let dir = Scratch::new("inspect-arguments");
    let policy = dir.file(
        "p.policy",
        "allow anyone to call tools \"k8s.scale\" if arg \"replicas\" <= 5\n",
    );
    // An unsigned token: `inspect` decodes without verifying.
    let token = format!(
        "{}.{}.sig",
        base64url(r#"{"alg":"none"}"#),
        base64url(r#"{"sub":"u1"}"#)
    );
    let decide = |arguments: &str| {
        let output = toolgate(
            &[
                "token",
                "inspect",
                &token,
                "--policy",
                &policy,
                "--tool",
                "k8s.scale",
                "--arguments",
                arguments,
                "--format",
                "json",
            ],
            None,
        );
        assert_eq!(output.status, 0, "{}", output.stderr);
        let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
        report["decision"]["decision"].as_str().unwrap().to_string()
    };
    assert_eq!(decide(r#"{"replicas": 2}"#), "allow");
    assert_eq!(decide(r#"{"replicas": 20}"#), "deny");
    let refused = toolgate(
        &[
            "token",
            "inspect",
            &token,
            "--policy",
            &policy,
            "--tool",
            "k8s.scale",
            "--action",
            "list",
            "--arguments",
            "{}",
        ],
        None,
    );
    assert_ne!(refused.status, 0);
    assert!(
        refused
            .stderr
            .contains("`--arguments` goes with `call` or `get`"),
        "{}",
        refused.stderr
    );
}

fn base64url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}
