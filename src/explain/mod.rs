//! Explanations of one decision for people (`toolgate explain`).
//!
//! An [`Explainer`] decides a request again, from the [`CheckedPolicy`] rather than the
//! compiled table, keeping everything a person needs to follow the decision: the
//! principal as derived from the claims, every statement that matched the request's kind,
//! action and name, whether each rule's subject matched, each condition atom's value
//! with what it read, and why the deciding statement won. It runs the one decision
//! procedure (`crate::decide`) with facts read from the checked policy, so explanations
//! cost the engine nothing; the tests hold its decision against the engine's on every
//! case of the corpora.
//!
//! ```
//! use toolgate::unstable::ast::{Action, Kind};
//! use toolgate::unstable::eval::Request;
//! use toolgate::unstable::explain::Explainer;
//! use toolgate::{unstable::check, unstable::parse, unstable::source::Sources, Reason};
//!
//! let text = "role user\nallow user to call tools \"fs.*\" if ip in [10.0.0.0/8]\n";
//! let sources = Sources::from_text("a.policy", text);
//! let parsed = parse::parse(&sources);
//! let policy = check::check(&parsed.policy, &check::Config::default()).policy.expect("valid");
//! let explainer = Explainer::new(&sources, &policy);
//! let claims = serde_json::json!({"roles": ["user"]});
//! let request = Request::new(Kind::Tool, Action::Call, "fs.read")?.at("2026-11-26T10:00:00Z".parse()?);
//! let explanation = explainer.explain(&claims, &request)?;
//! assert_eq!(explanation.decision.reason, Reason::NoRule);
//! assert_eq!(explanation.evaluations[0].statements.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod condition;
mod decide;
mod model;
mod principal;
mod serial;
mod words;

use ahash::AHashMap;
use serde_json::Value;

use crate::check::CheckedPolicy;
use crate::eval::Request;
use crate::principal::{ClaimsReading, PrincipalError};
use crate::source::{Sources, Span};

pub use model::{
    ArgRead, ClaimSource, ConditionExplanation, EffectiveScope, Evaluation, Explanation,
    GrantedRole, Holding, Node, NodeKind, Outcome, PrincipalFacts, Reading, RequestFacts,
    ScopeHolding, Site, StatementBody, StatementExplanation, Status, SubjectMatch, TokenScope,
};
pub use words::{one_line, truth_word};

/// Explains decisions of one checked policy.
#[derive(Debug)]
pub struct Explainer<'p> {
    sources: &'p Sources,
    policy: &'p CheckedPolicy,
    /// Each role with every role it inherits, nearest first.
    role_closure: Vec<Vec<usize>>,
    /// Each scope with every scope it implies, nearest first.
    scope_closure: Vec<Vec<usize>>,
    /// Each `arg` atom's value when listing follows use, by the atom's span.
    favourable: AHashMap<Span, bool>,
}

impl<'p> Explainer<'p> {
    /// An explainer of `policy`, whose text is in `sources`.
    pub fn new(sources: &'p Sources, policy: &'p CheckedPolicy) -> Explainer<'p> {
        let role_closure = policy
            .role_closures()
            .iter()
            .map(|reached| reached.iter().map(|role| role.index()).collect())
            .collect();
        let scope_closure = policy
            .scope_closures()
            .iter()
            .map(|reached| reached.iter().map(|scope| scope.index()).collect())
            .collect();
        Explainer {
            sources,
            policy,
            role_closure,
            scope_closure,
            favourable: condition::favourable_values(policy),
        }
    }

    /// Explains the decision of `request` for the token whose validated claims are
    /// `claims`.
    pub fn explain(
        &self,
        claims: &Value,
        request: &Request<'_>,
    ) -> Result<Explanation, PrincipalError> {
        let reading = ClaimsReading::new(&self.policy.claims, claims)?;
        let principal = principal::derive(self, &reading);
        let facts = RequestFacts {
            kind: request.kind,
            action: request.action,
            name: request.name.to_string(),
            ip: request.ip,
            time: request.time,
            arguments: request.arguments.cloned(),
        };
        Ok(decide::explain(self, &principal, facts))
    }
}

impl Explainer<'_> {
    /// `PATH:LINE` of statement `index`.
    fn site(&self, index: usize) -> Option<Site> {
        let statement = self.policy.statements.get(index)?;
        Some(Site {
            file: self.sources.get(statement.span.source).name().to_string(),
            line: self.sources.location(statement.span).start.line,
        })
    }

    /// The name of scope `index`.
    fn scope_name(&self, index: usize) -> String {
        self.policy
            .scopes
            .get(index)
            .map_or_else(String::new, |scope| scope.name.clone())
    }

    /// The index of the scope named `name`.
    fn scope_index(&self, name: &str) -> Option<usize> {
        self.policy
            .scopes
            .iter()
            .position(|scope| scope.name == name)
    }

    /// The name of role `index`.
    fn role_name(&self, index: usize) -> String {
        self.policy
            .roles
            .get(index)
            .map_or_else(String::new, |role| role.name.clone())
    }
}
