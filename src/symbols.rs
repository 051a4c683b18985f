//! Names in a policy's text, for editors: where each role, scope, network and window is
//! declared and used, what is known about it, and what may be written at a place.
//!
//! The language server (`toolgate lsp`) answers go-to-definition, find-references, hover,
//! completion and "did you mean" quick fixes from this module. Everything is read off the
//! syntax tree ([`crate::ast`]), not the checked policy, so that a policy with errors
//! elsewhere (the usual state of a file being typed) still answers: the role and scope
//! closures computed here are the ones [`crate::check::CheckedPolicy::role_closures`] and
//! [`crate::check::CheckedPolicy::scope_closures`] give once the policy checks (a test
//! holds them equal). Spans are byte ranges, as everywhere in the library; the binary
//! converts them to the editor's positions.
#![deny(clippy::indexing_slicing)]

use std::collections::{BTreeSet, HashMap};

use crate::ast::{
    self, Atom, Effect, ExprKind, NetworkRef, StatementKind, Subjects, SyntaxTree, WindowRef,
};
use crate::diagnostic::Diagnostic;
use crate::source::{SourceId, Span};
use crate::window::{day_mask, day_runs, ALL_DAYS};

/// What a name names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SymbolKind {
    /// A `role`.
    Role,
    /// An OAuth scope (a string: `"tool:read"`).
    Scope,
    /// A `network`.
    Network,
    /// A `window`.
    Window,
}

impl SymbolKind {
    /// The keyword that declares it: `role`, `scope`, `network`, `window`.
    pub fn keyword(self) -> &'static str {
        match self {
            SymbolKind::Role => "role",
            SymbolKind::Scope => "scope",
            SymbolKind::Network => "network",
            SymbolKind::Window => "window",
        }
    }
}

/// One place a name is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// What it names.
    pub kind: SymbolKind,
    /// The name (for a scope, the string's value).
    pub name: String,
    /// The text written: the name, or for a scope the string with its quotes.
    pub span: Span,
    /// Whether this place declares the name (`role NAME`, `scope "S"` before `implies`,
    /// `network NAME =`, `window NAME =`).
    pub declaration: bool,
}

/// A rule that applies to a role: it names the role, a role it inherits, or `anyone`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// `allow` or `deny`.
    pub effect: Effect,
    /// The whole statement.
    pub span: Span,
    /// The role the rule names that the role is or inherits; `None` for `anyone`.
    pub through: Option<String>,
}

/// What is known about a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleFacts {
    /// The role's name.
    pub name: String,
    /// The roles it inherits directly, as written.
    pub parents: Vec<String>,
    /// Every role it inherits, directly or not, nearest first (itself left out).
    pub inherited: Vec<String>,
    /// Its `aka` values.
    pub aka: Vec<String>,
    /// The rules that apply to it, in policy order: its effective permissions.
    pub rules: Vec<Grant>,
}

/// What is known about a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeFacts {
    /// The scope string.
    pub name: String,
    /// Whether a `scope` statement declares it.
    pub declared: bool,
    /// Every scope it implies, directly or not, nearest first (itself left out).
    pub implies: Vec<String>,
    /// Every scope that implies it, directly or not, sorted.
    pub implied_by: Vec<String>,
    /// The `require` statements that name it.
    pub required_by: Vec<Span>,
}

/// What is known about a network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkFacts {
    /// The network's name.
    pub name: String,
    /// Its addresses and ranges as written.
    pub ranges: Vec<String>,
}

/// What is known about a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowFacts {
    /// The window's name.
    pub name: String,
    /// The window in words: `Monday to Friday, from 09:00 to 17:00 (Europe/Berlin)`.
    pub words: String,
}

/// What is known about a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Facts {
    /// A role.
    Role(RoleFacts),
    /// A scope.
    Scope(ScopeFacts),
    /// A network.
    Network(NetworkFacts),
    /// A window.
    Window(WindowFacts),
}

