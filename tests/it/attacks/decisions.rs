//! Issue 11, class 8: what the gate did not decide or did not filter.
//! `resources/templates/list` (shows `secret://{employee}/salary`), `completion/complete`
//! on a denied prompt or resource template, `resources/subscribe` on a denied URI, list
//! responses with a non-2xx status, and bodies on `GET` and `DELETE`.

use std::time::Duration;

use super::harness::{
    naming, scratch, subdir, Endpoint, Findings, Gate, GateOptions, Kind, Upstream, Who,
    DENIED_TOOLS,
};

const TEMPLATES: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"resources/templates/list"}"#;
const RESOURCES: &[u8] = br#"{"jsonrpc":"2.0","id":2,"method":"resources/list"}"#;

fn complete(reference: &str, argument: &str, value: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":3,"method":"completion/complete","params":{{"ref":{reference},"argument":{{"name":"{argument}","value":"{value}"}}}}}}"#
    )
}

fn resource_ref(uri: &str) -> String {
    format!(r#"{{"type":"ref/resource","uri":"{uri}"}}"#)
}

fn prompt_ref(name: &str) -> String {
    format!(r#"{{"type":"ref/prompt","name":"{name}"}}"#)
}

fn subscribe(uri: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":4,"method":"resources/subscribe","params":{{"uri":"{uri}"}}}}"#
    )
}

#[test]
fn templates_completions_subscriptions_and_odd_responses_are_decided() {
    let dir = scratch("decisions");
    let typescript = Upstream::start(Kind::TypeScript, &subdir(&dir.0, "ts"));
    let golike = Upstream::start(Kind::GoLike, &subdir(&dir.0, "go"));
    let json = [("X-Attack-Framing", "json")];
    let secret_template = "secret://{employee}/salary";
    let denied_requests = [
        (
            "completion on a denied resource template",
            complete(&resource_ref(secret_template), "employee", "a"),
            secret_template,
        ),
        (
            "completion on a denied prompt",
            complete(&prompt_ref("secret.prompt"), "topic", "a"),
            "secret.prompt",
        ),
        (
            "subscription to a denied resource",
            subscribe("secret://alice/salary"),
            "secret://alice/salary",
        ),
    ];

    // Baselines, unprotected: every one of these reaches the secret.
    let direct = Endpoint::direct(&typescript).session(&json);
    let reply = direct.post(TEMPLATES, &[]);
    assert!(
        reply.text().contains(secret_template),
        "baseline: {}",
        reply.describe()
    );
    for (what, body, name) in &denied_requests {
        let mark = typescript.mark();
        let reply = direct.post(body.as_bytes(), &[]);
        assert_eq!(
            naming(&typescript.executed_since(mark), name).len(),
            1,
            "baseline {what}: not executed: {}",
            reply.describe()
        );
    }
    let get_body = br#"{"jsonrpc":"2.0","id":"get-body-baseline","method":"tools/call","params":{"name":"db.drop_table"}}"#;
    let mark = golike.mark();
    Endpoint::direct(&golike).send("GET", get_body, &[], Duration::from_secs(10));
    assert_eq!(
        naming(&golike.executed_since(mark), "db.drop_table").len(),
        1,
        "baseline: GET body not run"
    );

    let mut gates = [
        Gate::start(
            &typescript,
            &subdir(&dir.0, "gate-ts"),
            &GateOptions::default(),
        ),
        Gate::start(&golike, &subdir(&dir.0, "gate-go"), &GateOptions::default()),
    ];
    let mut findings = Findings::new("undecided and unfiltered paths");
    let limited = gates[0].endpoint(Who::Limited).session(&json);

    // Lists: templates and resources, for `limited` (granted `docs://*` only).
    for (what, body) in [
        ("resources/templates/list", TEMPLATES),
        ("resources/list", RESOURCES),
    ] {
        let reply = limited.post(body, &[]);
        findings.check(!reply.text().contains("secret://"), || {
            format!(
                "{what}: the client read a `secret://` entry: {}",
                reply.describe()
            )
        });
    }

    // Controls: completions and subscriptions on what `limited` may use go through.
    for (what, body, name) in [
        (
            "completion on docs",
            complete(&resource_ref("docs://{page}"), "page", "i"),
            "docs://{page}",
        ),
        (
            "completion on a public prompt",
            complete(&prompt_ref("public.prompt"), "topic", "a"),
            "public.prompt",
        ),
        (
            "subscription to docs",
            subscribe("docs://intro"),
            "docs://intro",
        ),
    ] {
        let mark = typescript.mark();
        let reply = limited.post(body.as_bytes(), &[]);
        assert_eq!(
            naming(&typescript.executed_since(mark), name).len(),
            1,
            "control {what}: not executed through the gate: {}",
            reply.describe()
        );
    }
    for (what, body, name) in &denied_requests {
        let mark = typescript.mark();
        let reply = limited.post(body.as_bytes(), &[]);
        let executed = typescript.executed_since(mark);
        findings.check(naming(&executed, name).is_empty(), || {
            format!("{what}: the upstream executed {executed:?}")
        });
        findings.check(reply.status == 403, || {
            format!("{what}: expected 403, got {}", reply.describe())
        });
    }

    // A list with a non-2xx status is still a list.
    let endpoint = gates[1].endpoint(Who::Limited);
    let list = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    for (framing, status) in [
        ("json", "500"),
        ("json", "404"),
        ("sse", "500"),
        ("json", "302"),
    ] {
        let reply = endpoint.post(
            list,
            &[("X-Attack-Framing", framing), ("X-Attack-Status", status)],
        );
        let leaks = reply.leaks(&DENIED_TOOLS);
        findings.check(leaks.is_empty(), || {
            format!(
                "tools/list answered {status} ({framing}): the client read {leaks:?}: {}",
                reply.describe()
            )
        });
    }

    // Bodies on GET and DELETE: refused before the upstream sees them.
    let guest = gates[1].endpoint(Who::Guest);
    for method in ["GET", "DELETE"] {
        let probe = format!("{method}-body-probe");
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":"{probe}","method":"tools/call","params":{{"name":"db.drop_table"}}}}"#
        );
        let mark = golike.mark();
        let reply = guest.send(method, body.as_bytes(), &[], Duration::from_secs(10));
        let executed = golike.executed_since(mark);
        findings.check(executed.is_empty(), || {
            format!("{method} with a body: the upstream executed {executed:?}")
        });
        findings.check(reply.status == 400, || {
            format!(
                "{method} with a body: expected 400, got {}",
                reply.describe()
            )
        });
        findings.check(!golike.received(&probe), || {
            format!("{method} with a body reached the upstream")
        });
    }
    for gate in &mut gates {
        gate.service.assert_running();
    }
    findings.finish();
}
