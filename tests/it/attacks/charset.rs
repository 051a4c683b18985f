//! Issue 11, class 1: `Content-Type: application/json; charset=utf-7`. The gate reads the
//! bytes as UTF-8; express's body parser decodes UTF-7, where `+ACI-` is `"`.

use super::harness::{naming, scratch, Endpoint, Findings, Gate, GateOptions, Kind, Upstream, Who};

const UTF7: &str = "application/json; charset=utf-7";

/// A `tools/call` of `github.list_issues` (allowed for `limited`) that UTF-7 reads as a
/// call of `db.drop_table` (the last `name` wins in `JSON.parse`).
const HIDDEN_NAME: &str = r#"{"jsonrpc":"2.0","id":"utf7-name","method":"tools/call","params":{"name":"github.list_issues+ACI-,+ACI-name+ACI-:+ACI-db.drop_table","arguments":{}}}"#;

/// A `ping` whose `id` string, read as UTF-7, closes and is followed by a `method`
/// `tools/call` of `db.drop_table` and a new `id`.
const HIDDEN_CALL: &str = r#"{"jsonrpc":"2.0","method":"ping","id":"x+ACI-,+ACI-method+ACI-:+ACI-tools/call+ACI-,+ACI-params+ACI-:{+ACI-name+ACI-:+ACI-db.drop_table+ACI-,+ACI-arguments+ACI-:{}},+ACI-id+ACI-:+ACI-utf7-ping"}"#;

#[test]
fn charset_utf7_smuggling_executes_nothing() {
    let dir = scratch("charset");
    let upstream = Upstream::start(Kind::TypeScript, &dir.0);
    let json = [("X-Attack-Framing", "json")];

    // Baseline: the upstream, unprotected, runs `db.drop_table` for both bodies.
    let direct = Endpoint::direct(&upstream).session(&json);
    for body in [HIDDEN_NAME, HIDDEN_CALL] {
        let mark = upstream.mark();
        let reply = direct.post(body.as_bytes(), &[("Content-Type", UTF7)]);
        let executed = upstream.executed_since(mark);
        assert_eq!(
            naming(&executed, "db.drop_table").len(),
            1,
            "baseline: the upstream did not run the smuggled call ({}): {executed:?}",
            reply.describe()
        );
    }

    let mut gate = Gate::start(&upstream, &dir.0, &GateOptions::default());
    let mut findings = Findings::new("charset=utf-7");
    for (variant, who, body) in [
        ("`+ACI-` name as `limited`", Who::Limited, HIDDEN_NAME),
        (
            "tools/call in a ping id as `guest`",
            Who::Guest,
            HIDDEN_CALL,
        ),
        (
            "tools/call in a ping id as `limited`",
            Who::Limited,
            HIDDEN_CALL,
        ),
    ] {
        let session = gate.endpoint(who).session(&json);
        for content_type in [
            UTF7,
            "application/json;charset=UTF-7",
            "application/json; charset=\"utf-7\"",
        ] {
            let mark = upstream.mark();
            let reply = session.post(body.as_bytes(), &[("Content-Type", content_type)]);
            let executed = upstream.executed_since(mark);
            findings.check(executed.is_empty(), || {
                format!("{variant}, `{content_type}`: the upstream executed {executed:?}")
            });
            findings.check(reply.status == 415, || {
                format!(
                    "{variant}, `{content_type}`: expected 415, got {}",
                    reply.describe()
                )
            });
        }
    }
    gate.service.assert_running();
    findings.finish();
}
