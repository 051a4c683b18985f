//! Checking a verified token's registered claims: `iss`, `aud`, `exp`, `nbf`, `iat`, `jti`.

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::audience::Audience;
use crate::credentials::error::Claim;
use crate::credentials::{CredentialError, Revocations};

/// What the claims must satisfy.
pub(crate) struct ClaimRules<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) audience: &'a Audience,
    pub(crate) leeway_seconds: i64,
    pub(crate) max_lifetime_seconds: Option<i64>,
    pub(crate) revocations: &'a Revocations,
}

/// Checks the claims at `now`; gives the token's expiry.
pub(crate) fn check(
    claims: &Map<String, Value>,
    rules: &ClaimRules<'_>,
    now: Timestamp,
) -> Result<Timestamp, CredentialError> {
    issuer(claims, rules.issuer)?;
    audience(claims, rules.audience)?;
    let now = now.as_second();
    let leeway = rules.leeway_seconds;
    let expiry = numeric(claims, Claim::Exp)?.ok_or(CredentialError::MissingClaim(Claim::Exp))?;
    if now >= expiry.saturating_add(leeway) {
        return Err(CredentialError::Expired);
    }
    if numeric(claims, Claim::Nbf)?.is_some_and(|nbf| now.saturating_add(leeway) < nbf) {
        return Err(CredentialError::NotYetValid);
    }
    let issued = numeric(claims, Claim::Iat)?;
    if issued.is_some_and(|iat| iat > now.saturating_add(leeway)) {
        return Err(CredentialError::IssuedInFuture);
    }
    if let Some(max) = rules.max_lifetime_seconds {
        let from_now = expiry.saturating_sub(now) > max.saturating_add(leeway);
        let from_issue = issued.is_some_and(|iat| expiry.saturating_sub(iat) > max);
        if from_now || from_issue {
            return Err(CredentialError::LifetimeTooLong);
        }
    }
    if jti(claims)?.is_some_and(|jti| rules.revocations.contains(jti)) {
        return Err(CredentialError::Revoked);
    }
    Ok(Timestamp::from_second(expiry).unwrap_or(if expiry < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    }))
}

fn issuer(claims: &Map<String, Value>, expected: &str) -> Result<(), CredentialError> {
    match claims.get(Claim::Iss.name()) {
        None => Err(CredentialError::MissingClaim(Claim::Iss)),
        Some(Value::String(issuer)) if issuer == expected => Ok(()),
        Some(Value::String(_)) => Err(CredentialError::WrongIssuer),
        Some(_) => Err(CredentialError::InvalidClaim(Claim::Iss)),
    }
}

fn audience(claims: &Map<String, Value>, ours: &Audience) -> Result<(), CredentialError> {
    let found = match claims.get(Claim::Aud.name()) {
        None => return Err(CredentialError::MissingClaim(Claim::Aud)),
        Some(Value::String(audience)) => ours.matches(audience),
        Some(Value::Array(audiences)) => audiences
            .iter()
            .filter_map(Value::as_str)
            .any(|audience| ours.matches(audience)),
        Some(_) => return Err(CredentialError::InvalidClaim(Claim::Aud)),
    };
    if found {
        Ok(())
    } else {
        Err(CredentialError::WrongAudience)
    }
}

/// A NumericDate claim in whole seconds (fractions dropped), if present.
fn numeric(claims: &Map<String, Value>, claim: Claim) -> Result<Option<i64>, CredentialError> {
    let Some(value) = claims.get(claim.name()) else {
        return Ok(None);
    };
    let invalid = CredentialError::InvalidClaim(claim);
    let Value::Number(number) = value else {
        return Err(invalid);
    };
    if let Some(seconds) = number.as_i64() {
        return Ok(Some(seconds));
    }
    if number.is_u64() {
        return Ok(Some(i64::MAX));
    }
    match number.as_f64() {
        // `as` saturates; NaN and infinities cannot come from JSON.
        Some(seconds) if seconds.is_finite() => Ok(Some(seconds.floor() as i64)),
        _ => Err(invalid),
    }
}

fn jti(claims: &Map<String, Value>) -> Result<Option<&str>, CredentialError> {
    match claims.get(Claim::Jti.name()) {
        None => Ok(None),
        Some(Value::String(jti)) => Ok(Some(jti)),
        Some(_) => Err(CredentialError::InvalidClaim(Claim::Jti)),
    }
}
