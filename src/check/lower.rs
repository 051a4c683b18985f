//! Lowering rules and requirements: actions checked against the kind (E005), patterns
//! compiled (E010), names resolved (E003), inline values validated (E006-E009).

use super::{
    values, ActionSet, ArgOp, ArgTest, Body, Checker, ClaimTest, Cond, CondKind, Statement,
    Subjects,
};
use crate::ast::{self, Atom, ConditionMode, ExprKind, StatementKind};
use crate::claim_path::ClaimPath;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;

impl<'a> Checker<'a> {
    /// Lowers every rule and requirement, in policy order.
    pub(super) fn lower_statements(&mut self, policy: &'a ast::SyntaxTree) {
        self.mark_explicit_claims(policy);
        for statement in &policy.statements {
            let lowered = match &statement.kind {
                StatementKind::Rule(rule) => self.lower_rule(rule, statement.span),
                StatementKind::Requirement(requirement) => {
                    self.lower_requirement(requirement, statement.span)
                }
                _ => continue,
            };
            self.statements.push(lowered);
        }
    }

    /// Records which lines the (first) `claims` block writes, so a claims preset fills
    /// only the others.
    fn mark_explicit_claims(&mut self, policy: &ast::SyntaxTree) {
        let block = policy
            .statements
            .iter()
            .find_map(|statement| match &statement.kind {
                StatementKind::Claims(block) => Some(block),
                _ => None,
            });
        for line in block.iter().flat_map(|block| &block.lines) {
            let explicit = &mut self.claims.explicit;
            match line.field {
                ast::ClaimField::Roles => explicit.roles = true,
                ast::ClaimField::Scopes => explicit.scopes = true,
                ast::ClaimField::Client => explicit.client = true,
            }
        }
    }

    fn lower_rule(&mut self, rule: &ast::Rule, span: Span) -> Statement {
        let subjects = match &rule.subjects {
            ast::Subjects::Anyone(_) => Subjects::Anyone,
            ast::Subjects::Roles(names) => Subjects::Roles(
                names
                    .iter()
                    .filter_map(|name| self.role_use(name))
                    .collect(),
            ),
        };
        let condition = rule.condition.as_ref().map(|condition| {
            let expr = self.lower_expr(&condition.expr);
            match condition.mode {
                ConditionMode::If => expr,
                ConditionMode::Unless => Cond {
                    span: condition.keyword_span.to(expr.span),
                    kind: CondKind::Not(Box::new(expr)),
                },
            }
        });
        let actions = self.actions(&rule.actions, rule.kind);
        if let Some(first) = condition.as_ref().and_then(Cond::first_arg) {
            self.arguments_without_arguments(rule, first.span);
        }
        Statement {
            span,
            kind: rule.kind.kind,
            actions,
            patterns: self.patterns(&rule.patterns),
            body: Body::Rule {
                effect: rule.effect,
                subjects,
                condition,
            },
        }
    }

    /// E013 when the rule's actions include `list` or `read`: those requests carry no
    /// arguments, so the condition could never be decided as written.
    fn arguments_without_arguments(&mut self, rule: &ast::Rule, first: Span) {
        let Some(action) = rule
            .actions
            .iter()
            .find(|action| matches!(action.action, ast::Action::List | ast::Action::Read))
        else {
            return;
        };
        let keyword = action.action.keyword();
        self.report(
            Diagnostic::new(
                Code::E013,
                first,
                format!("`arg` condition on a rule that applies to `{keyword}`"),
            )
            .with_label(
                action.span,
                format!("`{keyword}` requests carry no arguments"),
            )
            .with_help(
                "write the `arg` condition on a rule for `call` or `get` alone; listing a tool \
                 follows whether some arguments would let the caller call it",
            ),
        );
    }

    fn lower_requirement(&mut self, requirement: &ast::Requirement, span: Span) -> Statement {
        let scopes = requirement
            .scopes
            .iter()
            .map(|text| self.scope(text, false))
            .collect();
        Statement {
            span,
            kind: requirement.kind.kind,
            actions: self.actions(&requirement.actions, requirement.kind),
            patterns: self.patterns(&requirement.patterns),
            body: Body::Requirement { scopes },
        }
    }

    fn actions(&mut self, actions: &[ast::ActionName], kind: ast::KindName) -> ActionSet {
        let mut set = ActionSet::default();
        for action in actions {
            if action.action == ast::Action::List {
                set.list = true;
            } else if kind.kind.allows(action.action) {
                set.use_ = true;
            } else {
                let kind = kind.kind;
                self.report(
                    Diagnostic::new(
                        Code::E005,
                        action.span,
                        format!(
                            "`{}` is not an action on {}",
                            action.action.keyword(),
                            kind.plural()
                        ),
                    )
                    .with_help(format!(
                        "{} take `list` and `{}`",
                        kind.plural(),
                        kind.use_action().keyword()
                    )),
                );
            }
        }
        set
    }

