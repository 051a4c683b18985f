//! The fail-closed audit: one test per fault the engine can meet at run time, each
//! showing the outcome is a deny or a refusal, never an allow. (The faults of token
//! validation and of the HTTP gate are tested with them; docs/limits.md lists all.)
//!
//! Faults tested elsewhere, beside the code they concern:
//! - poisoned caches: `eval::memo` (the glob memo) and `credentials::cache` (principals,
//!   revocation) unit tests, `poisoned_locks_*`;
//! - a key fetch failing: `credentials::jwks` (`failed_or_garbage_fetches_*`,
//!   `a_fetch_cut_off_mid_body_*`, `fetches_time_out_*`), always the last good keys or
//!   an unknown key refused;
//! - a policy reload failing: `gate::reload` (the previous policy keeps deciding);
//! - list responses the gate cannot read one way (`502`, or the stream ended), and
//!   lists answered with another id, an error status or odd member spelling (filtered):
//!   `gate::list_faults`; against real SDK servers: `attacks`.

use std::net::IpAddr;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::{json, Value};
use toolgate::unstable::ast::{Action, Kind};
use toolgate::unstable::eval::{Decision, Engine, Reason, Request};
use toolgate::unstable::principal::PrincipalError;
use toolgate::{Code, Policy, PolicyError};

fn load(policy: &str) -> Engine {
    Policy::from_text("fail.policy", policy)
        .unwrap_or_else(|error| panic!("{error}"))
        .into_engine()
}

fn time() -> Timestamp {
    "2026-11-26T10:00:00Z".parse().unwrap()
}

/// The decision on calling `name` for `claims`, from `ip` if given.
fn call<'e>(engine: &'e Engine, claims: &Value, name: &str, ip: Option<IpAddr>) -> Decision<'e> {
    let principal = engine.principal(claims).unwrap();
    let request = Request {
        ip,
        ..Request::new(Kind::Tool, Action::Call, name)
            .unwrap()
            .at(time())
    };
    engine.decide(&principal, &request)
}

fn office() -> Option<IpAddr> {
    Some("10.1.2.3".parse().unwrap())
}

#[test]
fn a_request_without_an_address_meets_no_ip_allow() {
    let engine = load("allow anyone to call tools \"*\" if ip in [10.0.0.0/8]\n");
    assert!(call(&engine, &json!({}), "x", office()).is_allowed());
    let unknown = call(&engine, &json!({}), "x", None);
    assert!(!unknown.is_allowed());
    assert_eq!(unknown.reason, Reason::NoRule);
    // Nor does `not ip in`: unknown stays unknown under `not`.
    let outside = load("allow anyone to call tools \"*\" if not ip in [10.0.0.0/8]\n");
    assert!(!call(&outside, &json!({}), "x", None).is_allowed());
}

#[test]
fn a_request_without_an_address_meets_every_ip_deny() {
    let policy = "allow anyone to call tools \"*\"\n\
                  deny anyone to call tools \"db.*\" unless ip in [10.0.0.0/8]\n\
                  deny anyone to call tools \"fs.*\" if ip in [192.0.2.0/24]\n";
    let engine = load(policy);
    assert!(call(&engine, &json!({}), "db.query", office()).is_allowed());
    assert!(call(&engine, &json!({}), "fs.read", office()).is_allowed());
    for name in ["db.query", "fs.read"] {
        let decision = call(&engine, &json!({}), name, None);
        assert!(!decision.is_allowed(), "{name}");
        assert_eq!(decision.reason, Reason::Denied, "{name}");
    }
    assert!(call(&engine, &json!({}), "other", None).is_allowed());
}

const ROLES: &str = "role admin aka \"admins\"\n\
                     allow admin to call tools \"*\"\n\
                     deny anyone to call tools \"danger.*\" unless role admin\n\
                     allow anyone to call tools \"danger.*\"\n";

#[test]
fn malformed_role_claims_grant_no_role() {
    let engine = load(ROLES);
    assert!(call(&engine, &json!({"roles": ["admins"]}), "x", None).is_allowed());
    assert!(call(&engine, &json!({"roles": "admin"}), "danger.rm", None).is_allowed());
    for roles in [
        json!(1),
        json!(true),
        json!(null),
        json!({"admin": true}),
        json!([["admin"]]),
        json!([{"name": "admin"}]),
        json!([1, null, false]),
        json!("admin admins"),
        json!(""),
    ] {
        let claims = json!({ "roles": roles });
        let plain = call(&engine, &claims, "x", None);
        assert_eq!(plain.reason, Reason::NoRule, "{claims}");
        let danger = call(&engine, &claims, "danger.rm", None);
        assert_eq!(danger.reason, Reason::Denied, "{claims}");
    }
}

