//! The typed taxonomy of refused credentials, and configuration errors.

use std::fmt;
use std::sync::Arc;

/// Why a presented credential was refused. Every variant becomes `401 invalid_token`;
/// [`CredentialError::description`] is the short `error_description`, which names no
/// secret and no key material, and [`CredentialError::code`] a stable name for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialError {
    /// Not a well-formed token (segments, base64, JSON, header fields).
    Malformed,
    /// Longer than the configured size cap; nothing of it was decoded.
    TooLarge,
    /// The header's `alg` is `none`, unknown, not on the allow-list, or not one the
    /// selected key is for (an HMAC token against a public key).
    AlgorithmNotAllowed,
    /// The header has a `crit` parameter: no extension is understood here.
    CriticalHeader,
    /// The header's `typ` is not an access token's (`at+jwt`, or `JWT` when not required).
    WrongType,
    /// No key has the token's `kid` (after a refresh, if one was allowed).
    UnknownKey,
    /// The signing keys could not be had (the key URL never answered with keys).
    KeysUnavailable,
    /// The signature does not verify.
    BadSignature,
    /// `exp` is past, beyond the leeway.
    Expired,
    /// `nbf` is in the future, beyond the leeway.
    NotYetValid,
    /// `iat` is in the future, beyond the leeway: a clock is wrong somewhere.
    IssuedInFuture,
    /// `iss` is not the configured issuer.
    WrongIssuer,
    /// `aud` does not contain this server's resource URI.
    WrongAudience,
    /// A required claim is absent.
    MissingClaim(Claim),
    /// A claim has the wrong type (`exp` not a number, `aud` not a string or array).
    InvalidClaim(Claim),
    /// The token's `jti` is on the revocation list.
    Revoked,
    /// `exp` is further from now (or from `iat`) than the configured maximum lifetime.
    LifetimeTooLong,
    /// A path of the claims map (roles, scopes, client) is in the token both as a
    /// top-level name and nested: one could shadow the other.
    AmbiguousClaim,
    /// An API key whose id is not in the key file, or whose secret does not match.
    UnknownApiKey,
    /// An API key past its expiry.
    ExpiredApiKey,
    /// An API key marked revoked.
    RevokedApiKey,
    /// A custom scheme refused the credentials.
    Refused,
}

/// A registered claim named by [`CredentialError::MissingClaim`] and
/// [`CredentialError::InvalidClaim`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Claim {
    /// `exp`.
    Exp,
    /// `nbf`.
    Nbf,
    /// `iat`.
    Iat,
    /// `iss`.
    Iss,
    /// `aud`.
    Aud,
    /// `jti`.
    Jti,
}

impl Claim {
    /// The claim's name.
    pub fn name(self) -> &'static str {
        match self {
            Claim::Exp => "exp",
            Claim::Nbf => "nbf",
            Claim::Iat => "iat",
            Claim::Iss => "iss",
            Claim::Aud => "aud",
            Claim::Jti => "jti",
        }
    }
}

impl CredentialError {
    /// The short, secret-free description sent in `error_description`.
    pub fn description(self) -> &'static str {
        use CredentialError as E;
        match self {
            E::Malformed => "the token is malformed",
            E::TooLarge => "the token is too large",
            E::AlgorithmNotAllowed => "the token's signing algorithm is not accepted",
            E::CriticalHeader => "the token has a critical header that is not understood",
            E::WrongType => "the token is not an access token",
            E::UnknownKey => "the token is signed with an unknown key",
            E::KeysUnavailable => "the signing keys are unavailable",
            E::BadSignature => "the token's signature is invalid",
            E::Expired => "the token has expired",
            E::NotYetValid => "the token is not valid yet",
            E::IssuedInFuture => "the token is issued in the future",
            E::WrongIssuer => "the token is from another issuer",
            E::WrongAudience => "the token is for another audience",
            E::MissingClaim(claim) => missing(claim),
            E::InvalidClaim(claim) => invalid(claim),
            E::Revoked => "the token has been revoked",
            E::LifetimeTooLong => "the token's lifetime is longer than allowed",
            E::AmbiguousClaim => "the token holds a claim both as a top-level name and nested",
            E::UnknownApiKey => "the API key is not valid",
            E::ExpiredApiKey => "the API key has expired",
            E::RevokedApiKey => "the API key has been revoked",
            E::Refused => "the credentials were refused",
        }
    }

    /// A stable snake-case name for logs and audit records.
    pub fn code(self) -> &'static str {
        use CredentialError as E;
        match self {
            E::Malformed => "malformed",
            E::TooLarge => "too_large",
            E::AlgorithmNotAllowed => "algorithm_not_allowed",
            E::CriticalHeader => "critical_header",
            E::WrongType => "wrong_type",
            E::UnknownKey => "unknown_key",
            E::KeysUnavailable => "keys_unavailable",
            E::BadSignature => "bad_signature",
            E::Expired => "expired",
            E::NotYetValid => "not_yet_valid",
            E::IssuedInFuture => "issued_in_future",
            E::WrongIssuer => "wrong_issuer",
            E::WrongAudience => "wrong_audience",
            E::MissingClaim(_) => "missing_claim",
            E::InvalidClaim(_) => "invalid_claim",
            E::Revoked => "revoked",
            E::LifetimeTooLong => "lifetime_too_long",
            E::AmbiguousClaim => "ambiguous_claim",
            E::UnknownApiKey => "unknown_api_key",
            E::ExpiredApiKey => "expired_api_key",
            E::RevokedApiKey => "revoked_api_key",
            E::Refused => "refused",
        }
    }
}

