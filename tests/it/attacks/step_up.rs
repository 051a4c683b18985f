//! Issue 11, class 10: the step-up challenge. A `403` with `error="insufficient_scope"`
//! names the scopes this operation needs, held or missing, and no other scope the token
//! happens to hold (RFC 6750 3.1; MCP 2026-07-28, SEP-2350: clients accumulate).

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;

use super::harness::{naming, scratch, Endpoint, Findings, Gate, GateOptions, Kind, Upstream};

const SECRET: &str = "attack-suite-hs256-secret-of-at-least-32-bytes";
const ISSUER: &str = "https://attack.test/";

fn token(audience: &str, scope: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({
        "iss": ISSUER,
        "aud": audience,
        "sub": "stepper",
        "iat": now,
        "exp": now + 600,
        "roles": ["limited"],
        "scope": scope,
    });
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

/// The `scope="..."` of a challenge, as a set.
fn challenge_scopes(challenge: &str) -> BTreeSet<String> {
    let Some(start) = challenge.find("scope=\"") else {
        return BTreeSet::new();
    };
    let rest = &challenge[start + 7..];
    let end = rest.find('"').unwrap_or(rest.len());
    rest[..end].split_whitespace().map(str::to_string).collect()
}

#[test]
fn step_up_challenges_name_only_what_the_operation_needs() {
    let dir = scratch("step-up");
    let upstream = Upstream::start(Kind::GoLike, &dir.0);
    let secret_file = dir.0.join("hs256.secret");
    std::fs::write(&secret_file, SECRET).unwrap();
    let extra = format!(
        "[jwt]\nissuer = {ISSUER:?}\nhs256_secret_file = {:?}\nalgorithms = [\"HS256\"]\n",
        secret_file.to_str().unwrap()
    );
    let mut gate = Gate::start(&upstream, &dir.0, &GateOptions { extra: &extra });

    let endpoint = |scopes: &str| Endpoint {
        address: gate.address.clone(),
        path: "/mcp".into(),
        credential: Some((
            "Authorization".into(),
            format!("Bearer {}", token(&gate.resource, scopes)),
        )),
    };
    let call = |tool: &str, id: &str| {
        format!(
            r#"{{"jsonrpc":"2.0","id":"{id}","method":"tools/call","params":{{"name":"{tool}","arguments":{{}}}}}}"#
        )
    };
    // Control: with the scopes it needs, the call runs upstream (the record sees it).
    for tool in ["github.list_issues", "public.echo"] {
        let mark = upstream.mark();
        let reply = endpoint("tool:read tool:write").post(call(tool, "control").as_bytes(), &[]);
        let executed = upstream.executed_since(mark);
        assert!(
            reply.status == 200 && naming(&executed, tool).len() == 1 && executed.len() == 1,
            "control: `{tool}` with its scopes did not run: {executed:?} {}",
            reply.describe()
        );
    }

    let mut findings = Findings::new("step-up challenge");
    // (token scopes, tool, the scopes the call needs per attack.policy's requirements)
    let cases: [(&str, &str, &[&str]); 3] = [
        (
            "tool:read other:a other:b",
            "github.list_issues",
            &["tool:read", "tool:write"],
        ),
        (
            "other:a other:b",
            "github.list_issues",
            &["tool:read", "tool:write"],
        ),
        ("tool:read other:a", "public.echo", &["tool:write"]),
    ];
    for (index, (scopes, tool, needed)) in cases.into_iter().enumerate() {
        let probe = format!("step-up-probe-{index}");
        let mark = upstream.mark();
        let reply = endpoint(scopes).post(call(tool, &probe).as_bytes(), &[]);
        // A challenged call is not run, nor even received, upstream.
        let executed = upstream.executed_since(mark);
        findings.check(executed.is_empty(), || {
            format!("token `{scopes}` calling `{tool}`: challenged, yet the upstream executed {executed:?}")
        });
        findings.check(!upstream.received(&probe), || {
            format!(
                "token `{scopes}` calling `{tool}`: challenged, yet the call reached the upstream"
            )
        });
        let challenge = reply.header("www-authenticate").unwrap_or_default();
        assert!(
            reply.status == 403 && challenge.contains(r#"error="insufficient_scope""#),
            "control: token `{scopes}` calling `{tool}` should get a step-up: {}",
            reply.describe()
        );
        let named = challenge_scopes(&challenge);
        let needed: BTreeSet<String> = needed.iter().map(|scope| scope.to_string()).collect();
        findings.check(named == needed, || {
            format!("token `{scopes}` calling `{tool}`: the challenge names {named:?}, the call needs {needed:?}")
        });
    }
    gate.service.assert_running();
    findings.finish();
}
