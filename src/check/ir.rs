//! The checked policy: every name resolved to an id, every value validated.
//! This is what [`crate::compile`] turns into a decision table.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::ast::{Action, CompareOp, Effect, Kind, LiteralValue, OrderOp};
use crate::claim_path::ClaimPath;
use crate::glob::Glob;
use crate::ids::{NetworkId, RoleId, ScopeId, WindowId};
use crate::net::Network;
use crate::source::Span;
use crate::window::WindowSpec;

/// A policy that passed the checker.
#[derive(Debug, Clone)]
pub struct CheckedPolicy {
    /// The policy's `timezone` (UTC when none is given).
    pub timezone: TimeZone,
    /// Which claims give roles, scopes and the client id.
    pub claims: ClaimsMap,
    /// Declared roles, indexed by [`RoleId`].
    pub roles: Vec<Role>,
    /// Every scope named anywhere, indexed by [`ScopeId`].
    pub scopes: Vec<Scope>,
    /// Named and inline networks, indexed by [`NetworkId`], each keeping its ranges as
    /// written ([`Network::ranges`]).
    pub networks: Vec<Network>,
    /// Named and inline windows, indexed by [`WindowId`].
    pub windows: Vec<WindowSpec>,
    /// Rules and requirements in policy order, indexed by [`crate::ids::StatementId`].
    pub statements: Vec<Statement>,
}

/// The claim paths that give a principal's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimsMap {
    /// Paths whose string values grant roles.
    pub roles: Vec<ClaimPath>,
    /// Paths holding scopes (space-separated string or array).
    pub scopes: Vec<ClaimPath>,
    /// Paths holding the client id; the first string wins.
    pub client: Vec<ClaimPath>,
    /// Which lines the policy's `claims` block writes; the others hold defaults, which a
    /// claims preset may replace.
    pub explicit: ClaimLines,
}

/// One flag per line of a `claims` block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClaimLines {
    /// `roles from ...`.
    pub roles: bool,
    /// `scopes from ...`.
    pub scopes: bool,
    /// `client from ...`.
    pub client: bool,
}

impl Default for ClaimsMap {
    fn default() -> ClaimsMap {
        let strings = |paths: &[&str]| paths.iter().map(|path| ClaimPath::from(*path)).collect();
        ClaimsMap {
            roles: strings(&["roles", "role"]),
            scopes: strings(&["scope", "scp"]),
            client: strings(&["client_id", "azp"]),
            explicit: ClaimLines::default(),
        }
    }
}

impl ClaimsMap {
    /// This map with every line the policy did not write taken from `defaults` (a claims
    /// preset's map): the policy's own lines win.
    pub fn with_defaults(&self, defaults: &ClaimsMap) -> ClaimsMap {
        let pick = |explicit: bool, ours: &Vec<ClaimPath>, theirs: &Vec<ClaimPath>| {
            if explicit {
                ours.clone()
            } else {
                theirs.clone()
            }
        };
        ClaimsMap {
            roles: pick(self.explicit.roles, &self.roles, &defaults.roles),
            scopes: pick(self.explicit.scopes, &self.scopes, &defaults.scopes),
            client: pick(self.explicit.client, &self.client, &defaults.client),
            explicit: self.explicit,
        }
    }
}

/// A declared role.
#[derive(Debug, Clone)]
pub struct Role {
    /// Its name.
    pub name: String,
    /// The roles it inherits.
    pub parents: Vec<RoleId>,
    /// External claim values that also grant it.
    pub aka: Vec<String>,
    /// Where it is declared.
    pub span: Span,
}

impl Role {
    /// The claim values that grant it: its name, then its `aka` values. The one statement
    /// of that rule: the index's lookup and explain's derivation both read it.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aka.iter().map(String::as_str))
    }
}

/// A scope named in the policy.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The scope string.
    pub name: String,
    /// Whether a `scope` statement declares it.
    pub declared: bool,
    /// The scopes it directly implies.
    pub implies: Vec<ScopeId>,
}

/// A set of actions of one kind: `list` and/or the kind's use action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ActionSet {
    /// `list` is in the set.
    pub list: bool,
    /// `call` / `read` / `get` (the kind's use action) is in the set.
    pub use_: bool,
}

