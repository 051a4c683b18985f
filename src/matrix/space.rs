//! The assignments of a cell's atoms that some request can produce, as a product of
//! independent dimensions: the effective scopes, one dimension per claim path, the
//! client id, the address and the time.
//!
//! Each dimension lists only combinations a real request can produce (scopes closed
//! under implication; for a claim path, the values of every test on it for one JSON
//! value; at most one `client` atom true; addresses and times as [`super::network`] and
//! [`super::clock`] find them), each with what produces it. Dimensions are treated as
//! independent, which can only add assignments no request produces, never lose one.

use std::net::IpAddr;

use ahash::AHashSet;
use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::ast::LiteralValue;
use crate::check::ClaimTest;
use crate::claim_path::ClaimPath;
use crate::ids::{NetworkId, ScopeId};
use crate::principal::claim_test;

use super::clock::TimeStates;
use super::decide::Closure;
use super::node::Atom;

/// Relevant scopes enumerated at most (2^16 subsets).
const MAX_SCOPES: usize = 16;
/// Distinct `contains` values of one claim path enumerated at most (2^10 arrays).
const MAX_CONTAINS: usize = 10;

/// Where each atom of a cell is read from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Slots {
    /// The scopes the cell reads, ascending.
    pub scopes: Vec<ScopeId>,
    /// Client and claim atoms, by slot.
    pub principal: Vec<Atom>,
    /// Networks, by slot.
    pub networks: Vec<NetworkId>,
    /// Indexes into the policy's time atoms (windows, then instants), by slot.
    pub times: Vec<usize>,
}

impl Slots {
    /// The slots of `atoms`.
    pub fn new(atoms: &[Atom], time: &TimeStates, windows: usize) -> Slots {
        let mut slots = Slots::default();
        for atom in atoms {
            match atom {
                Atom::Scope(scope) => push_new(&mut slots.scopes, *scope),
                Atom::Client(_) | Atom::Claim(_) => push_new(&mut slots.principal, atom.clone()),
                Atom::Ip(network) => push_new(&mut slots.networks, *network),
                Atom::Window(_) | Atom::Before(_) | Atom::After(_) => {
                    if let Some(index) = time_index(atom, time, windows) {
                        push_new(&mut slots.times, index);
                    }
                }
            }
        }
        slots.scopes.sort_unstable();
        slots
    }

    /// The slot of an atom (scopes need none: they are read by id).
    pub fn slot_of(&self, atom: &Atom, time: &TimeStates, windows: usize) -> usize {
        let position = match atom {
            Atom::Scope(_) => None,
            Atom::Client(_) | Atom::Claim(_) => self.principal.iter().position(|a| a == atom),
            Atom::Ip(network) => self.networks.iter().position(|n| n == network),
            Atom::Window(_) | Atom::Before(_) | Atom::After(_) => time_index(atom, time, windows)
                .and_then(|index| self.times.iter().position(|t| *t == index)),
        };
        position.unwrap_or(usize::MAX)
    }
}

fn push_new<T: PartialEq>(into: &mut Vec<T>, item: T) {
    if !into.contains(&item) {
        into.push(item);
    }
}

fn time_index(atom: &Atom, time: &TimeStates, windows: usize) -> Option<usize> {
    match atom {
        Atom::Window(window) => Some(window.index()),
        Atom::Before(instant) | Atom::After(instant) => time.instant_index(windows, *instant),
        _ => None,
    }
}

/// What produces one combination of a principal dimension.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Producer {
    /// The claim at `path` has this value, or is absent.
    Claim {
        path: ClaimPath,
        value: Option<Value>,
    },
    /// The dotted `path` is in the token both as a top-level name and nested: every
    /// test on it is unknown.
    Ambiguous(ClaimPath),
    /// The client id, or none.
    Client(Option<String>),
}

/// A dimension of client or claim atoms: the slots it sets and its combinations, each
/// slot's value `None` when unknown (a test on an ambiguous path).
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub slots: Vec<usize>,
    pub states: Vec<(Producer, Vec<Option<bool>>)>,
}

