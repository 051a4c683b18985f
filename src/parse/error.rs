//! Syntax errors (E001) in words people read, and the E012 of a condition nested too
//! deeply to hand to the grammar.
//!
//! A pest error lists the grammar rules it expected at some offset. This module turns
//! them into a description (`expected a role name or `anyone``), says what was found
//! there (the word, string or character, or end of file) and underlines it.

use pest::error::{Error, ErrorVariant, InputLocation};

use super::grammar::Rule;
use super::lexer::{last_token_end, skip_trivia, Lexer, Token, TokenKind, STATEMENT_KEYWORDS};
use super::KEYWORDS;
use crate::diagnostic::{did_you_mean, Code, Diagnostic};
use crate::limits::{Limit, Limits};
use crate::source::{SourceId, Span};

/// A syntax error and the offset where parsing stopped.
#[derive(Debug, Clone)]
pub(super) struct SyntaxError {
    /// The E001 (or E012) diagnostic.
    pub diagnostic: Diagnostic,
    /// The byte offset where the grammar failed (recovery restarts after it).
    pub position: usize,
}

/// Where a statement is being parsed: its file and text, and where it starts.
#[derive(Debug, Clone, Copy)]
pub(super) struct Place<'text> {
    /// The file.
    pub source: SourceId,
    /// The file's text.
    pub text: &'text str,
    /// The byte offset where the statement starts.
    pub start: usize,
}

impl Place<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.source, start, end)
    }
}

/// The E001 for a pest error met while parsing the statement at `place`.
pub(super) fn from_pest(error: &Error<Rule>, place: Place<'_>) -> SyntaxError {
    let offset = match error.location {
        InputLocation::Pos(offset) => offset,
        InputLocation::Span((start, _)) => start,
    };
    let position = place.start + offset;
    let diagnostic = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => expected(positives, place, position),
        ErrorVariant::CustomError { .. } => out_of_stack(place, position),
    };
    SyntaxError {
        diagnostic,
        position,
    }
}

/// The E012 for a condition nested deeper than allowed, at the token that goes too deep.
pub(super) fn nesting(token: &Token<'_>, place: Place<'_>, limits: &Limits) -> SyntaxError {
    let span = place.span(token.start, token.end);
    SyntaxError {
        diagnostic: Diagnostic::limit_exceeded(Limit::ConditionDepth, limits, span, None),
        position: token.start,
    }
}

/// The E001 for a statement the grammar gave up on for lack of stack (its own limit,
/// met only on a thread with a very small stack, since nesting is bounded first).
fn out_of_stack(place: Place<'_>, position: usize) -> Diagnostic {
    let found = Found::at(place, position);
    let span = place.span(found.range.start, found.range.end);
    Diagnostic::new(Code::E001, span, "condition nested too deeply to parse").with_help(
        "split the condition into several rules, or drop redundant parentheses and `not`s",
    )
}

/// "expected X or Y, found Z".
fn expected(positives: &[Rule], place: Place<'_>, position: usize) -> Diagnostic {
    let found = Found::at(place, position);
    let span = place.span(found.range.start, found.range.end);
    if found.unterminated {
        return Diagnostic::new(Code::E001, span, "unterminated string")
            .with_help("end the string with `\"` on the same line");
    }
    let expectation = Expectation::of(positives);
    let message = match expectation.list() {
        Some(list) => format!("expected {list}, found {}", found.description),
        None => format!("unexpected {}", found.description),
    };
    Diagnostic::new(Code::E001, span, message).with_optional_help(help(&expectation, &found))
}

/// What was found where the grammar failed.
#[derive(Debug, Clone)]
struct Found<'text> {
    /// `end of file`, or the token in backticks.
    description: String,
    /// The text to underline.
    range: std::ops::Range<usize>,
    /// The token, unless at end of file.
    token: Option<Token<'text>>,
    /// Whether the token is a string without its closing quote.
    unterminated: bool,
}

/// The longest token text shown in a message.
const MAX_SHOWN: usize = 40;

