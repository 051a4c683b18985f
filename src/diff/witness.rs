//! The witness search: concrete requests of one cell, decided by both compiled engines
//! until they disagree.

use std::net::IpAddr;

use ahash::AHashSet;
use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::ast::{Action, Kind};
use crate::check::{CheckedPolicy, ClaimsMap};
use crate::claim_path::ClaimPath;
use crate::eval::{Decision, Engine, Request};
use crate::matrix::{self, Cell, Fact, Probe, Samples};
use crate::principal::Principal;

use super::{arguments, Outcome, Witness};

/// Scopes whose every subset is tried; past it, only single scopes, none and all.
const MOST_SCOPES: usize = 10;
/// Principals (claims) tried per cell at most.
const MOST_PRINCIPALS: usize = 4096;

/// Both policies, compiled and probed, for one kind.
pub(crate) struct Context<'a> {
    pub engines: &'a [Engine; 2],
    pub probes: &'a [Probe<'a>; 2],
    pub policies: [&'a CheckedPolicy; 2],
    pub limit: usize,
    addresses: Vec<IpAddr>,
    times: Vec<Timestamp>,
}

/// The cell searched: the row's role claim value, the name and the action.
pub(crate) struct Target<'a> {
    pub value: Option<&'a str>,
    pub name: &'a str,
    pub action: Action,
}

/// What a search found.
pub(crate) struct Search {
    pub witness: Option<Witness>,
    /// Whether every combination was tried (so no witness means none exists, within
    /// what the matrix's dimensions cover).
    pub complete: bool,
}

/// A request's facts besides the principal.
struct Place<'a> {
    ip: Option<IpAddr>,
    time: Timestamp,
    arguments: Option<&'a Map<String, Value>>,
}

