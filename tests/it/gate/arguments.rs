//! `params.arguments` feeds the policy's `arg` conditions: an object or absent, anything
//! else 400; decided calls audit the argument paths the deciding rule read, never values.

use http::StatusCode;
use serde_json::json;

use super::support::*;

const POLICY: &str = r#"scope "tool:read", "tool:write"
role reader
role writer inherits reader

allow reader to call tools "fs.read_file" if arg "path" matches "docs/*" and not arg "path" matches "*..*"
deny anyone to call tools "fs.read_file" if arg "path" matches "*secret*"
allow reader to get prompts "review-code" if arg "language" in ["rust", "go"]
allow reader to list tools "*"
"#;

fn harness() -> Harness {
    Harness::with(
        toolgate::gate::GateConfig::new(RESOURCE).unwrap(),
        policy_handle(POLICY),
    )
}

fn read_file(id: i64, arguments: serde_json::Value) -> serde_json::Value {
    rpc(
        id,
        "tools/call",
        json!({"name": "fs.read_file", "arguments": arguments}),
    )
}

#[tokio::test]
async fn arguments_decide_the_call() {
    let harness = harness();
    let allowed = harness
        .send(post(
            Some("reader-token"),
            &read_file(1, json!({"path": "docs/a.md"})),
        ))
        .await;
    assert_eq!(allowed.status, StatusCode::OK);
    harness.upstream.assert_executed(
        &[read_file(1, json!({"path": "docs/a.md"}))],
        "the allowed read",
    );
    for (id, arguments) in [
        (2, json!({"path": "docs/../etc/passwd"})),
        (3, json!({"path": "src/main.rs"})),
        (4, json!({"path": "docs/secret.md"})),
        // `matches` on a number is unknown: the deny fires, the allow does not hold.
        (5, json!({"path": 7})),
        (6, json!({})),
    ] {
        let reply = harness
            .send(post(
                Some("reader-token"),
                &read_file(id, arguments.clone()),
            ))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{arguments}");
        assert_eq!(reply.json()["id"], id, "{arguments}");
        assert!(reply.json().get("result").is_none(), "{arguments}");
        harness.upstream.assert_untouched(&arguments.to_string());
    }
    let absent = rpc(7, "tools/call", json!({"name": "fs.read_file"}));
    let reply = harness.send(post(Some("reader-token"), &absent)).await;
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "absent arguments are `{{}}`"
    );
    harness.upstream.assert_untouched("absent arguments");
}

#[tokio::test]
async fn prompt_arguments_decide_the_get() {
    let harness = harness();
    let get = |id: i64, language: &str| {
        rpc(
            id,
            "prompts/get",
            json!({"name": "review-code", "arguments": {"language": language}}),
        )
    };
    let reply = harness
        .send(post(Some("reader-token"), &get(1, "rust")))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    harness
        .upstream
        .assert_executed(&[get(1, "rust")], "the allowed get");
    let reply = harness
        .send(post(Some("reader-token"), &get(2, "cobol")))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.json().get("result").is_none());
    harness.upstream.assert_untouched("the denied get");
}

#[tokio::test]
async fn arguments_that_are_not_an_object_are_400() {
    let harness = harness();
    for arguments in [json!(null), json!([]), json!("docs/a.md"), json!(3)] {
        let reply = harness
            .send(post(Some("reader-token"), &read_file(1, arguments.clone())))
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{arguments}");
        assert_eq!(reply.json()["error"]["code"], -32602, "{arguments}");
        assert_eq!(
            reply.json()["id"],
            1,
            "the refusal answers the request's id"
        );
        harness.upstream.assert_untouched(&arguments.to_string());
    }
    assert!(
        harness.audit.take().is_empty(),
        "a refused body decides nothing"
    );
}

#[tokio::test]
async fn the_audit_names_argument_paths_never_values() {
    let harness = harness();
    let reply = harness
        .send(post(
            Some("reader-token"),
            &read_file(1, json!({"path": "docs/top-secret-plan.md"})),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    harness.upstream.assert_untouched("the denied read");
    let records = harness.audit.take();
    let record = records
        .iter()
        .find(|record| record.method == "tools/call")
        .expect("the call is audited");
    assert_eq!(record.decision, "deny");
    assert_eq!(record.arguments, vec!["path".to_string()]);
    let line = record.to_line();
    assert!(line.contains(r#""arguments":["path"]"#), "{line}");
    assert!(!line.contains("top-secret-plan"), "{line}");
}

#[tokio::test]
async fn argument_members_the_policy_reads_must_be_spelled_as_it_reads_them() {
    // A deny on `arg "path"` must not be sidestepped by `Path`, which a case-insensitive
    // decoder reads as `path`.
    let harness = harness();
    for arguments in [
        json!({"Path": "docs/secret.md"}),
        json!({"PATH": "docs/secret.md"}),
        json!({"nested": {"x": 1}, "pAtH": "docs/secret.md"}),
    ] {
        let reply = harness
            .send(post(Some("reader-token"), &read_file(9, arguments.clone())))
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{arguments}");
        assert_eq!(reply.json()["id"], 9, "{arguments}");
        let message = reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(message.contains("must be spelled `path`"), "{message}");
        harness.upstream.assert_untouched(&arguments.to_string());
    }
    // Members the policy does not read may be spelled any way.
    let reply = harness
        .send(post(
            Some("reader-token"),
            &read_file(10, json!({"path": "docs/a.md", "Encoding": "utf-8"})),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    harness.upstream.assert_executed(
        &[read_file(
            10,
            json!({"path": "docs/a.md", "Encoding": "utf-8"}),
        )],
        "members the policy does not read, spelled freely",
    );
}
