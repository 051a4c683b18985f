//! `toolgate token inspect`: decoded without trust, the principal derived, the scopes
//! compared with what the tool needs.

use std::process::Command;

use serde_json::{json, Value};

use super::support::*;

const POLICY: &str = r#"
scope "tools:read", "tools:write"
role developer
require scope "tools:write" to call tools "github.create_*"
allow developer to call tools "github.*"
"#;

fn inspect(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_toolgate"))
        .args(["token", "inspect"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn inspect_shows_claims_principal_and_missing_scopes() {
    let dir = std::env::temp_dir().join(format!("toolgate-inspect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let policy = dir.join("p.policy");
    std::fs::write(&policy, POLICY).unwrap();
    let token = sign(&keyring().rsa, &claims_with(json!({"exp": NOW - 3600})));
    let out = inspect(&[
        &token,
        "--policy",
        policy.to_str().unwrap(),
        "--tool",
        "github.create_issue",
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verified"], false);
    assert_eq!(report["header"]["kid"], "rsa-1");
    assert_eq!(report["claims"]["sub"], "user-1");
    assert!(
        report["times"]["exp"]["from_now_seconds"].as_i64().unwrap() < 0,
        "expired"
    );
    assert_eq!(report["principal"]["roles"], json!(["developer"]));
    assert_eq!(report["principal"]["scopes"], json!(["tools:read"]));
    assert_eq!(report["decision"]["decision"], "deny");
    assert_eq!(report["decision"]["reason"], "insufficient_scope");
    assert_eq!(report["decision"]["missing_scopes"], json!(["tools:write"]));

    let human = inspect(&[
        &token,
        "--policy",
        policy.to_str().unwrap(),
        "--tool",
        "github.list_issues",
    ]);
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(text.contains("NOT VERIFIED"), "{text}");
    assert!(text.contains("EXPIRED"), "{text}");
    assert!(text.contains("allow  allowed"), "{text}");

    let garbage = inspect(&["not-a-token"]);
    assert!(!garbage.status.success());
    let needs_policy = inspect(&[&token, "--tool", "x"]);
    assert!(!needs_policy.status.success());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn inspect_shows_a_shadowing_token_refused_and_reads_pointer_paths() {
    let dir = std::env::temp_dir().join(format!("toolgate-inspect-paths-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let policy = dir.join("p.policy");
    std::fs::write(
        &policy,
        "role user\nrole admin\nallow admin to call tools \"*\"\n",
    )
    .unwrap();
    let policy = policy.to_str().unwrap();
    let shadowing = sign(
        &keyring().rsa,
        &claims_with(json!({"realm_access.roles": ["admin"], "realm_access": {"roles": ["user"]}})),
    );
    let args = [
        "--policy", policy, "--preset", "keycloak", "--format", "json",
    ];
    let out = inspect(&[&[shadowing.as_str()], &args[..], &["--tool", "db.drop"]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = report["principal_error"].as_str().unwrap();
    assert!(error.contains("`realm_access.roles`"), "{error}");
    assert!(report.get("principal").is_none(), "{report}");
    assert!(report.get("decision").is_none(), "{report}");
    let human = inspect(&[
        shadowing.as_str(),
        "--policy",
        policy,
        "--preset",
        "keycloak",
    ]);
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(text.contains("principal: REFUSED"), "{text}");

    let dotted_client = sign(
        &keyring().rsa,
        &claims_with(
            json!({"roles": null, "resource_access": {"mcp.example.com": {"roles": ["admin"]}}}),
        ),
    );
    let out = inspect(
        &[
            &[dotted_client.as_str()],
            &args[..],
            &["--keycloak-client", "mcp.example.com"],
        ]
        .concat(),
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["principal"]["roles"], json!(["admin"]), "{report}");
    std::fs::remove_dir_all(&dir).unwrap();
}
