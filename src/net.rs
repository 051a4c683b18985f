//! IP address ranges: parsing CIDRs as the language writes them, and matching request
//! addresses (IPv4-mapped IPv6 addresses are matched as their IPv4 address).
#![deny(clippy::indexing_slicing)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// A CIDR as validated by the checker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedCidr {
    /// The range, normalised: host bits cleared, IPv4-mapped IPv6 ranges as IPv4.
    pub network: IpNet,
    /// Whether the text had host bits set (`10.0.0.1/8`, warning W005).
    pub host_bits_set: bool,
}

/// Parses `10.0.0.0/8`, `2001:db8::/32` or a bare address (a /32 or /128).
pub fn parse_cidr(text: &str) -> Result<ParsedCidr, String> {
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (text, None),
    };
    let address: IpAddr = address
        .parse()
        .map_err(|_| format!("`{address}` is not an IPv4 or IPv6 address"))?;
    let maximum = if address.is_ipv4() { 32 } else { 128 };
    let length = match prefix {
        None => maximum,
        Some(prefix) => prefix
            .parse::<u8>()
            .ok()
            .filter(|length| *length <= maximum)
            .ok_or_else(|| format!("`/{prefix}` is not a prefix length between 0 and {maximum}"))?,
    };
    let network = IpNet::new(address, length).map_err(|error| error.to_string())?;
    let truncated = network.trunc();
    Ok(ParsedCidr {
        network: unmap_network(truncated),
        host_bits_set: truncated != network,
    })
}

/// An IPv4-mapped IPv6 address as its IPv4 address; any other address unchanged.
pub fn unmap(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

fn unmap_network(network: IpNet) -> IpNet {
    let IpNet::V6(v6) = network else {
        return network;
    };
    match (
        v6.network().to_ipv4_mapped(),
        v6.prefix_len().checked_sub(96),
    ) {
        (Some(v4), Some(length)) => Ipv4Net::new(v4, length).map_or(network, IpNet::V4),
        _ => network,
    }
}

/// One range of a network as the policy writes it, with the range it denotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenRange {
    /// The text as written, e.g. `10.0.0.0/8`, `2001:db8::1` or `::ffff:10.0.0.0/104`.
    pub text: String,
    /// The range, normalised as [`parse_cidr`] gives it: host bits cleared, IPv4-mapped
    /// IPv6 ranges as IPv4.
    pub network: IpNet,
}

impl WrittenRange {
    /// Whether `address` (unmapped first) is in the range, as [`Network::contains`] reads
    /// a network of this range alone.
    pub fn contains(&self, address: IpAddr) -> bool {
        self.network.contains(&unmap(address))
    }
}

/// A set of address ranges: the ranges as written, in order, and their union, merged and
/// sorted for binary search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Network {
    ranges: Vec<WrittenRange>,
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl Network {
    /// The union of `ranges`, which the network keeps as written.
    pub fn new(ranges: impl IntoIterator<Item = WrittenRange>) -> Network {
        let ranges: Vec<WrittenRange> = ranges.into_iter().collect();
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for range in &ranges {
            match range.network {
                IpNet::V4(net) => v4.push(v4_range(net)),
                IpNet::V6(net) => v6.push(v6_range(net)),
            }
        }
        Network {
            ranges,
            v4: merge(v4),
            v6: merge(v6),
        }
    }

    /// The ranges as the policy writes them, in order (repeats and overlaps kept).
    pub fn ranges(&self) -> &[WrittenRange] {
        &self.ranges
    }

    /// Whether `address` (unmapped first) is in one of the ranges.
    #[inline]
    pub fn contains(&self, address: IpAddr) -> bool {
        match unmap(address) {
            IpAddr::V4(v4) => in_ranges(&self.v4, u32::from(v4)),
            IpAddr::V6(v6) => in_ranges(&self.v6, u128::from(v6)),
        }
    }
}

fn v4_range(net: Ipv4Net) -> (u32, u32) {
    (
        u32::from(net.network()),
        u32::from(net.broadcast().max(Ipv4Addr::from(0))),
    )
}

fn v6_range(net: Ipv6Net) -> (u128, u128) {
    (
        u128::from(net.network()),
        u128::from(net.broadcast().max(Ipv6Addr::from(0))),
    )
}

