//! How a JSON value compares with a policy literal: the one implementation behind
//! `claim` atoms and `arg` atoms (docs/language.md, "Conditions" and "Arguments").
//!
//! Values compare by JSON type and value: the string `"42"` is not the integer `42`,
//! `true` is never `1`, and numbers compare by value (`42.0 == 42`; integers that fit
//! 64 bits exactly, other numbers as binary floating point, which tells apart any two
//! numbers of at most 15 significant digits).

use std::cmp::Ordering;

use serde_json::{Number, Value};

use crate::ast::LiteralValue;

/// Whether `value` equals `literal` (same JSON type, same value).
#[inline]
pub(crate) fn equals(value: &Value, literal: &LiteralValue) -> bool {
    match (value, literal) {
        (Value::String(value), LiteralValue::String(literal)) => value == literal,
        (Value::Bool(value), LiteralValue::Bool(literal)) => value == literal,
        (Value::Number(number), LiteralValue::Integer(_) | LiteralValue::Decimal(_)) => {
            order(number, literal) == Some(Ordering::Equal)
        }
        _ => false,
    }
}

/// `contains`: an array holding an element equal to `literal`, or a string equal to it.
pub(crate) fn contains(value: Option<&Value>, literal: &LiteralValue) -> bool {
    match value {
        Some(Value::Array(items)) => items.iter().any(|item| equals(item, literal)),
        Some(value @ Value::String(_)) => equals(value, literal),
        _ => false,
    }
}

/// How `number` orders against a numeric literal; `None` when `literal` is not a number.
#[inline]
pub(crate) fn order(number: &Number, literal: &LiteralValue) -> Option<Ordering> {
    match literal {
        LiteralValue::Integer(integer) => Some(match (number.as_i64(), number.is_u64()) {
            (Some(value), _) => value.cmp(integer),
            // Over i64::MAX: greater than every i64.
            (None, true) => Ordering::Greater,
            (None, false) => compare_floats(number.as_f64()?, *integer as f64, *integer)?,
        }),
        LiteralValue::Decimal(decimal) => number.as_f64()?.partial_cmp(&decimal.value()),
        LiteralValue::String(_) | LiteralValue::Bool(_) => None,
    }
}

/// A float against an integer: exactly when the float is integral and in range, so that
/// `2^53 + 1` is not taken for `2^53`.
fn compare_floats(float: f64, integer_as_float: f64, integer: i64) -> Option<Ordering> {
    // -2^63 ..= 2^63 (exclusive) are the floats that convert without saturating.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if float.fract() == 0.0 && (-LIMIT..LIMIT).contains(&float) {
        return Some((float as i64).cmp(&integer));
    }
    float.partial_cmp(&integer_as_float)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Decimal;
    use serde_json::json;

    fn decimal(text: &str) -> LiteralValue {
        LiteralValue::Decimal(Decimal::parse(text).unwrap())
    }

    #[test]
    fn numbers_compare_by_value_across_forms() {
        assert!(equals(&json!(5.0), &LiteralValue::Integer(5)));
        assert!(equals(&json!(5), &decimal("5.0")));
        assert!(equals(&json!(31.5), &decimal("31.50")));
        assert!(!equals(&json!(31.5), &LiteralValue::Integer(31)));
        assert!(!equals(&json!("5"), &LiteralValue::Integer(5)));
        assert!(!equals(&json!(true), &LiteralValue::Integer(1)));
        assert!(!equals(
            &json!(9007199254740993_i64),
            &LiteralValue::Integer(9007199254740992)
        ));
        assert!(!equals(&json!(u64::MAX), &LiteralValue::Integer(-1)));
    }

    #[test]
    fn order_is_exact_at_the_bounds() {
        let number = |value: Value| match value {
            Value::Number(number) => number,
            _ => unreachable!(),
        };
        let int = LiteralValue::Integer;
        assert_eq!(order(&number(json!(31)), &int(31)), Some(Ordering::Equal));
        assert_eq!(
            order(&number(json!(31.5)), &int(31)),
            Some(Ordering::Greater)
        );
        assert_eq!(order(&number(json!(-0.5)), &int(0)), Some(Ordering::Less));
        assert_eq!(
            order(&number(json!(u64::MAX)), &int(i64::MAX)),
            Some(Ordering::Greater)
        );
        assert_eq!(
            order(&number(json!(2.25)), &decimal("2.5")),
            Some(Ordering::Less)
        );
        assert_eq!(order(&number(json!(1)), &LiteralValue::Bool(true)), None);
    }

    #[test]
    fn contains_reads_arrays_and_strings() {
        let a = LiteralValue::String("a".into());
        assert!(contains(Some(&json!(["b", "a"])), &a));
        assert!(contains(Some(&json!("a")), &a));
        assert!(!contains(Some(&json!({"a": 1})), &a));
        assert!(!contains(None, &a));
    }
}
