//! Step-up: the smallest set of scopes that would make a matching allow rule hold.
//!
//! Only scopes the rule's condition names are candidates, and only those the token does
//! not already hold (directly or through an implication). Sets are tried by size, each
//! size in lexicographic order of the sorted names, so the first hit is the smallest and
//! least; an earlier rule keeps a tie. The search stops after [`MAX_TRIES`] hypotheses
//! per rule: past that the decision stays a plain deny (`no_rule`), never an allow.

use smallvec::SmallVec;

use super::{Facts, Scopes, Truth};
use crate::ids::ScopeId;

/// Hypotheses tried per rule at most.
pub(crate) const MAX_TRIES: usize = 4096;

/// The smallest step-up over `allows` (in policy order): the rule, the missing scopes,
/// and with them the held scopes its condition names.
#[inline]
pub(super) fn find<'p, F: Facts>(
    facts: &F,
    allows: &'p [F::Rule],
) -> Option<(&'p F::Rule, Scopes)> {
    let mut best: Option<(&'p F::Rule, Scopes)> = None;
    for rule in allows {
        if !facts.matches(rule) {
            continue;
        }
        let Some(named) = facts.named_scopes(rule) else {
            continue;
        };
        let limit = best.as_ref().map_or(usize::MAX, |(_, found)| {
            found.missing.len().saturating_sub(1)
        });
        if let Some(missing) = smallest(facts, rule, named, limit) {
            let mut required = missing.clone();
            required.extend(named.iter().copied().filter(|scope| facts.held(*scope)));
            best = Some((rule, Scopes { missing, required }));
        }
    }
    best
}

/// The least smallest set (of at most `limit` scopes) of `named` making the rule true.
fn smallest<F: Facts>(
    facts: &F,
    rule: &F::Rule,
    named: &[ScopeId],
    limit: usize,
) -> Option<SmallVec<[ScopeId; 4]>> {
    let candidates: SmallVec<[ScopeId; 8]> = named
        .iter()
        .copied()
        .filter(|scope| !facts.held(*scope))
        .collect();
    let sizes = 1..=candidates.len().min(limit);
    if sizes.is_empty() {
        return None;
    }
    let mut hypothesis = facts.hypothesis();
    let mut tries = 0;
    for size in sizes {
        let mut chosen: SmallVec<[usize; 8]> = (0..size).collect();
        loop {
            tries += 1;
            if tries > MAX_TRIES {
                return None;
            }
            // The first hypothesis starts as the principal's scopes already.
            if tries > 1 {
                facts.reset(&mut hypothesis);
            }
            let scopes = chosen.iter().filter_map(|index| candidates.get(*index));
            for scope in scopes.clone() {
                facts.grant(&mut hypothesis, *scope);
            }
            if facts.truth_with(rule, &hypothesis) == Truth::True {
                return Some(scopes.copied().collect());
            }
            if !next_combination(&mut chosen, candidates.len()) {
                break;
            }
        }
    }
    None
}

/// Advances `chosen` (ascending indexes below `count`) to the next combination in
/// lexicographic order; false after the last.
fn next_combination(chosen: &mut [usize], count: usize) -> bool {
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
