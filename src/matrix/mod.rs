//! The roles x names decision matrix of a checked policy (`toolgate table`).
//!
//! A row per declared role, after a row for `anyone` (a principal with no role); a
//! column per name (the tools of a server's `tools/list`); per row and name a cell for
//! the kind's use action (`call`) and one for `list`. A cell says what the policy
//! decides for a principal whose effective roles are exactly the row's role and what it
//! inherits, as everything else about the request varies: the scopes held, the claims,
//! the client id, the address (present or not) and the time.
//!
//! - [`Verdict::Allow`]: every request allows; [`Verdict::Deny`]: every request denies;
//! - [`Verdict::Conditional`]: some allow and some deny; the cell's condition says, in
//!   words taken from the deciding statements, what it takes to be allowed.
//!
//! The verdict comes from an exhaustive symbolic evaluation: the statements matching
//! the cell are collected and their conditions simplified for the row's roles
//! (`program`); the atoms left — scopes, client and claim tests, networks, windows and
//! instants — are given every combination a request can produce (`space`, with
//! `network` and `clock` finding the address and time combinations); and each
//! assignment runs through the one decision procedure (`crate::decide`, with the
//! facts of `decide` and the enumeration of `evaluate`). Cells
//! with more than [`Config::limit`] assignments are reported conditional (unless a
//! deny always applies) without enumeration.

mod clock;
mod decide;
mod evaluate;
mod network;
mod node;
mod probe;
mod program;
pub mod render;
mod space;
mod witness;
mod words;

use std::net::IpAddr;

use crate::ast::{Action, Kind};
use crate::check::CheckedPolicy;
use crate::ids::RoleId;
use crate::source::Sources;

use decide::{Closure, Decider};
use evaluate::{Programs, Tally};
use node::ArgumentsTaken;
use program::{Program, Target};
use space::{Facts, Slots, Space};

pub use probe::{joint_addresses, joint_times, Fact, Probe, Samples};
pub use witness::Context;

/// Assignments enumerated per cell at most, by default (2^14).
pub const DEFAULT_LIMIT: usize = 1 << 14;

/// How the matrix is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The kind of names in the columns.
    pub kind: Kind,
    /// Assignments enumerated per cell at most; past it a cell is reported conditional.
    pub limit: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            kind: Kind::Tool,
            limit: DEFAULT_LIMIT,
        }
    }
}

/// The decision matrix.
#[derive(Debug, Clone)]
pub struct Matrix {
    /// The kind of names in the columns.
    pub kind: Kind,
    /// The rows: `anyone`, then every declared role in declaration order.
    pub roles: Vec<Row>,
    /// The columns, in the order given.
    pub names: Vec<String>,
    /// Per row, per name: the use action's cell, then `list`'s.
    pub cells: Vec<Cell>,
}

/// A row: `anyone` or a declared role.
#[derive(Debug, Clone)]
pub struct Row {
    /// The role's name, or `anyone`.
    pub name: String,
    /// The role (none for `anyone`).
    pub role: Option<RoleId>,
    /// The effective roles: the role and every role it inherits, in declaration order.
    pub effective_roles: Vec<String>,
    /// A claim value granting exactly this role (its name or an `aka`), if there is one.
    pub claim_value: Option<String>,
}

impl Row {
    /// The roles this row's role inherits (its effective roles but itself).
    pub fn inherited(&self) -> Vec<&str> {
        self.effective_roles
            .iter()
            .filter(|name| **name != self.name)
            .map(String::as_str)
            .collect()
    }
}

/// What a cell says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Every request allows.
    Allow,
    /// Every request denies.
    Deny,
    /// Some requests allow and some deny.
    Conditional,
}

impl Verdict {
    /// `allow`, `deny` or `conditional`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
            Verdict::Conditional => "conditional",
        }
    }
}

/// One cell: a row, a name and an action.
#[derive(Debug, Clone)]
pub struct Cell {
    /// The row's index in [`Matrix::roles`].
    pub role: usize,
    /// The name's index in [`Matrix::names`].
    pub name: usize,
    /// `list` or the kind's use action.
    pub action: Action,
    /// Allow, deny or conditional.
    pub verdict: Verdict,
    /// For a conditional cell, what it takes to be allowed; otherwise empty.
    pub condition: String,
    /// `FILE:LINE` of every statement matching the cell (simplified conditions not
    /// false for the row), in policy order.
    pub rules: Vec<String>,
    /// Whether every assignment was enumerated (false past [`Config::limit`]).
    pub exhaustive: bool,
    /// The number of assignments enumerated.
    pub assignments: usize,
    /// A request the cell allows, when one was found and can be written as claims.
    pub allow_example: Option<Context>,
    /// A request the cell denies, when one was found and can be written as claims.
    pub deny_example: Option<Context>,
}

impl Matrix {
    /// The cell of a row, a name and an action.
    pub fn cell(&self, role: usize, name: usize, action: Action) -> Option<&Cell> {
        let index = (role * self.names.len() + name) * 2 + usize::from(action == Action::List);
        self.cells.get(index).filter(|cell| cell.action == action)
    }
}

