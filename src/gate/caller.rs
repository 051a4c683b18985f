//! One authenticated caller against one policy snapshot: deciding and auditing.

use std::net::IpAddr;
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Map, Value};
use smallvec::SmallVec;

use super::audit::{AuditRecord, AuditSink};
use super::config::ListAudit;
use super::decision_id::DecisionId;
use super::metrics::Metrics;
use super::policy::ActivePolicy;
use super::shadow::ShadowCaller;
use crate::ast::{Action, Effect, Kind};
use crate::eval::{Decision, Engine, Reason, Request};
use crate::principal::Principal;

/// Who is asking, under which policy, from where and when.
#[derive(Clone)]
pub(crate) struct Caller {
    pub policy: Arc<ActivePolicy>,
    pub principal: Arc<Principal>,
    pub ip: Option<IpAddr>,
    pub time: Timestamp,
    pub audit: Option<Arc<dyn AuditSink>>,
    pub list_audit: ListAudit,
    /// Which fields of its audit records are masked.
    pub audit_mask: super::config::AuditMask,
    pub metrics: Option<Metrics>,
    /// The shadow policy, when one is configured.
    pub shadow: Option<ShadowCaller>,
    /// The request's decision id.
    pub decision_id: DecisionId,
}

/// The (kind, action) pairs a decision can have, in the order of the counters kept per
/// use (metrics, shadow comparisons).
pub(crate) const USES: [(Kind, Action); 6] = [
    (Kind::Tool, Action::Call),
    (Kind::Tool, Action::List),
    (Kind::Resource, Action::Read),
    (Kind::Resource, Action::List),
    (Kind::Prompt, Action::Get),
    (Kind::Prompt, Action::List),
];

/// The position of a use in [`USES`] (0 for a pair no decision has).
pub(crate) fn use_index(kind: Kind, action: Action) -> usize {
    USES.iter()
        .position(|known| *known == (kind, action))
        .unwrap_or(0)
}

/// A decision with owned names, for extensions and responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    /// Tool, resource or prompt.
    pub kind: Kind,
    /// The action decided.
    pub action: Action,
    /// The tool or prompt name, or the resource URI.
    pub name: String,
    /// Why.
    pub reason: Reason,
    /// The deciding statement as `PATH:LINE`.
    pub rule: Option<String>,
    /// For `insufficient_scope`, the scopes missing.
    pub missing_scopes: Vec<String>,
    /// For `insufficient_scope`, every scope the deciding statements need, held or
    /// missing.
    pub required_scopes: Vec<String>,
    /// The argument paths the deciding rule's condition reads (never their values).
    pub argument_paths: Vec<String>,
}

impl Decided {
    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        self.reason == Reason::Allowed
    }
}

/// What one decision is about.
pub(crate) struct Target<'a> {
    pub kind: Kind,
    pub action: Action,
    pub name: &'a str,
    /// The arguments of a `tools/call` or `prompts/get` (`None`: `{}`).
    pub arguments: Option<&'a Map<String, Value>>,
}

/// Where a decision came from in the request, for the audit log.
pub(crate) struct Origin<'a> {
    pub method: &'a str,
    pub id: Option<&'a Value>,
}

impl Caller {
    /// Decides one request and audits it (list decisions as configured).
    pub fn decide(&self, target: &Target<'_>, origin: &Origin<'_>) -> Decided {
        let decision = self.decision(target);
        self.count(target.kind, target.action, target.name, &decision);
        if let Some(shadow) = &self.shadow {
            shadow.compare(self, target, &decision, origin);
        }
        let decided = owned(target.kind, target.action, target.name, &decision);
        if self.audited(target.action, &decision) {
            self.record(&decided, origin);
        }
        decided
    }

    /// Whether the caller may list `name`, audited as configured. Unlike
    /// [`Caller::decide`], it copies nothing out of the decision unless it is audited:
    /// a list response asks this once per entry.
    pub fn may_list(&self, kind: Kind, name: &str, origin: &Origin<'_>) -> bool {
        let target = Target {
            kind,
            action: Action::List,
            name,
            arguments: None,
        };
        let decision = self.decision(&target);
        self.count(kind, Action::List, name, &decision);
        if let Some(shadow) = &self.shadow {
            shadow.compare(self, &target, &decision, origin);
        }
        if self.audited(Action::List, &decision) {
            self.record(&owned(kind, Action::List, name, &decision), origin);
        }
        decision.is_allowed()
    }

