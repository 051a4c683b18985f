//! Principals: who is asking, resolved once per token against one compiled policy.
//!
//! Resolution reads the policy's claims map: role values (and `aka` values) grant roles,
//! closed over inheritance; scopes are closed over implication; every client and claim
//! test the policy's conditions make is decided here, once, so deciding a request only
//! reads bits.

use std::fmt;

use serde_json::{Map, Value};

use crate::ast::CompareOp;
use crate::check::{ClaimTest, ClaimsMap};
use crate::claim_path::{ClaimPath, Found};
use crate::ids::Bits;
use crate::index::{Index, PrincipalAtom};
use crate::literal;

/// A principal resolved against one [`crate::Engine`]'s policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub(crate) table_id: u64,
    pub(crate) subject: Option<String>,
    pub(crate) client: Option<String>,
    pub(crate) roles: Bits,
    pub(crate) scopes: Bits,
    pub(crate) atoms: Bits,
    /// The claim atoms on a path the token makes ambiguous: unknown.
    pub(crate) unknown: Bits,
}

/// A principal given directly (an API key's, or a custom scheme's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrincipalParts {
    /// Who it is (`sub`).
    pub subject: Option<String>,
    /// Role names (or `aka` values).
    pub roles: Vec<String>,
    /// Scopes held.
    pub scopes: Vec<String>,
    /// The client id.
    pub client: Option<String>,
}

/// Why claims could not give a principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalError {
    /// The claims are not a JSON object.
    ClaimsNotObject,
    /// A path of the claims map (roles, scopes or client) is ambiguous in the token: it
    /// holds the path both as a top-level name and nested, so one could shadow the other.
    AmbiguousClaim(String),
}

impl fmt::Display for PrincipalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrincipalError::ClaimsNotObject => f.write_str("`claims` must be a JSON object"),
            PrincipalError::AmbiguousClaim(path) => write!(
                f,
                "the token holds claim path `{path}` both as a top-level name and nested (ambiguous); refused"
            ),
        }
    }
}

impl std::error::Error for PrincipalError {}

impl Principal {
    /// The principal of a token's validated claims, through the policy's claims map.
    pub fn from_claims(table: &Index, claims: &Value) -> Result<Principal, PrincipalError> {
        Principal::from_claims_with_map(table, &table.claims, claims)
    }

    /// The principal of a token's validated claims, through `map` instead of the policy's
    /// claims map (the policy's map completed by a claims preset).
    pub fn from_claims_with_map(
        table: &Index,
        map: &ClaimsMap,
        claims: &Value,
    ) -> Result<Principal, PrincipalError> {
        let reading = ClaimsReading::new(map, claims)?;
        let mut roles = Bits::with_capacity(table.roles.names.len());
        reading.each_role_value(|_, value| grant(table, &mut roles, value));
        let mut scopes = Bits::with_capacity(table.scopes.names.len());
        reading.each_scope_value(|_, scope| hold(table, &mut scopes, scope));
        let client = reading.client().map(|(_, client)| client.to_string());
        let subject = reading.subject().map(str::to_string);
        let (atoms, unknown) = decide_atoms(table, reading.claims(), client.as_deref());
        Ok(Principal {
            table_id: table.id,
            subject,
            client,
            roles,
            scopes,
            atoms,
            unknown,
        })
    }

    /// The principal of an API key or custom scheme: roles, scopes and client given
    /// directly; every claim test sees no claims.
    pub fn from_parts(table: &Index, parts: &PrincipalParts) -> Principal {
        let mut roles = Bits::with_capacity(table.roles.names.len());
        parts
            .roles
            .iter()
            .for_each(|role| grant(table, &mut roles, role));
        let mut scopes = Bits::with_capacity(table.scopes.names.len());
        parts
            .scopes
            .iter()
            .for_each(|scope| hold(table, &mut scopes, scope));
        let (atoms, unknown) = decide_atoms(table, &Map::new(), parts.client.as_deref());
        Principal {
            table_id: table.id,
            subject: parts.subject.clone(),
            client: parts.client.clone(),
            roles,
            scopes,
            atoms,
            unknown,
        }
    }

