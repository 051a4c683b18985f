//! Bearer tokens through JWT validation with a fixed key set (an HS256 secret and an EC
//! P-256 public key): never a panic; garbage and tokens signed with another secret are
//! always refused; a token that passes carries the configured issuer and audience and
//! is not expired, and its claims go through the engine.
//!
//! The first byte picks the form: a token of the fuzzer's bytes as they are, or a
//! token whose header and payload are the fuzzer's bytes (split at the first newline),
//! signed with the right secret or with another one.
#![no_main]

use std::sync::OnceLock;

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use toolgate::credentials::jwt::decode_unverified;
use toolgate::credentials::{Clock, Identity, JwtScheme, JwtSettings, KeySet};
use toolgate::unstable::eval::Request;
use toolgate::{Action, Engine, Kind, Policy};

const ISSUER: &str = "https://idp.example.com/";
const AUDIENCE: &str = "https://mcp.example.com/mcp";
const SECRET: &[u8] = b"a shared secret of thirty-two bytes or more, for fuzzing";
const OTHER_SECRET: &[u8] = b"another secret of thirty-two bytes or more, never trusted";
/// The P-256 public key of RFC 7515, appendix A.3.
const EC_KEY: &str = r#"{"kty":"EC","crv":"P-256","kid":"ec1",
  "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
  "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;
const NOW: &str = "2026-11-26T10:00:00Z";
const POLICY: &str = include_str!("../../policies/example.policy");

struct Fixture {
    runtime: tokio::runtime::Runtime,
    scheme: JwtScheme,
    engine: Engine,
    now: Timestamp,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let now: Timestamp = NOW.parse().unwrap_or(Timestamp::UNIX_EPOCH);
        let ec = KeySet::from_jwk_text(EC_KEY).unwrap_or_else(|error| panic!("{error}"));
        let keys = KeySet::from_hmac_secret(SECRET).merged(&ec);
        let mut settings = JwtSettings::new(ISSUER, AUDIENCE);
        settings.algorithms.push(jsonwebtoken::Algorithm::HS256);
        settings.clock = Clock::fixed(now);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|error| panic!("{error}"));
        let engine = match Policy::from_text("example.policy", POLICY) {
            Ok(loaded) => loaded.into_engine(),
            Err(error) => panic!("{error}"),
        };
        Fixture { runtime, scheme: JwtScheme::new(settings, keys), engine, now }
    })
}

/// `header.payload.signature`, base64url without padding, HMAC-SHA256 with `secret`.
fn signed(header: &[u8], payload: &[u8], secret: &[u8]) -> String {
    let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let tag = hmac::sign(&key, signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// A resource URI as audiences are compared: scheme and authority in lowercase (they
/// are case-insensitive, RFC 3986 section 6.2.2.1), one trailing slash dropped.
fn same_resource(uri: &str) -> (String, String) {
    let uri = uri.strip_suffix('/').unwrap_or(uri);
    match uri.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, path) = rest.split_at(end);
            (format!("{}://{}", scheme.to_ascii_lowercase(), authority.to_ascii_lowercase()), path.to_string())
        }
        None => (String::new(), uri.to_string()),
    }
}

/// What a token that passed must satisfy.
fn check_accepted(fixture: &Fixture, header: &[u8], claims: &Value) {
    let header: Value = serde_json::from_slice(header).unwrap_or(Value::Null);
    assert_eq!(header["alg"], "HS256", "accepted a token whose header is {header}");
    assert_eq!(claims["iss"], ISSUER, "accepted {claims}");
    let ours = same_resource(AUDIENCE);
    let audience_ok = match &claims["aud"] {
        Value::String(one) => same_resource(one) == ours,
        Value::Array(many) => many.iter().filter_map(Value::as_str).any(|one| same_resource(one) == ours),
        _ => false,
    };
    assert!(audience_ok, "accepted {claims}");
    let expiry = claims["exp"].as_f64().unwrap_or(f64::NEG_INFINITY);
    assert!(expiry + 60.0 >= fixture.now.as_second() as f64, "accepted an expired token: {claims}");
    if let Ok(principal) = fixture.engine.principal(claims) {
        let request = Request { kind: Kind::Tool, action: Action::Call, name: "fs.read_file", ip: None, time: fixture.now, arguments: None };
        let _ = fixture.engine.decide(&principal, &request);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&form, rest)) = data.split_first() else { return };
    let fixture = fixture();
    let (header, payload) = match rest.iter().position(|&byte| byte == b'\n') {
        Some(at) => (rest.get(..at).unwrap_or_default(), rest.get(at + 1..).unwrap_or_default()),
        None => (rest, &[][..]),
    };
    let token = match form % 3 {
        0 => match std::str::from_utf8(rest) {
            Ok(text) => text.to_string(),
            Err(_) => return,
        },
        1 => signed(header, payload, SECRET),
        _ => signed(header, payload, OTHER_SECRET),
    };
    let _ = decode_unverified(&token);
    let verified = fixture.runtime.block_on(fixture.scheme.verify(&token));
    match (form % 3, verified) {
        (1, Ok(Identity::Claims { claims, .. })) => check_accepted(fixture, header, &claims),
        (1, Ok(other)) => panic!("a token gave {other:?}"),
        (_, Ok(identity)) => panic!("accepted an unsigned or wrongly signed token `{token}`: {identity:?}"),
        (_, Err(_)) => {}
    }
});