impl<'text> Found<'text> {
    fn at(place: Place<'text>, position: usize) -> Found<'text> {
        let text = place.text;
        let Some(mut token) = Lexer::new(text, skip_trivia(text, position)).next() else {
            let end = last_token_end(text, place.start).unwrap_or(place.start);
            return Found {
                description: "end of file".to_string(),
                range: end..end,
                token: None,
                unterminated: false,
            };
        };
        if token.kind == TokenKind::Word {
            token = widen_word(text, token);
        }
        Found {
            description: format!("`{}`", shorten(token.text)),
            range: token.start..token.end,
            unterminated: token.kind == (TokenKind::String { terminated: false }),
            token: Some(token),
        }
    }

    /// The word found, if a word was found.
    fn word(&self) -> Option<&'text str> {
        self.token
            .filter(|token| token.kind == TokenKind::Word)
            .map(|token| token.text)
    }

    fn is_string(&self) -> bool {
        self.token
            .is_some_and(|token| matches!(token.kind, TokenKind::String { .. }))
    }
}

/// A word widened over `.`, `:`, `/` and `%`, so that `fs.read` or `10.0.0.1/8` shows whole.
fn widen_word<'text>(text: &'text str, token: Token<'text>) -> Token<'text> {
    let rest = text.get(token.start..).unwrap_or("");
    let length = rest
        .find(|character: char| {
            !(super::lexer::is_name_char(character) || matches!(character, '.' | ':' | '/' | '%'))
        })
        .unwrap_or(rest.len());
    let end = token.start + length;
    Token {
        end,
        text: text.get(token.start..end).unwrap_or(token.text),
        ..token
    }
}

/// `text`, cut to [`MAX_SHOWN`] characters.
fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_SHOWN {
        return text.to_string();
    }
    let cut: String = text.chars().take(MAX_SHOWN - 3).collect();
    format!("{cut}...")
}

/// Whether `word` is one of the language's keywords.
fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// How to fix the error, when there is something useful to say.
fn help(expectation: &Expectation, found: &Found<'_>) -> Option<String> {
    if let Some(word) = found.word() {
        if is_keyword(word) {
            if let Some(name) = expectation.name {
                return Some(format!("`{word}` is a keyword; rename the {name}"));
            }
        } else if expectation.string {
            return Some(format!(
                "strings are written in double quotes: `\"{word}\"`"
            ));
        }
        return did_you_mean(word, expectation.suggestions.iter().copied());
    }
    match expectation.name {
        Some(name) if found.is_string() => Some(format!("a {name} name is written without quotes")),
        _ => None,
    }
}

/// Where an item goes in the list of what was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    /// Names, strings, conditions, values.
    Value,
    /// Keywords.
    Keyword,
    /// Punctuation.
    Symbol,
    /// A new statement or the end of the file.
    End,
}

