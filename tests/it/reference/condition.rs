//! Three-valued evaluation of conditions.
//!
//! Truth values are true, false and unknown. An atom is unknown when the request cannot
//! tell: `ip in` without an address, a `claim` or `arg` atom on an ambiguous path,
//! `matches` on an argument that is present but not a string, an order comparison on an
//! argument that is present but not a number. `not unknown` is unknown, `and`/`or`
//! follow Kleene logic. Values the checker should have rejected (undefined names, invalid
//! ranges, zones or instants) also evaluate to unknown, failing closed.
//!
//! When a listing follows use ("Listing with arguments"), every `arg` atom is the value
//! that favours the caller where it stands: the count of `not`s above it (`unless` is
//! one) decides, even in an allow rule for true, odd for false, the other way round in a
//! deny rule.

use std::collections::BTreeSet;
use std::net::IpAddr;

use jiff::Timestamp;
use serde_json::Value;
use toolgate::ast::{
    ArgOperator, Atom, Cidr, CompareOp, Condition, ConditionMode, Effect, Expr, ExprKind,
    LiteralValue, NetworkRef, OrderOp, WindowRef,
};

use super::network;
use super::number;
use super::principal::{is_ambiguous, lookup, Definitions, Principal};
use super::window;

/// A three-valued truth value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    /// Holds.
    True,
    /// Does not hold.
    False,
    /// Cannot be known from the request.
    Unknown,
}

impl Truth {
    /// `true` / `false` as a truth value.
    pub fn from_bool(value: bool) -> Truth {
        if value {
            Truth::True
        } else {
            Truth::False
        }
    }

    /// Known values from `Some`, unknown from `None`.
    pub fn from_option(value: Option<bool>) -> Truth {
        value.map_or(Truth::Unknown, Truth::from_bool)
    }

    /// Negation: `not unknown` is unknown.
    pub fn negate(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }

    /// Kleene conjunction: false if any is false, else unknown if any is unknown.
    pub fn all(values: impl IntoIterator<Item = Truth>) -> Truth {
        let values: Vec<Truth> = values.into_iter().collect();
        if values.contains(&Truth::False) {
            Truth::False
        } else if values.contains(&Truth::Unknown) {
            Truth::Unknown
        } else {
            Truth::True
        }
    }

    /// Kleene disjunction: true if any is true, else unknown if any is unknown.
    pub fn any(values: impl IntoIterator<Item = Truth>) -> Truth {
        let values: Vec<Truth> = values.into_iter().collect();
        if values.contains(&Truth::True) {
            Truth::True
        } else if values.contains(&Truth::Unknown) {
            Truth::Unknown
        } else {
            Truth::False
        }
    }
}

/// What conditions are evaluated against.
pub struct Evaluation<'a> {
    /// The policy's definitions.
    pub definitions: &'a Definitions<'a>,
    /// The principal (roles, client).
    pub principal: &'a Principal,
    /// The effective scopes to use (the token's, or the token's plus a step-up).
    pub effective_scopes: &'a BTreeSet<String>,
    /// The token's claims.
    pub claims: &'a Value,
    /// The request's address, if any.
    pub ip: Option<IpAddr>,
    /// The request's time.
    pub time: Timestamp,
    /// What `arg` atoms read.
    pub arguments: Arguments<'a>,
}

/// What `arg` atoms read.
#[derive(Clone, Copy)]
pub enum Arguments<'a> {
    /// The call's arguments (`None` is `{}`).
    Given(Option<&'a Value>),
    /// A listing: each atom is the value that favours the caller in its rule.
    Favoured,
}

