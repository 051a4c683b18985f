//! The deciding procedure of docs/language.md, over the checked policy, kept for people:
//! denies, then requirements, then allows, then step-up; listing follows use.

use crate::ast::{Action, ConditionMode, Effect, Kind};
use crate::check::{Body, Cond, CondKind, Statement, Subjects};
use crate::eval::{Reason, Truth};

use super::condition::{not, Arguments, Context};
use super::principal::Derived;
use super::step_up::{self, with_scopes};
use super::{
    words, ConditionExplanation, Evaluation, Explainer, Explanation, Outcome, RequestFacts,
    ScopeHolding, Site, StatementBody, StatementExplanation, Status, SubjectMatch,
};

/// Explains the request for the derived principal.
pub(super) fn explain(
    explainer: &Explainer<'_>,
    principal: &Derived<'_>,
    request: RequestFacts,
) -> Explanation {
    let context = Context {
        explainer,
        principal,
        ip: request.ip,
        time: request.time,
        arguments: Arguments::Given(request.arguments.as_ref()),
    };
    let (decision, why, evaluations) = decide_request(&context, &request);
    let with_missing_scopes = (decision.reason == Reason::InsufficientScope).then(|| {
        let added: Vec<usize> = decision
            .missing_scopes
            .iter()
            .filter_map(|name| explainer.scope_index(name))
            .collect();
        let hypothesis = principal.with_added(&added, with_scopes(&context, &added));
        let context = Context {
            principal: &hypothesis,
            ..context
        };
        decide_request(&context, &request).0
    });
    Explanation {
        request,
        principal: principal.facts.clone(),
        decision,
        why,
        with_missing_scopes,
        evaluations,
    }
}

/// The request's decision, why, and the evaluations it took (listing follows use).
fn decide_request(
    context: &Context<'_, '_>,
    request: &RequestFacts,
) -> (Outcome, String, Vec<Evaluation>) {
    let first = evaluate(context, request.kind, request.action, &request.name);
    let mut decision = first.decision.clone();
    let mut why = first.why.clone();
    let mut evaluations = vec![first];
    if request.action == Action::List && decision.reason == Reason::NoRule {
        let use_action = request.kind.use_action();
        let favoured = Context {
            arguments: Arguments::Favourable,
            ..*context
        };
        let using = evaluate(&favoured, request.kind, use_action, &request.name);
        why = words::listing_follows_use(use_action, &using.decision);
        if using.decision.effect == Effect::Allow {
            decision = using.decision.clone();
        }
        evaluations.push(using);
    }
    (decision, why, evaluations)
}

/// The path the procedure took: which statement decided, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Path {
    Denied(usize),
    Requirement(usize),
    Allowed(usize),
    StepUp(usize, Vec<String>),
    NoRule,
}

/// One action on one name: every matching statement, the decision, and why.
fn evaluate(context: &Context<'_, '_>, kind: Kind, action: Action, name: &str) -> Evaluation {
    let policy = context.explainer.policy;
    let matching: Vec<(usize, &Statement, String)> = policy
        .statements
        .iter()
        .enumerate()
        .filter(|(_, statement)| statement.kind == kind && has_action(statement, action))
        .filter_map(|(index, statement)| {
            let (glob, _) = statement.patterns.iter().find(|(g, _)| g.is_match(name))?;
            Some((index, statement, glob.as_str().to_string()))
        })
        .collect();
    let mut statements: Vec<StatementExplanation> = matching
        .iter()
        .map(|(index, statement, pattern)| explain_statement(context, *index, statement, pattern))
        .collect();
    let path = decide(context, &matching, &statements);
    if let Path::StepUp(index, scopes) = &path {
        let deciding = statements.iter_mut().find(|s| s.index == *index);
        if let Some(statement) = deciding {
            statement.status = Status::DoesNotHold {
                step_up: Some(scopes.clone()),
            };
        }
    }
    let decision = outcome(context.explainer, &path, &statements);
    for statement in &mut statements {
        statement.decides = decision.statement == Some(statement.index);
        statement.note = words::note(statement, &decision);
    }
    let why = words::why(kind, action, name, &decision, &statements);
    Evaluation {
        action,
        statements,
        decision,
        why,
    }
}

fn has_action(statement: &Statement, action: Action) -> bool {
    if action == Action::List {
        statement.actions.list
    } else {
        statement.actions.use_
    }
}