/// One thing the grammar expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    /// A word or symbol written as is (shown in backticks, suggested for typos).
    Token(&'static str),
    /// A description (`a role name`).
    Prose(&'static str),
}

/// Everything the grammar expected at one offset.
#[derive(Debug, Default)]
struct Expectation {
    /// The items, in the order they are listed.
    items: Vec<(Rank, Item)>,
    /// Words a misspelled word may have meant.
    suggestions: Vec<&'static str>,
    /// `role`, `network` or `window` when a name of that kind was expected.
    name: Option<&'static str>,
    /// Whether a string was expected.
    string: bool,
}

impl Expectation {
    fn of(rules: &[Rule]) -> Expectation {
        let mut expectation = Expectation::default();
        for &rule in rules {
            expectation.add(rule);
        }
        expectation
            .items
            .sort_by_key(|&(rank, item)| (rank, keyword_order(rank, item)));
        expectation
    }

    fn add(&mut self, rule: Rule) {
        let (rank, items) = describe(rule);
        for &item in items {
            if !self.items.iter().any(|(_, known)| *known == item) {
                self.items.push((rank, item));
            }
            if let Item::Token(word) = item {
                self.suggestions.push(word);
            }
        }
        self.suggestions.extend_from_slice(suggestions(rule));
        self.name = self.name.or(name_kind(rule));
        self.string |= matches!(rule, Rule::string | Rule::literal);
    }

    /// `a, b or c`, if anything was expected.
    fn list(&self) -> Option<String> {
        let shown: Vec<String> = self
            .items
            .iter()
            .map(|(_, item)| match item {
                Item::Token(token) => format!("`{token}`"),
                Item::Prose(prose) => (*prose).to_string(),
            })
            .collect();
        match shown.split_last() {
            None => None,
            Some((last, [])) => Some(last.clone()),
            Some((last, rest)) => Some(format!("{} or {last}", rest.join(", "))),
        }
    }
}

/// Where a keyword comes in [`KEYWORDS`] (so `and` is listed before `or`); other items
/// keep the grammar's order.
fn keyword_order(rank: Rank, item: Item) -> usize {
    match (rank, item) {
        (Rank::Keyword, Item::Token(word)) => KEYWORDS
            .iter()
            .position(|keyword| *keyword == word)
            .unwrap_or(KEYWORDS.len()),
        _ => 0,
    }
}

/// The kind of name `rule` is, if it is a name.
fn name_kind(rule: Rule) -> Option<&'static str> {
    match rule {
        Rule::role_name => Some("role"),
        Rule::network_name => Some("network"),
        Rule::window_name => Some("window"),
        _ => None,
    }
}

/// Words a misspelling of what `rule` expected may have meant, beyond its tokens.
fn suggestions(rule: Rule) -> &'static [&'static str] {
    match rule {
        Rule::statement | Rule::statement_end | Rule::statement_keyword | Rule::entry => {
            &STATEMENT_KEYWORDS
        }
        Rule::action => &["list", "call", "read", "get"],
        Rule::kind => &[
            "tools",
            "tool",
            "resources",
            "resource",
            "prompts",
            "prompt",
        ],
        Rule::atom | Rule::negation | Rule::conjunction | Rule::disjunction => &[
            "scope", "role", "client", "ip", "time", "claim", "true", "false", "not",
        ],
        Rule::day | Rule::day_item | Rule::days | Rule::window => {
            &["mon", "tue", "wed", "thu", "fri", "sat", "sun", "tz"]
        }
        _ => &[],
    }
}

/// How to list what `rule` expected.
fn describe(rule: Rule) -> (Rank, &'static [Item]) {
    describe_value(rule)
        .or_else(|| describe_keyword(rule))
        .or_else(|| describe_symbol(rule))
        .unwrap_or((Rank::Value, &[]))
}

fn describe_value(rule: Rule) -> Option<(Rank, &'static [Item])> {
    use Item::Prose;
    let items: &'static [Item] = match rule {
        Rule::entry | Rule::statement => &[Prose("a statement")],
        Rule::action => &[Prose("an action (`list`, `call`, `read` or `get`)")],
        Rule::kind => &[Prose("a kind (`tools`, `resources` or `prompts`)")],
        Rule::cidr => &[Prose("an IP address or CIDR")],
        Rule::window => &[Prose(
            "days like `mon-fri`, hours like `09:00-17:00`, or `tz`",
        )],
        Rule::days | Rule::day_item | Rule::day => &[Prose("a day (`mon` to `sun`)")],
        Rule::hours | Rule::clock_time => &[Prose("a time like `09:00`")],
        Rule::disjunction
        | Rule::conjunction
        | Rule::negation
        | Rule::group
        | Rule::atom
        | Rule::scope_atom
        | Rule::role_atom
        | Rule::client_atom
        | Rule::ip_atom
        | Rule::time_atom
        | Rule::claim_atom
        | Rule::arg_atom => &[Prose("a condition")],
        Rule::literal => &[
            Prose("a string"),
            Prose("a number"),
            Item::Token("true"),
            Item::Token("false"),
        ],
        Rule::string => &[Prose("a string")],
        Rule::integer => &[Prose("an integer")],
        Rule::number | Rule::decimal => &[Prose("a number")],
        Rule::role_name => &[Prose("a role name")],
        Rule::network_name => &[Prose("a network name")],
        Rule::window_name => &[Prose("a window name")],
        _ => return None,
    };
    Some((Rank::Value, items))
}

