//! Issue 11, class 3: list responses the gate pairs with their request by `id`. The
//! TypeScript SDK answers ids `1.0` and `1e0` as `1`; the Python SDK routes responses by
//! `str(id)`, so requests `7` and `"7"` share a route; a server may answer a `ping` with
//! a list, or send a list twice. Every list the client receives must be filtered.

use std::thread;
use std::time::Duration;

use super::harness::{
    scratch, subdir, Endpoint, Findings, Gate, GateOptions, Kind, Reply, Session, Upstream, Who,
    DENIED_TOOLS,
};

/// A plain `tools/list` through the gate is filtered: the control every variant is
/// compared with.
fn assert_filtered_control(session: &Session, what: &str) {
    let reply = session.post(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, &[]);
    assert!(
        reply.leaks(&DENIED_TOOLS).is_empty() && reply.leaks(&["github.list_issues"]).len() == 1,
        "control ({what}): a plain tools/list through the gate is not filtered: {}",
        reply.describe()
    );
}

fn check_no_leak(findings: &mut Findings, variant: &str, reply: &Reply) {
    let leaks = reply.leaks(&DENIED_TOOLS);
    findings.check(leaks.is_empty(), || {
        format!("{variant}: the client read {leaks:?}: {}", reply.describe())
    });
}

#[test]
fn list_responses_are_filtered_whatever_their_id() {
    let dir = scratch("list-ids");
    let typescript = Upstream::start(Kind::TypeScript, &subdir(&dir.0, "ts"));
    let python = Upstream::start(Kind::Python, &subdir(&dir.0, "py"));
    let golike = Upstream::start(Kind::GoLike, &subdir(&dir.0, "go"));

    // Baselines, unprotected: the TypeScript SDK answers `1.0` as `1`; the Python SDK
    // delivers the list to the other request; the Go-like server lists for a ping.
    let direct = Endpoint::direct(&typescript).session(&[("X-Attack-Framing", "json")]);
    let reply = direct.post(br#"{"jsonrpc":"2.0","id":1.0,"method":"tools/list"}"#, &[]);
    assert_eq!(reply.json().unwrap()["id"], 1, "{}", reply.describe());
    let direct = Endpoint::direct(&python).session(&[]);
    let (_, echo) = race(&direct, "7", "\"7\"");
    assert_eq!(
        echo.leaks(&DENIED_TOOLS).len(),
        2,
        "baseline: the Python SDK did not route the list to the other request: {}",
        echo.describe()
    );
    let reply = Endpoint::direct(&golike).post(
        br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
        &[("X-Attack-Framing", "list-for-ping")],
    );
    assert_eq!(reply.leaks(&DENIED_TOOLS).len(), 2, "{}", reply.describe());

    let mut findings = Findings::new("list responses paired by id");
    let mut gates = Vec::new();
    for upstream in [&typescript, &python, &golike] {
        let dir = subdir(&dir.0, &format!("gate-{}", gates.len()));
        gates.push(Gate::start(upstream, &dir, &GateOptions::default()));
    }

    // TypeScript: ids `1.0` and `1e0`, in a JSON session and in an event-stream session.
    for framing in ["json", "sse"] {
        let session = gates[0]
            .endpoint(Who::Limited)
            .session(&[("X-Attack-Framing", framing)]);
        assert_filtered_control(&session, &format!("TypeScript, {framing}"));
        for id in ["1.0", "1e0", "10e-1", "1.00"] {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/list"}}"#);
            let reply = session.post(body.as_bytes(), &[]);
            check_no_leak(
                &mut findings,
                &format!("TypeScript {framing}, id `{id}`"),
                &reply,
            );
        }
    }

    // Python: `7` and `"7"` in flight together, in both orders.
    let session = gates[1].endpoint(Who::Limited).session(&[]);
    for (list_id, echo_id) in [("7", "\"7\""), ("\"8\"", "8")] {
        let (list, echo) = race(&session, list_id, echo_id);
        let variant = format!("Python, tools/list id {list_id} racing tools/call id {echo_id}");
        check_no_leak(&mut findings, &format!("{variant} (list reply)"), &list);
        check_no_leak(&mut findings, &format!("{variant} (call reply)"), &echo);
    }

    // The Go-like server: a list answering a ping; a list sent twice.
    let endpoint = gates[2].endpoint(Who::Limited);
    for (framing, body) in [
        (
            "list-for-ping",
            r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
        ),
        (
            "duplicate",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
        ),
    ] {
        let reply = endpoint.post(body.as_bytes(), &[("X-Attack-Framing", framing)]);
        check_no_leak(&mut findings, &format!("Go-like, `{framing}`"), &reply);
    }
    for gate in &mut gates {
        gate.service.assert_running();
    }
    findings.finish();
}

/// A slow `tools/list` with id `list_id`, and half a second later a `public.echo` call
/// (allowed) with id `echo_id` that outlasts it: the replies to both.
fn race(session: &Session, list_id: &str, echo_id: &str) -> (Reply, Reply) {
    let list_body = format!(r#"{{"jsonrpc":"2.0","id":{list_id},"method":"tools/list"}}"#);
    let echo_body = format!(
        r#"{{"jsonrpc":"2.0","id":{echo_id},"method":"tools/call","params":{{"name":"public.echo","arguments":{{"text":"race","delay":3}}}}}}"#
    );
    let list_session = session.clone();
    // Routed to the other request, the list's own reply never comes: stop waiting.
    let list = thread::spawn(move || {
        list_session.send("POST", list_body.as_bytes(), &[], Duration::from_secs(5))
    });
    thread::sleep(Duration::from_millis(500));
    let echo = session.post(echo_body.as_bytes(), &[]);
    (list.join().unwrap(), echo)
}
