//! The size limits of [`Limits`] on the text, on the numbers of roles and scopes, and on
//! each statement's strings, patterns and claim paths (E012).

use ahash::AHashSet;

use crate::ast::{
    ArgOperator, Atom, Cidr, ClaimsBlock, Expr, ExprKind, Ident, Literal, LiteralValue, NetworkRef,
    Statement, StatementKind, SyntaxTree, Text, Window, WindowRef,
};
use crate::diagnostic::Diagnostic;
use crate::glob;
use crate::limits::{Limit, Limits};
use crate::source::{Sources, Span};

/// The E012 for text over [`Limits::policy_bytes`], at the start of the file that
/// crosses the limit.
pub(super) fn text_size(sources: &Sources, limits: &Limits) -> Option<Diagnostic> {
    let mut total: usize = 0;
    let mut crossing = None;
    for (source, file) in sources.iter() {
        total = total.saturating_add(file.text().len());
        if total > limits.policy_bytes && crossing.is_none() {
            crossing = Some(source);
        }
    }
    let source = crossing?;
    let span = Span::new(source, 0, 0);
    Some(Diagnostic::limit_exceeded(
        Limit::PolicyBytes,
        limits,
        span,
        Some(total),
    ))
}

/// The E012s for more distinct roles or scopes than allowed, at the first name over.
pub(super) fn totals(policy: &SyntaxTree, limits: &Limits) -> Vec<Diagnostic> {
    let mut roles: AHashSet<&str> = AHashSet::new();
    let mut scopes: AHashSet<&str> = AHashSet::new();
    let mut arg_atoms: usize = 0;
    let mut found = Vec::new();
    let over = |limit: Limit, span: Span, count: usize, found: &mut Vec<Diagnostic>| {
        if count == limit.value(limits).saturating_add(1) {
            found.push(Diagnostic::limit_exceeded(limit, limits, span, None));
        }
    };
    for statement in &policy.statements {
        if let StatementKind::Role(role) = &statement.kind {
            if roles.insert(&role.name.name) {
                over(Limit::Roles, role.name.span, roles.len(), &mut found);
            }
        }
        for text in scope_texts(statement) {
            if scopes.insert(&text.value) {
                over(Limit::Scopes, text.span, scopes.len(), &mut found);
            }
        }
        for span in arg_spans(statement) {
            arg_atoms = arg_atoms.saturating_add(1);
            over(Limit::ArgAtoms, span, arg_atoms, &mut found);
        }
    }
    found
}

/// Where each `arg` atom of a rule's condition is written.
fn arg_spans(statement: &Statement) -> Vec<Span> {
    condition_atoms(statement)
        .into_iter()
        .filter(|expr| matches!(expr.kind, ExprKind::Atom(Atom::Arg { .. })))
        .map(|expr| expr.span)
        .collect()
}

/// The atoms of a rule's condition, in text order, walked with a stack of its own.
fn condition_atoms(statement: &Statement) -> Vec<&Expr> {
    let StatementKind::Rule(rule) = &statement.kind else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut pending: Vec<&Expr> = rule.condition.iter().map(|c| &c.expr).collect();
    while let Some(expr) = pending.pop() {
        match &expr.kind {
            ExprKind::Or(operands) | ExprKind::And(operands) => {
                pending.extend(operands.iter().rev())
            }
            ExprKind::Not(operand) => pending.push(operand),
            ExprKind::Atom(_) => found.push(expr),
        }
    }
    found
}

