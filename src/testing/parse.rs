//! Parsing a tests file into a [`TestFile`], reporting every error found.
//!
//! Each line holds one statement: `policy`, `at`, `from`, `principal`, `as` or `expect`.
//! After an error the parser skips to the next line that is blank or starts with one of
//! those words, so one run reports every broken line without cascades.

use std::collections::HashMap;
use std::net::IpAddr;

use jiff::Timestamp;

use super::cursor::Cursor;
use super::error::{ErrorCode, TestError};
use super::{TestFile, TestPrincipal};
use crate::diagnostic::did_you_mean;
use crate::source::{SourceId, Sources, Span};

mod case;

/// The words that start a statement.
const STATEMENTS: [&str; 6] = ["policy", "at", "from", "principal", "as", "expect"];

/// A parsed tests file: the statements that parsed, and every error found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// The file; cases with errors are left out. Run it only when `errors` is empty.
    pub file: TestFile,
    /// Every error, in file order.
    pub errors: Vec<TestError>,
}

/// Parses the tests file `source` of `sources`.
pub fn parse(sources: &Sources, source: SourceId) -> Parsed {
    let mut parser = Parser {
        cursor: Cursor::new(sources.get(source).text(), source),
        parsed: Parsed::default(),
        defaults: Defaults::default(),
        names: HashMap::new(),
    };
    parser.statements();
    parser.parsed
}

/// What the lines above a case set: its time, address and principal unless it says.
#[derive(Debug, Default)]
struct Defaults {
    time: Option<Timestamp>,
    ip: Option<IpAddr>,
    principal: Option<usize>,
}

struct Parser<'t> {
    cursor: Cursor<'t>,
    parsed: Parsed,
    defaults: Defaults,
    /// Principal names to their index in the file's principals.
    names: HashMap<String, usize>,
}