impl Statement {
    /// The first of its patterns matching `name`, when the statement is about `kind`
    /// and covers `action` (`list`, or any use action): whether it takes part in
    /// deciding that request.
    pub fn matching_pattern(&self, kind: Kind, action: Action, name: &str) -> Option<&Glob> {
        let covers = if action == Action::List {
            self.actions.list
        } else {
            self.actions.use_
        };
        if self.kind != kind || !covers {
            return None;
        }
        self.patterns
            .iter()
            .map(|(glob, _)| glob)
            .find(|glob| glob.is_match(name))
    }

    /// The argument paths a rule's condition reads (`arg` atoms), in text order,
    /// without repeats; none for a requirement.
    pub fn argument_paths(&self) -> Vec<&str> {
        let Body::Rule {
            condition: Some(condition),
            ..
        } = &self.body
        else {
            return Vec::new();
        };
        let mut paths: Vec<&str> = Vec::new();
        condition.each_arg(|_, test, _| {
            if !paths.contains(&test.path.as_str()) {
                paths.push(test.path.as_str());
            }
        });
        paths
    }
}

impl ActionSet {
    /// Whether every action of `other` is in `self`.
    pub fn covers(self, other: ActionSet) -> bool {
        (self.list || !other.list) && (self.use_ || !other.use_)
    }
}

/// A rule or requirement.
#[derive(Debug, Clone)]
pub struct Statement {
    /// From its first keyword to its end.
    pub span: Span,
    /// The kind of name it is about.
    pub kind: Kind,
    /// The actions it is about.
    pub actions: ActionSet,
    /// Its patterns, compiled, with where each is written.
    pub patterns: Vec<(Glob, Span)>,
    /// Rule or requirement.
    pub body: Body,
}

/// What a statement says beyond what it matches.
#[derive(Debug, Clone)]
pub enum Body {
    /// `allow` / `deny`.
    Rule {
        /// Allow or deny.
        effect: Effect,
        /// Who it is about.
        subjects: Subjects,
        /// The condition (`unless C` already turned into `not C`), if any.
        condition: Option<Cond>,
    },
    /// `require scope ...`.
    Requirement {
        /// Every scope needed.
        scopes: Vec<ScopeId>,
    },
}

/// The principals a rule is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subjects {
    /// Any authenticated principal.
    Anyone,
    /// Principals holding any of these roles (effective roles).
    Roles(Vec<RoleId>),
}

/// A resolved condition with the span of its text.
#[derive(Debug, Clone)]
pub struct Cond {
    /// The form.
    pub kind: CondKind,
    /// Its text.
    pub span: Span,
}

/// The forms of a resolved condition.
#[derive(Debug, Clone)]
pub enum CondKind {
    /// `true` / `false`.
    Const(bool),
    /// The principal's effective scopes hold it.
    Scope(ScopeId),
    /// The principal's effective roles hold it.
    Role(RoleId),
    /// The client id equals it.
    Client(String),
    /// The request address is in the network (unknown without an address).
    Ip(NetworkId),
    /// The request time is in the window.
    Window(WindowId),
    /// The request time is before the instant.
    Before(Timestamp),
    /// The request time is at or after the instant.
    After(Timestamp),
    /// A test of the token's claims.
    Claim(ClaimTest),
    /// A test of the call's arguments (v1.1).
    Arg(ArgTest),
    /// Negation (three-valued).
    Not(Box<Cond>),
    /// Conjunction (three-valued).
    And(Vec<Cond>),
    /// Disjunction (three-valued).
    Or(Vec<Cond>),
}

/// A test of a claim, decided once per principal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClaimTest {
    /// `claim P == V` / `claim P != V`.
    Compare {
        /// The claim path.
        path: ClaimPath,
        /// `==` or `!=`.
        op: CompareOp,
        /// The literal.
        value: LiteralValue,
    },
    /// `claim P contains V`.
    Contains {
        /// The claim path.
        path: ClaimPath,
        /// The literal.
        value: LiteralValue,
    },
    /// `claim P exists`.
    Exists {
        /// The claim path.
        path: ClaimPath,
    },
}

/// A test of a call's arguments, decided per request (v1.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArgTest {
    /// The argument path (claim path rules).
    pub path: ClaimPath,
    /// What is tested.
    pub test: ArgOp,
}

/// What an [`ArgTest`] tests.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ArgOp {
    /// `== V` / `!= V`.
    Compare {
        /// `==` or `!=`.
        op: CompareOp,
        /// The literal.
        value: LiteralValue,
    },
    /// `in [V, ...]`: `== Vi` for some i.
    In(Vec<LiteralValue>),
    /// `contains V`.
    Contains(LiteralValue),
    /// `matches GLOB`: a string the glob matches whole (a non-string is unknown).
    Matches(Glob),
    /// `< N`, `<=`, `>`, `>=`: a number compared by value (a non-number is unknown).
    Order {
        /// The comparison.
        op: OrderOp,
        /// The number: [`LiteralValue::Integer`] or [`LiteralValue::Decimal`].
        value: LiteralValue,
    },
    /// `exists`.
    Exists,
}

