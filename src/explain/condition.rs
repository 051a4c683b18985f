//! Conditions evaluated atom by atom, each atom with what it read.

use std::net::IpAddr;

use ahash::AHashMap;
use jiff::Timestamp;

use super::principal::Derived;
use super::{words, ArgRead, Explainer, Node, NodeKind, Reading, ScopeHolding};
use crate::check::{Body, CheckedPolicy, Cond, CondKind, Statement, Subjects};
use crate::claim_path::Found;
use crate::decide;
use crate::eval::Truth;
use crate::ids::{NetworkId, ScopeId};
use crate::net::Network;
use crate::principal::claim_test;
use crate::source::Span;
use crate::window::LocalTime;
use serde_json::Value;

pub(super) use crate::arguments::Arguments;

/// What conditions read: the principal, the request's address, time and arguments.
#[derive(Clone, Copy)]
pub(super) struct Context<'a, 'c> {
    pub explainer: &'a Explainer<'a>,
    pub principal: &'a Derived<'c>,
    pub ip: Option<IpAddr>,
    pub time: Timestamp,
    pub arguments: Arguments<'a>,
}

/// Why an `arg` test is unknown on a value it found, if it is.
fn wrong_type(test: &crate::check::ArgOp, value: &Value) -> Option<&'static str> {
    match (test, value) {
        (crate::check::ArgOp::Matches(_), Value::String(_)) => None,
        (crate::check::ArgOp::Matches(_), _) => Some("not a string"),
        (crate::check::ArgOp::Order { .. }, Value::Number(_)) => None,
        (crate::check::ArgOp::Order { .. }, _) => Some("not a number"),
        _ => None,
    }
}

/// For every `arg` atom of the policy, by its span, the value that favours the caller
/// in its rule.
pub(super) fn favourable_values(policy: &crate::check::CheckedPolicy) -> AHashMap<Span, bool> {
    let mut values = AHashMap::new();
    for statement in &policy.statements {
        if let crate::check::Body::Rule {
            effect,
            condition: Some(condition),
            ..
        } = &statement.body
        {
            crate::arguments::each_favourable(condition, *effect, |atom, value| {
                values.insert(atom.span, value);
            });
        }
    }
    values
}

impl Context<'_, '_> {
    /// The value of `cond` with effective scopes `scopes` (the principal's, or a
    /// step-up hypothesis).
    pub fn value(&self, cond: &Cond, scopes: &[bool]) -> Truth {
        match &cond.kind {
            CondKind::Not(inner) => !self.value(inner, scopes),
            CondKind::And(items) => Truth::all(items.iter().map(|item| self.value(item, scopes))),
            CondKind::Or(items) => Truth::any(items.iter().map(|item| self.value(item, scopes))),
            _ => self.atom(cond, scopes),
        }
    }

    fn atom(&self, cond: &Cond, scopes: &[bool]) -> Truth {
        let policy = self.explainer.policy;
        let holds = match &cond.kind {
            CondKind::Const(value) => *value,
            CondKind::Scope(scope) => scopes.get(scope.index()).copied().unwrap_or(false),
            CondKind::Role(role) => self.principal.has_role(role.index()),
            CondKind::Client(wanted) => self.client() == Some(wanted.as_str()),
            CondKind::Claim(test) => match claim_test(self.principal.claims, test) {
                Some(holds) => holds,
                None => return Truth::Unknown,
            },
            CondKind::Arg(test) => {
                let holds = match self.arguments {
                    Arguments::Favourable => self.explainer.favourable.get(&cond.span).copied(),
                    Arguments::Given(arguments) => crate::arguments::holds(arguments, test),
                };
                match holds {
                    Some(holds) => holds,
                    None => return Truth::Unknown,
                }
            }
            CondKind::Ip(network) => {
                let Some(ip) = self.ip else {
                    return Truth::Unknown;
                };
                let network = policy.networks.get(network.index());
                network.is_some_and(|network| network.contains(ip))
            }
            CondKind::Window(window) => policy
                .windows
                .get(window.index())
                .is_some_and(|window| window.contains(self.time)),
            CondKind::Before(instant) => self.time < *instant,
            CondKind::After(instant) => self.time >= *instant,
            CondKind::Not(_) | CondKind::And(_) | CondKind::Or(_) => false,
        };
        Truth::from(holds)
    }

