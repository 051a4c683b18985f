//! Who calls in the end-to-end tests: API keys made with `toolgate key new`, one per
//! principal, and what tests/e2e/e2e.policy lets each of them list.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use toolgate::unstable::ast::Kind;
use toolgate::unstable::principal::PrincipalParts;
use toolgate::Policy;

use super::process::run_bounded;

/// A principal of the tests: an API key's id, roles and scopes.
#[derive(Debug, Clone, Copy)]
pub struct Principal {
    /// The key id (the principal's subject).
    pub id: &'static str,
    /// Roles the key grants.
    pub roles: &'static [&'static str],
    /// Scopes the key holds.
    pub scopes: &'static [&'static str],
}

/// May list the GitHub tools, call nothing (no `tool:write`): the step-up case.
pub const READER: Principal = Principal {
    id: "reader",
    roles: &["readonly"],
    scopes: &["tool:read"],
};
/// Calls `fs.read_*` and `github.list_*`.
pub const USER: Principal = Principal {
    id: "user",
    roles: &["user"],
    scopes: &["tool:read", "tool:write"],
};
/// Calls `github.*`, `fs.*`, `logs.*`; granted through the `aka` name.
pub const DEVELOPER: Principal = Principal {
    id: "developer",
    roles: &["mcp-developers"],
    scopes: &["tool:read", "tool:write"],
};
/// Calls everything but `db.drop_*` (denied off the office network).
pub const ADMIN: Principal = Principal {
    id: "admin",
    roles: &["admin"],
    scopes: &["tool:admin"],
};

/// Every principal with a key.
pub const ALL: [Principal; 4] = [READER, USER, DEVELOPER, ADMIN];

/// The e2e policy.
pub fn policy_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/e2e.policy")
}

/// A key for each of [`ALL`], and the key file holding their digests.
pub struct Keys {
    /// The key file (digests only).
    pub file: PathBuf,
    secrets: HashMap<&'static str, String>,
}

/// The example server's key for each principal: its keys are named after the role.
const EXAMPLE_KEYS: [(&str, Principal); 4] = [
    ("readonly", READER),
    ("user", USER),
    ("developer", DEVELOPER),
    ("admin", ADMIN),
];

impl Keys {
    /// Makes the keys with `toolgate key new` in `dir`.
    pub fn make(dir: &Path) -> Keys {
        let file = dir.join("api-keys.toml");
        let mut secrets = HashMap::new();
        for principal in ALL {
            let mut command = Command::new(env!("CARGO_BIN_EXE_toolgate"));
            command.args(["key", "new", "--file"]).arg(&file);
            command.args(["--id", principal.id, "--client", "e2e-client"]);
            for role in principal.roles {
                command.args(["--role", role]);
            }
            for scope in principal.scopes {
                command.args(["--scope", scope]);
            }
            let (status, stdout, stderr) =
                run_bounded("toolgate key new", command, Duration::from_secs(60));
            assert_eq!(status, 0, "toolgate key new failed: {stderr}");
            let secret = stdout.trim().to_string();
            assert!(secret.starts_with("tgk_"), "not a key: {stdout}");
            secrets.insert(principal.id, secret);
        }
        Keys { file, secrets }
    }

    /// The keys the example server printed (`api-key ROLE KEY` lines of `preamble`),
    /// which grant the same roles and scopes as [`ALL`].
    pub fn from_example(preamble: &[String]) -> Keys {
        let mut secrets = HashMap::new();
        for line in preamble {
            let mut words = line.split_whitespace();
            if let (Some("api-key"), Some(role), Some(key)) =
                (words.next(), words.next(), words.next())
            {
                if let Some((_, principal)) = EXAMPLE_KEYS.iter().find(|(name, _)| *name == role) {
                    secrets.insert(principal.id, key.to_string());
                }
            }
        }
        for principal in ALL {
            assert!(
                secrets.contains_key(principal.id),
                "the example printed no key for `{}`:\n{}",
                principal.id,
                preamble.join("\n")
            );
        }
        Keys {
            file: PathBuf::new(),
            secrets,
        }
    }

    /// The key of `principal`.
    pub fn secret(&self, principal: Principal) -> &str {
        &self.secrets[principal.id]
    }

    /// Every secret, to check that none leaks.
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        self.secrets.values().map(String::as_str)
    }
}

/// The names of `tools` that the e2e policy lets `principal` list from loopback now, as
/// the engine decides them, sorted.
pub fn listable(principal: Principal, tools: &[&str]) -> Vec<String> {
    listable_in(&policy_path(), principal, Kind::Tool, tools)
}

/// The names of `names` (of `kind`) that the policy at `policy` lets `principal` list
/// from loopback now, as the engine decides them, sorted.
pub fn listable_in(
    policy: &std::path::Path,
    principal: Principal,
    kind: Kind,
    names: &[&str],
) -> Vec<String> {
    let engine = Policy::load(policy).unwrap().into_engine();
    let parts = PrincipalParts {
        subject: Some(principal.id.to_string()),
        roles: principal
            .roles
            .iter()
            .map(|role| role.to_string())
            .collect(),
        scopes: principal
            .scopes
            .iter()
            .map(|scope| scope.to_string())
            .collect(),
        client: None,
    };
    let principal = engine.principal_from_parts(&parts);
    let loopback = "127.0.0.1".parse().unwrap();
    let mut listed: Vec<String> = engine
        .filter_listable(
            &principal,
            kind,
            names.iter().copied(),
            Some(loopback),
            jiff::Timestamp::now(),
        )
        .into_iter()
        .map(str::to_string)
        .collect();
    listed.sort();
    listed
}
