//! What changes between two policies, as cells of the decision matrix (`toolgate diff`).
//!
//! Both policies are evaluated cell by cell ([`crate::matrix::Probe`]) over the same
//! rows and names: a row per role either policy declares (and `anyone`), a principal
//! whose role claim holds exactly that role's name; on a side that does not declare it,
//! the name grants nothing (or whatever role has it as an `aka`), exactly as the engine
//! resolves such a token. A cell changed when its verdicts differ, or when a request of
//! the cell is decided differently by the two policies.
//!
//! Every reported change carries, when one is found, a **witness**: a concrete request
//! (claims, address, time, arguments) of the cell that the two compiled engines decide
//! differently, verified by deciding it with both ([`crate::Engine::decide`]). The
//! search tries the cells' example requests, then every combination of the states both
//! policies' conditions distinguish: scopes (subsets of the scopes either side reads),
//! each claim path's and the client's values, addresses and times that tell apart every
//! combination of both policies' networks, windows and instants, and arguments around
//! every `arg` atom. A cell whose verdicts differ but where no witness is found is still
//! reported, without one.
//!
//! Exactness: when both sides' verdicts are the same `allow` or `deny`, the cell is
//! unchanged (the matrix's verdicts hold for every request of the row). When both are
//! conditional, the cell is unchanged only if the joint search tried every combination
//! ([`Change::exact`] and [`Diff::unsettled`]); otherwise a cell whose condition reads
//! differently is reported without a witness, and one whose condition reads the same is
//! counted as unsettled.

mod arguments;
mod names;
mod witness;

use std::net::IpAddr;

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::ast::{Action, Kind};
use crate::check::CheckedPolicy;
use crate::compile;
use crate::eval::Engine;
use crate::matrix::{self, Cell, Probe, Verdict};
use crate::source::Sources;

/// One side of a diff: a checked policy and the sources it was read from.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// The policy's sources (for `FILE:LINE` and the compiled engine).
    pub sources: &'a Sources,
    /// The checked policy.
    pub policy: &'a CheckedPolicy,
}

/// How a diff is computed.
#[derive(Debug, Clone)]
pub struct Config {
    /// The kinds compared, in order.
    pub kinds: Vec<Kind>,
    /// The tool names (a server's `tools/list`); `None`: derived from the patterns.
    pub tools: Option<Vec<String>>,
    /// Assignments enumerated per cell at most by the matrix ([`matrix::DEFAULT_LIMIT`]).
    pub limit: usize,
    /// Decisions (pairs of them) a witness search makes per cell at most.
    pub search_limit: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            kinds: Kind::ALL.to_vec(),
            tools: None,
            limit: matrix::DEFAULT_LIMIT,
            search_limit: DEFAULT_SEARCH_LIMIT,
        }
    }
}

/// Decisions a witness search makes per cell at most, by default.
pub const DEFAULT_SEARCH_LIMIT: usize = 1 << 16;

/// What changed between two policies.
#[derive(Debug, Clone)]
pub struct Diff {
    /// The rows: `anyone`, then the roles of the old policy, then those only the new one
    /// declares.
    pub rows: Vec<RowRoles>,
    /// The names compared, per kind.
    pub columns: Vec<Columns>,
    /// The cells compared (rows x names x two actions, over every kind).
    pub cells: usize,
    /// The changed cells, row by row, kind by kind, name by name, use action first.
    pub changes: Vec<Change>,
    /// Cells conditional on both sides whose condition reads the same and where the
    /// witness search could not try every combination: reported as unchanged, but not
    /// proven so.
    pub unsettled: usize,
}

/// A row and the roles its principal holds on each side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowRoles {
    /// The role's name, or `anyone`.
    pub name: String,
    /// The effective roles in the old policy (empty: none granted).
    pub old_roles: Vec<String>,
    /// The effective roles in the new policy.
    pub new_roles: Vec<String>,
    /// Whether the old policy declares the role.
    pub in_old: bool,
    /// Whether the new policy declares the role.
    pub in_new: bool,
}