fn describe_keyword(rule: Rule) -> Option<(Rank, &'static [Item])> {
    use Item::Token;
    let items: &'static [Item] = match rule {
        Rule::timezone_statement | Rule::kw_timezone => &[Token("timezone")],
        Rule::claims_statement | Rule::kw_claims => &[Token("claims")],
        Rule::scope_statement | Rule::kw_scope => &[Token("scope")],
        Rule::role_statement | Rule::kw_role => &[Token("role")],
        Rule::network_statement | Rule::kw_network => &[Token("network")],
        Rule::window_statement | Rule::kw_window => &[Token("window")],
        Rule::rule_statement | Rule::effect => &[Token("allow"), Token("deny")],
        Rule::requirement_statement | Rule::kw_require => &[Token("require")],
        Rule::claims_line | Rule::claim_field => {
            &[Token("roles"), Token("scopes"), Token("client")]
        }
        Rule::condition => &[Token("if"), Token("unless")],
        Rule::window_zone | Rule::kw_tz => &[Token("tz")],
        Rule::kw_from => &[Token("from")],
        Rule::kw_implies => &[Token("implies")],
        Rule::kw_inherits => &[Token("inherits")],
        Rule::kw_aka => &[Token("aka")],
        Rule::kw_anyone => &[Token("anyone")],
        Rule::kw_to => &[Token("to")],
        Rule::kw_if => &[Token("if")],
        Rule::kw_unless => &[Token("unless")],
        Rule::kw_or => &[Token("or")],
        Rule::kw_and => &[Token("and")],
        Rule::kw_not => &[Token("not")],
        Rule::kw_client => &[Token("client")],
        Rule::kw_ip => &[Token("ip")],
        Rule::kw_in => &[Token("in")],
        Rule::kw_time => &[Token("time")],
        Rule::kw_before => &[Token("before")],
        Rule::kw_after => &[Token("after")],
        Rule::kw_claim => &[Token("claim")],
        Rule::kw_contains => &[Token("contains")],
        Rule::kw_exists => &[Token("exists")],
        Rule::kw_arg => &[Token("arg")],
        Rule::kw_matches => &[Token("matches")],
        Rule::kw_true => &[Token("true")],
        Rule::kw_false => &[Token("false")],
        _ => return None,
    };
    Some((Rank::Keyword, items))
}

fn describe_symbol(rule: Rule) -> Option<(Rank, &'static [Item])> {
    use Item::{Prose, Token};
    let (rank, items): (Rank, &'static [Item]) = match rule {
        Rule::compare => (Rank::Symbol, &[Token("=="), Token("!=")]),
        Rule::order => (
            Rank::Symbol,
            &[Token("<"), Token("<="), Token(">"), Token(">=")],
        ),
        Rule::comma => (Rank::Symbol, &[Token(",")]),
        Rule::equals => (Rank::Symbol, &[Token("=")]),
        Rule::dash => (Rank::Symbol, &[Token("-")]),
        Rule::open_brace => (Rank::Symbol, &[Token("{")]),
        Rule::close_brace => (Rank::Symbol, &[Token("}")]),
        Rule::cidr_list | Rule::inline_window | Rule::literal_list | Rule::open_bracket => {
            (Rank::Symbol, &[Token("[")])
        }
        Rule::close_bracket => (Rank::Symbol, &[Token("]")]),
        Rule::open_paren => (Rank::Symbol, &[Token("(")]),
        Rule::close_paren => (Rank::Symbol, &[Token(")")]),
        Rule::statement_end | Rule::statement_keyword => (Rank::End, &[Prose("a new statement")]),
        Rule::EOI => (Rank::End, &[Prose("end of file")]),
        _ => return None,
    };
    Some((rank, items))
}
