//! The reference interpreter's own reading of policy text: a hand-written
//! recursive-descent parser over LANGUAGE.md v1.1 ("Lexical rules", "Statements",
//! "Conditions"), with its own syntax tree. It shares nothing with the engine's pest
//! grammar or its AST, so a misreading of the text on either side shows up as a
//! disagreement in the differential test.
//!
//! Written for clarity, not speed: the parser reads characters directly (no separate
//! token stream), because some tokens depend on where they stand (`mon-fri` is three
//! tokens in a window but `-` is a name character elsewhere; a CIDR is one token).
//! Whitespace, newlines and `#` comments separate tokens anywhere. A statement ends where
//! the next statement's keyword begins. The checker's work (names defined, valid values)
//! is not repeated: values such as CIDRs, instants and zones are kept as text.

use std::fmt;

/// The kind of name a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `tool` / `tools`.
    Tool,
    /// `resource` / `resources`.
    Resource,
    /// `prompt` / `prompts`.
    Prompt,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 3] = [Kind::Tool, Kind::Resource, Kind::Prompt];

    /// The singular keyword.
    pub fn singular(self) -> &'static str {
        match self {
            Kind::Tool => "tool",
            Kind::Resource => "resource",
            Kind::Prompt => "prompt",
        }
    }

    /// The plural keyword.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Tool => "tools",
            Kind::Resource => "resources",
            Kind::Prompt => "prompts",
        }
    }

    /// The action that uses a name of this kind: `call`, `read` or `get`.
    pub fn use_action(self) -> Action {
        match self {
            Kind::Tool => Action::Call,
            Kind::Resource => Action::Read,
            Kind::Prompt => Action::Get,
        }
    }

    /// The kind a keyword names, singular or plural.
    pub fn from_keyword(word: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|kind| kind.singular() == word || kind.plural() == word)
    }
}

/// An action on a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// `list`.
    List,
    /// `call` (tools).
    Call,
    /// `read` (resources).
    Read,
    /// `get` (prompts).
    Get,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 4] = [Action::List, Action::Call, Action::Read, Action::Get];

    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Action::List => "list",
            Action::Call => "call",
            Action::Read => "read",
            Action::Get => "get",
        }
    }

    /// The action a keyword names.
    pub fn from_keyword(word: &str) -> Option<Action> {
        Action::ALL
            .into_iter()
            .find(|action| action.keyword() == word)
    }
}

/// A whole policy: every statement of every file, in policy order (file order, then
/// position in the file).
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The statements.
    pub statements: Vec<Statement>,
}

/// One statement and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The file's name.
    pub file: String,
    /// The line of the statement's first keyword (from 1).
    pub line: u32,
    /// What it says.
    pub body: Body,
}

impl Statement {
    /// `FILE:LINE`, as decisions name their rule.
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// What a statement says.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// `timezone "Zone"`.
    Timezone(String),
    /// `claims { FIELD from S, ... }`: the lines in order.
    Claims(Vec<(ClaimField, Vec<String>)>),
    /// `scope S, ... [implies S, ...]`.
    Scope {
        /// The scopes declared (the broader ones when there is an `implies`).
        scopes: Vec<String>,
        /// The scopes each of them implies.
        implies: Vec<String>,
    },
    /// `role NAME [inherits NAME, ...] [aka S, ...]`.
    Role {
        /// The role's name.
        name: String,
        /// Its parents.
        inherits: Vec<String>,
        /// Claim values that also grant it.
        aka: Vec<String>,
    },
    /// `network NAME = [CIDR, ...]`.
    Network {
        /// The network's name.
        name: String,
        /// The ranges as written.
        cidrs: Vec<String>,
    },
    /// `window NAME = WINDOW`.
    Window {
        /// The window's name.
        name: String,
        /// The window.
        window: Window,
    },
    /// `allow|deny ...`.
    Rule(Rule),
    /// `require scope S, ... to ACTIONS KIND PATTERNS`.
    Requirement(Requirement),
}

/// A line of the `claims` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimField {
    /// `roles from ...`.
    Roles,
    /// `scopes from ...`.
    Scopes,
    /// `client from ...`.
    Client,
}

/// `allow` or `deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `allow`.
    Allow,
    /// `deny`.
    Deny,
}

