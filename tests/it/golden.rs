//! Golden snapshots of `toolgate check` for every diagnostic code: the human output
//! (no colour) and the JSON, for each `tests/diagnostics/<code>-*.policy`. Run with
//! `UPDATE_GOLDEN=1` to rewrite the snapshots after an intended change, and review the
//! diff.

use std::path::{Path, PathBuf};
use std::process::Command;

fn folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics")
}

fn check(file: &str, format: &str) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_toolgate"));
    command
        .current_dir(folder())
        .args(["check", file, "--format", format]);
    if file.starts_with("w006") || file.starts_with("w007") || file.starts_with("w009") {
        command.args(["--tools", "tools.json"]);
    }
    let output = command.env_remove("NO_COLOR").output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
    )
}

fn compare(path: &Path, actual: &str, failures: &mut Vec<String>) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    if expected != actual {
        failures.push(format!(
            "{} differs (UPDATE_GOLDEN=1 rewrites it):\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        ));
    }
}

#[test]
fn every_code_has_a_golden_snapshot() {
    let mut policies: Vec<String> = std::fs::read_dir(folder())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".policy"))
        .collect();
    policies.sort();
    let mut failures = Vec::new();
    for code in toolgate::Code::ALL {
        let prefix = code.as_str().to_lowercase();
        let file = policies
            .iter()
            .find(|name| name.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no tests/diagnostics/{prefix}-*.policy"));
        let (status, human) = check(file, "human");
        let (_, json) = check(file, "json");
        let expected_status = if code.severity() == toolgate::Severity::Error {
            1
        } else {
            0
        };
        assert_eq!(status, expected_status, "{file}");
        let found: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
        assert!(
            found.iter().any(|d| d["code"] == code.as_str()),
            "{file} does not produce {code}: {json}"
        );
        assert!(human.contains(&format!("[{code}]")), "{file}: {human}");
        let pretty = serde_json::to_string_pretty(&found).unwrap() + "\n";
        compare(
            &folder().join(format!("{file}.stdout")),
            &human,
            &mut failures,
        );
        compare(
            &folder().join(format!("{file}.json")),
            &pretty,
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