    /// The subject (`sub`), if the token had one.
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// The client id, if any.
    pub fn client(&self) -> Option<&str> {
        self.client.as_deref()
    }

    /// The effective roles' names (granted roles and everything they inherit).
    pub fn role_names<'t>(&self, table: &'t Index) -> Vec<&'t str> {
        self.roles
            .iter()
            .filter_map(|role| table.roles.names.get(role))
            .map(|n| &**n)
            .collect()
    }

    /// The effective scopes the policy knows of (held scopes and what they imply).
    pub fn scope_names<'t>(&self, table: &'t Index) -> Vec<&'t str> {
        self.scopes
            .iter()
            .filter_map(|scope| table.scopes.names.get(scope))
            .map(|n| &**n)
            .collect()
    }
}

fn grant(table: &Index, roles: &mut Bits, value: &str) {
    let Some(granted) = table.roles.by_value.get(value) else {
        return;
    };
    for role in granted {
        if let Some(closure) = table.roles.closure.get(role.index()) {
            roles.union_with(closure);
        }
    }
}

fn hold(table: &Index, scopes: &mut Bits, scope: &str) {
    let closure = table
        .scopes
        .by_name
        .get(scope)
        .and_then(|id| table.scopes.closure.get(id.index()));
    if let Some(closure) = closure {
        scopes.union_with(closure);
    }
}

/// The claim atoms that hold, and those that are unknown (an ambiguous path).
fn decide_atoms(table: &Index, claims: &Map<String, Value>, client: Option<&str>) -> (Bits, Bits) {
    let mut atoms = Bits::with_capacity(table.principal_atoms.len());
    let mut unknown = Bits::with_capacity(table.principal_atoms.len());
    for (index, atom) in table.principal_atoms.iter().enumerate() {
        let holds = match atom {
            PrincipalAtom::Client(wanted) => Some(client == Some(&**wanted)),
            PrincipalAtom::Claim(test) => claim_test(claims, test),
        };
        match holds {
            Some(true) => atoms.insert(index),
            Some(false) => {}
            None => unknown.insert(index),
        }
    }
    (atoms, unknown)
}

/// A token's claims read through a claims map: the one reading both the engine's
/// [`Principal`] and explain's derivation make (which values grant roles, which are
/// scopes, which string is the client, in which order), so the two cannot disagree on
/// what a token says.
pub(crate) struct ClaimsReading<'m, 'c> {
    map: &'m ClaimsMap,
    claims: &'c Map<String, Value>,
}

impl<'m, 'c> ClaimsReading<'m, 'c> {
    /// Reads `claims` through `map`: refused when they are not an object, or when a path
    /// of the map is ambiguous in them.
    pub fn new(map: &'m ClaimsMap, claims: &'c Value) -> Result<Self, PrincipalError> {
        let claims = claims.as_object().ok_or(PrincipalError::ClaimsNotObject)?;
        refuse_ambiguous(map, claims)?;
        Ok(ClaimsReading { map, claims })
    }

    /// The claims.
    pub fn claims(&self) -> &'c Map<String, Value> {
        self.claims
    }

    /// The subject: `sub`, when it is a string.
    pub fn subject(&self) -> Option<&'c str> {
        self.claims.get("sub").and_then(Value::as_str)
    }

    /// The client id, with the path it came from: the first string at the client paths.
    pub fn client(&self) -> Option<(&'m ClaimPath, &'c str)> {
        let claims = self.claims;
        self.map.client.iter().find_map(|path| {
            let client = path.find(claims).value().and_then(Value::as_str)?;
            Some((path, client))
        })
    }

    /// Calls `visit` with every role value and its path, in claims-map order: a string,
    /// or each string of an array. (Internal iteration: nested loops, as fast as the
    /// engine's principal needs.)
    pub fn each_role_value(&self, mut visit: impl FnMut(&'m ClaimPath, &'c str)) {
        for path in &self.map.roles {
            for value in role_values(path.find(self.claims).value()) {
                visit(path, value);
            }
        }
    }

    /// Calls `visit` with every scope value and its path, in claims-map order: a string
    /// split on ASCII whitespace, or each string of an array.
    pub fn each_scope_value(&self, mut visit: impl FnMut(&'m ClaimPath, &'c str)) {
        for path in &self.map.scopes {
            for value in scope_values(path.find(self.claims).value()) {
                visit(path, value);
            }
        }
    }
}

