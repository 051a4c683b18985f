//! From a statement of the syntax tree to its pieces, grouped the way layout needs them.

use crate::ast::{
    ArgOperator, Atom, Cidr, ClaimsBlock, CompareOp, Condition, ConditionMode, DayItem, Expr,
    ExprKind, Ident, NetworkRef, Requirement, RoleDecl, Rule, ScopeDecl, Statement, StatementKind,
    Subjects, Text, Window, WindowRef,
};

use super::piece::{Doc, Maker, Piece};

/// Statements whose consecutive runs align some of their columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    /// Nothing to align with (`timezone`).
    Alone,
    /// `role`: the `inherits` and `aka` columns.
    Role,
    /// `allow` / `deny`: the `to` column.
    Rule,
    /// `require`: the `to` column.
    Requirement,
    /// `network` / `window`: the name column, and `=` among statements of one keyword.
    Definition,
    /// `scope`: the `implies` column.
    Scope,
}

/// A statement's pieces.
#[derive(Debug, Clone)]
pub(super) enum Shape {
    /// One line of segments, each starting at an alignment column, and a condition.
    Row {
        /// How it aligns with its neighbours.
        class: Class,
        /// Segment 0 starts the line; segment `k` starts at column stop `k` (empty when
        /// the statement lacks that part).
        segments: Vec<Vec<Piece>>,
        /// For each column stop, which rows align together (rows with the same key).
        keys: Vec<u8>,
        /// `if` / `unless` and the condition.
        condition: Option<(Piece, Doc)>,
    },
    /// `claims { ... }`.
    Claims {
        /// `claims {`.
        open: Vec<Piece>,
        /// Each line: the field keyword, then `from` and the paths.
        lines: Vec<[Vec<Piece>; 2]>,
        /// `}`.
        close: Piece,
    },
}

/// The pieces of `statement`.
pub(super) fn statement(maker: &mut Maker<'_>, statement: &Statement) -> Shape {
    maker.statement(statement.span);
    match &statement.kind {
        StatementKind::Timezone(zone) => {
            let segment = vec![maker.word("timezone"), maker.verbatim(zone.span)];
            row(Class::Alone, vec![segment], None)
        }
        StatementKind::Claims(block) => claims(maker, block),
        StatementKind::Scope(scope) => scope_statement(maker, scope),
        StatementKind::Role(role) => role_statement(maker, role),
        StatementKind::Network(network) => {
            let keyword = vec![maker.word("network")];
            let name = vec![ident(maker, &network.name)];
            let mut value = vec![maker.word("=")];
            cidr_list(maker, &network.cidrs, &mut value);
            Shape::Row {
                class: Class::Definition,
                segments: vec![keyword, name, value],
                keys: vec![0, 0, 0],
                condition: None,
            }
        }
        StatementKind::Window(window) => {
            let keyword = vec![maker.word("window")];
            let name = vec![ident(maker, &window.name)];
            let mut value = vec![maker.word("=")];
            window_pieces(maker, &window.window, 1, &mut value);
            Shape::Row {
                class: Class::Definition,
                segments: vec![keyword, name, value],
                keys: vec![0, 0, 1],
                condition: None,
            }
        }
        StatementKind::Rule(rule) => rule_statement(maker, rule),
        StatementKind::Requirement(requirement) => requirement_statement(maker, requirement),
    }
}

fn row(class: Class, segments: Vec<Vec<Piece>>, condition: Option<(Piece, Doc)>) -> Shape {
    let keys = vec![0; segments.len()];
    Shape::Row {
        class,
        segments,
        keys,
        condition,
    }
}

fn ident(maker: &mut Maker<'_>, ident: &Ident) -> Piece {
    maker.spanned(ident.name.clone(), ident.span)
}

fn text(maker: &mut Maker<'_>, text: &Text) -> Piece {
    maker.verbatim(text.span)
}

fn cidr(maker: &mut Maker<'_>, cidr: &Cidr) -> Piece {
    maker.spanned(cidr.text.clone(), cidr.span)
}

fn claims(maker: &mut Maker<'_>, block: &ClaimsBlock) -> Shape {
    let open = vec![maker.word("claims"), maker.word("{")];
    let lines = block
        .lines
        .iter()
        .map(|line| {
            let field = vec![maker.spanned(line.field.keyword().to_string(), line.field_span)];
            let mut paths = vec![maker.word("from")];
            maker.list(&line.paths, 1, &mut paths, text);
            [field, paths]
        })
        .collect();
    let mut close = maker.word("}");
    close.comment_indent = Some(2);
    close.break_indent = Some(0);
    Shape::Claims { open, lines, close }
}

fn scope_statement(maker: &mut Maker<'_>, scope: &ScopeDecl) -> Shape {
    let mut scopes = vec![maker.word("scope")];
    maker.list(&scope.scopes, 1, &mut scopes, text);
    let mut implies = Vec::new();
    if !scope.implies.is_empty() {
        implies.push(maker.word("implies"));
        maker.list(&scope.implies, 1, &mut implies, text);
    }
    row(Class::Scope, vec![scopes, implies], None)
}