/// An address state: the address (none: unknown) and the network slots' values.
#[derive(Debug, Clone)]
pub(crate) struct IpState {
    pub address: Option<IpAddr>,
    pub values: Option<Vec<bool>>,
}

/// Every dimension of a cell.
#[derive(Debug, Clone)]
pub(crate) struct Space {
    /// Effective relevant scopes: each a set closed under implication.
    pub scopes: Vec<Vec<ScopeId>>,
    pub groups: Vec<Group>,
    pub ip: Vec<IpState>,
    pub time: Vec<(Timestamp, Vec<bool>)>,
}

/// The policy-wide facts the dimensions are cut from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts<'a> {
    pub closure: &'a Closure,
    pub ip: &'a [(IpAddr, Vec<bool>)],
    pub time: &'a TimeStates,
}

impl Space {
    /// The dimensions of a cell reading `slots`; `None` when they would be too many to
    /// enumerate (more than `limit` assignments).
    pub fn new(slots: &Slots, facts: Facts<'_>, limit: usize) -> Option<Space> {
        if slots.scopes.len() > MAX_SCOPES {
            return None;
        }
        let scopes = scope_states(&slots.scopes, facts.closure);
        let mut groups = claim_groups(&slots.principal)?;
        groups.push(client_group(&slots.principal));
        let ip = ip_states(&slots.networks, facts.ip);
        let time = time_states(&slots.times, facts.time);
        let space = Space {
            scopes,
            groups,
            ip,
            time,
        };
        space.size().filter(|size| *size <= limit).map(|_| space)
    }

    /// The number of assignments, if it fits a `usize`.
    pub fn size(&self) -> Option<usize> {
        let mut size = self.scopes.len().checked_mul(self.ip.len())?;
        size = size.checked_mul(self.time.len())?;
        for group in &self.groups {
            size = size.checked_mul(group.states.len())?;
        }
        Some(size)
    }

    /// The number of choices of each dimension: scopes, each group, address, time.
    pub fn radices(&self) -> Vec<usize> {
        let mut radices = vec![self.scopes.len()];
        radices.extend(self.groups.iter().map(|group| group.states.len()));
        radices.push(self.ip.len());
        radices.push(self.time.len());
        radices
    }
}

/// The subsets of `relevant` closed under implication (within `relevant`).
fn scope_states(relevant: &[ScopeId], closure: &Closure) -> Vec<Vec<ScopeId>> {
    let mut states = Vec::new();
    for mask in 0..(1usize << relevant.len()) {
        let held: Vec<ScopeId> = relevant
            .iter()
            .enumerate()
            .filter(|(bit, _)| mask & (1 << bit) != 0)
            .map(|(_, scope)| *scope)
            .collect();
        let closed = held.iter().all(|scope| {
            closure
                .of(*scope)
                .iter()
                .all(|implied| !relevant.contains(implied) || held.contains(implied))
        });
        if closed {
            states.push(held);
        }
    }
    states
}

/// One group per claim path; `None` when a path has too many `contains` values.
fn claim_groups(principal: &[Atom]) -> Option<Vec<Group>> {
    let mut paths: Vec<&ClaimPath> = Vec::new();
    for atom in principal {
        if let Atom::Claim(test) = atom {
            push_new(&mut paths, test.path());
        }
    }
    paths
        .into_iter()
        .map(|path| {
            let tests: Vec<(usize, &ClaimTest)> = principal
                .iter()
                .enumerate()
                .filter_map(|(slot, atom)| match atom {
                    Atom::Claim(test) if test.path() == path => Some((slot, test)),
                    _ => None,
                })
                .collect();
            claim_group(path, &tests)
        })
        .collect()
}

