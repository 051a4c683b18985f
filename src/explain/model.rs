//! The explanation as data: what the binary renders as text or JSON.

use std::fmt;
use std::net::IpAddr;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};

use super::serial;
use crate::ast::{Action, ConditionMode, Effect, Kind};
use crate::eval::{Reason, Truth};

/// Everything that went into one decision.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The request as decided.
    pub request: RequestFacts,
    /// The principal as derived from the claims.
    pub principal: PrincipalFacts,
    /// The decision, equal to the engine's.
    pub decision: Outcome,
    /// Why the deciding statement won (or why nothing decided), in one sentence.
    pub why: String,
    /// For `insufficient_scope`: the decision of the same request were the token to
    /// hold the missing scopes too (an allow, unless something else stands in the way).
    pub with_missing_scopes: Option<Outcome>,
    /// The evaluation of the request's action; for a `list` that found no rule of its
    /// own, also the evaluation of the kind's use action that listing follows.
    pub evaluations: Vec<Evaluation>,
}

/// The request's fields.
#[derive(Debug, Clone, Serialize)]
pub struct RequestFacts {
    /// Tool, resource or prompt.
    #[serde(serialize_with = "serial::kind")]
    pub kind: Kind,
    /// The action.
    #[serde(serialize_with = "serial::action")]
    pub action: Action,
    /// The name.
    pub name: String,
    /// The client address, if given.
    pub ip: Option<IpAddr>,
    /// When the request is made.
    #[serde(serialize_with = "serial::timestamp")]
    pub time: Timestamp,
    /// The arguments of a `call` or `get`, if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Map<String, Value>>,
}

/// A claim value and the claim path it was found at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimSource {
    /// The value (a role value, a scope, a client id).
    pub value: String,
    /// The claims-map path it came from.
    pub path: String,
}

/// A role the token grants, and the claim values that grant it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantedRole {
    /// The role's name.
    pub role: String,
    /// The values granting it: its name or one of its `aka` values.
    pub from: Vec<ClaimSource>,
}

/// A scope in the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenScope {
    /// The scope and where it was found.
    #[serde(flatten)]
    pub source: ClaimSource,
    /// Whether the policy names the scope (others take no part in any decision).
    pub known: bool,
}

/// A scope the principal holds, directly or through an implication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectiveScope {
    /// The scope.
    pub scope: String,
    /// The token scope implying it, when the token does not carry it itself.
    pub implied_by: Option<String>,
}

/// The principal as the policy's claims map derives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrincipalFacts {
    /// The `sub` claim, if a string.
    pub subject: Option<String>,
    /// The client id and where it was found.
    pub client: Option<ClaimSource>,
    /// The roles the token's values grant, in the order their values appear.
    pub granted_roles: Vec<GrantedRole>,
    /// The roles the granted roles inherit, transitively, nearest first.
    pub inherited_roles: Vec<String>,
    /// Role values naming no declared role (ignored).
    pub ignored_role_values: Vec<ClaimSource>,
    /// Every scope string in the token.
    pub token_scopes: Vec<TokenScope>,
    /// The effective scopes: the token's known scopes and every scope they imply.
    pub effective_scopes: Vec<EffectiveScope>,
}

impl PrincipalFacts {
    /// Granted then inherited roles: the effective roles.
    pub fn effective_roles(&self) -> impl Iterator<Item = &str> {
        let granted = self.granted_roles.iter().map(|role| role.role.as_str());
        granted.chain(self.inherited_roles.iter().map(String::as_str))
    }
}

/// `PATH:LINE` of a statement's first keyword, as decisions report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    /// The file, as reached from the policy path given.
    pub file: String,
    /// The 1-based line.
    pub line: u32,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A decision: effect, reason, deciding statement and missing scopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Allow or deny.
    #[serde(rename = "decision", serialize_with = "serial::effect")]
    pub effect: Effect,
    /// Why.
    #[serde(serialize_with = "serial::reason")]
    pub reason: Reason,
    /// The deciding statement's site; `None` for `no_rule`.
    #[serde(serialize_with = "serial::optional_site")]
    pub rule: Option<Site>,
    /// For `insufficient_scope`, the missing scopes, sorted.
    pub missing_scopes: Vec<String>,
    /// The deciding statement's index in policy order.
    #[serde(skip)]
    pub statement: Option<usize>,
}