fn merge<T: Ord + Copy>(mut ranges: Vec<(T, T)>) -> Vec<(T, T)> {
    ranges.sort_unstable();
    let mut merged: Vec<(T, T)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

fn in_ranges<T: Ord + Copy>(ranges: &[(T, T)], value: T) -> bool {
    let after = ranges.partition_point(|(start, _)| *start <= value);
    after
        .checked_sub(1)
        .and_then(|index| ranges.get(index))
        .is_some_and(|(_, end)| value <= *end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(text: &str) -> WrittenRange {
        WrittenRange {
            text: text.to_string(),
            network: parse_cidr(text).unwrap().network,
        }
    }

    fn network(cidrs: &[&str]) -> Network {
        Network::new(cidrs.iter().map(|text| written(text)))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn matches_v4_v6_and_mapped_addresses() {
        let office = network(&["10.0.0.0/8", "192.168.10.0/24", "2001:db8::/32"]);
        assert!(office.contains(ip("10.1.2.3")));
        assert!(office.contains(ip("::ffff:10.1.2.3")));
        assert!(office.contains(ip("2001:db8::1")));
        assert!(!office.contains(ip("192.168.11.1")));
        assert!(!office.contains(ip("8.8.8.8")));
        assert!(!office.contains(ip("2001:db9::1")));
    }

    #[test]
    fn bare_addresses_zero_prefixes_and_host_bits() {
        let single = network(&["10.0.0.1"]);
        assert!(single.contains(ip("10.0.0.1")) && !single.contains(ip("10.0.0.2")));
        assert!(network(&["0.0.0.0/0"]).contains(ip("255.255.255.255")));
        assert!(!network(&["0.0.0.0/0"]).contains(ip("::1")));
        assert!(network(&["::/0"]).contains(ip("::1")));
        let parsed = parse_cidr("10.0.0.1/8").unwrap();
        assert!(parsed.host_bits_set);
        assert_eq!(parsed.network.to_string(), "10.0.0.0/8");
        assert!(!parse_cidr("10.0.0.0/8").unwrap().host_bits_set);
    }

    #[test]
    fn mapped_ranges_become_v4() {
        let mapped = network(&["::ffff:10.0.0.0/104"]);
        assert!(mapped.contains(ip("10.2.3.4")));
        assert!(!mapped.contains(ip("11.2.3.4")));
    }

    #[test]
    fn networks_keep_their_ranges_as_written() {
        let office = network(&["10.0.0.1/8", "::ffff:10.0.0.0/104", "10.0.0.0/8"]);
        let texts: Vec<&str> = office
            .ranges()
            .iter()
            .map(|range| range.text.as_str())
            .collect();
        assert_eq!(texts, ["10.0.0.1/8", "::ffff:10.0.0.0/104", "10.0.0.0/8"]);
        let networks: Vec<String> = office
            .ranges()
            .iter()
            .map(|range| range.network.to_string())
            .collect();
        assert_eq!(networks, ["10.0.0.0/8", "10.0.0.0/8", "10.0.0.0/8"]);
    }

    #[test]
    fn a_range_alone_matches_as_its_network() {
        let cases = [
            ("10.0.0.0/8", "::ffff:10.1.2.3", true),
            ("::ffff:10.0.0.0/104", "10.1.2.3", true),
            ("::/0", "::ffff:10.1.2.3", false),
            ("::/0", "10.1.2.3", false),
            ("0.0.0.0/0", "::1", false),
            ("2001:db8::/32", "2001:db8::1", true),
        ];
        for (text, address, holds) in cases {
            assert_eq!(
                written(text).contains(ip(address)),
                holds,
                "{text} {address}"
            );
            assert_eq!(
                network(&[text]).contains(ip(address)),
                holds,
                "{text} {address}"
            );
        }
    }

    #[test]
    fn invalid_cidrs_explain_themselves() {
        assert!(parse_cidr("10.0.0.256")
            .unwrap_err()
            .contains("`10.0.0.256`"));
        assert!(parse_cidr("10.0.0.0/33").unwrap_err().contains("`/33`"));
        assert!(parse_cidr("::1/129").is_err());
        assert!(parse_cidr("office").is_err());
    }
}
