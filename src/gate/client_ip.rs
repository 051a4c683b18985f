//! The client's address: the socket peer, or what trusted proxies say it is.
//!
//! One header is read, the one configured ([`ClientIpHeader`]: `X-Forwarded-For` by
//! default, or `Forwarded`, or `X-Real-IP`), and only when the peer is a trusted proxy:
//! a proxy that writes only `X-Forwarded-For` passes a client's own `Forwarded` on
//! untouched, so believing that one would let the client choose its address.
//! Their hops are walked right to left, skipping trusted proxies; the first untrusted hop
//! is the client. A hop that is not an address (`unknown`, an obfuscated name) ends the
//! walk with no address, so every `ip in` test is unknown: deny rules hold, allow rules
//! do not.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use http::request::Parts;
use http::HeaderMap;
use ipnet::IpNet;

use super::config::ClientIpHeader;

/// The client address of a request, if it can be known.
pub(crate) fn client_ip(head: &Parts, trusted: &[IpNet], header: ClientIpHeader) -> Option<IpAddr> {
    let peer = head
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| canonical(address.ip()))?;
    if !is_trusted(peer, trusted) {
        return Some(peer);
    }
    let hops = match forwarded_hops(&head.headers, header) {
        Some(hops) => hops,
        None => return Some(peer),
    };
    let mut client = peer;
    for hop in hops.iter().rev() {
        let address = (*hop)?;
        client = address;
        if !is_trusted(address, trusted) {
            return Some(address);
        }
    }
    Some(client)
}

fn is_trusted(address: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|network| network.contains(&address))
}

/// IPv4 written as IPv6 (`::ffff:10.0.0.1`) is IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The hops of the configured header, left to right; a hop that is not an address is
/// `None`. `None` when the header is absent.
fn forwarded_hops(headers: &HeaderMap, header: ClientIpHeader) -> Option<Vec<Option<IpAddr>>> {
    let Some(values) = values(headers, header.name()) else {
        return Some(vec![None]);
    };
    if values.is_empty() {
        return None;
    }
    let hops = values.iter().flat_map(|value| value.split(','));
    Some(match header {
        ClientIpHeader::Forwarded => hops.map(forwarded_for).collect(),
        ClientIpHeader::XForwardedFor => hops.map(address).collect(),
        // One address, not a list: a comma makes it unusable.
        ClientIpHeader::XRealIp if values.len() == 1 => hops.map(address).collect(),
        ClientIpHeader::XRealIp => vec![None],
    })
}

/// Every value of a header; `None` if one is not text (the whole header is then unusable
/// and, fail-safe, so is the address).
fn values<'h>(headers: &'h HeaderMap, name: &str) -> Option<Vec<&'h str>> {
    headers
        .get_all(name)
        .iter()
        .map(|value| value.to_str().ok())
        .collect()
}

/// The `for=` of one `Forwarded` element.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("for")
            .then(|| address(value))?
    })
}

/// An address as forwarded: `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `"[2001:db8::1]:80"`.
fn address(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(address) = text.parse::<IpAddr>() {
        return Some(canonical(address));
    }
    if let Ok(socket) = text.parse::<SocketAddr>() {
        return Some(canonical(socket.ip()));
    }
    let bracketed = text.strip_prefix('[')?;
    let (inside, _) = bracketed.split_once(']')?;
    inside.parse::<IpAddr>().ok().map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_addresses() {
        assert_eq!(address("1.2.3.4"), "1.2.3.4".parse().ok());
        assert_eq!(address(" 1.2.3.4:80"), "1.2.3.4".parse().ok());
        assert_eq!(
            address("\"[2001:db8::1]:4711\""),
            "2001:db8::1".parse().ok()
        );
        assert_eq!(address("[2001:db8::1]"), "2001:db8::1".parse().ok());
        assert_eq!(address("unknown"), None);
        assert_eq!(address("_hidden"), None);
        assert_eq!(
            forwarded_for("for=192.0.2.60;proto=http;by=203.0.113.43"),
            "192.0.2.60".parse().ok()
        );
        assert_eq!(forwarded_for("proto=http"), None);
    }
}
