//! API keys: the scheme, the key file, and `toolgate key new | list | revoke`.

use std::process::Command;

use jiff::Timestamp;
use toolgate::credentials::api_key::{generate, ApiKeyScheme, KeyEntry, KeyFile, API_KEY_PREFIX};
use toolgate::credentials::{AuthError, Authenticator, CredentialError as E, Identity, Scheme};
use toolgate::{Action, Kind, Policy, Request};

use super::support::*;

fn entry(id: &str, digest: String) -> KeyEntry {
    KeyEntry {
        id: id.into(),
        sha256: digest,
        roles: vec!["deployer".into()],
        scopes: vec!["tools:deploy".into()],
        client: Some("ci".into()),
        created: None,
        expires: None,
        revoked: false,
    }
}

/// A scheme with one key `ci`, and the key.
fn one_key(change: impl FnOnce(&mut KeyEntry)) -> (ApiKeyScheme, String, TestClock) {
    let (key, digest) = generate("ci").unwrap();
    let mut entry = entry("ci", digest);
    change(&mut entry);
    let clock = TestClock::new();
    let scheme = ApiKeyScheme::new(&KeyFile { keys: vec![entry] }, clock.clock());
    (scheme, key, clock)
}

/// The key format secret scanners match: `tgk_[A-Za-z0-9-]{1,64}_[A-Za-z0-9_-]{43}`.
fn scannable(key: &str) -> bool {
    let Some(rest) = key.strip_prefix("tgk_") else {
        return false;
    };
    let Some((id, secret)) = rest.split_once('_') else {
        return false;
    };
    (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && secret.len() == 43
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[tokio::test]
async fn a_key_in_either_header_gives_its_parts() {
    let (scheme, key, _) = one_key(|_| {});
    assert!(scannable(&key), "{key}");
    for head in [bearer(&key), head(&[("x-api-key", &key)])] {
        let identity = scheme.authenticate(&head).await.unwrap().unwrap();
        let Identity::Parts { parts, expires_at } = identity else {
            panic!("parts")
        };
        assert_eq!(parts.subject.as_deref(), Some("ci"));
        assert_eq!(parts.roles, ["deployer"]);
        assert_eq!(parts.scopes, ["tools:deploy"]);
        assert_eq!(parts.client.as_deref(), Some("ci"));
        assert_eq!(expires_at, None);
    }
    assert!(scheme.authenticate(&head(&[])).await.is_none());
    assert!(
        scheme
            .authenticate(&bearer("eyJhbGciOi.x.y"))
            .await
            .is_none(),
        "not an API key"
    );
}

#[tokio::test]
async fn wrong_unknown_and_malformed_keys_are_refused() {
    let (scheme, key, _) = one_key(|_| {});
    let (other_key, _) = generate("ci").unwrap();
    let (stranger, _) = generate("stranger").unwrap();
    for presented in [
        other_key,
        stranger,
        "tgk_ci".into(),
        "tgk_ci_short".into(),
        format!("{key}x"),
    ] {
        assert_eq!(
            scheme.check(&presented).unwrap_err(),
            E::UnknownApiKey,
            "{presented}"
        );
    }
    let doubled = head(&[("x-api-key", &key), ("x-api-key", &key)]);
    assert_eq!(
        scheme.authenticate(&doubled).await.unwrap().unwrap_err(),
        E::Malformed
    );
}

#[test]
fn revoked_and_expired_keys_are_refused() {
    let (revoked, key, _) = one_key(|entry| entry.revoked = true);
    assert_eq!(revoked.check(&key).unwrap_err(), E::RevokedApiKey);
    let expiry = Timestamp::from_second(NOW + 60).unwrap();
    let (expiring, key, clock) = one_key(|entry| entry.expires = Some(expiry));
    let identity = expiring.check(&key).unwrap();
    assert_eq!(identity.expires_at(), Some(expiry));
    clock.set(NOW + 60);
    assert_eq!(expiring.check(&key).unwrap_err(), E::ExpiredApiKey);
}

#[tokio::test]
async fn keys_and_tokens_compose_in_one_authenticator() {
    let (keys, key, _) = one_key(|_| {});
    let authenticator = Authenticator::new().with_scheme(scheme()).with_scheme(keys);
    let engine = Policy::from_text(
        "p.policy",
        "role deployer\nallow deployer to call tools \"deploy\"\n",
    )
    .unwrap()
    .into_engine();
    let principal = authenticator
        .principal(&bearer(&key), &engine)
        .await
        .unwrap();
    let request = Request::new(Kind::Tool, Action::Call, "deploy").unwrap();
    assert!(engine.decide(&principal, &request).is_allowed());
    assert_eq!(
        authenticator.cached(),
        0,
        "API keys are checked, never cached"
    );
    let token = authenticator
        .identity(&bearer(&sign(&keyring().rsa, &claims())))
        .await;
    assert!(matches!(token, Ok(Identity::Claims { .. })));
    let none = authenticator
        .identity(&head(&[("authorization", "Basic dXNlcjpwYXNz")]))
        .await;
    assert_eq!(none, Err(AuthError::Missing));
    let bad = authenticator
        .identity(&bearer(&format!("{API_KEY_PREFIX}ci_nope")))
        .await;
    assert_eq!(bad, Err(AuthError::Invalid(E::UnknownApiKey)));
}

fn toolgate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_toolgate"))
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test]
async fn the_cli_makes_lists_and_revokes_keys() {
    let dir = std::env::temp_dir().join(format!("toolgate-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("keys.toml");
    let _ = std::fs::remove_file(&file);
    let path = file.to_str().unwrap();
    let made = toolgate(&[
        "key",
        "new",
        "--file",
        path,
        "--id",
        "ci-bot",
        "--role",
        "deployer",
        "--scope",
        "tools:deploy",
        "--scope",
        "tools:read",
        "--client",
        "ci",
        "--expires",
        "30d",
    ]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let key = String::from_utf8(made.stdout).unwrap().trim().to_string();
    assert!(scannable(&key), "{key}");
    let text = std::fs::read_to_string(&file).unwrap();
    // The secret is everything after the id: base64url, so it may hold `_` itself.
    let secret = key.strip_prefix("tgk_ci-bot_").unwrap();
    assert_eq!(secret.len(), 43, "{key}");
    assert!(!text.contains(secret), "the file holds no secret");

    let scheme = ApiKeyScheme::from_file(&file, Default::default()).unwrap();
    let identity = scheme.check(&key).unwrap();
    assert!(identity.expires_at().unwrap() > Timestamp::now());

    let duplicate = toolgate(&["key", "new", "--file", path, "--id", "ci-bot"]);
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("already has a key"));

    let listed = toolgate(&["key", "list", "--file", path, "--format", "json"]);
    assert!(listed.status.success());
    let stdout = String::from_utf8(listed.stdout).unwrap();
    let keys: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(keys[0]["id"], "ci-bot");
    assert_eq!(keys[0]["status"], "active");
    assert_eq!(
        keys[0]["scopes"],
        serde_json::json!(["tools:deploy", "tools:read"])
    );
    assert!(!stdout.contains(secret) && !stdout.contains("sha256"));
    let human = toolgate(&["key", "list", "--file", path]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("ci-bot  active"));

    let revoked = toolgate(&["key", "revoke", "--file", path, "--id", "ci-bot"]);
    assert!(revoked.status.success());
    scheme.reload().unwrap();
    assert_eq!(scheme.check(&key).unwrap_err(), E::RevokedApiKey);
    let listed = toolgate(&["key", "list", "--file", path, "--format", "json"]);
    let keys: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(keys[0]["status"], "revoked");
    let missing = toolgate(&["key", "revoke", "--file", path, "--id", "nobody"]);
    assert!(!missing.status.success());
    let bad_id = toolgate(&["key", "new", "--file", path, "--id", "has_underscore"]);
    assert!(!bad_id.status.success());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn key_files_are_checked() {
    let (_, digest) = generate("a").unwrap();
    let good = format!("[[key]]\nid = \"a\"\nsha256 = \"{digest}\"\n");
    assert_eq!(KeyFile::parse(&good).unwrap().keys.len(), 1);
    let twice = format!("{good}{good}");
    assert!(KeyFile::parse(&twice).unwrap_err().contains("twice"));
    assert!(KeyFile::parse("[[key]]\nid = \"a\"\nsha256 = \"abc\"\n").is_err());
    assert!(
        KeyFile::parse(&format!("{good}secret = \"x\"\n")).is_err(),
        "unknown fields refused"
    );
    assert!(KeyFile::parse("").unwrap().keys.is_empty());
}

/// A directory of its own under the system's temporary one, removed on drop.
struct KeyDir(std::path::PathBuf);

impl KeyDir {
    fn new(name: &str) -> KeyDir {
        let dir = std::env::temp_dir().join(format!("toolgate-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        KeyDir(dir)
    }
}

impl Drop for KeyDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(unix)]
#[test]
fn key_new_never_writes_through_a_planted_link() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = KeyDir::new("keys-link");
    let file = dir.0.join("keys.toml");
    let victim = dir.0.join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    // The name the old code wrote to, and a guess at any name with a `.tmp` suffix.
    std::os::unix::fs::symlink(&victim, dir.0.join("keys.toml.tmp")).unwrap();
    let path = file.to_str().unwrap();
    for id in ["first", "second"] {
        let made = toolgate(&["key", "new", "--file", path, "--id", id]);
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let metadata = std::fs::symlink_metadata(&file).unwrap();
    assert!(metadata.file_type().is_file(), "the key file is no link");
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
    let keys = KeyFile::load(&file).unwrap();
    let ids: Vec<&str> = keys.keys.iter().map(|entry| entry.id.as_str()).collect();
    assert_eq!(ids, ["first", "second"]);
    let revoked = toolgate(&["key", "revoke", "--file", path, "--id", "first"]);
    assert!(revoked.status.success());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(KeyFile::load(&file).unwrap().keys[0].revoked);
    let leftovers: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp") && name != "keys.toml.tmp")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn concurrent_key_new_runs_lose_no_key() {
    const RUNS: usize = 8;
    const ROUNDS: usize = 3;
    let dir = KeyDir::new("keys-concurrent");
    let file = dir.0.join("keys.toml");
    let path = file.to_str().unwrap();
    let mut expected = Vec::new();
    for round in 0..ROUNDS {
        let children: Vec<_> = (0..RUNS)
            .map(|run| {
                let id = format!("key-{round}-{run}");
                let child = Command::new(env!("CARGO_BIN_EXE_toolgate"))
                    .args(["key", "new", "--file", path, "--id", &id])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                expected.push(id);
                child
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    let keys = KeyFile::load(&file).unwrap();
    let mut ids: Vec<String> = keys.keys.iter().map(|entry| entry.id.clone()).collect();
    ids.sort();
    expected.sort();
    assert_eq!(ids, expected, "every run's key is in the file");
}
