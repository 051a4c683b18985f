//! The compiled index (what the engine decides with; not the matrix `toolgate table`
//! shows): immutable, `Send + Sync`, built by [`crate::compile`]
//! and read by [`crate::eval`].
//!
//! Names are interned per kind. A name's *class* is the set of patterns that match it;
//! every name of a class is decided by the same [`ClassProgram`]: for `list` and for the
//! kind's use action, the matching deny rules, requirements and allow rules in policy
//! order, with role subjects and conditions resolved to ids. Programs for names written
//! literally in the policy are built at compile time; other names find their patterns
//! through the prefix, suffix and general-glob indexes once, and the engine memoises the
//! result.
#![deny(clippy::indexing_slicing)]

use std::fmt;
use std::sync::Arc;

use ahash::AHashMap;
use jiff::Timestamp;
use smallvec::SmallVec;

use crate::check::{ArgTest, ClaimTest, ClaimsMap};
use crate::glob::Glob;
use crate::ids::{
    ArgTestId, Bits, NetworkId, PatternId, PrincipalAtomId, RoleId, ScopeId, StatementId, WindowId,
};
use crate::net::Network;
use crate::source::Span;
use crate::window::WindowSpec;

/// A compiled policy.
#[derive(Debug)]
pub struct Index {
    pub(crate) id: u64,
    pub(crate) sites: Vec<RuleSite>,
    pub(crate) statements: Vec<CompiledStatement>,
    pub(crate) roles: RoleIndex,
    pub(crate) scopes: ScopeIndex,
    pub(crate) claims: ClaimsMap,
    pub(crate) principal_atoms: Vec<PrincipalAtom>,
    /// The `arg` tests of every condition, indexed by [`ArgTestId`].
    pub(crate) arg_tests: Vec<ArgTest>,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) networks: Vec<Network>,
    pub(crate) windows: Vec<WindowSpec>,
    pub(crate) kinds: [NameIndex; 3],
    /// Per kind, the patterns of the deny rules on its use action, for
    /// [`crate::Engine::deny_spelled_like`].
    pub(crate) deny_spellings: [Vec<DenySpelling>; 3],
}

impl Index {
    /// The number of rules and requirements.
    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// Where each rule and requirement is, in policy order.
    pub fn sites(&self) -> &[RuleSite] {
        &self.sites
    }

    /// The names of the declared roles, by [`RoleId`].
    pub fn role_names(&self) -> impl Iterator<Item = &str> {
        self.roles.names.iter().map(|name| &**name)
    }

    /// The name of a scope id.
    pub fn scope_name(&self, scope: ScopeId) -> &str {
        self.scopes.names.get(scope.index()).map_or("", |name| name)
    }

    /// The paths of the policy's `arg` conditions (one per distinct test: a path may
    /// repeat).
    pub fn argument_paths(&self) -> impl Iterator<Item = &crate::claim_path::ClaimPath> {
        self.arg_tests.iter().map(|test| &test.path)
    }
}

/// Where a deciding statement is: `PATH:LINE` of its first keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSite {
    /// The file, as reached from the policy path given.
    pub file: Arc<str>,
    /// The 1-based line of the statement's first keyword.
    pub line: u32,
    /// The statement's span in the policy's sources.
    pub span: Span,
    /// The argument paths its condition reads (`arg` atoms, v1.1), in text order,
    /// without repeats: what an audit log may record without the values.
    pub argument_paths: Box<[Box<str>]>,
}

impl fmt::Display for RuleSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// Roles: the claim values that grant them, and each role's effective set.
#[derive(Debug, Default)]
pub(crate) struct RoleIndex {
    pub names: Vec<Box<str>>,
    /// A claim value (a role name or an `aka`) to the roles it grants.
    pub by_value: AHashMap<Box<str>, SmallVec<[RoleId; 2]>>,
    /// Each role with every role it inherits, transitively.
    pub closure: Vec<Bits>,
}

/// Scopes: names, and each scope with every scope it implies, transitively.
#[derive(Debug, Default)]
pub(crate) struct ScopeIndex {
    pub names: Vec<Box<str>>,
    pub by_name: AHashMap<Box<str>, ScopeId>,
    pub closure: Vec<Bits>,
}

/// A fact about the principal alone, decided once when the principal is resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum PrincipalAtom {
    Client(Box<str>),
    Claim(ClaimTest),
}

/// A compiled condition.
#[derive(Debug)]
pub(crate) struct Condition {
    pub root: Node,
    /// The scopes the condition names, sorted by name (step-up candidates).
    pub named_scopes: SmallVec<[ScopeId; 4]>,
}

/// A node of a compiled condition.
#[derive(Debug)]
pub(crate) enum Node {
    Const(bool),
    Scope(ScopeId),
    Role(RoleId),
    Atom(PrincipalAtomId),
    /// An `arg` test, with the value that favours the caller in its rule (what a `list`
    /// request, which carries no arguments, takes when listing follows use).
    Arg {
        test: ArgTestId,
        favourable: bool,
    },
    Ip(NetworkId),
    Window(WindowId),
    Before(Timestamp),
    After(Timestamp),
    Not(Box<Node>),
    And(Box<[Node]>),
    Or(Box<[Node]>),
}

