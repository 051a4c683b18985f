//! Parsing key text: JWK, JWKS and PEM.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use super::{AlgorithmSet, Key, KeyError, KeySet, MAX_KEYS, MAX_KID_BYTES};

const RSA: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

/// The keys of a JWKS document or of one JWK.
pub(super) fn jwk_text(text: &str) -> Result<KeySet, KeyError> {
    let document: Value = serde_json::from_str(text)
        .map_err(|error| KeyError::caused(format!("not JSON: {error}"), error))?;
    let Some(object) = document.as_object() else {
        return Err(KeyError::new("not a JWK or JWKS object"));
    };
    let keys: Vec<&Value> = match object.get("keys") {
        Some(Value::Array(keys)) => keys.iter().take(MAX_KEYS).collect(),
        Some(_) => return Err(KeyError::new("`keys` is not an array")),
        None => vec![&document],
    };
    let mut set = KeySet::new();
    for value in keys {
        if let Some(key) = jwk_key(value) {
            set.push(key);
        }
    }
    if set.is_empty() {
        return Err(KeyError::new(
            "no usable signature verification key (RSA, EC P-256/P-384 or Ed25519)",
        ));
    }
    Ok(set)
}

/// One JWK, when it is a public signature key this crate can use.
fn jwk_key(value: &Value) -> Option<Key> {
    let jwk: Jwk = serde_json::from_value(value.clone()).ok()?;
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let kid = match jwk.common.key_id.clone() {
        Some(kid) if kid.len() > MAX_KID_BYTES => return None,
        kid => kid,
    };
    let family = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => AlgorithmSet::of(&RSA),
        AlgorithmParameters::EllipticCurve(params) => match params.curve {
            EllipticCurve::P256 => AlgorithmSet::of(&[Algorithm::ES256]),
            EllipticCurve::P384 => AlgorithmSet::of(&[Algorithm::ES384]),
            _ => return None,
        },
        AlgorithmParameters::OctetKeyPair(params) => match params.curve {
            EllipticCurve::Ed25519 => AlgorithmSet::of(&[Algorithm::EdDSA]),
            _ => return None,
        },
        // Symmetric keys never come from key documents; HS256 needs a configured secret.
        _ => return None,
    };
    let algorithms = match jwk.common.key_algorithm {
        None => family,
        Some(declared) => family.intersect(declared_algorithm(declared)?),
    };
    if algorithms.is_empty() {
        return None;
    }
    let decoding = DecodingKey::from_jwk(&jwk).ok()?;
    Some(Key::new(kid, decoding, algorithms))
}

fn declared_algorithm(declared: KeyAlgorithm) -> Option<AlgorithmSet> {
    let algorithm = Algorithm::try_from(declared).ok()?;
    Some(AlgorithmSet::of(&[algorithm]))
}

/// The public key of PEM text.
pub(super) fn pem(pem: &[u8]) -> Result<KeySet, KeyError> {
    let text = String::from_utf8_lossy(pem);
    if text.contains("PRIVATE KEY-----") {
        return Err(KeyError::new(
            "the PEM text holds a private key; give the public key only",
        ));
    }
    let key = if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
        Key::new(None, key, AlgorithmSet::of(&RSA))
    } else if let Ok(key) = DecodingKey::from_ec_pem(pem) {
        let algorithm = match key.try_get_as_bytes().map(<[u8]>::len) {
            Ok(65) => Algorithm::ES256,
            Ok(97) => Algorithm::ES384,
            _ => return Err(KeyError::new("unsupported EC curve (P-256 or P-384)")),
        };
        Key::new(None, key, AlgorithmSet::of(&[algorithm]))
    } else if let Ok(key) = DecodingKey::from_ed_pem(pem) {
        Key::new(None, key, AlgorithmSet::of(&[Algorithm::EdDSA]))
    } else {
        return Err(KeyError::new(
            "not a PEM public key or certificate (RSA, EC P-256/P-384 or Ed25519)",
        ));
    };
    let mut set = KeySet::new();
    set.push(key);
    Ok(set)
}
