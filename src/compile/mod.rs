//! The compiler: a [`CheckedPolicy`] becomes a [`Index`].
//!
//! Role inheritance and scope implication are closed here, conditions become small
//! trees over ids, facts about the principal alone (client and claim tests) become
//! numbered atoms decided once per token, and names are indexed per kind.

mod condition;
mod names;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ahash::AHashMap;
use smallvec::SmallVec;

use crate::ast::{Effect, Kind};
use crate::check::{Body, CheckedPolicy, Subjects};
use crate::ids::{Bits, RoleId, ScopeId, StatementId};
use crate::index::{
    CompiledBody, CompiledStatement, DenySpelling, Entry, Index, RoleIndex, RuleSite, ScopeIndex,
    SubjectSet,
};
use crate::source::Sources;

pub(crate) use names::{build_class, kind_index, matching};

/// Compiles a checked policy read from `sources` into a decision table.
pub fn compile(sources: &Sources, policy: &CheckedPolicy) -> Index {
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);
    let mut conditions = condition::Compiler::new(policy);
    let statements: Vec<CompiledStatement> = policy
        .statements
        .iter()
        .enumerate()
        .map(|(index, statement)| {
            let body = match &statement.body {
                Body::Requirement { scopes } => {
                    CompiledBody::Requirement(scopes.iter().copied().collect())
                }
                Body::Rule {
                    effect,
                    subjects,
                    condition,
                } => {
                    let entry = Entry {
                        statement: StatementId::from_index(index),
                        subjects: subject_set(subjects),
                        condition: condition.as_ref().map(|c| conditions.add(c, *effect)),
                    };
                    match effect {
                        Effect::Allow => CompiledBody::Allow(entry),
                        Effect::Deny => CompiledBody::Deny(entry),
                    }
                }
            };
            CompiledStatement {
                list: statement.actions.list,
                use_: statement.actions.use_,
                body,
            }
        })
        .collect();
    let kinds = Kind::ALL.map(|kind| names::index_kind(policy, &statements, kind));
    let (principal_atoms, arg_tests, conditions) = conditions.finish();
    Index {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        sites: sites(sources, policy),
        statements,
        roles: role_index(policy),
        scopes: scope_index(policy),
        claims: policy.claims.clone(),
        principal_atoms,
        arg_tests,
        conditions,
        networks: policy.networks.clone(),
        windows: policy.windows.clone(),
        kinds,
        deny_spellings: Kind::ALL.map(|kind| deny_spellings(policy, kind)),
    }
}

/// The patterns of `kind`'s deny rules on its use action, written and case-folded.
fn deny_spellings(policy: &CheckedPolicy, kind: Kind) -> Vec<DenySpelling> {
    // A folded pattern has the characters and wildcards of the written one, which
    // passed the policy's limits when it was parsed.
    let unbounded = crate::limits::Limits {
        pattern_chars: usize::MAX,
        pattern_wildcards: usize::MAX,
        ..crate::limits::Limits::default()
    };
    let mut spellings = Vec::new();
    for (index, statement) in policy.statements.iter().enumerate() {
        let denies = matches!(
            statement.body,
            Body::Rule {
                effect: Effect::Deny,
                ..
            }
        );
        if statement.kind != kind || !denies || !statement.actions.use_ {
            continue;
        }
        for (written, _) in &statement.patterns {
            let folded = crate::fold::fold(written.as_str());
            let Ok(folded_glob) = crate::glob::Glob::parse_within(&folded, &unbounded) else {
                continue;
            };
            spellings.push(DenySpelling {
                changed: folded != written.as_str(),
                written: written.clone(),
                folded: folded_glob,
                statement: StatementId::from_index(index),
            });
        }
    }
    spellings
}

fn subject_set(subjects: &Subjects) -> SubjectSet {
    match subjects {
        Subjects::Anyone => SubjectSet::Anyone,
        Subjects::Roles(roles) => SubjectSet::Roles(roles.iter().copied().collect()),
    }
}

fn sites(sources: &Sources, policy: &CheckedPolicy) -> Vec<RuleSite> {
    let files: Vec<Arc<str>> = sources
        .iter()
        .map(|(_, file)| Arc::from(file.name()))
        .collect();
    policy
        .statements
        .iter()
        .map(|statement| RuleSite {
            file: files
                .get(statement.span.source.0 as usize)
                .cloned()
                .unwrap_or_else(|| Arc::from("<unknown>")),
            line: sources.location(statement.span).start.line,
            span: statement.span,
            argument_paths: statement
                .argument_paths()
                .into_iter()
                .map(Box::from)
                .collect(),
        })
        .collect()
}

fn role_index(policy: &CheckedPolicy) -> RoleIndex {
    let mut by_value: AHashMap<Box<str>, SmallVec<[RoleId; 2]>> = AHashMap::new();
    for (index, role) in policy.roles.iter().enumerate() {
        let id = RoleId::from_index(index);
        for value in role.values() {
            let granted = by_value.entry(value.into()).or_default();
            if !granted.contains(&id) {
                granted.push(id);
            }
        }
    }
    RoleIndex {
        names: policy
            .roles
            .iter()
            .map(|role| role.name.as_str().into())
            .collect(),
        by_value,
        closure: bit_sets(policy.role_closures(), policy.roles.len(), RoleId::index),
    }
}

fn scope_index(policy: &CheckedPolicy) -> ScopeIndex {
    ScopeIndex {
        names: policy
            .scopes
            .iter()
            .map(|scope| scope.name.as_str().into())
            .collect(),
        by_name: policy
            .scopes
            .iter()
            .enumerate()
            .map(|(index, scope)| (scope.name.as_str().into(), ScopeId::from_index(index)))
            .collect(),
        closure: bit_sets(policy.scope_closures(), policy.scopes.len(), ScopeId::index),
    }
}

/// Each closure as a bit set of ids below `count`.
fn bit_sets<I: Copy>(closures: Vec<Vec<I>>, count: usize, index: fn(I) -> usize) -> Vec<Bits> {
    closures
        .iter()
        .map(|reached| {
            let mut bits = Bits::with_capacity(count);
            reached.iter().for_each(|id| bits.insert(index(*id)));
            bits
        })
        .collect()
}
