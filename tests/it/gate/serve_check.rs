//! `toolgate serve --config FILE --check`: a working configuration exits 0 with a
//! summary, having bound and contacted nothing; a broken one exits 1 with every problem
//! on standard error, unknown keys with the nearest valid key.

use std::path::Path;
use std::process::{Command, Stdio};

use super::audit::tempdir;
use super::health::{key_file, refused_at_start, write_config};

/// `toolgate serve --check --config CONFIG`: exit status, stdout, stderr.
fn check(config: &Path) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_toolgate"))
        .args(["serve", "--check", "--config"])
        .arg(config)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

#[test]
fn a_working_configuration_checks_without_binding_fetching_or_writing() {
    let directory = tempdir();
    key_file(&directory);
    // The listen address is taken: serving would fail, checking must not bind it.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap();
    // Nobody serves these: the upstream and the JWKS URL must not be contacted.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let extra = format!(
        "[jwt]\nissuer = \"https://idp.test/\"\njwks_url = \"http://{closed}/jwks\"\n\n\
         [audit]\nfile = \"audit.jsonl\"\n\n[shutdown]\ngrace_seconds = 7\n"
    );
    let config = write_config(&directory, &format!("http://{closed}/mcp"), &extra);
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("127.0.0.1:0", &listen.to_string());
    std::fs::write(&config, text).unwrap();

    let (status, stdout, stderr) = check(&config);
    assert_eq!(status, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert!(
        stdout.starts_with(&format!("{}: the configuration is valid", config.display())),
        "{stdout}"
    );
    for expected in [
        "gate.policy`: loads, digest ",
        &format!("listen    {listen} (not bound by --check)"),
        "(not contacted by --check)",
        "keys from `jwks_url` (not fetched by --check",
        "health    /healthz (live), /readyz (ready)",
        "open connections get 7 s to finish",
    ] {
        assert!(
            stdout.contains(expected),
            "expected {expected:?} in\n{stdout}"
        );
    }
    assert!(
        !directory.join("audit.jsonl").exists(),
        "--check created the audit file"
    );
    drop(taken);
}

#[test]
fn unknown_keys_are_refused_with_the_nearest_valid_key() {
    let directory = tempdir();
    key_file(&directory);
    let config = write_config(&directory, "http://127.0.0.1:9/mcp", "");
    let good = std::fs::read_to_string(&config).unwrap();
    for (text, expected) in [
        (
            good.replace("policy =", "polcy ="),
            "toolgate.toml: `polcy`: unknown key `polcy`; did you mean `policy`?",
        ),
        (
            format!("{good}[jwt]\nissuer = \"x\"\nalgoritms = [\"RS256\"]\n"),
            "`jwt.algoritms`: unknown key `algoritms` in `[jwt]`; did you mean `algorithms`?",
        ),
        (
            format!("{good}[limit]\nmax_batch = 5\n"),
            "unknown key `limit`; did you mean `limits`?",
        ),
        (
            format!("{good}[health]\nready = \"/r\"\n"),
            "unknown key `ready` in `[health]`; the keys here are `enabled`, `live_path`, `ready_path`",
        ),
    ] {
        std::fs::write(&config, &text).unwrap();
        let (status, stdout, stderr) = check(&config);
        assert_eq!(status, 1, "{stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert!(stderr.contains(expected), "expected {expected:?} in\n{stderr}");
        assert!(stderr.contains("1 problem found"), "{stderr}");
        // Serving says the same and stops.
        let (status, stderr) = refused_at_start(&config);
        assert_eq!(status, 1);
        assert!(stderr.contains(expected));
    }
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let directory = tempdir();
    // No key file, a missing policy, a bad address, a health path inside the MCP path.
    let config = write_config(
        &directory,
        "http://127.0.0.1:9/mcp",
        "[health]\nlive_path = \"/mcp\"\n",
    );
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("\"gate.policy\"", "\"missing.policy\"")
        .replace("127.0.0.1:0", "not-an-address");
    std::fs::write(&config, text).unwrap();
    let (status, stdout, stderr) = check(&config);
    assert_eq!(status, 1, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    for expected in [
        "toolgate: ",
        "`listen`: `not-an-address` is not an address and port",
        "`health.live_path`: `/mcp` is inside the MCP path `/mcp`",
        "the policy `",
        "missing.policy` does not load",
        "`api_keys.file`",
        "4 problems found",
    ] {
        assert!(
            stderr.contains(expected),
            "expected {expected:?} in\n{stderr}"
        );
    }
    assert_eq!(
        stderr
            .lines()
            .filter(|line| line.starts_with("toolgate: "))
            .count(),
        5,
        "one line per problem and the count:\n{stderr}"
    );
}

#[test]
fn bad_key_files_and_a_broken_policy_are_problems() {
    let directory = tempdir();
    key_file(&directory);
    std::fs::write(directory.join("jwks.json"), "{ not json").unwrap();
    std::fs::write(directory.join("short.secret"), "too short\n").unwrap();
    let config = write_config(
        &directory,
        "http://127.0.0.1:9/mcp",
        "[jwt]\nissuer = \"https://idp.test/\"\njwks_file = \"jwks.json\"\n",
    );
    let (status, _, stderr) = check(&config);
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("`jwt.jwks_file`: not JSON"), "{stderr}");

    // A policy with an error and a key URL start-up refuses: both reported.
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "jwks_file = \"jwks.json\"",
        "jwks_url = \"http://idp.example.com/keys\"",
    );
    std::fs::write(&config, text).unwrap();
    std::fs::write(
        directory.join("gate.policy"),
        "allow ghosts to call tools \"x\"\n",
    )
    .unwrap();
    let (status, _, stderr) = check(&config);
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("gate.policy:1:"), "{stderr}");
    assert!(stderr.contains("E003"), "{stderr}");
    assert!(
        stderr.contains("`jwt.jwks_url`: `http://idp.example.com/keys` is plain HTTP"),
        "{stderr}"
    );

    std::fs::write(directory.join("gate.policy"), super::support::POLICY).unwrap();
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "jwks_url = \"http://idp.example.com/keys\"",
        "hs256_secret_file = \"short.secret\"\nalgorithms = [\"HS256\"]",
    );
    std::fs::write(&config, text).unwrap();
    let (status, _, stderr) = check(&config);
    assert_eq!(status, 1, "{stderr}");
    assert!(
        stderr.contains("`jwt.hs256_secret_file`: the secret must be at least 32 bytes"),
        "{stderr}"
    );
}

#[test]
fn a_missing_configuration_and_a_missing_flag() {
    let directory = tempdir();
    let (status, _, stderr) = check(&directory.join("nowhere.toml"));
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("cannot read the configuration"), "{stderr}");
    let output = Command::new(env!("CARGO_BIN_EXE_toolgate"))
        .args(["serve", "--check"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "a usage error");
}
