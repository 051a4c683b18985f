//! The syntax tree of a policy, as written.
//!
//! [`crate::parse`] builds it; [`crate::check`] resolves names and validates values.
//! Every node carries the [`Span`] of the text it came from. Values the grammar only
//! shapes (addresses, clock times, instants, time zones, patterns) are kept as written
//! and validated by the checker, so that one run reports every problem.

use crate::source::Span;

/// A whole policy as written: the statements of all its files, in policy order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyntaxTree {
    /// Statements in file order, then position.
    pub statements: Vec<Statement>,
}

/// One statement and the text it spans (first keyword to last token).
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// What the statement says.
    pub kind: StatementKind,
    /// From its first keyword to the end of its last token.
    pub span: Span,
}

/// The statements of the language.
#[derive(Debug, Clone, PartialEq)]
pub enum StatementKind {
    /// `timezone "IANA/Zone"`.
    Timezone(Text),
    /// `claims { ... }`.
    Claims(ClaimsBlock),
    /// `scope S, ... [implies S, ...]`.
    Scope(ScopeDecl),
    /// `role NAME [inherits NAME, ...] [aka S, ...]`.
    Role(RoleDecl),
    /// `network NAME = [CIDR, ...]`.
    Network(NetworkDecl),
    /// `window NAME = WINDOW`.
    Window(WindowDecl),
    /// `allow|deny SUBJECTS to ACTIONS KIND PATTERNS [if|unless COND]`.
    Rule(Rule),
    /// `require scope S, ... to ACTIONS KIND PATTERNS`.
    Requirement(Requirement),
}

/// A name (role, network, window) as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// A string literal: its value after escapes, and the span of the quoted text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// The value with escapes applied.
    pub value: String,
    /// The span of the literal, quotes included.
    pub span: Span,
}

/// `claims { roles from ...  scopes from ...  client from ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimsBlock {
    /// The lines in the order written.
    pub lines: Vec<ClaimsLine>,
}

/// One line of a claims block: `roles from "a", "b.c"`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimsLine {
    /// Which part of the principal the paths give.
    pub field: ClaimField,
    /// The span of the field keyword.
    pub field_span: Span,
    /// The claim paths, in priority order.
    pub paths: Vec<Text>,
    /// The whole line.
    pub span: Span,
}

/// The principal parts a claims block maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClaimField {
    /// `roles from`.
    Roles,
    /// `scopes from`.
    Scopes,
    /// `client from`.
    Client,
}

impl ClaimField {
    /// The keyword as written.
    pub fn keyword(self) -> &'static str {
        match self {
            ClaimField::Roles => "roles",
            ClaimField::Scopes => "scopes",
            ClaimField::Client => "client",
        }
    }
}

/// `scope "a", "b" implies "c"`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeDecl {
    /// The scopes declared (before `implies`).
    pub scopes: Vec<Text>,
    /// The scopes each declared scope implies (after `implies`); may be empty.
    pub implies: Vec<Text>,
}

/// `role NAME [inherits NAME, ...] [aka S, ...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleDecl {
    /// The role's name.
    pub name: Ident,
    /// Its parents.
    pub inherits: Vec<Ident>,
    /// External claim values that also grant it.
    pub aka: Vec<Text>,
}

/// `network NAME = [CIDR, ...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkDecl {
    /// The network's name.
    pub name: Ident,
    /// Its ranges.
    pub cidrs: Vec<Cidr>,
}

/// An address or CIDR as written (validated by the checker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cidr {
    /// The text, e.g. `10.0.0.0/8` or `2001:db8::1`.
    pub text: String,
    /// Where it is written.
    pub span: Span,
}

/// `window NAME = WINDOW`.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowDecl {
    /// The window's name.
    pub name: Ident,
    /// The window.
    pub window: Window,
}

/// `[DAYS] [HH:MM-HH:MM] [tz "IANA/Zone"]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// The days, if given.
    pub days: Option<Days>,
    /// The hours, if given.
    pub hours: Option<Hours>,
    /// The window's own time zone, if given.
    pub tz: Option<Text>,
    /// The whole window.
    pub span: Span,
}

