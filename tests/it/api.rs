//! The library API for embedders.

use serde_json::json;
use toolgate::unstable::ast::{Action, Kind};
use toolgate::unstable::eval::{Engine, Reason, Request};
use toolgate::{Policy, PolicyError, PrincipalParts};

const POLICY: &str = r#"
role reader
role admin inherits reader
allow reader to list tools "*"
allow admin to call tools "*" if client "ops-console"
deny anyone to call tools "danger.*" unless role admin
"#;

fn engine() -> Engine {
    Policy::from_text("api.policy", POLICY)
        .unwrap()
        .into_engine()
}

fn time() -> jiff::Timestamp {
    "2026-11-26T10:00:00Z".parse().unwrap()
}

#[test]
fn engines_are_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
    assert_send_sync::<toolgate::unstable::index::Index>();
    let engine = std::sync::Arc::new(engine());
    let principal = engine
        .principal(&json!({"roles": "admin", "client_id": "ops-console"}))
        .unwrap();
    let handles: Vec<_> = (0..4)
        .map(|thread| {
            let engine = engine.clone();
            let principal = principal.clone();
            std::thread::spawn(move || {
                (0..1000)
                    .filter(|n| {
                        let name = format!("tool-{thread}-{n}");
                        let request = Request::new(Kind::Tool, Action::Call, &name)
                            .unwrap()
                            .at(time());
                        engine.decide(&principal, &request).is_allowed()
                    })
                    .count()
            })
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap(), 1000);
    }
}

#[test]
fn a_principal_from_another_engine_is_denied() {
    let first = engine();
    let second = engine();
    let principal = first
        .principal(&json!({"roles": "admin", "client_id": "ops-console"}))
        .unwrap();
    let request = Request::new(Kind::Tool, Action::Call, "x")
        .unwrap()
        .at(time());
    assert!(first.decide(&principal, &request).is_allowed());
    let decision = second.decide(&principal, &request);
    assert!(!decision.is_allowed());
    assert_eq!(decision.reason, Reason::NoRule);
}

#[test]
fn requests_refuse_actions_their_kind_lacks() {
    let error = Request::new(Kind::Tool, Action::Read, "x").unwrap_err();
    assert_eq!(
        error.to_string(),
        "`read` is not an action on tools; they take `list` and `call`"
    );
    assert!(Request::new(Kind::Resource, Action::Read, "x").is_ok());
    assert!(Request::new(Kind::Prompt, Action::Get, "x").is_ok());
    // A hand-built invalid request fails closed.
    let engine = engine();
    let principal = engine
        .principal(&json!({"roles": "admin", "client_id": "ops-console"}))
        .unwrap();
    let invalid = Request {
        kind: Kind::Tool,
        action: Action::Get,
        name: "x",
        ip: None,
        time: time(),
        arguments: None,
    };
    assert_eq!(engine.decide(&principal, &invalid).reason, Reason::NoRule);
}

#[test]
fn claims_must_be_an_object() {
    let engine = engine();
    assert!(engine.principal(&json!(["admin"])).is_err());
    assert!(engine.principal(&json!("admin")).is_err());
}

#[test]
fn api_key_principals_carry_their_parts_directly() {
    let engine = engine();
    let parts = PrincipalParts {
        subject: Some("key-1".into()),
        roles: vec!["admin".into()],
        scopes: vec![],
        client: Some("ops-console".into()),
    };
    let principal = engine.principal_from_parts(&parts);
    assert_eq!(principal.subject(), Some("key-1"));
    let request = Request::new(Kind::Tool, Action::Call, "danger.reboot")
        .unwrap()
        .at(time());
    assert!(engine.decide(&principal, &request).is_allowed());
    assert_eq!(principal.role_names(engine.index()), ["reader", "admin"]);
}

#[test]
fn listing_filters_names_in_order() {
    let engine = engine();
    let reader = engine.principal(&json!({"roles": ["reader"]})).unwrap();
    let nobody = engine.principal(&json!({})).unwrap();
    let names = ["b", "a", "danger.x"];
    assert_eq!(
        engine.filter_listable(&reader, Kind::Tool, names, None, time()),
        names
    );
    assert!(engine
        .filter_listable(&nobody, Kind::Tool, names, None, time())
        .is_empty());
}

