//! A reference interpreter of the policy language, for differential testing.
//!
//! It reads the policy text with its own recursive-descent parser ([`syntax`], sharing
//! nothing with the engine's pest grammar or AST), walks its own syntax tree and follows
//! LANGUAGE.md ("Principals", "Deciding", "Fine points", "Conditions") sentence by
//! sentence, with no index, no hashing of rules and no code shared with the engine: its
//! own parser, glob matcher ([`glob`]), window evaluation
//! ([`window`]), CIDR matching ([`network`]), claim lookup and principal extraction
//! ([`principal`]) and three-valued condition evaluation ([`condition`]). It is meant to
//! be slow and obviously correct.
//!
//! It assumes the policy passed the checker (names defined, no cycles, valid windows,
//! addresses, zones, instants and patterns). Where a value the checker should have
//! rejected shows up anyway, the affected atom evaluates to *unknown* (fail closed).
//! Where the spec is silent it follows docs/language.md's "Extensions beyond the
//! specification": IPv4-mapped ranges (a) and the bounded step-up search (f), which it
//! reports rather than imitates ([`RefDecision::step_up_bounded`]).
//!
//! The only things taken from the library are [`Sources`] (the files of a policy, in
//! order) and the `Kind`/`Action` of a request, which the engine's side of a comparison
//! takes as they are; the reference reads both by their keywords.

pub mod condition;
pub mod glob;
pub mod network;
pub mod number;
pub mod principal;
pub mod syntax;
pub mod window;

#[cfg(test)]
mod conformance;
#[cfg(test)]
mod subsets_tests {
    use super::subsets_of_size;

    #[test]
    fn subsets_come_in_lexicographic_order() {
        let items: Vec<String> = ["a", "b", "c", "d"].map(str::to_owned).to_vec();
        let subsets = subsets_of_size(&items, 2);
        let mut sorted = subsets.clone();
        sorted.sort();
        assert_eq!(subsets, sorted);
        assert_eq!(subsets.len(), 6);
        assert_eq!(super::binomial(20, 4), 4845);
        assert_eq!(super::binomial(3, 4), 0);
    }
}
#[cfg(test)]
mod decide_tests;

use std::collections::BTreeSet;
use std::net::IpAddr;

use toolgate::unstable::source::Sources;

use self::condition::{Arguments, Evaluation, Truth};
use self::principal::{Definitions, Principal};
pub use self::syntax::{Action, Kind, Policy, SyntaxError};
use self::syntax::{Body, Effect, Expr, Requirement, Rule, Statement, Subjects, Target};

/// How many sets of scopes the engine tries per allow rule when looking for a step-up
/// (docs/language.md, extension (f)): past it, the rule is skipped, never an allow.
pub const STEP_UP_TRIES: u64 = 4096;

/// Reads every file of `sources` (in their order) with the reference parser.
pub fn parse(sources: &Sources) -> Result<Policy, SyntaxError> {
    syntax::parse_files(
        sources
            .iter()
            .map(|(_, source)| (source.name(), source.text())),
    )
}

/// A request as the reference interpreter sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct RefRequest {
    /// The token's claims (a JSON object).
    pub claims: serde_json::Value,
    /// The kind of name asked about (the library's request type, which the engine's
    /// side of every comparison takes; the reference reads it by its keyword).
    pub kind: toolgate::Kind,
    /// The action asked for (valid for the kind), likewise.
    pub action: toolgate::Action,
    /// The tool, resource or prompt name.
    pub name: String,
    /// The client's address, when known.
    pub ip: Option<IpAddr>,
    /// When the request is made.
    pub time: jiff::Timestamp,
    /// The call's arguments (`call` and `get`; `None` is `{}`).
    pub arguments: Option<serde_json::Value>,
}

/// The reference interpreter's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefDecision {
    /// Whether the request is allowed.
    pub allow: bool,
    /// `"allowed"`, `"denied"`, `"insufficient_scope"` or `"no_rule"`.
    pub reason: &'static str,
    /// `"FILE:LINE"` of the deciding statement, if there is one.
    pub rule: Option<String>,
    /// The scopes the token lacks, sorted (empty unless `insufficient_scope`).
    pub missing_scopes: Vec<String>,
    /// Whether the step-up search of a matching allow rule may pass the engine's bound
    /// ([`STEP_UP_TRIES`]): the decision is then only promised to be a deny.
    pub step_up_bounded: bool,
}