    fn client(&self) -> Option<&str> {
        let client = self.principal.facts.client.as_ref();
        client.map(|client| client.value.as_str())
    }

    /// The tree of `cond`, every node with its value and every atom with its reading.
    pub fn node(&self, cond: &Cond) -> Node {
        let text = words::one_line(self.explainer.sources.text(cond.span));
        let (value, kind) = match &cond.kind {
            CondKind::Not(inner) => {
                let inner = self.node(inner);
                (
                    !inner.value,
                    NodeKind::Not {
                        of: Box::new(inner),
                    },
                )
            }
            CondKind::And(items) => {
                let items: Vec<Node> = items.iter().map(|item| self.node(item)).collect();
                (
                    Truth::all(items.iter().map(|n| n.value)),
                    NodeKind::And { of: items },
                )
            }
            CondKind::Or(items) => {
                let items: Vec<Node> = items.iter().map(|item| self.node(item)).collect();
                (
                    Truth::any(items.iter().map(|n| n.value)),
                    NodeKind::Or { of: items },
                )
            }
            _ => (
                self.atom(cond, &self.principal.scopes),
                NodeKind::Atom(self.reading(cond)),
            ),
        };
        Node { text, value, kind }
    }

    fn reading(&self, cond: &Cond) -> Reading {
        let explainer = self.explainer;
        match &cond.kind {
            CondKind::Scope(scope) => Reading::Scope {
                holding: ScopeHolding {
                    scope: explainer.scope_name(scope.index()),
                    held: self.principal.holding(explainer, scope.index()),
                },
            },
            CondKind::Role(role) => Reading::Role {
                role: explainer.role_name(role.index()),
                effective: self.principal.has_role(role.index()),
            },
            CondKind::Client(wanted) => Reading::Client {
                wanted: wanted.clone(),
                client: self.client().map(str::to_string),
            },
            CondKind::Claim(test) => {
                let found = test.path().find(self.principal.claims);
                Reading::Claim {
                    path: test.path().to_string(),
                    present: found.value().is_some(),
                    found: found.value().cloned(),
                    ambiguous: found.is_ambiguous(),
                }
            }
            CondKind::Arg(test) => Reading::Arg {
                path: test.path.to_string(),
                read: match self.arguments {
                    Arguments::Favourable => ArgRead::Favoured {
                        value: self
                            .explainer
                            .favourable
                            .get(&cond.span)
                            .copied()
                            .unwrap_or(false),
                    },
                    Arguments::Given(arguments) => match crate::arguments::find(arguments, test) {
                        Found::Value(value) => ArgRead::Value {
                            value: value.clone(),
                            unknown: wrong_type(&test.test, value).map(str::to_string),
                        },
                        Found::Missing => ArgRead::Missing,
                        Found::Ambiguous => ArgRead::Ambiguous,
                    },
                },
            },
            CondKind::Ip(network) => self.ip_reading(*network),
            CondKind::Window(window) => self.window_reading(window.index()),
            CondKind::Before(instant) | CondKind::After(instant) => Reading::Instant {
                instant: *instant,
                time: self.time,
                before: matches!(cond.kind, CondKind::Before(_)),
            },
            _ => Reading::Constant,
        }
    }

    /// The ranges of `network` as written, and the first holding the request's address.
    fn ip_reading(&self, network: NetworkId) -> Reading {
        let networks = &self.explainer.policy.networks;
        let ranges = networks
            .get(network.index())
            .map_or(&[][..], Network::ranges);
        let range = self
            .ip
            .and_then(|ip| ranges.iter().find(|range| range.contains(ip)));
        Reading::Ip {
            address: self.ip,
            range: range.map(|range| range.text.clone()),
            ranges: ranges.iter().map(|range| range.text.clone()).collect(),
        }
    }

