//! Step-up: the smallest set of scopes that would make a matching allow rule hold.
//!
//! Only scopes the rule's condition names are candidates, and only those the token does
//! not already hold (directly or through an implication). Sets are tried by size, each
//! size in lexicographic order of the sorted names, so the first hit is the smallest and
//! least; an earlier rule keeps a tie. The search stops after [`MAX_TRIES`] hypotheses
//! per rule: past that the decision stays a plain deny (`no_rule`), never an allow.

use smallvec::SmallVec;

use super::truth::{Facts, Truth};
use crate::ids::{Bits, ScopeId, StatementId};
use crate::table::{Condition, Entry};

/// Hypotheses tried per rule at most.
pub const MAX_TRIES: usize = 4096;

/// The missing scopes found, and the allow rule they would satisfy.
pub(crate) struct StepUp {
    pub statement: StatementId,
    /// The missing scopes, and with them the held scopes the rule's condition names.
    pub scopes: super::Scopes,
}

/// The smallest step-up over `allows` (in policy order), if any.
pub(crate) fn find(facts: &Facts<'_>, allows: &[Entry]) -> Option<StepUp> {
    let mut best: Option<StepUp> = None;
    for entry in allows {
        if !entry.subjects.matches(facts.roles) {
            continue;
        }
        let Some(condition) = entry
            .condition
            .and_then(|index| facts.table.conditions.get(index as usize))
        else {
            continue;
        };
        let limit = best.as_ref().map_or(usize::MAX, |found| {
            found.scopes.missing.len().saturating_sub(1)
        });
        if let Some(missing) = smallest(facts, condition, limit) {
            let mut required = missing.clone();
            required.extend(
                condition
                    .named_scopes
                    .iter()
                    .copied()
                    .filter(|scope| facts.scopes.contains(scope.index())),
            );
            best = Some(StepUp {
                statement: entry.statement,
                scopes: super::Scopes { missing, required },
            });
        }
    }
    best
}

/// The least smallest set (of at most `limit` scopes) making `condition` true.
fn smallest(
    facts: &Facts<'_>,
    condition: &Condition,
    limit: usize,
) -> Option<SmallVec<[ScopeId; 4]>> {
    let candidates: SmallVec<[ScopeId; 8]> = condition
        .named_scopes
        .iter()
        .copied()
        .filter(|scope| !facts.scopes.contains(scope.index()))
        .collect();
    let mut tries = 0;
    for size in 1..=candidates.len().min(limit) {
        let mut chosen: SmallVec<[usize; 8]> = (0..size).collect();
        loop {
            tries += 1;
            if tries > MAX_TRIES {
                return None;
            }
            if holds_with(facts, condition, &candidates, &chosen) {
                return Some(
                    chosen
                        .iter()
                        .filter_map(|i| candidates.get(*i))
                        .copied()
                        .collect(),
                );
            }
            if !next_combination(&mut chosen, candidates.len()) {
                break;
            }
        }
    }
    None
}

fn holds_with(
    facts: &Facts<'_>,
    condition: &Condition,
    candidates: &[ScopeId],
    chosen: &[usize],
) -> bool {
    let mut scopes: Bits = facts.scopes.clone();
    for scope in chosen.iter().filter_map(|index| candidates.get(*index)) {
        if let Some(closure) = facts.table.scopes.closure.get(scope.index()) {
            scopes.union_with(closure);
        }
    }
    facts.truth(&condition.root, &scopes) == Truth::True
}

/// Advances `chosen` (ascending indexes below `count`) to the next combination in
/// lexicographic order; false after the last.
pub fn next_combination(chosen: &mut [usize], count: usize) -> bool {
    let size = chosen.len();
    for position in (0..size).rev() {
        let ceiling = count - (size - position);
        let Some(value) = chosen.get(position).copied() else {
            return false;
        };
        if value < ceiling {
            for (offset, slot) in chosen.iter_mut().skip(position).enumerate() {
                *slot = value + 1 + offset;
            }
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::next_combination;

    #[test]
    fn combinations_in_lexicographic_order() {
        let mut chosen = vec![0, 1];
        let mut seen = vec![chosen.clone()];
        while next_combination(&mut chosen, 4) {
            seen.push(chosen.clone());
        }
        assert_eq!(
            seen,
            vec![
                vec![0, 1],
                vec![0, 2],
                vec![0, 3],
                vec![1, 2],
                vec![1, 3],
                vec![2, 3]
            ]
        );
    }
}