/// Refuses claims in which a path of the claims map is ambiguous.
pub fn refuse_ambiguous(
    map: &ClaimsMap,
    claims: &Map<String, Value>,
) -> Result<(), PrincipalError> {
    let paths = map.roles.iter().chain(&map.scopes).chain(&map.client);
    match paths
        .into_iter()
        .find(|path| path.find(claims).is_ambiguous())
    {
        Some(path) => Err(PrincipalError::AmbiguousClaim(path.to_string())),
        None => Ok(()),
    }
}

/// Role values at one path: a string, or each string of an array.
fn role_values(value: Option<&Value>) -> impl Iterator<Item = &str> {
    let single = value.and_then(Value::as_str);
    let many = value.and_then(Value::as_array).into_iter().flatten();
    single.into_iter().chain(many.filter_map(Value::as_str))
}

/// Scopes at one path: a string split on ASCII whitespace, or an array's strings.
fn scope_values(value: Option<&Value>) -> impl Iterator<Item = &str> {
    let split = value
        .and_then(Value::as_str)
        .into_iter()
        .flat_map(str::split_ascii_whitespace);
    let many = value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    split.chain(many)
}

/// Decides a claim test on a principal's claims: `None` (unknown) when its path is
/// ambiguous in the claims.
pub(crate) fn claim_test(claims: &Map<String, Value>, test: &ClaimTest) -> Option<bool> {
    let found = match test.path().find(claims) {
        Found::Ambiguous => return None,
        found => found.value(),
    };
    Some(match test {
        ClaimTest::Exists { .. } => found.is_some(),
        ClaimTest::Compare { op, value, .. } => {
            let equal = found.is_some_and(|claim| literal::equals(claim, value));
            match op {
                CompareOp::Eq => equal,
                CompareOp::Ne => !equal,
            }
        }
        ClaimTest::Contains { value, .. } => literal::contains(found, value),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::LiteralValue;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn an_ambiguous_path_is_unknown() {
        let claims = object(json!({"a.b": 1, "a": {"b": 1}}));
        let test = ClaimTest::Exists { path: "a.b".into() };
        assert_eq!(claim_test(&claims, &test), None);
    }

    #[test]
    fn numbers_compare_by_value_and_types_matter() {
        let test = |claims: Value, literal: LiteralValue| {
            let claims = object(json!({ "n": claims }));
            claim_test(
                &claims,
                &ClaimTest::Compare {
                    path: "n".into(),
                    op: CompareOp::Eq,
                    value: literal,
                },
            )
            .unwrap()
        };
        assert!(test(json!(42.0), LiteralValue::Integer(42)));
        assert!(test(json!(42), LiteralValue::Integer(42)));
        assert!(!test(json!(42.5), LiteralValue::Integer(42)));
        assert!(!test(json!("42"), LiteralValue::Integer(42)));
        assert!(!test(json!(true), LiteralValue::Integer(1)));
        assert!(!test(
            json!(9007199254740992.0),
            LiteralValue::Integer(9007199254740993)
        ));
        assert!(!test(json!(u64::MAX), LiteralValue::Integer(-1)));
    }

    #[test]
    fn missing_claims_and_null() {
        let claims = object(json!({"n": null, "list": ["a", 1], "s": "a"}));
        let ne = ClaimTest::Compare {
            path: "missing".into(),
            op: CompareOp::Ne,
            value: LiteralValue::Bool(true),
        };
        assert_eq!(claim_test(&claims, &ne), Some(true));
        assert_eq!(
            claim_test(&claims, &ClaimTest::Exists { path: "n".into() }),
            Some(true)
        );
        let contains = |path: &str, value: LiteralValue| {
            claim_test(
                &claims,
                &ClaimTest::Contains {
                    path: path.into(),
                    value,
                },
            )
            .unwrap()
        };
        assert!(contains("list", LiteralValue::Integer(1)));
        assert!(contains("s", LiteralValue::String("a".into())));
        assert!(!contains("s", LiteralValue::String("".into())));
        assert!(!contains("missing", LiteralValue::Integer(1)));
    }
}
