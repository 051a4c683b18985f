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

use super::network;
use super::number;
use super::principal::{is_ambiguous, lookup, Definitions, Principal};
use super::syntax::{Atom, Condition, Effect, Expr, Literal, Named, Order, Test, Window};
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
                if condition.unless {
                    self.expr(&condition.expr, !even).negate()
                } else {
                    self.expr(&condition.expr, even)
                }
            }
        }
    }

    /// An expression; `favour` is the value an `arg` atom here takes when listing.
    pub fn expr(&self, expr: &Expr, favour: bool) -> Truth {
        match expr {
            Expr::Or(children) => Truth::any(children.iter().map(|child| self.expr(child, favour))),
            Expr::And(children) => {
                Truth::all(children.iter().map(|child| self.expr(child, favour)))
            }
            Expr::Not(inner) => self.expr(inner, !favour).negate(),
            Expr::Atom(Atom::Arg(path, test)) => match self.arguments {
                Arguments::Favoured => Truth::from_bool(favour),
                Arguments::Given(arguments) => arg_atom(arguments, path, test),
            },
            Expr::Atom(atom) => self.atom(atom),
        }
    }

    /// An atom other than `arg`.
    fn atom(&self, atom: &Atom) -> Truth {
        match atom {
            Atom::Arg(..) => Truth::Unknown,
            Atom::Scope(scope) => Truth::from_bool(self.effective_scopes.contains(scope)),
            Atom::Role(role) => Truth::from_bool(self.principal.roles.contains(role)),
            Atom::Client(client) => {
                Truth::from_bool(self.principal.client.as_deref() == Some(client.as_str()))
            }
            Atom::IpIn(network) => self.ip_in(network),
            Atom::TimeIn(window) => self.time_in(window),
            Atom::TimeBefore(instant) => {
                Truth::from_option(parse_instant(instant).map(|at| self.time < at))
            }
            Atom::TimeAfter(instant) => {
                Truth::from_option(parse_instant(instant).map(|at| self.time >= at))
            }
            Atom::Claim(path, _) if is_ambiguous(self.claims, path) => Truth::Unknown,
            Atom::Claim(path, test) => {
                let claim = lookup(self.claims, path);
                match test {
                    Test::Equals(literal) => {
                        Truth::from_bool(claim.is_some_and(|claim| json_equals(claim, literal)))
                    }
                    Test::NotEquals(literal) => {
                        Truth::from_bool(!claim.is_some_and(|claim| json_equals(claim, literal)))
                    }
                    Test::Contains(literal) => {
                        Truth::from_bool(claim.is_some_and(|claim| contains(claim, literal)))
                    }
                    Test::Exists => Truth::from_bool(claim.is_some()),
                    // Not claim tests: the parser never gives them.
                    Test::In(_) | Test::Matches(_) | Test::Order(..) => Truth::Unknown,
                }
            }
            Atom::Bool(value) => Truth::from_bool(*value),
        }
    }

    /// `ip in NAME | [CIDR, ...]`: unknown without an address.
    fn ip_in(&self, network: &Named<Vec<String>>) -> Truth {
        let Some(address) = self.ip else {
            return Truth::Unknown;
        };
        let cidrs: &[String] = match network {
            Named::Name(name) => match self.definitions.networks.get(name.as_str()) {
                Some(cidrs) => cidrs,
                None => return Truth::Unknown,
            },
            Named::Inline(cidrs) => cidrs,
        };
        Truth::any(
            cidrs
                .iter()
                .map(|cidr| Truth::from_option(network::contains_text(cidr, address))),
        )
    }

    /// `time in NAME | [WINDOW]`.
    fn time_in(&self, window_ref: &Named<Window>) -> Truth {
        let window = match window_ref {
            Named::Name(name) => match self.definitions.windows.get(name.as_str()) {
                Some(window) => *window,
                None => return Truth::Unknown,
            },
            Named::Inline(window) => window,
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
fn arg_atom(arguments: Option<&Value>, path: &str, test: &Test) -> Truth {
    let empty = Value::Object(serde_json::Map::new());
    let arguments = arguments.unwrap_or(&empty);
    if is_ambiguous(arguments, path) {
        return Truth::Unknown;
    }
    let found = lookup(arguments, path);
    match test {
        Test::Exists => Truth::from_bool(found.is_some()),
        Test::Equals(literal) => {
            Truth::from_bool(found.is_some_and(|found| json_equals(found, literal)))
        }
        Test::NotEquals(literal) => {
            Truth::from_bool(!found.is_some_and(|found| json_equals(found, literal)))
        }
        Test::In(literals) => Truth::from_bool(
            found.is_some_and(|found| literals.iter().any(|literal| json_equals(found, literal))),
        ),
        Test::Contains(literal) => {
            Truth::from_bool(found.is_some_and(|found| contains(found, literal)))
        }
        Test::Matches(pattern) => match found {
            None => Truth::False,
            Some(Value::String(text)) => Truth::from_bool(super::glob::matches(pattern, text)),
            Some(_) => Truth::Unknown,
        },
        Test::Order(order, number) => match found {
            None => Truth::False,
            Some(Value::Number(found)) => {
                match number::compare(found, &Literal::Number(number.clone())) {
                    Some(ordering) => Truth::from_bool(match order {
                        Order::Less => ordering.is_lt(),
                        Order::LessOrEqual => ordering.is_le(),
                        Order::Greater => ordering.is_gt(),
                        Order::GreaterOrEqual => ordering.is_ge(),
                    }),
                    None => Truth::Unknown,
                }
            }
            Some(_) => Truth::Unknown,
        },
    }
}

/// `contains`: an array holding an equal element, or a string equal to the literal.
fn contains(claim: &Value, literal: &Literal) -> bool {
    match claim {
        Value::Array(items) => items.iter().any(|item| json_equals(item, literal)),
        Value::String(_) => json_equals(claim, literal),
        _ => false,
    }
}

/// Equality by JSON type and value: numbers by exact value (`42.0 == 42`), `true` never
/// `1`, `null` equal to no literal.
pub fn json_equals(claim: &Value, literal: &Literal) -> bool {
    match (claim, literal) {
        (Value::String(text), Literal::String(expected)) => text == expected,
        (Value::Bool(value), Literal::Bool(expected)) => value == expected,
        (Value::Number(number), Literal::Number(_)) => {
            number::compare(number, literal) == Some(std::cmp::Ordering::Equal)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn int(value: i64) -> Literal {
        Literal::Number(value.to_string())
    }

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
        assert!(json_equals(&json!(42), &int(42)));
        assert!(json_equals(&json!(42.0), &int(42)));
        assert!(!json_equals(&json!(42.5), &int(42)));
        assert!(!json_equals(&json!("42"), &int(42)));
        assert!(!json_equals(&json!(true), &int(1)));
        assert!(!json_equals(&json!(1), &Literal::Bool(true)));
        assert!(json_equals(&json!(false), &Literal::Bool(false)));
        assert!(!json_equals(&json!(u64::MAX), &int(-1)));
        assert!(json_equals(&json!(-7), &int(-7)));
        assert!(!json_equals(&json!(null), &Literal::String("null".into())));
    }

    #[test]
    fn contains_looks_into_arrays_and_strings() {
        let literal = Literal::String("a".into());
        assert!(contains(&json!(["b", "a"]), &literal));
        assert!(contains(&json!("a"), &literal));
        assert!(!contains(&json!("abc"), &literal));
        assert!(!contains(&json!({"a": 1}), &literal));
        assert!(contains(&json!([1, 42.0]), &int(42)));
        assert!(!contains(&json!(42), &int(42)));
    }
}