fn explain_statement(
    context: &Context<'_, '_>,
    index: usize,
    statement: &Statement,
    pattern: &str,
) -> StatementExplanation {
    let explainer = context.explainer;
    let (body, status) = match &statement.body {
        Body::Rule {
            effect,
            subjects,
            condition,
        } => {
            let subject = subject_match(context, subjects);
            let condition = condition
                .as_ref()
                .map(|cond| explain_condition(context, cond));
            let applies = condition.as_ref().map_or(Truth::True, |c| c.applies);
            let status = match (subject.matched(), effect, applies) {
                (false, _, _) => Status::NotForPrincipal,
                (true, Effect::Deny, Truth::False) => Status::DoesNotApply,
                (true, Effect::Deny, _) => Status::Fires,
                (true, Effect::Allow, Truth::True) => Status::Holds,
                (true, Effect::Allow, _) => Status::DoesNotHold { step_up: None },
            };
            let body = StatementBody::Rule {
                effect: *effect,
                subject,
                condition,
            };
            (body, status)
        }
        Body::Requirement { scopes } => {
            let mut holdings: Vec<ScopeHolding> = Vec::new();
            for scope in scopes {
                let name = explainer.scope_name(scope.index());
                if holdings.iter().all(|holding| holding.scope != name) {
                    holdings.push(ScopeHolding {
                        scope: name,
                        held: context.principal.holding(explainer, scope.index()),
                    });
                }
            }
            let missing: Vec<String> = holdings
                .iter()
                .filter(|holding| !holding.held.is_held())
                .map(|holding| holding.scope.clone())
                .collect();
            let status = if missing.is_empty() {
                Status::Met
            } else {
                Status::Unmet { missing }
            };
            (StatementBody::Require { scopes: holdings }, status)
        }
    };
    StatementExplanation {
        index,
        site: explainer.site(index).unwrap_or_else(|| Site {
            file: "<unknown>".to_string(),
            line: 0,
        }),
        text: words::statement_text(explainer.sources, statement),
        pattern: pattern.to_string(),
        pattern_count: statement.patterns.len(),
        body,
        status,
        decides: false,
        note: String::new(),
    }
}

fn subject_match(context: &Context<'_, '_>, subjects: &Subjects) -> SubjectMatch {
    let roles = match subjects {
        Subjects::Anyone => return SubjectMatch::Anyone,
        Subjects::Roles(roles) => roles,
    };
    let name = |index: usize| context.explainer.role_name(index);
    match roles
        .iter()
        .find(|role| context.principal.has_role(role.index()))
    {
        Some(role) => SubjectMatch::Role {
            role: name(role.index()),
        },
        None => SubjectMatch::NoRole {
            roles: roles.iter().map(|role| name(role.index())).collect(),
        },
    }
}

fn explain_condition(context: &Context<'_, '_>, cond: &Cond) -> ConditionExplanation {
    let sources = context.explainer.sources;
    let written = sources.text(cond.span);
    let unless = match &cond.kind {
        CondKind::Not(inner) if written.starts_with("unless") => Some(inner),
        _ => None,
    };
    match unless {
        Some(inner) => {
            let tree = context.node(inner);
            ConditionExplanation {
                mode: ConditionMode::Unless,
                text: words::one_line(written),
                value: tree.value,
                applies: not(tree.value),
                tree,
            }
        }
        None => {
            let tree = context.node(cond);
            ConditionExplanation {
                mode: ConditionMode::If,
                text: format!("if {}", words::one_line(written)),
                value: tree.value,
                applies: tree.value,
                tree,
            }
        }
    }
}

/// Steps 1-4 of "Deciding" over the matching statements.
fn decide(
    context: &Context<'_, '_>,
    matching: &[(usize, &Statement, String)],
    statements: &[StatementExplanation],
) -> Path {
    // Only deny rules fire and only allow rules hold; statements are in policy order.
    let first = |wanted: fn(&Status) -> bool| {
        statements
            .iter()
            .find(|statement| wanted(&statement.status))
            .map(|statement| statement.index)
    };
    if let Some(deny) = first(|status| *status == Status::Fires) {
        return Path::Denied(deny);
    }
    if let Some(requirement) = first(|status| matches!(status, Status::Unmet { .. })) {
        return Path::Requirement(requirement);
    }
    if let Some(allow) = first(|status| *status == Status::Holds) {
        return Path::Allowed(allow);
    }
    match step_up::find(context, matching, statements) {
        Some((index, scopes)) => Path::StepUp(index, scopes),
        None => Path::NoRule,
    }
}

fn outcome(explainer: &Explainer<'_>, path: &Path, statements: &[StatementExplanation]) -> Outcome {
    let decided = |effect, reason, index: usize, missing_scopes: Vec<String>| Outcome {
        effect,
        reason,
        rule: explainer.site(index),
        missing_scopes,
        statement: Some(index),
    };
    match path {
        Path::Denied(index) => decided(Effect::Deny, Reason::Denied, *index, Vec::new()),
        Path::Requirement(index) => {
            let mut missing: Vec<String> = Vec::new();
            for statement in statements {
                if let Status::Unmet { missing: lacking } = &statement.status {
                    for scope in lacking {
                        if !missing.contains(scope) {
                            missing.push(scope.clone());
                        }
                    }
                }
            }
            missing.sort_unstable();
            decided(Effect::Deny, Reason::InsufficientScope, *index, missing)
        }
        Path::Allowed(index) => decided(Effect::Allow, Reason::Allowed, *index, Vec::new()),
        Path::StepUp(index, scopes) => decided(
            Effect::Deny,
            Reason::InsufficientScope,
            *index,
            scopes.clone(),
        ),
        Path::NoRule => Outcome {
            effect: Effect::Deny,
            reason: Reason::NoRule,
            rule: None,
            missing_scopes: Vec::new(),
            statement: None,
        },
    }
}