fn role_statement(maker: &mut Maker<'_>, role: &RoleDecl) -> Shape {
    let name = vec![maker.word("role"), ident(maker, &role.name)];
    let mut inherits = Vec::new();
    if !role.inherits.is_empty() {
        inherits.push(maker.word("inherits"));
        maker.list(&role.inherits, 1, &mut inherits, ident);
    }
    let mut aka = Vec::new();
    if !role.aka.is_empty() {
        aka.push(maker.word("aka"));
        maker.list(&role.aka, 1, &mut aka, text);
    }
    row(Class::Role, vec![name, inherits, aka], None)
}

fn rule_statement(maker: &mut Maker<'_>, rule: &Rule) -> Shape {
    let mut who = vec![maker.word(rule.effect.keyword())];
    match &rule.subjects {
        Subjects::Anyone(span) => who.push(maker.spanned("anyone".to_string(), *span)),
        Subjects::Roles(roles) => maker.list(roles, 1, &mut who, ident),
    }
    let mut what = vec![maker.word("to")];
    target(
        maker,
        &rule.actions,
        rule.kind.span,
        &rule.patterns,
        &mut what,
    );
    let condition = rule
        .condition
        .as_ref()
        .map(|condition| condition_doc(maker, condition));
    row(Class::Rule, vec![who, what], condition)
}

fn requirement_statement(maker: &mut Maker<'_>, requirement: &Requirement) -> Shape {
    let mut scopes = vec![maker.word("require"), maker.word("scope")];
    maker.list(&requirement.scopes, 1, &mut scopes, text);
    let mut what = vec![maker.word("to")];
    target(
        maker,
        &requirement.actions,
        requirement.kind.span,
        &requirement.patterns,
        &mut what,
    );
    row(Class::Requirement, vec![scopes, what], None)
}

/// `ACTIONS KIND PATTERNS`; the kind word as written (singular or plural).
fn target(
    maker: &mut Maker<'_>,
    actions: &[crate::ast::ActionName],
    kind: crate::source::Span,
    patterns: &[Text],
    out: &mut Vec<Piece>,
) {
    maker.list(actions, 1, out, |maker, action| {
        maker.spanned(action.action.keyword().to_string(), action.span)
    });
    out.push(maker.verbatim(kind));
    maker.list(patterns, 1, out, text);
}

/// `[CIDR, ...]`, the bracket `gap` spaces after what comes before.
/// What follows `arg "PATH"`: the operator and its operand, as written.
fn arg_test(maker: &mut Maker<'_>, test: &ArgOperator, out: &mut Vec<Piece>) {
    match test {
        ArgOperator::Compare { op, value } => {
            out.push(maker.word(match op {
                CompareOp::Eq => "==",
                CompareOp::Ne => "!=",
            }));
            out.push(maker.verbatim(value.span));
        }
        ArgOperator::In(values) => {
            out.push(maker.word("in"));
            out.push(maker.word("["));
            maker.list(values, 0, out, |maker, value| maker.verbatim(value.span));
            out.push(maker.word("]").gap(0));
        }
        ArgOperator::Contains(value) => {
            out.push(maker.word("contains"));
            out.push(maker.verbatim(value.span));
        }
        ArgOperator::Matches(pattern) => {
            out.push(maker.word("matches"));
            out.push(text(maker, pattern));
        }
        ArgOperator::Order { op, value } => {
            out.push(maker.word(op.symbol()));
            out.push(maker.verbatim(value.span));
        }
        ArgOperator::Exists => out.push(maker.word("exists")),
    }
}

fn cidr_list(maker: &mut Maker<'_>, cidrs: &[Cidr], out: &mut Vec<Piece>) {
    out.push(maker.word("["));
    maker.list(cidrs, 0, out, cidr);
    out.push(maker.word("]").gap(0));
}

/// `DAYS HOURS tz "ZONE"`: days as `mon-fri,sat`, hours as written.
fn window_pieces(maker: &mut Maker<'_>, window: &Window, gap: usize, out: &mut Vec<Piece>) {
    let mut gap = gap;
    if let Some(days) = &window.days {
        for (index, item) in days.items.iter().enumerate() {
            if index > 0 {
                out.push(maker.word(",").gap(0));
            }
            let piece = match *item {
                DayItem::Single(day, span) => maker.spanned(day.keyword().to_string(), span),
                DayItem::Range(first, last, span) => {
                    maker.spanned(format!("{}-{}", first.keyword(), last.keyword()), span)
                }
            };
            out.push(piece.gap(if index == 0 { gap } else { 0 }));
        }
        gap = 1;
    }
    if let Some(hours) = &window.hours {
        let text = format!(
            "{}-{}",
            maker.source(hours.start.span),
            maker.source(hours.end.span)
        );
        out.push(maker.spanned(text, hours.span).gap(gap));
        gap = 1;
    }
    if let Some(zone) = &window.tz {
        out.push(maker.word("tz").gap(gap));
        out.push(text(maker, zone));
    }
}

