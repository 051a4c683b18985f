//! Issue 11, class 2: member names that collide once case-folded. Go's `encoding/json`
//! matches a member to a struct field exactly or case-insensitively with Unicode simple
//! folding (`ſ` is `s`, the Kelvin sign is `k`) and the last match wins; the gate must
//! refuse such a message (400), whatever it reads itself.

use super::harness::{naming, scratch, Endpoint, Findings, Gate, GateOptions, Kind, Upstream, Who};

/// Each variant: a name, who sends it, the body, and the tool the Go-like reading runs
/// (which the policy denies to the sender).
const VARIANTS: [(&str, Who, &str, &str); 8] = [
    (
        "`Name` after `name`",
        Who::Limited,
        r#"{"jsonrpc":"2.0","id":"fold-name","method":"tools/call","params":{"name":"github.list_issues","Name":"db.drop_table"}}"#,
        "db.drop_table",
    ),
    (
        "`NAME` after `name`",
        Who::Limited,
        r#"{"jsonrpc":"2.0","id":"fold-upper","method":"tools/call","params":{"name":"public.echo","NAME":"secret.tool"}}"#,
        "secret.tool",
    ),
    (
        "`Method` after `method` (a ping)",
        Who::Guest,
        r#"{"jsonrpc":"2.0","id":"fold-method","method":"ping","Method":"tools/call","params":{"name":"db.drop_table"}}"#,
        "db.drop_table",
    ),
    (
        "`Params` after `params`",
        Who::Limited,
        r#"{"jsonrpc":"2.0","id":"fold-params","method":"tools/call","params":{"name":"github.list_issues"},"Params":{"name":"db.drop_table"}}"#,
        "db.drop_table",
    ),
    (
        "`paramſ` (long s) after `params`",
        Who::Limited,
        r#"{"jsonrpc":"2.0","id":"fold-long-s","method":"tools/call","params":{"name":"github.list_issues"},"paramſ":{"name":"secret.tool"}}"#,
        "secret.tool",
    ),
    (
        "`param\\u017f` (escaped long s) after `params`",
        Who::Limited,
        r#"{"jsonrpc":"2.0","id":"fold-escaped","method":"tools/call","params":{"name":"github.list_issues"},"param\u017f":{"name":"db.drop_table"}}"#,
        "db.drop_table",
    ),
    (
        "Kelvin sign: `\u{212a}ind` after `kind` in the arguments (the tool reads `secret`)",
        Who::Limited,
        r#"{"jsonrpc":"2.0","id":"fold-kelvin","method":"tools/call","params":{"name":"public.echo","arguments":{"kind":"plain","Kind":"secret"}}}"#,
        "public.echo",
    ),
    (
        "`methoD` alone beside `id` and `result` (read as a response)",
        Who::Guest,
        r#"{"jsonrpc":"2.0","id":"fold-response","result":{},"methoD":"tools/call","params":{"name":"db.drop_table"}}"#,
        "db.drop_table",
    ),
];

#[test]
fn case_folded_member_names_execute_nothing() {
    let dir = scratch("folding");
    let upstream = Upstream::start(Kind::GoLike, &dir.0);

    // Baseline: the Go-like upstream, unprotected, runs the hidden tool for each body
    // (for the Kelvin variant: `public.echo` with `kind` = `secret`, not the `plain` the
    // gate reads; an `arg` condition on `kind` would decide on the wrong value).
    let direct = Endpoint::direct(&upstream);
    for (variant, _, body, tool) in VARIANTS {
        let body = kelvin(body);
        let mark = upstream.mark();
        let reply = direct.post(body.as_bytes(), &[]);
        let executed = upstream.executed_since(mark);
        assert_eq!(
            naming(&executed, tool).len(),
            1,
            "baseline {variant}: the upstream did not run `{tool}` ({}): {executed:?}",
            reply.describe()
        );
        if tool == "public.echo" {
            assert_eq!(executed[0]["arguments"]["kind"], "secret", "{executed:?}");
        }
    }

    let mut gate = Gate::start(&upstream, &dir.0, &GateOptions::default());
    let mut findings = Findings::new("case-folded member names");
    for (variant, who, body, _) in VARIANTS {
        let body = kelvin(body);
        let mark = upstream.mark();
        let reply = gate.endpoint(who).post(body.as_bytes(), &[]);
        let executed = upstream.executed_since(mark);
        findings.check(executed.is_empty(), || {
            format!("{variant}: the upstream executed {executed:?}")
        });
        let expected = if variant.starts_with("`methoD`") {
            reply.status / 100 == 4
        } else {
            reply.status == 400
        };
        findings.check(expected, || {
            format!("{variant}: expected 400, got {}", reply.describe())
        });
    }
    gate.service.assert_running();
    findings.finish();
}