/// How one action was decided for the request's name.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// The action evaluated.
    #[serde(serialize_with = "serial::action")]
    pub action: Action,
    /// Every statement whose kind, action and a pattern match, in policy order.
    pub statements: Vec<StatementExplanation>,
    /// The outcome of this action alone.
    pub decision: Outcome,
    /// Why, in one sentence.
    pub why: String,
}

/// One matching statement and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct StatementExplanation {
    /// The statement's index in policy order.
    pub index: usize,
    /// Where it is.
    #[serde(serialize_with = "serial::site")]
    pub site: Site,
    /// Its text without the condition, on one line, comments left out.
    pub text: String,
    /// The first of its patterns that matches the name.
    pub pattern: String,
    /// How many patterns it has.
    pub pattern_count: usize,
    /// Rule or requirement, with what it read.
    #[serde(flatten)]
    pub body: StatementBody,
    /// What became of it.
    #[serde(flatten)]
    pub status: Status,
    /// Whether it is the deciding statement.
    pub decides: bool,
    /// Its part in the decision, in words (`would allow, but a deny wins`).
    pub note: String,
}

/// What a statement read.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "statement", rename_all = "snake_case")]
pub enum StatementBody {
    /// `allow` / `deny`.
    Rule {
        /// Allow or deny.
        #[serde(serialize_with = "serial::effect")]
        effect: Effect,
        /// Whether the subject matched, and through which role.
        subject: SubjectMatch,
        /// The condition, evaluated, if any.
        condition: Option<ConditionExplanation>,
    },
    /// `require scope ...`.
    Require {
        /// Each scope required, and whether the token holds it.
        scopes: Vec<ScopeHolding>,
    },
}

/// Whether a rule's subject covers the principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "match", rename_all = "snake_case")]
pub enum SubjectMatch {
    /// `anyone`.
    Anyone,
    /// The first of the rule's roles among the effective roles.
    Role {
        /// That role.
        role: String,
    },
    /// None of the rule's roles is effective.
    NoRole {
        /// The rule's roles.
        roles: Vec<String>,
    },
}

impl SubjectMatch {
    /// Whether the subject covers the principal.
    pub fn matched(&self) -> bool {
        !matches!(self, SubjectMatch::NoRole { .. })
    }
}

/// A scope and whether the principal holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeHolding {
    /// The scope.
    pub scope: String,
    /// How it is held.
    #[serde(flatten)]
    pub held: Holding,
}

/// How the principal holds a scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "held", content = "through", rename_all = "snake_case")]
pub enum Holding {
    /// The token carries it.
    Token,
    /// A token scope implies it.
    Implied(String),
    /// Not held.
    Missing,
}

impl Holding {
    /// Whether the scope is held.
    pub fn is_held(&self) -> bool {
        !matches!(self, Holding::Missing)
    }
}

/// A rule's condition and its value.
#[derive(Debug, Clone, Serialize)]
pub struct ConditionExplanation {
    /// `if` or `unless`.
    #[serde(serialize_with = "serial::mode")]
    pub mode: ConditionMode,
    /// The condition as written, `if` / `unless` included, on one line.
    pub text: String,
    /// The value of the expression after `if` / `unless`.
    #[serde(serialize_with = "serial::truth")]
    pub value: Truth,
    /// Whether the rule applies: the value, negated for `unless`.
    #[serde(serialize_with = "serial::truth")]
    pub applies: Truth,
    /// The expression's tree, atoms with what they read.
    pub tree: Node,
}

