//! A conditional cell's condition in words, from the statements that decide it.
//!
//! The clauses, joined by `; `: `needs scope(s) ...` (requirements, and a single allow
//! whose condition only asks for scopes; a scope another needed scope implies is left
//! out), `if ...` (the allow rules' conditions, simplified for the row, as
//! alternatives), `denied when ...` for each deny rule written with `if`, `unless ...`
//! for each deny rule written with `unless`, and `denied without an address` when no
//! request without one is allowed. For `list`, a cell whose listing only follows use
//! merges the `call` program's clauses in.

use crate::ast::{CompareOp, LiteralValue};
use crate::check::{CheckedPolicy, ClaimTest};
use crate::ids::ScopeId;
use crate::source::Sources;

use super::decide::Closure;
use super::evaluate::Programs;
use super::node::{Atom, Node, NodeKind};
use super::program::{scope_name, Program};

/// What the words are made from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    pub policy: &'a CheckedPolicy,
    pub sources: &'a Sources,
    pub closure: &'a Closure,
}

/// The clauses of one program.
#[derive(Debug, Clone, Default)]
struct Clauses {
    needs: Vec<ScopeId>,
    /// Whether any allow rule matches.
    has_allows: bool,
    /// The allow rules' conditions; empty when one always holds or only asks for scopes.
    alternatives: Vec<String>,
    denies: Vec<String>,
}

/// The condition of a conditional cell.
pub(crate) fn describe(
    context: Context<'_>,
    programs: &Programs,
    denied_without_address: bool,
) -> String {
    let clauses = match &programs.list {
        None => clauses(context, &programs.use_),
        Some(list) => {
            let mut listing = clauses(context, list);
            let using = clauses(context, &programs.use_);
            if !listing.has_allows {
                listing.needs.extend(using.needs);
                listing.has_allows = using.has_allows;
                listing.alternatives = using.alternatives;
                listing.denies.extend(using.denies);
            } else if !listing.alternatives.is_empty() && may_allow(&programs.use_) {
                let called = render(context, using).join("; ");
                listing
                    .alternatives
                    .push(format!("it may be called ({called})"));
            }
            listing
        }
    };
    let mut parts = render(context, clauses);
    if denied_without_address {
        parts.push("denied without an address".to_string());
    }
    parts.join("; ")
}

/// Whether some request could be allowed by the program: an allow rule matches and no
/// deny always fires.
fn may_allow(program: &Program) -> bool {
    !program.allows.is_empty()
        && !program
            .denies
            .iter()
            .any(|rule| rule.condition.constant() == Some(true))
}

fn clauses(context: Context<'_>, program: &Program) -> Clauses {
    let mut clauses = Clauses::default();
    for requirement in &program.requirements {
        clauses.needs.extend(&requirement.scopes);
    }
    clauses.has_allows = !program.allows.is_empty();
    let always = program
        .allows
        .iter()
        .any(|rule| rule.condition.constant() == Some(true));
    let conditions: Vec<&Node> = program.allows.iter().map(|r| &r.condition).collect();
    match conditions.as_slice() {
        _ if always => {}
        [only] => match scope_conjunction(only) {
            Some(scopes) => clauses.needs.extend(scopes),
            None => clauses
                .alternatives
                .push(text(context, only, Precedence::Or)),
        },
        several => {
            clauses.alternatives = several
                .iter()
                .map(|node| text(context, node, Precedence::Not))
                .collect();
        }
    }
    for rule in &program.denies {
        let clause = match (&rule.condition.kind, rule.unless) {
            (NodeKind::Not(inner), true) => {
                format!("unless {}", text(context, inner, Precedence::Or))
            }
            (NodeKind::Const(true), _) => "denied".to_string(),
            _ => format!(
                "denied when {}",
                text(context, &rule.condition, Precedence::Or)
            ),
        };
        if !clauses.denies.contains(&clause) {
            clauses.denies.push(clause);
        }
    }
    clauses
}