/// The names of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    /// The kind.
    pub kind: Kind,
    /// The names, in order.
    pub names: Vec<Name>,
    /// Whether the names were derived from the policies' patterns (not given).
    pub derived: bool,
}

/// A column: a name, and the pattern it stands for when it was made from one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// The name decided.
    pub name: String,
    /// The glob pattern (as written, escapes kept) the name represents, if any.
    pub pattern: Option<String>,
}

/// One changed cell.
#[derive(Debug, Clone)]
pub struct Change {
    /// The row's name (a role, or `anyone`).
    pub row: String,
    /// The kind.
    pub kind: Kind,
    /// `list` or the kind's use action.
    pub action: Action,
    /// The name decided.
    pub name: String,
    /// The pattern the name stands for, when derived from one.
    pub pattern: Option<String>,
    /// The old policy's cell.
    pub old: CellSide,
    /// The new policy's cell.
    pub new: CellSide,
    /// A request of the cell the two policies decide differently, when one was found.
    pub witness: Option<Witness>,
    /// Whether the change is certain: a witness was found, or the verdicts differ.
    pub exact: bool,
}

/// What one policy says about a cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellSide {
    /// Allow, deny or conditional.
    pub verdict: Verdict,
    /// For a conditional cell, what it takes to be allowed, in words; else empty.
    pub condition: String,
    /// `FILE:LINE` of every statement matching the cell, in policy order.
    pub rules: Vec<String>,
    /// Whether the matrix enumerated every assignment of the cell.
    pub exhaustive: bool,
}

/// A concrete request decided differently by the two policies.
#[derive(Debug, Clone, PartialEq)]
pub struct Witness {
    /// The token's claims.
    pub claims: Value,
    /// The client's address, if any.
    pub ip: Option<IpAddr>,
    /// When the request is made.
    pub time: Timestamp,
    /// The call's arguments, if any.
    pub arguments: Option<Map<String, Value>>,
    /// The old policy's decision.
    pub old: Outcome,
    /// The new policy's decision.
    pub new: Outcome,
}

/// One engine's decision of a witness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Whether it allows.
    pub allowed: bool,
    /// `allowed`, `denied`, `insufficient_scope` or `no_rule`.
    pub reason: String,
    /// `FILE:LINE` of the deciding statement, if any.
    pub rule: Option<String>,
}

impl Witness {
    /// The request as `toolgate eval` reads it (one JSON object).
    pub fn request(&self, kind: Kind, action: Action, name: &str) -> Value {
        let mut request = Map::new();
        request.insert("claims".to_string(), self.claims.clone());
        request.insert("action".to_string(), Value::from(action.keyword()));
        request.insert(kind.singular().to_string(), Value::from(name));
        if let Some(ip) = self.ip {
            request.insert("ip".to_string(), Value::from(ip.to_string()));
        }
        request.insert("time".to_string(), Value::from(self.time.to_string()));
        if let Some(arguments) = &self.arguments {
            request.insert("arguments".to_string(), Value::Object(arguments.clone()));
        }
        Value::Object(request)
    }
}

