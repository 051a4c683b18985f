//! Reading a tests file token by token: words, strings, JSON values, punctuation.
//!
//! Statements end at the end of a line; `#` starts a comment that runs to the end of the
//! line. A JSON value (a principal's claims) may span lines; the statement then ends at
//! the end of the line the value ends on.

use serde_json::Value;

use super::error::{ErrorCode, TestError};
use crate::source::{SourceId, Span};

/// A position in one tests file.
#[derive(Debug, Clone)]
pub(super) struct Cursor<'t> {
    text: &'t str,
    position: usize,
    source: SourceId,
}

/// Whether `character` may be part of a bare word.
fn is_word_character(character: char) -> bool {
    !character.is_whitespace() && !matches!(character, '"' | ',' | '#' | '=' | '{' | '}')
}

impl<'t> Cursor<'t> {
    /// A cursor at the start of `text`, the text of `source`.
    pub fn new(text: &'t str, source: SourceId) -> Cursor<'t> {
        Cursor {
            text,
            position: 0,
            source,
        }
    }

    /// The whole text.
    pub fn text(&self) -> &'t str {
        self.text
    }

    /// The byte offset of the cursor.
    pub fn position(&self) -> usize {
        self.position
    }

    /// A span in this file.
    pub fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.source, start, end)
    }

    fn rest(&self) -> &'t str {
        self.text.get(self.position..).unwrap_or("")
    }

    /// Whether the whole file has been read.
    pub fn is_at_end(&self) -> bool {
        self.position >= self.text.len()
    }

    /// The next character, without moving.
    pub fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Skips spaces, tabs and a comment, stopping at a line break.
    pub fn skip_blanks(&mut self) {
        let rest = self.rest();
        let trimmed = rest.trim_start_matches([' ', '\t', '\r']);
        self.position += rest.len() - trimmed.len();
        if trimmed.starts_with('#') {
            self.position += trimmed.find('\n').unwrap_or(trimmed.len());
        }
    }

    /// Whether only blanks and a comment are left on this line.
    pub fn at_line_end(&mut self) -> bool {
        self.skip_blanks();
        matches!(self.peek(), None | Some('\n'))
    }

    /// Moves past the next line break (or to the end of the file).
    pub fn skip_line(&mut self) {
        let rest = self.rest();
        self.position += rest.find('\n').map_or(rest.len(), |at| at + 1);
    }

    /// The first character of the current line that is not a space or tab.
    pub fn line_start_character(&self) -> Option<char> {
        self.rest()
            .trim_start_matches([' ', '\t', '\r'])
            .chars()
            .next()
    }

    /// A bare word (a keyword, name, instant or address) and its span.
    pub fn word(&mut self) -> Option<(&'t str, Span)> {
        self.skip_blanks();
        let rest = self.rest();
        let length = rest
            .find(|c: char| !is_word_character(c))
            .unwrap_or(rest.len());
        if length == 0 {
            return None;
        }
        let start = self.position;
        self.position += length;
        Some((
            rest.get(..length).unwrap_or(""),
            self.span(start, start + length),
        ))
    }

    /// Consumes `character` if it comes next.
    pub fn eat(&mut self, character: char) -> Option<Span> {
        self.skip_blanks();
        if self.peek() != Some(character) {
            return None;
        }
        let start = self.position;
        self.position += character.len_utf8();
        Some(self.span(start, self.position))
    }

    /// What comes next, in words, and its span: for "found ..." in messages.
    pub fn describe_next(&mut self) -> (String, Span) {
        self.skip_blanks();
        let start = self.position;
        match self.peek() {
            None => ("end of file".to_string(), self.span(start, start)),
            Some('\n') => ("end of line".to_string(), self.span(start, start)),
            Some('"') => {
                let mut probe = self.clone();
                match probe.string() {
                    Ok((value, span)) => (format!("string `\"{value}\"`"), span),
                    Err(error) => ("a string".to_string(), error.span),
                }
            }
            Some(character) if !is_word_character(character) => (
                format!("`{character}`"),
                self.span(start, start + character.len_utf8()),
            ),
            Some(_) => {
                let mut probe = self.clone();
                match probe.word() {
                    Some((word, span)) => (format!("`{word}`"), span),
                    None => ("end of line".to_string(), self.span(start, start)),
                }
            }
        }
    }

    /// A double-quoted string with the escapes `\"`, `\\`, `\n`, `\t` and `\u{HEX}`.
    pub fn string(&mut self) -> Result<(String, Span), TestError> {
        self.skip_blanks();
        let start = self.position;
        if self.peek() != Some('"') {
            let (found, span) = self.describe_next();
            return Err(TestError::new(
                ErrorCode::T001,
                span,
                format!("expected a string in double quotes, found {found}"),
            ));
        }
        let mut value = String::new();
        let mut at = start + 1;
        while let Some(character) = self.text.get(at..).and_then(|rest| rest.chars().next()) {
            match character {
                '"' => {
                    self.position = at + 1;
                    return Ok((value, self.span(start, self.position)));
                }
                '\n' | '\r' => break,
                '\\' => {
                    let (decoded, length) = self.escape(at)?;
                    value.push(decoded);
                    at += length;
                }
                other => {
                    value.push(other);
                    at += other.len_utf8();
                }
            }
        }
        Err(
            TestError::new(ErrorCode::T001, self.span(start, at), "unterminated string")
                .with_help("close the string with `\"` on the same line"),
        )
    }

    /// The character the escape at `at` (its backslash) stands for, and its length.
    fn escape(&self, at: usize) -> Result<(char, usize), TestError> {
        let after = self.text.get(at + 1..).unwrap_or("");
        let invalid = |length: usize| {
            TestError::new(
                ErrorCode::T001,
                self.span(at, at + length),
                "invalid escape in a string",
            )
            .with_help(r#"the escapes are `\"`, `\\`, `\n`, `\t` and `\u{HEX}`"#)
        };
        match after.chars().next() {
            Some('"') => Ok(('"', 2)),
            Some('\\') => Ok(('\\', 2)),
            Some('n') => Ok(('\n', 2)),
            Some('t') => Ok(('\t', 2)),
            Some('u') => {
                let braced = after.get(1..).unwrap_or("");
                let close = braced
                    .strip_prefix('{')
                    .and_then(|inner| inner.find(['}', '"', '\n']))
                    .filter(|close| braced.get(close + 1..close + 2) == Some("}"));
                let Some(close) = close else {
                    return Err(invalid(2));
                };
                let hex = braced.get(1..close + 1).unwrap_or("");
                let length = 1 + 1 + close + 2;
                let decoded = u32::from_str_radix(hex, 16)
                    .ok()
                    .filter(|_| (1..=6).contains(&hex.len()) && !hex.starts_with('+'))
                    .and_then(char::from_u32);
                decoded.map(|c| (c, length)).ok_or_else(|| invalid(length))
            }
            Some(other) if other != '\n' && other != '\r' => Err(invalid(1 + other.len_utf8())),
            _ => Err(invalid(1)),
        }
    }

    /// A JSON value starting at the cursor (it may span lines) and its span.
    pub fn json(&mut self) -> Result<(Value, Span), TestError> {
        self.skip_blanks();
        let start = self.position;
        let rest = self.rest();
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        match stream.next() {
            Some(Ok(value)) => {
                self.position = start + stream.byte_offset();
                Ok((value, self.span(start, self.position)))
            }
            Some(Err(error)) => {
                let at = start + error_offset(rest, error.line(), error.column());
                let next = self.text.get(at..).and_then(|s| s.chars().next());
                let end = at + next.filter(|c| *c != '\n').map_or(0, char::len_utf8);
                let text = error.to_string();
                let message = text.split(" at line ").next().unwrap_or(&text);
                Err(TestError::new(
                    ErrorCode::T004,
                    self.span(at, end),
                    format!("invalid JSON: {message}"),
                )
                .with_help(
                    "claims are one JSON object, such as `{\"roles\": [\"developer\"]}`; \
                     it may span lines, so check that every `{` and `[` is closed",
                ))
            }
            None => Err(TestError::new(
                ErrorCode::T001,
                self.span(start, start),
                "expected a JSON object",
            )),
        }
    }
}

/// The byte offset in `text` of serde_json's 1-based line and column.
fn error_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let mut offset = (line_start + column.saturating_sub(1)).min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}