impl<'a> Context<'a> {
    /// The context of `engines` and `probes` (old, new), searching at most `limit`
    /// decisions per cell.
    pub fn new(
        engines: &'a [Engine; 2],
        probes: &'a [Probe<'a>; 2],
        policies: [&'a CheckedPolicy; 2],
        limit: usize,
    ) -> Context<'a> {
        let [old, new] = probes;
        Context {
            engines,
            probes,
            policies,
            limit,
            addresses: matrix::joint_addresses(&[old, new]),
            times: matrix::joint_times(&[old, new]),
        }
    }

    /// The kind probed.
    pub fn kind(&self) -> Kind {
        let [old, _] = self.probes;
        old.kind()
    }

    /// Looks for a request of `target`'s cell the two engines decide differently: the
    /// cells' examples first, then every combination of the states either side reads.
    pub fn search(&self, target: &Target<'_>, cells: [&Cell; 2]) -> Search {
        let kind = self.kind();
        let arguments = arguments::candidates(self.policies, kind, target.action, target.name);
        let examples = cells
            .iter()
            .flat_map(|cell| [&cell.allow_example, &cell.deny_example])
            .flatten();
        for example in examples {
            for arguments in &arguments {
                let place = Place {
                    ip: example.ip,
                    time: example.time,
                    arguments: arguments.as_ref(),
                };
                if let Some(witness) = self.decide_both(target, &example.claims, &place) {
                    return Search {
                        witness: Some(witness),
                        complete: true,
                    };
                }
            }
        }
        self.enumerate(target, &arguments)
    }

    /// Every combination of scopes, claims, client, address, time and arguments.
    fn enumerate(&self, target: &Target<'_>, arguments: &[Option<Map<String, Value>>]) -> Search {
        let [old_probe, new_probe] = self.probes;
        let samples = [
            old_probe.samples(target.value, target.name, target.action),
            new_probe.samples(target.value, target.name, target.action),
        ];
        let mut complete = samples.iter().all(|samples| samples.complete) && arguments.len() == 1;
        let scopes = scope_sets(&samples, &mut complete);
        let groups = merged_groups(&samples);
        let places = self.places(&samples);
        let mut radices = vec![scopes.len()];
        radices.extend(groups.iter().map(Vec::len));
        let mut choices = vec![0usize; radices.len()];
        let mut principals = 0usize;
        let mut decisions = 0usize;
        let maps = [&self.policies[0].claims, &self.policies[1].claims];
        loop {
            principals += 1;
            if principals > MOST_PRINCIPALS {
                return Search {
                    witness: None,
                    complete: false,
                };
            }
            let held = choices.first().and_then(|choice| scopes.get(*choice));
            let facts: Vec<&Fact> = groups
                .iter()
                .zip(choices.iter().skip(1))
                .filter_map(|(group, choice)| group.get(*choice))
                .collect();
            let claims = held.and_then(|held| claims_for(maps, target.value, held, &facts));
            match claims
                .as_ref()
                .and_then(|claims| self.principals(target, claims))
            {
                None => complete = false,
                Some(principals) => {
                    for (ip, time) in &places {
                        for arguments in arguments {
                            decisions += 1;
                            if decisions > self.limit {
                                return Search {
                                    witness: None,
                                    complete: false,
                                };
                            }
                            let place = Place {
                                ip: *ip,
                                time: *time,
                                arguments: arguments.as_ref(),
                            };
                            let witness = claims.as_ref().and_then(|claims| {
                                self.differ(target, claims, &principals, &place)
                            });
                            if witness.is_some() {
                                return Search {
                                    witness,
                                    complete: true,
                                };
                            }
                        }
                    }
                }
            }
            if !advance(&mut choices, &radices) {
                return Search {
                    witness: None,
                    complete,
                };
            }
        }
    }

    /// Addresses and times, one per combination of what either side's cell reads of
    /// them.
    fn places(&self, samples: &[Samples; 2]) -> Vec<(Option<IpAddr>, Timestamp)> {
        let [old_probe, new_probe] = self.probes;
        let [old_samples, new_samples] = samples;
        let reference = self.times.first().copied().unwrap_or(Timestamp::UNIX_EPOCH);
        let mut addresses: Vec<Option<IpAddr>> = Vec::new();
        let mut seen = AHashSet::new();
        for address in std::iter::once(None).chain(self.addresses.iter().copied().map(Some)) {
            let key = (
                old_probe.place_key(old_samples, address, reference).0,
                new_probe.place_key(new_samples, address, reference).0,
            );
            if seen.insert(key) {
                addresses.push(address);
            }
        }
        let mut times: Vec<Timestamp> = Vec::new();
        let mut seen = AHashSet::new();
        for time in &self.times {
            let key = (
                old_probe.place_key(old_samples, None, *time).1,
                new_probe.place_key(new_samples, None, *time).1,
            );
            if seen.insert(key) {
                times.push(*time);
            }
        }
        if times.is_empty() {
            times.push(reference);
        }
        addresses
            .iter()
            .flat_map(|address| times.iter().map(move |time| (*address, *time)))
            .collect()
    }

    /// Both principals of `claims`, when both engines accept them and each holds
    /// exactly the row's roles (so that the request belongs to the cell).
    fn principals(&self, target: &Target<'_>, claims: &Value) -> Option<[Principal; 2]> {
        let [old_engine, new_engine] = self.engines;
        let [old_probe, new_probe] = self.probes;
        let old = old_engine.principal(claims).ok()?;
        let new = new_engine.principal(claims).ok()?;
        let same_roles = |engine: &Engine, principal: &Principal, probe: &Probe<'_>| {
            principal.role_names(engine.index()) == probe.effective_roles(target.value)
        };
        (same_roles(old_engine, &old, old_probe) && same_roles(new_engine, &new, new_probe))
            .then_some([old, new])
    }

    /// The witness of `claims` at `place`, if the engines disagree.
    fn decide_both(
        &self,
        target: &Target<'_>,
        claims: &Value,
        place: &Place<'_>,
    ) -> Option<Witness> {
        let principals = self.principals(target, claims)?;
        self.differ(target, claims, &principals, place)
    }

    fn differ(
        &self,
        target: &Target<'_>,
        claims: &Value,
        principals: &[Principal; 2],
        place: &Place<'_>,
    ) -> Option<Witness> {
        let request = Request {
            kind: self.kind(),
            action: target.action,
            name: target.name,
            ip: place.ip,
            time: place.time,
            arguments: place.arguments,
        };
        let [old_engine, new_engine] = self.engines;
        let [old_principal, new_principal] = principals;
        let old = old_engine.decide(old_principal, &request);
        let new = new_engine.decide(new_principal, &request);
        (old.is_allowed() != new.is_allowed()).then(|| Witness {
            claims: claims.clone(),
            ip: place.ip,
            time: place.time,
            arguments: place.arguments.cloned(),
            old: outcome(&old),
            new: outcome(&new),
        })
    }
}

