//! A reference interpreter of the policy language, for differential testing.
//!
//! It walks the syntax tree and follows LANGUAGE.md ("Principals", "Deciding", "Fine
//! points", "Conditions") sentence by sentence, with no index, no hashing of rules and no
//! code shared with the engine: its own glob matcher ([`glob`]), window evaluation
//! ([`window`]), CIDR matching ([`network`]), claim lookup and principal extraction
//! ([`principal`]) and three-valued condition evaluation ([`condition`]). It is meant to
//! be slow and obviously correct.
//!
//! It assumes the policy passed the checker (names defined, no cycles, valid windows,
//! addresses, zones, instants and patterns). Where a value the checker should have
//! rejected shows up anyway, the affected atom evaluates to *unknown* (fail closed).

pub mod condition;
pub mod glob;
pub mod network;
pub mod number;
pub mod principal;
pub mod window;

#[cfg(test)]
mod conformance;
#[cfg(test)]
mod decide_tests;

use std::collections::BTreeSet;
use std::net::IpAddr;

use toolgate::ast::{
    Action, Atom, Effect, Expr, ExprKind, Kind, Policy, Requirement, Rule, Statement,
    StatementKind, Subjects, Text,
};
use toolgate::source::Sources;

use self::condition::{Arguments, Evaluation, Truth};
use self::principal::{Definitions, Principal};

/// A request as the reference interpreter sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct RefRequest {
    /// The token's claims (a JSON object).
    pub claims: serde_json::Value,
    /// The kind of name asked about.
    pub kind: Kind,
    /// The action asked for (valid for the kind).
    pub action: Action,
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
pub fn decide(sources: &Sources, policy: &Policy, request: &RefRequest) -> RefDecision {
    let definitions = Definitions::new(policy);
    let principal = Principal::from_claims(&definitions, &request.claims);
    let decider = Decider {
        sources,
        definitions: &definitions,
        statements: statements_in_policy_order(policy),
        principal: &principal,
        request,
        favoured: false,
    };
    let decision = decider.decide_action(request.action);
    if request.action == Action::List && decision.reason == NO_RULE {
        // "Listing with arguments": the use is decided with every `arg` atom replaced by
        // the value that favours the caller in its rule.
        let favoured = Decider {
            favoured: true,
            ..decider
        };
        let use_decision = favoured.decide_action(request.kind.use_action());
        if use_decision.reason == ALLOWED {
            return use_decision;
        }
    }
    decision
}

/// The statements sorted by file, then position (a no-op for a well-built policy).
fn statements_in_policy_order(policy: &Policy) -> Vec<&Statement> {
    let mut statements: Vec<&Statement> = policy.statements.iter().collect();
    statements.sort_by_key(|statement| (statement.span.source, statement.span.start));
    statements
}

