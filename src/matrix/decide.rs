//! The matrix's facts for the one decision procedure ([`crate::decide`]): one
//! assignment of a cell's atoms, over the programs simplified for the row.

use crate::check::CheckedPolicy;
use crate::decide::{self, Truth};
use crate::ids::ScopeId;

use super::node::Env;
use super::program::{Program, Requirement, Rule};

/// The scope implication closure of a policy.
#[derive(Debug, Clone)]
pub(crate) struct Closure {
    /// Each scope with every scope it implies, transitively, itself included, sorted.
    implied: Vec<Vec<ScopeId>>,
}

impl Closure {
    /// The closure of `policy`'s `implies` lists.
    pub fn new(policy: &CheckedPolicy) -> Closure {
        let mut implied = policy.scope_closures();
        implied.iter_mut().for_each(|scopes| scopes.sort_unstable());
        Closure { implied }
    }

    /// The scopes `scope` implies, itself included.
    pub fn of(&self, scope: ScopeId) -> &[ScopeId] {
        self.implied.get(scope.index()).map_or(&[], Vec::as_slice)
    }
}

/// Decides programs on assignments.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Decider<'a> {
    pub closure: &'a Closure,
}

impl Decider<'_> {
    /// Whether `use_` (the kind's use action) allows in `env`.
    pub fn allows_use(&self, use_: &Program, env: &Env<'_>) -> bool {
        let facts = Assignment {
            env,
            closure: self.closure,
        };
        decide::decide(&facts, use_.view()).is_allowed()
    }

    /// Whether `list` allows in `env`: listing follows use when `list` ends in `no_rule`
    /// (`use_` was simplified with the arguments that favour the caller).
    pub fn allows_list(&self, list: &Program, use_: &Program, env: &Env<'_>) -> bool {
        let facts = Assignment {
            env,
            closure: self.closure,
        };
        decide::list(&facts, list.view(), use_.view()).is_allowed()
    }
}

/// One assignment of a cell's atoms. Every rule of a program already matches the row
/// (others were left out), and its `arg` atoms were lowered to the values the program
/// was built for.
#[derive(Clone, Copy)]
struct Assignment<'a> {
    env: &'a Env<'a>,
    closure: &'a Closure,
}

impl decide::Facts for Assignment<'_> {
    type Rule = Rule;
    type Requirement = Requirement;
    type Hypothesis = Vec<bool>;

    fn matches(&self, _: &Rule) -> bool {
        true
    }

    fn truth(&self, rule: &Rule) -> Truth {
        rule.condition.truth(self.env, self.env.scopes)
    }

    fn truth_with(&self, rule: &Rule, hypothesis: &Vec<bool>) -> Truth {
        rule.condition.truth(self.env, hypothesis)
    }

    fn named_scopes<'s>(&'s self, rule: &'s Rule) -> Option<&'s [ScopeId]> {
        rule.has_condition.then_some(rule.named_scopes.as_slice())
    }

    fn required<'s>(&'s self, requirement: &'s Requirement) -> &'s [ScopeId] {
        &requirement.scopes
    }

    fn held(&self, scope: ScopeId) -> bool {
        self.env.scopes.get(scope.index()).copied().unwrap_or(false)
    }

    fn hypothesis(&self) -> Vec<bool> {
        self.env.scopes.to_vec()
    }

    fn reset(&self, hypothesis: &mut Vec<bool>) {
        hypothesis.clear();
        hypothesis.extend_from_slice(self.env.scopes);
    }

    fn grant(&self, hypothesis: &mut Vec<bool>, scope: ScopeId) {
        for implied in self.closure.of(scope) {
            if let Some(slot) = hypothesis.get_mut(implied.index()) {
                *slot = true;
            }
        }
    }

    fn favourable(&self) -> Self {
        *self
    }
}