/// A node of a condition with its value.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    /// Its text, on one line.
    pub text: String,
    /// Its value.
    #[serde(serialize_with = "serial::truth")]
    pub value: Truth,
    /// Its form.
    #[serde(flatten)]
    pub kind: NodeKind,
}

/// The forms of a condition node.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "node", rename_all = "snake_case")]
pub enum NodeKind {
    /// `not`.
    Not {
        /// The negated node.
        of: Box<Node>,
    },
    /// `and`.
    And {
        /// The nodes that must all hold.
        of: Vec<Node>,
    },
    /// `or`.
    Or {
        /// The nodes of which one must hold.
        of: Vec<Node>,
    },
    /// An atom, with what it read.
    Atom(Reading),
}

/// What an atom read.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "atom", rename_all = "snake_case")]
pub enum Reading {
    /// `true` / `false`.
    Constant,
    /// `scope S`.
    Scope {
        /// The scope and how it is held.
        #[serde(flatten)]
        holding: ScopeHolding,
    },
    /// `role NAME`.
    Role {
        /// The role.
        role: String,
        /// Whether it is among the effective roles.
        effective: bool,
    },
    /// `client S`.
    Client {
        /// The client id wanted.
        wanted: String,
        /// The principal's client id.
        client: Option<String>,
    },
    /// `ip in ...`.
    Ip {
        /// The request's address.
        address: Option<IpAddr>,
        /// The range holding it, as written.
        range: Option<String>,
        /// Every range of the network, as written.
        ranges: Vec<String>,
    },
    /// `time in ...`.
    Window {
        /// The local date and time in the window's zone (`2026-11-26 21:00`).
        local: String,
        /// The local weekday (`Thu`).
        weekday: String,
        /// The window's zone.
        zone: String,
        /// The window in words (`mon-fri 09:00-17:00`).
        window: String,
    },
    /// `time before S` / `time after S`.
    Instant {
        /// The instant written.
        #[serde(serialize_with = "serial::timestamp")]
        instant: Timestamp,
        /// The request's time.
        #[serde(serialize_with = "serial::timestamp")]
        time: Timestamp,
        /// `before` or `after`.
        before: bool,
    },
    /// `claim P ...`.
    Claim {
        /// The claim path.
        path: String,
        /// Whether the claim is present.
        present: bool,
        /// Its value, when present.
        #[serde(skip_serializing_if = "Option::is_none")]
        found: Option<Value>,
        /// The token holds the path both as a top-level name and nested: the atom is
        /// unknown.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        ambiguous: bool,
    },
    /// `arg P ...` (v1.1).
    Arg {
        /// The argument path.
        path: String,
        /// What the atom read.
        #[serde(flatten)]
        read: ArgRead,
    },
}

/// What an `arg` atom read.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "read", rename_all = "snake_case")]
pub enum ArgRead {
    /// The call's arguments hold a value at the path.
    Value {
        /// The value.
        value: Value,
        /// Why the atom is unknown on it: `not a string` (`matches`) or `not a number`
        /// (`<`, `<=`, `>`, `>=`).
        #[serde(skip_serializing_if = "Option::is_none")]
        unknown: Option<String>,
    },
    /// No argument at the path.
    Missing,
    /// The arguments hold the path both as a top-level name and nested: unknown.
    Ambiguous,
    /// A `list` request has no arguments: the atom took the value that favours the
    /// caller in its rule (listing follows use).
    Favoured {
        /// The value it took.
        value: bool,
    },
}

/// What became of a matching statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// A rule whose subject does not cover the principal.
    NotForPrincipal,
    /// A deny whose condition holds or is unknown.
    Fires,
    /// A deny whose condition is false.
    DoesNotApply,
    /// A requirement the token meets.
    Met,
    /// A requirement the token does not meet.
    Unmet {
        /// The scopes lacking, in the order written.
        missing: Vec<String>,
    },
    /// An allow whose condition holds.
    Holds,
    /// An allow whose condition is false or unknown.
    DoesNotHold {
        /// The smallest step-up, when this rule is the one step-up names.
        step_up: Option<Vec<String>>,
    },
}