/// Who a rule is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subjects {
    /// `anyone`.
    Anyone,
    /// `NAME, NAME, ...`.
    Roles(Vec<String>),
}

/// Which requests a rule or requirement is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The actions.
    pub actions: Vec<Action>,
    /// The kind.
    pub kind: Kind,
    /// The patterns' string values (escapes decoded, glob escapes kept).
    pub patterns: Vec<String>,
}

/// `allow|deny SUBJECTS to ACTIONS KIND PATTERNS [if COND | unless COND]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Allow or deny.
    pub effect: Effect,
    /// Who.
    pub subjects: Subjects,
    /// What.
    pub target: Target,
    /// The condition, if any.
    pub condition: Option<Condition>,
}

/// `require scope S, ... to ACTIONS KIND PATTERNS`.
#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    /// The scopes required.
    pub scopes: Vec<String>,
    /// What.
    pub target: Target,
}

/// `if C` or `unless C`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// Whether the keyword was `unless` (the condition is then `not C`).
    pub unless: bool,
    /// C.
    pub expr: Expr,
}

/// A condition expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `a or b or ...` (two or more).
    Or(Vec<Expr>),
    /// `a and b and ...` (two or more).
    And(Vec<Expr>),
    /// `not a`.
    Not(Box<Expr>),
    /// An atom.
    Atom(Atom),
}

/// A condition atom.
#[derive(Debug, Clone, PartialEq)]
pub enum Atom {
    /// `scope S`.
    Scope(String),
    /// `role NAME`.
    Role(String),
    /// `client S`.
    Client(String),
    /// `ip in NAME` / `ip in [CIDR, ...]`.
    IpIn(Named<Vec<String>>),
    /// `time in NAME` / `time in [WINDOW]`.
    TimeIn(Named<Window>),
    /// `time before S`.
    TimeBefore(String),
    /// `time after S`.
    TimeAfter(String),
    /// `claim S ...`.
    Claim(String, Test),
    /// `arg S ...`.
    Arg(String, Test),
    /// `true` / `false`.
    Bool(bool),
}

/// A reference to a named definition, or the definition written inline.
#[derive(Debug, Clone, PartialEq)]
pub enum Named<T> {
    /// `NAME`.
    Name(String),
    /// `[...]`.
    Inline(T),
}

/// What a `claim` or `arg` atom tests about the value at its path.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// `== LITERAL`.
    Equals(Literal),
    /// `!= LITERAL`.
    NotEquals(Literal),
    /// `in [LITERAL, ...]` (`arg` only).
    In(Vec<Literal>),
    /// `contains LITERAL`.
    Contains(Literal),
    /// `matches S` (`arg` only).
    Matches(String),
    /// `< <= > >= NUMBER` (`arg` only); the number's text.
    Order(Order, String),
    /// `exists`.
    Exists,
}

/// An order comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// `<`.
    Less,
    /// `<=`.
    LessOrEqual,
    /// `>`.
    Greater,
    /// `>=`.
    GreaterOrEqual,
}

/// A literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A string's decoded value.
    String(String),
    /// An integer or decimal, as written (`-1`, `42.50`).
    Number(String),
    /// `true` / `false`.
    Bool(bool),
}

/// `[DAYS] [HH:MM-HH:MM] [tz "Zone"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// The day items; empty when no days are written.
    pub days: Vec<DayItem>,
    /// `(start, end)` as `(hour, minute)` pairs, when hours are written.
    pub hours: Option<((u32, u32), (u32, u32))>,
    /// The window's own zone.
    pub tz: Option<String>,
}

/// A day (`mon` = 0 ... `sun` = 6) or a day range as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayItem {
    /// `mon`.
    Day(u8),
    /// `fri-mon`: first and last as written.
    Range(u8, u8),
}

/// The day keywords, Monday first.
pub const DAY_WORDS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Every keyword of the language (LANGUAGE.md, "Lexical rules"); none is a name.
const KEYWORDS: [&str; 46] = [
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

/// The keywords a statement begins with.
const STATEMENT_KEYWORDS: [&str; 9] = [
    "timezone", "claims", "scope", "role", "network", "window", "allow", "deny", "require",
];

/// Why a text does not parse: where and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// `FILE:LINE:COLUMN`.
    pub at: String,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// Parses the files of one policy, `(name, text)` in policy order.
pub fn parse_files<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Policy, SyntaxError> {
    let mut statements = Vec::new();
    for (name, text) in files {
        statements.extend(Parser::new(name, text).file()?);
    }
    Ok(Policy { statements })
}

/// Parses a policy of one file.
pub fn parse_text(name: &str, text: &str) -> Result<Policy, SyntaxError> {
    parse_files([(name, text)])
}

/// The parser's position in one file.
struct Parser<'t> {
    file: &'t str,
    text: &'t str,
    /// Byte offset of the next unread character.
    at: usize,
}