/// A list of days and day ranges: `mon-fri`, `sat,sun`, `fri-mon`.
#[derive(Debug, Clone, PartialEq)]
pub struct Days {
    /// The items in the order written.
    pub items: Vec<DayItem>,
    /// The whole list.
    pub span: Span,
}

/// One item of a day list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayItem {
    /// A single day.
    Single(Day, Span),
    /// A range `first-last`, wrapping past Sunday when `last` comes before `first`.
    Range(Day, Day, Span),
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Day {
    /// `mon`.
    Mon,
    /// `tue`.
    Tue,
    /// `wed`.
    Wed,
    /// `thu`.
    Thu,
    /// `fri`.
    Fri,
    /// `sat`.
    Sat,
    /// `sun`.
    Sun,
}

impl Day {
    /// All days, Monday first.
    pub const ALL: [Day; 7] = [
        Day::Mon,
        Day::Tue,
        Day::Wed,
        Day::Thu,
        Day::Fri,
        Day::Sat,
        Day::Sun,
    ];

    /// Monday = 0 ... Sunday = 6.
    pub fn index(self) -> u8 {
        self as u8
    }

    /// The keyword as written (`mon`).
    pub fn keyword(self) -> &'static str {
        match self {
            Day::Mon => "mon",
            Day::Tue => "tue",
            Day::Wed => "wed",
            Day::Thu => "thu",
            Day::Fri => "fri",
            Day::Sat => "sat",
            Day::Sun => "sun",
        }
    }
}

/// `HH:MM-HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours {
    /// Inclusive start.
    pub start: ClockTime,
    /// Exclusive end; before the start, the range wraps past midnight.
    pub end: ClockTime,
    /// The whole range.
    pub span: Span,
}

/// `HH:MM` as written (validated by the checker: hour <= 24, minute <= 59).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockTime {
    /// The hour as written (saturated at `u32::MAX`).
    pub hour: u32,
    /// The minute as written (saturated at `u32::MAX`).
    pub minute: u32,
    /// Where it is written.
    pub span: Span,
}

/// `allow` or `deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// `allow`.
    Allow,
    /// `deny`.
    Deny,
}

impl Effect {
    /// The keyword as written.
    pub fn keyword(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
        }
    }
}

/// `allow|deny SUBJECTS to ACTIONS KIND PATTERNS [if|unless COND]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Allow or deny.
    pub effect: Effect,
    /// Who the rule is about.
    pub subjects: Subjects,
    /// The actions, at least one.
    pub actions: Vec<ActionName>,
    /// The kind of name the patterns match.
    pub kind: KindName,
    /// The name patterns, at least one.
    pub patterns: Vec<Text>,
    /// The condition, if any.
    pub condition: Option<Condition>,
}

/// `anyone` or a list of role names.
#[derive(Debug, Clone, PartialEq)]
pub enum Subjects {
    /// Any authenticated principal.
    Anyone(Span),
    /// Any principal holding one of these roles.
    Roles(Vec<Ident>),
}

/// An action keyword as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionName {
    /// The action.
    pub action: Action,
    /// Where it is written.
    pub span: Span,
}

/// The actions of the language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// `list` (every kind).
    List,
    /// `call` (tools).
    Call,
    /// `read` (resources).
    Read,
    /// `get` (prompts).
    Get,
}

impl Action {
    /// The keyword as written.
    pub fn keyword(self) -> &'static str {
        match self {
            Action::List => "list",
            Action::Call => "call",
            Action::Read => "read",
            Action::Get => "get",
        }
    }

    /// Parses a keyword.
    pub fn from_keyword(word: &str) -> Option<Action> {
        match word {
            "list" => Some(Action::List),
            "call" => Some(Action::Call),
            "read" => Some(Action::Read),
            "get" => Some(Action::Get),
            _ => None,
        }
    }
}