#[test]
fn malformed_scope_claims_hold_no_scope() {
    let engine = load(
        "scope \"write\"\n\
         require scope \"write\" to call tools \"*\"\n\
         allow anyone to call tools \"*\"\n",
    );
    assert!(call(&engine, &json!({"scope": "read write"}), "x", None).is_allowed());
    assert!(call(&engine, &json!({"scp": ["write"]}), "x", None).is_allowed());
    for scope in [
        json!(1),
        json!({"write": true}),
        json!([["write"]]),
        json!(null),
        json!("writes"),
        json!("write\u{00a0}x"),
    ] {
        let claims = json!({ "scope": scope });
        let decision = call(&engine, &claims, "x", None);
        assert!(!decision.is_allowed(), "{claims}");
        assert_eq!(decision.reason, Reason::InsufficientScope, "{claims}");
        assert_eq!(decision.missing_scopes.as_slice(), ["write"], "{claims}");
    }
}

#[test]
fn claims_that_are_not_an_object_give_no_principal() {
    let engine = load("allow anyone to call tools \"*\"\n");
    for claims in [
        json!(null),
        json!([]),
        json!("sub"),
        json!(1),
        json!([{"roles": "a"}]),
    ] {
        assert_eq!(
            engine.principal(&claims),
            Err(PrincipalError::ClaimsNotObject),
            "{claims}"
        );
    }
}

#[test]
fn claim_tests_on_values_of_the_wrong_type_do_not_hold() {
    let engine = load(
        "allow anyone to call tools \"gold.*\" if claim \"tier\" == \"gold\"\n\
         allow anyone to call tools \"team.*\" if claim \"teams\" contains \"core\"\n\
         allow anyone to call tools \"n.*\" if claim \"org.id\" == 7\n\
         deny anyone to call tools \"*\" unless claim \"verified\" == true\n\
         allow anyone to call tools \"*\"\n",
    );
    let verified = |extra: Value| {
        let mut claims = json!({"verified": true});
        if let (Some(claims), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
            claims.extend(extra.clone());
        }
        claims
    };
    let gold = call(&engine, &verified(json!({"tier": "gold"})), "gold.x", None);
    assert!(gold.is_allowed());
    assert_eq!(gold.rule.unwrap().to_string(), "fail.policy:1");
    for (claims, name) in [
        (json!({"tier": ["gold"]}), "gold.x"),
        (json!({"tier": {"gold": true}}), "gold.x"),
        (json!({"teams": {"core": 1}}), "team.x"),
        (json!({"teams": [["core"]]}), "team.x"),
        (json!({"org": {"id": "7"}}), "n.x"),
        (json!({"org": [{"id": 7}]}), "n.x"),
        (json!({"org": {"id": 7.5}}), "n.x"),
    ] {
        let decision = call(&engine, &verified(claims.clone()), name, None);
        // Only the last, unconditional allow may hold: never the claim rule.
        assert_eq!(
            decision.rule.unwrap().to_string(),
            "fail.policy:5",
            "{claims}"
        );
    }
    for flag in [json!("true"), json!(1), json!([true]), json!(null)] {
        let decision = call(&engine, &json!({ "verified": flag }), "x", None);
        assert_eq!(decision.reason, Reason::Denied, "{flag}");
    }
}

#[test]
fn windows_decide_at_the_ends_of_time() {
    let engine = load(
        "window late = mon-fri 22:00-06:00 tz \"Pacific/Kiritimati\"\n\
         window west = sat,sun tz \"America/Adak\"\n\
         allow anyone to call tools \"late\" if time in late\n\
         allow anyone to call tools \"west\" if time in west\n\
         deny anyone to call tools \"*\" if time before \"2000-01-01T00:00:00Z\"\n\
         allow anyone to call tools \"other\" if time after \"2000-01-01T00:00:00Z\"\n",
    );
    let principal = engine.principal(&json!({})).unwrap();
    let kiritimati = TimeZone::get("Pacific/Kiritimati").unwrap();
    let adak = TimeZone::get("America/Adak").unwrap();
    for at in [Timestamp::MIN, Timestamp::MAX] {
        let decide = |name: &str| {
            let request = Request::new(Kind::Tool, Action::Call, name).unwrap().at(at);
            engine.decide(&principal, &request)
        };
        let local = kiritimati.to_datetime(at);
        let weekday = local.weekday().to_monday_zero_offset();
        let hour = local.hour();
        let yesterday = (weekday + 6) % 7;
        let in_late = (weekday < 5 && hour >= 22) || (yesterday < 5 && hour < 6);
        let in_west = adak.to_datetime(at).weekday().to_monday_zero_offset() >= 5;
        let before_2000 = at == Timestamp::MIN;
        // Before 2000 the deny holds for every name; after it, the window rules decide.
        assert_eq!(decide("late").is_allowed(), in_late && !before_2000, "{at}");
        assert_eq!(decide("west").is_allowed(), in_west && !before_2000, "{at}");
        assert_eq!(decide("other").is_allowed(), !before_2000, "{at}");
        if before_2000 {
            assert_eq!(decide("late").reason, Reason::Denied);
        }
    }
}

