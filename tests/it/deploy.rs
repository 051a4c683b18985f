//! docs/deploy.md's Kubernetes ConfigMap and systemd unit, checked: the configuration and
//! policy of the ConfigMap, with their paths moved into a temporary directory, pass
//! `toolgate serve --check` run with the arguments of the unit's `ExecStartPre`.

use std::path::Path;
use std::process::Command;

fn document() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/deploy.md")).unwrap()
}

/// The block scalar `key: |` of the ConfigMap, dedented.
fn block(document: &str, key: &str) -> String {
    let marker = format!("  {key}: |\n");
    let start = document
        .find(&marker)
        .unwrap_or_else(|| panic!("no `{key}` in docs/deploy.md"))
        + marker.len();
    let mut text = String::new();
    for line in document[start..].lines() {
        if line.is_empty() {
            text.push('\n');
        } else if let Some(content) = line.strip_prefix("    ") {
            text.push_str(content);
            text.push('\n');
        } else {
            break;
        }
    }
    text
}

#[test]
fn the_kubernetes_configuration_passes_the_units_check() {
    let document = document();
    let directory = std::env::temp_dir().join(format!("toolgate-deploy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(directory.join("secrets")).unwrap();
    let root = format!("{}/", directory.display());
    let config = block(&document, "toolgate.toml").replace("/etc/toolgate/", &root);
    assert!(config.contains("[metrics]"), "{config}");
    std::fs::write(directory.join("toolgate.toml"), config).unwrap();
    std::fs::write(directory.join("mcp.policy"), block(&document, "mcp.policy")).unwrap();
    std::fs::write(directory.join("secrets/session-secret"), [7u8; 32]).unwrap();

    let unit = document
        .lines()
        .find_map(|line| line.strip_prefix("ExecStartPre=/usr/local/bin/toolgate "))
        .expect("the unit's ExecStartPre");
    let arguments: Vec<String> = unit
        .replace("/etc/toolgate/", &root)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert!(
        arguments.iter().any(|argument| argument == "--check"),
        "{arguments:?}"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_toolgate"))
        .args(&arguments)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("the configuration is valid"), "{stdout}");
    assert!(stdout.contains("mcp.policy`: loads"), "{stdout}");
    assert!(
        stdout.contains("  metrics   0.0.0.0:9464/metrics"),
        "{stdout}"
    );

    // The check is a real one: the same configuration with the policy broken fails.
    std::fs::write(directory.join("mcp.policy"), "allow reader to\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_toolgate"))
        .args(&arguments)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
}
