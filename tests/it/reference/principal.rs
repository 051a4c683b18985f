//! Definitions collected from a policy, and the principal a token's claims describe.
//!
//! Follows LANGUAGE.md "Principals": the claims map with its defaults, role values
//! granting roles by name and by `aka`, inheritance and scope implication closed by
//! naive fixpoints, and claim paths looked up top-level first, then through `.`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::syntax::{Body, ClaimField, Policy, Window};

/// Default role claim paths.
const DEFAULT_ROLE_PATHS: [&str; 2] = ["roles", "role"];
/// Default scope claim paths.
const DEFAULT_SCOPE_PATHS: [&str; 2] = ["scope", "scp"];
/// Default client claim paths.
const DEFAULT_CLIENT_PATHS: [&str; 2] = ["client_id", "azp"];

/// A declared role.
#[derive(Debug)]
pub struct RoleDecl<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its parents.
    pub inherits: &'a [String],
    /// Claim values that also grant it.
    pub aka: &'a [String],
}

/// The definitions of a policy, gathered from all its statements.
#[derive(Debug)]
pub struct Definitions<'a> {
    /// The policy's `timezone`, if it has one.
    pub time_zone: Option<&'a str>,
    /// Claim paths giving roles.
    pub role_paths: Vec<String>,
    /// Claim paths giving scopes.
    pub scope_paths: Vec<String>,
    /// Claim paths giving the client id.
    pub client_paths: Vec<String>,
    /// Declared roles.
    pub roles: Vec<RoleDecl<'a>>,
    /// Scope implications: `(broader, narrower)`.
    pub implications: Vec<(String, String)>,
    /// Named networks.
    pub networks: BTreeMap<&'a str, &'a [String]>,
    /// Named windows.
    pub windows: BTreeMap<&'a str, &'a Window>,
}

impl<'a> Definitions<'a> {
    /// Collects the definitions of `policy`.
    pub fn new(policy: &'a Policy) -> Definitions<'a> {
        let mut definitions = Definitions {
            time_zone: None,
            role_paths: owned(&DEFAULT_ROLE_PATHS),
            scope_paths: owned(&DEFAULT_SCOPE_PATHS),
            client_paths: owned(&DEFAULT_CLIENT_PATHS),
            roles: Vec::new(),
            implications: Vec::new(),
            networks: BTreeMap::new(),
            windows: BTreeMap::new(),
        };
        for statement in &policy.statements {
            definitions.add(&statement.body);
        }
        definitions
    }

    /// Records what one statement defines.
    fn add(&mut self, body: &'a Body) {
        match body {
            Body::Timezone(zone) => self.time_zone = Some(zone),
            Body::Claims(lines) => {
                for (field, paths) in lines {
                    let paths = paths.clone();
                    match field {
                        ClaimField::Roles => self.role_paths = paths,
                        ClaimField::Scopes => self.scope_paths = paths,
                        ClaimField::Client => self.client_paths = paths,
                    }
                }
            }
            Body::Scope { scopes, implies } => {
                for broader in scopes {
                    for narrower in implies {
                        self.implications.push((broader.clone(), narrower.clone()));
                    }
                }
            }
            Body::Role {
                name,
                inherits,
                aka,
            } => self.roles.push(RoleDecl {
                name,
                inherits,
                aka,
            }),
            Body::Network { name, cidrs } => {
                self.networks.insert(name, cidrs);
            }
            Body::Window { name, window } => {
                self.windows.insert(name, window);
            }
            Body::Rule(_) | Body::Requirement(_) => {}
        }
    }

    /// `scopes` plus every scope they imply, transitively.
    pub fn close_scopes(&self, scopes: BTreeSet<String>) -> BTreeSet<String> {
        let mut closed = scopes;
        loop {
            let implied: Vec<String> = self
                .implications
                .iter()
                .filter(|(broader, narrower)| {
                    closed.contains(broader) && !closed.contains(narrower)
                })
                .map(|(_, narrower)| narrower.clone())
                .collect();
            if implied.is_empty() {
                return closed;
            }
            closed.extend(implied);
        }
    }

    /// `roles` plus every role they inherit, transitively.
    pub fn close_roles(&self, roles: BTreeSet<String>) -> BTreeSet<String> {
        let mut closed = roles;
        loop {
            let inherited: Vec<String> = self
                .roles
                .iter()
                .filter(|role| closed.contains(role.name))
                .flat_map(|role| role.inherits.iter())
                .filter(|parent| !closed.contains(*parent))
                .cloned()
                .collect();
            if inherited.is_empty() {
                return closed;
            }
            closed.extend(inherited);
        }
    }

    /// The declared roles a claim value grants: the role of that name, and every role
    /// listing the value under `aka`.
    fn roles_granted_by(&self, value: &str) -> impl Iterator<Item = String> + '_ {
        let value = value.to_owned();
        self.roles
            .iter()
            .filter(move |role| role.name == value || role.aka.contains(&value))
            .map(|role| role.name.to_owned())
    }
}