#[test]
fn an_unknown_time_zone_refuses_the_policy() {
    // Zones are resolved once, when the policy loads, from the database built into the
    // binary: there is no lookup at request time that could fail.
    for policy in [
        "timezone \"Mars/Olympus_Mons\"\nallow anyone to call tools \"*\" if time in [mon-fri]\n",
        "allow anyone to call tools \"*\" if time in [09:00-17:00 tz \"Europe/Berln\"]\n",
        "timezone \"\"\nallow anyone to call tools \"*\"\n",
    ] {
        let Err(PolicyError::Invalid { diagnostics, .. }) = Policy::from_text("tz.policy", policy)
        else {
            panic!("loaded: {policy}");
        };
        assert!(
            diagnostics.iter().any(|d| d.code == Code::E008),
            "{diagnostics:?}"
        );
    }
}

#[test]
fn a_principal_from_another_engine_is_denied() {
    let policy = "role admin\nallow admin to call tools \"*\"\nallow anyone to list tools \"*\"\n";
    let first = load(policy);
    let second = load(policy);
    let principal = first.principal(&json!({"roles": "admin"})).unwrap();
    let request = Request::new(Kind::Tool, Action::Call, "x").unwrap();
    assert!(first.decide(&principal, &request).is_allowed());
    let foreign = second.decide(&principal, &request);
    assert!(!foreign.is_allowed());
    assert_eq!(foreign.reason, Reason::NoRule);
    let listed = second.filter_listable(&principal, Kind::Tool, ["x", "y"], None, time());
    assert!(listed.is_empty());
    let parts = second.principal_from_parts(&toolgate::PrincipalParts {
        roles: vec!["admin".into()],
        ..Default::default()
    });
    assert!(!first.decide(&parts, &request).is_allowed());
    assert!(second.decide(&parts, &request).is_allowed());
}

#[test]
fn names_at_the_edges_are_decided_by_the_rules() {
    let engine = load(
        "allow anyone to call tools \"?*\"\n\
         deny anyone to call tools \"*\\\\**\"\n",
    );
    let claims = json!({});
    let empty = call(&engine, &claims, "", None);
    assert_eq!(empty.reason, Reason::NoRule);
    assert!(call(&engine, &claims, "a", None).is_allowed());
    assert_eq!(call(&engine, &claims, "a*b", None).reason, Reason::Denied);
    // A name of 1 MiB is over the default name limit (64 KiB): denied unmatched.
    let huge = "a".repeat(1 << 20);
    let decision = call(&engine, &claims, &huge, None);
    assert!(!decision.is_allowed());
    assert_eq!(decision.reason, Reason::NoRule);
    let limit = "a".repeat(64 * 1024);
    assert!(call(&engine, &claims, &limit, None).is_allowed());
    for odd in ["\0", "\u{202e}tool", "a\nb", "\u{10ffff}"] {
        assert!(call(&engine, &claims, odd, None).is_allowed(), "{odd:?}");
    }
}

#[test]
fn an_action_the_kind_lacks_is_refused_and_denied() {
    let engine = load(
        "allow anyone to call tools \"*\"\n\
         allow anyone to read resources \"*\"\n\
         allow anyone to get prompts \"*\"\n",
    );
    let principal = engine.principal(&json!({})).unwrap();
    let pairs = [
        (Kind::Tool, Action::Read),
        (Kind::Tool, Action::Get),
        (Kind::Resource, Action::Call),
        (Kind::Resource, Action::Get),
        (Kind::Prompt, Action::Call),
        (Kind::Prompt, Action::Read),
    ];
    for (kind, action) in pairs {
        assert!(
            Request::new(kind, action, "x").is_err(),
            "{kind:?} {action:?}"
        );
        let request = Request {
            kind,
            action,
            name: "x",
            ip: None,
            time: time(),
            arguments: None,
        };
        let decision = engine.decide(&principal, &request);
        assert!(!decision.is_allowed(), "{kind:?} {action:?}");
        assert_eq!(decision.reason, Reason::NoRule);
        let allowed = Request {
            action: kind.use_action(),
            ..request
        };
        assert!(engine.decide(&principal, &allowed).is_allowed());
    }
}

#[test]
fn a_policy_with_any_error_is_refused_whole() {
    // One bad statement among good ones: nothing loads, so no half policy decides.
    let policy = "allow anyone to call tools \"*\"\nallow anyone to call tools \"\"\n";
    let error = Policy::from_text("half.policy", policy).unwrap_err();
    let PolicyError::Invalid { diagnostics, .. } = &error else {
        panic!("{error}");
    };
    assert!(diagnostics.iter().any(|d| d.code == Code::E010));
}
