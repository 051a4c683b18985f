//! String literals: their value once escapes are applied.
//!
//! The escapes are `\"`, `\\`, `\n`, `\t` and `\u{HEX}`. `\*` and `\?` are not string
//! escapes: they are kept as written (two characters) so that a pattern sees them.
//! Any other escape, and a `\u{...}` that is not a Unicode scalar value, is an error
//! located at the escape.

use std::ops::Range;

/// A bad escape in a string literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct EscapeError {
    /// The escape's byte range in the literal (quotes included).
    pub range: Range<usize>,
    /// What is wrong, lowercase.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

/// The most hex digits a `\u{...}` escape may have.
const MAX_HEX_DIGITS: usize = 6;

/// The value of the literal `raw` (quotes included) and the bad escapes in it.
pub(super) fn decode(raw: &str) -> (String, Vec<EscapeError>) {
    let (base, inner) = match raw
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        Some(inner) => (1, inner),
        None => (0, raw),
    };
    let mut value = String::with_capacity(inner.len());
    let mut errors = Vec::new();
    let mut position = 0;
    while let Some(rest) = inner.get(position..) {
        let Some(backslash) = rest.find('\\') else {
            value.push_str(rest);
            break;
        };
        value.push_str(rest.get(..backslash).unwrap_or(""));
        let start = position + backslash;
        match escape(inner, start) {
            Ok((decoded, end)) => {
                value.push_str(&decoded);
                position = end;
            }
            Err(mut error) => {
                position = error.range.end.max(start + 1);
                error.range = base + error.range.start..base + error.range.end;
                errors.push(error);
            }
        }
    }
    (value, errors)
}

/// The escape at `start` (a backslash) in `inner`: its value and where it ends.
fn escape(inner: &str, start: usize) -> Result<(String, usize), EscapeError> {
    let after = start + 1;
    let Some(character) = inner.get(after..).and_then(|rest| rest.chars().next()) else {
        return Err(invalid_escape(inner, start..after));
    };
    let end = after + character.len_utf8();
    let decoded = match character {
        '"' => "\"".to_string(),
        '\\' => "\\".to_string(),
        'n' => "\n".to_string(),
        't' => "\t".to_string(),
        '*' | '?' => format!("\\{character}"),
        'u' => return unicode_escape(inner, start),
        _ => return Err(invalid_escape(inner, start..end)),
    };
    Ok((decoded, end))
}

/// The `\u{HEX}` escape at `start`: its character and where it ends.
fn unicode_escape(inner: &str, start: usize) -> Result<(String, usize), EscapeError> {
    let open = start + 2;
    let rest = inner.get(open..).unwrap_or("");
    if !rest.starts_with('{') {
        return Err(bad_unicode_escape(inner, start..open));
    }
    let digits = rest
        .get(1..)
        .unwrap_or("")
        .find(|character: char| !character.is_ascii_hexdigit())
        .unwrap_or(rest.len().saturating_sub(1));
    let digits_end = open + 1 + digits;
    let closed = inner
        .get(digits_end..)
        .is_some_and(|tail| tail.starts_with('}'));
    if !closed || digits == 0 || digits > MAX_HEX_DIGITS {
        let end = if closed { digits_end + 1 } else { digits_end };
        return Err(bad_unicode_escape(inner, start..end));
    }
    let hex = inner.get(open + 1..digits_end).unwrap_or("");
    let end = digits_end + 1;
    u32::from_str_radix(hex, 16)
        .ok()
        .and_then(char::from_u32)
        .map(|character| (character.to_string(), end))
        .ok_or_else(|| invalid_code_point(inner, start..end))
}

fn invalid_escape(inner: &str, range: Range<usize>) -> EscapeError {
    let written = inner.get(range.clone()).unwrap_or("\\");
    EscapeError {
        message: format!("invalid escape `{written}` in a string"),
        help: r#"the escapes are `\"`, `\\`, `\n`, `\t` and `\u{HEX}`; write a backslash as `\\`"#
            .to_string(),
        range,
    }
}

fn bad_unicode_escape(inner: &str, range: Range<usize>) -> EscapeError {
    let written = inner.get(range.clone()).unwrap_or("\\u");
    EscapeError {
        message: format!("invalid unicode escape `{written}`"),
        help: r"write a code point as `\u{HEX}` with 1 to 6 hex digits, like `\u{e9}`".to_string(),
        range,
    }
}

fn invalid_code_point(inner: &str, range: Range<usize>) -> EscapeError {
    let written = inner.get(range.clone()).unwrap_or("\\u");
    EscapeError {
        message: format!("`{written}` is not a valid unicode code point"),
        help: "code points go up to `10FFFF` and exclude the surrogates `D800` to `DFFF`"
            .to_string(),
        range,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(raw: &str) -> String {
        let (value, errors) = decode(raw);
        assert_eq!(errors, Vec::new(), "{raw}");
        value
    }

    fn error(raw: &str) -> (String, String) {
        let (_, errors) = decode(raw);
        let first = errors.first().cloned();
        let first = first.map_or_else(Default::default, |error| {
            (
                raw.get(error.range).unwrap_or("").to_string(),
                error.message,
            )
        });
        (first.0, first.1)
    }

    #[test]
    fn applies_the_escapes() {
        assert_eq!(value(r#""plain""#), "plain");
        assert_eq!(value(r#""a\"b\\c\nd\te""#), "a\"b\\c\nd\te");
        assert_eq!(value(r#""\u{41}\u{e9}\u{1F600}""#), "A\u{e9}\u{1F600}");
        assert_eq!(value(r#""""#), "");
        assert_eq!(value(r#""\u{10FFFF}""#), "\u{10FFFF}");
    }

    #[test]
    fn keeps_glob_escapes_as_written() {
        assert_eq!(value(r#""lit\*star""#), r"lit\*star");
        assert_eq!(value(r#""q\?""#), r"q\?");
        assert_eq!(value(r#""a\\*""#), r"a\*");
    }

    #[test]
    fn reports_bad_escapes_at_the_escape() {
        assert_eq!(
            error(r#""a\qb""#),
            (
                r"\q".to_string(),
                r"invalid escape `\q` in a string".to_string()
            )
        );
        assert_eq!(error(r#""\u{D800}""#).0, r"\u{D800}");
        assert_eq!(
            error(r#""\u{D800}""#).1,
            r"`\u{D800}` is not a valid unicode code point"
        );
        assert_eq!(error(r#""\u{110000}""#).0, r"\u{110000}");
        assert_eq!(error(r#""\u{1234567}""#).0, r"\u{1234567}");
        assert_eq!(error(r#""\u{}""#).0, r"\u{}");
        assert_eq!(error(r#""\u{zz}""#).0, r"\u{");
        assert_eq!(error(r#""\u41""#).0, r"\u");
        assert_eq!(error(r#""\u{41""#).0, r"\u{41");
        assert_eq!(error(r#""x\é""#).0, "\\\u{e9}");
    }

    #[test]
    fn reports_every_bad_escape_and_keeps_the_rest() {
        let (value, errors) = decode(r#""a\qb\zc\n""#);
        assert_eq!(value, "abc\n");
        assert_eq!(errors.len(), 2);
        assert_eq!(
            errors
                .iter()
                .map(|error| error.range.start)
                .collect::<Vec<_>>(),
            [2, 5]
        );
    }
}