/// The principal a token describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Effective roles: granted roles and everything they inherit.
    pub roles: BTreeSet<String>,
    /// The token's own scopes, before implication.
    pub token_scopes: BTreeSet<String>,
    /// The client id, if a client path holds a string.
    pub client: Option<String>,
}

impl Principal {
    /// Reads the principal from `claims` through the policy's claims map.
    pub fn from_claims(definitions: &Definitions, claims: &Value) -> Principal {
        let mut granted = BTreeSet::new();
        for path in &definitions.role_paths {
            for value in string_values(lookup(claims, path)) {
                granted.extend(definitions.roles_granted_by(value));
            }
        }
        let mut token_scopes = BTreeSet::new();
        for path in &definitions.scope_paths {
            token_scopes.extend(scope_values(lookup(claims, path)));
        }
        let client = definitions
            .client_paths
            .iter()
            .find_map(|path| lookup(claims, path).and_then(Value::as_str))
            .map(str::to_owned);
        Principal {
            roles: definitions.close_roles(granted),
            token_scopes,
            client,
        }
    }

    /// The token's scopes plus everything they imply.
    pub fn effective_scopes(&self, definitions: &Definitions) -> BTreeSet<String> {
        definitions.close_scopes(self.token_scopes.clone())
    }

    /// The effective scopes of the token with `added` scopes added to it.
    pub fn scopes_with(&self, definitions: &Definitions, added: &[String]) -> BTreeSet<String> {
        let mut scopes = self.token_scopes.clone();
        scopes.extend(added.iter().cloned());
        definitions.close_scopes(scopes)
    }
}

/// The claim at `path` (LANGUAGE.md v1.1): a path starting with `/` is a JSON Pointer
/// (`~1` is `/`, `~0` is `~`); any other path is the top-level claim of exactly that name,
/// else the path split on `.` through nested objects. A dotted path held in both forms
/// is ambiguous: `None` here, and [`is_ambiguous`] says so.
pub fn lookup<'v>(claims: &'v Value, path: &str) -> Option<&'v Value> {
    if let Some(pointer) = path.strip_prefix('/') {
        let mut current = claims;
        for segment in pointer.split('/') {
            let key = segment.replace("~1", "/").replace("~0", "~");
            current = current.as_object()?.get(&key)?;
        }
        return Some(current);
    }
    if is_ambiguous(claims, path) {
        return None;
    }
    let object = claims.as_object()?;
    if let Some(value) = object.get(path) {
        return Some(value);
    }
    nested(claims, path)
}

/// Whether a dotted `path` is held both as a top-level name and nested.
pub fn is_ambiguous(claims: &Value, path: &str) -> bool {
    !path.starts_with('/')
        && path.contains('.')
        && claims.get(path).is_some()
        && nested(claims, path).is_some()
}

fn nested<'v>(claims: &'v Value, path: &str) -> Option<&'v Value> {
    let mut current = claims;
    for segment in path.split('.') {
        current = current.as_object()?.get(segment)?;
    }
    Some(current)
}

/// Whether the claims map refuses the token: one of its paths is ambiguous in it.
pub fn refuses(definitions: &Definitions, claims: &Value) -> bool {
    let paths = definitions.role_paths.iter();
    let mut paths = paths
        .chain(&definitions.scope_paths)
        .chain(&definitions.client_paths);
    paths.any(|path| is_ambiguous(claims, path))
}

/// A string, or each string of an array; nothing for other values.
fn string_values(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(text)) => vec![text.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A string split on ASCII whitespace, or each string of an array.
fn scope_values(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(text)) => text.split_ascii_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// The default paths as owned strings.
fn owned(paths: &[&str]) -> Vec<String> {
    paths.iter().map(|path| (*path).to_owned()).collect()
}
