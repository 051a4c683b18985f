//! Verification keys: a [`KeySet`] parsed once from PEM, JWK or JWKS text, and
//! [`RemoteKeys`], a cached JWKS fetched from a URL or found by discovery.

mod parse;
mod remote;

use std::fmt;
use std::sync::Arc;

use ahash::AHashMap;
use jsonwebtoken::{Algorithm, DecodingKey};

pub use remote::{
    RemoteKeys, RemoteKeysConfig, DEFAULT_MIN_BACKGROUND_INTERVAL, MAX_BACKGROUND_INTERVAL,
};

pub(crate) use remote::{checked_url, discover_jwks_uri, Fetcher};

/// The most keys one set holds; keys past this are ignored.
pub const MAX_KEYS: usize = 64;

/// The longest `kid` looked up; a longer one is an unknown key.
pub const MAX_KID_BYTES: usize = 256;

/// One verification key, parsed once.
pub(crate) struct Key {
    kid: Option<String>,
    decoding: DecodingKey,
    algorithms: AlgorithmSet,
}

impl Key {
    fn new(kid: Option<String>, decoding: DecodingKey, algorithms: AlgorithmSet) -> Key {
        Key {
            kid,
            decoding,
            algorithms,
        }
    }

    /// The parsed key.
    pub(crate) fn decoding(&self) -> &DecodingKey {
        &self.decoding
    }

    /// Whether tokens signed with `algorithm` may be checked against this key.
    pub(crate) fn verifies(&self, algorithm: Algorithm) -> bool {
        self.algorithms.contains(algorithm)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("algorithms", &self.algorithms)
            .finish_non_exhaustive()
    }
}

/// A set of algorithms, one bit each.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct AlgorithmSet(u16);

impl AlgorithmSet {
    pub(crate) fn of(algorithms: &[Algorithm]) -> AlgorithmSet {
        AlgorithmSet(algorithms.iter().fold(0, |bits, alg| bits | bit(*alg)))
    }

    pub(crate) fn contains(self, algorithm: Algorithm) -> bool {
        self.0 & bit(algorithm) != 0
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub(crate) fn intersect(self, other: AlgorithmSet) -> AlgorithmSet {
        AlgorithmSet(self.0 & other.0)
    }
}

impl fmt::Debug for AlgorithmSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = ALL_ALGORITHMS
            .iter()
            .filter(|alg| self.contains(**alg))
            .map(|alg| algorithm_name(*alg));
        f.debug_list().entries(names).finish()
    }
}

/// Every algorithm jsonwebtoken verifies.
pub(crate) const ALL_ALGORITHMS: [Algorithm; 12] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::EdDSA,
];

fn bit(algorithm: Algorithm) -> u16 {
    let index = ALL_ALGORITHMS
        .iter()
        .position(|known| *known == algorithm)
        .unwrap_or(15);
    1 << index
}

/// An algorithm's JOSE name (`RS256`).
pub fn algorithm_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::EdDSA => "EdDSA",
        _ => "unknown",
    }
}

/// The algorithm of a JOSE name, exactly as registered (case-sensitive).
pub fn algorithm_from_name(name: &str) -> Option<Algorithm> {
    ALL_ALGORITHMS
        .iter()
        .copied()
        .find(|alg| algorithm_name(*alg) == name)
}

/// Why key text could not give keys. The message names no key material.
///
/// When another error caused it (JSON that does not parse, a URL, an HTTP request),
/// that error is the [`source`](std::error::Error::source), and the message ends with
/// its text. Two key errors are equal when their messages are.
#[derive(Debug, Clone)]
pub struct KeyError {
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl KeyError {
    /// An error this crate found itself.
    pub(crate) fn new(message: impl Into<String>) -> KeyError {
        KeyError {
            message: message.into(),
            source: None,
        }
    }

    /// An error caused by `source`; `message` ends with its text.
    pub(crate) fn caused(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> KeyError {
        KeyError {
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }
}

impl PartialEq for KeyError {
    fn eq(&self, other: &KeyError) -> bool {
        self.message == other.message
    }
}

impl Eq for KeyError {}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for KeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        let source: &(dyn std::error::Error + 'static) = self.source.as_deref()?;
        Some(source)
    }
}

/// Verification keys by `kid`, each parsed once into a `jsonwebtoken` key with the
/// algorithms it may verify.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<Arc<Key>>,
    by_kid: AHashMap<String, Vec<usize>>,
}

/// Which key checks a token.
pub(crate) enum Selected<'k> {
    /// This key.
    Key(&'k Key),
    /// No key has the token's `kid`, or the token has none and several keys could do.
    Unknown,
    /// A key has the `kid` but is for another algorithm family.
    WrongAlgorithm,
}

impl KeySet {
    /// An empty set.
    pub fn new() -> KeySet {
        KeySet::default()
    }

