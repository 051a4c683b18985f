//! The formatter's own check: the formatted text must say exactly what the original
//! said (the same syntax tree, positions aside) and keep every comment.

use crate::ast::{
    ArgOperator, Atom, Cidr, DayItem, Expr, ExprKind, Ident, Literal, NetworkRef, StatementKind,
    Subjects, SyntaxTree, Text, Window, WindowRef,
};
use crate::source::{SourceId, Span};

/// `policy` with every span emptied, so that two trees compare by what they say.
pub(super) fn without_spans(policy: &SyntaxTree) -> SyntaxTree {
    let mut policy = policy.clone();
    for statement in &mut policy.statements {
        statement.span = NOWHERE;
        match &mut statement.kind {
            StatementKind::Timezone(zone) => text(zone),
            StatementKind::Claims(block) => {
                for line in &mut block.lines {
                    line.field_span = NOWHERE;
                    line.span = NOWHERE;
                    line.paths.iter_mut().for_each(text);
                }
            }
            StatementKind::Scope(scope) => {
                scope.scopes.iter_mut().for_each(text);
                scope.implies.iter_mut().for_each(text);
            }
            StatementKind::Role(role) => {
                ident(&mut role.name);
                role.inherits.iter_mut().for_each(ident);
                role.aka.iter_mut().for_each(text);
            }
            StatementKind::Network(network) => {
                ident(&mut network.name);
                network.cidrs.iter_mut().for_each(cidr);
            }
            StatementKind::Window(window) => {
                ident(&mut window.name);
                window_(&mut window.window);
            }
            StatementKind::Rule(rule) => {
                match &mut rule.subjects {
                    Subjects::Anyone(span) => *span = NOWHERE,
                    Subjects::Roles(roles) => roles.iter_mut().for_each(ident),
                }
                rule.actions.iter_mut().for_each(|a| a.span = NOWHERE);
                rule.kind.span = NOWHERE;
                rule.patterns.iter_mut().for_each(text);
                if let Some(condition) = &mut rule.condition {
                    condition.keyword_span = NOWHERE;
                    expr(&mut condition.expr);
                }
            }
            StatementKind::Requirement(requirement) => {
                requirement.scopes.iter_mut().for_each(text);
                requirement
                    .actions
                    .iter_mut()
                    .for_each(|a| a.span = NOWHERE);
                requirement.kind.span = NOWHERE;
                requirement.patterns.iter_mut().for_each(text);
            }
        }
    }
    policy
}

const NOWHERE: Span = Span {
    source: SourceId(0),
    start: 0,
    end: 0,
};

fn text(text: &mut Text) {
    text.span = NOWHERE;
}

fn ident(ident: &mut Ident) {
    ident.span = NOWHERE;
}

fn cidr(cidr: &mut Cidr) {
    cidr.span = NOWHERE;
}

fn literal(literal: &mut Literal) {
    literal.span = NOWHERE;
}

fn window_(window: &mut Window) {
    window.span = NOWHERE;
    if let Some(days) = &mut window.days {
        days.span = NOWHERE;
        for item in &mut days.items {
            match item {
                DayItem::Single(_, span) | DayItem::Range(_, _, span) => *span = NOWHERE,
            }
        }
    }
    if let Some(hours) = &mut window.hours {
        hours.span = NOWHERE;
        hours.start.span = NOWHERE;
        hours.end.span = NOWHERE;
    }
    if let Some(zone) = &mut window.tz {
        text(zone);
    }
}

/// Empties the spans of a condition, without recursion (conditions nest deeply).
fn expr(root: &mut Expr) {
    let mut stack: Vec<&mut Expr> = vec![root];
    while let Some(expr) = stack.pop() {
        expr.span = NOWHERE;
        match &mut expr.kind {
            ExprKind::Or(operands) | ExprKind::And(operands) => stack.extend(operands.iter_mut()),
            ExprKind::Not(inner) => stack.push(inner),
            ExprKind::Atom(atom) => match atom {
                Atom::Scope(value) | Atom::Client(value) => text(value),
                Atom::TimeBefore(value) | Atom::TimeAfter(value) => text(value),
                Atom::Role(name) => ident(name),
                Atom::IpIn(NetworkRef::Named(name)) => ident(name),
                Atom::IpIn(NetworkRef::Inline(cidrs)) => cidrs.iter_mut().for_each(cidr),
                Atom::TimeIn(WindowRef::Named(name)) => ident(name),
                Atom::TimeIn(WindowRef::Inline(window)) => window_(window),
                Atom::ClaimCompare { path, value, .. } | Atom::ClaimContains { path, value } => {
                    text(path);
                    literal(value);
                }
                Atom::ClaimExists { path } => text(path),
                Atom::Arg { path, test } => {
                    text(path);
                    match test {
                        ArgOperator::Compare { value, .. }
                        | ArgOperator::Contains(value)
                        | ArgOperator::Order { value, .. } => literal(value),
                        ArgOperator::In(values) => values.iter_mut().for_each(literal),
                        ArgOperator::Matches(pattern) => text(pattern),
                        ArgOperator::Exists => {}
                    }
                }
                Atom::Bool(_) => {}
            },
        }
    }
}
