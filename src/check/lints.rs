//! Warnings that need the resolved policy: W003 redundant rules, W004 allows a deny always
//! overrides, W006/W007 against a tool list, W008 allow-everything-to-anyone.
//!
//! Rule coverage is decided on the patterns' languages (glob inclusion), not on their
//! text. Candidates are found through an index of literal pattern prefixes, so that a
//! policy of thousands of rules is linted in near-linear time. Patterns that start with
//! a wildcard are candidates for every rule, so the coverage lint has a budget of its
//! own: [`MAX_COVERAGE_PAIRS`] pairs of rules and [`RELATION_WORK`] units of pattern
//! relation work. Past it the remaining rules get no W003 or W004 (warnings only: what
//! the policy decides does not depend on them), so a hostile policy cannot make
//! checking take unbounded time.

use std::cell::Cell;

use ahash::{AHashMap, AHashSet};

use super::{Body, CheckedPolicy, CondKind, Config, Statement, Subjects};
use crate::ast::{Effect, Kind};
use crate::diagnostic::{Code, Diagnostic};
use crate::glob::{Glob, RelationBudget, Shape};
use crate::ids::{Bits, RoleId};

/// The most pairs of rules the coverage lint (W003, W004) compares.
pub(crate) const MAX_COVERAGE_PAIRS: usize = 4_000_000;

/// The pattern relation work the coverage lint may spend (see [`RelationBudget`]): about
/// a second.
pub(crate) const RELATION_WORK: usize = 1 << 28;

/// Runs every lint of the resolved policy.
pub fn lint(policy: &CheckedPolicy, config: &Config<'_>) -> Vec<Diagnostic> {
    let linter = Linter::new(policy);
    let mut found = Vec::new();
    linter.coverage(&mut found);
    linter.allow_everything(&mut found);
    if let Some(manifest) = config.tools {
        let names: Vec<&str> = manifest
            .tools
            .iter()
            .map(|tool| tool.name.as_str())
            .collect();
        linter.unmatched_patterns(&names, &mut found);
        found.extend(super::schema::undeclared_arguments(
            policy.statements.as_slice(),
            manifest,
        ));
        for tool in &manifest.tools {
            let name = &tool.name;
            if !linter.callable(name) {
                found.push(
                    Diagnostic::new(
                        Code::W007,
                        tool.span,
                        format!("no principal can call tool `{name}`"),
                    )
                    .with_help("allow some role to call it, or remove it from the server"),
                );
            }
        }
    }
    found
}

struct Linter<'p> {
    statements: &'p [Statement],
    rules: Vec<RuleView<'p>>,
    /// Rule indexes by the literal prefix of one of their patterns.
    by_prefix: AHashMap<&'p str, Vec<usize>>,
    ancestors: Vec<Bits>,
    /// Pairs of rules the coverage lint may still compare.
    pairs_left: Cell<usize>,
    /// Pattern relation work the coverage lint may still spend.
    relations: RelationBudget,
}

struct RuleView<'p> {
    statement: &'p Statement,
    effect: Effect,
    subjects: &'p Subjects,
    unconditional: bool,
    never: bool,
}