impl Parser<'_> {
    fn statements(&mut self) {
        loop {
            if self.cursor.at_line_end() {
                if self.cursor.is_at_end() {
                    break;
                }
                self.cursor.skip_line();
                continue;
            }
            let outcome = self.statement().and_then(|()| self.line_end("statement"));
            match outcome {
                Ok(()) => self.cursor.skip_line(),
                Err(error) => {
                    self.parsed.errors.push(error);
                    self.recover();
                }
            }
        }
    }

    /// An error unless only blanks and a comment are left on the line.
    fn line_end(&mut self, what: &str) -> Result<(), TestError> {
        if self.cursor.at_line_end() {
            return Ok(());
        }
        let (found, span) = self.cursor.describe_next();
        Err(TestError::new(
            ErrorCode::T001,
            span,
            format!("unexpected {found} after the {what}"),
        )
        .with_help("write one statement per line; `#` starts a comment"))
    }

    /// Skips the rest of the line, and the lines after it that cannot start a statement
    /// (the rest of a broken multi-line JSON value: lines starting with `"`, `}`, ...).
    fn recover(&mut self) {
        self.cursor.skip_line();
        while !self.cursor.is_at_end() {
            let first = self.cursor.line_start_character();
            if first.is_none_or(|c| c.is_alphabetic() || c == '_' || c == '#' || c == '\n') {
                break;
            }
            self.cursor.skip_line();
        }
    }

    fn statement(&mut self) -> Result<(), TestError> {
        let Some((word, span)) = self.cursor.word() else {
            return Err(self.expected("a statement"));
        };
        match word {
            "policy" => self.policy(),
            "at" => {
                self.defaults.time = Some(self.instant()?);
                Ok(())
            }
            "from" => {
                self.defaults.ip = self.address()?;
                Ok(())
            }
            "principal" => self.principal(),
            "as" => {
                self.defaults.principal = Some(self.principal_reference()?);
                Ok(())
            }
            "expect" => {
                let case = self.case(span)?;
                self.parsed.file.cases.push(case);
                Ok(())
            }
            other => Err(TestError::new(
                ErrorCode::T001,
                span,
                format!("unknown statement `{other}`"),
            )
            .with_help(did_you_mean(other, STATEMENTS).unwrap_or_else(|| {
                "a line starts with `policy`, `at`, `from`, `principal`, `as` or `expect`"
                    .to_string()
            }))),
        }
    }

    /// T001 "expected WHAT, found ..." at what comes next.
    fn expected(&mut self, what: &str) -> TestError {
        let (found, span) = self.cursor.describe_next();
        TestError::new(
            ErrorCode::T001,
            span,
            format!("expected {what}, found {found}"),
        )
    }

    /// `policy "PATH"`.
    fn policy(&mut self) -> Result<(), TestError> {
        let (path, span) = self.cursor.string()?;
        if let Some((_, first)) = &self.parsed.file.policy {
            let line = self.line_of(*first);
            return Err(
                TestError::new(ErrorCode::T003, span, "a tests file names one policy")
                    .with_label(format!("the policy is already named on line {line}")),
            );
        }
        self.parsed.file.policy = Some((path, span));
        Ok(())
    }

    /// `principal NAME = {JSON}`.
    fn principal(&mut self) -> Result<(), TestError> {
        let Some((name, span)) = self.cursor.word() else {
            return Err(self.expected("a principal name"));
        };
        if !is_name(name) {
            return Err(TestError::new(
                ErrorCode::T001,
                span,
                format!("`{name}` is not a principal name"),
            )
            .with_help("a name is a letter or `_`, then letters, digits, `_` or `-`"));
        }
        if let Some(first) = self.names.get(name) {
            let line = self.principal_line(*first);
            return Err(TestError::new(
                ErrorCode::T003,
                span,
                format!("principal `{name}` is defined twice"),
            )
            .with_label(format!("first defined on line {line}")));
        }
        if self.cursor.eat('=').is_none() {
            return Err(self.expected("`=` after the principal's name"));
        }
        let claims = self.claims()?;
        self.names
            .insert(name.to_string(), self.parsed.file.principals.len());
        self.parsed.file.principals.push(TestPrincipal {
            name: Some(name.to_string()),
            claims,
            span,
        });
        Ok(())
    }

    /// A JSON object of claims.
    fn claims(&mut self) -> Result<serde_json::Value, TestError> {
        self.cursor.skip_blanks();
        if self.cursor.peek() != Some('{') {
            return Err(self
                .expected("the token's claims as a JSON object")
                .with_help("for example `{\"sub\": \"u1\", \"roles\": [\"developer\"]}`"));
        }
        let (claims, span) = self.cursor.json()?;
        if !claims.is_object() {
            return Err(TestError::new(
                ErrorCode::T004,
                span,
                "claims must be a JSON object",
            ));
        }
        Ok(claims)
    }

    /// A principal's name, or claims written in place; its index in the principals.
    fn principal_reference(&mut self) -> Result<usize, TestError> {
        self.cursor.skip_blanks();
        if self.cursor.peek() == Some('{') {
            let start = self.cursor.position();
            let claims = self.claims()?;
            let span = self.cursor.span(start, self.cursor.position());
            self.parsed.file.principals.push(TestPrincipal {
                name: None,
                claims,
                span,
            });
            return Ok(self.parsed.file.principals.len() - 1);
        }
        let Some((name, span)) = self.cursor.word() else {
            return Err(self.expected("a principal's name or claims"));
        };
        self.names.get(name).copied().ok_or_else(|| {
            let help =
                did_you_mean(name, self.names.keys().map(String::as_str)).unwrap_or_else(|| {
                    format!("define it above the case: `principal {name} = {{\"roles\": [...]}}`")
                });
            TestError::new(
                ErrorCode::T002,
                span,
                format!("no principal named `{name}` is defined above"),
            )
            .with_help(help)
        })
    }

    /// An RFC 3339 instant, bare or quoted.
    fn instant(&mut self) -> Result<Timestamp, TestError> {
        let (text, span) = self.value("an RFC 3339 instant")?;
        text.parse::<Timestamp>().map_err(|_| {
            TestError::new(
                ErrorCode::T004,
                span,
                format!("`{text}` is not an RFC 3339 instant"),
            )
            .with_help("write a date, a time and an offset, such as `2026-11-26T10:00:00Z`")
        })
    }

    /// An IP address, bare or quoted, or `none`.
    fn address(&mut self) -> Result<Option<IpAddr>, TestError> {
        let (text, span) = self.value("an IP address or `none`")?;
        if text == "none" {
            return Ok(None);
        }
        text.parse::<IpAddr>().map(Some).map_err(|_| {
            TestError::new(
                ErrorCode::T004,
                span,
                format!("`{text}` is not an IPv4 or IPv6 address"),
            )
            .with_help("write an address such as `10.1.2.3` or `2001:db8::7`, or `none`")
        })
    }

    /// A bare word or a string.
    fn value(&mut self, what: &str) -> Result<(String, Span), TestError> {
        self.cursor.skip_blanks();
        if self.cursor.peek() == Some('"') {
            return self.cursor.string();
        }
        match self.cursor.word() {
            Some((word, span)) => Ok((word.to_string(), span)),
            None => Err(self.expected(what)),
        }
    }

    fn line_of(&self, span: Span) -> u32 {
        line_number(self.cursor.text(), span.start as usize)
    }

    fn principal_line(&self, index: usize) -> u32 {
        self.parsed
            .file
            .principals
            .get(index)
            .map_or(0, |principal| self.line_of(principal.span))
    }
}

/// The 1-based line of a byte offset.
fn line_number(text: &str, offset: usize) -> u32 {
    let before = text.get(..offset).unwrap_or(text);
    u32::try_from(before.matches('\n').count() + 1).unwrap_or(u32::MAX)
}

/// `[A-Za-z_][A-Za-z0-9_-]*`.
fn is_name(word: &str) -> bool {
    let mut characters = word.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && characters.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
