//! The parser: policy text to [`ast::SyntaxTree`], with every syntax error (E001).
//!
//! The grammar is `grammar/policy.pest`. Files are parsed statement by statement: a
//! statement ends where the next statement's keyword begins, so the parser runs the
//! grammar on one statement at a time (see [`grammar`]), builds its syntax tree, and
//! goes on after it. When a statement has a syntax error, the error is reported and
//! parsing resumes at the next line that starts with a statement keyword, so that one
//! run reports every error and the statements around them still reach the tree.
//!
//! Recovery never lets one mistake cascade. A line that starts with `role` or `scope`
//! may be a condition's continuation rather than a new statement; after an error in a
//! statement that has a condition, such a line is tried quietly: if it does not parse
//! as a whole statement, it is skipped without a second error.
//!
//! Untrusted text cannot exhaust the stack or take quadratic time: conditions nested
//! deeper than [`Limits::condition_depth`] are rejected before the grammar sees them,
//! the grammar only sees the text one statement can reach, and conditions are built
//! without recursion. The other [`Limits`] bound the text, the statements read (with or
//! without errors, so the diagnostics too), and every string, pattern and claim path;
//! exceeding one is an E012.

mod bounds;
mod build;
mod condition;
mod error;
mod escape;
mod grammar;
mod lexer;
mod nesting;
#[cfg(test)]
mod tests;

use pest::Parser as _;

use crate::ast;
use crate::diagnostic::{Code, Diagnostic};
use crate::limits::{Limit, Limits};
use crate::source::{SourceId, Sources, Span};

use self::error::{Place, SyntaxError};
use self::grammar::{PolicyParser, Rule};
use self::lexer::{skip_trivia, statement_keyword_at, Lexer, TokenKind};

/// The words of the language that are reserved (docs/language.md, "Keywords"): never a
/// name. The grammar's `keyword` rule spells the same words (a test holds them together);
/// the parser's messages and the language server's completion read this list.
pub const KEYWORDS: &[&str] = &[
    "allow",
    "deny",
    "require",
    "role",
    "inherits",
    "aka",
    "scope",
    "network",
    "window",
    "timezone",
    "claims",
    "from",
    "roles",
    "scopes",
    "client",
    "implies",
    "to",
    "if",
    "unless",
    "and",
    "or",
    "not",
    "tool",
    "tools",
    "resource",
    "resources",
    "prompt",
    "prompts",
    "list",
    "call",
    "read",
    "get",
    "anyone",
    "ip",
    "in",
    "time",
    "before",
    "after",
    "claim",
    "contains",
    "exists",
    "tz",
    "true",
    "false",
    "arg",
    "matches",
];

/// A policy's syntax tree and the syntax errors (E001) found, all of them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// The statements that parsed, in policy order (statements with errors are left out).
    pub policy: ast::SyntaxTree,
    /// Every syntax error, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses every file of `sources`, in order, into one policy, within the default
/// [`Limits`].
pub fn parse(sources: &Sources) -> Parsed {
    parse_with(sources, &Limits::default())
}

/// Parses every file of `sources`, in order, into one policy, within `limits`: text
/// over [`Limits::policy_bytes`] is not parsed at all, and reading stops after
/// [`Limits::statements`] statements.
pub fn parse_with(sources: &Sources, limits: &Limits) -> Parsed {
    let mut parsed = Parsed::default();
    if let Some(diagnostic) = bounds::text_size(sources, limits) {
        parsed.diagnostics.push(diagnostic);
        return parsed;
    }
    let mut read = 0;
    for (source, file) in sources.iter() {
        let parser = FileParser {
            source,
            text: file.text(),
            parsed: &mut parsed,
            limits,
            read,
        };
        match parser.run() {
            Some(count) => read = count,
            None => break,
        }
    }
    let totals = bounds::totals(&parsed.policy, limits);
    if !totals.is_empty() {
        parsed.diagnostics.extend(totals);
        parsed
            .diagnostics
            .sort_by_key(|diagnostic| (diagnostic.span.source, diagnostic.span.start));
    }
    parsed
}

/// Parses one file into a shared [`Parsed`].
struct FileParser<'text, 'out> {
    source: SourceId,
    text: &'text str,
    parsed: &'out mut Parsed,
    limits: &'out Limits,
    /// Statements read so far, in this file and the ones before, errors included.
    read: usize,
}

/// A parsed statement and the offset just past its last token.
type Parsing = Result<(ast::Statement, usize), SyntaxError>;

impl FileParser<'_, '_> {
    /// Parses the statements of the file, one after another; the statements read so
    /// far, or `None` when the statement limit stopped the reading.
    fn run(mut self) -> Option<usize> {
        let mut position = skip_trivia(self.text, 0);
        while position < self.text.len() {
            if self.read >= self.limits.statements {
                let end = Lexer::new(self.text, position)
                    .next()
                    .map_or(position, |token| token.end);
                let span = Span::new(self.source, position, end);
                let diagnostic =
                    Diagnostic::limit_exceeded(Limit::Statements, self.limits, span, None);
                self.parsed.diagnostics.push(diagnostic);
                return None;
            }
            self.read += 1;
            position = match self.statement(position) {
                Ok((statement, end)) => {
                    self.parsed.policy.statements.push(statement);
                    skip_trivia(self.text, end)
                }
                Err(error) => {
                    self.parsed.diagnostics.push(error.diagnostic);
                    self.recover(position, error.position)
                }
            };
        }
        Some(self.read)
    }