impl<'p> Linter<'p> {
    fn new(policy: &'p CheckedPolicy) -> Linter<'p> {
        let rules: Vec<RuleView<'p>> = policy
            .statements
            .iter()
            .filter_map(|statement| match &statement.body {
                Body::Rule {
                    effect,
                    subjects,
                    condition,
                } => Some(RuleView {
                    statement,
                    effect: *effect,
                    subjects,
                    unconditional: condition.is_none(),
                    never: matches!(condition, Some(c) if matches!(c.kind, CondKind::Const(false))),
                }),
                Body::Requirement { .. } => None,
            })
            .collect();
        let mut by_prefix: AHashMap<&str, Vec<usize>> = AHashMap::new();
        for (index, rule) in rules.iter().enumerate() {
            for (glob, _) in &rule.statement.patterns {
                let entry = by_prefix.entry(literal_prefix(glob.as_str())).or_default();
                if entry.last() != Some(&index) {
                    entry.push(index);
                }
            }
        }
        Linter {
            statements: &policy.statements,
            rules,
            by_prefix,
            ancestors: ancestors(policy),
            pairs_left: Cell::new(MAX_COVERAGE_PAIRS),
            relations: RelationBudget::new(RELATION_WORK),
        }
    }

    /// Rules that might cover `inner`: those with a pattern whose literal prefix is a
    /// prefix of the literal prefix of `inner`'s first pattern.
    fn candidates(&self, inner: &RuleView<'_>) -> Vec<usize> {
        let Some((first, _)) = inner.statement.patterns.first() else {
            return Vec::new();
        };
        let prefix = literal_prefix(first.as_str());
        let mut found: Vec<usize> = prefix
            .char_indices()
            .map(|(at, _)| at)
            .chain([prefix.len()])
            .filter_map(|at| prefix.get(..at))
            .filter_map(|part| self.by_prefix.get(part))
            .flatten()
            .copied()
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Whether `outer` matches every request `inner` matches (subjects, actions, names).
    fn covers(&self, outer: &RuleView<'_>, inner: &RuleView<'_>) -> bool {
        let (o, i) = (outer.statement, inner.statement);
        o.kind == i.kind
            && o.actions.covers(i.actions)
            && self.subjects_cover(outer.subjects, inner.subjects)
            && patterns_cover(&o.patterns, &i.patterns, &self.relations)
    }

    /// Counts one more pair compared; false once the budget is spent.
    fn another_pair(&self) -> bool {
        let left = self.pairs_left.get();
        self.pairs_left.set(left.saturating_sub(1));
        left > 0 && !self.relations.is_spent()
    }

    fn subjects_cover(&self, outer: &Subjects, inner: &Subjects) -> bool {
        match (outer, inner) {
            (Subjects::Anyone, _) => true,
            (Subjects::Roles(_), Subjects::Anyone) => false,
            (Subjects::Roles(outer), Subjects::Roles(inner)) => inner.iter().all(|role| {
                self.ancestors
                    .get(role.index())
                    .is_some_and(|up| outer.iter().any(|o| up.contains(o.index())))
            }),
        }
    }

    fn coverage(&self, found: &mut Vec<Diagnostic>) {
        for (index, inner) in self.rules.iter().enumerate() {
            if !self.another_pair() {
                return;
            }
            let candidates = self.candidates(inner);
            let covering = |effect: Effect| {
                candidates.iter().copied().find(|&other| {
                    self.rules.get(other).is_some_and(|outer| {
                        other != index
                            && outer.effect == effect
                            && self.another_pair()
                            && outer.unconditional
                            && self.covers(outer, inner)
                            && !(inner.unconditional && other > index && self.covers(inner, outer))
                    })
                })
            };
            let deny = match inner.effect {
                Effect::Allow => covering(Effect::Deny).and_then(|i| self.rules.get(i)),
                Effect::Deny => None,
            };
            if let Some(deny) = deny {
                found.push(overridden(inner, deny));
            } else if let Some(outer) = covering(inner.effect).and_then(|i| self.rules.get(i)) {
                found.push(redundant(inner, outer));
            }
        }
    }

    fn allow_everything(&self, found: &mut Vec<Diagnostic>) {
        for rule in &self.rules {
            let everyone = matches!(rule.subjects, Subjects::Anyone);
            if rule.effect != Effect::Allow || !everyone || !rule.unconditional {
                continue;
            }
            if let Some((_, span)) = rule
                .statement
                .patterns
                .iter()
                .find(|(g, _)| g.is_universal())
            {
                found.push(
                    Diagnostic::new(
                        Code::W008,
                        *span,
                        format!(
                            "`anyone` may {} every {}",
                            action_words(rule.statement),
                            rule.statement.kind.singular()
                        ),
                    )
                    .with_primary_label("matches every name")
                    .with_help("name the roles, narrow the pattern, or add a condition"),
                );
            }
        }
    }

    fn unmatched_patterns(&self, names: &[&str], found: &mut Vec<Diagnostic>) {
        let literal: AHashSet<&str> = names.iter().copied().collect();
        let mut reported = AHashSet::new();
        for statement in self.statements {
            for (glob, span) in &statement.patterns {
                if statement.kind != Kind::Tool || !reported.insert(*span) {
                    continue;
                }
                let matches = match glob.shape() {
                    Shape::Literal(text) => literal.contains(text.as_str()),
                    _ => names.iter().any(|name| glob.is_match(name)),
                };
                if !matches {
                    found.push(
                        Diagnostic::new(
                            Code::W006,
                            *span,
                            format!("pattern `{}` matches no tool of the list", glob.as_str()),
                        )
                        .with_help("check the spelling against the server's `tools/list`"),
                    );
                }
            }
        }
    }

    /// Whether some principal could be allowed to call `name`: an allow that can hold,
    /// not overridden for all its subjects by an unconditional deny.
    fn callable(&self, name: &str) -> bool {
        let matching = |rule: &&RuleView<'_>| {
            rule.statement.kind == Kind::Tool
                && rule.statement.actions.use_
                && rule
                    .statement
                    .patterns
                    .iter()
                    .any(|(g, _)| g.is_match(name))
        };
        let denies: Vec<&RuleView<'_>> = self
            .rules
            .iter()
            .filter(|rule| rule.effect == Effect::Deny && rule.unconditional)
            .filter(matching)
            .collect();
        self.rules
            .iter()
            .filter(|rule| rule.effect == Effect::Allow && !rule.never)
            .filter(matching)
            .any(|allow| {
                !denies
                    .iter()
                    .any(|deny| self.subjects_cover(deny.subjects, allow.subjects))
            })
    }
}

fn action_words(statement: &Statement) -> String {
    let use_action = statement.kind.use_action().keyword();
    match (statement.actions.list, statement.actions.use_) {
        (true, true) => format!("list and {use_action}"),
        (true, false) => "list".to_string(),
        _ => use_action.to_string(),
    }
}

fn patterns_cover(
    outer: &[(Glob, crate::source::Span)],
    inner: &[(Glob, crate::source::Span)],
    budget: &RelationBudget,
) -> bool {
    let outer: Vec<&Glob> = outer.iter().map(|(glob, _)| glob).collect();
    inner
        .iter()
        .all(|(glob, _)| Glob::union_includes_within(&outer, glob, budget) == Some(true))
}

fn redundant(inner: &RuleView<'_>, outer: &RuleView<'_>) -> Diagnostic {
    Diagnostic::new(
        Code::W003,
        inner.statement.span,
        format!("this `{}` rule is redundant", inner.effect.keyword()),
    )
    .with_label(
        outer.statement.span,
        "this unconditional rule already covers every request it matches",
    )
    .with_help("remove the redundant rule, or narrow the broader one")
}

fn overridden(allow: &RuleView<'_>, deny: &RuleView<'_>) -> Diagnostic {
    Diagnostic::new(
        Code::W004,
        allow.statement.span,
        "this `allow` rule never takes effect",
    )
    .with_label(
        deny.statement.span,
        "this unconditional `deny` overrides it for every request it matches",
    )
    .with_help("remove the allow, or add a condition to the deny")
}

/// For each role, itself and every role it inherits, transitively, as bit sets (a role
/// graph of `n` roles costs `n * n` bits, not `n * n` hash set entries).
fn ancestors(policy: &CheckedPolicy) -> Vec<Bits> {
    let count = policy.roles.len();
    (0..count)
        .map(|start| {
            let mut seen = Bits::with_capacity(count);
            let mut stack = vec![RoleId::from_index(start)];
            while let Some(role) = stack.pop() {
                if !seen.contains(role.index()) {
                    seen.insert(role.index());
                    if let Some(declared) = policy.roles.get(role.index()) {
                        stack.extend(declared.parents.iter().copied());
                    }
                }
            }
            seen
        })
        .collect()
}

/// The characters of a pattern before its first wildcard, escapes not yet removed; a
/// prefix of the text of every name the pattern matches when it has no escape.
fn literal_prefix(pattern: &str) -> &str {
    let end = pattern.find(['*', '?', '\\']).unwrap_or(pattern.len());
    pattern.get(..end).unwrap_or("")
}