type Parsed<T> = Result<T, SyntaxError>;

impl<'t> Parser<'t> {
    fn new(file: &'t str, text: &'t str) -> Parser<'t> {
        Parser { file, text, at: 0 }
    }

    // ------------------------------------------------------------ characters

    /// The rest of the text.
    fn rest(&self) -> &'t str {
        &self.text[self.at..]
    }

    /// The next character, if any.
    fn peek_char(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Skips whitespace (a byte-order mark included) and `#` comments.
    fn skip_trivia(&mut self) {
        loop {
            match self.peek_char() {
                Some(' ' | '\t' | '\r' | '\n' | '\u{feff}') => {
                    self.at += self.peek_char().map_or(1, char::len_utf8);
                }
                Some('#') => {
                    let line_end = self.rest().find('\n').unwrap_or(self.rest().len());
                    self.at += line_end;
                }
                _ => return,
            }
        }
    }

    /// Whether the text is used up (after trivia).
    fn at_end(&mut self) -> bool {
        self.skip_trivia();
        self.rest().is_empty()
    }

    /// The line and column of byte offset `offset` (both from 1).
    fn line_column(&self, offset: usize) -> (u32, u32) {
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        let column = before[line_start..].chars().count() + 1;
        (
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(column).unwrap_or(u32::MAX),
        )
    }

    /// An error at the current position.
    fn error<T>(&self, message: impl Into<String>) -> Parsed<T> {
        let (line, column) = self.line_column(self.at);
        Err(SyntaxError {
            at: format!("{}:{line}:{column}", self.file),
            message: message.into(),
        })
    }

    // ------------------------------------------------------------ words and symbols

    /// The run of name characters (`[A-Za-z0-9_-]`) at the current position, starting
    /// with a letter or `_`; empty if there is none. Does not consume it.
    fn peek_word(&mut self) -> &'t str {
        self.skip_trivia();
        let rest = self.rest();
        if !rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            return "";
        }
        let length = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        &rest[..length]
    }

    /// Whether the next word is the keyword `word`.
    fn at_keyword(&mut self, word: &str) -> bool {
        self.peek_word() == word
    }

    /// Consumes the keyword `word` if it is next.
    fn eat_keyword(&mut self, word: &str) -> bool {
        if self.at_keyword(word) {
            self.at += word.len();
            true
        } else {
            false
        }
    }

    /// Consumes the keyword `word`, or fails.
    fn keyword(&mut self, word: &str) -> Parsed<()> {
        if self.eat_keyword(word) {
            Ok(())
        } else {
            self.error(format!("expected `{word}`"))
        }
    }

    /// Consumes a name (not a keyword).
    fn name(&mut self) -> Parsed<String> {
        let word = self.peek_word();
        if word.is_empty() {
            return self.error("expected a name");
        }
        if KEYWORDS.contains(&word) {
            return self.error(format!("`{word}` is a keyword, not a name"));
        }
        self.at += word.len();
        Ok(word.to_owned())
    }

    /// Whether `symbol` is next (after trivia).
    fn at_symbol(&mut self, symbol: &str) -> bool {
        self.skip_trivia();
        self.rest().starts_with(symbol)
    }

    /// Consumes `symbol` if it is next.
    fn eat_symbol(&mut self, symbol: &str) -> bool {
        if self.at_symbol(symbol) {
            self.at += symbol.len();
            true
        } else {
            false
        }
    }

    /// Consumes `symbol`, or fails.
    fn symbol(&mut self, symbol: &str) -> Parsed<()> {
        if self.eat_symbol(symbol) {
            Ok(())
        } else {
            self.error(format!("expected `{symbol}`"))
        }
    }

    /// `item (, item)*`.
    fn comma_list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Parsed<T>) -> Parsed<Vec<T>> {
        let mut items = vec![item(self)?];
        while self.eat_symbol(",") {
            items.push(item(self)?);
        }
        Ok(items)
    }

    // ------------------------------------------------------------ literals

    /// A double-quoted string, its escapes decoded: `\"`, `\\`, `\n`, `\t`, `\u{HEX}`.
    /// `\*` and `\?` are not string escapes: they stay as written, for globs.
    fn string(&mut self) -> Parsed<String> {
        self.skip_trivia();
        if !self.rest().starts_with('"') {
            return self.error("expected a string");
        }
        self.at += 1;
        let mut value = String::new();
        loop {
            let Some(character) = self.peek_char() else {
                return self.error("unterminated string");
            };
            self.at += character.len_utf8();
            match character {
                '"' => return Ok(value),
                '\n' | '\r' => return self.error("a string ends at the end of its line"),
                '\\' => {
                    let Some(escaped) = self.peek_char() else {
                        return self.error("unterminated string");
                    };
                    self.at += escaped.len_utf8();
                    match escaped {
                        '"' => value.push('"'),
                        '\\' => value.push('\\'),
                        'n' => value.push('\n'),
                        't' => value.push('\t'),
                        '*' | '?' => {
                            value.push('\\');
                            value.push(escaped);
                        }
                        'u' => value.push(self.unicode_escape()?),
                        other => return self.error(format!("unknown escape `\\{other}`")),
                    }
                }
                other => value.push(other),
            }
        }
    }

    /// The `{HEX}` of a `\u{HEX}` escape.
    fn unicode_escape(&mut self) -> Parsed<char> {
        if !self.rest().starts_with('{') {
            return self.error("expected `{` after `\\u`");
        }
        let Some(close) = self.rest().find('}') else {
            return self.error("unterminated `\\u{`");
        };
        let hex = &self.rest()[1..close];
        let code = u32::from_str_radix(hex, 16).ok();
        match code.and_then(char::from_u32) {
            Some(character) if !hex.is_empty() && hex.len() <= 6 => {
                self.at += close + 1;
                Ok(character)
            }
            _ => self.error(format!("`\\u{{{hex}}}` is not a character")),
        }
    }

    /// An integer (`-?DIGITS`) or decimal (`-?DIGITS.DIGITS`), as written, if one is
    /// next; not followed by a name character or `.`.
    fn number(&mut self) -> Parsed<Option<String>> {
        self.skip_trivia();
        let rest = self.rest();
        let bytes = rest.as_bytes();
        let mut end = usize::from(rest.starts_with('-'));
        let digits = |from: usize| {
            bytes[from..]
                .iter()
                .take_while(|byte| byte.is_ascii_digit())
                .count()
        };
        let whole = digits(end);
        if whole == 0 {
            return Ok(None);
        }
        end += whole;
        if bytes.get(end) == Some(&b'.') && digits(end + 1) > 0 {
            end += 1 + digits(end + 1);
        }
        if let Some(next) = bytes.get(end) {
            if next.is_ascii_alphanumeric() || matches!(next, b'_' | b'-' | b'.') {
                return self.error("a number runs into other characters");
            }
        }
        self.at += end;
        Ok(Some(rest[..end].to_owned()))
    }

    /// LITERAL: a string, a number, `true` or `false`.
    fn literal(&mut self) -> Parsed<Literal> {
        if self.at_symbol("\"") {
            return Ok(Literal::String(self.string()?));
        }
        if self.eat_keyword("true") {
            return Ok(Literal::Bool(true));
        }
        if self.eat_keyword("false") {
            return Ok(Literal::Bool(false));
        }
        match self.number()? {
            Some(number) => Ok(Literal::Number(number)),
            None => self.error("expected a string, a number, `true` or `false`"),
        }
    }

    /// A comma-separated list of strings.
    fn strings(&mut self) -> Parsed<Vec<String>> {
        self.comma_list(Self::string)
    }

    // ------------------------------------------------------------ files and statements

    /// Every statement of the file.
    fn file(&mut self) -> Parsed<Vec<Statement>> {
        let mut statements = Vec::new();
        while !self.at_end() {
            statements.push(self.statement()?);
            // "A statement ... ends where the next statement's keyword begins."
            if !self.at_end() && !STATEMENT_KEYWORDS.contains(&self.peek_word()) {
                return self.error("expected the end of the statement");
            }
        }
        Ok(statements)
    }

    /// One statement.
    fn statement(&mut self) -> Parsed<Statement> {
        self.skip_trivia();
        let (line, _) = self.line_column(self.at);
        let body = match self.peek_word() {
            "timezone" => {
                self.keyword("timezone")?;
                Body::Timezone(self.string()?)
            }
            "claims" => self.claims()?,
            "scope" => {
                self.keyword("scope")?;
                let scopes = self.strings()?;
                let implies = if self.eat_keyword("implies") {
                    self.strings()?
                } else {
                    Vec::new()
                };
                Body::Scope { scopes, implies }
            }
            "role" => {
                self.keyword("role")?;
                let name = self.name()?;
                let inherits = if self.eat_keyword("inherits") {
                    self.comma_list(Self::name)?
                } else {
                    Vec::new()
                };
                let aka = if self.eat_keyword("aka") {
                    self.strings()?
                } else {
                    Vec::new()
                };
                Body::Role {
                    name,
                    inherits,
                    aka,
                }
            }
            "network" => {
                self.keyword("network")?;
                let name = self.name()?;
                self.symbol("=")?;
                Body::Network {
                    name,
                    cidrs: self.cidr_list()?,
                }
            }
            "window" => {
                self.keyword("window")?;
                let name = self.name()?;
                self.symbol("=")?;
                Body::Window {
                    name,
                    window: self.window()?,
                }
            }
            "allow" | "deny" => Body::Rule(self.rule()?),
            "require" => {
                self.keyword("require")?;
                self.keyword("scope")?;
                let scopes = self.strings()?;
                self.keyword("to")?;
                Body::Requirement(Requirement {
                    scopes,
                    target: self.target()?,
                })
            }
            _ => return self.error("expected a statement"),
        };
        Ok(Statement {
            file: self.file.to_owned(),
            line,
            body,
        })
    }

    /// `claims { (roles|scopes|client) from S, ... ... }`.
    fn claims(&mut self) -> Parsed<Body> {
        self.keyword("claims")?;
        self.symbol("{")?;
        let mut lines = Vec::new();
        while !self.eat_symbol("}") {
            let field = match self.peek_word() {
                "roles" => ClaimField::Roles,
                "scopes" => ClaimField::Scopes,
                "client" => ClaimField::Client,
                _ => return self.error("expected `roles`, `scopes`, `client` or `}`"),
            };
            self.at += self.peek_word().len();
            self.keyword("from")?;
            lines.push((field, self.strings()?));
        }
        Ok(Body::Claims(lines))
    }

    /// `allow|deny SUBJECTS to ACTIONS KIND PATTERNS [if COND | unless COND]`.
    fn rule(&mut self) -> Parsed<Rule> {
        let effect = if self.eat_keyword("allow") {
            Effect::Allow
        } else {
            self.keyword("deny")?;
            Effect::Deny
        };
        let subjects = if self.eat_keyword("anyone") {
            Subjects::Anyone
        } else {
            Subjects::Roles(self.comma_list(Self::name)?)
        };
        self.keyword("to")?;
        let target = self.target()?;
        let condition = if self.eat_keyword("if") {
            Some(Condition {
                unless: false,
                expr: self.disjunction()?,
            })
        } else if self.eat_keyword("unless") {
            Some(Condition {
                unless: true,
                expr: self.disjunction()?,
            })
        } else {
            None
        };
        Ok(Rule {
            effect,
            subjects,
            target,
            condition,
        })
    }

    /// `ACTIONS KIND PATTERNS`.
    fn target(&mut self) -> Parsed<Target> {
        let actions = self.comma_list(|parser| {
            let word = parser.peek_word();
            match Action::from_keyword(word) {
                Some(action) => {
                    parser.at += word.len();
                    Ok(action)
                }
                None => parser.error("expected `list`, `call`, `read` or `get`"),
            }
        })?;
        let word = self.peek_word();
        let Some(kind) = Kind::from_keyword(word) else {
            return self.error("expected `tools`, `resources` or `prompts`");
        };
        self.at += word.len();
        Ok(Target {
            actions,
            kind,
            patterns: self.strings()?,
        })
    }

    // ------------------------------------------------------------ networks and windows

    /// `[CIDR, ...]`; a CIDR is a run of hex digits, `:`, `.` and `/`, kept as text.
    fn cidr_list(&mut self) -> Parsed<Vec<String>> {
        self.symbol("[")?;
        let cidrs = self.comma_list(|parser| {
            parser.skip_trivia();
            let rest = parser.rest();
            let length = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '/')))
                .unwrap_or(rest.len());
            if length == 0 {
                return parser.error("expected an address or CIDR");
            }
            parser.at += length;
            Ok(rest[..length].to_owned())
        })?;
        self.symbol("]")?;
        Ok(cidrs)
    }

    /// WINDOW: `[DAYS] [HH:MM-HH:MM] [tz "Zone"]`.
    fn window(&mut self) -> Parsed<Window> {
        let mut window = Window {
            days: Vec::new(),
            hours: None,
            tz: None,
        };
        if self.peek_day().is_some() {
            window.days = self.comma_list(Self::day_item)?;
        }
        self.skip_trivia();
        if self.rest().starts_with(|c: char| c.is_ascii_digit()) {
            let start = self.clock()?;
            self.symbol("-")?;
            let end = self.clock()?;
            window.hours = Some((start, end));
        }
        if self.eat_keyword("tz") {
            window.tz = Some(self.string()?);
        }
        if window.days.is_empty() && window.hours.is_none() && window.tz.is_none() {
            return self.error("expected days, hours or `tz`");
        }
        Ok(window)
    }

    /// The day keyword next (a run of letters, digits and `_`, so that `mon-fri` reads
    /// as `mon`, `-`, `fri`), as Monday = 0, without consuming it.
    fn peek_day(&mut self) -> Option<(u8, usize)> {
        self.skip_trivia();
        let rest = self.rest();
        let length = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let index = DAY_WORDS.iter().position(|day| *day == &rest[..length])?;
        Some((u8::try_from(index).ok()?, length))
    }

    /// A day keyword.
    fn day(&mut self) -> Parsed<u8> {
        match self.peek_day() {
            Some((day, length)) => {
                self.at += length;
                Ok(day)
            }
            None => self.error("expected a day (`mon` ... `sun`)"),
        }
    }

    /// `DAY` or `DAY-DAY`.
    fn day_item(&mut self) -> Parsed<DayItem> {
        let first = self.day()?;
        if self.eat_symbol("-") {
            Ok(DayItem::Range(first, self.day()?))
        } else {
            Ok(DayItem::Day(first))
        }
    }

    /// `HH:MM` as `(hour, minute)`.
    fn clock(&mut self) -> Parsed<(u32, u32)> {
        self.skip_trivia();
        let rest = self.rest();
        let digits = |text: &str| text.bytes().take_while(u8::is_ascii_digit).count();
        let hour_length = digits(rest);
        let after_hour = &rest[hour_length..];
        if hour_length == 0 || !after_hour.starts_with(':') {
            return self.error("expected a time of day `HH:MM`");
        }
        let minute_length = digits(&after_hour[1..]);
        if minute_length == 0 {
            return self.error("expected minutes after `:`");
        }
        let hour = rest[..hour_length].parse().ok();
        let minute = after_hour[1..=minute_length].parse().ok();
        let (Some(hour), Some(minute)) = (hour, minute) else {
            return self.error("a time of day out of range");
        };
        self.at += hour_length + 1 + minute_length;
        Ok((hour, minute))
    }

    // ------------------------------------------------------------ conditions

    /// `DISJ := CONJ ("or" CONJ)*`.
    fn disjunction(&mut self) -> Parsed<Expr> {
        let mut operands = vec![self.conjunction()?];
        while self.eat_keyword("or") {
            operands.push(self.conjunction()?);
        }
        Ok(if operands.len() == 1 {
            operands.remove(0)
        } else {
            Expr::Or(operands)
        })
    }

    /// `CONJ := NEG ("and" NEG)*`.
    fn conjunction(&mut self) -> Parsed<Expr> {
        let mut operands = vec![self.negation()?];
        while self.eat_keyword("and") {
            operands.push(self.negation()?);
        }
        Ok(if operands.len() == 1 {
            operands.remove(0)
        } else {
            Expr::And(operands)
        })
    }

    /// `NEG := "not" NEG | "(" COND ")" | ATOM`.
    fn negation(&mut self) -> Parsed<Expr> {
        if self.eat_keyword("not") {
            return Ok(Expr::Not(Box::new(self.negation()?)));
        }
        if self.eat_symbol("(") {
            let inner = self.disjunction()?;
            self.symbol(")")?;
            return Ok(inner);
        }
        Ok(Expr::Atom(self.atom()?))
    }

    /// ATOM.
    fn atom(&mut self) -> Parsed<Atom> {
        let word = self.peek_word();
        match word {
            "scope" | "role" | "client" | "ip" | "time" | "claim" | "arg" | "true" | "false" => {
                self.at += word.len();
            }
            _ => return self.error("expected a condition"),
        }
        Ok(match word {
            "scope" => Atom::Scope(self.string()?),
            "role" => Atom::Role(self.name()?),
            "client" => Atom::Client(self.string()?),
            "ip" => {
                self.keyword("in")?;
                if self.at_symbol("[") {
                    Atom::IpIn(Named::Inline(self.cidr_list()?))
                } else {
                    Atom::IpIn(Named::Name(self.name()?))
                }
            }
            "time" => {
                if self.eat_keyword("before") {
                    Atom::TimeBefore(self.string()?)
                } else if self.eat_keyword("after") {
                    Atom::TimeAfter(self.string()?)
                } else {
                    self.keyword("in")?;
                    if self.eat_symbol("[") {
                        let window = self.window()?;
                        self.symbol("]")?;
                        Atom::TimeIn(Named::Inline(window))
                    } else {
                        Atom::TimeIn(Named::Name(self.name()?))
                    }
                }
            }
            "claim" => {
                let path = self.string()?;
                Atom::Claim(path, self.claim_test()?)
            }
            "arg" => {
                let path = self.string()?;
                Atom::Arg(path, self.arg_test()?)
            }
            "true" => Atom::Bool(true),
            _ => Atom::Bool(false),
        })
    }

    /// `(== | !=) LITERAL`, `contains LITERAL` or `exists`.
    fn claim_test(&mut self) -> Parsed<Test> {
        if self.eat_symbol("==") {
            return Ok(Test::Equals(self.literal()?));
        }
        if self.eat_symbol("!=") {
            return Ok(Test::NotEquals(self.literal()?));
        }
        if self.eat_keyword("contains") {
            return Ok(Test::Contains(self.literal()?));
        }
        if self.eat_keyword("exists") {
            return Ok(Test::Exists);
        }
        self.error("expected `==`, `!=`, `contains` or `exists`")
    }

    /// What a claim atom allows, and `in [...]`, `matches S`, `< <= > >= NUMBER`.
    fn arg_test(&mut self) -> Parsed<Test> {
        if self.eat_keyword("in") {
            self.symbol("[")?;
            let literals = self.comma_list(Self::literal)?;
            self.symbol("]")?;
            return Ok(Test::In(literals));
        }
        if self.eat_keyword("matches") {
            return Ok(Test::Matches(self.string()?));
        }
        // Two-character operators first, so that `<=` is not read as `<`.
        for (symbol, order) in [
            ("<=", Order::LessOrEqual),
            (">=", Order::GreaterOrEqual),
            ("<", Order::Less),
            (">", Order::Greater),
        ] {
            if self.eat_symbol(symbol) {
                return match self.number()? {
                    Some(number) => Ok(Test::Order(order, number)),
                    None => self.error("expected a number"),
                };
            }
        }
        self.claim_test()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Body {
        let mut policy = parse_text("t.policy", text).unwrap();
        assert_eq!(policy.statements.len(), 1, "{policy:?}");
        policy.statements.remove(0).body
    }

    fn condition(text: &str) -> Expr {
        let Body::Rule(rule) = one(&format!("allow anyone to call tools \"x\" if {text}")) else {
            panic!("not a rule");
        };
        rule.condition.unwrap().expr
    }

    fn atom(atom: Atom) -> Expr {
        Expr::Atom(atom)
    }

    fn scope(name: &str) -> Expr {
        atom(Atom::Scope(name.to_owned()))
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        assert_eq!(
            condition("scope \"a\" or not scope \"b\" and scope \"c\""),
            Expr::Or(vec![
                scope("a"),
                Expr::And(vec![Expr::Not(Box::new(scope("b"))), scope("c")])
            ])
        );
        assert_eq!(
            condition("not (scope \"a\" or scope \"b\")"),
            Expr::Not(Box::new(Expr::Or(vec![scope("a"), scope("b")])))
        );
        assert_eq!(
            condition("not not true"),
            Expr::Not(Box::new(Expr::Not(Box::new(atom(Atom::Bool(true))))))
        );
    }

    #[test]
    fn statements_span_lines_and_end_at_the_next_keyword() {
        let policy = parse_text(
            "t.policy",
            "# a comment\nrole a   # trailing\n  allow a to\n call tools \"x\"\n if role a\nscope \"s\" deny anyone to list tools \"*\"",
        )
        .unwrap();
        let lines: Vec<String> = policy.statements.iter().map(Statement::location).collect();
        assert_eq!(
            lines,
            ["t.policy:2", "t.policy:3", "t.policy:6", "t.policy:6"]
        );
        assert!(parse_text("t.policy", "role a b").is_err());
        assert!(parse_text("t.policy", "role allow").is_err());
    }

    #[test]
    fn strings_keep_glob_escapes_and_decode_the_rest() {
        assert_eq!(
            one(r#"scope "lit\*star", "a\\b", "q\"\n\t", "caf\u{e9}", "what\?""#),
            Body::Scope {
                scopes: vec![
                    r"lit\*star".to_owned(),
                    r"a\b".to_owned(),
                    "q\"\n\t".to_owned(),
                    "caf\u{e9}".to_owned(),
                    r"what\?".to_owned(),
                ],
                implies: Vec::new()
            }
        );
        assert!(parse_text("t.policy", r#"scope "a\x""#).is_err());
    }

    #[test]
    fn windows_read_days_hours_and_zones() {
        assert_eq!(
            one("window w = mon-fri, sun 22:00-02:30 tz \"Europe/Berlin\""),
            Body::Window {
                name: "w".to_owned(),
                window: Window {
                    days: vec![DayItem::Range(0, 4), DayItem::Day(6)],
                    hours: Some(((22, 0), (2, 30))),
                    tz: Some("Europe/Berlin".to_owned()),
                }
            }
        );
        assert_eq!(
            one("window w = fri - mon"),
            Body::Window {
                name: "w".to_owned(),
                window: Window {
                    days: vec![DayItem::Range(4, 0)],
                    hours: None,
                    tz: None,
                }
            }
        );
    }

    #[test]
    fn atoms_of_every_form() {
        assert_eq!(
            condition("ip in [10.0.0.0/8, ::ffff:10.0.0.0/104, 2001:db8::1]"),
            atom(Atom::IpIn(Named::Inline(vec![
                "10.0.0.0/8".to_owned(),
                "::ffff:10.0.0.0/104".to_owned(),
                "2001:db8::1".to_owned()
            ])))
        );
        assert_eq!(
            condition("arg \"/a~1b\" <= -4.50"),
            atom(Atom::Arg(
                "/a~1b".to_owned(),
                Test::Order(Order::LessOrEqual, "-4.50".to_owned())
            ))
        );
        assert_eq!(
            condition("arg \"x\" in [1, \"a\", true]"),
            atom(Atom::Arg(
                "x".to_owned(),
                Test::In(vec![
                    Literal::Number("1".to_owned()),
                    Literal::String("a".to_owned()),
                    Literal::Bool(true)
                ])
            ))
        );
        assert_eq!(
            condition("claim \"a.b\" != 42.0"),
            atom(Atom::Claim(
                "a.b".to_owned(),
                Test::NotEquals(Literal::Number("42.0".to_owned()))
            ))
        );
        assert_eq!(
            condition("time in [sat,sun]"),
            atom(Atom::TimeIn(Named::Inline(Window {
                days: vec![DayItem::Day(5), DayItem::Day(6)],
                hours: None,
                tz: None
            })))
        );
        assert_eq!(
            condition("time after \"2026-01-01T00:00:00Z\""),
            atom(Atom::TimeAfter("2026-01-01T00:00:00Z".to_owned()))
        );
    }

    #[test]
    fn files_are_read_in_order() {
        let policy = parse_files([
            ("a.policy", "role r"),
            ("b.policy", "\nallow r to list tools \"*\""),
        ])
        .unwrap();
        let lines: Vec<String> = policy.statements.iter().map(Statement::location).collect();
        assert_eq!(lines, ["a.policy:1", "b.policy:2"]);
    }
}
