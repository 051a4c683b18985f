//! Decoding a token without trusting it, for `toolgate token inspect`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

use crate::credentials::CredentialError;

/// A token's header and claims, decoded WITHOUT verifying anything.
#[derive(Debug, Clone, PartialEq)]
pub struct Unverified {
    /// The JOSE header.
    pub header: Value,
    /// The payload.
    pub claims: Value,
    /// The signature's length in bytes.
    pub signature_bytes: usize,
}

/// Decodes a compact JWS without checking its signature or claims: for display only.
pub fn decode_unverified(token: &str) -> Result<Unverified, CredentialError> {
    let token = token.trim();
    let mut segments = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(CredentialError::Malformed);
    };
    let json = |segment: &str| -> Result<Value, CredentialError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(segment)
            .map_err(|_| CredentialError::Malformed)?;
        serde_json::from_slice(&bytes).map_err(|_| CredentialError::Malformed)
    };
    let signature_bytes = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| CredentialError::Malformed)?
        .len();
    Ok(Unverified {
        header: json(header)?,
        claims: json(payload)?,
        signature_bytes,
    })
}
