//! The JOSE header, parsed here (typed and bounded) before anything else is trusted.

use jsonwebtoken::Algorithm;
use serde::de::{Deserializer, IgnoredAny};
use serde::Deserialize;

use crate::credentials::keys::{algorithm_from_name, AlgorithmSet, MAX_KID_BYTES};
use crate::credentials::CredentialError;

/// The header fields validation reads. `jku`, `x5u`, `x5c` and `jwk` are never read, so
/// never followed; a duplicate field is malformed.
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(deserializer)?;
    Ok(true)
}

/// A header that passed the checks that need no key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) algorithm: Algorithm,
    /// The `kid`; `Some("")` stands for a `kid` too long to look up.
    pub(crate) kid: Option<String>,
}

impl Header {
    /// Whether the `kid` is short enough to be looked up.
    pub(crate) fn usable_kid(&self) -> Option<Option<&str>> {
        match &self.kid {
            Some(kid) if kid.len() > MAX_KID_BYTES => None,
            kid => Some(kid.as_deref()),
        }
    }
}

/// What the header must satisfy.
pub(crate) struct HeaderRules {
    pub(crate) allowed: AlgorithmSet,
    pub(crate) require_typ: bool,
}

/// Parses decoded header JSON (UTF-8 throughout, even in fields never read) and applies
/// the rules that need no key.
pub(crate) fn check(json: &[u8], rules: &HeaderRules) -> Result<Header, CredentialError> {
    // UTF-8 first (RFC 7515, 4): serde_json skips the strings it ignores unchecked.
    let text = std::str::from_utf8(json).map_err(|_| CredentialError::Malformed)?;
    let raw: RawHeader = serde_json::from_str(text).map_err(|_| CredentialError::Malformed)?;
    let algorithm = algorithm_from_name(&raw.alg)
        .filter(|algorithm| rules.allowed.contains(*algorithm))
        .ok_or(CredentialError::AlgorithmNotAllowed)?;
    if raw.crit {
        return Err(CredentialError::CriticalHeader);
    }
    if !type_accepted(raw.typ.as_deref(), rules.require_typ) {
        return Err(CredentialError::WrongType);
    }
    Ok(Header {
        algorithm,
        kid: raw.kid,
    })
}

/// `at+jwt` (or `application/at+jwt`) always; when not required, also no `typ` or `JWT`.
/// Any other type (an ID token's, a logout token's) is refused.
fn type_accepted(typ: Option<&str>, required: bool) -> bool {
    let is = |wanted: &str| {
        typ.is_some_and(|typ| {
            typ.eq_ignore_ascii_case(wanted)
                || typ
                    .get(..12)
                    .is_some_and(|prefix| prefix.eq_ignore_ascii_case("application/"))
                    && typ
                        .get(12..)
                        .is_some_and(|rest| rest.eq_ignore_ascii_case(wanted))
        })
    };
    if is("at+jwt") {
        return true;
    }
    !required && (typ.is_none() || is("jwt"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_token_types() {
        assert!(type_accepted(Some("at+jwt"), true));
        assert!(type_accepted(Some("AT+JWT"), true));
        assert!(type_accepted(Some("application/at+jwt"), true));
        assert!(!type_accepted(Some("JWT"), true));
        assert!(!type_accepted(None, true));
        assert!(type_accepted(Some("JWT"), false));
        assert!(type_accepted(None, false));
        assert!(!type_accepted(Some("logout+jwt"), false));
        assert!(!type_accepted(Some("application/"), false));
    }
}