    fn window_reading(&self, index: usize) -> Reading {
        let Some(window) = self.explainer.policy.windows.get(index) else {
            return Reading::Constant;
        };
        let local = window.zone.to_datetime(self.time);
        let weekday = LocalTime::of(self.time, &window.zone).weekday;
        Reading::Window {
            local: local.strftime("%Y-%m-%d %H:%M").to_string(),
            weekday: words::weekday(weekday).to_string(),
            zone: window.zone.iana_name().map_or_else(
                || window.zone.to_offset(self.time).to_string(),
                str::to_string,
            ),
            window: words::window(window),
        }
    }
}

/// A statement matching the request, as the decision procedure sees it.
#[derive(Debug, Clone)]
pub(super) struct Matched<'s> {
    /// Its index in policy order.
    pub index: usize,
    pub statement: &'s Statement,
    /// The scopes its condition names, sorted by name (step-up's candidates).
    named: Vec<ScopeId>,
}

impl<'s> Matched<'s> {
    pub fn new(policy: &CheckedPolicy, index: usize, statement: &'s Statement) -> Matched<'s> {
        let named = match &statement.body {
            Body::Rule {
                condition: Some(condition),
                ..
            } => policy.named_scopes(condition),
            _ => Vec::new(),
        };
        Matched {
            index,
            statement,
            named,
        }
    }
}

impl<'a> decide::Facts for Context<'a, '_> {
    type Rule = Matched<'a>;
    type Requirement = Matched<'a>;
    type Hypothesis = Vec<bool>;

    fn matches(&self, rule: &Matched<'a>) -> bool {
        match &rule.statement.body {
            Body::Rule {
                subjects: Subjects::Anyone,
                ..
            } => true,
            Body::Rule {
                subjects: Subjects::Roles(roles),
                ..
            } => roles
                .iter()
                .any(|role| self.principal.has_role(role.index())),
            Body::Requirement { .. } => false,
        }
    }

    fn truth(&self, rule: &Matched<'a>) -> Truth {
        self.truth_with(rule, &self.principal.scopes)
    }

    fn truth_with(&self, rule: &Matched<'a>, hypothesis: &Vec<bool>) -> Truth {
        match &rule.statement.body {
            Body::Rule {
                condition: Some(condition),
                ..
            } => self.value(condition, hypothesis),
            Body::Rule {
                condition: None, ..
            } => Truth::True,
            Body::Requirement { .. } => Truth::Unknown,
        }
    }

    fn named_scopes<'s>(&'s self, rule: &'s Matched<'a>) -> Option<&'s [ScopeId]> {
        match &rule.statement.body {
            Body::Rule {
                condition: Some(_), ..
            } => Some(&rule.named),
            _ => None,
        }
    }

    fn required<'s>(&'s self, requirement: &'s Matched<'a>) -> &'s [ScopeId] {
        match &requirement.statement.body {
            Body::Requirement { scopes } => scopes,
            Body::Rule { .. } => &[],
        }
    }

    fn held(&self, scope: ScopeId) -> bool {
        self.principal
            .scopes
            .get(scope.index())
            .copied()
            .unwrap_or(false)
    }

    fn hypothesis(&self) -> Vec<bool> {
        self.principal.scopes.clone()
    }

    fn reset(&self, hypothesis: &mut Vec<bool>) {
        hypothesis.clone_from(&self.principal.scopes);
    }

    fn grant(&self, hypothesis: &mut Vec<bool>, scope: ScopeId) {
        let closure = self.explainer.scope_closure.get(scope.index());
        for implied in closure.into_iter().flatten() {
            if let Some(flag) = hypothesis.get_mut(*implied) {
                *flag = true;
            }
        }
    }

    fn favourable(&self) -> Self {
        Context {
            arguments: Arguments::Favourable,
            ..*self
        }
    }
}