impl Diff {
    /// Whether anything changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Compares every cell of `old` and `new`.
pub fn diff(old: Side<'_>, new: Side<'_>, config: &Config) -> Diff {
    let engines = [
        Engine::new(compile::compile(old.sources, old.policy)),
        Engine::new(compile::compile(new.sources, new.policy)),
    ];
    let policies = [old.policy, new.policy];
    let values = row_values(policies);
    let mut result = Diff {
        rows: Vec::new(),
        columns: Vec::new(),
        cells: 0,
        changes: Vec::new(),
        unsettled: 0,
    };
    for kind in &config.kinds {
        let matrix_config = matrix::Config {
            kind: *kind,
            limit: config.limit,
        };
        let probes = [
            Probe::new(old.sources, old.policy, &matrix_config),
            Probe::new(new.sources, new.policy, &matrix_config),
        ];
        if result.rows.is_empty() {
            result.rows = values
                .iter()
                .map(|value| row_roles(&probes, policies, value.as_deref()))
                .collect();
        }
        let columns = columns(policies, *kind, config.tools.as_deref());
        if columns.names.is_empty() {
            continue;
        }
        let context = witness::Context::new(&engines, &probes, policies, config.search_limit);
        for value in &values {
            for name in &columns.names {
                for action in [kind.use_action(), Action::List] {
                    result.cells += 1;
                    let compared = compare(&context, value.as_deref(), name, action);
                    match compared {
                        Compared::Same => {}
                        Compared::Unsettled => result.unsettled += 1,
                        Compared::Changed(change) => result.changes.push(*change),
                    }
                }
            }
        }
        result.columns.push(columns);
    }
    result
}

/// What comparing one cell found.
enum Compared {
    Same,
    Unsettled,
    Changed(Box<Change>),
}

/// Compares one cell of the row `value`.
fn compare(
    context: &witness::Context<'_>,
    value: Option<&str>,
    name: &Name,
    action: Action,
) -> Compared {
    let [old_probe, new_probe] = context.probes;
    let old = old_probe.cell(value, &name.name, action);
    let new = new_probe.cell(value, &name.name, action);
    let definite = |cell: &Cell| cell.verdict != Verdict::Conditional;
    if old.verdict == new.verdict && definite(&old) {
        return Compared::Same;
    }
    let target = witness::Target {
        value,
        name: &name.name,
        action,
    };
    let search = context.search(&target, [&old, &new]);
    let verdicts_differ = old.verdict != new.verdict;
    let exact = search.witness.is_some() || verdicts_differ;
    if !exact {
        if search.complete {
            return Compared::Same;
        }
        if old.condition == new.condition {
            return Compared::Unsettled;
        }
    }
    Compared::Changed(Box::new(Change {
        row: value.unwrap_or("anyone").to_string(),
        kind: context.kind(),
        action,
        name: name.name.clone(),
        pattern: name.pattern.clone(),
        old: side(&old),
        new: side(&new),
        witness: search.witness,
        exact,
    }))
}

fn side(cell: &Cell) -> CellSide {
    CellSide {
        verdict: cell.verdict,
        condition: cell.condition.clone(),
        rules: cell.rules.clone(),
        exhaustive: cell.exhaustive,
    }
}

/// `None` (`anyone`), then every role name of the old policy, then those only the new
/// one declares.
fn row_values(policies: [&CheckedPolicy; 2]) -> Vec<Option<String>> {
    let mut values: Vec<Option<String>> = vec![None];
    for role in policies.iter().flat_map(|policy| &policy.roles) {
        let value = Some(role.name.clone());
        if !values.contains(&value) {
            values.push(value);
        }
    }
    values
}

fn row_roles(
    probes: &[Probe<'_>; 2],
    policies: [&CheckedPolicy; 2],
    value: Option<&str>,
) -> RowRoles {
    let [old_probe, new_probe] = probes;
    let declares = |policy: &CheckedPolicy| {
        value.is_some_and(|value| policy.roles.iter().any(|role| role.name == value))
    };
    let [old_policy, new_policy] = policies;
    RowRoles {
        name: value.unwrap_or("anyone").to_string(),
        old_roles: old_probe.effective_roles(value),
        new_roles: new_probe.effective_roles(value),
        in_old: value.is_none() || declares(old_policy),
        in_new: value.is_none() || declares(new_policy),
    }
}

/// The names of `kind`: the tools given (for tools), else derived from the patterns.
fn columns(policies: [&CheckedPolicy; 2], kind: Kind, tools: Option<&[String]>) -> Columns {
    match tools {
        Some(tools) if kind == Kind::Tool => {
            let mut names: Vec<Name> = Vec::new();
            for tool in tools {
                if !names.iter().any(|known| &known.name == tool) {
                    names.push(Name {
                        name: tool.clone(),
                        pattern: None,
                    });
                }
            }
            Columns {
                kind,
                names,
                derived: false,
            }
        }
        _ => Columns {
            kind,
            names: names::derived(policies, kind),
            derived: true,
        },
    }
}
