//! Deciding: the [`Engine`] answers a [`Request`] for a [`Principal`] with a [`Decision`].
//!
//! The procedure is docs/language.md's "Deciding": a matching deny whose condition holds or
//! is unknown; then unmet requirements (`insufficient_scope`); then the first matching
//! allow that holds; then step-up or `no_rule`. Listing follows use. Deciding allocates
//! nothing unless the answer is a step-up with more than four missing scopes.

mod memo;
mod truth;

use std::fmt;
use std::net::IpAddr;

use jiff::Timestamp;
use serde_json::{Map, Value};
use smallvec::SmallVec;

pub use crate::decide::Truth;

use crate::ast::{Action, Effect, Kind};
use crate::compile::kind_index;
use crate::decide::{self, Scopes};
use crate::ids::{ScopeId, StatementId};
use crate::index::{ClassProgram, Entry, Index, RequirementStep, RuleSite};
use crate::limits::Limits;
use crate::principal::{Principal, PrincipalError, PrincipalParts};
use memo::Memo;
use truth::{Arguments, Facts};

/// A compiled policy ready to decide, shareable across threads (`Send + Sync`).
#[derive(Debug)]
pub struct Engine {
    index: Index,
    memos: [Memo; 3],
    /// Names longer than this many bytes are denied unmatched.
    name_bytes: usize,
}

/// One request to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// Tool, resource or prompt.
    pub kind: Kind,
    /// `list`, or the kind's use action.
    pub action: Action,
    /// The tool name, resource URI or prompt name.
    pub name: &'a str,
    /// The client's address, if known; without one every `ip in` test is unknown.
    pub ip: Option<IpAddr>,
    /// When the request is made.
    pub time: Timestamp,
    /// The arguments of a `call` or `get` (MCP `params.arguments`); `None` is `{}`.
    /// `list` and `read` requests carry none: arguments given with them are ignored.
    pub arguments: Option<&'a Map<String, Value>>,
}

/// An action the kind does not have (`read` on a tool).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidAction {
    /// The kind.
    pub kind: Kind,
    /// The action.
    pub action: Action,
}

impl fmt::Display for InvalidAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not an action on {}; they take `list` and `{}`",
            self.action.keyword(),
            self.kind.plural(),
            self.kind.use_action().keyword()
        )
    }
}

impl std::error::Error for InvalidAction {}

impl<'a> Request<'a> {
    /// A request made now, without an address.
    pub fn new(kind: Kind, action: Action, name: &'a str) -> Result<Request<'a>, InvalidAction> {
        if !kind.allows(action) {
            return Err(InvalidAction { kind, action });
        }
        Ok(Request {
            kind,
            action,
            name,
            ip: None,
            time: Timestamp::now(),
            arguments: None,
        })
    }

    /// The same request from `ip`.
    pub fn with_ip(self, ip: IpAddr) -> Request<'a> {
        Request {
            ip: Some(ip),
            ..self
        }
    }

    /// The same request made at `time`.
    pub fn at(self, time: Timestamp) -> Request<'a> {
        Request { time, ..self }
    }

    /// The same request with these arguments (for `call` and `get`).
    pub fn with_arguments(self, arguments: &'a Map<String, Value>) -> Request<'a> {
        Request {
            arguments: Some(arguments),
            ..self
        }
    }
}

/// Why a decision came out as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// An allow rule held.
    Allowed,
    /// A deny rule held (or its condition was unknown).
    Denied,
    /// Scopes are missing: a requirement, or the smallest step-up to an allow rule.
    InsufficientScope,
    /// No rule allows it.
    NoRule,
}

impl Reason {
    /// `allowed`, `denied`, `insufficient_scope` or `no_rule`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Allowed => "allowed",
            Reason::Denied => "denied",
            Reason::InsufficientScope => "insufficient_scope",
            Reason::NoRule => "no_rule",
        }
    }
}

/// A decision, borrowing rule locations and scope names from the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<'e> {
    /// Allow or deny.
    pub effect: Effect,
    /// Why.
    pub reason: Reason,
    /// The deciding statement; `None` for `no_rule`.
    pub rule: Option<&'e RuleSite>,
    /// For `insufficient_scope`, the scopes missing, sorted; otherwise empty.
    pub missing_scopes: SmallVec<[&'e str; 4]>,
    /// For `insufficient_scope`, every scope the deciding statements need, held or
    /// missing, sorted (what a `WWW-Authenticate` challenge names, RFC 6750 3.1);
    /// otherwise empty.
    pub required_scopes: SmallVec<[&'e str; 4]>,
}

impl Decision<'_> {
    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        self.effect == Effect::Allow
    }

    fn no_rule() -> Self {
        Decision {
            effect: Effect::Deny,
            reason: Reason::NoRule,
            rule: None,
            missing_scopes: SmallVec::new(),
            required_scopes: SmallVec::new(),
        }
    }
}

impl Engine {
    /// An engine deciding with `index`, within the default [`Limits`].
    pub fn new(index: Index) -> Engine {
        Engine::with_limits(index, &Limits::default())
    }

    /// An engine deciding with `index`; a request for a name longer than
    /// [`Limits::name_bytes`] is denied (`no_rule`) without being matched.
    pub fn with_limits(index: Index, limits: &Limits) -> Engine {
        let memos = index.kinds.each_ref().map(Memo::new);
        Engine {
            index,
            memos,
            name_bytes: limits.name_bytes,
        }
    }