/// The policy-wide parts every cell is evaluated with.
struct Shared<'a> {
    policy: &'a CheckedPolicy,
    sources: &'a Sources,
    closure: Closure,
    ip: Vec<(IpAddr, Vec<bool>)>,
    time: clock::TimeStates,
    config: Config,
}

/// The matrix of `policy` (read from `sources`) over `names`.
pub fn build(
    sources: &Sources,
    policy: &CheckedPolicy,
    names: &[String],
    config: &Config,
) -> Matrix {
    let shared = Shared {
        policy,
        sources,
        closure: Closure::new(policy),
        ip: network::ip_states(policy),
        time: clock::TimeStates::new(policy),
        config: *config,
    };
    let closures = policy.role_closures();
    let roles = rows(policy, &closures);
    let mut cells = Vec::with_capacity(roles.len() * names.len() * 2);
    for (role_index, row) in roles.iter().enumerate() {
        let effective = effective_roles(policy, &closures, row.role);
        for (name_index, name) in names.iter().enumerate() {
            for action in [config.kind.use_action(), Action::List] {
                let mut cell = shared.cell(row, &effective, name, action);
                cell.role = role_index;
                cell.name = name_index;
                cells.push(cell);
            }
        }
    }
    Matrix {
        kind: config.kind,
        roles,
        names: names.to_vec(),
        cells,
    }
}

/// `anyone`, then each declared role.
fn rows(policy: &CheckedPolicy, closures: &[Vec<RoleId>]) -> Vec<Row> {
    let mut rows = vec![Row {
        name: "anyone".to_string(),
        role: None,
        effective_roles: Vec::new(),
        claim_value: None,
    }];
    for (index, role) in policy.roles.iter().enumerate() {
        let id = RoleId::from_index(index);
        let effective = effective_roles(policy, closures, Some(id));
        let effective_roles = policy
            .roles
            .iter()
            .zip(&effective)
            .filter(|(_, held)| **held)
            .map(|(role, _)| role.name.clone())
            .collect();
        rows.push(Row {
            name: role.name.clone(),
            role: Some(id),
            effective_roles,
            claim_value: granting_value(policy, id),
        });
    }
    rows
}

/// The effective roles of a principal granted `role`, by role id (`closures` are the
/// policy's role closures).
fn effective_roles(
    policy: &CheckedPolicy,
    closures: &[Vec<RoleId>],
    role: Option<RoleId>,
) -> Vec<bool> {
    let mut held = vec![false; policy.roles.len()];
    let reached = role.and_then(|role| closures.get(role.index()));
    for role in reached.into_iter().flatten() {
        if let Some(slot) = held.get_mut(role.index()) {
            *slot = true;
        }
    }
    held
}

/// A claim value that grants `role` and no other role: its name or one of its `aka`s.
fn granting_value(policy: &CheckedPolicy, role: RoleId) -> Option<String> {
    let declared = policy.roles.get(role.index())?;
    let grants = |value: &str| -> Vec<usize> {
        policy
            .roles
            .iter()
            .enumerate()
            .filter(|(_, r)| r.name == value || r.aka.iter().any(|aka| aka == value))
            .map(|(index, _)| index)
            .collect()
    };
    std::iter::once(&declared.name)
        .chain(&declared.aka)
        .find(|value| grants(value) == [role.index()])
        .cloned()
}

