//! CIDR parsing and matching with std addresses, bit by bit.
//!
//! A CIDR is a bare IPv4 or IPv6 address with an optional `/len`; an address alone is a
//! /32 or /128. An IPv4-mapped IPv6 request address is matched as its IPv4 address, so
//! it falls in IPv4 ranges and in no IPv6 range. Ranges never match across families,
//! except as the project's language reference says where the spec is silent (extension
//! (a) of docs/language.md): a range written in IPv4-mapped form with a prefix of at
//! least 96 (`::ffff:10.0.0.0/104`) is the IPv4 range it maps (`10.0.0.0/8`).

use std::net::IpAddr;

/// A parsed range: an address and how many leading bits must agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// The address as written (host bits may be set; they are ignored).
    pub address: IpAddr,
    /// The prefix length in bits.
    pub prefix: u32,
}

/// Parses `10.0.0.0/8`, `2001:db8::/32`, `10.1.2.3`; `None` when invalid.
pub fn parse(text: &str) -> Option<Range> {
    let (address_text, prefix_text) = match text.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (text, None),
    };
    let address: IpAddr = address_text.parse().ok()?;
    let width = bit_width(address);
    let prefix = match prefix_text {
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            digits.parse::<u32>().ok()?
        }
        Some(_) => return None,
        None => width,
    };
    if prefix > width {
        return None;
    }
    // Extension (a): `::ffff:a.b.c.d/len` with `len >= 96` is `a.b.c.d/(len - 96)`.
    if let IpAddr::V6(v6) = address {
        if let (Some(v4), true) = (v6.to_ipv4_mapped(), prefix >= 96) {
            return Some(Range {
                address: IpAddr::V4(v4),
                prefix: prefix - 96,
            });
        }
    }
    Some(Range { address, prefix })
}

/// Whether the range written as `text` contains `address` (`false` if invalid).
pub fn contains_text(text: &str, address: IpAddr) -> Option<bool> {
    parse(text).map(|range| range.contains(address))
}

impl Range {
    /// Whether `address` (IPv4-mapped addresses taken as IPv4) lies in the range.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = unmap(address);
        let (network_bytes, address_bytes) = match (self.address, address) {
            (IpAddr::V4(network), IpAddr::V4(request)) => {
                (network.octets().to_vec(), request.octets().to_vec())
            }
            (IpAddr::V6(network), IpAddr::V6(request)) => {
                (network.octets().to_vec(), request.octets().to_vec())
            }
            _ => return false,
        };
        (0..self.prefix).all(|bit| bit_at(&network_bytes, bit) == bit_at(&address_bytes, bit))
    }
}

/// `::ffff:a.b.c.d` as `a.b.c.d`; every other address unchanged.
pub fn unmap(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => address,
        },
        IpAddr::V4(_) => address,
    }
}

/// 32 or 128.
fn bit_width(address: IpAddr) -> u32 {
    match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// Bit number `bit` counted from the most significant bit of the first byte.
fn bit_at(bytes: &[u8], bit: u32) -> Option<bool> {
    let byte = bytes.get((bit / 8) as usize)?;
    Some(byte >> (7 - bit % 8) & 1 == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ipv4_ranges() {
        assert_eq!(contains_text("10.0.0.0/8", address("10.9.9.9")), Some(true));
        assert_eq!(
            contains_text("10.0.0.0/8", address("11.0.0.0")),
            Some(false)
        );
        assert_eq!(
            contains_text("192.168.10.0/24", address("192.168.11.1")),
            Some(false)
        );
        assert_eq!(
            contains_text("10.0.0.1/8", address("10.200.0.0")),
            Some(true)
        );
        assert_eq!(contains_text("0.0.0.0/0", address("8.8.8.8")), Some(true));
        assert_eq!(contains_text("10.1.2.3", address("10.1.2.3")), Some(true));
        assert_eq!(contains_text("10.1.2.3", address("10.1.2.4")), Some(false));
        assert_eq!(
            contains_text("10.1.2.2/31", address("10.1.2.3")),
            Some(true)
        );
    }

    #[test]
    fn ipv6_ranges_and_mapped_addresses() {
        assert_eq!(
            contains_text("2001:db8::/32", address("2001:db8::1")),
            Some(true)
        );
        assert_eq!(
            contains_text("2001:db8::/32", address("2001:db9::1")),
            Some(false)
        );
        assert_eq!(contains_text("::/0", address("fe80::1")), Some(true));
        assert_eq!(
            contains_text("10.0.0.0/8", address("::ffff:10.1.2.3")),
            Some(true)
        );
        assert_eq!(
            contains_text("::/0", address("::ffff:10.1.2.3")),
            Some(false)
        );
        assert_eq!(contains_text("0.0.0.0/0", address("::1")), Some(false));
        assert_eq!(contains_text("::/0", address("1.2.3.4")), Some(false));
    }

    #[test]
    fn mapped_ranges_are_ipv4_ranges() {
        for request in ["10.1.2.3", "::ffff:10.1.2.3"] {
            assert_eq!(
                contains_text("::ffff:10.0.0.0/104", address(request)),
                Some(true)
            );
            assert_eq!(
                contains_text("::ffff:10.1.2.3", address(request)),
                Some(true)
            );
            assert_eq!(
                contains_text("::ffff:10.1.2.4/128", address(request)),
                Some(false)
            );
        }
        assert_eq!(
            contains_text("::ffff:10.0.0.0/104", address("11.0.0.1")),
            Some(false)
        );
        // Below /96 the range is not all mapped addresses: it stays IPv6.
        assert_eq!(
            contains_text("::ffff:0.0.0.0/80", address("10.1.2.3")),
            Some(false)
        );
    }

    #[test]
    fn invalid_ranges() {
        assert_eq!(parse("10.0.0.0/33"), None);
        assert_eq!(parse("10.0.0/8"), None);
        assert_eq!(parse("10.0.0.0/"), None);
        assert_eq!(parse("::/129"), None);
    }
}
