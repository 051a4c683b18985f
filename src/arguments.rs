//! `arg` atoms on a call's arguments (docs/language.md, "Arguments", v1.1): the one
//! implementation the engine, `explain` and the matrix share.
//!
//! Paths follow the claim path rules ([`ClaimPath`]); values compare as claims do
//! ([`crate::literal`]). A missing argument makes `==`, `in`, `contains`, `exists`,
//! `matches` and the order comparisons false and `!=` true; `matches` on a present
//! non-string and an order comparison on a present non-number are unknown, as is every
//! test on a path the arguments make ambiguous.

use serde_json::{Map, Value};

use crate::ast::{CompareOp, Effect};
use crate::check::{ArgOp, ArgTest, Cond};
use crate::claim_path::Found;
use crate::literal;

/// The arguments `arg` atoms read.
#[derive(Clone, Copy)]
pub(crate) enum Arguments<'a> {
    /// A call's own arguments (`None`: `{}`).
    Given(Option<&'a Map<String, Value>>),
    /// No arguments, for listing that follows use: every `arg` atom takes the value that
    /// favours the caller in its rule.
    Favourable,
}

/// What an `arg` atom found at its path.
#[inline]
pub(crate) fn find<'v>(arguments: Option<&'v Map<String, Value>>, test: &ArgTest) -> Found<'v> {
    match arguments {
        Some(arguments) => test.path.find(arguments),
        None => Found::Missing,
    }
}

/// The value of `test` on `arguments` (`None`: the same as `{}`): `Some(holds)`, or
/// `None` when unknown.
#[inline]
pub(crate) fn holds(arguments: Option<&Map<String, Value>>, test: &ArgTest) -> Option<bool> {
    holds_on(find(arguments, test), &test.test)
}

/// The value of `test` on what its path found.
#[inline]
pub(crate) fn holds_on(found: Found<'_>, test: &ArgOp) -> Option<bool> {
    let value = match found {
        Found::Ambiguous => return None,
        Found::Missing => None,
        Found::Value(value) => Some(value),
    };
    Some(match test {
        ArgOp::Exists => value.is_some(),
        ArgOp::Compare { op, value: wanted } => {
            let equal = value.is_some_and(|value| literal::equals(value, wanted));
            match op {
                CompareOp::Eq => equal,
                CompareOp::Ne => !equal,
            }
        }
        ArgOp::In(wanted) => {
            value.is_some_and(|value| wanted.iter().any(|wanted| literal::equals(value, wanted)))
        }
        ArgOp::Contains(wanted) => literal::contains(value, wanted),
        ArgOp::Matches(glob) => match value {
            None => false,
            Some(Value::String(text)) => glob.is_match(text),
            Some(_) => return None,
        },
        ArgOp::Order { op, value: bound } => match value {
            None => false,
            Some(Value::Number(number)) => op.holds(literal::order(number, bound)?),
            Some(_) => return None,
        },
    })
}

/// The value an `arg` atom directly under a rule's condition takes when a `list`
/// request, which has no arguments, follows use ("Listing with arguments"): true in an
/// allow rule, false in a deny rule; each `not` above the atom flips it.
pub(crate) fn favourable_at_root(effect: Effect) -> bool {
    effect == Effect::Allow
}

/// Calls `visit` with every `arg` atom of a rule's condition and the value that favours
/// the caller there.
pub(crate) fn each_favourable(cond: &Cond, effect: Effect, mut visit: impl FnMut(&Cond, bool)) {
    let at_root = favourable_at_root(effect);
    cond.each_arg(|atom, _, negated| visit(atom, at_root != negated));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{LiteralValue, OrderOp};
    use crate::claim_path::ClaimPath;
    use crate::glob::Glob;
    use serde_json::json;

    fn test(path: &str, test: ArgOp) -> ArgTest {
        ArgTest {
            path: ClaimPath::from(path),
            test,
        }
    }

    fn on(arguments: Value, test: &ArgTest) -> Option<bool> {
        holds(arguments.as_object(), test)
    }

    #[test]
    fn matches_is_unknown_on_a_non_string_and_false_when_missing() {
        let docs = test("file", ArgOp::Matches(Glob::parse("docs/*").unwrap()));
        assert_eq!(on(json!({"file": "docs/a"}), &docs), Some(true));
        assert_eq!(on(json!({"file": "src/a"}), &docs), Some(false));
        assert_eq!(on(json!({"file": null}), &docs), None);
        assert_eq!(on(json!({"file": 3}), &docs), None);
        assert_eq!(on(json!({}), &docs), Some(false));
        assert_eq!(holds(None, &docs), Some(false));
    }

    #[test]
    fn order_is_unknown_on_a_non_number() {
        let days = test(
            "days",
            ArgOp::Order {
                op: OrderOp::LessOrEqual,
                value: LiteralValue::Integer(31),
            },
        );
        assert_eq!(on(json!({"days": 31}), &days), Some(true));
        assert_eq!(on(json!({"days": 31.5}), &days), Some(false));
        assert_eq!(on(json!({"days": "7"}), &days), None);
        assert_eq!(on(json!({}), &days), Some(false));
    }

    #[test]
    fn missing_null_and_ambiguous() {
        let ne = test(
            "a",
            ArgOp::Compare {
                op: CompareOp::Ne,
                value: LiteralValue::Bool(true),
            },
        );
        assert_eq!(on(json!({}), &ne), Some(true));
        assert_eq!(on(json!({"a": null}), &ne), Some(true));
        let exists = test("a", ArgOp::Exists);
        assert_eq!(on(json!({"a": null}), &exists), Some(true));
        let nested = test("q.limit", ArgOp::Exists);
        assert_eq!(on(json!({"q": {"limit": 1}}), &nested), Some(true));
        assert_eq!(on(json!({"q.limit": 1, "q": {"limit": 1}}), &nested), None);
        let listed = test(
            "f",
            ArgOp::In(vec![
                LiteralValue::String("pdf".into()),
                LiteralValue::String("csv".into()),
            ]),
        );
        assert_eq!(on(json!({"f": "csv"}), &listed), Some(true));
        assert_eq!(on(json!({"f": "PDF"}), &listed), Some(false));
        assert_eq!(on(json!({"f": ["csv"]}), &listed), Some(false));
    }
}