/// A kind keyword as written (singular or plural).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindName {
    /// The kind.
    pub kind: Kind,
    /// Where it is written.
    pub span: Span,
}

/// The kinds of names an MCP server exposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Tools: `list`, `call`.
    Tool,
    /// Resources: `list`, `read`.
    Resource,
    /// Prompts: `list`, `get`.
    Prompt,
}

impl Kind {
    /// All kinds.
    pub const ALL: [Kind; 3] = [Kind::Tool, Kind::Resource, Kind::Prompt];

    /// The plural keyword (`tools`).
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Tool => "tools",
            Kind::Resource => "resources",
            Kind::Prompt => "prompts",
        }
    }

    /// The singular word (`tool`), also the request field's name.
    pub fn singular(self) -> &'static str {
        match self {
            Kind::Tool => "tool",
            Kind::Resource => "resource",
            Kind::Prompt => "prompt",
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

    /// Whether `action` is valid for this kind.
    pub fn allows(self, action: Action) -> bool {
        action == Action::List || action == self.use_action()
    }
}

/// `require scope S, ... to ACTIONS KIND PATTERNS`.
#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    /// The scopes needed, at least one.
    pub scopes: Vec<Text>,
    /// The actions, at least one.
    pub actions: Vec<ActionName>,
    /// The kind of name the patterns match.
    pub kind: KindName,
    /// The name patterns, at least one.
    pub patterns: Vec<Text>,
}

/// `if COND` or `unless COND`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// `if` or `unless`.
    pub mode: ConditionMode,
    /// The span of the `if` / `unless` keyword.
    pub keyword_span: Span,
    /// The condition after the keyword.
    pub expr: Expr,
}

/// How a rule's condition applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionMode {
    /// `if C`: the rule applies when C holds.
    If,
    /// `unless C`: the rule applies when `not C` holds.
    Unless,
}

/// A condition expression; parentheses are not kept, their span is.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// The expression.
    pub kind: ExprKind,
    /// Its text (parentheses included when it was written in them).
    pub span: Span,
}

/// The forms of a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `a or b or ...` (two or more).
    Or(Vec<Expr>),
    /// `a and b and ...` (two or more).
    And(Vec<Expr>),
    /// `not a`.
    Not(Box<Expr>),
    /// A single atom.
    Atom(Atom),
}

/// The atoms of a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Atom {
    /// `scope S`: the token holds scope S (effective scopes).
    Scope(Text),
    /// `role NAME`: NAME is among the principal's effective roles.
    Role(Ident),
    /// `client S`: the client id equals S.
    Client(Text),
    /// `ip in NAME` or `ip in [CIDR, ...]`.
    IpIn(NetworkRef),
    /// `time in NAME` or `time in [WINDOW]`.
    TimeIn(WindowRef),
    /// `time before S`: the request time is before the instant.
    TimeBefore(Text),
    /// `time after S`: the request time is at or after the instant.
    TimeAfter(Text),
    /// `claim S == LITERAL` or `claim S != LITERAL`.
    ClaimCompare {
        /// The claim path.
        path: Text,
        /// `==` or `!=`.
        op: CompareOp,
        /// The value compared with.
        value: Literal,
    },
    /// `claim S contains LITERAL`.
    ClaimContains {
        /// The claim path.
        path: Text,
        /// The value looked for.
        value: Literal,
    },
    /// `claim S exists`.
    ClaimExists {
        /// The claim path.
        path: Text,
    },
    /// `arg S ...`: a test of the call's arguments (v1.1).
    Arg {
        /// The argument path.
        path: Text,
        /// What is tested.
        test: ArgOperator,
    },
    /// `true` or `false`.
    Bool(bool),
}

/// What an `arg` atom tests.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgOperator {
    /// `== LITERAL` or `!= LITERAL`.
    Compare {
        /// `==` or `!=`.
        op: CompareOp,
        /// The value compared with.
        value: Literal,
    },
    /// `in [LITERAL, ...]`.
    In(Vec<Literal>),
    /// `contains LITERAL`.
    Contains(Literal),
    /// `matches "GLOB"`.
    Matches(Text),
    /// `< NUMBER`, `<=`, `>`, `>=`.
    Order {
        /// The comparison.
        op: OrderOp,
        /// The number (an integer or decimal literal).
        value: Literal,
    },
    /// `exists`.
    Exists,
}