impl ClaimTest {
    /// The path the test reads.
    pub fn path(&self) -> &ClaimPath {
        match self {
            ClaimTest::Compare { path, .. }
            | ClaimTest::Contains { path, .. }
            | ClaimTest::Exists { path } => path,
        }
    }
}

impl Cond {
    /// Calls `visit` with every `arg` atom of the condition in text order, its test, and
    /// whether an odd number of `not`s stands above it. Walked with a stack of its own.
    pub fn each_arg<'c>(&'c self, mut visit: impl FnMut(&'c Cond, &'c ArgTest, bool)) {
        let mut pending = vec![(self, false)];
        while let Some((cond, negated)) = pending.pop() {
            match &cond.kind {
                CondKind::Arg(test) => visit(cond, test, negated),
                CondKind::Not(inner) => pending.push((inner, !negated)),
                CondKind::And(items) | CondKind::Or(items) => {
                    pending.extend(items.iter().rev().map(|item| (item, negated)))
                }
                _ => {}
            }
        }
    }

    /// The first `arg` atom of the condition in text order, if any.
    pub fn first_arg(&self) -> Option<&Cond> {
        let mut first = None;
        self.each_arg(|cond, _, _| {
            first = first.or(Some(cond));
        });
        first
    }

    /// Collects the scopes the condition's `scope` atoms name (the scopes whose
    /// addition could change it), without repeats.
    pub fn scopes_named(&self, into: &mut Vec<ScopeId>) {
        match &self.kind {
            CondKind::Scope(scope) if !into.contains(scope) => into.push(*scope),
            CondKind::Not(inner) => inner.scopes_named(into),
            CondKind::And(items) | CondKind::Or(items) => {
                items.iter().for_each(|item| item.scopes_named(into))
            }
            _ => {}
        }
    }
}

impl CheckedPolicy {
    /// Each role with every role it inherits: itself first, then nearest first.
    pub fn role_closures(&self) -> Vec<Vec<RoleId>> {
        let parents: Vec<Vec<usize>> = self
            .roles
            .iter()
            .map(|role| role.parents.iter().map(|parent| parent.index()).collect())
            .collect();
        closures(&parents)
            .into_iter()
            .map(|reached| reached.into_iter().map(RoleId::from_index).collect())
            .collect()
    }

    /// Each scope with every scope it implies: itself first, then nearest first.
    pub fn scope_closures(&self) -> Vec<Vec<ScopeId>> {
        let implies: Vec<Vec<usize>> = self
            .scopes
            .iter()
            .map(|scope| {
                scope
                    .implies
                    .iter()
                    .map(|implied| implied.index())
                    .collect()
            })
            .collect();
        closures(&implies)
            .into_iter()
            .map(|reached| reached.into_iter().map(ScopeId::from_index).collect())
            .collect()
    }

    /// The scopes `condition`'s `scope` atoms name, sorted by name: the candidates of a
    /// step-up, in the order the search tries them.
    pub fn named_scopes(&self, condition: &Cond) -> Vec<ScopeId> {
        let mut named = Vec::new();
        condition.scopes_named(&mut named);
        let name = |scope: &ScopeId| {
            self.scopes
                .get(scope.index())
                .map_or("", |scope| scope.name.as_str())
        };
        named.sort_by(|a, b| name(a).cmp(name(b)));
        named
    }
}

/// For each node, itself and every node reachable over `edges`, breadth first.
fn closures(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut seen = vec![false; edges.len()];
    (0..edges.len())
        .map(|start| {
            let mut reached = vec![start];
            if let Some(flag) = seen.get_mut(start) {
                *flag = true;
            }
            let mut next = 0;
            while let Some(node) = reached.get(next).copied() {
                next += 1;
                for target in edges.get(node).into_iter().flatten() {
                    if let Some(flag) = seen.get_mut(*target) {
                        if !*flag {
                            *flag = true;
                            reached.push(*target);
                        }
                    }
                }
            }
            for node in &reached {
                if let Some(flag) = seen.get_mut(*node) {
                    *flag = false;
                }
            }
            reached
        })
        .collect()
}