    /// The keys of a JWKS document (`{"keys": [...]}`) or a single JWK. Keys for
    /// encryption, of unsupported types or curves, and symmetric (`oct`) keys are skipped;
    /// text giving no usable key at all is an error.
    pub fn from_jwk_text(text: &str) -> Result<KeySet, KeyError> {
        parse::jwk_text(text)
    }

    /// The public key of a PEM file (`PUBLIC KEY`, `RSA PUBLIC KEY` or `CERTIFICATE`):
    /// RSA, EC P-256 / P-384 or Ed25519. It has no `kid`.
    pub fn from_pem(pem: &[u8]) -> Result<KeySet, KeyError> {
        parse::pem(pem)
    }

    /// A shared HS256 secret (no `kid`). Only for deployments that sign with a shared secret.
    pub fn from_hmac_secret(secret: &[u8]) -> KeySet {
        let key = Key::new(
            None,
            DecodingKey::from_secret(secret),
            AlgorithmSet::of(&[Algorithm::HS256]),
        );
        let mut set = KeySet::new();
        set.push(key);
        set
    }

    /// This set with `other`'s keys added.
    pub fn merged(mut self, other: &KeySet) -> KeySet {
        for key in &other.keys {
            self.push_shared(Arc::clone(key));
        }
        self
    }

    /// How many keys the set has.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set has no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key ids, in order.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().filter_map(|key| key.kid.as_deref())
    }

    /// Whether a key has this `kid`.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.by_kid.contains_key(kid)
    }

    pub(crate) fn push(&mut self, key: Key) {
        self.push_shared(Arc::new(key));
    }

    fn push_shared(&mut self, key: Arc<Key>) {
        if self.keys.len() >= MAX_KEYS {
            return;
        }
        if let Some(kid) = &key.kid {
            self.by_kid
                .entry(kid.clone())
                .or_default()
                .push(self.keys.len());
        }
        self.keys.push(key);
    }

    /// The key that checks a token with this `kid` and algorithm: the key with that
    /// `kid` for the algorithm; else the one key without a `kid` for it. A token without
    /// a `kid` is checked against the one key for its algorithm, if there is exactly one.
    pub(crate) fn select(&self, kid: Option<&str>, algorithm: Algorithm) -> Selected<'_> {
        if let Some(kid) = kid {
            if let Some(indexes) = self.by_kid.get(kid) {
                let mut keyed = indexes.iter().filter_map(|index| self.keys.get(*index));
                return match keyed.find(|key| key.verifies(algorithm)) {
                    Some(key) => Selected::Key(key),
                    None => Selected::WrongAlgorithm,
                };
            }
        }
        let mut candidates = self
            .keys
            .iter()
            .filter(|key| key.verifies(algorithm) && (kid.is_none() || key.kid.is_none()));
        match (candidates.next(), candidates.next()) {
            (Some(key), None) => Selected::Key(key),
            _ => Selected::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn text_that_is_not_json_has_the_json_error_as_source() {
        let error = KeySet::from_jwk_text("{").unwrap_err();
        assert!(error.to_string().starts_with("not JSON: "), "{error}");
        let json = error
            .source()
            .and_then(|s| s.downcast_ref::<serde_json::Error>());
        assert!(json.is_some_and(serde_json::Error::is_eof));
    }

    /// `error` as the type of `like` (the `url` crate's error type has no path here).
    fn downcast_like<'e, T: std::error::Error + 'static>(
        _like: &T,
        error: &'e (dyn std::error::Error + 'static),
    ) -> Option<&'e T> {
        error.downcast_ref::<T>()
    }

    #[test]
    fn a_bad_url_has_the_parse_error_as_source() {
        let error = remote::checked_url("not a url").unwrap_err();
        let expected = reqwest::Url::parse("not a url").unwrap_err();
        let parse = error.source().and_then(|s| downcast_like(&expected, s));
        assert_eq!(parse, Some(&expected));
    }

    #[test]
    fn errors_found_here_have_no_source() {
        let error = KeySet::from_jwk_text("[]").unwrap_err();
        assert_eq!(error.to_string(), "not a JWK or JWKS object");
        assert!(error.source().is_none());
    }
}
