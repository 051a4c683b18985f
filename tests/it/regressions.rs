//! Inputs that once crashed a fuzz target or a test, and every committed fuzz seed,
//! replayed through the checks their fuzz target makes (see docs/fuzzing.md: a crash
//! becomes a file under `fuzz/corpus/seed-TARGET/` and, when it says something worth
//! naming, a test here).

use std::path::{Path, PathBuf};

use toolgate::unstable::check::{self, Config};
use toolgate::unstable::source::Sources;
use toolgate::unstable::wire;
use toolgate::{unstable::compile, unstable::parse, Policy};

fn seeds(target: &str) -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fuzz/corpus/seed-{target}"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|error| panic!("{}: {error}", folder.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
}

/// What `fuzz_targets/policy_text.rs` checks: no panic, every span inside the text on
/// character boundaries, and a checked policy compiles.
fn policy_text(text: &str) {
    let sources = Sources::from_text("fuzz.policy", text);
    let parsed = parse::parse(&sources);
    let config = Config {
        tools: None,
        incomplete: !parsed.diagnostics.is_empty(),
    };
    let checked = check::check(&parsed.policy, &config);
    for diagnostic in parsed.diagnostics.iter().chain(&checked.diagnostics) {
        let range = diagnostic.span.range();
        assert!(
            range.start <= range.end && range.end <= text.len(),
            "{diagnostic:?}"
        );
        assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
        let _ = sources.location(diagnostic.span);
    }
    if let Some(policy) = checked.policy {
        let _ = compile::compile(&sources, &policy);
    }
}

/// What `fuzz_targets/eval_line.rs` checks: a line is an error or a whole decision.
fn eval_line(engine: &toolgate::Engine, line: &str) {
    let Ok(parsed) = wire::parse_request(line) else {
        return;
    };
    let Ok(claims) = serde_json::from_str::<serde_json::Value>(parsed.claims.get()) else {
        return;
    };
    let Ok(principal) = engine.principal(&claims) else {
        return;
    };
    let decision = engine.decide(&principal, &parsed.request(jiff::Timestamp::UNIX_EPOCH));
    let mut out = Vec::new();
    wire::write_decision(&decision, &mut out).unwrap();
    assert!(out.ends_with(b"}\n"));
}

#[test]
fn every_policy_text_seed_replays() {
    let files = seeds("policy_text");
    assert!(files.len() >= 40, "{} seeds", files.len());
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        if let Ok(text) = std::str::from_utf8(&bytes) {
            policy_text(text);
        }
    }
}

#[test]
fn every_eval_line_seed_replays() {
    let policy = include_str!("../../policies/example.policy");
    let engine = Policy::from_text("example.policy", policy)
        .unwrap()
        .into_engine();
    let files = seeds("eval_line");
    assert!(files.len() >= 100, "{} seeds", files.len());
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        if let Ok(line) = std::str::from_utf8(&bytes) {
            eval_line(&engine, line);
        }
    }
}

/// Claims nested past the JSON reader's recursion limit are an error, not a stack
/// overflow, and a deep claim path stops where the claims stop.
#[test]
fn deeply_nested_claims_are_refused_or_bounded() {
    let deep = format!(
        "{{\"claims\":{}{}, \"tool\":\"x\", \"action\":\"call\"}}",
        "{\"a\":".repeat(100_000),
        "}".repeat(100_000)
    );
    let engine = Policy::from_text("a.policy", "allow anyone to call tools \"*\"\n")
        .unwrap()
        .into_engine();
    eval_line(&engine, &deep);
    let nested = format!("{}1{}", "{\"a\":".repeat(120), "}".repeat(120));
    let claims: serde_json::Value = serde_json::from_str(&nested).unwrap();
    let path = vec!["a"; 32].join(".");
    let policy = format!("allow anyone to call tools \"*\" if claim \"{path}\" exists\n");
    let engine = Policy::from_text("a.policy", &policy)
        .unwrap()
        .into_engine();
    let principal = engine.principal(&claims).unwrap();
    let request =
        toolgate::Request::new(toolgate::Kind::Tool, toolgate::Action::Call, "x").unwrap();
    assert!(engine.decide(&principal, &request).is_allowed());
}