/// Every name of a policy and where it is written.
#[derive(Debug, Clone, Default)]
pub struct SymbolIndex {
    /// Sorted by file, then start.
    occurrences: Vec<Occurrence>,
    /// Declared roles: parents and aka values, first declaration wins.
    roles: HashMap<String, (Vec<String>, Vec<String>)>,
    /// Direct implications of each scope named in a `scope` statement.
    implications: HashMap<String, Vec<String>>,
    /// Declared networks' ranges.
    networks: HashMap<String, Vec<String>>,
    /// Declared windows, with the words for them.
    windows: HashMap<String, String>,
    /// The rules: effect, span, subjects (`None` for `anyone`).
    rules: Vec<(Effect, Span, Option<Vec<String>>)>,
    /// The requirements: span and scopes.
    requirements: Vec<(Span, Vec<String>)>,
}

impl SymbolIndex {
    /// The names of a parsed policy (its statements that parsed).
    pub fn new(tree: &SyntaxTree) -> SymbolIndex {
        let zone = tree
            .statements
            .iter()
            .find_map(|statement| match &statement.kind {
                StatementKind::Timezone(zone) => Some(zone.value.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "UTC".to_string());
        let mut index = SymbolIndex::default();
        for statement in &tree.statements {
            index.statement(statement, &zone);
        }
        index
            .occurrences
            .sort_by_key(|occurrence| (occurrence.span.source, occurrence.span.start));
        index
    }

    fn add(&mut self, kind: SymbolKind, name: &str, span: Span, declaration: bool) {
        self.occurrences.push(Occurrence {
            kind,
            name: name.to_string(),
            span,
            declaration,
        });
    }

    fn statement(&mut self, statement: &ast::Statement, zone: &str) {
        match &statement.kind {
            StatementKind::Timezone(_) | StatementKind::Claims(_) => {}
            StatementKind::Scope(declaration) => {
                for scope in &declaration.scopes {
                    self.add(SymbolKind::Scope, &scope.value, scope.span, true);
                    let implied = self.implications.entry(scope.value.clone()).or_default();
                    for target in &declaration.implies {
                        if !implied.contains(&target.value) {
                            implied.push(target.value.clone());
                        }
                    }
                }
                for target in &declaration.implies {
                    self.add(SymbolKind::Scope, &target.value, target.span, false);
                }
            }
            StatementKind::Role(role) => {
                self.add(SymbolKind::Role, &role.name.name, role.name.span, true);
                for parent in &role.inherits {
                    self.add(SymbolKind::Role, &parent.name, parent.span, false);
                }
                self.roles.entry(role.name.name.clone()).or_insert_with(|| {
                    (
                        role.inherits.iter().map(|p| p.name.clone()).collect(),
                        role.aka.iter().map(|a| a.value.clone()).collect(),
                    )
                });
            }
            StatementKind::Network(network) => {
                self.add(
                    SymbolKind::Network,
                    &network.name.name,
                    network.name.span,
                    true,
                );
                self.networks
                    .entry(network.name.name.clone())
                    .or_insert_with(|| network.cidrs.iter().map(|c| c.text.clone()).collect());
            }
            StatementKind::Window(window) => {
                self.add(
                    SymbolKind::Window,
                    &window.name.name,
                    window.name.span,
                    true,
                );
                self.windows
                    .entry(window.name.name.clone())
                    .or_insert_with(|| window_words(&window.window, zone));
            }
            StatementKind::Rule(rule) => {
                let subjects = match &rule.subjects {
                    Subjects::Anyone(_) => None,
                    Subjects::Roles(roles) => {
                        for role in roles {
                            self.add(SymbolKind::Role, &role.name, role.span, false);
                        }
                        Some(roles.iter().map(|role| role.name.clone()).collect())
                    }
                };
                self.rules.push((rule.effect, statement.span, subjects));
                if let Some(condition) = &rule.condition {
                    self.condition(&condition.expr);
                }
            }
            StatementKind::Requirement(requirement) => {
                for scope in &requirement.scopes {
                    self.add(SymbolKind::Scope, &scope.value, scope.span, false);
                }
                let scopes = requirement.scopes.iter().map(|s| s.value.clone());
                self.requirements.push((statement.span, scopes.collect()));
            }
        }
    }

    /// The names a condition uses, walked with a stack of its own.
    fn condition(&mut self, expr: &ast::Expr) {
        let mut pending = vec![expr];
        while let Some(expr) = pending.pop() {
            match &expr.kind {
                ExprKind::Or(items) | ExprKind::And(items) => pending.extend(items.iter().rev()),
                ExprKind::Not(inner) => pending.push(inner),
                ExprKind::Atom(Atom::Scope(scope)) => {
                    self.add(SymbolKind::Scope, &scope.value, scope.span, false)
                }
                ExprKind::Atom(Atom::Role(role)) => {
                    self.add(SymbolKind::Role, &role.name, role.span, false)
                }
                ExprKind::Atom(Atom::IpIn(NetworkRef::Named(network))) => {
                    self.add(SymbolKind::Network, &network.name, network.span, false)
                }
                ExprKind::Atom(Atom::TimeIn(WindowRef::Named(window))) => {
                    self.add(SymbolKind::Window, &window.name, window.span, false)
                }
                ExprKind::Atom(_) => {}
            }
        }
    }

    /// Every occurrence, sorted by file and position.
    pub fn occurrences(&self) -> &[Occurrence] {
        &self.occurrences
    }

    /// The name written at byte `offset` of file `source`: the occurrence whose span
    /// holds the offset or ends at it (a cursor just after a name is on it).
    pub fn at(&self, source: SourceId, offset: usize) -> Option<&Occurrence> {
        self.occurrences
            .iter()
            .filter(|o| o.span.source == source && o.span.range().contains(&offset))
            .chain(
                self.occurrences
                    .iter()
                    .filter(|o| o.span.source == source && o.span.end as usize == offset),
            )
            .next()
    }

    /// Where the name of `kind` is declared (more than one place for a duplicate, none
    /// for an undeclared name).
    pub fn declarations(&self, kind: SymbolKind, name: &str) -> Vec<Span> {
        self.occurrences
            .iter()
            .filter(|o| o.declaration && o.kind == kind && o.name == name)
            .map(|o| o.span)
            .collect()
    }

    /// Every place the name of `kind` is written, declarations included.
    pub fn references(&self, kind: SymbolKind, name: &str) -> Vec<&Occurrence> {
        self.occurrences
            .iter()
            .filter(|o| o.kind == kind && o.name == name)
            .collect()
    }

    /// The names of `kind` worth offering: the declared ones, and for scopes also those
    /// only used; sorted, without repeats.
    pub fn names(&self, kind: SymbolKind) -> Vec<&str> {
        let names: BTreeSet<&str> = self
            .occurrences
            .iter()
            .filter(|o| o.kind == kind && (o.declaration || kind == SymbolKind::Scope))
            .map(|o| o.name.as_str())
            .collect();
        names.into_iter().collect()
    }

    /// Every role `name` inherits, nearest first, itself left out (undeclared parents and
    /// loops are skipped).
    pub fn inherited(&self, name: &str) -> Vec<String> {
        closure(name, |role| {
            self.roles
                .get(role)
                .map(|(parents, _)| parents.as_slice())
                .unwrap_or_default()
        })
    }

    /// Every scope `name` implies, nearest first, itself left out.
    pub fn implied(&self, name: &str) -> Vec<String> {
        closure(name, |scope| {
            self.implications
                .get(scope)
                .map(Vec::as_slice)
                .unwrap_or_default()
        })
    }

    /// What is known about the name of `kind`; `None` for a role, network or window
    /// that is not declared, or a scope written nowhere.
    pub fn facts(&self, kind: SymbolKind, name: &str) -> Option<Facts> {
        match kind {
            SymbolKind::Role => {
                let (parents, aka) = self.roles.get(name)?;
                let inherited = self.inherited(name);
                let rules = self
                    .rules
                    .iter()
                    .filter_map(|(effect, span, subjects)| {
                        let through = match subjects {
                            None => None,
                            Some(roles) => Some(
                                std::iter::once(name)
                                    .chain(inherited.iter().map(String::as_str))
                                    .find(|role| roles.iter().any(|r| r == role))?
                                    .to_string(),
                            ),
                        };
                        Some(Grant {
                            effect: *effect,
                            span: *span,
                            through,
                        })
                    })
                    .collect();
                Some(Facts::Role(RoleFacts {
                    name: name.to_string(),
                    parents: parents.clone(),
                    inherited,
                    aka: aka.clone(),
                    rules,
                }))
            }
            SymbolKind::Scope => {
                if self.references(kind, name).is_empty() {
                    return None;
                }
                let mut implied_by: Vec<String> = self
                    .implications
                    .keys()
                    .filter(|scope| *scope != name && self.implied(scope).iter().any(|s| s == name))
                    .cloned()
                    .collect();
                implied_by.sort();
                Some(Facts::Scope(ScopeFacts {
                    name: name.to_string(),
                    declared: !self.declarations(kind, name).is_empty(),
                    implies: self.implied(name),
                    implied_by,
                    required_by: self
                        .requirements
                        .iter()
                        .filter(|(_, scopes)| scopes.iter().any(|s| s == name))
                        .map(|(span, _)| *span)
                        .collect(),
                }))
            }
            SymbolKind::Network => Some(Facts::Network(NetworkFacts {
                name: name.to_string(),
                ranges: self.networks.get(name)?.clone(),
            })),
            SymbolKind::Window => Some(Facts::Window(WindowFacts {
                name: name.to_string(),
                words: self.windows.get(name)?.clone(),
            })),
        }
    }
}

/// Every node reachable from `start` over `edges`, breadth first, `start` left out.
fn closure<'a>(start: &'a str, edges: impl Fn(&str) -> &'a [String]) -> Vec<String> {
    let mut reached: Vec<&str> = vec![start];
    let mut next = 0;
    while let Some(node) = reached.get(next).copied() {
        next += 1;
        for target in edges(node) {
            if !reached.contains(&target.as_str()) {
                reached.push(target);
            }
        }
    }
    reached.into_iter().skip(1).map(str::to_string).collect()
}

/// A window in words: `Monday to Friday, from 09:00 to 17:00 (Europe/Berlin)`.
/// `zone` is the policy's time zone, used when the window names none.
pub fn window_words(window: &ast::Window, zone: &str) -> String {
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let mask = match &window.days {
        Some(days) => day_mask(&days.items),
        None => ALL_DAYS,
    };
    let name = |day: usize| DAYS.get(day % 7).copied().unwrap_or("?");
    let runs: Vec<String> = day_runs(mask)
        .into_iter()
        .map(|(day, last)| match last - day {
            0 => name(day).to_string(),
            1 => format!("{} and {}", name(day), name(last)),
            _ => format!("{} to {}", name(day), name(last)),
        })
        .collect();
    let days = if mask & ALL_DAYS == ALL_DAYS {
        "every day".to_string()
    } else if runs.is_empty() {
        "no day".to_string()
    } else {
        runs.join(", ")
    };
    let hours = match &window.hours {
        None => "all day".to_string(),
        Some(hours) => {
            let clock = |time: &ast::ClockTime| format!("{:02}:{:02}", time.hour, time.minute);
            let (start, end) = (clock(&hours.start), clock(&hours.end));
            let wraps =
                (hours.end.hour, hours.end.minute) <= (hours.start.hour, hours.start.minute);
            if wraps {
                format!("from {start} to {end} the next day")
            } else {
                format!("from {start} to {end}")
            }
        }
    };
    let zone = window.tz.as_ref().map_or(zone, |tz| tz.value.as_str());
    format!("{days}, {hours} ({zone})")
}

/// The name a diagnostic's help suggests (`did you mean `x`?`), if any.
pub fn suggestion(diagnostic: &Diagnostic) -> Option<&str> {
    let help = diagnostic.help.as_deref()?;
    help.strip_prefix("did you mean `")?.strip_suffix("`?")
}

/// The text that applies a diagnostic's suggestion in place of the text it underlines,
/// `underlined`: the suggested name, quoted when the underlined text is a string. `None`
/// when there is no suggestion or the underlined text is neither a word nor a string.
pub fn suggested_replacement(diagnostic: &Diagnostic, underlined: &str) -> Option<String> {
    let suggested = suggestion(diagnostic)?;
    if underlined.starts_with('"') && underlined.ends_with('"') && underlined.len() >= 2 {
        Some(ast::quote(suggested))
    } else if !underlined.is_empty()
        && !underlined.contains(|c: char| c.is_whitespace() || c == '"')
    {
        Some(suggested.to_string())
    } else {
        None
    }
}

/// The words of the language that are reserved: the parser's list.
pub use crate::parse::KEYWORDS;

/// What may be written at a place, as far as names go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// A role name (after `inherits`, `allow`, `deny`, a condition's `role`, or a comma
    /// in such a list).
    Role,
    /// A scope string (inside a string after `scope`, `implies`, `require scope`, or a
    /// comma in such a list).
    Scope,
    /// A network name (after `ip in`).
    Network,
    /// A window name (after `time in`).
    Window,
    /// A new name being declared, or the inside of another string: nothing to offer.
    Nothing,
    /// Anything: a keyword or a role name.
    Anything,
}

