//! Name indexes: which patterns of a kind match a name, and the program of a class.
//!
//! Literal patterns are looked up in a hash map, `prefix*` and `*suffix` patterns by
//! hashing the name's prefixes and suffixes of the lengths that occur, patterns of only
//! stars always match, and the remaining globs are tried one by one. Names written
//! literally in the policy get their program at compile time (within a budget; the
//! others get theirs on first use).

use std::sync::Arc;

use ahash::AHashMap;
use smallvec::SmallVec;

use crate::ast::Kind;
use crate::check::CheckedPolicy;
use crate::glob::{Glob, Shape};
use crate::ids::{PatternId, StatementId};
use crate::index::{
    ClassProgram, CompiledBody, CompiledStatement, NameIndex, Program, RequirementStep,
};

/// The position of a kind in per-kind arrays.
pub(crate) fn kind_index(kind: Kind) -> usize {
    match kind {
        Kind::Tool => 0,
        Kind::Resource => 1,
        Kind::Prompt => 2,
    }
}

/// The patterns matching a name, ascending and without repeats.
pub(crate) type PatternSet = SmallVec<[PatternId; 8]>;

/// Builds the index of one kind.
pub(super) fn index_kind(
    policy: &CheckedPolicy,
    statements: &[CompiledStatement],
    kind: Kind,
) -> NameIndex {
    let mut index = NameIndex::default();
    let mut ids: AHashMap<&Glob, PatternId> = AHashMap::new();
    for (number, statement) in policy.statements.iter().enumerate() {
        if statement.kind != kind {
            continue;
        }
        for (glob, _) in &statement.patterns {
            let next = PatternId::from_index(ids.len());
            let id = *ids.entry(glob).or_insert(next);
            if id == next {
                index.statements_by_pattern.push(SmallVec::new());
                add_pattern(&mut index, glob, id);
            }
            if let Some(list) = index.statements_by_pattern.get_mut(id.index()) {
                let statement = StatementId::from_index(number);
                if list.last() != Some(&statement) {
                    list.push(statement);
                }
            }
        }
    }
    index.prefix_lengths.sort_unstable();
    index.prefix_lengths.dedup();
    index.suffix_lengths.sort_unstable();
    index.suffix_lengths.dedup();
    precompute_literals(&mut index, statements);
    index
}

fn add_pattern(index: &mut NameIndex, glob: &Glob, id: PatternId) {
    match glob.shape() {
        Shape::Literal(text) => {
            index.literal.entry(text.into()).or_default().push(id);
        }
        Shape::Prefix(prefix) => {
            index.prefix_lengths.push(prefix.len());
            index.prefixes.entry(prefix.into()).or_default().push(id);
        }
        Shape::Suffix(suffix) => {
            index.suffix_lengths.push(suffix.len());
            index.suffixes.entry(suffix.into()).or_default().push(id);
        }
        Shape::Universal => index.universal.push(id),
        Shape::General => index.general.push((id, glob.clone())),
    }
}

/// The most general patterns times literal names [`precompute_literals`] matches: past
/// it the remaining literal names are left to the engine's memo, which finds the same
/// programs on first use, so a policy of many names and many general patterns still
/// compiles in bounded time.
const MAX_PRECOMPUTE_MATCHES: usize = 1 << 22;

/// Builds the programs of the names written literally in the policy, within
/// [`MAX_PRECOMPUTE_MATCHES`].
fn precompute_literals(index: &mut NameIndex, statements: &[CompiledStatement]) {
    let per_name = index.general.len().max(1);
    let most = MAX_PRECOMPUTE_MATCHES / per_name;
    let names: Vec<Box<str>> = index.literal.keys().take(most).cloned().collect();
    for name in names {
        let patterns = matching(index, &name);
        let program = class(index, statements, patterns);
        let hash = index.hasher.hash_one(&*name);
        index.exact.insert(&index.hasher, hash, name, program);
    }
}

/// The interned program of a pattern set, built on first use (compile time only).
fn class(
    index: &mut NameIndex,
    statements: &[CompiledStatement],
    patterns: PatternSet,
) -> Arc<ClassProgram> {
    if let Some(program) = index.classes.get(patterns.as_slice()) {
        return program.clone();
    }
    let program = Arc::new(build_class(index, statements, &patterns));
    index
        .classes
        .insert(patterns.into_vec().into_boxed_slice(), program.clone());
    program
}

/// The patterns of `index` that match `name`.
pub(crate) fn matching(index: &NameIndex, name: &str) -> PatternSet {
    let mut found = PatternSet::new();
    if let Some(ids) = index.literal.get(name) {
        found.extend(ids.iter().copied());
    }
    for length in &index.prefix_lengths {
        if let Some(ids) = name
            .get(..*length)
            .and_then(|part| index.prefixes.get(part))
        {
            found.extend(ids.iter().copied());
        }
    }
    for length in &index.suffix_lengths {
        let start = name.len().wrapping_sub(*length);
        if let Some(ids) = name.get(start..).and_then(|part| index.suffixes.get(part)) {
            found.extend(ids.iter().copied());
        }
    }
    found.extend(index.universal.iter().copied());
    for (id, glob) in &index.general {
        if glob.is_match(name) {
            found.push(*id);
        }
    }
    found.sort_unstable();
    found.dedup();
    found
}

/// The program of the names matched by exactly `patterns`.
pub(crate) fn build_class(
    index: &NameIndex,
    statements: &[CompiledStatement],
    patterns: &[PatternId],
) -> ClassProgram {
    let mut matched: Vec<StatementId> = patterns
        .iter()
        .filter_map(|pattern| index.statements_by_pattern.get(pattern.index()))
        .flatten()
        .copied()
        .collect();
    matched.sort_unstable();
    matched.dedup();
    ClassProgram {
        list: program(statements, &matched, |s| s.list),
        use_: program(statements, &matched, |s| s.use_),
    }
}

fn program(
    statements: &[CompiledStatement],
    matched: &[StatementId],
    has_action: impl Fn(&CompiledStatement) -> bool,
) -> Program {
    let mut denies = Vec::new();
    let mut requirements = Vec::new();
    let mut allows = Vec::new();
    for id in matched {
        let Some(statement) = statements.get(id.index()).filter(|s| has_action(s)) else {
            continue;
        };
        match &statement.body {
            CompiledBody::Deny(entry) => denies.push(entry.clone()),
            CompiledBody::Allow(entry) => allows.push(entry.clone()),
            CompiledBody::Requirement(scopes) => requirements.push(RequirementStep {
                statement: *id,
                scopes: scopes.clone(),
            }),
        }
    }
    Program {
        denies: denies.into_boxed_slice(),
        requirements: requirements.into_boxed_slice(),
        allows: allows.into_boxed_slice(),
    }
}
