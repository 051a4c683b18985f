//! Principals: who is asking, resolved once per token against one compiled policy.
//!
//! Resolution reads the policy's claims map: role values (and `aka` values) grant roles,
//! closed over inheritance; scopes are closed over implication; every client and claim
//! test the policy's conditions make is decided here, once, so deciding a request only
//! reads bits.

use std::fmt;

use serde_json::{Map, Value};

use crate::ast::{CompareOp, LiteralValue};
use crate::check::{ClaimTest, ClaimsMap};
use crate::ids::Bits;
use crate::table::{PrincipalAtom, Table};

/// A principal resolved against one [`crate::Engine`]'s policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub(crate) table_id: u64,
    pub(crate) subject: Option<String>,
    pub(crate) client: Option<String>,
    pub(crate) roles: Bits,
    pub(crate) scopes: Bits,
    pub(crate) atoms: Bits,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalError {
    /// The claims are not a JSON object.
    ClaimsNotObject,
}

impl fmt::Display for PrincipalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrincipalError::ClaimsNotObject => f.write_str("`claims` must be a JSON object"),
        }
    }
}

impl std::error::Error for PrincipalError {}

impl Principal {
    /// The principal of a token's validated claims, through the policy's claims map.
    pub fn from_claims(table: &Table, claims: &Value) -> Result<Principal, PrincipalError> {
        Principal::from_claims_with_map(table, &table.claims, claims)
    }

    /// The principal of a token's validated claims, through `map` instead of the policy's
    /// claims map (the policy's map completed by a claims preset).
    pub fn from_claims_with_map(
        table: &Table,
        map: &ClaimsMap,
        claims: &Value,
    ) -> Result<Principal, PrincipalError> {
        let claims = claims.as_object().ok_or(PrincipalError::ClaimsNotObject)?;
        let mut roles = Bits::with_capacity(table.roles.names.len());
        for value in strings_at(claims, &map.roles) {
            grant(table, &mut roles, value);
        }
        let mut scopes = Bits::with_capacity(table.scopes.names.len());
        for path in &map.scopes {
            for scope in scope_values(lookup(claims, path)) {
                hold(table, &mut scopes, scope);
            }
        }
        let client = map
            .client
            .iter()
            .find_map(|path| lookup(claims, path).and_then(Value::as_str))
            .map(str::to_string);
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .map(str::to_string);
        let atoms = decide_atoms(table, claims, client.as_deref());
        Ok(Principal {
            table_id: table.id,
            subject,
            client,
            roles,
            scopes,
            atoms,
        })
    }

    /// The principal of an API key or custom scheme: roles, scopes and client given
    /// directly; every claim test sees no claims.
    pub fn from_parts(table: &Table, parts: &PrincipalParts) -> Principal {
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
        let atoms = decide_atoms(table, &Map::new(), parts.client.as_deref());
        Principal {
            table_id: table.id,
            subject: parts.subject.clone(),
            client: parts.client.clone(),
            roles,
            scopes,
            atoms,
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
    pub fn role_names<'t>(&self, table: &'t Table) -> Vec<&'t str> {
        self.roles
            .iter()
            .filter_map(|role| table.roles.names.get(role))
            .map(|n| &**n)
            .collect()
    }

    /// The effective scopes the policy knows of (held scopes and what they imply).
    pub fn scope_names<'t>(&self, table: &'t Table) -> Vec<&'t str> {
        self.scopes
            .iter()
            .filter_map(|scope| table.scopes.names.get(scope))
            .map(|n| &**n)
            .collect()
    }
}

fn grant(table: &Table, roles: &mut Bits, value: &str) {
    let Some(granted) = table.roles.by_value.get(value) else {
        return;
    };
    for role in granted {
        if let Some(closure) = table.roles.closure.get(role.index()) {
            roles.union_with(closure);
        }
    }
}

fn hold(table: &Table, scopes: &mut Bits, scope: &str) {
    let closure = table
        .scopes
        .by_name
        .get(scope)
        .and_then(|id| table.scopes.closure.get(id.index()));
    if let Some(closure) = closure {
        scopes.union_with(closure);
    }
}