/// A deny rule's pattern as written and case-folded.
#[derive(Debug)]
pub(crate) struct DenySpelling {
    pub written: Glob,
    pub folded: Glob,
    /// Whether folding changed the pattern.
    pub changed: bool,
    pub statement: StatementId,
}

/// What the decision needs of a rule or requirement.
#[derive(Debug)]
pub(crate) struct CompiledStatement {
    pub list: bool,
    pub use_: bool,
    pub body: CompiledBody,
}

#[derive(Debug)]
pub(crate) enum CompiledBody {
    Deny(Entry),
    Allow(Entry),
    Requirement(SmallVec<[ScopeId; 2]>),
}

/// A rule as a program step.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub statement: StatementId,
    pub subjects: SubjectSet,
    pub condition: Option<u32>,
}

/// Who a rule is about.
#[derive(Debug, Clone)]
pub(crate) enum SubjectSet {
    Anyone,
    Roles(SmallVec<[RoleId; 2]>),
}

impl SubjectSet {
    #[inline]
    pub fn matches(&self, roles: &Bits) -> bool {
        match self {
            SubjectSet::Anyone => true,
            SubjectSet::Roles(wanted) => wanted.iter().any(|role| roles.contains(role.index())),
        }
    }
}

/// A requirement as a program step.
#[derive(Debug, Clone)]
pub(crate) struct RequirementStep {
    pub statement: StatementId,
    pub scopes: SmallVec<[ScopeId; 2]>,
}

/// The statements matching one action on one class of names, in policy order.
#[derive(Debug, Default)]
pub(crate) struct Program {
    pub denies: Box<[Entry]>,
    pub requirements: Box<[RequirementStep]>,
    pub allows: Box<[Entry]>,
}

impl Program {
    /// The program as the decision procedure reads it.
    #[inline]
    pub fn view(&self) -> crate::decide::Program<'_, Entry, RequirementStep> {
        crate::decide::Program {
            denies: &self.denies,
            requirements: &self.requirements,
            allows: &self.allows,
        }
    }
}

/// The programs of one class of names: `list` and the kind's use action.
#[derive(Debug, Default)]
pub(crate) struct ClassProgram {
    pub list: Program,
    pub use_: Program,
}

/// Finds the patterns of one kind that match a name.
#[derive(Debug, Default)]
pub(crate) struct NameIndex {
    /// Statements of each pattern, ascending.
    pub statements_by_pattern: Vec<SmallVec<[StatementId; 2]>>,
    /// Several patterns may spell one literal name differently (`a\\b`, `a\b`).
    pub literal: AHashMap<Box<str>, SmallVec<[PatternId; 1]>>,
    pub prefixes: AHashMap<Box<str>, SmallVec<[PatternId; 1]>>,
    pub prefix_lengths: Vec<usize>,
    pub suffixes: AHashMap<Box<str>, SmallVec<[PatternId; 1]>>,
    pub suffix_lengths: Vec<usize>,
    pub universal: Vec<PatternId>,
    pub general: Vec<(PatternId, Glob)>,
    /// Programs of names written literally in the policy, precomputed.
    pub exact: NameMap,
    /// The hash of names for [`NameIndex::exact`] and the engine's memo: a name is
    /// hashed once per decision.
    pub hasher: ahash::RandomState,
    /// Programs of classes built at compile time, by their sorted pattern set.
    pub classes: AHashMap<Box<[PatternId]>, Arc<ClassProgram>>,
}

/// Names to the programs of their classes, looked up with a hash the caller computed
/// once ([`NameIndex::hasher`]), so one decision hashes its name once for the
/// precomputed names and the memo.
#[derive(Debug, Default, Clone)]
pub(crate) struct NameMap {
    table: hashbrown::HashTable<(Box<str>, Arc<ClassProgram>)>,
}

impl NameMap {
    /// The program of `name`, whose hash is `hash`.
    #[inline]
    pub fn get(&self, hash: u64, name: &str) -> Option<&Arc<ClassProgram>> {
        self.table
            .find(hash, |(key, _)| **key == *name)
            .map(|(_, program)| program)
    }

    /// Sets the program of `name`, whose hash by `hasher` is `hash`.
    pub fn insert(
        &mut self,
        hasher: &ahash::RandomState,
        hash: u64,
        name: Box<str>,
        program: Arc<ClassProgram>,
    ) {
        match self.table.entry(
            hash,
            |(key, _)| *key == name,
            |(key, _)| hasher.hash_one(&**key),
        ) {
            hashbrown::hash_table::Entry::Occupied(mut entry) => entry.get_mut().1 = program,
            hashbrown::hash_table::Entry::Vacant(entry) => {
                entry.insert((name, program));
            }
        }
    }

    /// The number of names.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Forgets every name.
    pub fn clear(&mut self) {
        self.table.clear();
    }
}