/// Everything one decision needs.
struct Decider<'a> {
    sources: &'a Sources,
    definitions: &'a Definitions<'a>,
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
            return self.decision(false, DENIED, Some(deny.statement), Vec::new());
        }
        if let Some((statement, missing)) = self.unmet_requirements(action) {
            return self.decision(false, INSUFFICIENT_SCOPE, Some(statement), missing);
        }
        if let Some(allow) = self.first_holding_allow(&rules) {
            return self.decision(true, ALLOWED, Some(allow.statement), Vec::new());
        }
        match self.cheapest_step_up(&rules) {
            Some(step_up) => self.decision(
                false,
                INSUFFICIENT_SCOPE,
                Some(step_up.statement),
                step_up.scopes,
            ),
            None => self.decision(false, NO_RULE, None, Vec::new()),
        }
    }

    /// Builds a decision, locating the deciding statement.
    fn decision(
        &self,
        allow: bool,
        reason: &'static str,
        statement: Option<&Statement>,
        missing_scopes: Vec<String>,
    ) -> RefDecision {
        RefDecision {
            allow,
            reason,
            rule: statement.map(|statement| self.locate(statement)),
            missing_scopes,
        }
    }

    /// `FILE:LINE` of a statement's first line.
    fn locate(&self, statement: &Statement) -> String {
        let location = self.sources.location(statement.span);
        format!("{}:{}", location.file, location.start.line)
    }

    /// The rules matching the request with `action`, in policy order.
    fn matching_rules(&self, action: Action) -> Vec<RuleAt<'a>> {
        let mut rules = Vec::new();
        for statement in &self.statements {
            if let StatementKind::Rule(rule) = &statement.kind {
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
            if let StatementKind::Requirement(requirement) = &statement.kind {
                let target = Target {
                    kind: requirement.kind.kind,
                    actions: requirement.actions.iter().map(|name| name.action),
                    patterns: &requirement.patterns,
                };
                if target.matches(self.request, action) {
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
        let target = Target {
            kind: rule.kind.kind,
            actions: rule.actions.iter().map(|name| name.action),
            patterns: &rule.patterns,
        };
        target.matches(self.request, action) && self.subjects_match(&rule.subjects)
    }

    /// `anyone`, or a role shared with the principal's effective roles.
    fn subjects_match(&self, subjects: &Subjects) -> bool {
        match subjects {
            Subjects::Anyone(_) => true,
            Subjects::Roles(roles) => roles
                .iter()
                .any(|role| self.principal.roles.contains(&role.name)),
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
            let lacking: Vec<&Text> = candidate
                .requirement
                .scopes
                .iter()
                .filter(|scope| !scopes.contains(&scope.value))
                .collect();
            if !lacking.is_empty() {
                first_unmet.get_or_insert(candidate.statement);
                missing.extend(lacking.iter().map(|scope| scope.value.clone()));
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

    /// Step 4: the smallest set of scopes that makes a matching allow rule hold.
    ///
    /// Ties go to the earlier rule, then to the lexicographically least sorted list.
    fn cheapest_step_up(&self, rules: &[RuleAt<'a>]) -> Option<StepUp<'a>> {
        let mut best: Option<StepUp<'a>> = None;
        for candidate in rules {
            if candidate.rule.effect != Effect::Allow {
                continue;
            }
            let Some(scopes) = self.step_up_for(candidate.rule) else {
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
        best
    }

    /// The smallest, then least, set of scopes named by the rule's condition and not yet
    /// effective whose addition makes the condition true.
    fn step_up_for(&self, rule: &Rule) -> Option<Vec<String>> {
        let condition = rule.condition.as_ref()?;
        let effective = self.principal.effective_scopes(self.definitions);
        let mut named = BTreeSet::new();
        scopes_named(&condition.expr, &mut named);
        let candidates: Vec<String> = named.difference(&effective).cloned().collect();
        for size in 1..=candidates.len() {
            let mut holding: Vec<Vec<String>> = subsets_of_size(&candidates, size)
                .into_iter()
                .filter(|added| {
                    let scopes = self.principal.scopes_with(self.definitions, added);
                    self.rule_condition(rule, &scopes) == Truth::True
                })
                .collect();
            holding.sort();
            if let Some(least) = holding.into_iter().next() {
                return Some(least);
            }
        }
        None
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

/// The part of a rule or requirement that says which requests it is about.
struct Target<'a, Actions> {
    kind: Kind,
    actions: Actions,
    patterns: &'a [Text],
}

impl<Actions: Iterator<Item = Action>> Target<'_, Actions> {
    /// Its kind and one of its actions are the request's; one pattern matches the name.
    fn matches(mut self, request: &RefRequest, action: Action) -> bool {
        self.kind == request.kind
            && self.actions.any(|candidate| candidate == action)
            && self
                .patterns
                .iter()
                .any(|pattern| glob::matches(&pattern.value, &request.name))
    }
}

/// Collects every scope a `scope S` atom in `expr` names.
fn scopes_named(expr: &Expr, named: &mut BTreeSet<String>) {
    match &expr.kind {
        ExprKind::Or(children) | ExprKind::And(children) => {
            for child in children {
                scopes_named(child, named);
            }
        }
        ExprKind::Not(inner) => scopes_named(inner, named),
        ExprKind::Atom(Atom::Scope(scope)) => {
            named.insert(scope.value.clone());
        }
        ExprKind::Atom(_) => {}
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