    fn decision(&self, target: &Target<'_>) -> Decision<'_> {
        decide(
            self.policy.engine(),
            &self.principal,
            self.ip,
            self.time,
            target,
        )
    }

    fn count(&self, kind: Kind, action: Action, name: &str, decision: &Decision<'_>) {
        if let Some(metrics) = &self.metrics {
            metrics.decision(kind, action, decision.reason, name);
        }
    }

    fn audited(&self, action: Action, decision: &Decision<'_>) -> bool {
        if action != Action::List {
            return true;
        }
        match self.list_audit {
            ListAudit::Off => false,
            ListAudit::Hidden => decision.effect == Effect::Deny,
            ListAudit::All => true,
        }
    }

    fn record(&self, decided: &Decided, origin: &Origin<'_>) {
        let Some(audit) = &self.audit else {
            return;
        };
        audit.record(AuditRecord {
            time: self.time,
            decision_id: self.decision_id.to_string(),
            subject: self.masked(self.audit_mask.subject, self.principal.subject()),
            client: self.masked(self.audit_mask.client, self.principal.client()),
            roles: if self.audit_mask.roles {
                Vec::new()
            } else {
                self.role_names()
            },
            method: origin.method.to_string(),
            action: decided.action.keyword(),
            kind: decided.kind.singular(),
            name: decided.name.clone(),
            decision: if decided.is_allowed() {
                "allow"
            } else {
                "deny"
            },
            reason: decided.reason.as_str(),
            rule: decided.rule.clone(),
            missing_scopes: decided.missing_scopes.clone(),
            arguments: decided.argument_paths.clone(),
            policy: self.policy.digest().to_string(),
            client_ip: self.ip.filter(|_| !self.audit_mask.client_ip),
            request_id: origin.id.cloned(),
        });
    }

    /// `value` as an audit record holds it: [`AuditMask::MASKED`](super::AuditMask::MASKED)
    /// when `masked`.
    fn masked(&self, masked: bool, value: Option<&str>) -> Option<String> {
        value.map(|value| {
            if masked {
                super::config::AuditMask::MASKED.to_string()
            } else {
                value.to_string()
            }
        })
    }

    /// The caller's effective roles.
    pub fn role_names(&self) -> Vec<String> {
        self.principal
            .role_names(self.policy.engine().index())
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    /// The caller's effective scopes, as the policy knows them.
    pub fn scope_names(&self) -> Vec<String> {
        self.principal
            .scope_names(self.policy.engine().index())
            .into_iter()
            .map(str::to_string)
            .collect()
    }
}

/// The gate's decision of `target` for `principal` under `engine`: the engine's, and a
/// deny for another spelling of a denied name (the server may run the name the deny
/// rule names; docs/gate.md, "Names").
pub(crate) fn decide<'e>(
    engine: &'e Engine,
    principal: &Principal,
    ip: Option<IpAddr>,
    time: Timestamp,
    target: &Target<'_>,
) -> Decision<'e> {
    let request = Request {
        kind: target.kind,
        action: target.action,
        name: target.name,
        ip,
        time,
        arguments: target.arguments,
    };
    let decision = engine.decide(principal, &request);
    if target.action == Action::List || !decision.is_allowed() {
        return decision;
    }
    match engine.deny_spelled_like(target.kind, target.name) {
        Some(site) => Decision {
            effect: Effect::Deny,
            reason: Reason::Denied,
            rule: Some(site),
            missing_scopes: SmallVec::new(),
            required_scopes: SmallVec::new(),
        },
        None => decision,
    }
}

fn owned(kind: Kind, action: Action, name: &str, decision: &Decision<'_>) -> Decided {
    Decided {
        kind,
        action,
        name: name.to_string(),
        reason: decision.reason,
        rule: decision.rule.map(ToString::to_string),
        missing_scopes: decision
            .missing_scopes
            .iter()
            .map(|scope| scope.to_string())
            .collect(),
        required_scopes: decision
            .required_scopes
            .iter()
            .map(|scope| scope.to_string())
            .collect(),
        argument_paths: decision
            .rule
            .map(|rule| {
                rule.argument_paths
                    .iter()
                    .map(|path| path.to_string())
                    .collect()
            })
            .unwrap_or_default(),
    }
}
