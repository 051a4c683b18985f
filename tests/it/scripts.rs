//! The project's scripts fail loudly when what they run fails: `scripts/fuzz.sh` must not
//! pass having fuzzed nothing. A stand-in `cargo` first on `PATH` plays the failures.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Writes an executable shell script `name` into `dir`.
fn script(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs `scripts/fuzz.sh --seconds 1` with a `cargo` whose `cargo fuzz list` does
/// `list`, and which records every other command it is asked to run.
fn fuzz_script_with(list: &str) -> (Output, String) {
    let dir = std::env::temp_dir().join(format!(
        "toolgate-scripts-{}-{}",
        std::process::id(),
        list.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("commands.log");
    script(
        &dir,
        "cargo",
        &format!(
            "if [ \"$1 $2\" = \"fuzz list\" ]; then {list}; fi\necho \"$@\" >> '{}'\nexit 0",
            log.display()
        ),
    );
    script(&dir, "cargo-fuzz", "exit 0");
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap());
    let output = Command::new("bash")
        .arg(root().join("scripts/fuzz.sh"))
        .args(["--seconds", "1"])
        .env("PATH", path)
        .output()
        .unwrap();
    let commands = std::fs::read_to_string(&log).unwrap_or_default();
    std::fs::remove_dir_all(&dir).unwrap();
    (output, commands)
}

#[test]
fn the_fuzz_script_fails_when_no_target_is_listed() {
    let (output, commands) = fuzz_script_with("exit 0");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`cargo fuzz list` listed no target"),
        "{stderr}"
    );
    assert_eq!(commands, "", "it went on to run: {commands}");
}

#[test]
fn the_fuzz_script_fails_when_listing_the_targets_fails() {
    let (output, commands) = fuzz_script_with("echo policy_text; exit 1");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`cargo fuzz list` failed"), "{stderr}");
    assert_eq!(commands, "", "it went on to run: {commands}");
}
