//! The exhaustive symbolic evaluator: every assignment of a cell's [`Space`] through the
//! decision procedure of [`super::decide`].

use super::decide::Decider;
use super::node::Env;
use super::program::Program;
use super::space::{Slots, Space};

/// The programs of one cell.
#[derive(Debug, Clone)]
pub(crate) struct Programs {
    /// The use action's program.
    pub use_: Program,
    /// For a `list` cell, the `list` program (listing follows use).
    pub list: Option<Program>,
}

impl Programs {
    /// Whether the cell allows in `env`.
    pub fn allows(&self, decider: Decider<'_>, env: &Env<'_>) -> bool {
        match &self.list {
            Some(list) => decider.allows_list(list, &self.use_, env),
            None => decider.allows_use(&self.use_, env),
        }
    }

    /// Every program of the cell, `list` first.
    pub fn each(&self) -> impl Iterator<Item = &Program> {
        self.list.iter().chain(std::iter::once(&self.use_))
    }
}

/// What the enumeration found.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tally {
    /// The choices (per dimension, see [`Space::radices`]) of the first assignment that
    /// allows.
    pub allow: Option<Vec<usize>>,
    /// The choices of the first assignment that denies.
    pub deny: Option<Vec<usize>>,
    /// Whether some assignment without an address allows.
    pub allows_without_address: bool,
    /// The number of assignments tried.
    pub assignments: usize,
}

/// Runs every assignment of `space` through the cell's programs.
pub(crate) fn enumerate(
    programs: &Programs,
    slots: &Slots,
    space: &Space,
    decider: Decider<'_>,
    scope_count: usize,
) -> Tally {
    let radices = space.radices();
    let mut tally = Tally::default();
    if radices.contains(&0) {
        return tally;
    }
    let mut choices = vec![0usize; radices.len()];
    let mut scopes = vec![false; scope_count];
    let mut principal = vec![Some(false); slots.principal.len()];
    loop {
        fill(space, slots, &choices, &mut scopes, &mut principal);
        let ip = choices
            .get(radices.len() - 2)
            .and_then(|choice| space.ip.get(*choice));
        let time = choices
            .last()
            .and_then(|choice| space.time.get(*choice))
            .map_or(&[][..], |(_, values)| values.as_slice());
        let env = Env {
            scopes: &scopes,
            principal: &principal,
            ip: ip.and_then(|state| state.values.as_deref()),
            time,
        };
        let allowed = programs.allows(decider, &env);
        tally.assignments += 1;
        if allowed {
            tally.allow.get_or_insert_with(|| choices.clone());
            if env.ip.is_none() {
                tally.allows_without_address = true;
            }
        } else {
            tally.deny.get_or_insert_with(|| choices.clone());
        }
        if !advance(&mut choices, &radices) {
            return tally;
        }
    }
}

/// Sets the scope and principal values of the chosen states.
fn fill(
    space: &Space,
    slots: &Slots,
    choices: &[usize],
    scopes: &mut [bool],
    principal: &mut [Option<bool>],
) {
    for scope in &slots.scopes {
        if let Some(slot) = scopes.get_mut(scope.index()) {
            *slot = false;
        }
    }
    let held = choices.first().and_then(|choice| space.scopes.get(*choice));
    for scope in held.into_iter().flatten() {
        if let Some(slot) = scopes.get_mut(scope.index()) {
            *slot = true;
        }
    }
    for (group, choice) in space.groups.iter().zip(choices.iter().skip(1)) {
        let Some((_, values)) = group.states.get(*choice) else {
            continue;
        };
        for (slot, value) in group.slots.iter().zip(values) {
            if let Some(target) = principal.get_mut(*slot) {
                *target = *value;
            }
        }
    }
}

/// The next choice vector (mixed radix, first digit fastest); false after the last.
fn advance(choices: &mut [usize], radices: &[usize]) -> bool {
    for (choice, radix) in choices.iter_mut().zip(radices) {
        *choice += 1;
        if *choice < *radix {
            return true;
        }
        *choice = 0;
    }
    false
}