/// Every scope a statement declares or uses.
fn scope_texts(statement: &Statement) -> Vec<&Text> {
    match &statement.kind {
        StatementKind::Scope(declaration) => declaration
            .scopes
            .iter()
            .chain(&declaration.implies)
            .collect(),
        StatementKind::Requirement(requirement) => requirement.scopes.iter().collect(),
        StatementKind::Rule(_) => condition_atoms(statement)
            .into_iter()
            .filter_map(|expr| match &expr.kind {
                ExprKind::Atom(Atom::Scope(text)) => Some(text),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Adds an E012 to `out` for each string, pattern or claim path of `statement` over
/// its limit.
pub(super) fn statement(statement: &Statement, limits: &Limits, out: &mut Vec<Diagnostic>) {
    let mut check = Check { limits, out };
    match &statement.kind {
        StatementKind::Timezone(zone) => check.string(zone),
        StatementKind::Claims(block) => check.claims(block),
        StatementKind::Scope(declaration) => {
            check.strings(&declaration.scopes);
            check.strings(&declaration.implies);
        }
        StatementKind::Role(role) => {
            check.ident(&role.name);
            role.inherits.iter().for_each(|name| check.ident(name));
            check.strings(&role.aka);
        }
        StatementKind::Network(network) => {
            check.ident(&network.name);
            check.cidrs(&network.cidrs);
        }
        StatementKind::Window(window) => {
            check.ident(&window.name);
            check.window(&window.window);
        }
        StatementKind::Rule(rule) => {
            check.patterns(&rule.patterns);
            if let Some(condition) = &rule.condition {
                check.condition(&condition.expr);
            }
        }
        StatementKind::Requirement(requirement) => {
            check.strings(&requirement.scopes);
            check.patterns(&requirement.patterns);
        }
    }
}

/// Checks the parts of one statement, collecting E012s.
struct Check<'a> {
    limits: &'a Limits,
    out: &'a mut Vec<Diagnostic>,
}

impl Check<'_> {
    fn exceeded(&mut self, limit: Limit, span: Span, found: usize) {
        if found > limit.value(self.limits) {
            self.out.push(Diagnostic::limit_exceeded(
                limit,
                self.limits,
                span,
                Some(found),
            ));
        }
    }

    fn characters(&mut self, value: &str, span: Span) {
        self.exceeded(Limit::StringChars, span, value.chars().count());
    }

    fn string(&mut self, text: &Text) {
        self.characters(&text.value, text.span);
    }

    fn strings(&mut self, texts: &[Text]) {
        texts.iter().for_each(|text| self.string(text));
    }

    fn ident(&mut self, ident: &Ident) {
        self.characters(&ident.name, ident.span);
    }

    fn patterns(&mut self, patterns: &[Text]) {
        for pattern in patterns {
            self.exceeded(
                Limit::PatternChars,
                pattern.span,
                pattern.value.chars().count(),
            );
            let wildcards = glob::wildcard_count(&pattern.value);
            self.exceeded(Limit::PatternWildcards, pattern.span, wildcards);
        }
    }

    fn literal(&mut self, literal: &Literal) {
        if let LiteralValue::String(text) = &literal.value {
            self.characters(text, literal.span);
        }
    }

    fn claim_path(&mut self, path: &Text) {
        self.string(path);
        let segments = path.value.split('.').count();
        self.exceeded(Limit::ClaimPathSegments, path.span, segments);
    }

    fn claims(&mut self, block: &ClaimsBlock) {
        for line in &block.lines {
            line.paths.iter().for_each(|path| self.claim_path(path));
        }
    }

    fn network(&mut self, network: &NetworkRef) {
        match network {
            NetworkRef::Named(name) => self.ident(name),
            NetworkRef::Inline(cidrs) => self.cidrs(cidrs),
        }
    }

    fn cidrs(&mut self, cidrs: &[Cidr]) {
        for cidr in cidrs {
            self.characters(&cidr.text, cidr.span);
        }
    }

    fn window(&mut self, window: &Window) {
        if let Some(zone) = &window.tz {
            self.string(zone);
        }
    }

    /// Every atom of a condition, walked with a stack of its own.
    fn condition(&mut self, expr: &Expr) {
        let mut pending = vec![expr];
        while let Some(expr) = pending.pop() {
            match &expr.kind {
                ExprKind::Or(operands) | ExprKind::And(operands) => pending.extend(operands),
                ExprKind::Not(operand) => pending.push(operand),
                ExprKind::Atom(atom) => self.atom(atom),
            }
        }
    }

    fn atom(&mut self, atom: &Atom) {
        match atom {
            Atom::Scope(text)
            | Atom::Client(text)
            | Atom::TimeBefore(text)
            | Atom::TimeAfter(text) => self.string(text),
            Atom::Role(name) => self.ident(name),
            Atom::IpIn(network) => self.network(network),
            Atom::TimeIn(WindowRef::Named(name)) => self.ident(name),
            Atom::TimeIn(WindowRef::Inline(window)) => self.window(window),
            Atom::ClaimCompare { path, value, .. } | Atom::ClaimContains { path, value } => {
                self.claim_path(path);
                if let LiteralValue::String(literal) = &value.value {
                    self.characters(literal, value.span);
                }
            }
            Atom::ClaimExists { path } => self.claim_path(path),
            Atom::Arg { path, test } => {
                self.claim_path(path);
                match test {
                    ArgOperator::Compare { value, .. }
                    | ArgOperator::Contains(value)
                    | ArgOperator::Order { value, .. } => self.literal(value),
                    ArgOperator::In(values) => values.iter().for_each(|value| self.literal(value)),
                    ArgOperator::Matches(pattern) => self.patterns(std::slice::from_ref(pattern)),
                    ArgOperator::Exists => {}
                }
            }
            Atom::Bool(_) => {}
        }
    }
}
