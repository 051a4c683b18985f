//! Cells of any principal, not only the matrix's rows, with the concrete values each of
//! a cell's dimensions takes (`toolgate diff` compares two policies' cells with them).
//!
//! A [`Probe`] answers for a principal given by one role claim value (or none): the
//! roles that value grants in the policy (its name or an `aka`; none when the policy
//! does not declare it), closed over inheritance, exactly as the engine resolves it.
//! [`joint_addresses`] and [`joint_times`] give the addresses and times that tell apart
//! every combination of the networks, windows and instants of several policies at once.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ahash::AHashSet;

use jiff::Timestamp;
use serde_json::Value;

use crate::ast::{Action, Kind};
use crate::check::{Body, CheckedPolicy};
use crate::claim_path::ClaimPath;
use crate::ids::{NetworkId, RoleId};
use crate::net::Network;
use crate::source::Sources;

use super::decide::Closure;
use super::node::ArgumentsTaken;
use super::space::{Facts, Producer, Slots, Space};
use super::{clock, network, Cell, Config, Row, Shared};

/// Evaluates cells of one policy for principals given by a role claim value.
pub struct Probe<'a> {
    shared: Shared<'a>,
}

/// What makes one state of a principal dimension: a claim's value, an ambiguous claim
/// path, or the client id.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    /// The claim at `path` holds `value`, or is absent (`None`).
    Claim {
        /// Where the claim is read.
        path: ClaimPath,
        /// Its value, if present.
        value: Option<Value>,
    },
    /// The dotted path is in the token both as a top-level name and nested.
    Ambiguous(ClaimPath),
    /// The client id, or none.
    Client(Option<String>),
}

/// The concrete values of a cell's principal dimensions, and which networks and time
/// atoms it reads (see [`Probe::place_key`]).
#[derive(Debug, Clone, Default)]
pub struct Samples {
    /// The scopes the cell's statements read (effective scopes, by name).
    pub scopes: Vec<String>,
    /// One list per claim path, then one for the client: the facts making each of its
    /// distinct states.
    pub principal: Vec<Vec<Fact>>,
    /// False when the principal dimensions could not be listed (too many scopes or
    /// `contains` values): the lists are then partial.
    pub complete: bool,
    networks: Vec<NetworkId>,
    times: Vec<usize>,
}

