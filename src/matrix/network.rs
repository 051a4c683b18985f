//! The combinations of network atoms a request address can produce, each with an
//! address that produces it.
//!
//! Membership in a set of ranges only changes at a range's first address or just after
//! its last one, so the addresses tried are those of every range of the policy's networks,
//! plus the first address of each space and of the IPv6 space after the IPv4-mapped block.
//!
//! An IPv4-mapped IPv6 address is matched as its IPv4 address, and a range written in
//! mapped form (`::ffff:10.0.0.0/104`) is held as the IPv4 range it maps, so the
//! addresses fall in two spaces: IPv4 (with the mapped block), where only IPv4 ranges
//! decide, and IPv6 outside the mapped block, where only IPv6 ranges decide. An IPv6 range
//! holds all of the mapped block or none of it, and even all of it (`::/0`) matches no
//! IPv4 address: it needs no IPv4 address tried but `0.0.0.0`, and an IPv4 range matches a
//! mapped address as its IPv4 address, so it needs no mapped address tried. An address
//! tried that falls in the mapped block (just after a range ending before it) is tried
//! as the IPv4 address it is read as.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ahash::AHashSet;
use ipnet::IpNet;

use crate::check::CheckedPolicy;
use crate::net::{unmap, Network};

/// The first IPv6 address after `::ffff:255.255.255.255`.
pub(super) const AFTER_MAPPED: u128 = 0x1_0000_0000_0000;

/// Each distinct combination of the policy's networks (by network id) an address can
/// produce, with the first address found to produce it.
pub(crate) fn ip_states(policy: &CheckedPolicy) -> Vec<(IpAddr, Vec<bool>)> {
    if policy.networks.is_empty() {
        return Vec::new();
    }
    let mut addresses: Vec<IpAddr> = vec![
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::from(AFTER_MAPPED)),
    ];
    for range in policy.networks.iter().flat_map(Network::ranges) {
        edges(range.network, &mut addresses);
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

/// The range's first address and the one after its last, each as the address it is
/// matched as.
pub(super) fn edges(network: IpNet, into: &mut Vec<IpAddr>) {
    match network {
        IpNet::V4(net) => {
            into.push(IpAddr::V4(net.network()));
            if let Some(after) = u32::from(net.broadcast()).checked_add(1) {
                into.push(IpAddr::V4(Ipv4Addr::from(after)));
            }
        }
        IpNet::V6(net) => {
            into.push(unmap(IpAddr::V6(net.network())));
            if let Some(after) = u128::from(net.broadcast()).checked_add(1) {
                into.push(unmap(IpAddr::V6(Ipv6Addr::from(after))));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Sources;
    use crate::{check, parse};

    /// A policy with one rule `if ip in [NETWORK]` for each of `networks`.
    fn policy(networks: &[&str]) -> CheckedPolicy {
        let rules: Vec<String> = networks
            .iter()
            .map(|network| format!("allow anyone to call tools \"t\" if ip in [{network}]\n"))
            .collect();
        let sources = Sources::from_text("t.policy", rules.concat());
        let parsed = parse::parse(&sources);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let checked = check::check(&parsed.policy, &check::Config::default());
        checked.policy.expect("no errors")
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// Addresses around every range's ends and the mapped block's, IPv4 ones also in
    /// mapped form, and spread through both spaces.
    fn probes(policy: &CheckedPolicy) -> Vec<IpAddr> {
        let mut v4: Vec<u32> = vec![0, u32::MAX];
        let mut v6: Vec<u128> = vec![0, u128::MAX, 0xffff_0000_0000, AFTER_MAPPED];
        for range in policy.networks.iter().flat_map(Network::ranges) {
            match range.network {
                IpNet::V4(net) => {
                    v4.extend([u32::from(net.network()), u32::from(net.broadcast())]);
                }
                IpNet::V6(net) => {
                    v6.extend([u128::from(net.network()), u128::from(net.broadcast())]);
                }
            }
        }
        v4.extend((0..64u32).map(|step| step.wrapping_mul(0x0400_0001)));
        v6.extend((0..128u32).map(|bit| 1u128 << bit));
        let mut addresses = Vec::new();
        for value in v4 {
            for near in [value.wrapping_sub(1), value, value.wrapping_add(1)] {
                let address = Ipv4Addr::from(near);
                addresses.push(IpAddr::V4(address));
                addresses.push(IpAddr::V6(address.to_ipv6_mapped()));
            }
        }
        for value in v6 {
            for near in [value.wrapping_sub(1), value, value.wrapping_add(1)] {
                addresses.push(IpAddr::V6(Ipv6Addr::from(near)));
            }
        }
        addresses
    }

    fn combination(policy: &CheckedPolicy, address: IpAddr) -> Vec<bool> {
        let networks = policy.networks.iter();
        networks.map(|network| network.contains(address)).collect()
    }

    #[test]
    fn mapped_ranges_and_ipv6_ranges_over_the_mapped_block_lose_no_combination() {
        let policy = policy(&[
            "::/0",
            "::ffff:10.0.0.0/104",
            "10.0.0.0/8",
            "::ffff:0:0/96",
            "::ffff:0:0/95",
            "::fffe:0:0/96",
            "::/64",
            "2001:db8::/32, ::ffff:192.168.1.1",
            "192.168.0.0/16",
            "0.0.0.0/0",
        ]);
        let states = ip_states(&policy);
        for (address, values) in &states {
            assert_eq!(values, &combination(&policy, *address), "{address}");
        }
        let found: AHashSet<Vec<bool>> = states.iter().map(|(_, values)| values.clone()).collect();
        assert_eq!(found.len(), states.len());
        let wanted: AHashSet<Vec<bool>> = probes(&policy)
            .into_iter()
            .map(|address| combination(&policy, address))
            .collect();
        let missing: Vec<&Vec<bool>> = wanted.difference(&found).collect();
        assert!(missing.is_empty(), "{missing:?} not found in {states:?}");
        assert_eq!(found, wanted);
    }

    #[test]
    fn the_first_address_after_the_mapped_block_is_tried() {
        // Ranges from `::` to just before the mapped block: after it, only `::/0` holds.
        let before_mapped: Vec<String> = (0..16u8)
            .map(|step| {
                let start = (1u128 << 48) - (1u128 << (48 - step));
                format!("{}/{}", Ipv6Addr::from(start), 81 + step)
            })
            .collect();
        let policy = policy(&[&before_mapped.join(", "), "::/0"]);
        let states = ip_states(&policy);
        assert!(
            states.contains(&(ip("::1:0:0:0"), vec![false, true])),
            "{states:?}"
        );
        assert_eq!(states.len(), 3, "{states:?}");
    }

    #[test]
    fn a_mapped_range_is_tried_at_its_ipv4_edges() {
        let policy = policy(&["::ffff:10.0.0.0/104", "::/0"]);
        assert_eq!(
            ip_states(&policy),
            [
                (ip("0.0.0.0"), vec![false, false]),
                (ip("::"), vec![false, true]),
                (ip("10.0.0.0"), vec![true, false]),
            ]
        );
        let mut addresses = Vec::new();
        edges("::fffe:0:0/96".parse().unwrap(), &mut addresses);
        assert_eq!(addresses, [ip("::fffe:0:0"), ip("0.0.0.0")]);
    }
}
