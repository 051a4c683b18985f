//! Headers removed before the gate reads a request, and before the upstream gets it.

use http::header::HeaderName;
use http::HeaderMap;

/// Headers that describe one connection (RFC 9110 section 7.6.1), removed both ways.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The prefix of the principal headers the gate writes for the upstream.
const PRINCIPAL_PREFIX: &str = "x-toolgate-";

/// Forwarding headers a client may send: the upstream gets none of them, only the
/// `X-Forwarded-For` the gate writes.
const FORWARDING: [&str; 3] = ["forwarded", "x-real-ip", "x-forwarded-"];

/// Removes the headers named in `Connection`, then the hop-by-hop headers.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::try_from(name.trim()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

/// Removes every header a server could read as one of the gate's principal headers:
/// any name that, lowercased with `_` read as `-` (as WSGI and CGI servers read it),
/// starts with `x-toolgate-`.
pub(crate) fn strip_principal(headers: &mut HeaderMap) {
    remove_where(headers, |normalised| {
        normalised.starts_with(PRINCIPAL_PREFIX)
    });
}

/// Removes the client's forwarding headers (`Forwarded`, `X-Forwarded-*`, `X-Real-IP`,
/// in any spelling a server could read as them).
pub(crate) fn strip_forwarding(headers: &mut HeaderMap) {
    remove_where(headers, |name| {
        FORWARDING.iter().any(|forwarding| {
            if forwarding.ends_with('-') {
                name.starts_with(forwarding)
            } else {
                name.is(forwarding)
            }
        })
    });
}

fn remove_where(headers: &mut HeaderMap, matches: impl Fn(&Normalised<'_>) -> bool) {
    let doomed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| matches(&Normalised(name.as_str())))
        .cloned()
        .collect();
    for name in doomed {
        headers.remove(name);
    }
}

/// A header name as servers may read it: lowercase (as `HeaderName` already is), `_` as
/// `-`; compared without copying it.
struct Normalised<'n>(&'n str);

impl Normalised<'_> {
    fn byte(byte: u8) -> u8 {
        match byte {
            b'_' => b'-',
            other => other.to_ascii_lowercase(),
        }
    }

    fn starts_with(&self, prefix: &str) -> bool {
        self.0.len() >= prefix.len()
            && self
                .0
                .bytes()
                .zip(prefix.bytes())
                .all(|(byte, expected)| Normalised::byte(byte) == expected)
    }

    fn is(&self, other: &str) -> bool {
        self.0.len() == other.len() && self.starts_with(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for name in names {
            headers.append(
                HeaderName::try_from(*name).unwrap(),
                http::HeaderValue::from_static("v"),
            );
        }
        headers
    }

    #[test]
    fn principal_headers_in_every_spelling_are_removed() {
        let mut map = headers(&[
            "X-Toolgate-Roles",
            "X_Toolgate_Roles",
            "x-toolgate_subject",
            "x_toolgate-client",
            "x-toolgatex",
            "accept",
        ]);
        strip_principal(&mut map);
        let mut left: Vec<&str> = map.keys().map(HeaderName::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["accept", "x-toolgatex"]);
    }

    #[test]
    fn forwarding_headers_are_removed() {
        let mut map = headers(&[
            "forwarded",
            "x-forwarded-for",
            "x_forwarded_host",
            "x-real-ip",
            "x_real_ip",
            "x-forwardedx",
            "accept",
        ]);
        strip_forwarding(&mut map);
        let mut left: Vec<&str> = map.keys().map(HeaderName::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["accept", "x-forwardedx"]);
    }

    #[test]
    fn connection_names_its_own_hop_by_hop_headers() {
        let mut map = headers(&["x-secret", "keep-alive", "accept"]);
        map.insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("x-secret, close"),
        );
        strip_hop_by_hop(&mut map);
        let left: Vec<&str> = map.keys().map(HeaderName::as_str).collect();
        assert_eq!(left, ["accept"]);
    }
}
