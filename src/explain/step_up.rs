//! Step-up: the smallest set of scopes that would make a matching allow rule hold,
//! searched as the engine searches it (by size, then lexicographically, at most
//! [`STEP_UP_MAX_TRIES`] sets per rule; an earlier rule keeps a tie).

use crate::ast::Effect;
use crate::check::{Body, Cond, Statement};
use crate::eval::next_combination;
use crate::eval::{Truth, STEP_UP_MAX_TRIES};

use super::condition::Context;
use super::{StatementExplanation, Status};

/// The smallest step-up over the allow rules whose subject matches, in policy order:
/// the rule and the sorted scope names.
pub(super) fn find(
    context: &Context<'_, '_>,
    matching: &[(usize, &Statement, String)],
    statements: &[StatementExplanation],
) -> Option<(usize, Vec<String>)> {
    let mut best: Option<(usize, Vec<usize>)> = None;
    for ((index, statement, _), explained) in matching.iter().zip(statements) {
        let Body::Rule {
            effect: Effect::Allow,
            condition: Some(condition),
            ..
        } = &statement.body
        else {
            continue;
        };
        if explained.status == Status::NotForPrincipal {
            continue;
        }
        let limit = best
            .as_ref()
            .map_or(usize::MAX, |(_, scopes)| scopes.len().saturating_sub(1));
        if let Some(scopes) = smallest(context, condition, limit) {
            best = Some((*index, scopes));
        }
    }
    let (index, scopes) = best?;
    let mut names: Vec<String> = scopes
        .iter()
        .map(|scope| context.explainer.scope_name(*scope))
        .collect();
    names.sort_unstable();
    Some((index, names))
}

/// The least smallest set (of at most `limit` scopes) of the scopes `condition`
/// names and the principal lacks that makes it true; the search gives up after
/// [`STEP_UP_MAX_TRIES`] sets, as the engine's does.
fn smallest(context: &Context<'_, '_>, condition: &Cond, limit: usize) -> Option<Vec<usize>> {
    let explainer = context.explainer;
    let mut named = Vec::new();
    condition.scopes_named(&mut named);
    let mut candidates: Vec<usize> = named
        .iter()
        .map(|scope| scope.index())
        .filter(|scope| {
            !context
                .principal
                .scopes
                .get(*scope)
                .copied()
                .unwrap_or(false)
        })
        .collect();
    candidates.sort_by_key(|scope| explainer.scope_name(*scope));
    let mut tries = 0;
    for size in 1..=candidates.len().min(limit) {
        let mut chosen: Vec<usize> = (0..size).collect();
        loop {
            tries += 1;
            if tries > STEP_UP_MAX_TRIES {
                return None;
            }
            let set: Vec<usize> = chosen
                .iter()
                .filter_map(|at| candidates.get(*at).copied())
                .collect();
            if context.truth(condition, &with_scopes(context, &set)) == Truth::True {
                return Some(set);
            }
            if !next_combination(&mut chosen, candidates.len()) {
                break;
            }
        }
    }
    None
}

/// The principal's effective scopes with `added` and everything they imply.
pub(super) fn with_scopes(context: &Context<'_, '_>, added: &[usize]) -> Vec<bool> {
    let mut scopes = context.principal.scopes.clone();
    let closure = &context.explainer.scope_closure;
    for scope in added
        .iter()
        .filter_map(|scope| closure.get(*scope))
        .flatten()
    {
        if let Some(flag) = scopes.get_mut(*scope) {
            *flag = true;
        }
    }
    scopes
}