fn outcome(decision: &Decision<'_>) -> Outcome {
    Outcome {
        allowed: decision.is_allowed(),
        reason: decision.reason.as_str().to_string(),
        rule: decision.rule.map(|rule| rule.to_string()),
    }
}

/// The sets of scopes tried: every subset of the scopes either side reads, or (past
/// [`MOST_SCOPES`]) none, each alone and all, which leaves the search incomplete.
fn scope_sets(samples: &[Samples; 2], complete: &mut bool) -> Vec<Vec<String>> {
    let mut names: Vec<&String> = Vec::new();
    for name in samples.iter().flat_map(|samples| &samples.scopes) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if names.len() > MOST_SCOPES {
        *complete = false;
        let mut sets = vec![Vec::new()];
        sets.extend(names.iter().map(|name| vec![(*name).clone()]));
        sets.push(names.iter().map(|name| (*name).clone()).collect());
        return sets;
    }
    (0..(1usize << names.len()))
        .map(|mask| {
            names
                .iter()
                .enumerate()
                .filter(|(bit, _)| mask & (1 << bit) != 0)
                .map(|(_, name)| (*name).clone())
                .collect()
        })
        .collect()
}

/// The principal dimensions of both sides, one per claim path and one for the client,
/// each with the facts of either side.
fn merged_groups(samples: &[Samples; 2]) -> Vec<Vec<Fact>> {
    let mut groups: Vec<(String, Vec<Fact>)> = Vec::new();
    for group in samples.iter().flat_map(|samples| &samples.principal) {
        for fact in group {
            let key = match fact {
                Fact::Claim { path, .. } | Fact::Ambiguous(path) => path.as_str().to_string(),
                Fact::Client(_) => String::new(),
            };
            match groups.iter_mut().find(|(known, _)| *known == key) {
                Some((_, facts)) => {
                    if !facts.contains(fact) {
                        facts.push(fact.clone());
                    }
                }
                None => groups.push((key, vec![fact.clone()])),
            }
        }
    }
    groups.into_iter().map(|(_, facts)| facts).collect()
}

/// Claims that both claims maps read as: the role claim `value` (if any), the scopes
/// `held`, and the `facts`. `None` when the maps or facts need one place to hold two
/// different things.
fn claims_for(
    maps: [&ClaimsMap; 2],
    value: Option<&str>,
    held: &[String],
    facts: &[&Fact],
) -> Option<Value> {
    let mut claims = Map::new();
    for map in maps {
        if let Some(value) = value {
            put(&mut claims, map.roles.first()?, Value::from(vec![value]))?;
        }
        if !held.is_empty() {
            let names: Vec<Value> = held.iter().map(|name| Value::from(name.as_str())).collect();
            put(&mut claims, map.scopes.first()?, Value::Array(names))?;
        }
    }
    for fact in facts {
        match fact {
            Fact::Claim {
                path,
                value: Some(value),
            } => put(&mut claims, path, value.clone())?,
            Fact::Claim { value: None, .. } | Fact::Client(None) => {}
            Fact::Ambiguous(path) => {
                let other = Value::from("other");
                if !path.place(&mut claims, other.clone()) || !path.place_nested(&mut claims, other)
                {
                    return None;
                }
            }
            Fact::Client(Some(client)) => {
                for map in maps {
                    put(
                        &mut claims,
                        map.client.first()?,
                        Value::from(client.as_str()),
                    )?;
                }
            }
        }
    }
    Some(Value::Object(claims))
}

/// Puts `value` at `path`, or finds it there already.
fn put(claims: &mut Map<String, Value>, path: &ClaimPath, value: Value) -> Option<()> {
    if path.find(claims).value() == Some(&value) {
        return Some(());
    }
    path.place(claims, value).then_some(())
}

/// The next choice vector (first digit fastest); false after the last.
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