#[test]
fn load_errors_name_every_error_with_its_location() {
    let error =
        Policy::from_text("bad.policy", "role a\nallow b to call tools \"\"\n").unwrap_err();
    let PolicyError::Invalid { diagnostics, .. } = &error else {
        panic!("expected diagnostics");
    };
    assert_eq!(diagnostics.iter().filter(|d| d.is_error()).count(), 2);
    let text = error.to_string();
    assert!(
        text.contains("bad.policy:2:7: error[E003]: undefined role `b`"),
        "{text}"
    );
    assert!(text.contains("bad.policy:2:23: error[E010]"), "{text}");
}

#[test]
fn memoised_names_stay_correct_when_the_memo_overflows() {
    let engine = engine();
    let admin = engine
        .principal(&json!({"roles": "admin", "client_id": "ops-console"}))
        .unwrap();
    let plain = engine.principal(&json!({"roles": "reader"})).unwrap();
    for round in 0..3 {
        for n in 0..40_000 {
            let name = if n % 2 == 0 {
                format!("danger.{n}")
            } else {
                format!("safe.{n}")
            };
            let request = Request::new(Kind::Tool, Action::Call, &name)
                .unwrap()
                .at(time());
            assert!(
                engine.decide(&admin, &request).is_allowed(),
                "round {round} {name}"
            );
            let denied = engine.decide(&plain, &request);
            let expected = if n % 2 == 0 {
                Reason::Denied
            } else {
                Reason::NoRule
            };
            assert_eq!(denied.reason, expected, "round {round} {name}");
        }
    }
}

/// `Engine::deny_spelled_like` finds the deny rules a differently-cased spelling of a
/// name escapes (what the gate refuses), and nothing for names spelled as the policy
/// spells them, for allowed names, or for denies on `list` only.
#[test]
fn spellings_of_denied_names_are_found() {
    let text = "role admin\n\
        allow admin to call tools \"*\"\n\
        allow admin to read resources \"*\"\n\
        deny anyone to call tools \"db.drop_*\"\n\
        deny anyone to call tools \"GitHub.Delete*\"\n\
        deny anyone to list tools \"hidden.*\"\n\
        deny anyone to read resources \"file:///workspace/secrets/*\"\n";
    let engine = toolgate::LoadOptions::default()
        .load_sources(toolgate::Sources::from_text("p.policy", text))
        .unwrap()
        .into_engine();
    let line = |kind, name| engine.deny_spelled_like(kind, name).map(|site| site.line);
    assert_eq!(line(Kind::Tool, "DB.DROP_users"), Some(4));
    assert_eq!(line(Kind::Tool, "dB.drop_users"), Some(4));
    // The star takes any spelling: the decision itself denies `db.drop_Users`.
    assert_eq!(line(Kind::Tool, "db.drop_Users"), None);
    assert_eq!(line(Kind::Tool, "github.delete_repo"), Some(5));
    assert_eq!(line(Kind::Tool, "GITHUB.DELETEREPO"), Some(5));
    assert_eq!(
        line(Kind::Resource, "FILE:///workspace/secrets/key"),
        Some(7)
    );
    assert_eq!(
        line(Kind::Resource, "file:///WORKSPACE/Secrets/key"),
        Some(7)
    );
    // Spelled as the policy spells it: the decision itself denies; not a near miss.
    assert_eq!(line(Kind::Tool, "db.drop_users"), None);
    assert_eq!(line(Kind::Tool, "GitHub.DeleteRepo"), None);
    // Names no deny rule covers in any spelling, and denies on `list` only.
    assert_eq!(line(Kind::Tool, "GitHub.list_issues"), None);
    assert_eq!(line(Kind::Tool, "HIDDEN.tool"), None);
    assert_eq!(line(Kind::Prompt, "DB.DROP_users"), None);
}