fn decide_atoms(table: &Table, claims: &Map<String, Value>, client: Option<&str>) -> Bits {
    let mut atoms = Bits::with_capacity(table.principal_atoms.len());
    for (index, atom) in table.principal_atoms.iter().enumerate() {
        let holds = match atom {
            PrincipalAtom::Client(wanted) => client == Some(&**wanted),
            PrincipalAtom::Claim(test) => claim_test(claims, test),
        };
        if holds {
            atoms.insert(index);
        }
    }
    atoms
}

/// Every string at the given paths: a string, or each string of an array.
fn strings_at<'c>(
    claims: &'c Map<String, Value>,
    paths: &'c [String],
) -> impl Iterator<Item = &'c str> {
    paths.iter().flat_map(move |path| {
        let value = lookup(claims, path);
        let single = value.and_then(Value::as_str);
        let many = value.and_then(Value::as_array).into_iter().flatten();
        single.into_iter().chain(many.filter_map(Value::as_str))
    })
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

/// A claim by path: the top-level claim of exactly that name, else the path split on
/// `.` and followed through nested objects.
pub fn lookup<'c>(claims: &'c Map<String, Value>, path: &str) -> Option<&'c Value> {
    if let Some(value) = claims.get(path) {
        return Some(value);
    }
    if !path.contains('.') {
        return None;
    }
    let mut segments = path.split('.');
    let mut current = claims.get(segments.next()?)?;
    for segment in segments {
        current = current.as_object()?.get(segment)?;
    }
    Some(current)
}

/// Decides a claim test on a principal's claims.
pub(crate) fn claim_test(claims: &Map<String, Value>, test: &ClaimTest) -> bool {
    match test {
        ClaimTest::Exists { path } => lookup(claims, path).is_some(),
        ClaimTest::Compare { path, op, value } => {
            let equal = lookup(claims, path).is_some_and(|claim| json_equals(claim, value));
            match op {
                CompareOp::Eq => equal,
                CompareOp::Ne => !equal,
            }
        }
        ClaimTest::Contains { path, value } => match lookup(claims, path) {
            Some(Value::Array(items)) => items.iter().any(|item| json_equals(item, value)),
            Some(claim @ Value::String(_)) => json_equals(claim, value),
            _ => false,
        },
    }
}

/// Equality by JSON type and value; numbers by exact value (`42.0 == 42`).
fn json_equals(claim: &Value, literal: &LiteralValue) -> bool {
    match (claim, literal) {
        (Value::String(claim), LiteralValue::String(literal)) => claim == literal,
        (Value::Bool(claim), LiteralValue::Bool(literal)) => claim == literal,
        (Value::Number(number), LiteralValue::Integer(literal)) => {
            if let Some(integer) = number.as_i64() {
                integer == *literal
            } else if number.is_u64() {
                false
            } else {
                number
                    .as_f64()
                    .is_some_and(|float| float_equals_integer(float, *literal))
            }
        }
        _ => false,
    }
}

fn float_equals_integer(float: f64, integer: i64) -> bool {
    // -2^63 ..= 2^63 (exclusive) are the floats that convert without saturating.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    float.fract() == 0.0 && (-LIMIT..LIMIT).contains(&float) && float as i64 == integer
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn paths_prefer_exact_top_level_names() {
        let claims = object(json!({"a.b": 1, "a": {"b": 2}, "x": {"y": {"z": 3}}}));
        assert_eq!(lookup(&claims, "a.b"), Some(&json!(1)));
        assert_eq!(lookup(&claims, "x.y.z"), Some(&json!(3)));
        assert_eq!(lookup(&claims, "x.q"), None);
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
        assert!(claim_test(&claims, &ne));
        assert!(claim_test(&claims, &ClaimTest::Exists { path: "n".into() }));
        let contains = |path: &str, value: LiteralValue| {
            claim_test(
                &claims,
                &ClaimTest::Contains {
                    path: path.into(),
                    value,
                },
            )
        };
        assert!(contains("list", LiteralValue::Integer(1)));
        assert!(contains("s", LiteralValue::String("a".into())));
        assert!(!contains("s", LiteralValue::String("".into())));
        assert!(!contains("missing", LiteralValue::Integer(1)));
    }
}