impl Shared<'_> {
    /// The cell of `row`, `name` and `action`. A `list` cell follows use with the
    /// arguments that favour the caller; a use cell is decided with the least and the
    /// most favourable arguments, and depends on the arguments when the two differ.
    fn cell(&self, row: &Row, roles: &[bool], name: &str, action: Action) -> Cell {
        let favoured = self.cell_with(row, roles, name, action, ArgumentsTaken::Favourable);
        if action == Action::List {
            return favoured;
        }
        let unfavoured = self.cell_with(row, roles, name, action, ArgumentsTaken::Unfavourable);
        if unfavoured.verdict == Verdict::Allow
            || favoured.verdict == Verdict::Deny
            || (unfavoured.verdict == favoured.verdict
                && unfavoured.condition == favoured.condition)
        {
            return unfavoured;
        }
        let with_favourable = match favoured.verdict {
            Verdict::Allow => "allowed".to_string(),
            _ => format!("allowed when {}", favoured.condition),
        };
        let paths: Vec<String> = self
            .argument_paths(name, action)
            .iter()
            .map(|path| format!("`{path}`"))
            .collect();
        // The examples carry no arguments, so none of them witnesses such a cell.
        Cell {
            verdict: Verdict::Conditional,
            condition: format!(
                "depends on the arguments {}; with arguments that favour the caller: {with_favourable}",
                paths.join(", ")
            ),
            allow_example: None,
            deny_example: None,
            ..favoured
        }
    }

    /// The argument paths of the rules about `action` on `name`, without repeats.
    fn argument_paths(&self, name: &str, action: Action) -> Vec<&str> {
        let mut paths: Vec<&str> = Vec::new();
        let matching = self.policy.statements.iter().filter(|statement| {
            statement
                .matching_pattern(self.config.kind, action, name)
                .is_some()
        });
        for path in matching.flat_map(|statement| statement.argument_paths()) {
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        paths
    }

    fn cell_with(
        &self,
        row: &Row,
        roles: &[bool],
        name: &str,
        action: Action,
        arguments: ArgumentsTaken,
    ) -> Cell {
        let (programs, slots) = self.programs(roles, name, action, arguments);
        let mut cell = Cell {
            role: 0,
            name: 0,
            action,
            verdict: Verdict::Conditional,
            condition: String::new(),
            rules: self.rules(&programs),
            exhaustive: false,
            assignments: 0,
            allow_example: None,
            deny_example: None,
        };
        let facts = Facts {
            closure: &self.closure,
            ip: &self.ip,
            time: &self.time,
        };
        match Space::new(&slots, facts, self.config.limit) {
            Some(space) => {
                let decider = Decider {
                    closure: &self.closure,
                };
                let scopes = self.policy.scopes.len();
                let tally = evaluate::enumerate(&programs, &slots, &space, decider, scopes);
                self.finish(&mut cell, row, &programs, &slots, &space, &tally);
            }
            None if always_denied(&programs) => cell.verdict = Verdict::Deny,
            None => {
                cell.condition = format!(
                    "{} (not decided exactly: more than {} combinations)",
                    self.words(&programs, false),
                    self.config.limit
                );
            }
        }
        cell
    }

    /// The cell's programs, with every leaf given its slot.
    fn programs(
        &self,
        roles: &[bool],
        name: &str,
        action: Action,
        arguments: ArgumentsTaken,
    ) -> (Programs, Slots) {
        let kind = self.config.kind;
        let program = |list| {
            let target = Target {
                kind,
                list,
                name,
                arguments,
            };
            Program::new(self.policy, self.sources, roles, target)
        };
        let mut programs = Programs {
            use_: program(false),
            list: (action == Action::List).then(|| program(true)),
        };
        let mut atoms = programs.use_.atoms(false);
        if let Some(list) = &programs.list {
            atoms.extend(list.atoms(true));
        }
        let windows = self.policy.windows.len();
        let slots = Slots::new(&atoms, &self.time, windows);
        let slot_of = |atom: &node::Atom| slots.slot_of(atom, &self.time, windows);
        programs.use_.assign_slots(&slot_of);
        if let Some(list) = &mut programs.list {
            list.assign_slots(&slot_of);
        }
        (programs, slots)
    }

    fn finish(
        &self,
        cell: &mut Cell,
        row: &Row,
        programs: &Programs,
        slots: &Slots,
        space: &Space,
        tally: &Tally,
    ) {
        cell.exhaustive = true;
        cell.assignments = tally.assignments;
        cell.verdict = match (&tally.allow, &tally.deny) {
            (Some(_), None) => Verdict::Allow,
            (Some(_), Some(_)) => Verdict::Conditional,
            (None, _) => Verdict::Deny,
        };
        // Without a claim value granting exactly the row's role, no example is written.
        let value = row.claim_value.as_deref();
        if row.role.is_none() || value.is_some() {
            let example =
                |choices: &Vec<usize>| witness::context(self.policy, value, space, choices);
            cell.allow_example = tally.allow.as_ref().and_then(example);
            cell.deny_example = tally.deny.as_ref().and_then(example);
        }
        if cell.verdict == Verdict::Conditional {
            let without_address = !slots.networks.is_empty() && !tally.allows_without_address;
            cell.condition = self.words(programs, without_address);
        }
    }

    fn words(&self, programs: &Programs, denied_without_address: bool) -> String {
        let context = words::Context {
            policy: self.policy,
            sources: self.sources,
            closure: &self.closure,
        };
        words::describe(context, programs, denied_without_address)
    }

    /// `FILE:LINE` of the cell's statements, in policy order.
    fn rules(&self, programs: &Programs) -> Vec<String> {
        let mut spans = Vec::new();
        for program in programs.each() {
            spans.extend(program.rules().map(|rule| rule.span));
            spans.extend(program.requirements.iter().map(|r| r.span));
        }
        spans.sort_by_key(|span| (span.source, span.start));
        spans.dedup();
        spans
            .into_iter()
            .map(|span| {
                let location = self.sources.location(span);
                format!("{}:{}", location.file, location.start.line)
            })
            .collect()
    }
}

/// Whether a cell denies whatever the request, by the statements alone: a deny that
/// always fires, or no allow rule (and, for `list`, nothing to follow).
fn always_denied(programs: &Programs) -> bool {
    let fires = |program: &Program| {
        program
            .denies
            .iter()
            .any(|rule| rule.condition.constant() == Some(true))
    };
    let closed = |program: &Program| fires(program) || program.allows.is_empty();
    match &programs.list {
        None => closed(&programs.use_),
        Some(list) => fires(list) || (list.allows.is_empty() && closed(&programs.use_)),
    }
}

#[cfg(test)]
mod tests;
