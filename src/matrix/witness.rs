//! Example requests: an assignment of a cell's atoms turned into concrete claims, an
//! address and a time.

use std::net::IpAddr;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::check::CheckedPolicy;
use crate::claim_path::ClaimPath;
use crate::principal::refuse_ambiguous;

use super::space::{Producer, Space};

/// The facts of a request, apart from what it asks for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Context {
    /// The token's claims.
    pub claims: Value,
    /// The client's address, if any.
    pub ip: Option<IpAddr>,
    /// When the request is made.
    pub time: Timestamp,
}

/// The request facts of one assignment: the row's role value at the first role path,
/// the held scopes (an array) at the first scope path, the client id at the first
/// client path, each claim where its path reads it (a dotted path: its top-level name; an
/// ambiguous one: both forms). `None` when those keys would be read for more than one
/// purpose (a claim tested at a path the claims map also reads, paths that collide or
/// make another ambiguous, a claims-map path made ambiguous), so that the claims would
/// not produce the assignment.
pub(crate) fn context(
    policy: &CheckedPolicy,
    role_value: Option<&str>,
    space: &Space,
    choices: &[usize],
) -> Option<Context> {
    let map = &policy.claims;
    let mut claims = Map::new();
    let lists = [&map.roles, &map.scopes, &map.client];
    let read_elsewhere = |key: &ClaimPath, own: usize| {
        lists
            .iter()
            .enumerate()
            .any(|(index, paths)| index != own && paths.iter().any(|path| path == key))
    };
    if let Some(value) = role_value {
        let path = map.roles.first()?;
        if read_elsewhere(path, 0) {
            return None;
        }
        if !path.place(&mut claims, Value::Array(vec![Value::from(value)])) {
            return None;
        }
    }
    let held = space.scopes.get(*choices.first()?)?;
    if !held.is_empty() {
        let path = map.scopes.first()?;
        if read_elsewhere(path, 1) {
            return None;
        }
        let names = held
            .iter()
            .filter_map(|scope| policy.scopes.get(scope.index()))
            .map(|scope| Value::from(scope.name.as_str()));
        if !path.place(&mut claims, Value::Array(names.collect())) {
            return None;
        }
    }
    let mut exact: Vec<&ClaimPath> = Vec::new();
    for (group, choice) in space.groups.iter().zip(choices.iter().skip(1)) {
        let (producer, _) = group.states.get(*choice)?;
        match producer {
            Producer::Client(None) => {}
            Producer::Client(Some(client)) => {
                let path = map.client.first()?;
                if read_elsewhere(path, 2) {
                    return None;
                }
                if !path.place(&mut claims, Value::from(client.as_str())) {
                    return None;
                }
            }
            Producer::Claim { path, value } => {
                let read = lists.iter().any(|paths| paths.contains(path));
                if read {
                    return None;
                }
                exact.push(path);
                if let Some(value) = value {
                    if !path.place(&mut claims, value.clone()) {
                        return None;
                    }
                }
            }
            Producer::Ambiguous(path) => {
                let other = || Value::from("other");
                if !path.place(&mut claims, other()) || !path.place_nested(&mut claims, other()) {
                    return None;
                }
            }
        }
    }
    let shadowed = exact.iter().any(|path| path.find(&claims).is_ambiguous());
    if shadowed || refuse_ambiguous(map, &claims).is_err() {
        return None;
    }
    let count = choices.len();
    let ip = space.ip.get(*choices.get(count.checked_sub(2)?)?)?.address;
    let (time, _) = space.time.get(*choices.last()?)?;
    Some(Context {
        claims: Value::Object(claims),
        ip,
        time: *time,
    })
}