/// `<`, `<=`, `>` or `>=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderOp {
    /// `<`.
    Less,
    /// `<=`.
    LessOrEqual,
    /// `>`.
    Greater,
    /// `>=`.
    GreaterOrEqual,
}

impl OrderOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            OrderOp::Less => "<",
            OrderOp::LessOrEqual => "<=",
            OrderOp::Greater => ">",
            OrderOp::GreaterOrEqual => ">=",
        }
    }

    /// Whether `ordering` (of the argument against the literal) satisfies the operator.
    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            OrderOp::Less => ordering == Less,
            OrderOp::LessOrEqual => matches!(ordering, Less | Equal),
            OrderOp::Greater => ordering == Greater,
            OrderOp::GreaterOrEqual => matches!(ordering, Greater | Equal),
        }
    }
}

/// `==` or `!=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
}

/// A network named or written inline.
#[derive(Debug, Clone, PartialEq)]
pub enum NetworkRef {
    /// `ip in office`.
    Named(Ident),
    /// `ip in [10.0.0.0/8, ...]`.
    Inline(Vec<Cidr>),
}

/// A window named or written inline.
#[derive(Debug, Clone, PartialEq)]
pub enum WindowRef {
    /// `time in business_hours`.
    Named(Ident),
    /// `time in [mon-fri 09:00-17:00]`.
    Inline(Window),
}

/// A claim literal.
#[derive(Debug, Clone, PartialEq)]
pub struct Literal {
    /// The value.
    pub value: LiteralValue,
    /// Where it is written.
    pub span: Span,
}

/// The values a claim can be compared with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LiteralValue {
    /// A string.
    String(String),
    /// An integer.
    Integer(i64),
    /// A decimal (v1.1): an integer, `.`, digits.
    Decimal(Decimal),
    /// `true` or `false`.
    Bool(bool),
}

impl LiteralValue {
    /// The literal as a policy writes it.
    pub fn to_source(&self) -> String {
        match self {
            LiteralValue::String(text) => quote(text),
            LiteralValue::Integer(number) => number.to_string(),
            LiteralValue::Decimal(number) => number.to_string(),
            LiteralValue::Bool(value) => value.to_string(),
        }
    }
}

/// `text` as a policy string literal: in double quotes, with `\"`, `\\`, `\n`, `\t` and
/// `\u{HEX}` for other control characters.
pub fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for character in text.chars() {
        match character {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            control if control.is_control() => {
                quoted.push_str(&format!("\\u{{{:x}}}", u32::from(control)))
            }
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    quoted
}

/// A decimal literal: a finite number, kept with the text it was written as so that it
/// prints back unchanged. Equal when the values are equal (`-0.0` is `0.0`).
#[derive(Debug, Clone)]
pub struct Decimal {
    value: f64,
    text: Box<str>,
}

impl Decimal {
    /// The decimal of `text` (`-12.50`); `None` when it is not a finite number.
    pub fn parse(text: &str) -> Option<Decimal> {
        let value: f64 = text.parse().ok()?;
        value.is_finite().then(|| Decimal {
            value: if value == 0.0 { 0.0 } else { value },
            text: text.into(),
        })
    }

    /// `0.0`.
    pub fn zero() -> Decimal {
        Decimal {
            value: 0.0,
            text: "0.0".into(),
        }
    }

    /// Its value.
    pub fn value(&self) -> f64 {
        self.value
    }
}

impl PartialEq for Decimal {
    fn eq(&self, other: &Decimal) -> bool {
        self.value.to_bits() == other.value.to_bits()
    }
}

impl Eq for Decimal {}

impl std::hash::Hash for Decimal {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.to_bits().hash(state);
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}