/// Another spelling of a denied tool name: the Go-like upstream looks tool names up
/// without regard to case (as `strings.EqualFold` does), so `DB.DROP_TABLE` runs
/// `db.drop_table`, which the policy denies to an admin outside the office network while
/// its `allow admin to call tools "*"` matches the other spelling. The gate denies
/// every spelling that folds to a denied name (403, reason `denied`) and the
/// upstream runs nothing; the name as the policy spells it is denied as before.
#[test]
fn other_spellings_of_a_denied_name_execute_nothing() {
    let dir = scratch("spellings");
    let upstream = Upstream::start(Kind::GoLike, &dir.0);
    let call = |id: &str, name: &str| {
        format!(
            r#"{{"jsonrpc":"2.0","id":"{id}","method":"tools/call","params":{{"name":"{name}"}}}}"#
        )
    };
    let spellings = [
        "DB.DROP_TABLE",
        "Db.Drop_Table",
        "db.drop_tablE",
        "DB.DROP_\\u0054ABLE",
    ];

    let direct = Endpoint::direct(&upstream);
    for spelling in spellings {
        let mark = upstream.mark();
        let reply = direct.post(call("direct", spelling).as_bytes(), &[]);
        let executed = upstream.executed_since(mark);
        assert_eq!(
            naming(&executed, "db.drop_table").len(),
            1,
            "baseline `{spelling}`: the upstream did not run `db.drop_table` ({}): {executed:?}",
            reply.describe()
        );
    }

    let mut gate = Gate::start(&upstream, &dir.0, &GateOptions::default());
    let mut findings = Findings::new("other spellings of a denied name");
    for spelling in spellings.iter().chain(&["db.drop_table"]) {
        let mark = upstream.mark();
        let reply = gate
            .endpoint(Who::Admin)
            .post(call("spelled", spelling).as_bytes(), &[]);
        let executed = upstream.executed_since(mark);
        findings.check(executed.is_empty(), || {
            format!("`{spelling}`: the upstream executed {executed:?}")
        });
        findings.check(reply.status == 403, || {
            format!("`{spelling}`: expected 403, got {}", reply.describe())
        });
        let reason = reply
            .json()
            .and_then(|body| body["error"]["data"]["reason"].as_str().map(str::to_string));
        findings.check(reason.as_deref() == Some("denied"), || {
            format!("`{spelling}`: expected a denial, got {}", reply.describe())
        });
    }
    // A name the policy allows still runs, in its own spelling.
    let mark = upstream.mark();
    let reply = gate
        .endpoint(Who::Admin)
        .post(call("allowed", "github.list_issues").as_bytes(), &[]);
    let executed = upstream.executed_since(mark);
    findings.check(naming(&executed, "github.list_issues").len() == 1, || {
        format!("an allowed call did not run: {}", reply.describe())
    });
    gate.service.assert_running();
    findings.finish();
}

/// The Kelvin variant's body with the Kelvin sign (U+212A) in place of `K`.
fn kelvin(body: &str) -> String {
    if body.contains("fold-kelvin") {
        body.replace("\"Kind\"", "\"\u{212a}ind\"")
    } else {
        body.to_string()
    }
}