    /// Parses the statement that starts at `start`.
    fn statement(&mut self, start: usize) -> Parsing {
        let place = Place {
            source: self.source,
            text: self.text,
            start,
        };
        let depth = self.limits.effective_condition_depth();
        let extent = nesting::scan(self.text, start, depth);
        if let Some(token) = extent.too_deep {
            return Err(error::nesting(&token, place, self.limits));
        }
        let rest = self.text.get(start..extent.end).unwrap_or("");
        let mut pairs = PolicyParser::parse(Rule::entry, rest)
            .map_err(|failure| error::from_pest(&failure, place))?;
        let pair = pairs.next().and_then(|entry| {
            entry
                .into_inner()
                .find(|pair| pair.as_rule() == Rule::statement)
        });
        let mut diagnostics = Vec::new();
        let mut builder = build::Builder::new(self.source, start, &mut diagnostics);
        let built = pair.and_then(|pair| builder.statement(pair));
        if let Some(statement) = &built {
            bounds::statement(statement, self.limits, &mut diagnostics);
        }
        self.parsed.diagnostics.append(&mut diagnostics);
        let statement = built.ok_or_else(|| unreadable(place))?;
        let end = (statement.span.end as usize).max(start + 1);
        Ok((statement, end))
    }

    /// Where to go on after a syntax error at `failed` in the statement starting at
    /// `start`: the next line that starts with a statement keyword, at or after the
    /// error. A quiet restart (see the module docs) that parses is taken here.
    fn recover(&mut self, start: usize, failed: usize) -> usize {
        let mut region = Region::new(self.text, start);
        for restart in restarts(self.text, start, failed) {
            region.extend_to(restart);
            if !region.quiet_at(restart) {
                return restart;
            }
            if let Ok((statement, end)) = self.statement(restart) {
                self.parsed.policy.statements.push(statement);
                return skip_trivia(self.text, end);
            }
        }
        self.text.len()
    }
}

/// The E001 for a statement the grammar accepted but the builder could not read (a bug).
fn unreadable(place: Place<'_>) -> SyntaxError {
    let end = Lexer::new(place.text, place.start)
        .next()
        .map_or(place.start, |token| token.end);
    let span = Span::new(place.source, place.start, end);
    SyntaxError {
        diagnostic: Diagnostic::new(Code::E001, span, "this statement could not be read"),
        position: place.start,
    }
}

/// The text skipped since a syntax error, and whether it holds a condition.
struct Region<'text> {
    text: &'text str,
    /// How far the region has been scanned.
    scanned: usize,
    /// Whether a condition word or parenthesis was seen in it.
    has_condition: bool,
}

impl<'text> Region<'text> {
    fn new(text: &'text str, start: usize) -> Region<'text> {
        Region {
            text,
            scanned: start,
            has_condition: false,
        }
    }

    /// Scans the region up to `end` (a token start).
    fn extend_to(&mut self, end: usize) {
        let tokens = Lexer::new(self.text, self.scanned).take_while(|token| token.start < end);
        for token in tokens {
            let condition_word = ["if", "unless", "and", "or", "not"]
                .into_iter()
                .any(|word| token.is_word(word));
            let parenthesis = token.kind == TokenKind::Symbol && matches!(token.text, "(" | ")");
            self.has_condition |= condition_word || parenthesis;
        }
        self.scanned = self.scanned.max(end);
    }

    /// Whether a restart at `restart` is quiet: a `role` or `scope` line after a broken
    /// condition may continue that condition rather than start a statement.
    fn quiet_at(&self, restart: usize) -> bool {
        self.has_condition
            && matches!(
                statement_keyword_at(self.text, restart),
                Some("role" | "scope")
            )
    }
}

/// The lines after `start` whose first token is a statement keyword at or after
/// `failed`: their first token's offset.
fn restarts(text: &str, start: usize, failed: usize) -> impl Iterator<Item = usize> + '_ {
    let first_line = text
        .get(..failed.min(text.len()))
        .and_then(|before| before.rfind('\n'))
        .map_or(0, |newline| newline + 1);
    let mut line = Some(first_line);
    std::iter::from_fn(move || {
        let line_start = line?;
        line = text
            .get(line_start..)
            .and_then(|rest| rest.find('\n'))
            .map(|newline| line_start + newline + 1);
        Some(line_start)
    })
    .map(move |line_start| first_token(text, line_start))
    .filter(move |&token| token > start && token >= failed)
    .filter(move |&token| statement_keyword_at(text, token).is_some())
}

/// The offset of the first non-blank character of the line starting at `line_start`.
fn first_token(text: &str, line_start: usize) -> usize {
    let rest = text.get(line_start..).unwrap_or("");
    let blank = rest.len() - rest.trim_start_matches([' ', '\t', '\u{feff}']).len();
    line_start + blank
}
