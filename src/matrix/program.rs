//! The statements that decide one cell: those matching the kind, the action and the
//! name, with subjects the row's roles satisfy, conditions simplified for the row.

use crate::ast::Effect;
use crate::ast::{Action, Kind};
use crate::check::{Body, CheckedPolicy, CondKind, Statement, Subjects};
use crate::ids::ScopeId;
use crate::source::{Sources, Span};

use super::node::{ArgumentsTaken, Atom, Lowering, Node, NodeKind};

/// A matching allow or deny rule.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    /// The condition for the row (`true` when the rule has none).
    pub condition: Node,
    /// Whether the rule has a condition at all (step-up only looks at those).
    pub has_condition: bool,
    /// The scopes the written condition names, sorted by name (step-up candidates).
    pub named_scopes: Vec<ScopeId>,
    /// The statement.
    pub span: Span,
    /// Written `unless C` (its condition is `not C`).
    pub unless: bool,
}

/// A matching requirement.
#[derive(Debug, Clone)]
pub(crate) struct Requirement {
    /// Every scope it needs.
    pub scopes: Vec<ScopeId>,
    /// The statement.
    pub span: Span,
}

/// The statements matching one action on one name for one row, in policy order. Rules
/// whose condition is false for the row are left out: they never fire nor hold.
#[derive(Debug, Clone, Default)]
pub(crate) struct Program {
    pub denies: Vec<Rule>,
    pub requirements: Vec<Requirement>,
    pub allows: Vec<Rule>,
}

/// What a program is about.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'n> {
    pub kind: Kind,
    /// `list` (else the kind's use action).
    pub list: bool,
    pub name: &'n str,
    /// What `arg` atoms become.
    pub arguments: ArgumentsTaken,
}

impl Program {
    /// The program of `target` for a principal whose effective roles are `roles`.
    pub fn new(
        policy: &CheckedPolicy,
        sources: &Sources,
        roles: &[bool],
        target: Target<'_>,
    ) -> Program {
        let has_role = |role: usize| roles.get(role).copied().unwrap_or(false);
        let mut program = Program::default();
        for statement in &policy.statements {
            if !matches(statement, target) {
                continue;
            }
            match &statement.body {
                Body::Requirement { scopes } => program.requirements.push(Requirement {
                    scopes: scopes.clone(),
                    span: statement.span,
                }),
                Body::Rule {
                    effect,
                    subjects,
                    condition,
                } => {
                    let applies = match subjects {
                        Subjects::Anyone => true,
                        Subjects::Roles(wanted) => wanted.iter().any(|r| has_role(r.index())),
                    };
                    if !applies {
                        continue;
                    }
                    let lowering = Lowering {
                        has_role: &has_role,
                        arguments: target.arguments,
                    };
                    let favourable = crate::arguments::favourable_at_root(*effect);
                    let node = match condition {
                        Some(cond) => Node::lower(cond, lowering, favourable),
                        None => Node {
                            kind: NodeKind::Const(true),
                            span: statement.span,
                        },
                    };
                    if node.constant() == Some(false) {
                        continue;
                    }
                    let named_scopes = condition
                        .as_ref()
                        .map(|cond| policy.named_scopes(cond))
                        .unwrap_or_default();
                    let unless = condition.as_ref().is_some_and(|cond| {
                        matches!(cond.kind, CondKind::Not(_))
                            && sources.text(cond.span).starts_with("unless")
                    });
                    let rule = Rule {
                        condition: node,
                        has_condition: condition.is_some(),
                        named_scopes,
                        span: statement.span,
                        unless,
                    };
                    match effect {
                        Effect::Deny => program.denies.push(rule),
                        Effect::Allow => program.allows.push(rule),
                    }
                }
            }
        }
        program
    }

    /// The program as the decision procedure reads it.
    pub fn view(&self) -> crate::decide::Program<'_, Rule, Requirement> {
        crate::decide::Program {
            denies: &self.denies,
            requirements: &self.requirements,
            allows: &self.allows,
        }
    }

    /// Every rule, denies first.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.denies.iter().chain(&self.allows)
    }

    /// Every atom the program reads, conditions first, then requirement scopes; with
    /// `step_up`, also the scopes the allow rules' written conditions name.
    pub fn atoms(&self, step_up: bool) -> Vec<Atom> {
        let mut found: Vec<&Atom> = Vec::new();
        for rule in self.rules() {
            rule.condition.atoms(&mut found);
        }
        let mut atoms: Vec<Atom> = found.into_iter().cloned().collect();
        let requirement_scopes = self.requirements.iter().flat_map(|r| &r.scopes);
        atoms.extend(requirement_scopes.map(|scope| Atom::Scope(*scope)));
        if step_up {
            let named = self.allows.iter().flat_map(|rule| &rule.named_scopes);
            atoms.extend(named.map(|scope| Atom::Scope(*scope)));
        }
        atoms
    }

    /// Gives every leaf its slot.
    pub fn assign_slots(&mut self, slot_of: &dyn Fn(&Atom) -> usize) {
        for rule in self.denies.iter_mut().chain(self.allows.iter_mut()) {
            rule.condition.assign_slots(slot_of);
        }
    }
}

fn matches(statement: &Statement, target: Target<'_>) -> bool {
    let action = if target.list {
        Action::List
    } else {
        target.kind.use_action()
    };
    statement
        .matching_pattern(target.kind, action, target.name)
        .is_some()
}

/// The name of a scope id (empty for an id the policy lacks).
pub(crate) fn scope_name(policy: &CheckedPolicy, scope: ScopeId) -> &str {
    policy
        .scopes
        .get(scope.index())
        .map_or("", |scope| scope.name.as_str())
}
