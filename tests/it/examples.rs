//! The bundled example policies load without any diagnostic, and decide their example
//! requests exactly as their `.decisions.jsonl` files say.

use std::path::{Path, PathBuf};

use crate::cli::toolgate;

fn policies() -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut found: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "policy"))
        .collect();
    found.sort();
    assert!(found.len() >= 2, "{found:?}");
    found
}

#[test]
fn example_policies_have_no_diagnostics() {
    for policy in policies() {
        let path = policy.to_str().unwrap();
        let mut args = vec!["check", path, "--format", "json", "--deny-warnings"];
        let tools = policy.with_extension("tools.json");
        let tools = tools.to_str().unwrap();
        if Path::new(tools).exists() {
            args.extend(["--tools", tools]);
        }
        let output = toolgate(&args, None);
        assert_eq!(output.stdout.trim(), "[]", "{path}");
        assert_eq!(output.status, 0, "{path}");
    }
}

#[test]
fn example_requests_decide_as_documented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for policy in policies() {
        let name = policy.file_stem().unwrap().to_str().unwrap();
        let requests = format!("policies/{name}.requests.jsonl");
        let expected =
            std::fs::read_to_string(root.join(format!("policies/{name}.decisions.jsonl")))
                .unwrap_or_else(|_| panic!("policies/{name}.decisions.jsonl"));
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_toolgate"))
            .current_dir(root)
            .args([
                "eval",
                &format!("policies/{name}.policy"),
                "--requests",
                &requests,
            ])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{name}");
        let actual = String::from_utf8(output.stdout).unwrap();
        let lines = actual.lines().count();
        assert!(lines >= 25, "{name}: only {lines} example requests");
        assert_eq!(actual, expected, "{name}");
    }
}