/// The differential fuzz target once found the engine allowing what the reference
/// interpreter denied: an IPv4 request address in an IPv4-mapped range
/// (`fuzz/corpus/seed-differential/mapped-range-crash-dec6e3ae`). The engine was right:
/// it reads `::ffff:10.0.0.0/104` as `10.0.0.0/8` (docs/language.md, extension (a)),
/// while the reference follows the v1 text, where ranges never cross families. The
/// target now hands the reference the IPv4 range; the engine's answer is pinned here.
#[test]
fn an_ipv4_mapped_range_holds_ipv4_addresses() {
    use crate::reference::{self, RefRequest};
    let policy = "role r0 aka \"x\"\n\
                  network net = [::ffff:10.0.0.0/104]\n\
                  allow r0 to read resources \"*\", \"*\" if ip in net\n";
    let engine = Policy::from_text("fuzz.policy", policy)
        .unwrap()
        .into_engine();
    let claims = serde_json::json!({"roles": ["zz", "r0"], "c": ["x", 1]});
    let principal = engine.principal(&claims).unwrap();
    let time: jiff::Timestamp = "2026-03-29T00:30:00Z".parse().unwrap();
    for (address, inside) in [
        ("10.1.2.3", true),
        ("::ffff:10.1.2.3", true),
        ("11.0.0.1", false),
    ] {
        let ip: std::net::IpAddr = address.parse().unwrap();
        let request =
            toolgate::Request::new(toolgate::Kind::Resource, toolgate::Action::Read, "x/y")
                .unwrap()
                .with_ip(ip)
                .at(time);
        let decision = engine.decide(&principal, &request);
        assert_eq!(decision.is_allowed(), inside, "{address}");
        let rewritten = policy.replace("::ffff:10.0.0.0/104", "10.0.0.0/8");
        let sources = Sources::from_text("fuzz.policy", rewritten.as_str());
        let reference_policy = reference::parse(&sources).unwrap();
        let expected = reference::decide_policy(
            &reference_policy,
            &RefRequest {
                claims: claims.clone(),
                kind: toolgate::Kind::Resource,
                action: toolgate::Action::Read,
                name: "x/y".to_string(),
                ip: Some(ip),
                time,
                arguments: None,
            },
        );
        assert_eq!(expected.allow, inside, "{address}");
        assert_eq!(
            decision.rule.map(|rule| rule.to_string()),
            expected.rule,
            "{address}"
        );
    }
}

const FUZZ_SECRET: &[u8] = b"a shared secret of thirty-two bytes or more, for fuzzing";

/// The token target's validator: HS256 with [`FUZZ_SECRET`], a fixed clock.
fn fuzz_token_scheme() -> toolgate::credentials::JwtScheme {
    use toolgate::credentials::{Clock, JwtScheme, JwtSettings, KeySet};
    let mut settings = JwtSettings::new("https://idp.example.com/", "https://mcp.example.com/mcp");
    settings.algorithms.push(jsonwebtoken::Algorithm::HS256);
    settings.clock = Clock::fixed("2026-11-26T10:00:00Z".parse().unwrap());
    JwtScheme::new(settings, KeySet::from_hmac_secret(FUZZ_SECRET))
}

/// `header.payload.signature` over the raw bytes given, HS256 with [`FUZZ_SECRET`].
fn fuzz_signed(header: &[u8], payload: &[u8]) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, FUZZ_SECRET);
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// The token target found a correctly signed token whose header holds invalid UTF-8
/// in a field validation never reads (`fuzz/corpus/seed-token/header-not-utf8-082b6038`):
/// serde_json skips ignored strings unchecked, so it was accepted. A JOSE header and a
/// claims set are UTF-8 JSON (RFC 7515, 4; RFC 7519, 7.2): now both are refused as
/// malformed, as is a payload with invalid UTF-8.
#[test]
fn a_header_or_payload_that_is_not_utf8_is_malformed() {
    use toolgate::credentials::CredentialError;
    let scheme = fuzz_token_scheme();
    let runtime = current_thread();
    let claims = br#"{"iss": "https://idp.example.com/", "aud": "https://mcp.example.com/mcp", "exp": 1900000000}"#;
    let good_header = br#"{"alg": "HS256", "x": "at+jwt"}"#;
    let bad_header = b"{\"alg\": \"HS256\", \"x\": \"at+j\xf7t\"}";
    let bad_claims = b"{\"iss\": \"https://idp.example.com/\", \"aud\": \"https://mcp.example.com/mcp\", \"exp\": 1900000000, \"x\": \"\xff\"}";
    let verify = |header: &[u8], payload: &[u8]| {
        runtime.block_on(scheme.verify(&fuzz_signed(header, payload)))
    };
    assert!(verify(good_header, claims).is_ok());
    assert!(matches!(
        verify(bad_header, claims),
        Err(CredentialError::Malformed)
    ));
    assert!(matches!(
        verify(good_header, bad_claims),
        Err(CredentialError::Malformed)
    ));
}

/// The token target once flagged a token whose `aud` differs from the resource URI in
/// the case of its scheme (`fuzz/corpus/seed-token/audience-case-56aa01a9`). The
/// validator was right: scheme and host are case-insensitive (RFC 3986, 6.2.2.1); the
/// path is not, and the issuer is compared exactly.
#[test]
fn audiences_compare_scheme_and_host_without_case() {
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    let scheme = fuzz_token_scheme();
    let runtime = current_thread();
    let verify = |issuer: &str, audience: &str| {
        let claims = serde_json::json!({"iss": issuer, "aud": audience, "exp": 1_900_000_000});
        let key = EncodingKey::from_secret(FUZZ_SECRET);
        let token = encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap();
        runtime.block_on(scheme.verify(&token)).is_ok()
    };
    let issuer = "https://idp.example.com/";
    assert!(verify(issuer, "https://mcp.example.com/mcp"));
    assert!(verify(issuer, "htTps://MCP.example.com/mcp"));
    assert!(verify(issuer, "https://mcp.example.com/mcp/"));
    assert!(!verify(issuer, "https://mcp.example.com/MCP"));
    assert!(!verify(issuer, "https://mcp.example.com/mcp/x"));
    assert!(!verify(
        "https://IDP.example.com/",
        "https://mcp.example.com/mcp"
    ));
}