/// Reason: a matching allow rule holds.
pub const ALLOWED: &str = "allowed";
/// Reason: a matching deny rule fires.
pub const DENIED: &str = "denied";
/// Reason: a requirement is unmet, or scopes would make an allow rule hold.
pub const INSUFFICIENT_SCOPE: &str = "insufficient_scope";
/// Reason: nothing allows the request.
pub const NO_RULE: &str = "no_rule";

/// Whether `policy` refuses the token of `request` (an ambiguous claims-map path).
pub fn refuses(policy: &Policy, request: &RefRequest) -> bool {
    principal::refuses(&Definitions::new(policy), &request.claims)
}

/// Decides `request` against `policy` as LANGUAGE.md's "Deciding" section says.
pub fn decide_policy(policy: &Policy, request: &RefRequest) -> RefDecision {
    let definitions = Definitions::new(policy);
    let principal = Principal::from_claims(&definitions, &request.claims);
    let (kind, action) = request_kind_and_action(request);
    let decider = Decider {
        kind,
        definitions: &definitions,
        statements: policy.statements.iter().collect(),
        principal: &principal,
        request,
        favoured: false,
    };
    let decision = decider.decide_action(action);
    if action == Action::List && decision.reason == NO_RULE {
        // "Listing with arguments": the use is decided with every `arg` atom replaced by
        // the value that favours the caller in its rule.
        let favoured = Decider {
            favoured: true,
            ..decider
        };
        let use_decision = favoured.decide_action(kind.use_action());
        if use_decision.reason == ALLOWED {
            return use_decision;
        }
        return RefDecision {
            step_up_bounded: decision.step_up_bounded || use_decision.step_up_bounded,
            ..decision
        };
    }
    decision
}

/// The request's kind and action in the reference's own terms (by keyword).
fn request_kind_and_action(request: &RefRequest) -> (Kind, Action) {
    let kind = Kind::from_keyword(request.kind.singular());
    let action = Action::from_keyword(request.action.keyword());
    match (kind, action) {
        (Some(kind), Some(action)) => (kind, action),
        _ => panic!("unknown kind or action in {request:?}"),
    }
}

/// Everything one decision needs.
struct Decider<'a> {
    /// The request's kind.
    kind: Kind,
    definitions: &'a Definitions<'a>,
    /// The statements in policy order (the parser gives them so).
    statements: Vec<&'a Statement>,
    principal: &'a Principal,
    request: &'a RefRequest,
    /// Whether `arg` atoms take the value favouring the caller (listing follows use).
    favoured: bool,
}

/// A rule together with the statement that holds it.
#[derive(Clone, Copy)]
struct RuleAt<'a> {
    statement: &'a Statement,
    rule: &'a Rule,
}

/// A requirement together with the statement that holds it.
#[derive(Clone, Copy)]
struct RequirementAt<'a> {
    statement: &'a Statement,
    requirement: &'a Requirement,
}

/// The cheapest step-up found so far: the rule and the scopes to add.
struct StepUp<'a> {
    statement: &'a Statement,
    scopes: Vec<String>,
}

impl<'a> Decider<'a> {
    /// Steps 1 to 4 of "Deciding" for `action` (the request's kind and name).
    fn decide_action(&self, action: Action) -> RefDecision {
        let rules = self.matching_rules(action);
        if let Some(deny) = self.first_firing_deny(&rules) {
            return decision(false, DENIED, Some(deny.statement), Vec::new());
        }
        if let Some((statement, missing)) = self.unmet_requirements(action) {
            return decision(false, INSUFFICIENT_SCOPE, Some(statement), missing);
        }
        if let Some(allow) = self.first_holding_allow(&rules) {
            return decision(true, ALLOWED, Some(allow.statement), Vec::new());
        }
        let (step_up, bounded) = self.cheapest_step_up(&rules);
        let outcome = match step_up {
            Some(step_up) => decision(
                false,
                INSUFFICIENT_SCOPE,
                Some(step_up.statement),
                step_up.scopes,
            ),
            None => decision(false, NO_RULE, None, Vec::new()),
        };
        RefDecision {
            step_up_bounded: bounded,
            ..outcome
        }
    }

