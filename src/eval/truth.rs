//! The engine's facts: the principal's bit sets and the request's address, time and
//! arguments, read by the one decision procedure ([`crate::decide`]).

use std::net::IpAddr;

pub(crate) use crate::arguments::Arguments;
use jiff::Timestamp;

use crate::decide::{self, Truth};
use crate::ids::{Bits, ScopeId};
use crate::index::{Entry, Index, Node, RequirementStep};

/// What a condition reads: the principal's bits and the request's address, time and
/// arguments.
#[derive(Clone, Copy)]
pub(crate) struct Facts<'a> {
    pub table: &'a Index,
    pub roles: &'a Bits,
    pub scopes: &'a Bits,
    pub atoms: &'a Bits,
    /// Claim atoms on a path the token makes ambiguous.
    pub unknown: &'a Bits,
    pub ip: Option<IpAddr>,
    pub time: Timestamp,
    pub arguments: Arguments<'a>,
}

impl Facts<'_> {
    /// The value of `node`, reading scopes from `scopes` (the principal's, or a step-up
    /// hypothesis).
    fn truth(&self, node: &Node, scopes: &Bits) -> Truth {
        match node {
            Node::Const(value) => Truth::from(*value),
            Node::Scope(scope) => Truth::from(scopes.contains(scope.index())),
            Node::Role(role) => Truth::from(self.roles.contains(role.index())),
            Node::Atom(atom) if self.unknown.contains(atom.index()) => Truth::Unknown,
            Node::Atom(atom) => Truth::from(self.atoms.contains(atom.index())),
            Node::Arg { test, favourable } => match self.arguments {
                Arguments::Favourable => Truth::from(*favourable),
                Arguments::Given(arguments) => self
                    .table
                    .arg_tests
                    .get(test.index())
                    .and_then(|test| crate::arguments::holds(arguments, test))
                    .map_or(Truth::Unknown, Truth::from),
            },
            Node::Ip(network) => match self.ip {
                None => Truth::Unknown,
                Some(ip) => Truth::from(
                    self.table
                        .networks
                        .get(network.index())
                        .is_some_and(|network| network.contains(ip)),
                ),
            },
            Node::Window(window) => Truth::from(
                self.table
                    .windows
                    .get(window.index())
                    .is_some_and(|window| window.contains(self.time)),
            ),
            Node::Before(instant) => Truth::from(self.time < *instant),
            Node::After(instant) => Truth::from(self.time >= *instant),
            Node::Not(inner) => !self.truth(inner, scopes),
            Node::And(items) => Truth::all(items.iter().map(|item| self.truth(item, scopes))),
            Node::Or(items) => Truth::any(items.iter().map(|item| self.truth(item, scopes))),
        }
    }

    /// The value of condition `index` (an absent condition is true).
    #[inline]
    fn condition(&self, index: Option<u32>, scopes: &Bits) -> Truth {
        match index {
            None => Truth::True,
            Some(index) => self
                .table
                .conditions
                .get(index as usize)
                .map_or(Truth::Unknown, |condition| {
                    self.truth(&condition.root, scopes)
                }),
        }
    }
}

impl decide::Facts for Facts<'_> {
    type Rule = Entry;
    type Requirement = RequirementStep;
    type Hypothesis = Bits;

    #[inline]
    fn matches(&self, rule: &Entry) -> bool {
        rule.subjects.matches(self.roles)
    }

    #[inline]
    fn truth(&self, rule: &Entry) -> Truth {
        self.condition(rule.condition, self.scopes)
    }

    fn truth_with(&self, rule: &Entry, hypothesis: &Bits) -> Truth {
        self.condition(rule.condition, hypothesis)
    }

    fn named_scopes<'s>(&'s self, rule: &'s Entry) -> Option<&'s [ScopeId]> {
        let condition = self.table.conditions.get(rule.condition? as usize)?;
        Some(condition.named_scopes.as_slice())
    }

    #[inline]
    fn required<'s>(&'s self, requirement: &'s RequirementStep) -> &'s [ScopeId] {
        &requirement.scopes
    }

    #[inline]
    fn held(&self, scope: ScopeId) -> bool {
        self.scopes.contains(scope.index())
    }

    fn hypothesis(&self) -> Bits {
        self.scopes.clone()
    }

    fn reset(&self, hypothesis: &mut Bits) {
        hypothesis.clone_from(self.scopes);
    }

    fn grant(&self, hypothesis: &mut Bits, scope: ScopeId) {
        if let Some(closure) = self.table.scopes.closure.get(scope.index()) {
            hypothesis.union_with(closure);
        }
    }

    fn favourable(&self) -> Self {
        Facts {
            arguments: Arguments::Favourable,
            ..*self
        }
    }
}