    /// The compiled index. Unstable: its type is in [`crate::unstable`].
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The principal of a token's validated claims.
    pub fn principal(&self, claims: &Value) -> Result<Principal, PrincipalError> {
        Principal::from_claims(&self.index, claims)
    }

    /// The principal of an API key or custom scheme.
    pub fn principal_from_parts(&self, parts: &PrincipalParts) -> Principal {
        Principal::from_parts(&self.index, parts)
    }

    /// Decides a request. A principal resolved by another engine, an action the kind
    /// does not have and a name over [`Limits::name_bytes`] are denied (`no_rule`).
    pub fn decide<'e>(&'e self, principal: &Principal, request: &Request<'_>) -> Decision<'e> {
        if principal.table_id != self.index.id
            || !request.kind.allows(request.action)
            || request.name.len() > self.name_bytes
        {
            return Decision::no_rule();
        }
        let kind = kind_index(request.kind);
        let (Some(memo), Some(index)) = (self.memos.get(kind), self.index.kinds.get(kind)) else {
            return Decision::no_rule();
        };
        let facts = Facts {
            table: &self.index,
            roles: &principal.roles,
            scopes: &principal.scopes,
            atoms: &principal.atoms,
            unknown: &principal.unknown,
            ip: request.ip,
            time: request.time,
            arguments: Arguments::Given(request.arguments),
        };
        let verdict = memo.with(&self.index, index, request.name, |class| {
            run(&facts, class, request.action)
        });
        self.decision(verdict)
    }

    /// A deny rule on `kind`'s use action whose pattern matches `name` once both are
    /// case-folded (Unicode simple case folding) but does not match it as written:
    /// `name` is another spelling of a name the policy denies, which a server that
    /// matches names without regard to case (or a case-insensitive file system behind a
    /// `file://` URI) would run. Decisions compare names exactly; the gate refuses such
    /// uses with this rule.
    pub fn deny_spelled_like(&self, kind: Kind, name: &str) -> Option<&RuleSite> {
        if name.len() > self.name_bytes {
            return None;
        }
        let spellings = self.index.deny_spellings.get(kind_index(kind))?;
        let folded = crate::fold::fold(name);
        // A name that folding leaves alone can only miss a pattern that folding changed.
        let unchanged = folded == name;
        let found = spellings.iter().find(|spelling| {
            (spelling.changed || !unchanged)
                && spelling.folded.is_match(&folded)
                && !spelling.written.is_match(name)
        })?;
        self.index.sites.get(found.statement.index())
    }

    /// The names of `names` whose `list` decision is allow, in their order.
    pub fn filter_listable<'n>(
        &self,
        principal: &Principal,
        kind: Kind,
        names: impl IntoIterator<Item = &'n str>,
        ip: Option<IpAddr>,
        time: Timestamp,
    ) -> Vec<&'n str> {
        names
            .into_iter()
            .filter(|name| {
                let request = Request {
                    kind,
                    action: Action::List,
                    name,
                    ip,
                    time,
                    arguments: None,
                };
                self.decide(principal, &request).is_allowed()
            })
            .collect()
    }

    fn decision(&self, verdict: Verdict) -> Decision<'_> {
        let (effect, reason, statement, scopes) = match verdict {
            Verdict::Allowed(statement) => (Effect::Allow, Reason::Allowed, statement, None),
            Verdict::Denied(statement) => (Effect::Deny, Reason::Denied, statement, None),
            Verdict::Missing(statement, scopes) => (
                Effect::Deny,
                Reason::InsufficientScope,
                statement,
                Some(scopes),
            ),
            Verdict::NoRule => return Decision::no_rule(),
        };
        let names = |ids: &[ScopeId]| -> SmallVec<[&str; 4]> {
            let mut names: SmallVec<[&str; 4]> = ids
                .iter()
                .map(|scope| self.index.scope_name(*scope))
                .collect();
            names.sort_unstable();
            names.dedup();
            names
        };
        let (missing_scopes, required_scopes) = match scopes {
            Some(scopes) => (names(&scopes.missing), names(&scopes.required)),
            None => (SmallVec::new(), SmallVec::new()),
        };
        Decision {
            effect,
            reason,
            rule: self.index.sites.get(statement.index()),
            missing_scopes,
            required_scopes,
        }
    }
}

/// Runs the decision procedure on `class` for `action`. Kept out of line so that the
/// closure the memo calls from its three paths stays small enough to inline, as one
/// call each.
#[inline(never)]
fn run(facts: &Facts<'_>, class: &ClassProgram, action: Action) -> Verdict {
    let verdict = if action == Action::List {
        decide::list(facts, class.list.view(), class.use_.view()).verdict()
    } else {
        decide::decide(facts, class.use_.view())
    };
    Verdict::of(verdict)
}

/// A decision before names are attached: which statement, and which scopes by id.
enum Verdict {
    Allowed(StatementId),
    Denied(StatementId),
    Missing(StatementId, Scopes),
    NoRule,
}

impl Verdict {
    /// The procedure's verdict, owning what it keeps.
    #[inline]
    fn of(verdict: decide::Verdict<'_, Entry, RequirementStep>) -> Verdict {
        match verdict {
            decide::Verdict::Allowed(entry) => Verdict::Allowed(entry.statement),
            decide::Verdict::Denied(entry) => Verdict::Denied(entry.statement),
            decide::Verdict::Unmet(requirement, scopes) => {
                Verdict::Missing(requirement.statement, scopes)
            }
            decide::Verdict::StepUp(entry, scopes) => Verdict::Missing(entry.statement, scopes),
            decide::Verdict::NoRule => Verdict::NoRule,
        }
    }
}
