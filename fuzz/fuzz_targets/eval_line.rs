//! Any line through `eval`'s request parsing and a decision on the example policy:
//! never a panic; an invalid line is an error, never a decision.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use toolgate::eval::{json, Engine};
use toolgate::Loaded;

const POLICY: &str = include_str!("../../policies/example.policy");

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| match Loaded::from_text("example.policy", POLICY) {
        Ok(loaded) => loaded.engine,
        Err(error) => panic!("the example policy must load: {error}"),
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = json::parse_request(line) else {
        return;
    };
    let Ok(claims) = serde_json::from_str::<serde_json::Value>(parsed.claims.get()) else {
        return;
    };
    let Ok(principal) = engine().principal(&claims) else {
        return;
    };
    let request = parsed.request(jiff::Timestamp::UNIX_EPOCH);
    let decision = engine().decide(&principal, &request);
    let mut out = Vec::new();
    json::write_decision(&decision, &mut out).unwrap_or_default();
    assert!(out.ends_with(b"}\n"));
});