    /// The rules matching the request with `action`, in policy order.
    fn matching_rules(&self, action: Action) -> Vec<RuleAt<'a>> {
        let mut rules = Vec::new();
        for statement in &self.statements {
            if let Body::Rule(rule) = &statement.body {
                if self.rule_matches(rule, action) {
                    rules.push(RuleAt { statement, rule });
                }
            }
        }
        rules
    }

    /// The requirements matching the request with `action`, in policy order.
    fn matching_requirements(&self, action: Action) -> Vec<RequirementAt<'a>> {
        let mut requirements = Vec::new();
        for statement in &self.statements {
            if let Body::Requirement(requirement) = &statement.body {
                if target_matches(&requirement.target, self.kind, &self.request.name, action) {
                    requirements.push(RequirementAt {
                        statement,
                        requirement,
                    });
                }
            }
        }
        requirements
    }

    /// Kind, action, pattern and subjects.
    fn rule_matches(&self, rule: &Rule, action: Action) -> bool {
        target_matches(&rule.target, self.kind, &self.request.name, action)
            && self.subjects_match(&rule.subjects)
    }

    /// `anyone`, or a role shared with the principal's effective roles.
    fn subjects_match(&self, subjects: &Subjects) -> bool {
        match subjects {
            Subjects::Anyone => true,
            Subjects::Roles(roles) => roles.iter().any(|role| self.principal.roles.contains(role)),
        }
    }

    /// Step 1: the first matching deny whose condition is true or unknown.
    fn first_firing_deny(&self, rules: &[RuleAt<'a>]) -> Option<RuleAt<'a>> {
        let scopes = self.principal.effective_scopes(self.definitions);
        rules.iter().copied().find(|candidate| {
            candidate.rule.effect == Effect::Deny
                && self.rule_condition(candidate.rule, &scopes) != Truth::False
        })
    }

    /// Step 2: the first unmet requirement and every lacking scope, sorted.
    fn unmet_requirements(&self, action: Action) -> Option<(&'a Statement, Vec<String>)> {
        let scopes = self.principal.effective_scopes(self.definitions);
        let mut first_unmet = None;
        let mut missing = BTreeSet::new();
        for candidate in self.matching_requirements(action) {
            let lacking: Vec<&String> = candidate
                .requirement
                .scopes
                .iter()
                .filter(|scope| !scopes.contains(*scope))
                .collect();
            if !lacking.is_empty() {
                first_unmet.get_or_insert(candidate.statement);
                missing.extend(lacking.into_iter().cloned());
            }
        }
        first_unmet.map(|statement| (statement, missing.into_iter().collect()))
    }

    /// Step 3: the first matching allow whose condition is true.
    fn first_holding_allow(&self, rules: &[RuleAt<'a>]) -> Option<RuleAt<'a>> {
        let scopes = self.principal.effective_scopes(self.definitions);
        rules.iter().copied().find(|candidate| {
            candidate.rule.effect == Effect::Allow
                && self.rule_condition(candidate.rule, &scopes) == Truth::True
        })
    }

    /// Step 4: the smallest set of scopes that makes a matching allow rule hold, and
    /// whether the search of some rule may pass the engine's bound.
    ///
    /// Ties go to the earlier rule, then to the lexicographically least sorted list.
    fn cheapest_step_up(&self, rules: &[RuleAt<'a>]) -> (Option<StepUp<'a>>, bool) {
        let mut best: Option<StepUp<'a>> = None;
        let mut bounded = false;
        for candidate in rules {
            if candidate.rule.effect != Effect::Allow {
                continue;
            }
            let (found, rule_bounded) = self.step_up_for(candidate.rule);
            bounded |= rule_bounded;
            let Some(scopes) = found else {
                continue;
            };
            let better = match &best {
                None => true,
                Some(current) => scopes.len() < current.scopes.len(),
            };
            if better {
                best = Some(StepUp {
                    statement: candidate.statement,
                    scopes,
                });
            }
        }
        (best, bounded)
    }

    /// The smallest, then least, set of scopes named by the rule's condition and not yet
    /// effective whose addition makes the condition true.
    ///
    /// The engine tries at most [`STEP_UP_TRIES`] sets per rule. Sets are tried by
    /// size; within a size the engine's order need not be this one, so as soon as all
    /// the sets up to the size being tried number more than the bound, the search stops
    /// and says the bound may be reached (`true`).
    fn step_up_for(&self, rule: &Rule) -> (Option<Vec<String>>, bool) {
        let Some(condition) = rule.condition.as_ref() else {
            return (None, false);
        };
        let effective = self.principal.effective_scopes(self.definitions);
        let mut named = BTreeSet::new();
        scopes_named(&condition.expr, &mut named);
        let candidates: Vec<String> = named.difference(&effective).cloned().collect();
        let mut sets_so_far: u64 = 0;
        for size in 1..=candidates.len() {
            sets_so_far = sets_so_far.saturating_add(binomial(candidates.len(), size));
            if sets_so_far > STEP_UP_TRIES {
                return (None, true);
            }
            // The candidates are sorted and `subsets_of_size` lists the sets in the
            // lexicographic order of their (sorted) elements: the first that makes the
            // condition true is the least.
            let least = subsets_of_size(&candidates, size)
                .into_iter()
                .find(|added| {
                    let scopes = self.principal.scopes_with(self.definitions, added);
                    self.rule_condition(rule, &scopes) == Truth::True
                });
            if least.is_some() {
                return (least, false);
            }
        }
        (None, false)
    }

    /// A rule's condition (`unless C` = `not C`; none = true) with the given effective
    /// scopes.
    fn rule_condition(&self, rule: &Rule, effective_scopes: &BTreeSet<String>) -> Truth {
        let evaluation = Evaluation {
            definitions: self.definitions,
            principal: self.principal,
            effective_scopes,
            claims: &self.request.claims,
            ip: self.request.ip,
            time: self.request.time,
            arguments: if self.favoured {
                Arguments::Favoured
            } else {
                Arguments::Given(self.request.arguments.as_ref())
            },
        };
        evaluation.condition(rule.condition.as_ref(), rule.effect)
    }
}

/// A decision; `rule` is the deciding statement's `FILE:LINE`.
fn decision(
    allow: bool,
    reason: &'static str,
    statement: Option<&Statement>,
    missing_scopes: Vec<String>,
) -> RefDecision {
    RefDecision {
        allow,
        reason,
        rule: statement.map(Statement::location),
        missing_scopes,
        step_up_bounded: false,
    }
}

/// Its kind and one of its actions are the request's; one pattern matches the name.
fn target_matches(target: &Target, kind: Kind, name: &str, action: Action) -> bool {
    target.kind == kind
        && target.actions.contains(&action)
        && target
            .patterns
            .iter()
            .any(|pattern| glob::matches(pattern, name))
}

/// How many sets of `size` elements a set of `count` elements has (saturating).
fn binomial(count: usize, size: usize) -> u64 {
    let mut result: u64 = 1;
    for index in 0..size.min(count) {
        let (numerator, denominator) = ((count - index) as u64, (index + 1) as u64);
        result = result.saturating_mul(numerator) / denominator;
    }
    if size > count {
        0
    } else {
        result
    }
}

/// Collects every scope a `scope S` atom in `expr` names.
fn scopes_named(expr: &Expr, named: &mut BTreeSet<String>) {
    match expr {
        Expr::Or(children) | Expr::And(children) => {
            for child in children {
                scopes_named(child, named);
            }
        }
        Expr::Not(inner) => scopes_named(inner, named),
        Expr::Atom(syntax::Atom::Scope(scope)) => {
            named.insert(scope.clone());
        }
        Expr::Atom(_) => {}
    }
}

/// Every subset of `items` with exactly `size` elements, each in `items`' order.
fn subsets_of_size(items: &[String], size: usize) -> Vec<Vec<String>> {
    if size == 0 {
        return vec![Vec::new()];
    }
    let Some((first, rest)) = items.split_first() else {
        return Vec::new();
    };
    let mut subsets: Vec<Vec<String>> = subsets_of_size(rest, size - 1)
        .into_iter()
        .map(|mut subset| {
            subset.insert(0, first.clone());
            subset
        })
        .collect();
    subsets.extend(subsets_of_size(rest, size));
    subsets
}
