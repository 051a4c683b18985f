//! The combinations of network atoms a request address can produce, each with an
//! address that produces it.
//!
//! Membership in a set of ranges only changes at a range's first address or just after
//! its last one, so the addresses tried are those, for every address or CIDR written in
//! the policy's text (any run of characters that parses as one: a superset of the
//! ranges, which only adds addresses to try), plus the first address of each space and
//! of the IPv6 space after the IPv4-mapped block (whose addresses match as IPv4).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ahash::AHashSet;
use ipnet::IpNet;

use crate::check::CheckedPolicy;
use crate::net::parse_cidr;
use crate::source::Sources;

/// The first IPv6 address after `::ffff:255.255.255.255`.
const AFTER_MAPPED: u128 = 0x1_0000_0000_0000;

/// Each distinct combination of the policy's networks (by network id) an address can
/// produce, with the first address found to produce it.
pub(crate) fn ip_states(sources: &Sources, policy: &CheckedPolicy) -> Vec<(IpAddr, Vec<bool>)> {
    if policy.networks.is_empty() {
        return Vec::new();
    }
    let mut addresses: Vec<IpAddr> = vec![
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::from(AFTER_MAPPED)),
    ];
    for (_, file) in sources.iter() {
        for token in file.text().split(|c: char| !is_address_character(c)) {
            if let Ok(parsed) = parse_cidr(token) {
                edges(parsed.network, &mut addresses);
            }
        }
    }
    let mut seen = AHashSet::new();
    let mut states = Vec::new();
    for address in addresses {
        let values: Vec<bool> = policy
            .networks
            .iter()
            .map(|network| network.contains(address))
            .collect();
        if seen.insert(values.clone()) {
            states.push((address, values));
        }
    }
    states
}

fn is_address_character(c: char) -> bool {
    c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '/')
}

/// The range's first address and the one after its last.
fn edges(network: IpNet, into: &mut Vec<IpAddr>) {
    match network {
        IpNet::V4(net) => {
            into.push(IpAddr::V4(net.network()));
            if let Some(after) = u32::from(net.broadcast()).checked_add(1) {
                into.push(IpAddr::V4(Ipv4Addr::from(after)));
            }
        }
        IpNet::V6(net) => {
            into.push(IpAddr::V6(net.network()));
            if let Some(after) = u128::from(net.broadcast()).checked_add(1) {
                into.push(IpAddr::V6(Ipv6Addr::from(after)));
            }
        }
    }
}
