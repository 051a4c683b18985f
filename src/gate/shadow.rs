//! A shadow policy: every decision the gate takes is taken again with a second policy,
//! which is never enforced; where the two disagree (one allows, the other denies) the
//! gate logs both decisions and their rules and counts the disagreement. The safe way to
//! roll out a policy change (docs/serve.md, "Shadow policy").
//!
//! The caller's principal is resolved against the shadow policy from the same verified
//! identity (its roles and scopes as the shadow policy declares them); if that fails,
//! the shadow decision is a deny. Lists are compared entry by entry, like uses.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::caller::{decide, use_index, Caller, Origin, Target, USES};
use super::policy::{ActivePolicy, PolicyHandle};
use crate::ast::{Action, Kind};
use crate::eval::Decision;
use crate::principal::Principal;

/// The shadow policy of a gate and what its comparisons counted.
#[derive(Clone)]
pub(crate) struct Shadow {
    pub policy: PolicyHandle,
    pub counts: Arc<Counts>,
}

impl Shadow {
    pub fn new(policy: PolicyHandle) -> Shadow {
        Shadow {
            policy,
            counts: Arc::default(),
        }
    }
}

/// Decisions compared, per use and per (enforced, shadow) outcome.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    /// Index: use (`USES`) * 4 + enforced allowed * 2 + shadow allowed.
    outcomes: [AtomicU64; 24],
}

impl Counts {
    fn add(&self, kind: Kind, action: Action, enforced: bool, shadow: bool) {
        let index = slot(kind, action, enforced, shadow);
        if let Some(count) = self.outcomes.get(index) {
            count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The count of a use and outcome.
    pub fn get(&self, kind: Kind, action: Action, enforced: bool, shadow: bool) -> u64 {
        let index = slot(kind, action, enforced, shadow);
        self.outcomes
            .get(index)
            .map_or(0, |count| count.load(Ordering::Relaxed))
    }

    /// The totals.
    pub fn report(&self) -> ShadowReport {
        let mut report = ShadowReport::default();
        for (kind, action) in USES {
            for enforced in [false, true] {
                for shadow in [false, true] {
                    let count = self.get(kind, action, enforced, shadow);
                    report.decisions = report.decisions.saturating_add(count);
                    match (enforced, shadow) {
                        (true, false) => {
                            report.allowed_only_by_enforced =
                                report.allowed_only_by_enforced.saturating_add(count);
                        }
                        (false, true) => {
                            report.allowed_only_by_shadow =
                                report.allowed_only_by_shadow.saturating_add(count);
                        }
                        _ => {}
                    }
                }
            }
        }
        report
    }
}

/// The position of a use and outcome in `Counts::outcomes`.
fn slot(kind: Kind, action: Action, enforced: bool, shadow: bool) -> usize {
    use_index(kind, action) * 4 + usize::from(enforced) * 2 + usize::from(shadow)
}

/// What the shadow policy's comparisons found so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShadowReport {
    /// Decisions taken with both policies.
    pub decisions: u64,
    /// Decisions the policy in force allowed and the shadow policy denied.
    pub allowed_only_by_enforced: u64,
    /// Decisions the policy in force denied and the shadow policy allowed.
    pub allowed_only_by_shadow: u64,
}

impl ShadowReport {
    /// Decisions on which the two policies disagreed.
    pub fn disagreements(&self) -> u64 {
        self.allowed_only_by_enforced
            .saturating_add(self.allowed_only_by_shadow)
    }
}

/// The shadow policy for one request: its snapshot and the caller's principal under it.
#[derive(Clone)]
pub(crate) struct ShadowCaller {
    pub policy: Arc<ActivePolicy>,
    /// `None` when the caller's identity does not resolve under the shadow policy.
    pub principal: Option<Arc<Principal>>,
    pub counts: Arc<Counts>,
}

#[derive(Serialize)]
struct Side<'a> {
    decision: &'static str,
    reason: &'static str,
    rule: Option<String>,
    policy: &'a str,
}

#[derive(Serialize)]
struct Disagreement<'a> {
    time: jiff::Timestamp,
    decision_id: String,
    subject: Option<&'a str>,
    client: Option<&'a str>,
    method: &'a str,
    request_id: Option<&'a Value>,
    kind: &'static str,
    action: &'static str,
    name: &'a str,
    enforced: Side<'a>,
    shadow: Side<'a>,
}

impl ShadowCaller {
    /// Decides `target` with the shadow policy, counts the outcome beside `enforced`'s,
    /// and logs a disagreement.
    pub fn compare(
        &self,
        caller: &Caller,
        target: &Target<'_>,
        enforced: &Decision<'_>,
        origin: &Origin<'_>,
    ) {
        let shadow = self.principal.as_ref().map(|principal| {
            decide(
                self.policy.engine(),
                principal,
                caller.ip,
                caller.time,
                target,
            )
        });
        let shadow_allows = shadow.as_ref().is_some_and(Decision::is_allowed);
        let enforced_allows = enforced.is_allowed();
        self.counts
            .add(target.kind, target.action, enforced_allows, shadow_allows);
        if shadow_allows == enforced_allows {
            return;
        }
        let line = Disagreement {
            time: caller.time,
            decision_id: caller.decision_id.to_string(),
            subject: caller.principal.subject(),
            client: caller.principal.client(),
            method: origin.method,
            request_id: origin.id,
            kind: target.kind.singular(),
            action: target.action.keyword(),
            name: target.name,
            enforced: side(enforced, caller.policy.digest()),
            shadow: match &shadow {
                Some(decision) => side(decision, self.policy.digest()),
                None => Side {
                    decision: "deny",
                    reason: "unresolved_principal",
                    rule: None,
                    policy: self.policy.digest(),
                },
            },
        };
        let text = serde_json::to_string(&line)
            .unwrap_or_else(|error| format!("{{\"shadow_error\":{:?}}}", error.to_string()));
        tracing::warn!(target: "toolgate::shadow", "{text}");
    }
}

fn side<'a>(decision: &Decision<'_>, policy: &'a str) -> Side<'a> {
    Side {
        decision: if decision.is_allowed() {
            "allow"
        } else {
            "deny"
        },
        reason: decision.reason.as_str(),
        rule: decision.rule.map(ToString::to_string),
        policy,
    }
}