fn missing(claim: Claim) -> &'static str {
    match claim {
        Claim::Exp => "the token has no exp claim",
        Claim::Nbf => "the token has no nbf claim",
        Claim::Iat => "the token has no iat claim",
        Claim::Iss => "the token has no iss claim",
        Claim::Aud => "the token has no aud claim",
        Claim::Jti => "the token has no jti claim",
    }
}

fn invalid(claim: Claim) -> &'static str {
    match claim {
        Claim::Exp => "the token's exp claim is not a number",
        Claim::Nbf => "the token's nbf claim is not a number",
        Claim::Iat => "the token's iat claim is not a number",
        Claim::Iss => "the token's iss claim is not a string",
        Claim::Aud => "the token's aud claim is not a string or array",
        Claim::Jti => "the token's jti claim is not a string",
    }
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl std::error::Error for CredentialError {}

/// A configuration that cannot work, naming the key at fault
/// (`` `jwt.algorithms`: unknown algorithm `RS999` ``).
///
/// When another error caused it (a file that cannot be read, keys that do not parse or
/// cannot be fetched), that error is the [`source`](std::error::Error::source), and the
/// message ends with its text. Two configuration errors are equal when their keys and
/// messages are.
#[derive(Debug, Clone)]
pub struct ConfigError {
    key: String,
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl ConfigError {
    /// An error about configuration key `key` (dotted, as in the TOML file).
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            key: key.into(),
            message: message.into(),
            source: None,
        }
    }

    /// An error about configuration key `key` caused by `source`; `message` says what
    /// went wrong, ending with the source's text as this crate's messages do.
    pub fn with_source(
        key: impl Into<String>,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> ConfigError {
        ConfigError {
            key: key.into(),
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// The dotted key at fault, `jwt.algorithms`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// What is wrong with it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.key, self.message)
    }
}

impl PartialEq for ConfigError {
    fn eq(&self, other: &ConfigError) -> bool {
        self.key == other.key && self.message == other.message
    }
}

impl Eq for ConfigError {}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        let source: &(dyn std::error::Error + 'static) = self.source.as_deref()?;
        Some(source)
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::ConfigError;
    use crate::credentials::keys::KeyError;
    use crate::credentials::{JwtConfig, Revocations};

    #[test]
    fn a_file_that_cannot_be_read_is_the_source() {
        let error = Revocations::new()
            .load_file(
                std::path::Path::new("/nonexistent/toolgate/revoked.txt"),
                "jwt.revoked_jti_file",
            )
            .unwrap_err();
        assert_eq!(error.key(), "jwt.revoked_jti_file");
        assert!(
            error
                .message()
                .starts_with("cannot read `/nonexistent/toolgate/revoked.txt`: "),
            "{error}"
        );
        let read = error.source().expect("a source");
        let io = read
            .source()
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .expect("the io error under the read error");
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn keys_that_do_not_parse_are_the_source() {
        let mut jwt = JwtConfig::new("https://issuer.example");
        jwt.jwks = Some("{".to_string());
        let Err(error) = jwt.scheme("https://mcp.example/mcp").await else {
            panic!("keys that are not JSON are refused");
        };
        assert_eq!(error.key(), "jwt.jwks");
        let keys = error.source().and_then(|s| s.downcast_ref::<KeyError>());
        let json = keys
            .and_then(|k| k.source())
            .and_then(|s| s.downcast_ref::<serde_json::Error>());
        assert!(json.is_some_and(serde_json::Error::is_eof), "{error:?}");
    }

    #[test]
    fn messages_made_here_have_no_source() {
        let error = ConfigError::new("jwt.issuer", "must not be empty");
        assert!(error.source().is_none());
        assert_eq!(error, ConfigError::new("jwt.issuer", "must not be empty"));
    }
}
