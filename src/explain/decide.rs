//! Explaining one request: the one decision procedure ([`crate::decide`]) run over the
//! checked policy's matching statements, with every statement and condition recorded
//! for people.

use crate::ast::{Action, ConditionMode, Effect, Kind};
use crate::check::{Body, Cond, CondKind, Statement, Subjects};
use crate::decide::{self, Facts as _, Verdict};
use crate::eval::{Reason, Truth};
use crate::ids::ScopeId;

use super::condition::{Arguments, Context, Matched};
use super::principal::Derived;
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
        let mut scopes = context.hypothesis();
        for scope in &added {
            context.grant(&mut scopes, ScopeId::from_index(*scope));
        }
        let hypothesis = principal.with_added(&added, scopes);
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
    let kind = request.kind;
    let name = request.name.as_str();
    if request.action != Action::List {
        let matching = Matching::new(context, kind, request.action, name);
        let verdict = decide::decide(context, matching.program());
        let evaluation = evaluation(context, kind, name, &matching, &verdict);
        return (
            evaluation.decision.clone(),
            evaluation.why.clone(),
            vec![evaluation],
        );
    }
    let use_action = kind.use_action();
    let listing = Matching::new(context, kind, Action::List, name);
    let using = Matching::new(context, kind, use_action, name);
    let verdicts = decide::list(context, listing.program(), using.program());
    let first = evaluation(context, kind, name, &listing, &verdicts.listing);
    let Some(used) = &verdicts.using else {
        return (first.decision.clone(), first.why.clone(), vec![first]);
    };
    let second = evaluation(&context.favourable(), kind, name, &using, used);
    let why = words::listing_follows_use(use_action, &second.decision);
    let decision = if verdicts.decided_by_use() {
        second.decision.clone()
    } else {
        first.decision.clone()
    };
    (decision, why, vec![first, second])
}

/// The statements matching one action on one name, in policy order and as the
/// procedure's program.
struct Matching<'s> {
    action: Action,
    /// Every matching statement with the pattern that matched.
    all: Vec<(Matched<'s>, String)>,
    denies: Vec<Matched<'s>>,
    requirements: Vec<Matched<'s>>,
    allows: Vec<Matched<'s>>,
}

impl<'s> Matching<'s> {
    fn new(context: &Context<'s, '_>, kind: Kind, action: Action, name: &str) -> Matching<'s> {
        let policy = context.explainer.policy;
        let mut matching = Matching {
            action,
            all: Vec::new(),
            denies: Vec::new(),
            requirements: Vec::new(),
            allows: Vec::new(),
        };
        for (index, statement) in policy.statements.iter().enumerate() {
            let Some(glob) = statement.matching_pattern(kind, action, name) else {
                continue;
            };
            let matched = Matched::new(policy, index, statement);
            let list = match &statement.body {
                Body::Requirement { .. } => &mut matching.requirements,
                Body::Rule {
                    effect: Effect::Deny,
                    ..
                } => &mut matching.denies,
                Body::Rule {
                    effect: Effect::Allow,
                    ..
                } => &mut matching.allows,
            };
            list.push(matched.clone());
            matching.all.push((matched, glob.as_str().to_string()));
        }
        matching
    }

    fn program(&self) -> decide::Program<'_, Matched<'s>, Matched<'s>> {
        decide::Program {
            denies: &self.denies,
            requirements: &self.requirements,
            allows: &self.allows,
        }
    }
}

/// One action on one name: every matching statement, the decision, and why.
fn evaluation(
    context: &Context<'_, '_>,
    kind: Kind,
    name: &str,
    matching: &Matching<'_>,
    verdict: &Verdict<'_, Matched<'_>, Matched<'_>>,
) -> Evaluation {
    let mut statements: Vec<StatementExplanation> = matching
        .all
        .iter()
        .map(|(matched, pattern)| {
            explain_statement(context, matched.index, matched.statement, pattern)
        })
        .collect();
    let decision = outcome(context.explainer, verdict);
    if let Verdict::StepUp(rule, _) = verdict {
        let deciding = statements.iter_mut().find(|s| s.index == rule.index);
        if let Some(statement) = deciding {
            statement.status = Status::DoesNotHold {
                step_up: Some(decision.missing_scopes.clone()),
            };
        }
    }
    for statement in &mut statements {
        statement.decides = decision.statement == Some(statement.index);
        statement.note = words::note(statement, &decision);
    }
    let why = words::why(kind, matching.action, name, &decision, &statements);
    Evaluation {
        action: matching.action,
        statements,
        decision,
        why,
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
                applies: !tree.value,
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

/// The decision of a verdict, with the deciding statement's site and the missing scopes
/// by name, sorted.
fn outcome(explainer: &Explainer<'_>, verdict: &Verdict<'_, Matched<'_>, Matched<'_>>) -> Outcome {
    let decided = |effect, reason, index: usize, scopes: Option<&decide::Scopes>| {
        let mut missing_scopes: Vec<String> = scopes
            .into_iter()
            .flat_map(|scopes| &scopes.missing)
            .map(|scope| explainer.scope_name(scope.index()))
            .collect();
        missing_scopes.sort_unstable();
        missing_scopes.dedup();
        Outcome {
            effect,
            reason,
            rule: explainer.site(index),
            missing_scopes,
            statement: Some(index),
        }
    };
    match verdict {
        Verdict::Denied(rule) => decided(Effect::Deny, Reason::Denied, rule.index, None),
        Verdict::Unmet(requirement, scopes) | Verdict::StepUp(requirement, scopes) => decided(
            Effect::Deny,
            Reason::InsufficientScope,
            requirement.index,
            Some(scopes),
        ),
        Verdict::Allowed(rule) => decided(Effect::Allow, Reason::Allowed, rule.index, None),
        Verdict::NoRule => Outcome {
            effect: Effect::Deny,
            reason: Reason::NoRule,
            rule: None,
            missing_scopes: Vec::new(),
            statement: None,
        },
    }
}