impl Evaluation<'_> {
    /// A rule's condition: none is true, `if C` is C, `unless C` is `not C` (the rule's
    /// `effect` says which value of an `arg` atom favours the caller when listing).
    pub fn condition(&self, condition: Option<&Condition>, effect: Effect) -> Truth {
        match condition {
            None => Truth::True,
            Some(condition) => {
                // An even number of `not`s (with `unless` as one) above an `arg` atom in
                // an allow rule: true favours the caller; in a deny rule, false.
                let even = effect == Effect::Allow;
                match condition.mode {
                    ConditionMode::If => self.expr(&condition.expr, even),
                    ConditionMode::Unless => self.expr(&condition.expr, !even).negate(),
                }
            }
        }
    }

    /// An expression; `favour` is the value an `arg` atom here takes when listing.
    pub fn expr(&self, expr: &Expr, favour: bool) -> Truth {
        match &expr.kind {
            ExprKind::Or(children) => {
                Truth::any(children.iter().map(|child| self.expr(child, favour)))
            }
            ExprKind::And(children) => {
                Truth::all(children.iter().map(|child| self.expr(child, favour)))
            }
            ExprKind::Not(inner) => self.expr(inner, !favour).negate(),
            ExprKind::Atom(Atom::Arg { path, test }) => match self.arguments {
                Arguments::Favoured => Truth::from_bool(favour),
                Arguments::Given(arguments) => arg_atom(arguments, &path.value, test),
            },
            ExprKind::Atom(atom) => self.atom(atom),
        }
    }

    /// An atom other than `arg`.
    fn atom(&self, atom: &Atom) -> Truth {
        match atom {
            Atom::Arg { .. } => Truth::Unknown,
            Atom::Scope(scope) => Truth::from_bool(self.effective_scopes.contains(&scope.value)),
            Atom::Role(role) => Truth::from_bool(self.principal.roles.contains(&role.name)),
            Atom::Client(client) => {
                Truth::from_bool(self.principal.client.as_deref() == Some(client.value.as_str()))
            }
            Atom::IpIn(network) => self.ip_in(network),
            Atom::TimeIn(window) => self.time_in(window),
            Atom::TimeBefore(instant) => {
                Truth::from_option(parse_instant(&instant.value).map(|at| self.time < at))
            }
            Atom::TimeAfter(instant) => {
                Truth::from_option(parse_instant(&instant.value).map(|at| self.time >= at))
            }
            Atom::ClaimCompare { path, .. }
            | Atom::ClaimContains { path, .. }
            | Atom::ClaimExists { path }
                if is_ambiguous(self.claims, &path.value) =>
            {
                Truth::Unknown
            }
            Atom::ClaimCompare { path, op, value } => {
                let claim = lookup(self.claims, &path.value);
                let equal = claim.is_some_and(|claim| json_equals(claim, &value.value));
                Truth::from_bool(match op {
                    CompareOp::Eq => equal,
                    CompareOp::Ne => !equal,
                })
            }
            Atom::ClaimContains { path, value } => Truth::from_bool(
                lookup(self.claims, &path.value).is_some_and(|claim| contains(claim, &value.value)),
            ),
            Atom::ClaimExists { path } => {
                Truth::from_bool(lookup(self.claims, &path.value).is_some())
            }
            Atom::Bool(value) => Truth::from_bool(*value),
        }
    }

    /// `ip in NAME | [CIDR, ...]`: unknown without an address.
    fn ip_in(&self, network: &NetworkRef) -> Truth {
        let Some(address) = self.ip else {
            return Truth::Unknown;
        };
        let cidrs: &[Cidr] = match network {
            NetworkRef::Named(name) => match self.definitions.networks.get(name.name.as_str()) {
                Some(cidrs) => cidrs,
                None => return Truth::Unknown,
            },
            NetworkRef::Inline(cidrs) => cidrs,
        };
        Truth::any(
            cidrs
                .iter()
                .map(|cidr| Truth::from_option(network::contains_text(&cidr.text, address))),
        )
    }

    /// `time in NAME | [WINDOW]`.
    fn time_in(&self, window_ref: &WindowRef) -> Truth {
        let window = match window_ref {
            WindowRef::Named(name) => match self.definitions.windows.get(name.name.as_str()) {
                Some(window) => *window,
                None => return Truth::Unknown,
            },
            WindowRef::Inline(window) => window,
        };
        Truth::from_option(window::contains(
            window,
            self.definitions.time_zone,
            self.time,
        ))
    }
}

/// An RFC 3339 instant.
fn parse_instant(text: &str) -> Option<Timestamp> {
    text.parse().ok()
}