    fn patterns(&mut self, patterns: &[ast::Text]) -> Vec<(crate::glob::Glob, Span)> {
        patterns
            .iter()
            .filter_map(|text| match values::pattern(text) {
                Ok(glob) => Some((glob, text.span)),
                Err(diagnostic) => {
                    self.report(diagnostic);
                    None
                }
            })
            .collect()
    }

    fn lower_expr(&mut self, expr: &ast::Expr) -> Cond {
        let kind = match &expr.kind {
            ExprKind::Or(items) => CondKind::Or(items.iter().map(|e| self.lower_expr(e)).collect()),
            ExprKind::And(items) => {
                CondKind::And(items.iter().map(|e| self.lower_expr(e)).collect())
            }
            ExprKind::Not(inner) => CondKind::Not(Box::new(self.lower_expr(inner))),
            ExprKind::Atom(atom) => self.lower_atom(atom),
        };
        Cond {
            kind,
            span: expr.span,
        }
    }

    fn lower_atom(&mut self, atom: &Atom) -> CondKind {
        match atom {
            Atom::Bool(value) => CondKind::Const(*value),
            Atom::Scope(text) => CondKind::Scope(self.scope(text, false)),
            Atom::Role(name) => self
                .role_use(name)
                .map_or(CondKind::Const(false), CondKind::Role),
            Atom::Client(text) => CondKind::Client(text.value.clone()),
            Atom::IpIn(network) => self.lower_network(network),
            Atom::TimeIn(window) => self.lower_window(window),
            Atom::TimeBefore(text) => self
                .instant(text)
                .map_or(CondKind::Const(false), CondKind::Before),
            Atom::TimeAfter(text) => self
                .instant(text)
                .map_or(CondKind::Const(false), CondKind::After),
            Atom::ClaimCompare { path, op, value } => CondKind::Claim(ClaimTest::Compare {
                path: self.claim_path(path),
                op: *op,
                value: value.value.clone(),
            }),
            Atom::ClaimContains { path, value } => CondKind::Claim(ClaimTest::Contains {
                path: self.claim_path(path),
                value: value.value.clone(),
            }),
            Atom::ClaimExists { path } => CondKind::Claim(ClaimTest::Exists {
                path: self.claim_path(path),
            }),
            Atom::Arg { path, test } => self.lower_arg(path, test),
        }
    }

    fn lower_arg(&mut self, path: &ast::Text, test: &ast::ArgOperator) -> CondKind {
        let path = self.claim_path(path);
        let test = match test {
            ast::ArgOperator::Compare { op, value } => ArgOp::Compare {
                op: *op,
                value: value.value.clone(),
            },
            ast::ArgOperator::In(values) => {
                ArgOp::In(values.iter().map(|value| value.value.clone()).collect())
            }
            ast::ArgOperator::Contains(value) => ArgOp::Contains(value.value.clone()),
            ast::ArgOperator::Matches(pattern) => match values::pattern(pattern) {
                Ok(glob) => ArgOp::Matches(glob),
                Err(diagnostic) => {
                    self.report(diagnostic);
                    return CondKind::Const(false);
                }
            },
            ast::ArgOperator::Order { op, value } => ArgOp::Order {
                op: *op,
                value: value.value.clone(),
            },
            ast::ArgOperator::Exists => ArgOp::Exists,
        };
        CondKind::Arg(ArgTest { path, test })
    }

    /// A claim path, split once; an invalid JSON Pointer is E001 (the path then finds
    /// nothing, but the policy does not load).
    pub(super) fn claim_path(&mut self, text: &ast::Text) -> ClaimPath {
        ClaimPath::parse(&text.value).unwrap_or_else(|error| {
            self.report(
                Diagnostic::new(Code::E001, text.span, error.to_string())
                    .with_help("write `~0` for `~` and `~1` for `/` inside a pointer segment"),
            );
            ClaimPath::lenient(&text.value)
        })
    }

    fn instant(&mut self, text: &ast::Text) -> Option<jiff::Timestamp> {
        values::instant(text)
            .map_err(|diagnostic| self.report(diagnostic))
            .ok()
    }

    fn lower_network(&mut self, network: &ast::NetworkRef) -> CondKind {
        match network {
            ast::NetworkRef::Inline(cidrs) => CondKind::Ip(self.add_network(cidrs)),
            ast::NetworkRef::Named(name) => match self.network_ids.get(name.name.as_str()) {
                Some(id) => CondKind::Ip(*id),
                None => {
                    let candidates: Vec<&str> = self.network_ids.keys().copied().collect();
                    self.undefined("network", name, candidates);
                    CondKind::Const(false)
                }
            },
        }
    }

    fn lower_window(&mut self, window: &ast::WindowRef) -> CondKind {
        match window {
            ast::WindowRef::Inline(window) => CondKind::Window(self.add_window(window)),
            ast::WindowRef::Named(name) => match self.window_ids.get(name.name.as_str()) {
                Some(id) => CondKind::Window(*id),
                None => {
                    let candidates: Vec<&str> = self.window_ids.keys().copied().collect();
                    self.undefined("window", name, candidates);
                    CondKind::Const(false)
                }
            },
        }
    }
}
