//! Exact comparison of numbers written in decimal (LANGUAGE.md, "Arguments": "Numbers
//! compare by exact value").
//!
//! A number is read from its text, as a sign, its significant digits and a power of ten,
//! and two numbers are ordered digit by digit: no binary floating point is involved, so
//! `4.999 < 5`, `5.0 == 5` and `31.5 > 31` hold by construction. JSON numbers are read
//! from the text `serde_json` writes for them (the integer itself, or the shortest text
//! that reads back as the same double), literals from their text in the policy.

use std::cmp::Ordering;

use super::syntax::Literal;
use serde_json::Number;

/// A number's exact value: `(-1)^negative * digits * 10^exponent`; `digits` has no
/// leading or trailing zeros, and zero has no digits and is never negative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exact {
    negative: bool,
    digits: Vec<u8>,
    exponent: i64,
}

impl Exact {
    /// Reads `-?DIGITS(.DIGITS)?([eE][+-]?DIGITS)?`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Exact> {
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, power) = match unsigned.find(['e', 'E']) {
            Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
            None => (unsigned, None),
        };
        let (whole, fraction) = match mantissa.split_once('.') {
            Some((whole, fraction)) => (whole, fraction),
            None => (mantissa, ""),
        };
        let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return None;
        }
        if mantissa.contains('.') && fraction.is_empty() {
            return None;
        }
        let mut exponent: i64 = match power {
            None => 0,
            Some(power) => {
                let digits = power.strip_prefix(['+', '-']).unwrap_or(power);
                if digits.is_empty() || !all_digits(digits) || digits.len() > 12 {
                    return None;
                }
                power.parse().ok()?
            }
        };
        exponent -= i64::try_from(fraction.len()).ok()?;
        let mut digits: Vec<u8> = whole
            .bytes()
            .chain(fraction.bytes())
            .map(|byte| byte - b'0')
            .skip_while(|digit| *digit == 0)
            .collect();
        while digits.last() == Some(&0) {
            digits.pop();
            exponent += 1;
        }
        if digits.is_empty() {
            return Some(Exact {
                negative: false,
                digits,
                exponent: 0,
            });
        }
        Some(Exact {
            negative,
            digits,
            exponent,
        })
    }

    /// A JSON number's value.
    pub fn of_number(number: &Number) -> Option<Exact> {
        Exact::parse(&number.to_string())
    }

    /// A numeric literal's value; `None` for strings and booleans.
    pub fn of_literal(literal: &Literal) -> Option<Exact> {
        match literal {
            Literal::Number(text) => Exact::parse(text),
            Literal::String(_) | Literal::Bool(_) => None,
        }
    }

    /// -1, 0 or 1.
    fn sign(&self) -> i8 {
        match (self.digits.is_empty(), self.negative) {
            (true, _) => 0,
            (false, true) => -1,
            (false, false) => 1,
        }
    }

    /// The power of ten just above the leading digit (`123` and `0.123e3`: 3).
    fn magnitude(&self) -> i64 {
        self.exponent + self.digits.len() as i64
    }

    /// How the absolute values order.
    fn compare_absolute(&self, other: &Exact) -> Ordering {
        self.magnitude()
            .cmp(&other.magnitude())
            .then_with(|| self.digits.cmp(&other.digits))
    }
}

impl Ord for Exact {
    fn cmp(&self, other: &Exact) -> Ordering {
        match self.sign().cmp(&other.sign()) {
            Ordering::Equal => match self.sign() {
                0 => Ordering::Equal,
                1 => self.compare_absolute(other),
                _ => other.compare_absolute(self),
            },
            unequal => unequal,
        }
    }
}

impl PartialOrd for Exact {
    fn partial_cmp(&self, other: &Exact) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// How a JSON number orders against a numeric literal; `None` when the literal is not a
/// number.
pub fn compare(number: &Number, literal: &Literal) -> Option<Ordering> {
    Some(Exact::of_number(number)?.cmp(&Exact::of_literal(literal)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn exact(text: &str) -> Exact {
        Exact::parse(text).unwrap_or_else(|| panic!("{text} is a number"))
    }

    #[test]
    fn forms_of_one_value_are_equal() {
        for (left, right) in [
            ("5", "5.0"),
            ("5", "5.000"),
            ("0.5", "5e-1"),
            ("500", "5e2"),
            ("500", "5E+2"),
            ("-0.0", "0"),
            ("0.000", "-0"),
            ("31.50", "31.5"),
            ("007", "7"),
        ] {
            assert_eq!(exact(left), exact(right), "{left} {right}");
            assert_eq!(exact(left).cmp(&exact(right)), Ordering::Equal);
        }
    }

    #[test]
    fn values_order_digit_by_digit() {
        let ascending = [
            "-1e300",
            "-31.5",
            "-31",
            "-5",
            "-4.999",
            "-0.5",
            "-1e-7",
            "0",
            "1e-7",
            "0.5",
            "4.999",
            "4.9999999999999",
            "5",
            "5.0000000000001",
            "5.5",
            "31",
            "31.5",
            "100",
            "18446744073709551615",
            "18446744073709551616",
            "1e300",
        ];
        for (index, left) in ascending.iter().enumerate() {
            for (other, right) in ascending.iter().enumerate() {
                assert_eq!(
                    exact(left).cmp(&exact(right)),
                    index.cmp(&other),
                    "{left} against {right}"
                );
            }
        }
    }

    #[test]
    fn only_numbers_parse() {
        for text in [
            "", "-", ".5", "5.", "1e", "1e+", "--1", "+1", "0x10", "1.2.3", "NaN", "inf",
        ] {
            assert_eq!(Exact::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn json_numbers_against_literals() {
        let number = |value: serde_json::Value| match value {
            serde_json::Value::Number(number) => number,
            other => panic!("{other} is not a number"),
        };
        let decimal = |text: &str| Literal::Number(text.to_owned());
        let int = |integer: i64| Literal::Number(integer.to_string());
        assert_eq!(compare(&number(json!(5.0)), &int(5)), Some(Ordering::Equal));
        assert_eq!(
            compare(&number(json!(5)), &decimal("5.0")),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare(&number(json!(4.999)), &int(5)),
            Some(Ordering::Less)
        );
        assert_eq!(
            compare(&number(json!(31.5)), &int(31)),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare(&number(json!(-0.0)), &int(0)),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare(&number(json!(u64::MAX)), &int(i64::MAX)),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare(&number(json!(i64::MIN)), &int(i64::MIN)),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare(&number(json!(1e300)), &decimal("99999.5")),
            Some(Ordering::Greater)
        );
        assert_eq!(compare(&number(json!(1)), &Literal::Bool(true)), None);
        assert_eq!(
            compare(&number(json!(1)), &Literal::String("1".into())),
            None
        );
    }
}