impl<'a> Probe<'a> {
    /// A probe of `policy` (read from `sources`) for names of `config.kind`.
    pub fn new(sources: &'a Sources, policy: &'a CheckedPolicy, config: &Config) -> Probe<'a> {
        Probe {
            shared: Shared {
                policy,
                sources,
                closure: Closure::new(policy),
                ip: network::ip_states(policy),
                time: clock::TimeStates::new(policy),
                config: *config,
            },
        }
    }

    /// The kind of names probed.
    pub fn kind(&self) -> Kind {
        self.shared.config.kind
    }

    /// The effective roles of a principal whose role claim holds `value` alone (none:
    /// no role), by name in declaration order.
    pub fn effective_roles(&self, value: Option<&str>) -> Vec<String> {
        let held = self.held(value);
        self.shared
            .policy
            .roles
            .iter()
            .zip(&held)
            .filter(|(_, held)| **held)
            .map(|(role, _)| role.name.clone())
            .collect()
    }

    /// The cell of the principal whose role claim holds `value` alone (none: no role),
    /// for `action` on `name`. Its examples carry `value` as the role claim.
    pub fn cell(&self, value: Option<&str>, name: &str, action: Action) -> Cell {
        let held = self.held(value);
        let policy = self.shared.policy;
        let granted = value.and_then(|value| {
            policy
                .roles
                .iter()
                .position(|role| role.name == value || role.aka.iter().any(|aka| aka == value))
        });
        let row = Row {
            name: value.unwrap_or("anyone").to_string(),
            role: granted.map(RoleId::from_index),
            effective_roles: self.effective_roles(value),
            claim_value: value.map(str::to_string),
        };
        self.shared.cell(&row, &held, name, action)
    }

    /// The concrete values of the dimensions of that cell.
    pub fn samples(&self, value: Option<&str>, name: &str, action: Action) -> Samples {
        let held = self.held(value);
        let shared = &self.shared;
        let (_, slots) = shared.programs(&held, name, action, ArgumentsTaken::Favourable);
        let mut samples = Samples {
            scopes: slots
                .scopes
                .iter()
                .filter_map(|scope| shared.policy.scopes.get(scope.index()))
                .map(|scope| scope.name.clone())
                .collect(),
            principal: Vec::new(),
            complete: false,
            networks: slots.networks.clone(),
            times: slots.times.clone(),
        };
        let facts = Facts {
            closure: &shared.closure,
            ip: &shared.ip,
            time: &shared.time,
        };
        // Only the claim and client dimensions are taken from the space; no size limit.
        let unbounded = Slots {
            scopes: Vec::new(),
            networks: Vec::new(),
            times: Vec::new(),
            ..slots
        };
        let Some(space) = Space::new(&unbounded, facts, usize::MAX) else {
            return samples;
        };
        samples.principal = space
            .groups
            .iter()
            .map(|group| {
                group
                    .states
                    .iter()
                    .map(|(producer, _)| match producer {
                        Producer::Claim { path, value } => Fact::Claim {
                            path: path.clone(),
                            value: value.clone(),
                        },
                        Producer::Ambiguous(path) => Fact::Ambiguous(path.clone()),
                        Producer::Client(client) => Fact::Client(client.clone()),
                    })
                    .collect()
            })
            .collect();
        samples.complete = true;
        samples
    }

    /// What a cell of `samples` reads of an address and a time: each of its networks'
    /// membership (`None` without an address) and each of its time atoms' value. Two
    /// requests with the same key (and principal) are decided alike by the cell.
    pub fn place_key(
        &self,
        samples: &Samples,
        address: Option<IpAddr>,
        time: Timestamp,
    ) -> (Option<Vec<bool>>, Vec<bool>) {
        let policy = self.shared.policy;
        let networks = address.map(|address| {
            samples
                .networks
                .iter()
                .map(|network| {
                    policy
                        .networks
                        .get(network.index())
                        .is_some_and(|network| network.contains(address))
                })
                .collect()
        });
        let windows = policy.windows.len();
        let times = samples
            .times
            .iter()
            .map(|index| match policy.windows.get(*index) {
                Some(window) => window.contains(time),
                None => index
                    .checked_sub(windows)
                    .and_then(|instant| self.shared.time.instants.get(instant))
                    .is_some_and(|instant| time < *instant),
            })
            .collect();
        (networks, times)
    }

    /// The roles held (by id) by a principal whose role claim holds `value` alone.
    fn held(&self, value: Option<&str>) -> Vec<bool> {
        let policy = self.shared.policy;
        let closures = policy.role_closures();
        let mut held = vec![false; policy.roles.len()];
        let Some(value) = value else {
            return held;
        };
        for (index, role) in policy.roles.iter().enumerate() {
            if role.name != value && !role.aka.iter().any(|aka| aka == value) {
                continue;
            }
            for reached in closures.get(index).into_iter().flatten() {
                if let Some(slot) = held.get_mut(reached.index()) {
                    *slot = true;
                }
            }
        }
        held
    }
}

/// The addresses worth trying to tell apart every combination of the networks of all
/// of `probes`' policies: the first address of each space, and each range's first
/// address and the one after its last (membership changes nowhere else).
pub fn joint_addresses(probes: &[&Probe<'_>]) -> Vec<IpAddr> {
    let mut addresses: Vec<IpAddr> = vec![
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::from(network::AFTER_MAPPED)),
    ];
    let ranges = probes
        .iter()
        .flat_map(|probe| &probe.shared.policy.networks)
        .flat_map(Network::ranges);
    for range in ranges {
        network::edges(range.network, &mut addresses);
    }
    let mut seen = AHashSet::new();
    addresses.retain(|address| seen.insert(*address));
    addresses
}

/// The times worth trying to tell apart every combination of the windows and instants
/// of all of `probes`' policies, sampled as for one policy (see `clock`).
pub fn joint_times(probes: &[&Probe<'_>]) -> Vec<Timestamp> {
    let mut instants = BTreeSet::new();
    let mut windows = Vec::new();
    for probe in probes {
        let policy = probe.shared.policy;
        windows.extend(policy.windows.iter().cloned());
        for statement in &policy.statements {
            if let Body::Rule {
                condition: Some(condition),
                ..
            } = &statement.body
            {
                clock::collect_instants(condition, &mut instants);
            }
        }
    }
    let instants: Vec<Timestamp> = instants.into_iter().collect();
    clock::candidates(&windows, &instants).into_iter().collect()
}
