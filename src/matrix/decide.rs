//! The decision procedure of docs/language.md ("Deciding"), run on one assignment of a
//! cell's atoms: written again over the matrix's simplified programs, not borrowed
//! from the engine, so that the tests can hold the two against each other.

use crate::check::CheckedPolicy;
use crate::eval::next_combination;
use crate::eval::STEP_UP_MAX_TRIES;
use crate::ids::ScopeId;

use super::node::{Env, Truth};
use super::program::{Program, Rule};

/// How one program ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A matching allow rule holds.
    Allowed,
    /// A matching deny rule holds or is unknown.
    Denied,
    /// A requirement is unmet, or scopes would make an allow rule hold.
    MissingScopes,
    /// Nothing allows it.
    NoRule,
}

/// The scope implication closure of a policy.
#[derive(Debug, Clone)]
pub(crate) struct Closure {
    /// Each scope with every scope it implies, transitively, itself included.
    implied: Vec<Vec<ScopeId>>,
}

impl Closure {
    /// The closure of `policy`'s `implies` lists.
    pub fn new(policy: &CheckedPolicy) -> Closure {
        let count = policy.scopes.len();
        let implied = (0..count)
            .map(|start| {
                let mut seen = vec![false; count];
                let mut stack = vec![ScopeId::from_index(start)];
                let mut found = Vec::new();
                while let Some(scope) = stack.pop() {
                    match seen.get_mut(scope.index()) {
                        Some(slot) if !*slot => *slot = true,
                        _ => continue,
                    }
                    found.push(scope);
                    if let Some(declared) = policy.scopes.get(scope.index()) {
                        stack.extend(declared.implies.iter().copied());
                    }
                }
                found.sort_unstable();
                found
            })
            .collect();
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
        self.run(use_, env) == Outcome::Allowed
    }

    /// Whether `list` allows in `env`: listing follows use when `list` ends in `no_rule`.
    pub fn allows_list(&self, list: &Program, use_: &Program, env: &Env<'_>) -> bool {
        match self.run(list, env) {
            Outcome::Allowed => true,
            Outcome::NoRule => self.allows_use(use_, env),
            Outcome::Denied | Outcome::MissingScopes => false,
        }
    }

    /// How `program` ends in `env`.
    pub fn run(&self, program: &Program, env: &Env<'_>) -> Outcome {
        let held = |scope: &ScopeId| env.scopes.get(scope.index()).copied().unwrap_or(false);
        if program
            .denies
            .iter()
            .any(|rule| rule.condition.truth(env, env.scopes) != Truth::False)
        {
            return Outcome::Denied;
        }
        let mut required = program.requirements.iter().flat_map(|r| &r.scopes);
        if required.any(|scope| !held(scope)) {
            return Outcome::MissingScopes;
        }
        if program
            .allows
            .iter()
            .any(|rule| rule.condition.truth(env, env.scopes) == Truth::True)
        {
            return Outcome::Allowed;
        }
        let step_up = program
            .allows
            .iter()
            .filter(|rule| rule.has_condition)
            .any(|rule| self.steps_up(rule, env));
        if step_up {
            Outcome::MissingScopes
        } else {
            Outcome::NoRule
        }
    }

    /// Whether adding some of the scopes the rule's condition names (and the token lacks)
    /// makes it hold, trying sets by size and then lexicographically, at most
    /// [`STEP_UP_MAX_TRIES`] of them, as the engine does.
    fn steps_up(&self, rule: &Rule, env: &Env<'_>) -> bool {
        let candidates: Vec<ScopeId> = rule
            .named_scopes
            .iter()
            .copied()
            .filter(|scope| !env.scopes.get(scope.index()).copied().unwrap_or(false))
            .collect();
        let mut tries = 0;
        let mut scopes = env.scopes.to_vec();
        for size in 1..=candidates.len() {
            let mut chosen: Vec<usize> = (0..size).collect();
            loop {
                tries += 1;
                if tries > STEP_UP_MAX_TRIES {
                    return false;
                }
                scopes.copy_from_slice(env.scopes);
                for scope in chosen.iter().filter_map(|index| candidates.get(*index)) {
                    for implied in self.closure.of(*scope) {
                        if let Some(slot) = scopes.get_mut(implied.index()) {
                            *slot = true;
                        }
                    }
                }
                if rule.condition.truth(env, &scopes) == Truth::True {
                    return true;
                }
                if !next_combination(&mut chosen, candidates.len()) {
                    break;
                }
            }
        }
        false
    }
}