fn condition_doc(maker: &mut Maker<'_>, condition: &Condition) -> (Piece, Doc) {
    let word = match condition.mode {
        ConditionMode::If => "if",
        ConditionMode::Unless => "unless",
    };
    let keyword = maker.word(word);
    let doc = expr(maker, &condition.expr, Parent::Top);
    (keyword, doc)
}

/// Where an expression is written, for the parentheses precedence needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parent {
    Top,
    Or,
    And,
    Not,
}

/// Whether the author wrote `expr` in parentheses.
fn parenthesized(maker: &Maker<'_>, expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Or(operands) | ExprKind::And(operands) => operands
            .first()
            .is_some_and(|first| first.span.start > expr.span.start),
        ExprKind::Not(_) | ExprKind::Atom(_) => maker.source(expr.span).starts_with('('),
    }
}

fn expr(maker: &mut Maker<'_>, expr: &Expr, parent: Parent) -> Doc {
    let needed = matches!(
        (&expr.kind, parent),
        (ExprKind::Or(_), Parent::And | Parent::Not) | (ExprKind::And(_), Parent::Not)
    );
    if parenthesized(maker, expr) {
        let open = maker.word("(");
        let inner = bare(maker, expr);
        let close = maker.word(")").gap(0);
        Doc::Paren(open, Box::new(inner), close)
    } else if needed {
        let open = maker.synthetic("(");
        let inner = bare(maker, expr);
        let close = maker.synthetic(")").gap(0);
        Doc::Paren(open, Box::new(inner), close)
    } else {
        bare(maker, expr)
    }
}

/// `expr` without parentheses around it.
fn bare(maker: &mut Maker<'_>, expr_: &Expr) -> Doc {
    match &expr_.kind {
        ExprKind::Or(operands) => chain(maker, operands, "or", Parent::Or),
        ExprKind::And(operands) => chain(maker, operands, "and", Parent::And),
        ExprKind::Not(inner) => {
            let word = maker.word("not");
            Doc::Not(word, Box::new(expr(maker, inner, Parent::Not)))
        }
        ExprKind::Atom(atom_) => Doc::Flat(atom(maker, atom_)),
    }
}

fn chain(maker: &mut Maker<'_>, operands: &[Expr], word: &str, parent: Parent) -> Doc {
    let mut docs = Vec::new();
    let mut operators = Vec::new();
    for (index, operand) in operands.iter().enumerate() {
        if index > 0 {
            operators.push(maker.word(word));
        }
        docs.push(expr(maker, operand, parent));
    }
    Doc::Chain(docs, operators)
}

fn atom(maker: &mut Maker<'_>, atom: &Atom) -> Vec<Piece> {
    match atom {
        Atom::Scope(scope) => vec![maker.word("scope"), text(maker, scope)],
        Atom::Role(role) => vec![maker.word("role"), ident(maker, role)],
        Atom::Client(client) => vec![maker.word("client"), text(maker, client)],
        Atom::IpIn(network) => {
            let mut out = vec![maker.word("ip"), maker.word("in")];
            match network {
                NetworkRef::Named(name) => out.push(ident(maker, name)),
                NetworkRef::Inline(cidrs) => cidr_list(maker, cidrs, &mut out),
            }
            out
        }
        Atom::TimeIn(window) => {
            let mut out = vec![maker.word("time"), maker.word("in")];
            match window {
                WindowRef::Named(name) => out.push(ident(maker, name)),
                WindowRef::Inline(window) => {
                    out.push(maker.word("["));
                    window_pieces(maker, window, 0, &mut out);
                    out.push(maker.word("]").gap(0));
                }
            }
            out
        }
        Atom::TimeBefore(instant) => {
            vec![
                maker.word("time"),
                maker.word("before"),
                text(maker, instant),
            ]
        }
        Atom::TimeAfter(instant) => {
            vec![
                maker.word("time"),
                maker.word("after"),
                text(maker, instant),
            ]
        }
        Atom::ClaimCompare { path, op, value } => {
            let operator = match op {
                CompareOp::Eq => "==",
                CompareOp::Ne => "!=",
            };
            vec![
                maker.word("claim"),
                text(maker, path),
                maker.word(operator),
                maker.verbatim(value.span),
            ]
        }
        Atom::ClaimContains { path, value } => vec![
            maker.word("claim"),
            text(maker, path),
            maker.word("contains"),
            maker.verbatim(value.span),
        ],
        Atom::ClaimExists { path } => {
            vec![maker.word("claim"), text(maker, path), maker.word("exists")]
        }
        Atom::Arg { path, test } => {
            let mut out = vec![maker.word("arg"), text(maker, path)];
            arg_test(maker, test, &mut out);
            out
        }
        Atom::Bool(value) => vec![maker.word(if *value { "true" } else { "false" })],
    }
}