/// An `arg` atom on the call's arguments (LANGUAGE.md, "Arguments"), read from the
/// text: paths as claim paths, values as claims, `matches` unknown on a non-string,
/// order comparisons unknown on a non-number.
fn arg_atom(arguments: Option<&Value>, path: &str, test: &ArgOperator) -> Truth {
    let empty = Value::Object(serde_json::Map::new());
    let arguments = arguments.unwrap_or(&empty);
    if is_ambiguous(arguments, path) {
        return Truth::Unknown;
    }
    let found = lookup(arguments, path);
    match test {
        ArgOperator::Exists => Truth::from_bool(found.is_some()),
        ArgOperator::Compare { op, value } => {
            let equal = found.is_some_and(|found| json_equals(found, &value.value));
            Truth::from_bool(match op {
                CompareOp::Eq => equal,
                CompareOp::Ne => !equal,
            })
        }
        ArgOperator::In(values) => Truth::from_bool(
            found.is_some_and(|found| values.iter().any(|value| json_equals(found, &value.value))),
        ),
        ArgOperator::Contains(value) => {
            Truth::from_bool(found.is_some_and(|found| contains(found, &value.value)))
        }
        ArgOperator::Matches(pattern) => match found {
            None => Truth::False,
            Some(Value::String(text)) => {
                Truth::from_bool(super::glob::matches(&pattern.value, text))
            }
            Some(_) => Truth::Unknown,
        },
        ArgOperator::Order { op, value } => match found {
            None => Truth::False,
            Some(Value::Number(number)) => match number::compare(number, &value.value) {
                Some(ordering) => Truth::from_bool(match op {
                    OrderOp::Less => ordering.is_lt(),
                    OrderOp::LessOrEqual => ordering.is_le(),
                    OrderOp::Greater => ordering.is_gt(),
                    OrderOp::GreaterOrEqual => ordering.is_ge(),
                }),
                None => Truth::Unknown,
            },
            Some(_) => Truth::Unknown,
        },
    }
}

/// `contains`: an array holding an equal element, or a string equal to the literal.
fn contains(claim: &Value, literal: &LiteralValue) -> bool {
    match claim {
        Value::Array(items) => items.iter().any(|item| json_equals(item, literal)),
        Value::String(_) => json_equals(claim, literal),
        _ => false,
    }
}

/// Equality by JSON type and value: numbers by exact value (`42.0 == 42`), `true` never
/// `1`, `null` equal to no literal.
pub fn json_equals(claim: &Value, literal: &LiteralValue) -> bool {
    match (claim, literal) {
        (Value::String(text), LiteralValue::String(expected)) => text == expected,
        (Value::Bool(value), LiteralValue::Bool(expected)) => value == expected,
        (Value::Number(number), LiteralValue::Integer(_) | LiteralValue::Decimal(_)) => {
            number::compare(number, literal) == Some(std::cmp::Ordering::Equal)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kleene_logic() {
        use Truth::*;
        assert_eq!(Truth::all([True, Unknown]), Unknown);
        assert_eq!(Truth::all([False, Unknown]), False);
        assert_eq!(Truth::any([True, Unknown]), True);
        assert_eq!(Truth::any([False, Unknown]), Unknown);
        assert_eq!(Unknown.negate(), Unknown);
    }

    #[test]
    fn json_values_compare_by_type_and_value() {
        assert!(json_equals(&json!(42), &LiteralValue::Integer(42)));
        assert!(json_equals(&json!(42.0), &LiteralValue::Integer(42)));
        assert!(!json_equals(&json!(42.5), &LiteralValue::Integer(42)));
        assert!(!json_equals(&json!("42"), &LiteralValue::Integer(42)));
        assert!(!json_equals(&json!(true), &LiteralValue::Integer(1)));
        assert!(!json_equals(&json!(1), &LiteralValue::Bool(true)));
        assert!(json_equals(&json!(false), &LiteralValue::Bool(false)));
        assert!(!json_equals(&json!(u64::MAX), &LiteralValue::Integer(-1)));
        assert!(json_equals(&json!(-7), &LiteralValue::Integer(-7)));
        assert!(!json_equals(
            &json!(null),
            &LiteralValue::String("null".into())
        ));
    }

    #[test]
    fn contains_looks_into_arrays_and_strings() {
        let literal = LiteralValue::String("a".into());
        assert!(contains(&json!(["b", "a"]), &literal));
        assert!(contains(&json!("a"), &literal));
        assert!(!contains(&json!("abc"), &literal));
        assert!(!contains(&json!({"a": 1}), &literal));
        assert!(contains(&json!([1, 42.0]), &LiteralValue::Integer(42)));
        assert!(!contains(&json!(42), &LiteralValue::Integer(42)));
    }
}