/// The combinations of the tests on one path: absent, each literal, an array of each
/// subset of the `contains` literals, a value equal to no literal, and for a dotted path,
/// both forms at once (every test unknown).
fn claim_group(path: &ClaimPath, tests: &[(usize, &ClaimTest)]) -> Option<Group> {
    let mut literals: Vec<&LiteralValue> = Vec::new();
    let mut contained: Vec<&LiteralValue> = Vec::new();
    for (_, test) in tests {
        match test {
            ClaimTest::Compare { value, .. } => push_new(&mut literals, value),
            ClaimTest::Contains { value, .. } => {
                push_new(&mut literals, value);
                push_new(&mut contained, value);
            }
            ClaimTest::Exists { .. } => {}
        }
    }
    if contained.len() > MAX_CONTAINS {
        return None;
    }
    let mut candidates: Vec<Option<Value>> = vec![None];
    candidates.extend(literals.iter().map(|literal| Some(json(literal))));
    for mask in 0..(1usize << contained.len()) {
        let items = contained
            .iter()
            .enumerate()
            .filter(|(bit, _)| mask & (1 << bit) != 0)
            .map(|(_, literal)| json(literal));
        candidates.push(Some(Value::Array(items.collect())));
    }
    candidates.push(Some(Value::String(fresh_string(&literals))));
    let mut seen = AHashSet::new();
    let mut states = Vec::new();
    for value in candidates {
        let mut claims = Map::new();
        if let Some(value) = &value {
            path.place(&mut claims, value.clone());
        }
        let values: Vec<Option<bool>> = tests.iter().map(|(_, t)| claim_test(&claims, t)).collect();
        if seen.insert(values.clone()) {
            let producer = Producer::Claim {
                path: path.clone(),
                value,
            };
            states.push((producer, values));
        }
    }
    if path.may_be_ambiguous() {
        states.push((Producer::Ambiguous(path.clone()), vec![None; tests.len()]));
    }
    let slots = tests.iter().map(|(slot, _)| *slot).collect();
    Some(Group { slots, states })
}

fn json(literal: &LiteralValue) -> Value {
    match literal {
        LiteralValue::String(text) => Value::String(text.clone()),
        LiteralValue::Integer(number) => Value::from(*number),
        LiteralValue::Decimal(number) => Value::from(number.value()),
        LiteralValue::Bool(value) => Value::Bool(*value),
    }
}

/// A string equal to none of the literals.
fn fresh_string(literals: &[&LiteralValue]) -> String {
    let mut text = String::from("other");
    while literals
        .iter()
        .any(|literal| matches!(literal, LiteralValue::String(s) if *s == text))
    {
        text.push('_');
    }
    text
}

/// The client atoms: no client, or each client string (one at a time).
fn client_group(principal: &[Atom]) -> Group {
    let clients: Vec<(usize, &str)> = principal
        .iter()
        .enumerate()
        .filter_map(|(slot, atom)| match atom {
            Atom::Client(client) => Some((slot, client.as_str())),
            _ => None,
        })
        .collect();
    let mut states = vec![(Producer::Client(None), vec![Some(false); clients.len()])];
    for (_, client) in &clients {
        let values = clients
            .iter()
            .map(|(_, other)| Some(other == client))
            .collect();
        states.push((Producer::Client(Some(client.to_string())), values));
    }
    let slots = clients.iter().map(|(slot, _)| *slot).collect();
    Group { slots, states }
}

/// No address, then each distinct combination of the cell's networks.
fn ip_states(networks: &[NetworkId], all: &[(IpAddr, Vec<bool>)]) -> Vec<IpState> {
    let mut states = vec![IpState {
        address: None,
        values: None,
    }];
    if networks.is_empty() {
        return states;
    }
    let mut seen = AHashSet::new();
    for (address, values) in all {
        let projected: Vec<bool> = networks
            .iter()
            .map(|network| values.get(network.index()).copied().unwrap_or(false))
            .collect();
        if seen.insert(projected.clone()) {
            states.push(IpState {
                address: Some(*address),
                values: Some(projected),
            });
        }
    }
    states
}

/// Each distinct combination of the cell's time atoms.
fn time_states(times: &[usize], all: &TimeStates) -> Vec<(Timestamp, Vec<bool>)> {
    let mut seen = AHashSet::new();
    let mut states = Vec::new();
    for (time, values) in &all.states {
        let projected: Vec<bool> = times
            .iter()
            .map(|index| values.get(*index).copied().unwrap_or(false))
            .collect();
        if seen.insert(projected.clone()) {
            states.push((*time, projected));
        }
    }
    states
}
