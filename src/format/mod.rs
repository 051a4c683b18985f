//! The canonical layout of policy files (`toolgate fmt`).
//!
//! [`format`] parses a file, prints its statements from the syntax tree in one layout
//! and puts every comment back where it was: a comment on a line of its own before the
//! word it preceded, a comment after a word at the end of that word's line. The layout
//! (described for policy authors in `docs/fmt.md`):
//!
//! - one statement per line, one space between words, `, ` in lists; string literals,
//!   numbers, addresses and clock times exactly as written (escapes included), the
//!   kind word (`tool` or `tools`) as written;
//! - empty lines between statements kept where the author had them, at most one;
//! - neighbouring statements of one sort (not separated by an empty line) aligned
//!   like a table: `role` on its `inherits` and `aka` columns, `allow` / `deny` and
//!   `require` on `to`, `scope` on `implies`, `network` / `window` on the name (and
//!   on `=` among statements of the same keyword), the lines of a `claims` block on
//!   `from`;
//! - a list that would make a line longer than 100 characters continues on the next
//!   line under its first item;
//! - a condition that is a single test stays on the rule's line when the line fits in
//!   100 characters; a condition combining tests with `and` / `or`, or one that does
//!   not fit, goes on the next line, indented two spaces, and when that line is too
//!   long too it is broken one operand per line, each continuation line starting with
//!   its `and` / `or`;
//! - parentheses where the author wrote them (one pair where there were several),
//!   `days` as `mon-fri,sat`, a `claims` block one line per field;
//! - LF line ends, no trailing spaces, one newline at the end.
//!
//! Formatting never changes what a policy says: [`format`] checks that the formatted
//! text parses to the same syntax tree (positions aside) with the same comments, and
//! formatting formatted text gives it back unchanged.

mod attach;
mod build;
mod layout;
mod lex;
mod piece;
mod render;
mod verify;

use std::fmt;

use crate::ast::SyntaxTree;
use crate::diagnostic::Diagnostic;
use crate::parse;
use crate::source::Sources;

/// The width, in characters, that the layout keeps lines within where it has a choice.
pub const WIDTH: usize = 100;

/// Why a text was not formatted.
#[derive(Debug, Clone, PartialEq)]
pub enum FormatError {
    /// The text has syntax errors (E001): every one of them, with spans in source 0
    /// (render them against `Sources::from_text(name, text)`).
    Syntax(Vec<Diagnostic>),
    /// The formatter's own check failed: the formatted text would not say the same
    /// thing or would lose a comment. A bug in the formatter; the text is left alone.
    Internal(String),
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Syntax(diagnostics) => {
                write!(f, "{} syntax error(s)", diagnostics.len())
            }
            FormatError::Internal(message) => write!(f, "internal formatter error: {message}"),
        }
    }
}

impl std::error::Error for FormatError {}

/// The text of one policy file in the canonical layout, comments kept.
///
/// A file with syntax errors is not formatted: the error holds its E001 diagnostics.
///
/// ```
/// let messy = "role   admin # the admins\nallow admin to call tools \"*\"   if ip in [10.0.0.0/8]";
/// let tidy = toolgate::unstable::format::format(messy)?;
/// assert_eq!(
///     tidy,
///     "role admin # the admins\nallow admin to call tools \"*\" if ip in [10.0.0.0/8]\n"
/// );
/// assert_eq!(toolgate::unstable::format::format(&tidy)?, tidy);
/// # Ok::<(), toolgate::unstable::format::FormatError>(())
/// ```
pub fn format(text: &str) -> Result<String, FormatError> {
    let sources = Sources::from_text("policy", text);
    let parsed = parse::parse(&sources);
    if !parsed.diagnostics.is_empty() {
        return Err(FormatError::Syntax(parsed.diagnostics));
    }
    let formatted = print(text, &parsed.policy);
    check(text, &parsed.policy, &formatted)?;
    Ok(formatted)
}

/// Whether `text` is already in the canonical layout.
pub fn is_formatted(text: &str) -> Result<bool, FormatError> {
    Ok(format(text)? == text)
}

/// Prints a parsed file.
fn print(text: &str, policy: &SyntaxTree) -> String {
    let lexed = lex::lex(text);
    let mut maker = piece::Maker::new(text, &lexed.tokens);
    let mut firsts = Vec::new();
    let mut shapes = Vec::new();
    for statement in &policy.statements {
        firsts.push(maker.next_id());
        shapes.push(build::statement(&mut maker, statement));
    }
    let attached = attach::attach(&lexed.comments, &maker.anchors, &firsts);
    let blank_before: Vec<bool> = policy
        .statements
        .iter()
        .map(|statement| lex::blank_before(text, statement.span.start as usize))
        .collect();
    let starts_run: Vec<bool> = blank_before
        .iter()
        .zip(&attached.statements)
        .map(|(&blank, comments)| blank || comments.iter().any(|c| c.blank_before))
        .collect();
    layout::align(&mut shapes, &starts_run);
    let laid: Vec<render::Laid> = shapes
        .into_iter()
        .zip(blank_before)
        .map(|(shape, blank_before)| render::Laid {
            lines: layout::lines(shape),
            blank_before,
        })
        .collect();
    render::render(&laid, &attached)
}

/// Checks that `formatted` says what `text` said and keeps its comments.
fn check(text: &str, policy: &SyntaxTree, formatted: &str) -> Result<(), FormatError> {
    let sources = Sources::from_text("policy", formatted);
    let reparsed = parse::parse(&sources);
    if let Some(first) = reparsed.diagnostics.first() {
        return Err(FormatError::Internal(format!(
            "the formatted text does not parse: {}",
            first.message
        )));
    }
    if verify::without_spans(&reparsed.policy) != verify::without_spans(policy) {
        return Err(FormatError::Internal(
            "the formatted text would say something else".to_string(),
        ));
    }
    let comments = |text: &str| {
        let mut texts: Vec<String> = lex::lex(text)
            .comments
            .into_iter()
            .map(|comment| comment.text)
            .collect();
        texts.sort();
        texts
    };
    if comments(text) != comments(formatted) {
        return Err(FormatError::Internal(
            "the formatted text would lose or change a comment".to_string(),
        ));
    }
    Ok(())
}