/// One token of the text before a place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// A word, and whether it is the first token of its line.
    Word(&'a str, bool),
    String,
    Symbol(char),
}

/// What may be written at byte `offset` of `text` (a word being typed there is not
/// counted: completion replaces it).
pub fn expected_at(text: &str, offset: usize) -> Expected {
    let mut end = offset.min(text.len());
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = text.get(..end).unwrap_or("");
    let (mut tokens, in_string) = tokens(before);
    // The word being typed, if the text ends in one.
    if !in_string && before.ends_with(is_name_char) {
        tokens.pop();
    }
    // Skip back over a list: `NAME,` or `"S",` items.
    let mut position = tokens.len();
    loop {
        let last = position.checked_sub(1).and_then(|at| tokens.get(at));
        let item = position.checked_sub(2).and_then(|at| tokens.get(at));
        match (item, last) {
            (Some(Token::Word(..) | Token::String), Some(Token::Symbol(','))) => position -= 2,
            _ => break,
        }
    }
    let word = |back: usize| match position.checked_sub(back).and_then(|at| tokens.get(at)) {
        Some(Token::Word(word, _)) => Some(*word),
        _ => None,
    };
    let (previous, before_previous) = (word(1), word(2));
    // A keyword first on its line begins a statement (`role NAME` declares).
    let starts_statement = matches!(
        position.checked_sub(1).and_then(|at| tokens.get(at)),
        Some(Token::Word(_, true))
    );
    if in_string {
        return match previous {
            Some("scope" | "implies") => Expected::Scope,
            _ => Expected::Nothing,
        };
    }
    match (before_previous, previous) {
        (Some("ip"), Some("in")) => Expected::Network,
        (Some("time"), Some("in")) => Expected::Window,
        (_, Some("inherits" | "allow" | "deny")) => Expected::Role,
        (_, Some("role")) if !starts_statement => Expected::Role,
        (_, Some("role" | "network" | "window")) => Expected::Nothing,
        _ => Expected::Anything,
    }
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// The tokens of `text` (comments skipped), and whether it ends inside a string.
fn tokens(text: &str) -> (Vec<Token<'_>>, bool) {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut line_is_blank = true;
    while let Some((at, c)) = chars.next() {
        let first_on_line = line_is_blank;
        if c == '\n' {
            line_is_blank = true;
            continue;
        }
        if !c.is_whitespace() {
            line_is_blank = false;
        }
        if c == '#' {
            while chars.next_if(|(_, c)| *c != '\n').is_some() {}
        } else if c == '"' {
            let mut escaped = false;
            let mut closed = false;
            for (_, c) in chars.by_ref() {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    closed = true;
                    break;
                } else if c == '\n' {
                    line_is_blank = true;
                    break;
                }
            }
            if !closed && chars.peek().is_none() {
                return (tokens, true);
            }
            tokens.push(Token::String);
        } else if is_name_char(c) {
            let mut end = at + c.len_utf8();
            while let Some((next, c)) = chars.next_if(|(_, c)| is_name_char(*c)) {
                end = next + c.len_utf8();
            }
            tokens.push(Token::Word(text.get(at..end).unwrap_or(""), first_on_line));
        } else if !c.is_whitespace() {
            tokens.push(Token::Symbol(c));
        }
    }
    (tokens, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;
    use crate::source::Sources;

    const POLICY: &str = r#"timezone "Europe/Berlin"
scope "tool:admin" implies "tool:write"
scope "tool:write" implies "tool:read"
scope "tool:read"
role user aka "mcp-users"
role developer inherits user aka "mcp-developers", "devs"
role admin inherits developer
network office = [10.0.0.0/8, 2001:db8::/32]
window business = mon-fri 09:00-17:00
window night = fri 22:00-02:00 tz "UTC"
require scope "tool:write" to call tools "*"
allow user to call tools "fs.read_*"
allow developer to call tools "github.*" if ip in office and time in business
deny anyone to call tools "db.drop_*" unless role admin or scope "tool:admin"
"#;

    fn index(text: &str) -> SymbolIndex {
        let parsed = crate::parse::parse(&Sources::from_text("p.policy", text));
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        SymbolIndex::new(&parsed.policy)
    }

    fn offset_of(text: &str, needle: &str, nth: usize) -> usize {
        text.match_indices(needle)
            .nth(nth)
            .map(|(at, _)| at)
            .unwrap()
    }

    #[test]
    fn names_are_found_where_they_are_written() {
        let index = index(POLICY);
        let at = offset_of(POLICY, "developer", 2) + 3;
        let found = index.at(SourceId(0), at).unwrap();
        assert_eq!(
            (found.kind, found.name.as_str()),
            (SymbolKind::Role, "developer")
        );
        assert!(!found.declaration);
        // Just after the name still counts; a keyword is no name.
        let end = offset_of(POLICY, "office", 1) + "office".len();
        assert_eq!(
            index.at(SourceId(0), end).unwrap().kind,
            SymbolKind::Network
        );
        assert!(index
            .at(SourceId(0), offset_of(POLICY, "allow", 0) + 1)
            .is_none());
        // A scope is its string, quotes included.
        let scope = index
            .at(SourceId(0), offset_of(POLICY, "\"tool:admin\"", 1))
            .unwrap();
        assert_eq!(
            (scope.kind, scope.name.as_str()),
            (SymbolKind::Scope, "tool:admin")
        );
        assert_eq!(&POLICY[scope.span.range()], "\"tool:admin\"");
    }

    #[test]
    fn declarations_and_references() {
        let index = index(POLICY);
        let declared = index.declarations(SymbolKind::Role, "user");
        assert_eq!(declared.len(), 1);
        assert_eq!(&POLICY[declared[0].range()], "user");
        assert_eq!(declared[0].start as usize, offset_of(POLICY, "user", 0));
        let uses = index.references(SymbolKind::Role, "user");
        assert_eq!(uses.len(), 3, "{uses:?}");
        let write = index.references(SymbolKind::Scope, "tool:write");
        assert_eq!(write.iter().filter(|o| o.declaration).count(), 1);
        assert_eq!(write.len(), 3);
        assert_eq!(index.references(SymbolKind::Window, "business").len(), 2);
        assert_eq!(index.declarations(SymbolKind::Window, "nope"), vec![]);
        assert_eq!(
            index.names(SymbolKind::Role),
            ["admin", "developer", "user"]
        );
        assert_eq!(index.names(SymbolKind::Network), ["office"]);
    }

    #[test]
    fn closures_agree_with_the_checked_policy() {
        let index = index(POLICY);
        let policy = crate::Policy::from_text("p.policy", POLICY).unwrap();
        let checked = policy.checked();
        for (role, closure) in checked.roles.iter().zip(checked.role_closures()) {
            let expected: Vec<String> = closure
                .iter()
                .skip(1)
                .map(|id| checked.roles[id.index()].name.clone())
                .collect();
            assert_eq!(index.inherited(&role.name), expected, "{}", role.name);
        }
        for (scope, closure) in checked.scopes.iter().zip(checked.scope_closures()) {
            let expected: Vec<String> = closure
                .iter()
                .skip(1)
                .map(|id| checked.scopes[id.index()].name.clone())
                .collect();
            assert_eq!(index.implied(&scope.name), expected, "{}", scope.name);
        }
    }

    #[test]
    fn role_facts_list_parents_aka_and_rules() {
        let index = index(POLICY);
        let Some(Facts::Role(admin)) = index.facts(SymbolKind::Role, "admin") else {
            panic!("admin is a role");
        };
        assert_eq!(admin.parents, ["developer"]);
        assert_eq!(admin.inherited, ["developer", "user"]);
        let through: Vec<(Effect, Option<&str>)> = admin
            .rules
            .iter()
            .map(|grant| (grant.effect, grant.through.as_deref()))
            .collect();
        assert_eq!(
            through,
            [
                (Effect::Allow, Some("user")),
                (Effect::Allow, Some("developer")),
                (Effect::Deny, None)
            ]
        );
        let Some(Facts::Role(developer)) = index.facts(SymbolKind::Role, "developer") else {
            panic!("developer is a role");
        };
        assert_eq!(developer.aka, ["mcp-developers", "devs"]);
        assert_eq!(index.facts(SymbolKind::Role, "ghost"), None);
    }

    #[test]
    fn scope_network_and_window_facts() {
        let index = index(POLICY);
        let Some(Facts::Scope(write)) = index.facts(SymbolKind::Scope, "tool:write") else {
            panic!("a scope");
        };
        assert!(write.declared);
        assert_eq!(write.implies, ["tool:read"]);
        assert_eq!(write.implied_by, ["tool:admin"]);
        assert_eq!(write.required_by.len(), 1);
        assert_eq!(
            index.facts(SymbolKind::Network, "office"),
            Some(Facts::Network(NetworkFacts {
                name: "office".into(),
                ranges: vec!["10.0.0.0/8".into(), "2001:db8::/32".into()],
            }))
        );
        let words = |name: &str| match index.facts(SymbolKind::Window, name) {
            Some(Facts::Window(window)) => window.words,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            words("business"),
            "Monday to Friday, from 09:00 to 17:00 (Europe/Berlin)"
        );
        assert_eq!(
            words("night"),
            "Friday, from 22:00 to 02:00 the next day (UTC)"
        );
    }

    #[test]
    fn loops_and_undeclared_parents_end() {
        let text = "role a inherits b\nrole b inherits a, c\n";
        let parsed = crate::parse::parse(&Sources::from_text("p.policy", text));
        let index = SymbolIndex::new(&parsed.policy);
        assert_eq!(index.inherited("a"), ["b", "c"]);
        assert_eq!(index.inherited("b"), ["a", "c"]);
    }

    #[test]
    fn window_words_cover_day_lists() {
        let text = "window w = sat,sun\nwindow x = 08:00-12:00\nwindow y = mon,wed,fri-sun\n";
        let index = index(text);
        let words = |name: &str| match index.facts(SymbolKind::Window, name) {
            Some(Facts::Window(window)) => window.words,
            other => panic!("{other:?}"),
        };
        assert_eq!(words("w"), "Saturday and Sunday, all day (UTC)");
        assert_eq!(words("x"), "every day, from 08:00 to 12:00 (UTC)");
        assert_eq!(words("y"), "Wednesday, Friday to Monday, all day (UTC)");
    }

    #[test]
    fn suggestions_become_replacements() {
        let span = Span::new(SourceId(0), 0, 1);
        let typo = Diagnostic::new(Code::E003, span, "undefined role `usr`")
            .with_help("did you mean `user`?");
        assert_eq!(suggestion(&typo), Some("user"));
        assert_eq!(suggested_replacement(&typo, "usr").as_deref(), Some("user"));
        assert_eq!(
            suggested_replacement(&typo, "\"usr\"").as_deref(),
            Some("\"user\"")
        );
        assert_eq!(suggested_replacement(&typo, "two words"), None);
        let other = Diagnostic::new(Code::E003, span, "x").with_help("declare it");
        assert_eq!(suggestion(&other), None);
    }

    #[test]
    fn what_is_expected_where() {
        let cases = [
            ("role a inherits ", Expected::Role),
            ("role a inherits b, de", Expected::Role),
            ("allow ", Expected::Role),
            ("allow dev", Expected::Role),
            ("allow a to call tools \"x\" if ip in ", Expected::Network),
            (
                "allow a to call tools \"x\" if time in bu",
                Expected::Window,
            ),
            ("allow a to call tools \"x\" unless role ", Expected::Role),
            ("require scope \"to", Expected::Scope),
            ("scope \"a\", \"", Expected::Scope),
            ("scope \"a\" implies \"", Expected::Scope),
            ("allow a to call tools \"", Expected::Nothing),
            ("role ", Expected::Nothing),
            ("role a\n  role ", Expected::Nothing),
            ("allow a to call tools \"x\"\n  if role ", Expected::Role),
            ("network ", Expected::Nothing),
            ("", Expected::Anything),
            ("role a\n# allow \nal", Expected::Anything),
            ("allow a ", Expected::Anything),
        ];
        for (text, expected) in cases {
            assert_eq!(expected_at(text, text.len()), expected, "{text:?}");
        }
        // Offsets past the end or inside a character are clamped.
        assert_eq!(expected_at("allow é", 99), Expected::Role);
        assert_eq!(expected_at("allow é", 7), Expected::Role);
    }

    #[test]
    fn keywords_match_the_parser() {
        // Every keyword is rejected as a role name.
        for keyword in KEYWORDS {
            let text = format!("role {keyword}\n");
            let parsed = crate::parse::parse(&Sources::from_text("p.policy", text));
            assert!(!parsed.diagnostics.is_empty(), "{keyword}");
        }
    }
}