fn render(context: Context<'_>, clauses: Clauses) -> Vec<String> {
    let mut parts = Vec::new();
    let needs = needed(context, &clauses.needs);
    if !needs.is_empty() {
        let names: Vec<String> = needs
            .iter()
            .map(|scope| format!("`{}`", scope_name(context.policy, *scope)))
            .collect();
        let noun = if names.len() == 1 { "scope" } else { "scopes" };
        parts.push(format!("needs {noun} {}", names.join(", ")));
    }
    if !clauses.alternatives.is_empty() {
        parts.push(format!("if {}", clauses.alternatives.join(" or ")));
    }
    for deny in &clauses.denies {
        if !parts.contains(deny) {
            parts.push(deny.clone());
        }
    }
    parts
}

/// The needed scopes without those another needed scope implies, sorted by name.
fn needed(context: Context<'_>, needs: &[ScopeId]) -> Vec<ScopeId> {
    let mut kept: Vec<ScopeId> = Vec::new();
    for scope in needs {
        let implied_by_other = needs
            .iter()
            .any(|other| other != scope && context.closure.of(*other).contains(scope));
        if !implied_by_other && !kept.contains(scope) {
            kept.push(*scope);
        }
    }
    kept.sort_by(|a, b| scope_name(context.policy, *a).cmp(scope_name(context.policy, *b)));
    kept
}

/// The scopes of a condition that is one scope atom or a conjunction of them.
fn scope_conjunction(node: &Node) -> Option<Vec<ScopeId>> {
    match &node.kind {
        NodeKind::Leaf(leaf) => match leaf.atom {
            Atom::Scope(scope) => Some(vec![scope]),
            _ => None,
        },
        NodeKind::And(items) => items
            .iter()
            .map(scope_conjunction)
            .collect::<Option<Vec<Vec<ScopeId>>>>()
            .map(|lists| lists.concat()),
        _ => None,
    }
}

/// How tightly an enclosing form binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Precedence {
    Or,
    And,
    Not,
}

/// A condition as text, parenthesised where `enclosing` binds tighter.
fn text(context: Context<'_>, node: &Node, enclosing: Precedence) -> String {
    let joined = |items: &[Node], word: &str, own: Precedence| {
        let inner: Vec<String> = items.iter().map(|i| text(context, i, own)).collect();
        let joined = inner.join(word);
        if enclosing > own {
            format!("({joined})")
        } else {
            joined
        }
    };
    match &node.kind {
        NodeKind::Const(value) => value.to_string(),
        NodeKind::Leaf(leaf) => atom(context, &leaf.atom, node),
        NodeKind::Not(inner) => format!("not {}", text(context, inner, Precedence::Not)),
        NodeKind::And(items) => joined(items, " and ", Precedence::And),
        NodeKind::Or(items) => joined(items, " or ", Precedence::Or),
    }
}

fn atom(context: Context<'_>, atom: &Atom, node: &Node) -> String {
    match atom {
        Atom::Scope(scope) => format!("scope `{}`", scope_name(context.policy, *scope)),
        Atom::Client(client) => format!("client `{client}`"),
        Atom::Claim(ClaimTest::Compare { path, op, value }) => {
            let op = match op {
                CompareOp::Eq => "==",
                CompareOp::Ne => "!=",
            };
            format!("claim `{path}` {op} {}", literal(value))
        }
        Atom::Claim(ClaimTest::Contains { path, value }) => {
            format!("claim `{path}` contains {}", literal(value))
        }
        Atom::Claim(ClaimTest::Exists { path }) => format!("claim `{path}` exists"),
        Atom::Ip(_) | Atom::Window(_) | Atom::Before(_) | Atom::After(_) => {
            let text = collapse(context.sources.text(node.span));
            unparenthesised(&text).to_string()
        }
    }
}

fn literal(value: &LiteralValue) -> String {
    value.to_source()
}

/// An `ip` or `time` atom's text without the parentheses it may be written in (such an
/// atom holds no other parenthesis).
fn unparenthesised(mut text: &str) -> &str {
    while let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        text = inner.trim();
    }
    text
}

/// The text with every run of whitespace (and comments) made one space.
fn collapse(text: &str) -> String {
    let without_comments: Vec<&str> = text
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .collect();
    without_comments
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
